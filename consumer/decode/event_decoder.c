// SPDX-License-Identifier: MIT
/*
 * The word -> event state machine described in event_decoder.h.
 *
 * Counts are added with saturation: LOST payloads are 56-bit numbers the
 * traced process chose, and a sum that wraps would print nonsense.
 */
#include <string.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/decode/values.h"
#include "tattach/ring.h"

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

void tread_decoder_init(struct tread_decoder *d, uint32_t slot, int32_t tid)
{
	memset(d, 0, sizeof(*d));
	d->slot = slot;
	d->tid = tid;
	d->pending_pos = UINT64_MAX;
}

void tread_decoder_prime(struct tread_decoder *d, uint64_t word)
{
	if (tat_ev_type(word) != TAT_EV_SPECIAL)
		return;
	switch (tat_ev_sub(word)) {
	case TAT_SUB_TIME:
		d->time_hi = tat_ev_payload(word);
		d->have_time = true;
		break;
	case TAT_SUB_TID:
		d->tid = (int32_t)tat_ev_payload(word);
		d->stack = 0;
		break;
	case TAT_SUB_STACK:
		d->stack = tat_ev_payload(word);
		break;
	}
}

void tread_decoder_lost(struct tread_decoder *d, uint64_t count,
			enum tread_lost_reason reason)
{
	d->stats.lost[reason] = add_sat(d->stats.lost[reason], count);
	d->pending[reason] = add_sat(d->pending[reason], count);
}

void tread_decoder_gap(struct tread_decoder *d, uint64_t count,
		       enum tread_lost_reason reason)
{
	if (!count)
		return;
	tread_decoder_lost(d, count, reason);
	d->have_time = false;
	d->stack = 0;	/* a STACK record may have been among them */
	d->vactive = false;	/* and VALDATA words of a VALUES record */
	/* and the events an UNWIND, EARLY or CUT record before them marks:
	 * its count must not go on to the events after them */
	d->unwind_pending = 0;
	d->early_pending = 0;
	d->cut_pending = 0;
}

static bool lost_pending(const struct tread_decoder *d)
{
	for (int i = 0; i < TREAD_LOST_REASONS; i++)
		if (d->pending[i])
			return true;
	return false;
}

static void make_lost(struct tread_decoder *d, uint64_t tsc, uint64_t pos,
		      struct tread_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = TREAD_EV_LOST;
	ev->slot = d->slot;
	ev->tid = d->tid;
	ev->tsc = tsc;
	/*
	 * Where the loss was first told: a consumer that stops before this
	 * event (tread_stream_consumed) leaves that word, a LOST record, to
	 * the next reader, rather than the event after it.  That also keeps
	 * tread -f's tail off the chunk boundaries where a LOST record pushes
	 * the next event (ring-format.md, known writer miscounts).
	 */
	ev->pos = pos < d->pending_pos ? pos : d->pending_pos;
	d->pending_pos = UINT64_MAX;
	for (int i = 0; i < TREAD_LOST_REASONS; i++) {
		ev->lost[i] = d->pending[i];
		ev->count = add_sat(ev->count, d->pending[i]);
		d->pending[i] = 0;
	}
}

/*
 * A LOST record of -@n: the writer reported @n more than it dropped.  What
 * is still pending (not shown yet) is simply taken back; the rest corrects
 * what was shown.
 */
static void lost_negative(struct tread_decoder *d, uint64_t n)
{
	uint64_t *pend = &d->pending[TREAD_LOST_RING_FULL];
	uint64_t take = n < *pend ? n : *pend;

	*pend -= take;
	d->stats.lost[TREAD_LOST_RING_FULL] -= take;	/* it was added there */
	n -= take;
	if (n)
		tread_decoder_lost(d, n, TREAD_LOST_OVERCOUNTED);
}

/* Seven more bytes of the VALUES record being read; the event once whole. */
static int decode_valdata(struct tread_decoder *d, uint64_t payload, uint64_t pos,
			  struct tread_event *out)
{
	if (!d->vactive)
		return 0;	/* its VALUES record was not read (a gap) */
	for (unsigned k = 0; k < TAT_VALDATA_BYTES && d->vlen < d->vwant; k++)
		d->vbuf[d->vlen++] = (uint8_t)(payload >> (8 * k));
	if (d->vlen < d->vwant)
		return 0;
	d->vactive = false;
	if (!d->dated)
		return 0;	/* its call's entry could not be dated either */
	memset(out, 0, sizeof(*out));
	out->kind = TREAD_EV_VALUES;
	out->site = d->vsite;
	out->stack = d->stack;
	out->slot = d->slot;
	out->tid = d->tid;
	out->tsc = d->last_tsc;
	out->pos = pos;
	out->is_return = d->vreturn;
	out->values = tread_values_put(d->vbuf, d->vlen);
	return out->values ? 1 : 0;
}

static int decode_special(struct tread_decoder *d, uint64_t word, uint64_t pos,
			  struct tread_event *out)
{
	uint64_t payload = tat_ev_payload(word);
	int32_t tid;

	switch (tat_ev_sub(word)) {
	case TAT_SUB_TIME:
		d->time_hi = payload;
		d->have_time = true;
		return 0;
	case TAT_SUB_TID:
		tid = (int32_t)payload;
		if (tid == d->tid)
			return 0;
		d->tid = tid;
		d->stack = 0;
		d->early_pending = 0;
		d->unwind_pending = 0;	/* belonged to the previous thread */
		d->vactive = false;
		d->cut_pending = 0;
		d->have_depth = false;
		memset(out, 0, sizeof(*out));
		out->kind = TREAD_EV_TID;
		out->slot = d->slot;
		out->tid = tid;
		out->tsc = d->last_tsc;
		out->pos = pos;
		return 1;
	case TAT_SUB_LOST:
		if (payload == 0)
			return 0;	/* a nested writer reported this loss first */
		if (d->pending_pos == UINT64_MAX)
			d->pending_pos = pos;
		if (payload >= TREAD_LOST_NEGATIVE)
			lost_negative(d, TAT_EV_PAYLOAD_MASK - payload + 1);
		else
			tread_decoder_lost(d, payload, TREAD_LOST_RING_FULL);
		return 0;
	case TAT_SUB_UNWIND:
		d->unwind_pending = payload;
		return 0;
	case TAT_SUB_STACK:
		d->stack = payload;
		return 0;
	case TAT_SUB_EARLY:
		d->early_pending = payload;
		return 0;
	case TAT_SUB_VALUES:
		/* tattach -A/-R: VALDATA words with the bytes follow */
		d->vsite = (uint32_t)(payload & TAT_VALUES_SITE_MASK);
		d->vwant = (uint32_t)((payload >> TAT_VALUES_BYTES_SHIFT) & TAT_VALUES_BYTES_MASK);
		d->vreturn = (payload & TAT_VALUES_RETURN) != 0;
		d->vlen = 0;
		d->vactive = d->vwant > 0 && d->vwant <= sizeof(d->vbuf);
		if (!d->vactive)
			d->stats.bad_words++;
		return 0;
	case TAT_SUB_VALDATA:
		return decode_valdata(d, payload, pos, out);
	case TAT_SUB_CUT:
		d->cut_pending = payload;
		return 0;
	case TAT_SUB_DEPTH:
		/* handed out with the next event, after the loss it follows */
		d->depth = payload;
		d->have_depth = true;
		return 0;
	default:
		d->stats.bad_words++;
		return 0;
	}
}

int tread_decoder_word(struct tread_decoder *d, uint64_t word, uint64_t pos,
		       struct tread_event *out)
{
	unsigned type = tat_ev_type(word);
	struct tread_event *ev;
	uint64_t tsc;
	int n = 0;

	if (type == TAT_EV_SPECIAL)
		return decode_special(d, word, pos, out);
	if (type != TAT_EV_ENTRY && type != TAT_EV_EXIT) {
		d->stats.bad_words++;
		return 0;
	}
	if (!d->have_time) {
		/* Not a gap: the time base is already unknown.  The event
		 * still takes its mark of an UNWIND, EARLY or CUT record read
		 * before it (the start of a flight window, before its first
		 * TIME), which would else land on a later event. */
		if (type == TAT_EV_ENTRY && d->early_pending)
			d->early_pending--;
		if (type == TAT_EV_EXIT && d->unwind_pending)
			d->unwind_pending--;
		if (type == TAT_EV_EXIT && d->cut_pending)
			d->cut_pending--;
		d->stats.lost[TREAD_LOST_NO_TIMESTAMP]++;
		d->pending[TREAD_LOST_NO_TIMESTAMP]++;
		if (d->pending_pos == UINT64_MAX)
			d->pending_pos = pos;
		return 0;
	}

	tsc = (d->time_hi << TAT_EV_TSC_BITS) | tat_ev_tsc_low(word);
	if (lost_pending(d))
		make_lost(d, tsc, pos, &out[n++]);
	else
		d->pending_pos = UINT64_MAX;	/* a LOST record that took itself back */
	if (d->have_depth) {
		ev = &out[n++];
		memset(ev, 0, TREAD_EVENT_HEAD);
		ev->kind = TREAD_EV_DEPTH;
		ev->slot = d->slot;
		ev->tid = d->tid;
		ev->tsc = tsc;
		ev->pos = pos;
		ev->open = d->depth;
		ev->stack = d->stack;
		d->have_depth = false;
	}

	ev = &out[n++];
	memset(ev, 0, TREAD_EVENT_HEAD);	/* not a LOST event: lost[] unused */
	ev->kind = type == TAT_EV_ENTRY ? TREAD_EV_ENTRY : TREAD_EV_EXIT;
	ev->site = tat_ev_site(word);
	ev->stack = d->stack;
	ev->slot = d->slot;
	ev->tid = d->tid;
	ev->tsc = tsc;
	ev->pos = pos;
	if (type == TAT_EV_ENTRY && d->early_pending) {
		ev->early = 1;
		d->early_pending--;
	}
	if (type == TAT_EV_EXIT && d->unwind_pending) {
		ev->unwound = 1;
		d->unwind_pending--;
	}
	if (type == TAT_EV_EXIT && d->cut_pending) {
		ev->cut = 1;
		d->cut_pending--;
	}
	d->last_tsc = tsc;
	d->dated = true;
	d->stats.events++;
	return n;
}

int tread_decoder_flush(struct tread_decoder *d, uint64_t pos,
			struct tread_event *out)
{
	if (!lost_pending(d))
		return 0;
	make_lost(d, d->last_tsc, pos, out);
	out->undated = !d->dated;
	return 1;
}
