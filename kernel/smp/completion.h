/*
 * Waiting for something another CPU (or an interrupt) will finish
 * (kernel/smp/completion.c): the waiter sleeps in `sti; hlt` on its own CPU,
 * and complete() wakes exactly that CPU with an IPI. No CPU polls a shared
 * flag in a loop, and a waiting CPU costs the host nothing.
 */
#ifndef KERNEL_SMP_COMPLETION_H
#define KERNEL_SMP_COMPLETION_H

#include <stdint.h>

struct completion {
	uint32_t done;
	int32_t waiter; /* index of the CPU sleeping on it, -1: none */
};

void completion_init(struct completion *c);
/* Mark it done and wake the CPU waiting on it, if any. Any context. */
void complete(struct completion *c);
/* Wait until complete() or `timeout_ms` (0: no limit): 0 or -ETIMEDOUT.
 * Thread context with interrupts on sleeps in `hlt`; with interrupts off
 * (a handler) nothing could wake a `hlt`, so it spins with `pause`. */
int wait_for_completion(struct completion *c, uint64_t timeout_ms);

#endif
