// SPDX-License-Identifier: MIT
/*
 * tattach -o FILE -- COMMAND: once the command has ended, its trace is
 * saved by tread ('tread -i RING --save FILE'), the one program that knows
 * the saved format.  tattach and tread are built and installed side by
 * side, so tread is looked for next to this tattach first, then in PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/launch.h"
#include "attach/log.h"

/* "DIR/tread" for the folder tattach runs from, or "tread" (PATH). */
static void tread_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			if ((size_t)snprintf(buf, len, "%s/tread", self) < len &&
			    access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "tread");
}

int launch_save(const char *ring, const char *file)
{
	char tread[PATH_MAX + 8];
	char *argv[] = { tread, "-i", (char *)ring, "--save", (char *)file, NULL };
	int status;
	pid_t pid;

	tread_path(tread, sizeof(tread));
	pid = fork();
	if (pid < 0) {
		pr_err("cannot run tread to save the trace: fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		/* standard output is the command's: whatever tread says goes
		 * with tattach's own messages */
		dup2(2, 1);
		execvp(tread, argv);
		fprintf(stderr, "tattach: cannot run %s to save the trace: %s\n", tread,
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			pr_err("waiting for tread: %s", strerror(errno));
			return 1;
		}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
