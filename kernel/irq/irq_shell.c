/*
 * The shell's `irqs` command: each IOAPIC's GSI range, then every vector in
 * use or ever delivered, its source, its handlers and its count
 * (kernel/irq/irq.c).
 */
#include "arch/x86_64/ioapic.h"
#include "kernel/irq/irq.h"
#include "kernel/shell/shell.h"

static int cmd_irqs(int argc, char **argv)
{
	ioapic_print();
	irq_print_counts();
	return 0;
}
SHELL_COMMAND(irqs, "irqs", "interrupts delivered per vector since boot", cmd_irqs);
