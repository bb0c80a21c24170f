/* SPDX-License-Identifier: MIT */
/* Reading /proc/PID: process identity, threads and memory map. */
#ifndef TATTACH_PROC_H
#define TATTACH_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
	char state;			/* R S D T t Z X ... */
	pid_t ppid;
	unsigned long flags;		/* PF_* */
	uint64_t start_time;		/* clock ticks since boot */
};

struct map {
	uint64_t start, end, offset;
	unsigned prot;			/* PROT_READ | PROT_WRITE | PROT_EXEC */
	int shared;
	uint64_t inode;
	char path[256];
};

struct maps {
	struct map *v;
	size_t n;
};

int proc_read_stat(pid_t pid, struct proc_stat *out);
/* @len bytes of @pid's memory at @addr, whether it runs or is held
 * (process_vm_readv()).  Returns 0, or -errno (-EIO: only part of it). */
int proc_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
/* The same for thread @tid of @pid (0: the process). */
int proc_read_task_stat(pid_t pid, pid_t tid, struct proc_stat *out);
/* Has thread @tid of @pid exited (gone from /proc, or a zombie)? */
int proc_thread_gone(pid_t pid, pid_t tid);
/*
 * A thread of @pid that has not exited: @pid itself while it lives, else
 * another (after pthread_exit() in main the leader is a zombie, and its
 * maps, mem, exe, root and auxv are empty or gone), or 0 if none.
 */
pid_t proc_live_thread(pid_t pid);
/* "/proc/PID/@file", through a live thread's folder if the leader exited. */
void proc_path(pid_t pid, const char *file, char *buf, size_t len);
/* What /proc/PID/task/TID/syscall shows of a thread that is not running:
 * the system call it is in (-1: none) and its first argument, and its
 * stack and instruction pointers. */
struct proc_syscall {
	long nr;
	uint64_t arg1, sp, pc;
};
/* 0, -EAGAIN when the thread runs (nothing to show), or -errno. */
int proc_task_syscall(pid_t pid, pid_t tid, struct proc_syscall *out);
/* Is thread @tid blocked in vfork() (or clone with CLONE_VFORK) until its
 * child calls exec or exits?  Such a thread cannot be stopped before. */
int proc_thread_in_vfork(pid_t pid, pid_t tid);
/* Owner of the process (the uid of /proc/PID). */
int proc_owner(pid_t pid, uid_t *uid, gid_t *gid);
/* Does @pid run in a pid namespace below ours (its NSpid line names it by
 * more than one pid: a container)?  1, 0, or -errno. */
int proc_in_child_pid_ns(pid_t pid);
/* Value of a "Key:" line of /proc/PID/status (first token), or -ENOENT. */
int proc_status_long(pid_t pid, const char *key, long *value);
int proc_status_hex(pid_t pid, pid_t tid, const char *key, uint64_t *value);
/* Thread ids listed in /proc/PID/task; *tids is malloc'ed. */
int proc_tasks(pid_t pid, pid_t **tids, size_t *n);
/* The map of @pid (free it with proc_free_maps()). */
int proc_read_maps(pid_t pid, struct maps *out);
/*
 * proc_maps_freeze - every thread of @pid is held (seize.c): its map is
 * read once and served from memory until proc_maps_thaw() (at release) or
 * proc_maps_changed() (a system call made in the target: remote.c).
 */
void proc_maps_freeze(pid_t pid);
void proc_maps_changed(void);
void proc_maps_thaw(void);
void proc_free_maps(struct maps *maps);
const struct map *maps_find(const struct maps *maps, uint64_t addr);
/* Is @m's file deleted or replaced on disk since it was mapped (the kernel
 * adds " (deleted)" to its path)? */
int map_replaced(const struct map *m);
/* /proc/PID/map_files/START-END: the very file mapped at [@start, @end),
 * which root may open even when no path leads to it any more. */
void proc_map_file(pid_t pid, uint64_t start, uint64_t end, char *buf, size_t len);

#define PF_KTHREAD 0x00200000

#endif
