/*
 * seccomp: a -pg program running under a seccomp filter (one that allows
 * everything: the point is only that a filter is there), which tattach
 * must refuse.  "run N" -> "done".
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

__attribute__((noinline)) long work(long n)
{
	return n * 2;
}

int main(void)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { 1, allow };
	char line[64];
	long n;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("seccomp");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		printf(sscanf(line, "run %ld", &n) == 1 && work(n) == 2 * n ? "done\n" : "error\n");
	return 0;
}
