/*
 * Cross-CPU calls (kernel/smp/smp_call.h). Each CPU has a ring of pointers
 * to pending calls, guarded by its own spinlock (taken with interrupts off:
 * the target's handler takes it too). The caller owns the struct smp_call;
 * the ring only points to it, which is why a call that times out is taken
 * back out of the ring before the caller may forget it.
 */
#include <errno.h>
#include <stdbool.h>

#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kernel/acpi/acpi.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "kernel/lib/spinlock.h"
#include "kernel/smp/smp.h"
#include "kernel/smp/smp_call.h"

#define CALL_QUEUE_LEN 16

struct call_queue {
	struct spinlock lock;
	struct smp_call *ring[CALL_QUEUE_LEN];
	unsigned head, count; /* the oldest call, and how many */
};

static struct call_queue queues[ACPI_MAX_CPUS];
static bool calls_ready;

/* The next call for this CPU, or NULL. */
static struct smp_call *take_call(struct call_queue *q)
{
	struct smp_call *call = NULL;
	unsigned long fl = spin_lock_irqsave(&q->lock);

	if (q->count) {
		call = q->ring[q->head];
		q->head = (q->head + 1) % CALL_QUEUE_LEN;
		q->count--;
	}
	spin_unlock_irqrestore(&q->lock, fl);
	return call;
}

/* VECTOR_CALL, on the target CPU. Calls queued while we run are taken in
 * the same pass, so one IPI may serve several. */
static void call_interrupt(void *ctx)
{
	struct call_queue *q = &queues[this_cpu()->index];
	struct smp_call *call;

	while ((call = take_call(q))) {
		call->fn(call->arg);
		complete(&call->done);
	}
}

/* After smp_init() (link order): nothing sends a call before the init
 * calls are done. Without the vector, every call to another CPU fails. */
static void smp_call_init(void)
{
	for (unsigned i = 0; i < ACPI_MAX_CPUS; i++)
		spin_lock_init(&queues[i].lock, "call queue");
	if (request_fixed_vector(VECTOR_CALL, call_interrupt, NULL, "smp call"))
		pr_err("smp: vector %#x is taken: no cross-CPU calls\n", VECTOR_CALL);
	else
		calls_ready = true;
}
SUBSYS_INITCALL(smp_call_init);

int smp_call_start(unsigned cpu, struct smp_call *call, smp_call_fn *fn, void *arg)
{
	struct percpu *target = smp_cpu(cpu);
	struct call_queue *q;
	unsigned long fl;

	if (!target || (!calls_ready && cpu != this_cpu()->index))
		return -ENODEV;
	call->fn = fn;
	call->arg = arg;
	call->cpu = cpu;
	completion_init(&call->done);
	if (cpu == this_cpu()->index) {
		fl = irq_save();
		fn(arg);
		irq_restore(fl);
		complete(&call->done);
		return 0;
	}
	q = &queues[cpu];
	fl = spin_lock_irqsave(&q->lock);
	if (q->count == CALL_QUEUE_LEN) {
		spin_unlock_irqrestore(&q->lock, fl);
		return -EBUSY;
	}
	q->ring[(q->head + q->count) % CALL_QUEUE_LEN] = call;
	q->count++;
	spin_unlock_irqrestore(&q->lock, fl);
	lapic_send_ipi(target->apic_id, VECTOR_CALL);
	return 0;
}

/* Take `call` back out of its queue if it is still there. */
static bool withdraw(struct smp_call *call)
{
	struct call_queue *q = &queues[call->cpu];
	unsigned long fl = spin_lock_irqsave(&q->lock);
	bool found = false;

	for (unsigned i = 0; i < q->count; i++) {
		unsigned at = (q->head + i) % CALL_QUEUE_LEN;

		if (found)
			q->ring[(at + CALL_QUEUE_LEN - 1) % CALL_QUEUE_LEN] = q->ring[at];
		else if (q->ring[at] == call)
			found = true;
	}
	if (found)
		q->count--;
	spin_unlock_irqrestore(&q->lock, fl);
	return found;
}

int smp_call_wait(struct smp_call *call, unsigned timeout_ms)
{
	if (wait_for_completion(&call->done, timeout_ms) == 0)
		return 0;
	if (withdraw(call))
		return -ETIMEDOUT;
	/* The target took it just now: it runs to the end. */
	wait_for_completion(&call->done, 0);
	return 0;
}

int smp_call(unsigned cpu, smp_call_fn *fn, void *arg, unsigned timeout_ms)
{
	struct smp_call call;
	int err = smp_call_start(cpu, &call, fn, arg);

	return err ? err : smp_call_wait(&call, timeout_ms);
}
