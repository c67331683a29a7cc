/*
 * Init functions run by kmain() after the core services (memory, interrupts,
 * timer, console) are up (kernel/lib/init.c). They come in three rounds,
 * each in link order (the Makefile links the layers bottom up):
 *   SUBSYS_INITCALL  a subsystem sets itself up before anyone uses it (the
 *                    network stack initialises lwIP);
 *   INITCALL         drivers register, buses scan, services start;
 *   LATE_INITCALL    after every device the scans found has its driver:
 *                    the network stack takes the interfaces.
 * The virtio core matches drivers and devices in either order, so the order
 * between those two does not matter.
 */
#ifndef KERNEL_LIB_INIT_H
#define KERNEL_LIB_INIT_H

#include "kernel/lib/section.h"

struct initcall {
	const char *name;
	void (*fn)(void);
};

#define SUBSYS_INITCALL(func)                                                                      \
	SECTION_ENTRY(initcalls_subsys, struct initcall, initcall_##func) = {#func, func}
#define INITCALL(func) SECTION_ENTRY(initcalls, struct initcall, initcall_##func) = {#func, func}
#define LATE_INITCALL(func)                                                                        \
	SECTION_ENTRY(initcalls_late, struct initcall, initcall_##func) = {#func, func}

/* The three rounds, once. */
void run_initcalls(void);

#endif
