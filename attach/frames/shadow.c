// SPDX-License-Identifier: MIT
/* The trampoline's per-thread state, from tattach (shadow.h). */
#include <errno.h>
#include <stddef.h>
#include <sys/uio.h>

#include "attach/frames/shadow.h"

static int transfer(pid_t pid, uint64_t addr, void *buf, size_t len, int write)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0) :
			    process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int shadow_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	return transfer(pid, addr, buf, len, 0);
}

int shadow_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	return transfer(pid, addr, (void *)buf, len, 1);
}

int shadow_open(struct shadow *s, pid_t pid, const struct tat_ring_header *hdr)
{
	int ret;

	s->pid = pid;
	s->state_addr = hdr->private_addr;
	if (!s->state_addr || hdr->state == TAT_STATE_NEW)
		return -ENOENT;
	ret = shadow_read(pid, s->state_addr, &s->st, sizeof(s->st));
	if (ret)
		return ret;
	if (s->st.magic != TP_STATE_MAGIC || s->st.thread_bits > 20)
		return -EBADMSG;
	return 0;
}

int64_t shadow_find_thread(const struct shadow *s, uint64_t key, int *is_new)
{
	uint32_t n = 1u << s->st.thread_bits;
	uint32_t h = (uint32_t)hash64(key, s->st.thread_bits);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t idx = (h + i) & (n - 1);
		uint64_t cur;
		int ret = shadow_read(s->pid, shadow_thread_addr(s, idx), &cur, sizeof(cur));

		if (ret)
			return ret;
		if (cur == key || cur == 0) {
			*is_new = cur == 0;
			return idx;
		}
	}
	return -ENOSPC;
}

uint64_t shadow_unhijack(void *ctx, uint64_t slot)
{
	const struct shadow_thread *t = ctx;
	struct tp_frame f;
	uint64_t depth;

	if (shadow_read(t->s->pid, t->addr + offsetof(struct tp_thread, depth), &depth,
			sizeof(depth)))
		return 0;
	if (depth > TP_DEPTH_MAX)
		depth = TP_DEPTH_MAX;
	while (depth-- > 0) {
		if (shadow_read(t->s->pid, t->addr + offsetof(struct tp_thread, stack) +
				depth * sizeof(f), &f, sizeof(f)))
			return 0;
		/* A tail call's frame shares its caller's slot, and what it
		 * kept is the caller's return into the trampoline: the
		 * caller's frame, below it, has the real address. */
		if (f.slot == slot && !shadow_is_tramp_return(t->s, f.ret))
			return f.ret;
	}
	return 0;
}

void shadow_lookup_lengths(const uint64_t *keys, uint32_t bits, struct shadow_lookup *out)
{
	uint32_t n = 1u << bits;

	*out = (struct shadow_lookup){ 0 };
	for (uint32_t i = 0; i < n; i++) {
		uint32_t reads;

		if (!keys[i])
			continue;
		/* linear probing: the search reads every key from the slot
		 * the key hashes to up to this one, wrapping at the end */
		reads = ((i - (uint32_t)hash64(keys[i], bits)) & (n - 1)) + 1;
		out->taken++;
		out->reads += reads;
		if (reads > out->longest)
			out->longest = reads;
	}
}

int shadow_read_keys(const struct shadow *s, uint64_t *keys)
{
	uint32_t n = 1u << s->st.thread_bits;
	struct iovec local[256], remote[256];

	/* one key per slot, a slot apart: a batch of them per system call */
	for (uint32_t i = 0; i < n;) {
		uint32_t m = n - i < 256 ? n - i : 256;
		ssize_t got;

		for (uint32_t j = 0; j < m; j++) {
			local[j] = (struct iovec){ &keys[i + j], sizeof(keys[0]) };
			remote[j] = (struct iovec){
				(void *)(uintptr_t)(shadow_thread_addr(s, i + j) +
						    offsetof(struct tp_thread, key)),
				sizeof(keys[0]) };
		}
		got = process_vm_readv(s->pid, local, m, remote, m, 0);
		if (got < 0)
			return -errno;
		if ((size_t)got != m * sizeof(keys[0]))
			return -EIO;
		i += m;
	}
	return 0;
}
