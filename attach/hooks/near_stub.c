// SPDX-License-Identifier: MIT
/*
 * The head of a stub near its module, and the list of their areas
 * (near_stub.h; the layout is in attach/tramp/tramp_abi.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "attach/hooks/near_stub.h"
#include "attach/inject.h"

/* entry.S's tp_ns_enter reads the index at 11(return address) and skips
 * 24 bytes to the body; its landing is 5 bytes after that return. */
_Static_assert(TP_NS_INDEX - TP_NS_CALLED == 11 && TP_NS_BODY - TP_NS_CALLED == 24 &&
	       TP_NS_RET - TP_NS_CALLED == 5, "entry.S's tp_ns_enter knows these offsets");

void near_stub_targets(const struct ringfile *rf, unsigned tramp, struct near_targets *t)
{
	t->primed = inject_tramp_near_enter(rf, tramp);
	t->plain = inject_tramp_entry(rf, tramp, TAT_SITE_FENTRY);
	t->args = inject_tramp_args_entry(rf, tramp, TAT_SITE_FENTRY);
	t->exit = inject_tramp_ct_exit(rf, tramp);
}

static uint64_t areas_addr(const struct ringfile *rf)
{
	return rf->hdr->private_addr + offsetof(struct tp_state, near_stubs);
}

int near_stub_areas(struct remote *r, const struct ringfile *rf,
		    struct tp_near_area areas[TP_NS_AREAS])
{
	if (!rf->hdr->private_addr)
		return -ENOENT;
	return remote_read(r, areas_addr(rf), areas, sizeof(struct tp_near_area) * TP_NS_AREAS);
}

/* How many areas may be listed: TP_NS_AREAS, or fewer for the tests of a
 * full list (TATTACH_TEST_NEAR_AREAS). */
static unsigned areas_cap(void)
{
	const char *env = getenv("TATTACH_TEST_NEAR_AREAS");
	unsigned long n = env ? strtoul(env, NULL, 10) : TP_NS_AREAS;

	return n < TP_NS_AREAS ? (unsigned)n : TP_NS_AREAS;
}

/* List the area: 1 when listed (or listed already), 0 when the list is
 * full, or -errno. */
static int list_area(struct remote *r, const struct ringfile *rf, uint64_t start,
		     uint64_t len, unsigned shift)
{
	struct tp_near_area areas[TP_NS_AREAS];
	const struct tp_near_area a = { .start = start, .len = (uint32_t)len, .shift = shift };
	unsigned i;
	int ret;

	if (len > UINT32_MAX)
		return 0;
	ret = near_stub_areas(r, rf, areas);
	if (ret)
		return ret;
	for (i = 0; i < TP_NS_AREAS && areas[i].start; i++)
		if (areas[i].start == start)
			return 1;
	if (i >= areas_cap())
		return 0;
	/* start last: the trampoline reads the list without a lock, and a
	 * nonzero start is what makes the entry count */
	ret = remote_write(r, areas_addr(rf) + i * sizeof(a) + offsetof(struct tp_near_area, len),
			   &a.len, sizeof(a) - offsetof(struct tp_near_area, len));
	if (!ret)
		ret = remote_write(r, areas_addr(rf) + i * sizeof(a), &a.start, sizeof(a.start));
	return ret ? ret : 1;
}

uint64_t near_stub_area(struct remote *r, const struct ringfile *rf,
			const struct near_targets *t, uint64_t start, uint64_t len,
			unsigned shift)
{
	return list_area(r, rf, start, len, shift) > 0 && inject_call_through() ?
	       t->primed : t->plain;
}

static int listed(const struct tp_near_area areas[TP_NS_AREAS], uint64_t stub)
{
	for (unsigned i = 0; i < TP_NS_AREAS && areas[i].start; i++)
		if (stub - areas[i].start < areas[i].len)
			return 1;
	return 0;
}

uint64_t near_stub_target(const struct near_targets *t,
			  const struct tp_near_area areas[TP_NS_AREAS], uint64_t stub, int args)
{
	if (args)
		return t->args;
	return inject_call_through() && listed(areas, stub) ? t->primed : t->plain;
}

int near_stub_ours(const struct near_targets *t, uint64_t v)
{
	return v == t->primed || v == t->plain || v == t->args;
}

void near_stub_head(uint8_t *b, unsigned ptr, uint64_t enter, const struct near_targets *t,
		    uint32_t index)
{
	static const uint8_t head[TP_NS_BODY] = {
		0xf3, 0x0f, 0x1e, 0xfa,			/* +0  endbr64 */
		0xff, 0x15, 0, 0, 0, 0,			/* +4  call *P(%rip) */
		0xe8, 0x0a, 0x00, 0x00, 0x00,		/* +10 call +25 */
		0xff, 0x25, 0, 0, 0, 0,			/* +15 jmp *E(%rip) */
		0, 0, 0, 0,				/* +21 the index */
		0xc6, 0x04, 0x24, 0x00,			/* +25 movb $0, (%rsp) */
		0x48, 0x8d, 0x64, 0x24, 0x08,		/* +29 lea 8(%rsp), %rsp */
	};
	int32_t p = (int32_t)(ptr - TP_NS_CALLED), e = (int32_t)(ptr + 8 - (TP_NS_RET + 6));

	memcpy(b, head, sizeof(head));
	memcpy(b + 6, &p, 4);
	memcpy(b + 17, &e, 4);
	memcpy(b + ptr, &enter, 8);
	memcpy(b + ptr + 8, &t->exit, 8);
	memcpy(b + TP_NS_INDEX, &index, 4);
}
