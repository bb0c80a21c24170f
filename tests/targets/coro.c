/*
 * coro: a scheduler of coroutines on one thread that yield from inside
 * traced calls, to show that calls nest per stack under tracing.
 *
 *   ucontext R   100 makecontext() coroutines, R rounds each, switched
 *                with swapcontext()
 *   asm R        the same with a hand-written stack switch
 *   park R       as ucontext R, but after the first round of every
 *                coroutine (each suspended in its yield_now()) the
 *                scheduler answers "parked" and waits in wait_go() for a
 *                line before it goes on: calls in flight on 101 stacks
 *   small R      as ucontext R, on 8 KiB stacks, and the scheduler makes
 *                no traced call: each new stack starts just above the
 *                frames of the coroutine that ran before it, the last
 *                traced event was on that coroutine's stack, so tattach
 *                takes the start for a longjmp() on that stack (a guess
 *                docs/limitations.md describes), and frames of one are
 *                dropped as the other's skipped callees: their returns
 *                must find their way back all the same
 *   down R       as ucontext R, but every pass resumes the coroutines
 *                from the last to the first: as their stacks come one
 *                after the other in the heap, each resumed coroutine's
 *                stack lies just below the one that ran before it, its
 *                calls as near the frames left there as a nested call's
 *
 * Coroutine i (0..99) makes R calls of step(i); step(i) goes i % 3 + 1
 * traced calls deep (step, inner, deeper) and yields from there: so
 * coroutine i's tree is co_main(step(...yield_now()) x R).  The scheduler
 * resumes every live coroutine in turn and calls account() after each
 * switch back.  Answers "done N" with N = the yields counted, or -1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define NCO 100
#define STACK_SIZE (64 * 1024)
#define SMALL_STACK_SIZE (8 * 1024)

struct coro {
	ucontext_t uc;
	void *sp;		/* asm: saved stack pointer */
	char *stack;
	int id;
	int done;
};

static struct coro co[NCO];
static ucontext_t sched_uc;
static void *sched_sp;
static int use_asm, rounds, current, park, down, small;
static volatile long yields, accounted;

/*
 * co_switch(&save, to): push the callee-saved registers, save %rsp in
 * *save, load @to, pop and return on the other stack.  A new stack is
 * prepared (co_prepare) to "return" into co_start.
 */
void co_switch(void **save, void *to);
__asm__(".text\n"
	".globl co_switch\n"
	".type co_switch, @function\n"
	"co_switch:\n"
	"	push %rbp\n	push %rbx\n	push %r12\n	push %r13\n	push %r14\n	push %r15\n"
	"	mov %rsp, (%rdi)\n"
	"	mov %rsi, %rsp\n"
	"	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbx\n	pop %rbp\n"
	"	ret\n"
	".size co_switch, . - co_switch\n");

NOINLINE static void yield_now(void)
{
	struct coro *c = &co[current];

	yields++;
	if (use_asm)
		co_switch(&c->sp, sched_sp);
	else
		swapcontext(&c->uc, &sched_uc);
}

NOINLINE static void deeper(void)
{
	yield_now();
	__asm__ volatile("" ::: "memory");	/* not a tail call */
}

NOINLINE static void inner(int id)
{
	if (id % 3 == 2)
		deeper();
	else
		yield_now();
	__asm__ volatile("" ::: "memory");
}

NOINLINE static void step(int id)
{
	if (id % 3 == 0)
		yield_now();
	else
		inner(id);
	__asm__ volatile("" ::: "memory");
}

NOINLINE static void co_main(int id)
{
	for (int r = 0; r < rounds; r++)
		step(id);
	__asm__ volatile("" ::: "memory");
}

/* First code on a coroutine's stack, not traced: co_main is each
 * coroutine's outermost traced call (with -pg, and in the patchable-entry
 * build too). */
#define NOTRACE __attribute__((no_instrument_function, patchable_function_entry(0, 0)))

NOTRACE static void co_start(void)
{
	co_main(current);
	co[current].done = 1;
	if (use_asm)
		co_switch(&co[current].sp, sched_sp);
	/* ucontext: returning resumes uc_link, the scheduler */
}

NOTRACE static void co_start_uc(void)
{
	co_start();
}

NOTRACE static void co_start_asm(void)
{
	co_start();
	abort();	/* a finished coroutine is never resumed */
}

NOINLINE static void account(int id)
{
	accounted += id >= 0;
}

/* park: every coroutine suspended; the caller looks, then sends a line. */
NOINLINE static void wait_go(void)
{
	char line[64];

	printf("parked\n");
	if (!fgets(line, sizeof(line), stdin))
		exit(1);
}

NOINLINE static int co_prepare(struct coro *c, int id)
{
	size_t size = small ? SMALL_STACK_SIZE : STACK_SIZE;

	c->stack = malloc(size);
	if (!c->stack)
		return -1;
	c->id = id;
	c->done = 0;
	if (use_asm) {
		/* 6 registers, then the "return address" co_start_asm, with
		 * the stack 16-byte aligned + 8 at its entry as after a call */
		uintptr_t top = ((uintptr_t)c->stack + size) & ~(uintptr_t)15;
		void **sp = (void **)top - 2;

		sp[0] = (void *)co_start_asm;
		sp[1] = NULL;
		sp -= 6;
		memset(sp, 0, 6 * sizeof(*sp));
		c->sp = sp;
		return 0;
	}
	if (getcontext(&c->uc))
		return -1;
	c->uc.uc_stack.ss_sp = c->stack;
	c->uc.uc_stack.ss_size = size;
	c->uc.uc_link = &sched_uc;
	makecontext(&c->uc, co_start_uc, 0);
	return 0;
}

NOINLINE static long schedule(void)
{
	int live = NCO;

	for (int i = 0; i < NCO; i++)
		if (co_prepare(&co[i], i))
			return -1;
	for (int pass = 0; live; pass++) {
		if (park && pass == 1)
			wait_go();
		for (int n = 0; n < NCO; n++) {
			int i = down ? NCO - 1 - n : n;

			if (co[i].done)
				continue;
			current = i;
			if (use_asm)
				co_switch(&sched_sp, co[i].sp);
			else if (swapcontext(&sched_uc, &co[i].uc))
				return -1;
			if (!small)
				account(i);
			live -= co[i].done;
		}
	}
	for (int i = 0; i < NCO; i++)
		free(co[i].stack);
	return yields;
}

NOINLINE static long dispatch(const char *line)
{
	park = down = small = 0;
	if (sscanf(line, "ucontext %d", &rounds) == 1)
		use_asm = 0;
	else if (sscanf(line, "small %d", &rounds) == 1)
		use_asm = 0, small = 1;
	else if (sscanf(line, "down %d", &rounds) == 1)
		use_asm = 0, down = 1;
	else if (sscanf(line, "asm %d", &rounds) == 1)
		use_asm = 1;
	else if (sscanf(line, "park %d", &rounds) == 1)
		use_asm = 0, park = 1;
	else
		return -1;
	yields = accounted = 0;
	return schedule() == (long)NCO * rounds ? yields : -1;
}

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		printf("done %ld\n", dispatch(line));
	return 0;
}
