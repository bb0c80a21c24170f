/* SPDX-License-Identifier: MIT */
/*
 * Turning tread's function graph into a compact canonical string per
 * thread, so that a test can compare a whole call tree in one assertion:
 *
 *   dispatch() {            ->  "dispatch(work(a(b(leaf) c(leaf leaf))))"
 *     work() {
 *       a() { ...
 *
 * Siblings are separated by one space; "[lost]" stands for a loss marker,
 * "?name)" for the end of a function whose start was not traced, and
 * "!)" for the end of a call that --disable cut loose while it was still
 * running ("read(!)", "handle(work!)").
 */
#ifndef TATTACH_TEST_GRAPH_PARSE_H
#define TATTACH_TEST_GRAPH_PARSE_H

#include <stddef.h>

/* Canonical string of the calls of thread @tid (malloc'ed), without the
 * calls that were running when tracing began (tattach adopts them). */
char *graph_canon(const char *tread_output, int tid);
/* The same with those calls, as "^f(". */
char *graph_canon_early(const char *tread_output, int tid);
/* The same, of sub-stack @stack of thread @tid only: the lines after a
 * "stack N" comment line of that thread belong to stack N (0 before any). */
char *graph_canon_stack(const char *tread_output, int tid, long stack);
/* graph_canon() of a merged graph's lines whose PID column reads @proc
 * ("1234", or "1234:1" for a program pid 1234 ran before an exec). */
char *graph_canon_proc(const char *tread_output, const char *proc, int tid);
/* Distinct thread ids in the output, in order of appearance. */
size_t graph_tids(const char *tread_output, int *tids, size_t max);
/* Number of lines naming function @name as an entry or a leaf. */
size_t graph_count_calls(const char *tread_output, const char *name);
/* Append @s to the malloc'ed *@buf (grown as needed). */
void str_append(char **buf, const char *s);
/* Calls of @fn in "tread --report" output (clones "fn.constprop.0" count
 * as @fn), or -1. */
long report_calls(const char *report, const char *fn);
/* The canonical tree of calltree's work(n). */
char *expect_work(long n);
/* The text of every graph line (after "| " and the indentation), one per
 * line, main()'s own lines left out (malloc'ed). */
char *graph_texts(const char *tread_output);
/* The texts of @tid's lines that are calls of one of @names (a NULL-ended
 * list: "f(" begins the text), one per line, malloc'ed. */
char *graph_call_lines(const char *tread_output, int tid, const char *const *names);

#endif
