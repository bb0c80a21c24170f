// SPDX-License-Identifier: MIT
/*
 * Loss summary lines, shared by the graph and the report.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "consumer/views/summary.h"

struct parts {
	char   buf[320];
	size_t len;
	bool   any;
};

/* Append ", <fmt with n>" unless n is 0. */
static void add(struct parts *p, const char *fmt, uint64_t n)
{
	int w;

	if (!n || p->len >= sizeof(p->buf) - 1)
		return;
	if (p->any) {
		w = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, ", ");
		p->len += w > 0 ? (size_t)w : 0;
	}
	if (p->len < sizeof(p->buf) - 1) {
		w = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, n);
		p->len += w > 0 ? (size_t)w : 0;
	}
	if (p->len > sizeof(p->buf) - 1)
		p->len = sizeof(p->buf) - 1;
	p->any = true;
}

/* fprintf's result -> 0 or -errno */
static int put(int ret)
{
	if (ret >= 0)
		return 0;
	return errno ? -errno : -EIO;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

int tread_print_losses(FILE *out, const struct tread_trace *t, int32_t tid)
{
	struct tread_trace_totals tot;
	struct parts p = { .len = 0 };
	uint64_t lost = 0, over, ring_full;
	int ret = 0;

	tread_trace_totals(t, tid, &tot);
	/* Corrections take back ring-full losses: reported by the writer. */
	over = tot.lost[TREAD_LOST_OVERCOUNTED];
	ring_full = sub0(tot.lost[TREAD_LOST_RING_FULL], over);
	lost = ring_full;
	for (int r = 0; r < TREAD_LOST_OVERCOUNTED; r++)
		if (r != TREAD_LOST_RING_FULL)
			lost = __builtin_add_overflow(lost, tot.lost[r], &lost) ?
			       UINT64_MAX : lost;
	errno = 0;

	if (lost) {
		add(&p, "ring full: %" PRIu64, ring_full);
		add(&p, "overwritten before read: %" PRIu64,
		    tot.lost[TREAD_LOST_OVERWRITTEN]);
		add(&p, "before the first timestamp: %" PRIu64,
		    tot.lost[TREAD_LOST_NO_TIMESTAMP]);
		add(&p, "never written: %" PRIu64, tot.lost[TREAD_LOST_UNCOMMITTED]);
		ret = put(fprintf(out, "# lost %" PRIu64 " events (%s)\n",
				       lost, p.buf));
	}
	if (!ret && over)
		ret = put(fprintf(out, "# the writer reported %" PRIu64 " lost events "
				       "twice (counted once above)\n", over));
	if (!ret && tot.unread)
		ret = put(fprintf(out, "# %" PRIu64 " events still being "
				       "written were not shown\n", tot.unread));
	if (!ret && (tot.ring_dropped || tot.too_deep || tot.no_slot)) {
		p.len = 0;
		p.any = false;
		p.buf[0] = 0;
		add(&p, "%" PRIu64 " events dropped (ring full)", tot.ring_dropped);
		add(&p, "%" PRIu64 " calls not traced (nested too deep)", tot.too_deep);
		add(&p, "%" PRIu64 " calls not traced (no free thread slot)", tot.no_slot);
		ret = put(fprintf(out, "# writer counters since attach: %s\n",
				       p.buf));
	}
	if (!ret && tot.bad_words)
		ret = put(fprintf(out, "# %" PRIu64 " malformed ring words "
				       "ignored\n", tot.bad_words));
	return ret;
}
