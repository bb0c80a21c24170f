// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/graph_parse.h"

void str_append(char **buf, const char *s)
{
	size_t old = *buf ? strlen(*buf) : 0, add = strlen(s);
	char *n = realloc(*buf, old + add + 1);

	if (!n)
		abort();
	memcpy(n + old, s, add + 1);
	*buf = n;
}

/* A growing string that knows its length: canonical forms can be long. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t add = strlen(s);

	if (b->len + add + 1 > b->cap) {
		b->cap = 2 * (b->len + add + 1);
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
	memcpy(b->s + b->len, s, add + 1);
	b->len += add;
}

/*
 * Split one graph line "<duration> [  tid] | <indent><text>" into tid and
 * text.  Returns 0 for comment or malformed lines.  Only the line itself
 * is looked at (no sscanf, strchr or strstr on the rest of the output,
 * which would make reading a long graph quadratic).
 */
static int split_line(const char *line, int *tid, const char **text, size_t *len)
{
	const char *end = strchr(line, '\n'), *lb, *bar;
	size_t n = end ? (size_t)(end - line) : strlen(line);
	char *after;
	long v;

	if (line[0] == '#')
		return 0;
	lb = memchr(line, '[', n);
	if (!lb)
		return 0;
	v = strtol(lb + 1, &after, 10);
	if (after == lb + 1 || after > line + n)
		return 0;
	*tid = (int)v;
	bar = memmem(lb, n - (size_t)(lb - line), "] | ", 4);
	if (!bar)
		return 0;
	*text = bar + 4;
	while (*text < line + n && **text == ' ')
		(*text)++;
	*len = (size_t)(line + n - *text);
	return 1;
}

#define EARLY_NOTE " /* entered before tracing */"
#define CUT_NOTE " /* still running at --disable */"

/*
 * Is the PID column of a merged graph's @line (the word before its '[',
 * "1234" or "1234:1") @proc?  Always when @proc is NULL.
 */
static int proc_is(const char *line, const char *proc)
{
	const char *end = strchr(line, '\n'), *lb, *w;
	size_t n = end ? (size_t)(end - line) : strlen(line);

	if (!proc)
		return 1;
	lb = memchr(line, '[', n);
	if (!lb)
		return 0;
	while (lb > line && lb[-1] == ' ')
		lb--;
	for (w = lb; w > line && w[-1] != ' '; w--)
		;
	return (size_t)(lb - w) == strlen(proc) && !memcmp(w, proc, (size_t)(lb - w));
}

static char *canon(const char *out, const char *proc, int want, long stack, int early);

char *graph_canon(const char *out, int want)
{
	return canon(out, NULL, want, -1, 0);
}

char *graph_canon_proc(const char *out, const char *proc, int want)
{
	return canon(out, proc, want, -1, 0);
}

char *graph_canon_stack(const char *out, int want, long stack)
{
	return canon(out, NULL, want, stack, 0);
}

char *graph_canon_early(const char *out, int want)
{
	return canon(out, NULL, want, -1, 1);
}

/* @proc NULL: the lines of any process; @stack -1: every line of the
 * thread, whatever its stack; @early: keep the calls that were running
 * when tracing began, as "^f(" */
static char *canon(const char *out, const char *proc, int want, long stack, int early)
{
	size_t nl = strlen(EARLY_NOTE);
	struct sbuf canon = { 0 };
	int need_sep = 0;
	long cur = 0;

	for (const char *line = out; line && *line;) {
		const char *next = strchr(line, '\n');
		const char *text;
		char name[256];
		size_t len;
		int tid;

		if (split_line(line, &tid, &text, &len) && tid == want && len < sizeof(name) &&
		    proc_is(line, proc)) {
			memcpy(name, text, len);
			name[len] = 0;
			if (sscanf(name, "/* stack %ld */", &cur) == 1 || (stack >= 0 && cur != stack)) {
				/* a switch, or another stack's line */
			} else if (!early && len > nl && !strcmp(name + len - nl, EARLY_NOTE)) {
				/* a call running when tracing began: left out */
			} else if (!strncmp(name, "/* lost", 7)) {
				sb_add(&canon, need_sep ? " [lost]" : "[lost]");
				need_sep = 1;
			} else if (name[0] == '}') {
				/* closes "f", whether or not its entry was traced:
				 * "} [= V] " then f's name in a comment */
				char *f = strstr(name, "/* ");

				if (f && strstr(f, "not traced")) {
					char *sp = strchr(f + 3, ' ');

					if (sp)
						*sp = 0;
					sb_add(&canon, need_sep ? " ?" : "?");
					sb_add(&canon, f + 3);
				}
				/* cut loose by --disable while still running */
				if (strstr(name, CUT_NOTE))
					sb_add(&canon, "!");
				sb_add(&canon, ")");
				need_sep = 1;
			} else if (name[0] == '/' || !strchr(name, '(')) {
				/* a mark, a label, a note: not a call */
			} else if (len > 31 && !strcmp(name + len - 31,
							 " { /* entered before tracing */")) {
				/* "^f(": f was running when tracing began */
				*strchr(name, '(') = 0;
				if (need_sep)
					sb_add(&canon, " ");
				sb_add(&canon, "^");
				sb_add(&canon, name);
				sb_add(&canon, "(");
				need_sep = 0;
			} else if (len > 2 && !strcmp(name + len - 2, " {")) {
				/* "f() {", "f(x=1) {" */
				*strchr(name, '(') = 0;
				if (need_sep)
					sb_add(&canon, " ");
				sb_add(&canon, name);
				sb_add(&canon, "(");
				need_sep = 0;
			} else if (name[len - 1] == ';') {
				/* "f();", "f(x=1);", "f(x=1) = 2;" */
				*strchr(name, '(') = 0;
				if (need_sep)
					sb_add(&canon, " ");
				sb_add(&canon, name);
				need_sep = 1;
			}
		}
		line = next ? next + 1 : NULL;
	}
	sb_add(&canon, "");
	return canon.s;
}

size_t graph_tids(const char *out, int *tids, size_t max)
{
	size_t n = 0;

	for (const char *line = out; line && *line;) {
		const char *next = strchr(line, '\n');
		const char *text;
		size_t len, i;
		int tid;

		if (split_line(line, &tid, &text, &len)) {
			for (i = 0; i < n && tids[i] != tid; i++)
				;
			if (i == n && n < max)
				tids[n++] = tid;
		}
		line = next ? next + 1 : NULL;
	}
	return n;
}

size_t graph_count_calls(const char *out, const char *fn)
{
	size_t count = 0, fl = strlen(fn);

	for (const char *line = out; line && *line;) {
		const char *next = strchr(line, '\n');
		const char *text;
		size_t len;
		int tid;

		if (split_line(line, &tid, &text, &len) && len > fl &&
		    !strncmp(text, fn, fl) && text[fl] == '(')
			count++;
		line = next ? next + 1 : NULL;
	}
	return count;
}

char *expect_work(long n)
{
	char *s = NULL;

	str_append(&s, "work(");
	for (long i = 0; i < n; i++)
		str_append(&s, i ? " a(b(leaf) c(leaf leaf))" : "a(b(leaf) c(leaf leaf))");
	str_append(&s, ")");
	return s;
}

/*
 * Calls of @fn in "tread --report" output (the last column names the
 * function; gcc's clones such as "fn.constprop.0" count as @fn), or -1.
 */
long report_calls(const char *report, const char *fn)
{
	size_t fl = strlen(fn);

	for (const char *line = report; line && *line;) {
		const char *next = strchr(line, '\n');
		size_t len = next ? (size_t)(next - line) : strlen(line);
		const char *name = line + len;
		long calls;

		while (name > line && name[-1] != ' ')
			name--;
		if (line[0] != '#' && !strncmp(name, fn, fl) &&
		    (name + fl == line + len || name[fl] == '.') &&
		    sscanf(line, "%ld", &calls) == 1)
			return calls;
		line = next ? next + 1 : NULL;
	}
	return -1;
}

char *graph_texts(const char *graph)
{
	char *res = NULL;

	for (const char *line = graph; line && *line;) {
		const char *end = strchr(line, '\n'), *bar = strstr(line, "| ");

		if (!end)
			end = line + strlen(line);
		if (line[0] != '#' && bar && bar < end) {
			const char *s = bar + 2;
			char buf[512];

			while (*s == ' ')
				s++;
			snprintf(buf, sizeof(buf), "%.*s\n", (int)(end - s), s);
			if (strncmp(buf, "main()", 6) && strncmp(buf, "} /* main */", 12))
				str_append(&res, buf);
		}
		line = *end ? end + 1 : end;
	}
	return res ? res : strdup("");
}

char *graph_call_lines(const char *graph, int tid, const char *const *names)
{
	char *res = NULL, tag[32];

	snprintf(tag, sizeof(tag), "[%6d] | ", tid);
	for (const char *p = strstr(graph, tag); p; p = strstr(p + 1, tag)) {
		const char *s = p + strlen(tag), *end = strchr(s, '\n');
		char line[256];
		int named = 0;

		while (*s == ' ')
			s++;
		for (const char *const *n = names; *n && !named; n++)
			named = !strncmp(s, *n, strlen(*n)) && s[strlen(*n)] == '(';
		if (!named)
			continue;
		snprintf(line, sizeof(line), "%.*s\n", (int)(end ? end - s : (long)strlen(s)), s);
		str_append(&res, line);
	}
	return res ? res : strdup("");
}

