// SPDX-License-Identifier: MIT
/*
 * Liveness of the traced process, for tread -f and for deciding whether a
 * reserved but unwritten ring word may still be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/input/proc_alive.h"

int tread_parse_proc_stat(const char *line, char *state, uint64_t *start_time)
{
	/* comm (field 2) may hold spaces and parentheses: skip to the last ')'. */
	const char *p = strrchr(line, ')');
	char *end;

	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	p += 2;
	*state = *p;
	/* p is at field 3; field 22 is 19 fields further. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	errno = 0;
	*start_time = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EINVAL;
	return 0;
}

bool tread_process_alive(int pid, uint64_t start_time)
{
	char path[64], buf[1024], state;
	uint64_t started;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return false;
		return kill(pid, 0) == 0 || errno == EPERM;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;	/* the process went away between open and read */
	buf[n] = 0;
	if (tread_parse_proc_stat(buf, &state, &started))
		return kill(pid, 0) == 0 || errno == EPERM;
	if (state == 'Z' || state == 'X')
		return false;
	/* 0: the file does not know the start time; the pid must do. */
	return start_time == 0 || started == start_time;
}
