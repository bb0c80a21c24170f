// SPDX-License-Identifier: MIT
/*
 * Thread interactions (consumer/export/interactions.c): with --libcalls,
 * tattach records the object of each synchronisation call, and tread
 * pairs the producer's pthread_cond_signal(&ready) with the end of the
 * consumer's pthread_cond_wait(&ready) it ended (tests/targets/prodcons.c
 * makes exactly one such pair per item).  Checked in the Chrome export
 * (flow events) and in the --html viewer, in a real browser (arrows).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/browser.h"
#include "lib/proc_harness.h"

#define ITEMS 5

static struct target t;
static int consumer;
static unsigned long long ready_cond, lock_addr;

static void start(void)
{
	target_start(&t, build_path("tests/targets/prodcons"));
	ring_remove(t.pid);
	cr_assert(sscanf(t.ready, "ready %d %llx %llx", &consumer, &ready_cond, &lock_addr) == 3,
		  "%s", t.ready);
}

static void stop(void)
{
	pid_t pid = t.pid;

	target_stop(&t);
	ring_remove(pid);
}

TestSuite(interactions, .init = start, .fini = stop, .timeout = 180);

/* Enable, then one item whose wait began before tracing (no pair: its
 * start is not in the trace), then ITEMS items, each one pair. */
static void trace_items(void)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(t.pid, "--enable --libcalls", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "produce 1"), "done");
	cr_assert_str_eq(target_cmd(&t, "produce 5"), "done");
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(interactions, chrome_flows_from_signal_to_the_wait_it_ended)
{
	char path[128], arg[160], name[64], want[160], *out = NULL, *err = NULL, *text;

	trace_items();
	snprintf(path, sizeof(path), "/tmp/tattach-flows-%d.json", (int)getpid());
	snprintf(arg, sizeof(arg), "--export chrome -o %s", path);
	cr_assert_eq(tread(t.pid, arg, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	text = file_text(path);
	unlink(path);
	/* one start in the producer, one end in the consumer, per item */
	snprintf(name, sizeof(name), "\"name\":\"cond 0x%llx\"", ready_cond);
	snprintf(want, sizeof(want), "{\"ph\":\"s\",\"id\":");
	cr_expect_eq(count(text, name), 2 * ITEMS, "%s", text);
	snprintf(want, sizeof(want), "%s,\"cat\":\"sync\",\"pid\":%d,\"tid\":%d,", name,
		 (int)t.pid, (int)t.pid);
	cr_expect_eq(count(text, want), ITEMS, "starts in the producer:\n%s", text);
	snprintf(want, sizeof(want), "%s,\"cat\":\"sync\",\"pid\":%d,\"tid\":%d,", name,
		 (int)t.pid, consumer);
	cr_expect_eq(count(text, want), ITEMS, "ends in the consumer:\n%s", text);
	/* every flow's end says how long the consumer waited */
	cr_expect_eq(count(text, "\"ph\":\"f\",\"bp\":\"e\""), count(text, "\"waited_ns\":"), "%s", text);
	free(text);
}

Test(interactions, viewer_draws_an_arrow_per_pair)
{
	char path[128], arg[160], why[512] = "", want[160], *out = NULL, *err = NULL, *text, *p;
	size_t flows = 0, ready = 0;

	trace_items();
	snprintf(path, sizeof(path), "/tmp/tattach-flows-%d.html", (int)getpid());
	snprintf(arg, sizeof(arg), "--html %s", path);
	cr_assert_eq(tread(t.pid, arg, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	text = browser_selftest(path, "selftest", why, sizeof(why));
	unlink(path);
	cr_assert_not_null(text, "browser: %s", why);
	cr_expect(strstr(text, "\nerrors 0\n"), "%s", text);
	snprintf(want, sizeof(want), "flow cond 0x%llx from lane ", ready_cond);
	for (p = text; (p = strstr(p, "\nflow ")); p++) {
		flows++;
		ready += !strncmp(p + 1, want, strlen(want));
	}
	cr_expect_eq(ready, ITEMS, "%s", text);
	/* the whole trace in view: every arrow drawn */
	snprintf(want, sizeof(want), "\nflows drawn %zu of %zu\n", flows, flows);
	cr_expect(strstr(text, want), "%s", text);
	free(text);
}
