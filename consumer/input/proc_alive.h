/* SPDX-License-Identifier: MIT */
/*
 * Is the process a ring file belongs to still running?
 *
 * A pid alone can be reused; the pair (pid, start time in clock ticks
 * since boot, field 22 of /proc/PID/stat) cannot.  A zombie counts as
 * gone: it will never write another event.
 */
#ifndef TATTACH_CONSUMER_PROC_ALIVE_H
#define TATTACH_CONSUMER_PROC_ALIVE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * tread_process_alive - true if @pid runs and started at @start_time
 *
 * When /proc cannot tell (hidden), falls back to kill(pid, 0).  A
 * @start_time of 0 means unknown: then only the pid is checked.
 */
bool tread_process_alive(int pid, uint64_t start_time);

/*
 * tread_parse_proc_stat - state and start time from a /proc/PID/stat line
 *
 * Returns 0, or -EINVAL if the line does not have them.
 */
int tread_parse_proc_stat(const char *line, char *state, uint64_t *start_time);

#endif /* TATTACH_CONSUMER_PROC_ALIVE_H */
