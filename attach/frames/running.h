/* SPDX-License-Identifier: MIT */
/*
 * Calls already running when tracing begins (the main loop, a worker's
 * loop, a stuck call): at --enable, while every thread is held, tattach
 * walks each thread's stack, and for every frame of a traced function
 * pushes a shadow frame, writes an ENTRY (after an EARLY record: "entered
 * before tracing", stamped now) and hijacks its return address, so that
 * its return is recorded like any other.
 */
#ifndef TATTACH_ATTACH_RUNNING_H
#define TATTACH_ATTACH_RUNNING_H

#include <stddef.h>
#include <stdint.h>

struct held;
struct ringfile;

struct running_report {
	size_t calls;		/* calls adopted */
	size_t threads;		/* threads with at least one */
	size_t skipped;		/* threads left alone (see running.c) */
};

/*
 * running_adopt - adopt the traced calls in flight of every held thread
 * of the ring's process.  Sites must be patched already.  Never fails the
 * enable: a thread that cannot be walked or changed safely is left as it
 * is (counted in skipped).
 */
void running_adopt(struct ringfile *rf, struct held *h, struct running_report *rep);


#endif /* TATTACH_ATTACH_RUNNING_H */
