// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "attach/log.h"

static log_fn handler;
static enum log_level max_level = LOG_WARN;
static const char *prog = "tattach";
static unsigned errors_logged;

unsigned log_errors(void)
{
	return errors_logged;
}

void log_set_handler(log_fn fn)
{
	handler = fn;
}

void log_set_level(enum log_level max)
{
	max_level = max;
}

void log_set_prog(const char *name)
{
	prog = name;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level == LOG_ERROR)
		errors_logged++;
	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (handler) {
		handler(level, buf);
		return;
	}
	fprintf(stderr, "%s: %s%s\n", prog,
		level == LOG_WARN ? "warning: " : "", buf);
}
