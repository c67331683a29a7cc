/*
 * What ACPI S5 ("soft off", ACPI 6.5 chapter 16) needs, read from the
 * tables: the registers from the FADT (5.2.9: PM1a/PM1b control blocks, or
 * the sleep control register of a hardware-reduced platform) and the
 * SLP_TYPa/SLP_TYPb values from the \_S5 package (7.4.2).
 *
 * Pure functions over byte buffers (no port or memory access), so
 * test/host/test_acpi_s5.c runs them on tables recorded from QEMU.
 * kernel/acpi/acpi_poweroff.c does the writes.
 */
#ifndef KERNEL_ACPI_ACPI_S5_H
#define KERNEL_ACPI_ACPI_S5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Generic Address Structure address spaces (5.2.3.2) this kernel writes. */
#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO	  1

struct acpi_reg {
	uint8_t space;	 /* ACPI_SPACE_* */
	uint64_t addr;	 /* 0: the register does not exist */
	uint8_t width;	 /* bits: 8 or 16 */
	bool from_x_gas; /* from the 64-bit X_ field, not the 32-bit port */
};

struct acpi_s5 {
	bool hw_reduced;	   /* FADT flag HW_REDUCED_ACPI (bit 20) */
	struct acpi_reg pm1a_cnt;  /* fixed hardware: required */
	struct acpi_reg pm1b_cnt;  /* optional second block */
	struct acpi_reg sleep_ctl; /* hardware-reduced: SLEEP_CONTROL_REG */
	uint32_t smi_cmd;	   /* port that switches to ACPI mode, 0 if none */
	uint8_t acpi_enable;	   /* value to write there */
	uint8_t slp_typa, slp_typb;
	char why[160]; /* when a step fails: what was seen, what was expected */
};

/* Register bits (ACPI 6.5 chapter 4: "PM1 Control Registers", "Sleep
 * Control and Status Registers"). */
#define PM1_SCI_EN	     (1u << 0)
#define PM1_GBL_RLS	     (1u << 2) /* write-only: a write of 1 raises an SMI */
#define PM1_SLP_TYP_SHIFT    10
#define PM1_SLP_TYP_MASK     (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN	     (1u << 13)
#define SLEEP_CTL_TYP_SHIFT  2
#define SLEEP_CTL_TYP_MASK   (7u << SLEEP_CTL_TYP_SHIFT)
#define SLEEP_CTL_SLP_EN     (1u << 5)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/*
 * Reads the sleep registers from the FADT (the whole table, `len` bytes
 * including its 36-byte header). Returns 0, or -EINVAL / -ENOENT with
 * s5->why saying what was missing or malformed. Clears *s5 first.
 */
int acpi_s5_regs_from_fadt(const uint8_t *fadt, size_t len, struct acpi_s5 *s5);

/*
 * Finds \_S5 in one definition block (a DSDT or SSDT, the whole table,
 * `len` bytes including the header) and stores SLP_TYPa/b. Returns 0;
 * -ENOENT when the block has no \_S5 the AML reader can see (look in the
 * next block); -EINVAL when \_S5 is there but unusable (not a package,
 * too few elements, not integers, values above 7). s5->why says which.
 */
int acpi_s5_values_from_aml(const uint8_t *table, size_t len, struct acpi_s5 *s5);

#endif
