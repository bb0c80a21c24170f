// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "patcher/patch.h"

/* Runs: sites closer than this are read and written in one go. */
#define RUN_GAP_MAX  4096
#define RUN_SPAN_MAX (1u << 20)

static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

/* The call (0xe8) or jmp (0xe9) @op of @target at @addr; -ERANGE. */
static int bytes_to(uint64_t addr, unsigned len, uint64_t target, uint8_t op, uint8_t *out)
{
	int64_t rel = (int64_t)(target - (addr + 5));
	int32_t rel32 = (int32_t)rel;

	if (rel != rel32)
		return -ERANGE;
	out[0] = op;
	memcpy(out + 1, &rel32, 4);
	if (len == 6)
		out[5] = 0x90;
	return 0;
}

int patch_bytes_enabled(uint64_t addr, unsigned len, uint64_t target, uint8_t *out)
{
	return bytes_to(addr, len, target, 0xe8, out);
}

int patch_bytes_jmp(uint64_t addr, unsigned len, uint64_t target, uint8_t *out)
{
	return bytes_to(addr, len, target, 0xe9, out);
}

void patch_bytes_disabled(unsigned len, uint8_t *out)
{
	memcpy(out, nop5, 5);
	if (len == 6)
		out[5] = 0x90;
}

/* memcmp() for a site's 5 or 6 bytes, without a call per compare
 * (100 000 sites are compared while the process is stopped). */
static inline int same(const uint8_t *a, const uint8_t *b, unsigned len)
{
	uint32_t x, y;

	if (len != 5 && len != 6)
		return memcmp(a, b, len) == 0;
	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	if (x != y || a[4] != b[4])
		return 0;
	return len == 5 || a[5] == b[5];
}

/* Does @cur hold the call (@op 0xe8) or jmp (0xe9) of @target (0: none)? */
static int holds(const struct patch_site *s, const uint8_t *cur, uint64_t target, uint8_t op)
{
	uint8_t b[PATCH_MAX_LEN];

	return target && bytes_to(s->addr, s->len, target, op, b) == 0 && same(cur, b, s->len);
}

/* Decide the new bytes for one site given its current bytes @cur. */
static int plan_site(struct patch_site *s, const uint8_t *cur, enum patch_op op,
		     uint8_t *want)
{
	uint8_t on[PATCH_MAX_LEN], off[PATCH_MAX_LEN];
	int reachable = bytes_to(s->addr, s->len, s->target, s->jmp ? 0xe9 : 0xe8, on) == 0;
	int is_on = reachable && same(cur, on, s->len);
	int is_known;

	patch_bytes_disabled(s->len, off);
	is_known = is_on || same(cur, off, s->len) ||
		   same(cur, s->orig, s->len) || holds(s, cur, s->alt[0], 0xe8) || holds(s, cur, s->alt[1], 0xe8) ||
		   holds(s, cur, s->alt_jmp, 0xe9);
	if (!is_known)
		return PATCH_MISMATCH;
	if (op == PATCH_ENABLE) {
		if (!reachable)
			return PATCH_UNREACHABLE;
		if (is_on)
			return PATCH_ALREADY;
		memcpy(want, on, s->len);
	} else {
		if (same(cur, off, s->len))
			return PATCH_ALREADY;
		memcpy(want, off, s->len);
	}
	return PATCH_DONE;
}

static int apply_run(const struct patch_io *io, struct patch_site *sites,
		     size_t n, enum patch_op op, struct patch_stats *st)
{
	uint64_t start = sites[0].addr;
	uint64_t end = sites[n - 1].addr + sites[n - 1].len;
	uint64_t lo = UINT64_MAX, hi = 0;
	uint8_t *buf = malloc(end - start);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = io->read(io->ctx, start, buf, end - start);
	if (ret)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct patch_site *s = &sites[i];
		uint8_t *cur = buf + (s->addr - start);
		uint8_t want[PATCH_MAX_LEN];

		s->result = plan_site(s, cur, op, want);
		switch (s->result) {
		case PATCH_DONE:
			memcpy(cur, want, s->len);
			if (s->addr < lo)
				lo = s->addr;
			if (s->addr + s->len > hi)
				hi = s->addr + s->len;
			st->done++;
			break;
		case PATCH_ALREADY:
			st->already++;
			break;
		case PATCH_MISMATCH:
			st->mismatch++;
			break;
		default:
			st->unreachable++;
			break;
		}
	}
	if (hi > lo) {
		ret = io->write(io->ctx, lo, buf + (lo - start), hi - lo);
		st->writes++;
	}
out:
	free(buf);
	return ret;
}

int patch_apply(const struct patch_io *io, struct patch_site *sites, size_t n,
		enum patch_op op, struct patch_stats *stats)
{
	size_t i = 0;

	memset(stats, 0, sizeof(*stats));
	while (i < n) {
		size_t j = i + 1;
		int ret;

		while (j < n && sites[j].addr - (sites[j - 1].addr + sites[j - 1].len) < RUN_GAP_MAX &&
		       sites[j].addr + sites[j].len - sites[i].addr <= RUN_SPAN_MAX &&
		       sites[j].addr >= sites[j - 1].addr + sites[j - 1].len)
			j++;
		ret = apply_run(io, sites + i, j - i, op, stats);
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}
