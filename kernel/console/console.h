/*
 * The console (kernel/console/console.c): where printf's output goes and
 * the shell's input comes from. A device driver registers itself with
 * CONSOLE_DRIVER (drivers/uart16550.c does, for COM1); the kernel uses the
 * first registered driver whose setup succeeds, so nothing here knows what
 * a UART is, and the driver never needs anything above this layer.
 *
 * Output is polled (simple and strictly ordered, which is what a test script
 * reading the serial line wants). Input is interrupt-driven once
 * console_start_input() ran: the driver's receive interrupt hands each byte
 * to console_input(), which queues it, so typing is never lost while the
 * kernel is busy; before that, or without an interrupt, input is polled.
 */
#ifndef KERNEL_CONSOLE_CONSOLE_H
#define KERNEL_CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/section.h"

struct console_driver {
	const char *name;
	/* Prepares the device for polled output, before anything is
	 * printed; false if it is not there. */
	bool (*setup)(void);
	/* Writes `len` bytes, returning once they are sent. */
	void (*send)(const char *s, size_t len);
	/* A received byte, or -1 when none is waiting (polled input). */
	int (*poll_getc)(void);
	/* Turns the receive interrupt on; its handler calls console_input().
	 * 0 or a negative errno (input then stays polled). */
	int (*start_input)(void);
};

/* Registers a console driver at link time (kernel/lib/section.h). */
#define CONSOLE_DRIVER(id, ...)                                                                    \
	SECTION_ENTRY(consoles, struct console_driver, console_driver_##id) = {__VA_ARGS__}

void console_init(void);	/* polled output, usable at once */
void console_start_input(void); /* receive interrupt, after irq_init() */
void console_write(const char *s, size_t len);
int console_getc(void);	    /* blocks (sti; hlt) until a byte arrives */
int console_try_getc(void); /* -1 if nothing is waiting */

/* A byte the driver received, from its interrupt handler. */
void console_input(uint8_t c);

/*
 * Ctrl-C. The byte is not queued: it raises a request that stays up until
 * someone takes it. A command that loops or waits checks
 * console_interrupted() and stops early (netdev_wait() does it for every
 * network wait); the shell clears the request before and after each
 * command. When nothing runs, console_getc() hands it to the line editor
 * as the byte CONSOLE_CTRL_C (and clears it).
 */
#define CONSOLE_CTRL_C 0x03
bool console_interrupted(void);
void console_clear_interrupt(void);

#endif
