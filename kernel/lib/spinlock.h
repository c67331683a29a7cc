/*
 * Spinlocks (kernel/lib/spinlock.c): a ticket lock. Each CPU that wants
 * the lock takes the next ticket and waits until `serving` reaches it, so
 * the CPUs get the lock in the order they asked (no CPU starves, as it can
 * with a plain test-and-set lock), and the release is one store.
 *
 * The rules (docs/ARCHITECTURE.md, "Locks", lists every lock and the order):
 *  - a lock that an interrupt handler also takes is taken with
 *    spin_lock_irqsave(), so the handler cannot interrupt its own CPU's
 *    holder and spin forever;
 *  - nothing sleeps (`hlt`) and nothing waits for a device with a spinlock
 *    held;
 *  - locks nest only in the documented order.
 *
 * Checks, always on (each costs a load or two): taking a lock this CPU
 * already holds panics at once, naming the lock and where it was taken;
 * waiting longer than spin_limit_ms panics too, naming the holder and how
 * long it has held the lock; releasing a lock this CPU does not hold
 * panics.
 */
#ifndef KERNEL_LIB_SPINLOCK_H
#define KERNEL_LIB_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
	uint32_t next;	  /* the next ticket to hand out */
	uint32_t serving; /* the ticket that holds the lock */
	const char *name;
	/* Debugging: which CPU holds it (its index + 1, 0: nobody), since
	 * when (TSC), and the caller that took it. */
	uint32_t holder;
	uint64_t taken_tsc;
	const void *taken_at;
};

#define SPINLOCK_INIT(name_)                                                                       \
	{                                                                                          \
		.name = (name_)                                                                    \
	}

/* A waiter that has spun this long assumes the holder is stuck (5000 ms;
 * the host tests shorten it). */
extern unsigned spin_limit_ms;

void spin_lock_init(struct spinlock *l, const char *name);
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
/* Interrupts off on this CPU, then the lock; the unlock restores them. */
unsigned long spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags);
/* Whether the calling CPU holds `l` (for assertions). */
bool spin_held_by_me(const struct spinlock *l);

#endif
