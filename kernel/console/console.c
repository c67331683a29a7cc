/*
 * The console (kernel/console/console.h): one registered driver for output,
 * and a ring buffer that its receive interrupt fills for the shell.
 *
 * Waiting for input is the kernel's main idle loop (the shell waits here),
 * so it runs the pollers (kernel/lib/poll.h) before it sleeps: deferred
 * work, such as the network stack, gets done while nobody types, without
 * the console knowing what that work is.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/irqflags.h"
#include "kernel/console/console.h"
#include "kernel/lib/log.h"
#include "kernel/lib/poll.h"

#define RX_SIZE 256 /* a power of two */

static const struct console_driver *active;
static volatile uint8_t rx_buf[RX_SIZE];
static volatile unsigned rx_head, rx_tail; /* head: the interrupt writes; tail: the reader */
static bool rx_irq_enabled;
static unsigned long rx_dropped;
static volatile bool interrupt_requested; /* Ctrl-C arrived, nobody took it yet */

void console_init(void)
{
	SECTION_FOREACH(consoles, struct console_driver, d)
	{
		if (d->setup()) {
			active = d;
			return;
		}
	}
}

void console_write(const char *s, size_t len)
{
	if (active)
		active->send(s, len);
}

void console_input(uint8_t c)
{
	/* Ctrl-C is a request, not data: it must reach a running command even
	 * when the buffer is full, and it must not linger as a byte for the
	 * next line once the command it stopped has returned. */
	if (c == CONSOLE_CTRL_C) {
		interrupt_requested = true;
		return;
	}
	if (rx_head - rx_tail < RX_SIZE)
		rx_buf[rx_head++ % RX_SIZE] = c;
	else
		rx_dropped++;
}

void console_start_input(void)
{
	int err;

	if (!active)
		return;
	err = active->start_input();
	if (err) {
		pr_warn("console: %s: no receive interrupt (error %d); input is polled\n",
			active->name, err);
		return;
	}
	rx_irq_enabled = true;
}

/* Without a receive interrupt, moves what the device holds into the
 * buffer, so Ctrl-C is seen while a command runs. Interrupts off. */
static void poll_input(void)
{
	int c;

	if (rx_irq_enabled || !active)
		return;
	while ((c = active->poll_getc()) >= 0)
		console_input((uint8_t)c);
}

int console_try_getc(void)
{
	unsigned long flags = irq_save();
	int c = -1;

	poll_input();
	if (interrupt_requested) {
		/* Read as a byte by whoever waits for one (the line editor
		 * abandons its line). */
		interrupt_requested = false;
		c = CONSOLE_CTRL_C;
	} else if (rx_tail != rx_head) {
		c = rx_buf[rx_tail++ % RX_SIZE];
	}
	irq_restore(flags);
	return c;
}

bool console_interrupted(void)
{
	unsigned long flags = irq_save();
	bool yes;

	poll_input();
	yes = interrupt_requested;
	irq_restore(flags);
	return yes;
}

void console_clear_interrupt(void)
{
	interrupt_requested = false;
}

int console_getc(void)
{
	for (;;) {
		bool busy = poll_all();
		unsigned long flags = irq_save();
		if (rx_tail != rx_head || interrupt_requested || !rx_irq_enabled) {
			irq_restore(flags);
			int c = console_try_getc();
			if (c >= 0)
				return c;
			continue;
		}
		/* Nothing buffered and no work announced: sleep until an
		 * interrupt (the console's, a device's, or the timer tick) and
		 * look again. The pending check runs with interrupts off, so an
		 * announcement after poll_all() still ends the wait. */
		if (!busy && !poll_pending())
			wait_for_interrupt();
		irq_restore(flags);
	}
}
