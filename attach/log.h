/* SPDX-License-Identifier: MIT */
/*
 * Logging for the host-side libraries.  Libraries report through this and
 * return an error; only a program's main() decides to exit.
 */
#ifndef TATTACH_LOG_H
#define TATTACH_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

typedef void (*log_fn)(enum log_level level, const char *msg);

/* Route messages to @fn (NULL: stderr, prefixed with the program name). */
void log_set_handler(log_fn fn);
void log_set_level(enum log_level max);
void log_set_prog(const char *prog);

/* How many errors were logged so far (to never fail silently). */
unsigned log_errors(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
