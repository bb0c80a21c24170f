// SPDX-License-Identifier: MIT
/*
 * entryspin: threads that spend their time inside the first bytes of
 * functions, the bytes `tattach --enable --entry` replaces with a jmp.
 * Built without -pg.  Each function's first 5+ bytes are 2 or 3 whole
 * instructions, so a thread stopped by tattach is often between two of
 * them (spin_rep the most: an interrupted "rep stosb" stays at its own
 * first byte, inside the window):
 *
 *   spin_two    mov; add                    window 6, a boundary at +3
 *   spin_three  push; mov; lea              window 8, at +1 and +4
 *   spin_rip    mov; add rip_base(%rip)     window 10, at +3 (RIP-relative)
 *   spin_call   push; call leaf_double      window 6, at +1 (call moved last)
 *   spin_cet    endbr64; xor; add           window 5 after the endbr64, at +2
 *   spin_rep    xchg; mov; rep stosb        window 6, at +1 and +4
 *
 * Each returns 2 * its result + 1 when its return address was hijacked by
 * tattach's trampoline (it lies outside this program's text), else 2 *
 * its result: so each thread checks every result and counts, per
 * function, its calls and the calls tattach traced, which tread must
 * report exactly.
 *
 * Commands (one answer line each): "spin N" starts N threads -> "done";
 * "spinmain N" the same, then the main thread spins too, until the next
 * command comes (it is the thread tattach makes its system calls with);
 * "stop" stops and joins them -> "done"; "counts" -> "counts C E T0..T5"
 * (calls, wrong results, traced calls per function in the order above).
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NFN       6
#define MAXT      16
#define REP_BYTES (1u << 20)

extern char __executable_start[], etext[];
unsigned long text_lo, text_hi;
long rip_base = 1000;

long spin_two(long a, long b);
long spin_three(long a, long b);
long spin_rip(long a);
long spin_call(long a);
long spin_cet(long a, long b);
long spin_rep(unsigned char *buf, unsigned long n, int v);

/* %rax holds the result, the return address is at OFF(%rsp). */
#define TRACED_TAIL(off)					\
	"	mov " #off "(%rsp),%rcx\n"			\
	"	cmp text_lo(%rip),%rcx\n"			\
	"	jb 9f\n"					\
	"	cmp text_hi(%rip),%rcx\n"			\
	"	jae 9f\n"					\
	"	add %rax,%rax\n"				\
	"	ret\n"						\
	"9:	lea 1(%rax,%rax),%rax\n"			\
	"	ret\n"

#define FN(name) ".globl " #name "\n.type " #name ",@function\n" #name ":\n"
#define END(name) ".size " #name ",.-" #name "\n"

__asm__(".text\n"
	FN(spin_two)
	"	mov %rdi,%rax\n"
	"	add %rsi,%rax\n"
	TRACED_TAIL(0)
	END(spin_two)
	FN(spin_three)
	"	push %rbx\n"
	"	mov %rdi,%rbx\n"
	"	lea 7(%rbx),%rax\n"
	"	imul %rsi,%rax\n"
	"	pop %rbx\n"
	TRACED_TAIL(0)
	END(spin_three)
	FN(spin_rip)
	"	mov %rdi,%rax\n"
	"	add rip_base(%rip),%rax\n"
	TRACED_TAIL(0)
	END(spin_rip)
	FN(leaf_double)
	"	lea (%rdi,%rdi),%rax\n"
	"	ret\n"
	END(leaf_double)
	FN(spin_call)
	"	push %rbx\n"
	"	call leaf_double\n"
	"	pop %rbx\n"
	TRACED_TAIL(0)
	END(spin_call)
	FN(spin_cet)
	"	endbr64\n"
	"	xor %eax,%eax\n"
	"	add %rdi,%rax\n"
	"	add %rsi,%rax\n"
	TRACED_TAIL(0)
	END(spin_cet)
	FN(spin_rep)
	"	xchg %eax,%edx\n"
	"	mov %rsi,%rcx\n"
	"	rep stosb\n"
	"	mov %rsi,%rax\n"
	TRACED_TAIL(0)
	END(spin_rep));

struct spinner {
	pthread_t thread;
	long id;
	int is_main;			/* spins until a command comes */
	long calls, errors, traced[NFN];
	unsigned char buf[REP_BYTES];
};

/* [0, MAXT): threads, [MAXT]: the main thread; kept, so counts add up
 * over several "spin"s. */
static struct spinner *spinners[MAXT + 1];
static int nspin, running;
static volatile int stopping;

/* One call: check the result, count it and whether it was traced. */
static void account(struct spinner *s, int fn, long r, long want)
{
	s->calls++;
	s->traced[fn] += r & 1;
	s->errors += (r >> 1) != want;
}

static int more(const struct spinner *s)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	return s->is_main ? poll(&p, 1, 0) == 0 : !stopping;
}

static void *spin(void *arg)
{
	struct spinner *s = arg;

	for (long i = 0; more(s); i++) {
		int v = (int)(i & 0xff);

		account(s, 0, spin_two(i, s->id), i + s->id);
		account(s, 1, spin_three(i, 3), (i + 7) * 3);
		account(s, 2, spin_rip(i), i + rip_base);
		account(s, 3, spin_call(i), 2 * i);
		account(s, 4, spin_cet(i, s->id), i + s->id);
		account(s, 5, spin_rep(s->buf, REP_BYTES, v), REP_BYTES);
		s->errors += s->buf[0] != v || s->buf[REP_BYTES / 2] != v ||
			     s->buf[REP_BYTES - 1] != v;
	}
	return NULL;
}

static struct spinner *spinner(int i)
{
	if (!spinners[i]) {
		spinners[i] = calloc(1, sizeof(*spinners[i]));
		if (spinners[i]) {
			spinners[i]->id = i;
			spinners[i]->is_main = i == MAXT;
		}
	}
	return spinners[i];
}

static int start(int n)
{
	if (running || n < 0 || n > MAXT)
		return -1;
	running = 1;
	stopping = 0;
	nspin = 0;
	for (int i = 0; i < n; i++) {
		if (!spinner(i) || pthread_create(&spinners[i]->thread, NULL, spin, spinners[i]))
			return -1;
		nspin++;
	}
	return 0;
}

/* "spinmain N": N threads, then the main thread until the next command. */
static int spin_main(int n)
{
	if (start(n) || !spinner(MAXT))
		return -1;
	printf("done\n");
	spin(spinners[MAXT]);
	return 0;
}

static void stop(void)
{
	stopping = 1;
	for (int i = 0; i < nspin; i++)
		pthread_join(spinners[i]->thread, NULL);
	running = 0;
}

static void counts(void)
{
	long calls = 0, errors = 0, traced[NFN] = { 0 };

	for (int i = 0; i <= MAXT; i++) {
		if (!spinners[i])
			continue;
		calls += spinners[i]->calls;
		errors += spinners[i]->errors;
		for (int f = 0; f < NFN; f++)
			traced[f] += spinners[i]->traced[f];
	}
	printf("counts %ld %ld", calls, errors);
	for (int f = 0; f < NFN; f++)
		printf(" %ld", traced[f]);
	printf("\n");
}

int main(void)
{
	char line[256];
	int n;

	text_lo = (unsigned long)__executable_start;
	text_hi = (unsigned long)etext;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "spin %d", &n) == 1) {
			printf("%s\n", start(n) ? "error" : "done");
		} else if (sscanf(line, "spinmain %d", &n) == 1) {
			if (spin_main(n))
				printf("error\n");
		} else if (!strncmp(line, "stop", 4) && running) {
			stop();
			printf("done\n");
		} else if (!strncmp(line, "counts", 6) && !running) {
			counts();
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("error\n");
		}
	}
	return 0;
}
