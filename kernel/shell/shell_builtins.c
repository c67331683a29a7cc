/*
 * The shell's own commands besides `help` (kernel/shell/shell.c): the
 * command line as received, and `halt`. Every other command is registered
 * by its layer, in a file of its own named *_shell.c (`mem` in
 * kernel/mm/mm_shell.c, `irqs` in kernel/irq/irq_shell.c, ...).
 */
#include <stdint.h>
#include <stdio.h>

#include "arch/x86_64/boot/boot_info.h"
#include "arch/x86_64/machine.h"
#include "kernel/shell/shell.h"

static int cmd_cmdline(int argc, char **argv)
{
	printf("%s\n", boot_info.cmdline);
	return 0;
}
SHELL_COMMAND(cmdline, "cmdline", "the kernel command line, as received", cmd_cmdline);

static int cmd_halt(int argc, char **argv)
{
	printf("halting\n");
	machine_exit(EXIT_HALT);
}
SHELL_COMMAND(halt, "halt",
	      "power off: isa-debug-exit (QEMU status 1), else ACPI S5 (status 0), else halt",
	      cmd_halt);
