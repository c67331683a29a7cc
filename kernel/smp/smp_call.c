/*
 * Cross-CPU calls (kernel/smp/smp_call.h). Each CPU has a ring of pointers
 * to pending calls, guarded by its own spinlock. The caller owns the struct
 * smp_call; the ring only points to it, which is why a call that times out
 * is taken back out of the ring before the caller may forget it. The
 * target runs its calls from its idle loop, in thread context, so a call
 * may sleep: the wake-up IPI that announces a call ends the target's `hlt`.
 */
#include <errno.h>
#include <stdbool.h>

#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/percpu.h"
#include "kernel/acpi/acpi.h"
#include "kernel/lib/spinlock.h"
#include "kernel/smp/cpus.h"
#include "kernel/smp/smp_call.h"

#define CALL_QUEUE_LEN 16

struct call_queue {
	struct spinlock lock;
	struct smp_call *ring[CALL_QUEUE_LEN];
	unsigned head, count; /* the oldest call, and how many */
};

static struct call_queue queues[ACPI_MAX_CPUS];

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

void smp_call_init(void)
{
	for (unsigned i = 0; i < ACPI_MAX_CPUS; i++)
		spin_lock_init(&queues[i].lock, "call queue");
}

void smp_call_idle(void)
{
	struct call_queue *q = &queues[this_cpu()->index];

	for (;;) {
		struct smp_call *call;

		/* Look with interrupts off, then `sti; hlt` in one step: a
		 * wake-up after the look still ends the hlt. */
		irq_save();
		while (!(call = take_call(q)))
			wait_for_interrupt();
		irq_enable();
		call->fn(call->arg);
		complete(&call->done);
	}
}

int smp_call_start(unsigned cpu, struct smp_call *call, smp_call_fn *fn, void *arg)
{
	struct call_queue *q;
	unsigned long fl;

	if (!smp_cpu(cpu) || (cpu == 0 && this_cpu()->index != 0))
		return -ENODEV;
	call->fn = fn;
	call->arg = arg;
	call->cpu = cpu;
	completion_init(&call->done);
	if (cpu == this_cpu()->index) {
		fn(arg);
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
	smp_wake(cpu);
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

int smp_call_everywhere(smp_call_fn *fn, void *(*arg_for)(unsigned cpu), unsigned timeout_ms)
{
	static struct smp_call calls[ACPI_MAX_CPUS];
	static bool running;
	unsigned n = smp_cpus_online(), started = n;
	int err = 0;

	/* calls[] is shared: only the boot CPU may ask, once at a time (fn
	 * calling this again would reuse calls[]). A flag, not a spinlock:
	 * fn may sleep. */
	if (this_cpu()->index != 0 || running)
		return -EINVAL;
	running = true;
	for (unsigned i = 1; i < n; i++) {
		int e = smp_call_start(i, &calls[i], fn, arg_for(i));
		if (e) {
			err = e;
			started = i;
			break;
		}
	}
	fn(arg_for(0));
	for (unsigned i = 1; i < started; i++) {
		int e = smp_call_wait(&calls[i], timeout_ms);
		if (e && !err)
			err = e;
	}
	running = false;
	return err;
}
