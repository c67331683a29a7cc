/*
 * Host unit test for what ACPI S5 power-off reads from the tables
 * (kernel/acpi/acpi_s5.c: FADT sleep registers, ACPI 6.5 section 5.2.9; the
 * \_S5 package, 7.4.2) and the AML reader's name lookup under it:
 *  - FADTs and DSDTs recorded from QEMU 7.2 pc, q35 and microvm
 *    (test/host/data/README): the registers and SLP_TYP values the kernel
 *    writes on each;
 *  - malformed FADTs: too short, wrong signature, X_ fields cut off (the
 *    32-bit port is used), no PM1a block, a register in PCI configuration
 *    space or at a bit offset, a hardware-reduced FADT without its sleep
 *    control register: each a clear error with a reason, never a bad read;
 *  - malformed \_S5: missing, not a package, too few elements, elements
 *    that are not integers, values above 7, truncated; and every
 *    truncation and single-byte corruption of the recorded tables, under
 *    ASan/UBSan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi/acpi_s5.h"
#include "test/host/data_file.h"
#include "test/host/tap.h"

#define HDR 36

/* A heap copy of exactly `len` bytes, so ASan catches any read past it. */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	memcpy(c, p, len);
	return c;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- recorded tables ---- */

struct machine {
	const char *name;
	bool hw_reduced;
	uint8_t space;
	uint64_t addr;
	bool from_x_gas;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t slp_typa, slp_typb;
};

static const struct machine machines[] = {
	{"pc", false, ACPI_SPACE_IO, 0x604, false, 0xb2, 0xf1, 0, 0},
	{"q35", false, ACPI_SPACE_IO, 0x604, true, 0xb2, 0x02, 0, 0},
	{"microvm", true, ACPI_SPACE_MEMORY, 0xfea00200, true, 0, 0, 5, 0},
};

static void test_recorded(const struct machine *m)
{
	char name[64];
	uint8_t *fadt, *dsdt;
	size_t flen, dlen;
	struct acpi_s5 s5;
	const struct acpi_reg *r;
	int err;

	snprintf(name, sizeof name, "%s-facp.dat", m->name);
	fadt = load_data_file(name, &flen);
	snprintf(name, sizeof name, "%s-dsdt.dat", m->name);
	dsdt = load_data_file(name, &dlen);
	if (!CHECK(fadt && dsdt, "%s: recorded FADT and DSDT load", m->name))
		return;

	err = acpi_s5_regs_from_fadt(fadt, flen, &s5);
	CHECK(err == 0, "%s: FADT sleep registers read (%d: %s)", m->name, err, s5.why);
	CHECK(s5.hw_reduced == m->hw_reduced, "%s: HW_REDUCED_ACPI is %d", m->name, s5.hw_reduced);
	r = m->hw_reduced ? &s5.sleep_ctl : &s5.pm1a_cnt;
	CHECK(r->space == m->space && r->addr == m->addr && r->from_x_gas == m->from_x_gas &&
		      r->width == (m->hw_reduced ? 8 : 16),
	      "%s: %s in space %u at %#llx, %u bits%s", m->name,
	      m->hw_reduced ? "SLEEP_CONTROL_REG" : "PM1a_CNT", r->space,
	      (unsigned long long)r->addr, r->width, r->from_x_gas ? " (X_ field)" : "");
	CHECK(s5.pm1b_cnt.addr == 0, "%s: no PM1b_CNT", m->name);
	CHECK(s5.smi_cmd == m->smi_cmd && s5.acpi_enable == m->acpi_enable,
	      "%s: SMI_CMD %#x, ACPI_ENABLE %#x", m->name, s5.smi_cmd, s5.acpi_enable);

	err = acpi_s5_values_from_aml(dsdt, dlen, &s5);
	CHECK(err == 0 && s5.slp_typa == m->slp_typa && s5.slp_typb == m->slp_typb,
	      "%s: \\_S5 SLP_TYPa %u SLP_TYPb %u (%d: %s)", m->name, s5.slp_typa, s5.slp_typb, err,
	      err ? s5.why : "");

	/* Every truncation of the FADT: a result or a reason, never a read
	 * past the copy (ASan). */
	bool sane = true;
	for (size_t cut = 0; cut <= flen; cut++) {
		uint8_t *c = exact_copy(fadt, cut);
		err = acpi_s5_regs_from_fadt(c, cut, &s5);
		if ((err != 0 && !s5.why[0]) || (err == 0 && cut < 116))
			sane = false;
		free(c);
	}
	CHECK(sane, "%s: every truncation of the FADT gives registers or a reason", m->name);

	/* Every truncation of the DSDT: the right values or a reason. */
	sane = true;
	unsigned found = 0;
	for (size_t cut = 0; cut <= dlen; cut++) {
		uint8_t *c = exact_copy(dsdt, cut);
		memset(&s5, 0, sizeof s5);
		err = acpi_s5_values_from_aml(c, cut, &s5);
		if (err == 0) {
			found++;
			if (s5.slp_typa != m->slp_typa || s5.slp_typb != m->slp_typb)
				sane = false;
		} else if (!s5.why[0] || (err != -ENOENT && err != -EINVAL)) {
			sane = false;
		}
		free(c);
	}
	CHECK(sane && found > 0,
	      "%s: every truncation of the DSDT gives \\_S5 or a reason (%u "
	      "with \\_S5)",
	      m->name, found);

	/* Every byte set to values that mean something in AML. */
	static const uint8_t vals[] = {0x00, 0x01, 0x0a, 0x0d, 0x10, 0x12, 0x13, 0x5b, 0xff, 0x7f};
	sane = true;
	for (size_t pos = HDR; pos < dlen; pos++) {
		uint8_t saved = dsdt[pos];
		for (size_t v = 0; v < sizeof vals; v++) {
			dsdt[pos] = vals[v];
			memset(&s5, 0, sizeof s5);
			err = acpi_s5_values_from_aml(dsdt, dlen, &s5);
			if (err == 0 ? (s5.slp_typa > 7 || s5.slp_typb > 7) : !s5.why[0])
				sane = false;
		}
		dsdt[pos] = saved;
	}
	CHECK(sane, "%s: every single-byte corruption of the DSDT gives values 0..7 or a reason",
	      m->name);
	free(fadt);
	free(dsdt);
}

/* ---- malformed FADTs, made from the recorded ones ---- */

static void test_bad_fadt(void)
{
	uint8_t *pc, *q35, *mvm, *c;
	size_t pclen, q35len, mvmlen;
	struct acpi_s5 s5;
	int err;

	pc = load_data_file("pc-facp.dat", &pclen);
	q35 = load_data_file("q35-facp.dat", &q35len);
	mvm = load_data_file("microvm-facp.dat", &mvmlen);
	if (!CHECK(pc && q35 && mvm, "recorded FADTs load"))
		return;

	err = acpi_s5_regs_from_fadt(pc, 115, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "FADT of 115 bytes"), "115-byte FADT: %s", s5.why);
	CHECK(acpi_s5_regs_from_fadt(NULL, 0, &s5) == -EINVAL, "no FADT: -EINVAL");

	c = exact_copy(pc, pclen);
	memcpy(c, "APIC", 4);
	err = acpi_s5_regs_from_fadt(c, pclen, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "FACP"), "wrong signature refused: %s", s5.why);
	memcpy(c, "FACP", 4);
	put32(c + 64, 0);
	err = acpi_s5_regs_from_fadt(c, pclen, &s5);
	CHECK(err == -ENOENT && strstr(s5.why, "no PM1a_CNT_BLK"), "PM1a_CNT_BLK 0: %s", s5.why);
	put32(c + 64, 0x10000);
	err = acpi_s5_regs_from_fadt(c, pclen, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "beyond port"), "PM1a_CNT_BLK 0x10000: %s", s5.why);
	put32(c + 64, 0x604);
	c[89] = 1;
	err = acpi_s5_regs_from_fadt(c, pclen, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "PM1_CNT_LEN is 1"), "PM1_CNT_LEN 1: %s", s5.why);
	c[89] = 2;
	put32(c + 68, 0x640);
	err = acpi_s5_regs_from_fadt(c, pclen, &s5);
	CHECK(err == 0 && s5.pm1b_cnt.addr == 0x640 && s5.pm1b_cnt.space == ACPI_SPACE_IO,
	      "a PM1b_CNT_BLK is read too");
	free(c);

	/* q35 cut just before X_PM1a_CNT_BLK ends: the 32-bit port. */
	err = acpi_s5_regs_from_fadt(q35, 183, &s5);
	CHECK(err == 0 && s5.pm1a_cnt.addr == 0x604 && !s5.pm1a_cnt.from_x_gas,
	      "FADT without a whole X_PM1a_CNT_BLK: 32-bit PM1a_CNT_BLK used");
	c = exact_copy(q35, q35len);
	put32(c + 64, 0);
	err = acpi_s5_regs_from_fadt(c, q35len, &s5);
	CHECK(err == 0 && s5.pm1a_cnt.addr == 0x604 && s5.pm1a_cnt.from_x_gas,
	      "X_PM1a_CNT_BLK alone is enough");
	put32(c + 64, 0x604);
	put32(c + 176, 0);
	err = acpi_s5_regs_from_fadt(c, q35len, &s5);
	CHECK(err == 0 && s5.pm1a_cnt.addr == 0x604 && !s5.pm1a_cnt.from_x_gas,
	      "X_PM1a_CNT_BLK address 0: the 32-bit field");
	put32(c + 176, 0x604);
	c[172] = 2; /* PCI configuration space */
	err = acpi_s5_regs_from_fadt(c, q35len, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "address space 2"), "X_ GAS in PCI config: %s",
	      s5.why);
	c[172] = 1;
	c[174] = 3; /* bit offset */
	err = acpi_s5_regs_from_fadt(c, q35len, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "bit offset 3"), "X_ GAS at bit offset 3: %s",
	      s5.why);
	c[174] = 0;
	c[173] = 8; /* 8 bits for a 16-bit register */
	err = acpi_s5_regs_from_fadt(c, q35len, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "8 bits"), "X_ GAS of 8 bits: %s", s5.why);
	free(c);

	/* microvm: hardware-reduced. */
	err = acpi_s5_regs_from_fadt(mvm, 255, &s5);
	CHECK(err == -ENOENT && s5.hw_reduced && strstr(s5.why, "no SLEEP_CONTROL_REG"),
	      "hardware-reduced FADT cut before SLEEP_CONTROL_REG: %s", s5.why);
	c = exact_copy(mvm, mvmlen);
	memset(c + 248, 0, 8);
	err = acpi_s5_regs_from_fadt(c, mvmlen, &s5);
	CHECK(err == -ENOENT && strstr(s5.why, "zero SLEEP_CONTROL_REG"),
	      "SLEEP_CONTROL_REG address 0: %s", s5.why);
	put32(c + 248, 0xfea00200);
	c[244] = 3; /* embedded controller */
	err = acpi_s5_regs_from_fadt(c, mvmlen, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "address space 3"), "sleep control in EC space: %s",
	      s5.why);
	c[244] = 1;
	put32(c + 248, 0x10000);
	err = acpi_s5_regs_from_fadt(c, mvmlen, &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "beyond port"), "sleep control at port 0x10000: %s",
	      s5.why);
	put32(c + 248, 0xffff);
	err = acpi_s5_regs_from_fadt(c, mvmlen, &s5);
	CHECK(err == 0 && s5.sleep_ctl.space == ACPI_SPACE_IO && s5.sleep_ctl.addr == 0xffff,
	      "8-bit sleep control at I/O port 0xffff is fine");
	free(c);
	free(pc);
	free(q35);
	free(mvm);
}

/* ---- hand-made \_S5 objects ---- */

/* A DSDT whose AML is `aml` (header filled in, checksum not needed). */
static int s5_of(const uint8_t *aml, size_t n, struct acpi_s5 *s5)
{
	uint8_t *t = malloc(HDR + n);
	int err;

	memset(t, 0, HDR);
	memcpy(t, "DSDT", 4);
	put32(t + 4, (uint32_t)(HDR + n));
	memcpy(t + HDR, aml, n);
	memset(s5, 0, sizeof *s5);
	err = acpi_s5_values_from_aml(t, HDR + n, s5);
	free(t);
	return err;
}

#define S5(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})
#define NAME_S5 0x08, '_', 'S', '5', '_'

static void test_handmade_s5(void)
{
	struct acpi_s5 s5;
	int err;

	err = s5_of(S5(NAME_S5, 0x12, 0x07, 0x04, 0x01, 0x0a, 0x07, 0x00, 0x00), &s5);
	CHECK(err == 0 && s5.slp_typa == 1 && s5.slp_typb == 7, "OneOp and ByteConst 7");
	err = s5_of(S5(NAME_S5, 0x12, 0x0a, 0x02, 0x0b, 0x05, 0x00, 0x0c, 0x06, 0, 0, 0), &s5);
	CHECK(err == 0 && s5.slp_typa == 5 && s5.slp_typb == 6, "WordConst and DWordConst");
	err = s5_of(S5(0x10, 0x0e, 0x5c, 0x00, NAME_S5, 0x12, 0x05, 0x02, 0x0a, 0x03, 0x00), &s5);
	CHECK(err == 0 && s5.slp_typa == 3 && s5.slp_typb == 0, "inside Scope(\\) (microvm)");
	err = s5_of(S5(0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01), &s5);
	CHECK(err == 0 && s5.slp_typa == 1, "Name(\\_S5_) with a root prefix");
	err = s5_of(S5(NAME_S5, 0x13, 0x05, 0x0a, 0x02, 0x01, 0x01), &s5);
	CHECK(err == 0 && s5.slp_typa == 1 && s5.slp_typb == 1, "VarPackage with a constant count");

	err = s5_of(S5(0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x01, 0x01), &s5);
	CHECK(err == -ENOENT && strstr(s5.why, "no \\_S5"), "only \\_S4: %s", s5.why);
	err = s5_of(S5(0x10, 0x10, '_', 'S', 'B', '_', NAME_S5, 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00),
		    &s5);
	CHECK(err == -ENOENT, "\\_SB_._S5_ is not \\_S5_");
	err = s5_of(S5(0x14, 0x10, 'M', 'T', 'H', 'D', 0x00, NAME_S5, 0x12, 0x04, 0x02, 0x01, 0x01),
		    &s5);
	CHECK(err == -ENOENT, "\\_S5 inside a Method is not seen: %s", s5.why);
	err = s5_of(S5(0xa0, 0x0c, 0x01, NAME_S5, 0x12, 0x04, 0x02, 0x01, 0x01), &s5);
	CHECK(err == -ENOENT, "\\_S5 inside If() is not seen");
	err = s5_of(S5(0xa3, NAME_S5, 0x12, 0x04, 0x02, 0x01, 0x01), &s5);
	CHECK(err == -ENOENT, "\\_S5 after an opcode the reader cannot skip is not seen");

	err = s5_of(S5(NAME_S5, 0x0d, 'a', 0x00), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "opcode 0x0d, expected a complete Package"),
	      "\\_S5 a String: %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x0a, 0x05), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "opcode 0x0a"), "\\_S5 an integer: %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x03, 0x01, 0x0a), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "element 0 (SLP_TYPa, opcode 0x0a) cannot be read"),
	      "Package(1) whose element is cut off: %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x09, 0x04, 0x00, 0x00, 0x00, 0x00), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "complete Package"),
	      "PkgLength past the end of the table: %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x03, 0x01, 0x05), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "opcode 0x05) cannot be read"), "Package(1){5}: %s",
	      s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x05, 0x04, 0x00, 0x00, 0x00), &s5);
	CHECK(err == 0, "Package(4) with 3 initializers: the first two count");
	err = s5_of(S5(NAME_S5, 0x12, 0x04, 0x04, 0x00, 0x00), &s5);
	CHECK(err == 0, "Package(4) with 2 initializers");
	err = s5_of(S5(NAME_S5, 0x12, 0x04, 0x01, 0x00, 0x00), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "1 element"),
	      "Package(1) with 2 initializers: only the declared one is read: %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x04, 0x02, 0x05, 0x00), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "element 0 (SLP_TYPa, opcode 0x05) cannot be read"),
	      "a bare byte 5 (not an AML integer): %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x06, 0x02, 0x00, 0x0d, 'x', 0x00), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "element 1 (SLP_TYPb) is opcode 0x0d"),
	      "a String element: %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x08, 0x02, 0x5c, '_', 'S', 'B', '_', 0x00), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "element 0 (SLP_TYPa) is opcode 0x5c"),
	      "a name reference element (not evaluated): %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x05, 0x02, 0x0a, 0x08, 0x00), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "SLP_TYPa is 0x8, expected 0..7"), "SLP_TYPa 8: %s",
	      s5.why);
	err = s5_of(S5(NAME_S5, 0x12, 0x04, 0x02, 0x00, 0xff), &s5);
	CHECK(err == -EINVAL && strstr(s5.why, "SLP_TYPb is 0xffffffffffffffff"),
	      "SLP_TYPb Ones: %s", s5.why);
	err = s5_of(S5(NAME_S5, 0x13, 0x05, 0x70, 0x02, 0x01, 0x01), &s5);
	CHECK(err == -EINVAL, "VarPackage with a computed count: %s", s5.why);

	uint8_t tiny[HDR - 1] = {'D', 'S', 'D', 'T'};
	err = acpi_s5_values_from_aml(tiny, sizeof tiny, &s5);
	CHECK(err == -EINVAL && s5.why[0], "a block shorter than its header: %s", s5.why);
}

int main(void)
{
	for (size_t i = 0; i < sizeof machines / sizeof machines[0]; i++)
		test_recorded(&machines[i]);
	test_bad_fadt();
	test_handmade_s5();
	return tap_done();
}
