/*
 * Cross-CPU calls (kernel/smp/smp_call.c): run a function on another CPU.
 * The call goes into the target CPU's small queue and a wake-up IPI ends
 * the target's `hlt`; its idle loop runs every queued call, in order, in
 * thread context with interrupts on (so a call may wait for a device or
 * sleep), then completes each one. The application processors run this
 * loop; the boot CPU runs the kernel's main thread instead, so a call to
 * CPU 0 is accepted only from CPU 0 itself, where it runs at once.
 */
#ifndef KERNEL_SMP_SMP_CALL_H
#define KERNEL_SMP_SMP_CALL_H

#include "kernel/smp/completion.h"

typedef void smp_call_fn(void *arg);

/* For the bring-up (kernel/smp/smp.c): set up the queues before the other
 * CPUs start; each of them then runs smp_call_idle(), which never returns. */
void smp_call_init(void);
void smp_call_idle(void) __attribute__((noreturn));

/* One call in flight, owned by the caller until smp_call_wait() returns. */
struct smp_call {
	smp_call_fn *fn;
	void *arg;
	unsigned cpu; /* where it runs */
	struct completion done;
};

/* Queue fn(arg) on CPU `cpu` (an index, as in this_cpu()->index) and
 * wake it. 0; -ENODEV for a CPU that is not online, or for CPU 0 from
 * another CPU; -EBUSY when its queue is full (nothing queued). On the
 * calling CPU itself, fn runs at once. */
int smp_call_start(unsigned cpu, struct smp_call *call, smp_call_fn *fn, void *arg);
/* Wait for a started call: 0, or -ETIMEDOUT if the target has not taken it
 * within `timeout_ms` (it is then taken out of the queue and never runs).
 * A call the target has already begun is always waited for to the end. */
int smp_call_wait(struct smp_call *call, unsigned timeout_ms);
/* Both: run fn(arg) on `cpu` and return when it has run. */
int smp_call(unsigned cpu, smp_call_fn *fn, void *arg, unsigned timeout_ms);

/* Run fn(arg_for(cpu)) on every online CPU at once: the others by call,
 * the boot CPU (the only one allowed to ask) itself, then wait for all.
 * 0, or the first error (a call that did not start or timed out). */
int smp_call_everywhere(smp_call_fn *fn, void *(*arg_for)(unsigned cpu), unsigned timeout_ms);

#endif
