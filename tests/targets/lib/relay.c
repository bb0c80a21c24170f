/*
 * relay: runs PROG ARGS... as its child (fork, exec), waits for it and
 * exits with its status.  Built without -pg, linked dynamically
 * (relay.plain) and statically (relay.static): programs a followed
 * process starts in which tattach has nothing to trace, but whose own
 * children it must follow all the same (follower's "relay" command,
 * tests/integration/test_follow.c).
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t pid;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: relay PROG [ARGS...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("relay: fork");
		return 1;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
