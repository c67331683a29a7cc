/*
 * Completions (kernel/smp/completion.h). The one subtle step is the
 * hand-shake between a waiter about to sleep and a completer: the waiter
 * stores its CPU in `waiter` and then reads `done`; the completer stores
 * `done` and then reads `waiter`. With sequentially consistent atomics at
 * least one of them sees the other's store, so either the waiter sees done
 * and does not sleep, or the completer sees the waiter and wakes it. And
 * `sti; hlt` takes the wake-up IPI even if it arrives between the check and
 * the `hlt` (arch/x86_64/irqflags.h). The periodic tick also ends every
 * `hlt`, which bounds the timeout check.
 */
#include <errno.h>
#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/percpu.h"
#include "kernel/smp/completion.h"
#include "kernel/smp/cpus.h"
#include "kernel/time/timer.h"

void completion_init(struct completion *c)
{
	c->done = 0;
	c->waiter = -1;
}

void complete(struct completion *c)
{
	int32_t waiter;

	__atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
	waiter = __atomic_load_n(&c->waiter, __ATOMIC_SEQ_CST);
	if (waiter >= 0 && (unsigned)waiter != this_cpu()->index)
		smp_wake((unsigned)waiter);
}

int wait_for_completion(struct completion *c, uint64_t timeout_ms)
{
	uint64_t deadline = timeout_ms ? time_ns() + timeout_ms * 1000000ull : UINT64_MAX;
	unsigned long flags = irq_save();
	bool can_sleep = flags & (1ul << 9); /* IF was set */
	int err = 0;

	__atomic_store_n(&c->waiter, (int32_t)this_cpu()->index, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&c->done, __ATOMIC_SEQ_CST)) {
		if (time_ns() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		if (can_sleep)
			wait_for_interrupt();
		else
			cpu_relax();
	}
	__atomic_store_n(&c->waiter, -1, __ATOMIC_SEQ_CST);
	irq_restore(flags);
	return err;
}
