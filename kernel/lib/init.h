/*
 * Init functions run by kmain() after the core services (memory, interrupts,
 * timer, console) are up, in link order: drivers register themselves, buses
 * scan. The virtio core matches drivers and devices in either order, so the
 * order between the two does not matter.
 */
#ifndef KERNEL_LIB_INIT_H
#define KERNEL_LIB_INIT_H

#include "kernel/lib/section.h"

struct initcall {
	const char *name;
	void (*fn)(void);
};

#define INITCALL(func) SECTION_ENTRY(initcalls, struct initcall, initcall_##func) = {#func, func}

void run_initcalls(void);

#endif
