/*
 * Cross-CPU calls (kernel/smp/smp_call.c): run a function on another CPU.
 * The call goes into the target CPU's small queue, an IPI on VECTOR_CALL
 * interrupts the target, and its handler runs every queued call, in order,
 * in interrupt context (interrupts off: the function must not sleep or
 * wait for a device), then completes each one.
 */
#ifndef KERNEL_SMP_SMP_CALL_H
#define KERNEL_SMP_SMP_CALL_H

#include "kernel/smp/completion.h"

typedef void smp_call_fn(void *arg);

/* One call in flight, owned by the caller until smp_call_wait() returns. */
struct smp_call {
	smp_call_fn *fn;
	void *arg;
	unsigned cpu; /* where it runs */
	struct completion done;
};

/* Queue fn(arg) on CPU `cpu` (an index, as in this_cpu()->index) and
 * interrupt it. 0; -ENODEV for a CPU that is not online (or before the
 * init calls have set up VECTOR_CALL); -EBUSY when its
 * queue is full (nothing queued). On the calling CPU itself, fn runs at
 * once, with interrupts off like anywhere else. */
int smp_call_start(unsigned cpu, struct smp_call *call, smp_call_fn *fn, void *arg);
/* Wait for a started call: 0, or -ETIMEDOUT if the target has not taken it
 * within `timeout_ms` (it is then taken out of the queue and never runs).
 * A call the target has already begun is always waited for to the end. */
int smp_call_wait(struct smp_call *call, unsigned timeout_ms);
/* Both: run fn(arg) on `cpu` and return when it has run. */
int smp_call(unsigned cpu, smp_call_fn *fn, void *arg, unsigned timeout_ms);

#endif
