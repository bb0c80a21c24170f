/* SPDX-License-Identifier: MIT */
/*
 * Where the time of one tattach run goes, phase by phase, for finding what
 * keeps a process stopped.  Silent unless TATTACH_TIMING is set in the
 * environment; then each mark prints one line to stderr:
 *
 *   tattach: timing: rewrite sites      1.234 ms     12 faults  (3.456 ms since start)
 */
#ifndef TATTACH_PHASE_TIME_H
#define TATTACH_PHASE_TIME_H

/* Start counting (the time of the first mark is measured from here). */
void phase_start(void);
/* The time since the previous mark (or the start), labelled @what. */
void phase_mark(const char *what);
/* One line of what was decided, not timed ("tattach: timing: ..."), when
 * TATTACH_TIMING is set. */
void phase_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
