/* SPDX-License-Identifier: MIT */
/*
 * Integration-test helpers: start a target under our control, talk to it
 * over pipes (every wait is for a real line, never a sleep), run tattach
 * and tread and capture what they print.
 */
#ifndef TATTACH_TEST_PROC_HARNESS_H
#define TATTACH_TEST_PROC_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct target {
	pid_t pid;
	int in;		/* its stdin */
	FILE *out;	/* its stdout */
	char ready[128];	/* its first line, "ready PID [...]" */
	int keep_ring;		/* target_stop/kill leave its ring file */
	int reaped;		/* target_cmd() saw it end: its wait status */
	int status;
};

/* Path of a built file: $TATTACH_BUILD (default "build") + "/" + rel. */
const char *build_path(const char *rel);

/* Start @bin, wait for its "ready PID" line.  Fails the test otherwise. */
void target_start(struct target *t, const char *bin);
/* The same, running as @uid/@gid (the test must be root). */
void target_start_as(struct target *t, const char *bin, uid_t uid, gid_t gid);
/* Copy @bin into a fresh folder every user can reach; returns the copy's
 * path (static buffer).  For running programs as another user. */
const char *public_copy(const char *bin);
/* Send one command line, return its one-line answer (static buffer), or,
 * when none comes, how the target ended: "(no answer: pid N killed by
 * signal 11, core dumped)", "... exited with status 3", "... still
 * running" (after 60 s). */
const char *target_cmd(struct target *t, const char *cmd);
/* Send "quit", close its stdin and reap it; returns the wait status.
 * Its ring file (and any temporary one a killed tattach left) goes too,
 * unless t->keep_ring. */
int target_stop(struct target *t);
/* SIGKILL and reap, for cleanup. */
void target_kill(struct target *t);

/* Run argv, capture stdout and stderr (malloc'ed, NUL-terminated). */
int run_capture(char *const argv[], char **out, char **err);
/* Run a shell command line, printf-style; it must exit 0 (the test fails
 * with the line and its stderr otherwise). */
void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* tattach -p PID <space-separated args>; returns the exit status. */
int tattach(pid_t pid, const char *args, char **out, char **err);
/* tread -p PID <space-separated args>; returns the exit status. */
int tread(pid_t pid, const char *args, char **out, char **err);
/* tattach --disable, then tread's whole output (malloc'ed); both must
 * succeed (Criterion assertions) */
char *disable_then_read(pid_t pid);
/* Remove the ring file of @pid (and those of the programs it ran before
 * an exec, tattach-PID.START.imageN.ring). */
void ring_remove(pid_t pid);
/* @pid's start time, as /proc/PID/stat and the ring's header say it. */
uint64_t proc_start_time(pid_t pid);
/* The state letter of /proc/PID/task/TID/stat ('S', 'T', 'Z'...), or 0
 * if there is none. */
char task_state(pid_t pid, pid_t tid);
/* Where @pid's first mapping of the file named @name (its base name)
 * begins, or 0 if none; @code: its first executable mapping (in a
 * gcc-built ELF the .init section is there: code run once, at load). */
uint64_t mapped_at(pid_t pid, const char *name, int code);
/* An int3 at @addr of @pid, written through /proc/PID/mem, as a
 * debugger's breakpoint is: the code in memory no longer its file's. */
void poke_breakpoint(pid_t pid, uint64_t addr);
/* The whole text of the file @path (malloc'ed); fails the test if it
 * cannot be read. */
char *file_text(const char *path);

#endif
