/*
 * Host stand-in for the interrupt flag of arch/x86_64/irqflags.h
 * (test/host/shim/irq_host.c): user-mode code cannot cli, sti or hlt, so
 * the flag is a variable the tests can check (a driver must leave it as it
 * found it), and wait_for_interrupt() calls a hook through which the test,
 * playing the device, delivers the interrupt the caller waits for.
 */
#ifndef TEST_HOST_SHIM_IRQ_HOST_H
#define TEST_HOST_SHIM_IRQ_HOST_H

#include <stdbool.h>

/* True while "interrupts" are enabled; starts true (thread context). */
/* Per thread: each thread of a host test is a CPU with its own flag. */
extern _Thread_local bool irq_host_enabled;
/* Called by wait_for_interrupt() with interrupts enabled; must deliver
 * something or give up (a wait without a hook aborts: it would hang). */
extern void (*irq_host_wait_hook)(void);
/* wait_for_interrupt() calls so far. */
extern unsigned long irq_host_waits;

#endif
