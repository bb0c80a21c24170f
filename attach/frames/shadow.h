/* SPDX-License-Identifier: MIT */
/*
 * The trampoline's per-thread state (tramp_abi.h) in a held target, seen
 * from tattach: read to step through hijacked returns (--stacks), written
 * to adopt the calls that were running when tracing began (running.c).
 * Memory goes through process_vm_readv/writev: the threads are held.
 */
#ifndef TATTACH_ATTACH_SHADOW_H
#define TATTACH_ATTACH_SHADOW_H

#include <stdint.h>
#include <sys/types.h>

#include <tattach/ring.h>
#include "attach/ring/ringfile.h"
#include "attach/tramp/tramp_abi.h"

struct shadow {
	pid_t pid;
	uint64_t state_addr;
	struct tp_state st;
};

/* A thread slot as the trampoline keeps it, without its frames. */
#define SHADOW_HEAD offsetof(struct tp_thread, stack)

int shadow_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int shadow_write(pid_t pid, uint64_t addr, const void *buf, size_t len);

/* Read the state the ring file's header points at; -ENOENT when the
 * trampoline was never injected, -EBADMSG when it is not ours. */
int shadow_open(struct shadow *s, pid_t pid, const struct tat_ring_header *hdr);

/* Is @v a return into the trampoline (a hijacked slot holds one)? */
static inline int shadow_is_tramp_return(const struct shadow *s, uint64_t v)
{
	return tramp_return_in(&s->st, v);
}

/*
 * Is a thread at @ip running trampoline code?  In a copy or the rescue
 * page, or at a return into the trampoline outside them: the landing of
 * a stub near its module (tramp_abi.h), where its function has returned
 * and its frame is not yet popped.
 */
static inline int shadow_in_tramp(const struct shadow *s, const struct tat_ring_header *hdr,
				  uint64_t ip)
{
	return ring_in_tramp(hdr, ip) || shadow_is_tramp_return(s, ip);
}

/* Target address of thread slot @i. */
static inline uint64_t shadow_thread_addr(const struct shadow *s, uint32_t i)
{
	return s->st.threads + (uint64_t)i * sizeof(struct tp_thread);
}

/*
 * The slot of the thread whose thread pointer is @key, probed as the
 * trampoline does (hash, then linear); with @claim, the free slot where
 * the trampoline would claim one.  Returns the index, or -ENOENT /
 * -ENOSPC, or -errno.  *@is_new tells a free slot from the thread's own.
 */
int64_t shadow_find_thread(const struct shadow *s, uint64_t key, int *is_new);

/*
 * How long the trampoline's search for a thread's slot is (thread_find():
 * the slot its key hashes to, then the next ones, one key read each).
 * @keys: the key of each of the 1 << @bits slots, 0 for a free one.
 */
struct shadow_lookup {
	uint32_t taken;		/* slots with a key */
	uint64_t reads;		/* the key reads of finding each of them once */
	uint32_t longest;	/* of one search */
};
void shadow_lookup_lengths(const uint64_t *keys, uint32_t bits, struct shadow_lookup *out);

/* Read the keys of every slot of @s into @keys (1 << thread_bits). */
int shadow_read_keys(const struct shadow *s, uint64_t *keys);

/* For stackwalk(): @ctx is a struct shadow_thread. */
struct shadow_thread {
	const struct shadow *s;
	uint64_t addr;		/* of its struct tp_thread */
};
uint64_t shadow_unhijack(void *ctx, uint64_t slot);

#endif /* TATTACH_ATTACH_SHADOW_H */
