// SPDX-License-Identifier: MIT
/*
 * Float, double, long double, complex, varargs, register and memory
 * structs, in every compile mode: the traced functions check their own
 * arguments and results, so a register the trampoline failed to preserve
 * turns "done" into "error".
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

struct mode {
	char name[32];
};

ParameterizedTestParameters(abi, modes)
{
	static const char *const names[] = {
		"pg.O0", "pg.O2", "pg-nopie.O2", "fentry.O0", "fentry.O2",
		"fentry-nopie.O2", "nop-mcount.O2", "record-mcount.O2", "pfe.O0", "pfe.O2",
	};
	static struct mode params[sizeof(names) / sizeof(names[0])];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		snprintf(params[i].name, sizeof(params[i].name), "%s", names[i]);
	return cr_make_param_array(struct mode, params, sizeof(params) / sizeof(params[0]));
}

ParameterizedTest(struct mode *m, abi, modes, .timeout = 120)
{
	char bin[64], *out = NULL, *err = NULL;
	struct target t;

	snprintf(bin, sizeof(bin), "tests/targets/abi.%s", m->name);
	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "run 10"), "done");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 300"), "done", "wrong results while traced (%s)",
			 m->name);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 10"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_count_calls(out, "f_float"), 300);
	cr_assert_eq(graph_count_calls(out, "f_varargs"), 300);
	cr_assert_eq(graph_count_calls(out, "f_lcomplex"), 300);
	cr_assert_eq(graph_count_calls(out, "f_big"), 300);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	free(out);
	free(err);
}
