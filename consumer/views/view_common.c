// SPDX-License-Identifier: MIT
/*
 * Helpers the summary views share: the event clock now, name matching,
 * log2 histograms.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "consumer/views/views.h"

uint64_t tread_view_now_tsc(const struct tread_ring *ring)
{
	const struct tat_ring_header *h = &ring->hdr;
	struct timespec ts;
	int64_t now, since;
	__int128 ticks;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	since = now - (int64_t)h->calib_mono_ns;
	ticks = (__int128)since * (__int128)h->tsc_hz / 1000000000;
	ticks += h->calib_tsc;
	return ticks < 0 ? 0 : ticks > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)ticks;
}

bool tread_view_thread_alive(int32_t pid, int32_t tid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return tid > 0 && stat(path, &st) == 0;
}

bool tread_view_name_is(const char *name, const char *func)
{
	size_t n = strlen(func);

	return !strncmp(name, func, n) && (name[n] == '\0' || name[n] == '.');
}

static unsigned bucket_of(uint64_t ns)
{
	return ns ? 64 - (unsigned)__builtin_clzll(ns) : 0;
}

void tread_hist_add(struct tread_log2_hist *h, uint64_t ns)
{
	h->count[bucket_of(ns)]++;
	h->total++;
}

void tread_hist_merge(struct tread_log2_hist *into, const struct tread_log2_hist *h)
{
	for (unsigned i = 0; i < TREAD_HIST_BUCKETS; i++)
		into->count[i] += h->count[i];
	into->total += h->total;
}

uint64_t tread_hist_percentile(const struct tread_log2_hist *h, double pct)
{
	double rank = h->total * pct / 100.0, before = 0;

	if (!h->total)
		return 0;
	for (unsigned i = 0; i < TREAD_HIST_BUCKETS; i++) {
		double lo, hi;

		if (!h->count[i])
			continue;
		if (before + h->count[i] < rank) {
			before += h->count[i];
			continue;
		}
		if (i == 0)
			return 0;
		lo = (double)(1ull << (i - 1));
		hi = lo * 2;
		return (uint64_t)(lo + (hi - lo) * (rank - before) / h->count[i]);
	}
	return UINT64_MAX;
}

/* bpftrace's labels: 1, 2, ... 512, 1K ... 512K, 1M ... */
static void power_label(unsigned power, char *buf, size_t len)
{
	static const char suffix[] = { 0, 'K', 'M', 'G', 'T', 'P', 'E' };
	unsigned s = power / 10;

	if (s >= sizeof(suffix))
		s = sizeof(suffix) - 1;
	if (s)
		snprintf(buf, len, "%llu%c", 1ull << (power - 10 * s), suffix[s]);
	else
		snprintf(buf, len, "%llu", 1ull << power);
}

#define BAR_WIDTH 52

int tread_hist_print(FILE *out, const char *title, const struct tread_log2_hist *h)
{
	unsigned first = TREAD_HIST_BUCKETS, last = 0;
	uint64_t max = 0;
	char label[64], lo[24], hi[24], bar[BAR_WIDTH + 1];

	for (unsigned i = 0; i < TREAD_HIST_BUCKETS; i++) {
		if (!h->count[i])
			continue;
		if (first == TREAD_HIST_BUCKETS)
			first = i;
		last = i;
		if (h->count[i] > max)
			max = h->count[i];
	}
	errno = 0;
	if (fprintf(out, "@%s:\n", title) < 0)
		goto fail;
	for (unsigned i = first; max && i <= last; i++) {
		unsigned w = (unsigned)((double)h->count[i] / (double)max * BAR_WIDTH);

		if (i == 0) {
			snprintf(label, sizeof(label), "[0]");
		} else if (i == 1) {
			snprintf(label, sizeof(label), "[1]");
		} else {
			power_label(i - 1, lo, sizeof(lo));
			power_label(i, hi, sizeof(hi));
			snprintf(label, sizeof(label), "[%s, %s)", lo, hi);
		}
		memset(bar, '@', w);
		bar[w] = '\0';
		if (fprintf(out, "%-16s%8llu |%-*s|\n", label,
			    (unsigned long long)h->count[i], BAR_WIDTH, bar) < 0)
			goto fail;
	}
	if (fputc('\n', out) == EOF)
		goto fail;
	return 0;
fail:
	return errno ? -errno : -EIO;
}
