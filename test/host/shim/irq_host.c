/*
 * arch/x86_64/irqflags.h's interrupt flag for host tests (see irq_host.h): the
 * flag is a variable, and a wait for an interrupt runs the test's hook,
 * which plays the device and its interrupt. Weak, like the other shims.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arch/x86_64/irqflags.h"
#include "irq_host.h"

#define IF_BIT (1ul << 9) /* RFLAGS.IF, what irq_save() returns on x86 */

_Thread_local bool irq_host_enabled = true;
void (*irq_host_wait_hook)(void);
unsigned long irq_host_waits;

__attribute__((weak)) unsigned long irq_save(void)
{
	unsigned long flags = irq_host_enabled ? IF_BIT : 0;

	irq_host_enabled = false;
	return flags;
}

__attribute__((weak)) void irq_restore(unsigned long flags)
{
	if (flags & IF_BIT)
		irq_host_enabled = true;
}

__attribute__((weak)) void wait_for_interrupt(void)
{
	irq_host_waits++;
	if (!irq_host_wait_hook) {
		fprintf(stderr, "wait_for_interrupt() without a hook: nothing would wake it\n");
		abort();
	}
	irq_host_enabled = true;
	irq_host_wait_hook();
	irq_host_enabled = false;
}
