/* SPDX-License-Identifier: MIT */
/*
 * What entry.S's fast paths (fast.S) need to know of the C structures and
 * constants: offsets and values, as numbers the assembler can read.  The
 * C side checks every one against the real thing when the trampoline is
 * built (the second half of this file), so a change of a structure that
 * is not carried here stops the build instead of the traced program.
 */
#ifndef TATTACH_TRAMP_ASM_H
#define TATTACH_TRAMP_ASM_H

/* struct tp_config, struct tp_live */
#define TPA_CONFIG_STATE	8
#define TPA_LIVE_RING		0

/* struct tp_state */
#define TPA_ST_LIVE		0x08
#define TPA_ST_THREADS		0x10
#define TPA_ST_THREAD_BITS	0x20
#define TPA_ST_RING_SHIFT	0x28
#define TPA_ST_TID_OFFSET	0x2c
#define TPA_ST_THREAD_SHIFT	0x30
#define TPA_ST_RING_MASK	0x38
#define TPA_ST_STATS_INDEX_OFF	0xa0
#define TPA_ST_STATS_OFF	0xb0
#define TPA_ST_STATS_CAP	0xb8	/* u32 */
#define TPA_ST_SITE_CAP		0xbc	/* u32 */
#define TPA_ST_NS_MULT		0xc0

/* struct tp_thread */
#define TPA_T_KEY		0x00
#define TPA_T_INDEX		0x08	/* u32 */
#define TPA_T_TID		0x0c
#define TPA_T_FAST_RING		0x20
#define TPA_T_FAST_CTL		0x28
#define TPA_T_FAST_DATA		0x30
#define TPA_T_FAST_FRAMES	0x38
#define TPA_T_DEPTH		0x40
#define TPA_T_LAST_HI		0x48
#define TPA_T_LOST_PENDING	0x50
#define TPA_T_CUR_STACK		0x58
#define TPA_T_RING_STACK	0x5c
#define TPA_T_STACK		0x80
#define TPA_THREAD_SIZE		0xa4c0

/* struct tp_frame */
#define TPA_F_SLOT		0x00
#define TPA_F_RET		0x08
#define TPA_F_SITE		0x10
#define TPA_F_TSC		0x18
#define TPA_F_CHILD		0x20
#define TPA_FRAME_SIZE		0x28	/* 5 words: index * 5 * 8 */

/* tp_frame.site: the index, then the sub-stack, then flags */
#define TPA_FRAME_SITE_MASK	0x1fffff
#define TPA_FRAME_STACK_SHIFT	32
#define TPA_FRAME_STACK_MASK	0x1fffffff
#define TPA_FRAME_RETVAL	0x80000000	/* bit 31 */
#define TPA_FRAME_STATS_BIT	62
/* FRAME_ENDED is bit 63: the sign */

/* struct tat_ring_header, struct tat_thread_ctl, struct tat_frame */
#define TPA_H_MODE		0x8c
#define TPA_H_MAX_DEPTH		0x204
#define TPA_C_HEAD		0x00
#define TPA_C_OPEN_DEPTH	0x20
#define TPA_C_TAIL		0x40
#define TPA_SF_TSC		0x00
#define TPA_SF_SITE		0x08	/* then the sub-stack at 0x0c */
#define TPA_SF_SHIFT		4	/* 16 bytes each */
#define TPA_SF_STATS		0x40000000	/* TAT_FRAME_STATS */

/* struct tat_stat: a thread's record of one function (stats mode) */
#define TPA_STAT_CALLS		0x08
#define TPA_STAT_TOTAL		0x10
#define TPA_STAT_SELF		0x18
#define TPA_STAT_MAX		0x20
#define TPA_STAT_HIST		0x28
#define TPA_STAT_SIZE_DIV_128	3	/* 384 bytes */
#define TPA_HIST_BUCKETS	43

/* limits and the event word */
#define TPA_DEPTH_MAX		1024
#define TPA_CALL_REACH		0x10000
#define TPA_MODE_FLIGHT		1
#define TPA_MODE_STATS		2
#define TPA_CHUNK_EVENTS	512
#define TPA_EV_EXIT_BIT		61	/* TAT_EV_EXIT << TAT_EV_TYPE_SHIFT */
#define TPA_EV_SITE_SHIFT	40
#define TPA_EV_TSC_BITS		40
#define TPA_EV_COMMIT_BIT	63
#define TPA_EV_TIME_WORD	0x4100000000000000	/* a TIME record, payload 0 */
#define TPA_CT_STUB_SHIFT	5	/* TP_CT_STUB */
#define TPA_HASH_MULT		0x9e3779b97f4a7c15

#ifndef __ASSEMBLER__
#include <stddef.h>

#include <tattach/ring.h>
#include "tramp_abi.h"

#define TPA_CHECK(what, value) _Static_assert((what) == (value), #what " is not " #value \
					      " as tramp_asm.h says: change it there")

TPA_CHECK(offsetof(struct tp_config, state), TPA_CONFIG_STATE);
TPA_CHECK(offsetof(struct tp_live, ring), TPA_LIVE_RING);
TPA_CHECK(offsetof(struct tp_state, live), TPA_ST_LIVE);
TPA_CHECK(offsetof(struct tp_state, threads), TPA_ST_THREADS);
TPA_CHECK(offsetof(struct tp_state, thread_bits), TPA_ST_THREAD_BITS);
TPA_CHECK(offsetof(struct tp_state, ring_shift), TPA_ST_RING_SHIFT);
TPA_CHECK(offsetof(struct tp_state, tid_offset), TPA_ST_TID_OFFSET);
TPA_CHECK(offsetof(struct tp_state, thread_shift), TPA_ST_THREAD_SHIFT);
TPA_CHECK(offsetof(struct tp_state, ring_mask), TPA_ST_RING_MASK);
TPA_CHECK(offsetof(struct tp_state, stats_index_off), TPA_ST_STATS_INDEX_OFF);
TPA_CHECK(offsetof(struct tp_state, stats_off), TPA_ST_STATS_OFF);
TPA_CHECK(offsetof(struct tp_state, stats_cap), TPA_ST_STATS_CAP);
TPA_CHECK(sizeof(((struct tp_state *)0)->stats_cap), 4);
TPA_CHECK(offsetof(struct tp_state, site_cap), TPA_ST_SITE_CAP);
TPA_CHECK(sizeof(((struct tp_state *)0)->site_cap), 4);
TPA_CHECK(offsetof(struct tp_state, ns_mult), TPA_ST_NS_MULT);
TPA_CHECK(offsetof(struct tp_thread, key), TPA_T_KEY);
TPA_CHECK(offsetof(struct tp_thread, index), TPA_T_INDEX);
TPA_CHECK(sizeof(((struct tp_thread *)0)->index), 4);
TPA_CHECK(offsetof(struct tp_thread, tid), TPA_T_TID);
TPA_CHECK(offsetof(struct tp_thread, fast_ring), TPA_T_FAST_RING);
TPA_CHECK(offsetof(struct tp_thread, fast_ctl), TPA_T_FAST_CTL);
TPA_CHECK(offsetof(struct tp_thread, fast_data), TPA_T_FAST_DATA);
TPA_CHECK(offsetof(struct tp_thread, fast_frames), TPA_T_FAST_FRAMES);
TPA_CHECK(offsetof(struct tp_thread, depth), TPA_T_DEPTH);
TPA_CHECK(offsetof(struct tp_thread, last_hi), TPA_T_LAST_HI);
TPA_CHECK(offsetof(struct tp_thread, lost_pending), TPA_T_LOST_PENDING);
TPA_CHECK(offsetof(struct tp_thread, cur_stack), TPA_T_CUR_STACK);
TPA_CHECK(offsetof(struct tp_thread, ring_stack), TPA_T_RING_STACK);
TPA_CHECK(offsetof(struct tp_thread, stack), TPA_T_STACK);
TPA_CHECK(sizeof(struct tp_thread), TPA_THREAD_SIZE);
TPA_CHECK(offsetof(struct tp_frame, slot), TPA_F_SLOT);
TPA_CHECK(offsetof(struct tp_frame, ret), TPA_F_RET);
TPA_CHECK(offsetof(struct tp_frame, site), TPA_F_SITE);
TPA_CHECK(offsetof(struct tp_frame, tsc), TPA_F_TSC);
TPA_CHECK(offsetof(struct tp_frame, child), TPA_F_CHILD);
TPA_CHECK(sizeof(struct tp_frame), TPA_FRAME_SIZE);
TPA_CHECK(TAT_EV_SITE_MAX, TPA_FRAME_SITE_MASK);
TPA_CHECK(TP_FRAME_STACK_SHIFT, TPA_FRAME_STACK_SHIFT);
TPA_CHECK(TP_FRAME_STACK_MASK, TPA_FRAME_STACK_MASK);
TPA_CHECK(TP_FRAME_RETVAL, TPA_FRAME_RETVAL);
TPA_CHECK(TP_FRAME_STATS, 1ull << TPA_FRAME_STATS_BIT);
TPA_CHECK(TP_FRAME_ENDED, 1ull << 63);
TPA_CHECK(offsetof(struct tat_ring_header, mode), TPA_H_MODE);
TPA_CHECK(offsetof(struct tat_ring_header, max_depth), TPA_H_MAX_DEPTH);
TPA_CHECK(offsetof(struct tat_thread_ctl, head), TPA_C_HEAD);
TPA_CHECK(offsetof(struct tat_thread_ctl, open_depth), TPA_C_OPEN_DEPTH);
TPA_CHECK(offsetof(struct tat_thread_ctl, tail), TPA_C_TAIL);
TPA_CHECK(offsetof(struct tat_frame, tsc), TPA_SF_TSC);
TPA_CHECK(offsetof(struct tat_frame, site), TPA_SF_SITE);
TPA_CHECK(offsetof(struct tat_frame, stack), TPA_SF_SITE + 4);
TPA_CHECK(sizeof(struct tat_frame), 1u << TPA_SF_SHIFT);
TPA_CHECK(TAT_FRAME_STATS, TPA_SF_STATS);
TPA_CHECK(offsetof(struct tat_stat, calls), TPA_STAT_CALLS);
TPA_CHECK(offsetof(struct tat_stat, total), TPA_STAT_TOTAL);
TPA_CHECK(offsetof(struct tat_stat, self), TPA_STAT_SELF);
TPA_CHECK(offsetof(struct tat_stat, max), TPA_STAT_MAX);
TPA_CHECK(offsetof(struct tat_stat, hist), TPA_STAT_HIST);
TPA_CHECK(sizeof(struct tat_stat), TPA_STAT_SIZE_DIV_128 * 128);
TPA_CHECK(TAT_HIST_BUCKETS, TPA_HIST_BUCKETS);
TPA_CHECK(TP_DEPTH_MAX, TPA_DEPTH_MAX);
TPA_CHECK(TAT_MODE_FLIGHT, TPA_MODE_FLIGHT);
TPA_CHECK(TAT_MODE_STATS, TPA_MODE_STATS);
TPA_CHECK(TAT_CHUNK_EVENTS, TPA_CHUNK_EVENTS);
TPA_CHECK((uint64_t)TAT_EV_EXIT << TAT_EV_TYPE_SHIFT, 1ull << TPA_EV_EXIT_BIT);
TPA_CHECK(TAT_EV_ENTRY, 0);
TPA_CHECK(TAT_EV_SITE_SHIFT, TPA_EV_SITE_SHIFT);
TPA_CHECK(TAT_EV_TSC_BITS, TPA_EV_TSC_BITS);
TPA_CHECK(TAT_EV_COMMIT_SHIFT, TPA_EV_COMMIT_BIT);
TPA_CHECK((uint64_t)TAT_EV_SPECIAL << TAT_EV_TYPE_SHIFT | (uint64_t)TAT_SUB_TIME << TAT_EV_SUB_SHIFT,
	  TPA_EV_TIME_WORD);
TPA_CHECK(TP_CT_STUB, 1u << TPA_CT_STUB_SHIFT);
#endif /* !__ASSEMBLER__ */
#endif /* TATTACH_TRAMP_ASM_H */
