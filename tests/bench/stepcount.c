/*
 * stepcount: how many instructions each piece of one traced call executes,
 * counted by single-stepping the real process (this VM has no hardware
 * counters for perf, and Valgrind cannot run an injected trampoline).
 *
 *   stepcount BIN CMD [TRAMP_ELF TATTACH [TATTACH-ARGS...]]
 *
 * Starts BIN (a percall build: "ready PID", then one answer line per
 * command), optionally enables tattach on it with TATTACH-ARGS, sends CMD
 * once untimed (so the thread's slot is claimed and every lazy binding is
 * resolved), then stops the main thread, sends CMD again and single-steps
 * it until its answer appears.  Every instruction is attributed to the
 * symbol it belongs to: BIN's own (from nm), the trampoline's (TRAMP_ELF's
 * symbols at the copy's address from the ring file), or "other" (libc,
 * the vDSO: the command's parsing and printing).  Prints "count symbol"
 * lines, most first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tattach/ring.h>

struct sym {
	uint64_t addr;
	char name[220];
	uint64_t count;
};

static struct sym syms[8192];
static size_t nsyms;
static uint64_t other;

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int by_count(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Text symbols of @elf, moved by @bias, prefixed with @tag. */
static void load_syms(const char *elf, uint64_t bias, const char *tag)
{
	char cmd[512], line[256], type, name[200];
	unsigned long long a;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s'", elf);
	f = popen(cmd, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && nsyms < sizeof(syms) / sizeof(syms[0]))
		/* tp_reserve_*: marks inside the fast paths (for a test), not
		 * functions: their instructions count for the entry around them */
		if (sscanf(line, "%llx %c %199s", &a, &type, name) == 3 &&
		    (type == 'T' || type == 't') && strncmp(name, "tp_reserve_", 11)) {
			syms[nsyms].addr = a + bias;
			snprintf(syms[nsyms].name, sizeof(syms[nsyms].name), "%s%s", tag, name);
			nsyms++;
		}
	pclose(f);
}

/* Where @path is mapped in @pid: [*lo, *hi), *lo being its load bias. */
static void range_of(pid_t pid, const char *path, uint64_t *lo, uint64_t *hi)
{
	char maps[64], line[512], real[4096];
	unsigned long long a, b;
	FILE *f;

	*lo = UINT64_MAX;
	*hi = 0;
	if (!realpath(path, real))
		return;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &a, &b) == 2 && strstr(line, real)) {
			if (a < *lo)
				*lo = a;
			if (b > *hi)
				*hi = b;
		}
	if (f)
		fclose(f);
}

static uint64_t ranges[2][2];	/* the binary's mappings, the trampoline's code */
/* The trampoline's code and config area: no instruction runs beyond */
#define TRAMP_SPAN 0x10000
static uint32_t tramp_pcs[TRAMP_SPAN];	/* per trampoline byte offset */

static void count(uint64_t rip)
{
	size_t a = 0, b = nsyms;

	if (rip >= ranges[1][0] && rip < ranges[1][1])
		tramp_pcs[rip - ranges[1][0]]++;
	if (!((rip >= ranges[0][0] && rip < ranges[0][1]) ||
	      (rip >= ranges[1][0] && rip < ranges[1][1]))) {
		other++;
		return;
	}
	while (a < b) {		/* last symbol at or below rip */
		size_t m = (a + b) / 2;

		if (syms[m].addr <= rip)
			a = m + 1;
		else
			b = m;
	}
	if (a == 0)
		other++;
	else
		syms[a - 1].count++;
}

int main(int argc, char **argv)
{
	int in[2], out[2], status;
	char line[256];
	FILE *rd;
	pid_t child, pid;
	uint64_t tramp = 0, steps = 0;

	if (argc < 3 || argc == 4) {
		fprintf(stderr, "usage: stepcount BIN CMD [TRAMP_ELF TATTACH [ARGS...]]\n");
		return 2;
	}
	if (pipe(in) || pipe(out))
		return 1;
	child = fork();
	if (child == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(argv[1], argv[1], (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	rd = fdopen(out[0], "r");
	if (!fgets(line, sizeof(line), rd) || sscanf(line, "ready %d", &pid) != 1) {
		fprintf(stderr, "stepcount: %s did not start\n", argv[1]);
		return 1;
	}
	if (argc > 4) {
		char **targv = calloc(argc, sizeof(*targv)), pidbuf[16];
		struct tat_ring_header h;
		int k = 0, fd;
		pid_t t;

		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
		targv[k++] = argv[4];
		targv[k++] = "-p";
		targv[k++] = pidbuf;
		targv[k++] = "--enable";
		for (int i = 5; i < argc; i++)
			targv[k++] = argv[i];
		t = fork();
		if (t == 0) {
			execv(argv[4], targv);
			_exit(127);
		}
		waitpid(t, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "stepcount: tattach failed\n");
			return 1;
		}
		snprintf(line, sizeof(line), "/dev/shm/tattach-%d.ring", (int)pid);
		fd = open(line, O_RDONLY);
		if (fd < 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
			return 1;
		close(fd);
		tramp = h.tramp_addr[0];
		load_syms(argv[3], tramp, "tramp:");
		ranges[1][0] = tramp;
		ranges[1][1] = tramp + TRAMP_SPAN;
	}
	range_of(pid, argv[1], &ranges[0][0], &ranges[0][1]);
	load_syms(argv[1], ranges[0][0], "");
	qsort(syms, nsyms, sizeof(*syms), by_addr);

	/* Warm-up: slot claimed, PLT entries bound. */
	dprintf(in[1], "%s\n", argv[2]);
	if (!fgets(line, sizeof(line), rd))
		return 1;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0) || ptrace(PTRACE_INTERRUPT, pid, 0, 0))
		return perror("stepcount: ptrace"), 1;
	waitpid(pid, &status, __WALL);
	dprintf(in[1], "%s\n", argv[2]);
	for (;;) {
		struct user_regs_struct regs;
		struct pollfd p = { out[0], POLLIN, 0 };

		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0)
			return perror("stepcount: step"), 1;
		if (waitpid(pid, &status, __WALL) < 0 || !WIFSTOPPED(status))
			return 1;
		if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
			return 1;
		count(regs.rip);
		if (++steps > 50000000 || poll(&p, 1, 0) > 0)
			break;
	}
	ptrace(PTRACE_DETACH, pid, 0, 0);
	if (!fgets(line, sizeof(line), rd))
		return 1;
	fprintf(stderr, "stepcount: %" PRIu64 " instructions stepped; answer: %s", steps, line);
	qsort(syms, nsyms, sizeof(*syms), by_count);
	for (size_t i = 0; i < nsyms && syms[i].count; i++)
		printf("%8" PRIu64 " %s\n", syms[i].count, syms[i].name);
	printf("%8" PRIu64 " other (libc, vDSO: reading and answering the command)\n", other);
	/* STEPCOUNT_PCS=1: every trampoline instruction executed, by offset
	 * (for addr2line on a -g build of the same code). */
	if (getenv("STEPCOUNT_PCS"))
		for (size_t i = 0; i < sizeof(tramp_pcs) / sizeof(tramp_pcs[0]); i++)
			if (tramp_pcs[i])
				printf("pc %#zx %u\n", i, tramp_pcs[i]);
	dprintf(in[1], "quit\n");
	waitpid(child, &status, 0);
	if (tramp) {
		snprintf(line, sizeof(line), "/dev/shm/tattach-%d.ring", (int)pid);
		unlink(line);
	}
	return 0;
}
