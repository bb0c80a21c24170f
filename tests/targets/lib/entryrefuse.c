/*
 * entryrefuse: functions whose entry tattach --entry must refuse, next to
 * ones it patches.  Built without -pg.  "run N" calls drive(N) -> "done".
 *
 *   loop_head     its loop jumps back to +2, inside the first 5 bytes
 *   loop_head_cet the same after an endbr64 (the window starts at +4)
 *   tiny          a lone ret: too short
 *   early_ret     xor; ret: returns within its first 5 bytes
 *   jump_table    an indirect jmp, which could land anywhere in it
 *   plain, plain_rip  patched (plain_rip starts with a RIP-relative load)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

volatile long sink;

long loop_head(long n);
long loop_head_cet(long n);
long tiny(void);
long early_ret(void);
long jump_table(long i);

__asm__(".text\n"
	".globl loop_head\n.type loop_head,@function\n"
	"loop_head:\n"
	"	xor %eax,%eax\n"
	"1:	add %rdi,%rax\n"
	"	dec %rdi\n"
	"	jnz 1b\n"
	"	ret\n"
	".size loop_head,.-loop_head\n"
	".globl loop_head_cet\n.type loop_head_cet,@function\n"
	"loop_head_cet:\n"
	"	endbr64\n"
	"	xor %eax,%eax\n"
	"1:	add %rdi,%rax\n"
	"	dec %rdi\n"
	"	jnz 1b\n"
	"	ret\n"
	".size loop_head_cet,.-loop_head_cet\n"
	".globl tiny\n.type tiny,@function\n"
	"tiny:\n"
	"	ret\n"
	".size tiny,.-tiny\n"
	".globl early_ret\n.type early_ret,@function\n"
	"early_ret:\n"
	"	xor %eax,%eax\n"
	"	ret\n"
	"	nop\n"
	"	nop\n"
	"	nop\n"
	".size early_ret,.-early_ret\n"
	".globl jump_table\n.type jump_table,@function\n"
	"jump_table:\n"
	"	mov %rdi,%rax\n"
	"	and $1,%rax\n"
	"	lea 2f(%rip),%rdx\n"
	"	jmp *(%rdx,%rax,8)\n"
	"3:	mov $7,%eax\n"
	"	ret\n"
	"4:	mov $9,%eax\n"
	"	ret\n"
	"	.section .data.rel.ro,\"aw\"\n"
	"2:	.quad 3b, 4b\n"
	"	.text\n"
	".size jump_table,.-jump_table\n");

NOINLINE long plain(long x)
{
	sink += x;
	return x + 1;
}

NOINLINE long plain_rip(long x)
{
	long s = sink;

	sink = s + x;
	return s;
}

NOINLINE long drive(long n)
{
	long t = 0;

	for (long i = 1; i <= n; i++)
		t += loop_head(i) + loop_head_cet(i) + tiny() + early_ret() + jump_table(i) +
		     plain(i) + plain_rip(i);
	return t;
}

int main(void)
{
	char line[256];
	long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "run %ld", &n) == 1) {
			drive(n);
			printf("done\n");
		} else if (!strncmp(line, "quit", 4)) {
			return 0;
		} else {
			printf("error\n");
		}
	}
	return 0;
}
