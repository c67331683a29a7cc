/*
 * The console: COM1. Output is polled (simple and ordered); input is
 * interrupt-driven into a ring buffer so nothing typed is lost while the
 * kernel is busy.
 */
#ifndef KERNEL_CONSOLE_CONSOLE_H
#define KERNEL_CONSOLE_CONSOLE_H

#include <stddef.h>

void console_early_init(void); /* polled output only, usable at once */
void console_init_irq(void);   /* receive interrupt, after irq setup */
void console_write(const char *s, size_t len);
int console_getc(void);	    /* blocks (sti; hlt) until a byte arrives */
int console_try_getc(void); /* -1 if nothing is waiting */

#endif
