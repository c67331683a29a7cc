/*
 * Network device registry and the poll loop that runs the network stack in
 * thread context (kernel/netdev/netdev.h explains why it is never run from an
 * interrupt).
 */
#include <errno.h>
#include <stdio.h>

#include "arch/x86_64/irqflags.h"
#include "kernel/console/console.h"
#include "kernel/lib/poll.h"
#include "kernel/netdev/netdev.h"
#include "kernel/time/timer.h"

static struct netdev *devices;
static unsigned ndevices;
static const struct netdev_stack *stack;
static bool polling; /* netdev_poll() is running: refuse to nest */

/* Frames per device per poll, so timers and the console get their turn
 * under a flood. */
#define POLL_BUDGET 64

static const char *const drop_names[NETDEV_DROP_COUNT] = {
	[NETDEV_DROP_TOO_LONG] = "too-long",
	[NETDEV_DROP_SHORT_HDR] = "short-header",
	[NETDEV_DROP_RUNT] = "runt",
	[NETDEV_DROP_BAD_MERGE] = "bad-merge",
	[NETDEV_DROP_BAD_CSUM_OFF] = "bad-csum",
	[NETDEV_DROP_NOMEM] = "no-memory",
	[NETDEV_DROP_LINK_DOWN] = "link-down",
};

const char *netdev_drop_name(enum netdev_drop why)
{
	return (unsigned)why < NETDEV_DROP_COUNT ? drop_names[why] : "?";
}

int netdev_register(struct netdev *dev)
{
	struct netdev **pp = &devices;

	if (!dev->ops || !dev->ops->xmit || !dev->ops->poll)
		return -EINVAL;
	while (*pp)
		pp = &(*pp)->next;
	snprintf(dev->name, sizeof dev->name, "eth%u", ndevices);
	dev->next = NULL;
	*pp = dev;
	ndevices++;
	if (stack)
		stack->attach(dev);
	return 0;
}

void netdev_unregister(struct netdev *dev)
{
	for (struct netdev **pp = &devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			ndevices--;
			return;
		}
	}
}

void netdev_set_stack(const struct netdev_stack *s)
{
	stack = s;
	for (struct netdev *dev = devices; dev; dev = dev->next)
		stack->attach(dev);
}

struct netdev *netdev_first(void)
{
	return devices;
}

bool netdev_poll(void)
{
	bool busy = false;

	if (polling)
		return false;
	polling = true;
	for (struct netdev *dev = devices; dev; dev = dev->next) {
		/* Clear before polling: an interrupt during the poll sets it
		 * again and the next round catches what it announced. */
		unsigned long fl = irq_save();
		if (dev->pending)
			busy = true;
		dev->pending = false;
		irq_restore(fl);
		if (dev->ops->poll(dev, POLL_BUDGET)) {
			dev->pending = true;
			busy = true;
		}
	}
	if (stack && stack->poll)
		stack->poll();
	polling = false;
	return busy;
}

bool netdev_pending(void)
{
	for (struct netdev *dev = devices; dev; dev = dev->next)
		if (dev->pending)
			return true;
	return false;
}

/* The network runs from every waiting loop that calls poll_all() (the
 * console's input wait), without that loop knowing about it. */
POLLER(netdev, netdev_poll, netdev_pending);

bool netdev_wait(bool (*done)(void *arg), void *arg, uint64_t timeout_ns)
{
	uint64_t start = time_ns();

	for (;;) {
		netdev_poll();
		if (done(arg))
			return true;
		/* Ctrl-C ends every network wait: the command that waits sees
		 * its condition unmet and stops (kernel/console/console.h). */
		if (time_ns() - start >= timeout_ns || console_interrupted())
			return false;
		/* Interrupts off between the check and hlt: a device that
		 * sets `pending` now wakes the hlt (kernel/irq/irq.h). The tick
		 * bounds the sleep, so the timeout and lwIP's timers work. */
		unsigned long fl = irq_save();
		if (!netdev_pending())
			wait_for_interrupt();
		irq_restore(fl);
	}
}
