/*
 * A ticket spinlock (kernel/lib/spinlock.h), on C11-style atomics
 * (GCC's __atomic builtins): fetch-and-add hands out tickets, an acquire
 * load of `serving` waits for ours, a release store passes the lock on. The
 * acquire/release pair is what orders the critical sections of two CPUs:
 * everything the holder wrote is visible to the next holder.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/lib/panic.h"
#include "kernel/lib/spinlock.h"

/* How often a waiter looks at the clock: rdtsc is slow under emulation. */
#define SPINS_PER_CLOCK_CHECK 1024

unsigned spin_limit_ms = 5000;

static uint32_t my_id(void)
{
	return this_cpu()->index + 1;
}

static uint64_t ms_since(uint64_t tsc)
{
	uint64_t hz = tsc_frequency();

	return hz ? (rdtsc() - tsc) / (hz / 1000) : 0;
}

void spin_lock_init(struct spinlock *l, const char *name)
{
	*l = (struct spinlock)SPINLOCK_INIT(name);
}

bool spin_held_by_me(const struct spinlock *l)
{
	return __atomic_load_n(&l->holder, __ATOMIC_RELAXED) == my_id();
}

/* `caller` is where the public function was called from, for the messages. */
static void lock(struct spinlock *l, const void *caller)
{
	uint32_t ticket;
	uint64_t start = 0;
	unsigned spins = 0;

	/* Only this CPU can have stored its own id in `holder`, so a relaxed
	 * load is enough to see our own recursion. */
	if (spin_held_by_me(l))
		panic("spinlock %s: CPU %u takes it again (it took it at %p, now at %p)", l->name,
		      my_id() - 1, l->taken_at, caller);
	ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket) {
		cpu_relax();
		if (++spins % SPINS_PER_CLOCK_CHECK)
			continue;
		if (!start)
			start = rdtsc();
		else if (ms_since(start) > spin_limit_ms)
			panic("spinlock %s: CPU %u waited %u ms at %p; CPU %d holds it since %llu "
			      "ms "
			      "ago, taken at %p",
			      l->name, my_id() - 1, spin_limit_ms, caller,
			      (int)__atomic_load_n(&l->holder, __ATOMIC_RELAXED) - 1,
			      (unsigned long long)ms_since(
				      __atomic_load_n(&l->taken_tsc, __ATOMIC_RELAXED)),
			      __atomic_load_n(&l->taken_at, __ATOMIC_RELAXED));
	}
	/* Relaxed: these are read by other CPUs only for a panic message. */
	__atomic_store_n(&l->holder, my_id(), __ATOMIC_RELAXED);
	__atomic_store_n(&l->taken_tsc, rdtsc(), __ATOMIC_RELAXED);
	__atomic_store_n(&l->taken_at, caller, __ATOMIC_RELAXED);
}

__attribute__((noinline)) void spin_lock(struct spinlock *l)
{
	lock(l, __builtin_return_address(0));
}

void spin_unlock(struct spinlock *l)
{
	if (!spin_held_by_me(l))
		panic("spinlock %s: CPU %u releases it but CPU %d holds it", l->name, my_id() - 1,
		      (int)__atomic_load_n(&l->holder, __ATOMIC_RELAXED) - 1);
	__atomic_store_n(&l->holder, 0, __ATOMIC_RELAXED);
	/* Only the holder writes `serving`: a plain read of it is exact. */
	__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

__attribute__((noinline)) unsigned long spin_lock_irqsave(struct spinlock *l)
{
	unsigned long flags = irq_save();

	lock(l, __builtin_return_address(0));
	return flags;
}

void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
	spin_unlock(l);
	irq_restore(flags);
}
