/*
 * The CPU's interrupt flag (RFLAGS.IF, Intel SDM vol. 3A, 6.8.1): turning
 * interrupts off around code that shares state with an interrupt handler,
 * and waiting for the next interrupt. All work runs on the boot CPU for now
 * (the others only take their own tick), so that is the whole lock.
 */
#ifndef ARCH_X86_64_IRQFLAGS_H
#define ARCH_X86_64_IRQFLAGS_H

#ifndef HOST_TEST
/* Save/restore the interrupt flag, for thread-context code that touches
 * state an interrupt handler also touches. */
static inline unsigned long irq_save(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void irq_restore(unsigned long flags)
{
	if (flags & (1ul << 9))
		__asm__ volatile("sti" : : : "memory");
}

/* Turn interrupts on for good (an idle loop that started with them off). */
static inline void irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

/* Wait for the next interrupt: `sti; hlt` is atomic with respect to the
 * interrupt that wakes us (sti takes effect after the next instruction), so a
 * caller that checked a completion flag with interrupts off cannot miss it. */
static inline void wait_for_interrupt(void)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}

#else
/* Host tests (test/host) run in user mode, where cli, sti and hlt fault:
 * test/host/shim/irq_host.c keeps the flag in a variable, and its
 * wait_for_interrupt() lets the test deliver the interrupt being waited for. */
unsigned long irq_save(void);
void irq_restore(unsigned long flags);
void wait_for_interrupt(void);
#endif

#endif
