/*
 * Leaving the machine (arch/x86_64/machine.h), in three steps:
 *  1. QEMU's isa-debug-exit device (port 0xf4 in our configurations) ends
 *     QEMU with status (value << 1) | 1 on any write, so tests see the exit
 *     code; without that device the write goes nowhere;
 *  2. the power-off hook, when a layer above registered one: ACPI S5
 *     (kernel/acpi/acpi_poweroff.c), after which QEMU exits with status 0
 *     (with -no-reboot too). Not for a panic: a machine that stopped on an
 *     error is left halted, with its message on the console, instead of
 *     vanishing;
 *  3. halt forever (interrupts off), when neither ended the machine.
 */
#include <stddef.h>
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/machine.h"

#define DEBUG_EXIT_PORT 0xf4

static machine_power_off_fn *power_off;

void machine_set_power_off(machine_power_off_fn *fn)
{
	power_off = fn;
}

noreturn void machine_exit(enum exit_code code)
{
	__asm__ volatile("cli");
	fflush(stdout);
	outl(DEBUG_EXIT_PORT, code);
	if (code != EXIT_PANIC && power_off)
		power_off(); /* returns only if it failed (and said so) */
	printf("machine halted (exit code 0x%x)\n", code);
	halt_forever();
	__builtin_unreachable();
}
