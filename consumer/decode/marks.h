/* SPDX-License-Identifier: MIT */
/*
 * Marks from the program (include/tattach/mark.h): the calls of its hook
 * functions, which tattach records with their arguments, read back as
 * marks, labels and counters for the views.
 */
#ifndef TATTACH_CONSUMER_MARKS_H
#define TATTACH_CONSUMER_MARKS_H

#include <stddef.h>
#include <stdint.h>

enum tread_mark_kind {
	TREAD_MARK_NONE = 0,
	TREAD_MARK_MARK,	/* tattach_mark(text) */
	TREAD_MARK_LABEL,	/* tattach_label(fmt, ...) */
	TREAD_MARK_COUNTER,	/* tattach_counter(name, value) */
};

/* Which hook the function called @name is (a clone suffix allowed). */
enum tread_mark_kind tread_mark_kind_of(const char *name);

/* "mark", "label", "counter" */
const char *tread_mark_kind_name(enum tread_mark_kind kind);

/*
 * tread_mark_read - the text (escaped as C would, without quotes: only
 * printable ASCII) and, for a counter, the value of a hook call whose
 * arguments are the VALUES record @id.  Returns 0, or -EINVAL when the
 * record is not what tattach records for that hook (@text then "?").
 */
int tread_mark_read(uint64_t id, enum tread_mark_kind kind, char *text, size_t len,
		    int64_t *value);

#endif
