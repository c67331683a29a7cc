/*
 * ACPI S5 from the tables (see acpi_s5.h): the FADT's sleep registers
 * (ACPI 6.5 section 5.2.9; Generic Address Structure 5.2.3.2) and the \_S5
 * package (7.4.2: Package {SLP_TYPa, SLP_TYPb, reserved, reserved}).
 *
 * Every field is bounds-checked against the table's length: an old (ACPI
 * 1.0, 116-byte) FADT has no X_ fields and no sleep control register, and a
 * field beyond the end is "absent", never read. The \_S5 lookup goes
 * through the AML reader (kernel/acpi/aml.c), which never reads outside the
 * block it is given.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/acpi/acpi_s5.h"
#include "kernel/acpi/aml.h"
#include "kernel/lib/byteorder.h"

#define SDT_HDR_LEN 36

/* FADT field offsets (5.2.9). */
#define FADT_SMI_CMD	    48
#define FADT_ACPI_ENABLE    52
#define FADT_PM1A_CNT_BLK   64
#define FADT_PM1B_CNT_BLK   68
#define FADT_PM1_CNT_LEN    89
#define FADT_FLAGS	    112
#define FADT_V1_LEN	    116 /* ACPI 1.0: ends after FLAGS */
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM1B_CNT_BLK 184
#define FADT_SLEEP_CTL_REG  244
#define GAS_LEN		    12

/*
 * A Generic Address Structure: space id, bit width, bit offset, access
 * size, 64-bit address. Only whole registers in memory or I/O space are
 * usable here (QEMU's are; PCI configuration space or a register at a bit
 * offset would need more than a plain write). `width` is what the
 * register must be (16 for PM1 control, 8 for sleep control); a GAS may
 * leave its bit width 0 on old tables, which we take as that width.
 */
static int read_gas(const uint8_t *gas, const char *name, unsigned width, struct acpi_reg *r,
		    struct acpi_s5 *s5)
{
	uint8_t space = gas[0], bits = gas[1], offset = gas[2];
	uint64_t addr = get_le64(gas + 4);

	if (addr == 0)
		return -ENOENT;
	if (space != ACPI_SPACE_MEMORY && space != ACPI_SPACE_IO) {
		snprintf(s5->why, sizeof s5->why,
			 "%s is in address space %u, expected 0 (memory) or 1 (I/O)", name, space);
		return -EINVAL;
	}
	if ((bits != 0 && bits < width) || offset != 0) {
		snprintf(s5->why, sizeof s5->why,
			 "%s is %u bits at bit offset %u, expected %u bits at offset 0", name, bits,
			 offset, width);
		return -EINVAL;
	}
	if (space == ACPI_SPACE_IO && addr > 0xffff - width / 8 + 1) {
		snprintf(s5->why, sizeof s5->why, "%s at I/O port %#llx, beyond port 0xffff", name,
			 (unsigned long long)addr);
		return -EINVAL;
	}
	*r = (struct acpi_reg){
		.space = space, .addr = addr, .width = (uint8_t)width, .from_x_gas = true};
	return 0;
}

/* PM1x_CNT: the X_ GAS wins when present and non-zero (5.2.9: "OSPM uses
 * X_PM1a_CNT_BLK ... if non-zero"), else the 32-bit I/O port. */
static int read_pm1_cnt(const uint8_t *fadt, size_t len, size_t port_off, size_t gas_off,
			const char *name, struct acpi_reg *r, struct acpi_s5 *s5)
{
	uint32_t port;
	int err;

	if (len >= gas_off + GAS_LEN) {
		err = read_gas(fadt + gas_off, name, 16, r, s5);
		if (err != -ENOENT)
			return err;
	}
	port = get_le32(fadt + port_off);
	if (port == 0)
		return -ENOENT;
	if (port > 0xfffe) {
		snprintf(s5->why, sizeof s5->why, "%s at I/O port %#x, beyond port 0xffff", name,
			 (unsigned)port);
		return -EINVAL;
	}
	*r = (struct acpi_reg){.space = ACPI_SPACE_IO, .addr = port, .width = 16};
	return 0;
}

int acpi_s5_regs_from_fadt(const uint8_t *fadt, size_t len, struct acpi_s5 *s5)
{
	int err;

	memset(s5, 0, sizeof *s5);
	if (!fadt || len < FADT_V1_LEN) {
		snprintf(s5->why, sizeof s5->why, "FADT of %zu bytes, expected at least %u", len,
			 FADT_V1_LEN);
		return -EINVAL;
	}
	if (memcmp(fadt, "FACP", 4) != 0) {
		snprintf(s5->why, sizeof s5->why, "FADT signature \"%.4s\", expected \"FACP\"",
			 (const char *)fadt);
		return -EINVAL;
	}
	s5->hw_reduced = get_le32(fadt + FADT_FLAGS) & FADT_HW_REDUCED_ACPI;
	if (s5->hw_reduced) {
		/* A hardware-reduced platform (ACPI 6.5 section 4.1) has no
		 * PM1 blocks; the sleep control register (ACPI 5.0+) replaces
		 * them. */
		if (len < FADT_SLEEP_CTL_REG + GAS_LEN) {
			snprintf(s5->why, sizeof s5->why,
				 "hardware-reduced FADT of %zu bytes has no SLEEP_CONTROL_REG "
				 "(needs %u)",
				 len, FADT_SLEEP_CTL_REG + GAS_LEN);
			return -ENOENT;
		}
		err = read_gas(fadt + FADT_SLEEP_CTL_REG, "SLEEP_CONTROL_REG", 8, &s5->sleep_ctl,
			       s5);
		if (err == -ENOENT)
			snprintf(s5->why, sizeof s5->why,
				 "hardware-reduced FADT with a zero SLEEP_CONTROL_REG address");
		return err;
	}
	if (fadt[FADT_PM1_CNT_LEN] < 2) {
		snprintf(s5->why, sizeof s5->why, "FADT PM1_CNT_LEN is %u, expected at least 2",
			 fadt[FADT_PM1_CNT_LEN]);
		return -EINVAL;
	}
	err = read_pm1_cnt(fadt, len, FADT_PM1A_CNT_BLK, FADT_X_PM1A_CNT_BLK, "PM1a_CNT_BLK",
			   &s5->pm1a_cnt, s5);
	if (err == -ENOENT)
		snprintf(s5->why, sizeof s5->why, "FADT has no PM1a_CNT_BLK (both fields zero)");
	if (err)
		return err;
	err = read_pm1_cnt(fadt, len, FADT_PM1B_CNT_BLK, FADT_X_PM1B_CNT_BLK, "PM1b_CNT_BLK",
			   &s5->pm1b_cnt, s5);
	if (err && err != -ENOENT)
		return err;
	s5->smi_cmd = get_le32(fadt + FADT_SMI_CMD);
	s5->acpi_enable = fadt[FADT_ACPI_ENABLE];
	return 0;
}

static int s5_element(const struct aml_package *pkg, unsigned i, const char *name,
		      const char *table, uint8_t *out, struct acpi_s5 *s5)
{
	const struct aml_pkg_elem *e = &pkg->elem[i];

	if (pkg->unreadable && i == pkg->nelems - 1) {
		snprintf(s5->why, sizeof s5->why,
			 "%.4s: \\_S5 element %u (%s, opcode 0x%02x) cannot be read: cut off, or "
			 "not a constant",
			 table, i, name, e->opcode);
		return -EINVAL;
	}
	if (!e->is_int) {
		snprintf(s5->why, sizeof s5->why,
			 "%.4s: \\_S5 element %u (%s) is opcode 0x%02x, expected an integer "
			 "constant",
			 table, i, name, e->opcode);
		return -EINVAL;
	}
	/* SLP_TYP is a 3-bit field in both register layouts. */
	if (e->value > 7) {
		snprintf(s5->why, sizeof s5->why, "%.4s: \\_S5 %s is %#llx, expected 0..7", table,
			 name, (unsigned long long)e->value);
		return -EINVAL;
	}
	*out = (uint8_t)e->value;
	return 0;
}

int acpi_s5_values_from_aml(const uint8_t *table, size_t len, struct acpi_s5 *s5)
{
	const char *sig = (const char *)table;
	struct aml_package pkg;
	const uint8_t *obj = NULL;
	size_t obj_len = 0;
	int err;

	if (!table || len < SDT_HDR_LEN) {
		snprintf(s5->why, sizeof s5->why,
			 "definition block of %zu bytes, expected at least %u", len, SDT_HDR_LEN);
		return -EINVAL;
	}
	err = aml_find_name(table + SDT_HDR_LEN, len - SDT_HDR_LEN, "\\_S5_", &obj, &obj_len);
	if (err == -ENOENT) {
		snprintf(s5->why, sizeof s5->why,
			 "%.4s has no \\_S5 (as a constant Name the AML reader can see)", sig);
		return -ENOENT;
	}
	if (err || aml_parse_package(obj, obj_len, &pkg) != 0) {
		snprintf(s5->why, sizeof s5->why,
			 "%.4s: \\_S5 at offset %#zx is opcode 0x%02x, expected a complete Package",
			 sig, obj ? (size_t)(obj - table) : 0, obj_len ? obj[0] : 0);
		return -EINVAL;
	}
	/* An element the reader could not size is the last one read: say
	 * what it was rather than that the package is short. */
	err = pkg.nelems >= 1 ? s5_element(&pkg, 0, "SLP_TYPa", sig, &s5->slp_typa, s5) : 0;
	if (!err && pkg.nelems >= 2)
		err = s5_element(&pkg, 1, "SLP_TYPb", sig, &s5->slp_typb, s5);
	if (!err && pkg.nelems < 2) {
		snprintf(s5->why, sizeof s5->why,
			 "%.4s: \\_S5 has %u element(s), expected at least 2 (SLP_TYPa, SLP_TYPb)",
			 sig, pkg.nelems);
		err = -EINVAL;
	}
	return err;
}
