/*
 * Leaving the machine (arch/x86_64/machine.c). Under QEMU with isa-debug-exit
 * at port 0xf4, the value v written there makes QEMU exit with status
 * (v << 1) | 1, so tests can tell a passing self-test from a failing one
 * from a crash.
 */
#ifndef ARCH_X86_64_MACHINE_H
#define ARCH_X86_64_MACHINE_H

#include <stdnoreturn.h>

enum exit_code {
	EXIT_HALT = 0x00,  /* shell `halt`: QEMU status 1 */
	EXIT_PASS = 0x10,  /* selftest: PASS   -> QEMU status 33 */
	EXIT_FAIL = 0x11,  /* selftest: FAIL   -> QEMU status 35 */
	EXIT_PANIC = 0x12, /* panic/exception  -> QEMU status 37 */
};

/* isa-debug-exit when present, then the power-off hook if one was set (not
 * for EXIT_PANIC), then halt forever. */
noreturn void machine_exit(enum exit_code code);

/* How to turn the machine off, from the layer that knows (ACPI S5 in
 * kernel/acpi/acpi_poweroff.c). The hook runs with interrupts off and
 * returns only when it failed (a negative errno, having said why). */
typedef int machine_power_off_fn(void);
void machine_set_power_off(machine_power_off_fn *fn);

#endif
