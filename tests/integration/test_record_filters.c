// SPDX-License-Identifier: MIT
/*
 * Record-time filters: --enable -F/-N patches exactly the functions that
 * pass and leaves every other site a NOP, checked byte by byte in the
 * target's memory (/proc/PID/mem); a later --enable with other patterns
 * changes the patched set in place; --status says what is patched; a bad
 * pattern is a usage error.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc_harness.h"
#include "lib/ring_view.h"

#define TARGET "tests/targets/statswork"

static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

/* Does the call (or the jmp to the site's stub) at @addr land in one of
 * the trampoline copies? */
static int enters_trampoline(const struct tat_ring_header *h, uint64_t addr,
			     const uint8_t *b)
{
	int32_t rel;
	uint64_t to;

	if (b[0] != 0xe8 && b[0] != 0xe9)
		return 0;
	memcpy(&rel, b + 1, 4);
	to = addr + 5 + (int64_t)rel;
	for (uint32_t k = 0; k < h->tramp_count && k < TAT_TRAMP_MAX; k++)
		if (to >= h->tramp_addr[k] && to < h->tramp_addr[k] + h->tramp_size)
			return 1;
	return 0;
}

/*
 * Every site of the ring: a function whose name matches @want_re (with
 * @invert: does not match it) calls the trampoline, every other one holds the NOP form, in the process's
 * memory and in the site table.  Returns how many call the trampoline.
 */
static unsigned check_sites(pid_t pid, const char *want_re, int invert)
{
	const struct tat_site *sites;
	struct ring_view v;
	char path[64];
	unsigned on = 0;
	regex_t rx;
	int fd;

	cr_assert_eq(regcomp(&rx, want_re, REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(ring_view_open(pid, &v), 0);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	sites = (const void *)((const char *)v.base + v.h->site_off);
	for (uint32_t i = 1; i < v.h->site_count; i++) {
		uint8_t b[8];
		int want = (regexec(&rx, v.names[i], 0, NULL, 0) == 0) != invert;

		cr_assert_eq(pread(fd, b, sites[i].len, (off_t)sites[i].addr), sites[i].len);
		if (want) {
			cr_assert(enters_trampoline(v.h, sites[i].addr, b),
				  "%s: not calling the trampoline (%02x %02x)", v.names[i], b[0], b[1]);
			cr_assert_eq(sites[i].patched, 1, "%s", v.names[i]);
			on++;
		} else {
			cr_assert_arr_eq(b, nop5, 5, "%s: not a NOP: %02x %02x %02x %02x %02x",
					 v.names[i], b[0], b[1], b[2], b[3], b[4]);
			cr_assert(sites[i].len == 5 || b[5] == 0x90, "%s", v.names[i]);
			cr_assert_eq(sites[i].patched, 0, "%s", v.names[i]);
		}
	}
	cr_assert_eq(v.h->patched_sites, on);
	close(fd);
	ring_view_close(&v);
	regfree(&rx);
	return on;
}

Test(record_filters, only_matching_sites_are_patched_and_changes_apply_in_place,
     .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;
	struct ring_view v;
	unsigned all;

	target_start(&t, build_path(TARGET));
	cr_assert_eq(tattach(t.pid, "--enable -t 8 -b 64K -F mid -F nap.*", &out, &err), 0,
		     "%s", err);
	cr_assert_eq(check_sites(t.pid, "^(mid|nap.*)$", 0), 3, "mid, nap, nap_thread");
	cr_assert_eq(tattach(t.pid, "--status -v", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "patched:      3 of "), "%s", out);
	cr_assert(strstr(out, " mid\n") && strstr(out, " nap\n") && strstr(out, " nap_thread\n"),
		  "%s", out);
	cr_assert(!strstr(out, " leaf\n"), "%s", out);

	/* only the patched functions record: mid() yes, leaf() no */
	cr_assert_str_eq(target_cmd(&t, "mids 5"), "done");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	{
		uint64_t ent, ex;

		ring_view_events(&v, ring_view_site(&v, "mid"), &ent, &ex);
		cr_assert_eq(ent, 5);
		ring_view_events(&v, ring_view_site(&v, "leaf"), &ent, &ex);
		cr_assert_eq(ent, 0);
	}
	ring_view_close(&v);

	/* other patterns: the set changes in place (nap and nap_thread
	 * unpatched, leaf patched), -N wins over -F */
	cr_assert_eq(tattach(t.pid, "--enable -F ^(mid|leaf|deep)$ -N ^deep$", &out, &err), 0,
		     "%s", err);
	cr_assert(strstr(out, "2 sites not matching the filters made NOPs again"), "%s", out);
	cr_assert_eq(check_sites(t.pid, "^(mid|leaf)$", 0), 2);
	/* the same patterns again: nothing to do */
	cr_assert_eq(tattach(t.pid, "--enable -F ^(mid|leaf|deep)$ -N ^deep$", &out, &err), 0,
		     "%s", err);
	cr_assert(strstr(out, "already enabled"), "%s", out);
	/* -N alone: everything but mid */
	cr_assert_eq(tattach(t.pid, "--enable -N ^mid$", &out, &err), 0, "%s", err);
	all = check_sites(t.pid, "^mid$", 1);
	/* no pattern: every site */
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_eq(check_sites(t.pid, ".", 0), all + 1);
	/* one site left, one turned off: the messages say so in the singular */
	cr_assert_eq(tattach(t.pid, "--enable -F ^mid$", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing disabled: 1 site is a NOP again, "), "%s", out);
	target_stop(&t);
	free(out);
	free(err);
}

Test(record_filters, no_match_is_an_error_and_the_process_is_untouched, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;

	target_start(&t, build_path(TARGET));
	cr_assert_eq(tattach(t.pid, "--enable -F ^no_such_function$", &out, &err), 1);
	cr_assert(strstr(err, "no function of pid"), "%s", err);
	target_stop(&t);
	free(out);
	free(err);
}

Test(record_filters, invalid_regex_is_one_line_and_exit_2)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(1, "--enable -F mid(", &out, &err), 2);
	cr_assert(strstr(err, "tattach: invalid regular expression 'mid(': "), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "more than one line:\n%s", err);
	cr_assert_eq(tattach(1, "--status -F mid", &out, &err), 2);
	free(out);
	free(err);
}
