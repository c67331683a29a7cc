#ifndef KERNEL_LIB_PANIC_H
#define KERNEL_LIB_PANIC_H

#include <stdnoreturn.h>

/* Print the message and stop: exit QEMU with EXIT_PANIC, or halt. */
noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (cond)                                                                          \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);                   \
	} while (0)

#endif
