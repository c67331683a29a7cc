/*
 * ACPI S5 soft-off (ACPI 6.5 chapter 16, section 7.4.2): the register writes
 * that turn the machine off, with what kernel/acpi/acpi_s5.c read from the
 * FADT and \_S5 at boot.
 */
#ifndef KERNEL_ACPI_ACPI_POWEROFF_H
#define KERNEL_ACPI_ACPI_POWEROFF_H

#include <stdbool.h>

/* Whether the tables described a usable S5 (reported at boot). */
bool acpi_poweroff_available(void);

/* Enter S5. Returns only on failure: -ENODEV when S5 is not available, -EIO
 * (with a message) when the machine still runs a second after the write.
 * Call with interrupts off. */
int acpi_poweroff(void);

#endif
