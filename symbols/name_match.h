/* SPDX-License-Identifier: MIT */
/*
 * Function-name patterns, as both tattach (-F/-N at record time) and tread
 * (-F/-N, --hist FUNC) understand them, so that a pattern that selects a
 * function in tread's output selects the same function in tattach.
 *
 * A pattern is a POSIX extended regular expression matched against the
 * WHOLE name ("read" is read, not pread or read_pipe; "read.*" is both),
 * or against the name without a compiler clone suffix: "parse" also
 * selects "parse.constprop.0" and "parse.isra.0".
 */
#ifndef TATTACH_SYMBOLS_NAME_MATCH_H
#define TATTACH_SYMBOLS_NAME_MATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * name_match_compile - compile @pattern into @re (free with regfree())
 * @why, @len: on failure, regcomp's reason (without the pattern)
 *
 * Returns 0, -EINVAL for a bad pattern, -ENOMEM.
 */
int name_match_compile(regex_t *re, const char *pattern, char *why, size_t len);

/* Does @name, or @name without its ".suffix" clone tail, match @re? */
bool name_match(const regex_t *re, const char *name);

#endif /* TATTACH_SYMBOLS_NAME_MATCH_H */
