/*
 * Deferred work run by whoever waits: subsystems that must not do their
 * work in interrupt context (the network stack, kernel/netdev/netdev.h) register a
 * poller here, and every waiting loop that sleeps with `sti; hlt` (the
 * console's input wait) runs them through poll_all() instead of naming
 * each subsystem. So a driver that waits never reaches up into a layer
 * above it, and adding a subsystem means no edit to any waiting loop.
 *
 * The lost-wakeup-safe wait:
 *
 *	for (;;) {
 *		bool busy = poll_all();
 *		unsigned long fl = irq_save();
 *		if (my condition) { irq_restore(fl); break; }
 *		if (!busy && !poll_pending())
 *			wait_for_interrupt();
 *		irq_restore(fl);
 *	}
 *
 * An interrupt that announces work after poll_all() returned sets the
 * poller's pending flag; checked with interrupts off right before `sti;
 * hlt`, it cannot be missed (arch/x86_64/irqflags.h).
 */
#ifndef KERNEL_LIB_POLL_H
#define KERNEL_LIB_POLL_H

#include <stdbool.h>

#include "kernel/lib/section.h"

struct poller {
	const char *name;
	/* Does the work interrupts announced. Thread context, interrupts
	 * on. Returns true if it did any or some may be left (the caller
	 * polls again before sleeping). */
	bool (*poll)(void);
	/* True if an interrupt announced work since the last poll. Called
	 * with interrupts off; must not enable them or block. */
	bool (*pending)(void);
};

/* Registers a poller at link time (kernel/lib/section.h). */
#define POLLER(id, poll_, pending_)                                                                \
	SECTION_ENTRY(pollers, struct poller, poller_##id) = {#id, poll_, pending_}

/* Runs every poller; true if any did work or has work left. Thread
 * context. */
bool poll_all(void);
/* True if any poller has work pending. Interrupts off (see above). */
bool poll_pending(void);

#endif
