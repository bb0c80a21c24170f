/* SPDX-License-Identifier: MIT */
/*
 * tattach's own CPU priority while it holds a process stopped.
 *
 * Every microsecond tattach spends waiting for a CPU while the target is
 * stopped is a microsecond of the target's pause.  On a busy machine (the
 * program's own load, its clients) the scheduler gives tattach no more
 * than its share, and the pause grows from about one millisecond to
 * several.  So while threads are held, tattach runs at nice -20, where the
 * system allows it (root, CAP_SYS_NICE, RLIMIT_NICE), and at its own nice
 * value again from the moment they run.  Nice, not a real-time policy: a
 * real-time tattach would keep a CPU from a target thread it waits for
 * with sched_yield() (unhijack.c).
 */
#ifndef TATTACH_PRIORITY_H
#define TATTACH_PRIORITY_H

/* The nice value while threads are held. */
#define PRIORITY_HELD_NICE (-20)

/*
 * priority_raise - from the first thread held on: nice PRIORITY_HELD_NICE
 * for the calling thread, unless TATTACH_PRIORITY=0 or the system refuses
 * (then nothing changes, silently: only the pause is longer).  Nests:
 * only the outermost call changes anything.
 */
void priority_raise(void);

/* priority_restore - the nice value from before the outermost
 * priority_raise(), once every raise was matched. */
void priority_restore(void);

#endif
