/*
 * Leaving the machine, in three steps:
 *  1. QEMU's isa-debug-exit device (port 0xf4 in our configurations) ends
 *     QEMU with status (value << 1) | 1 on any write, so tests see the exit
 *     code; without that device the write goes nowhere;
 *  2. ACPI S5 power-off (kernel/acpi/acpi_poweroff.c) when the tables described
 *     it at boot: QEMU then exits with status 0 (and with -no-reboot too).
 *     Not for a panic: a machine that stopped on an error is left halted,
 *     with its message on the console, instead of vanishing;
 *  3. halt forever (interrupts off), when neither ended the machine.
 */
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "kernel/acpi/acpi_poweroff.h"
#include "arch/x86_64/machine.h"

#define DEBUG_EXIT_PORT 0xf4

noreturn void machine_exit(enum exit_code code)
{
	__asm__ volatile("cli");
	fflush(stdout);
	outl(DEBUG_EXIT_PORT, code);
	if (code != EXIT_PANIC)
		acpi_poweroff(); /* returns only if it failed (and said so) */
	printf("machine halted (exit code 0x%x)\n", code);
	halt_forever();
	__builtin_unreachable();
}
