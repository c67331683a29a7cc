/*
 * Leaving the machine. QEMU's isa-debug-exit device (port 0xf4 in our
 * configurations) ends QEMU with status (value << 1) | 1 on any write; on a
 * machine without it the write goes nowhere and we halt instead. (ACPI S5
 * power-off needs the \_S5 object from the DSDT's AML; not done yet.)
 */
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "kernel/shutdown.h"

#define DEBUG_EXIT_PORT 0xf4

noreturn void machine_exit(enum exit_code code)
{
	__asm__ volatile("cli");
	fflush(stdout);
	outl(DEBUG_EXIT_PORT, code);
	printf("machine halted (exit code 0x%x)\n", code);
	halt_forever();
	__builtin_unreachable();
}
