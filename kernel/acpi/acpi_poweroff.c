/*
 * ACPI S5 soft-off (ACPI 6.5 chapter 16 "Waking and Sleeping", 7.4.2
 * "\_Sx (System States)").
 *
 * At boot (an init call) the registers and SLP_TYP values are read from
 * the FADT and the \_S5 package (kernel/acpi/acpi_s5.c) and one line says
 * whether power-off is available, and how, or what is missing.
 * When it is, acpi_poweroff() becomes the machine's power-off hook, which
 * machine_exit() (arch/x86_64/machine.c) calls:
 *  - fixed hardware (chapter 4, "PM1 Control Registers"): write SLP_TYPa
 *    and SLP_EN to PM1a_CNT, and SLP_TYPb and SLP_EN to PM1b_CNT when there
 *    is one, keeping the register's other bits. On a machine still in
 *    legacy mode (SCI_EN clear) ACPI mode is switched on first the way the
 *    FADT's SMI_CMD and ACPI_ENABLE fields say (5.2.9: write ACPI_ENABLE to
 *    SMI_CMD, then SCI_EN reads 1), so the PM1 registers belong to the OS
 *    rather than to SMM firmware. QEMU acts on the PM1 write either way
 *    (measured on pc and q35 under SeaBIOS); OVMF has ACPI mode on
 *    already;
 *  - hardware-reduced (chapter 4, "Sleep Control and Status Registers";
 *    QEMU microvm): write SLP_TYPa and SLP_EN to the sleep control
 *    register.
 * \_PTS, \_GTS and \_TTS are methods and are not run (the AML reader
 * evaluates nothing); QEMU's DSDTs have none.
 */
#include <errno.h>
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/machine.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "kernel/acpi/acpi.h"
#include "kernel/acpi/acpi_s5.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"

static struct acpi_s5 s5;
static bool s5_ok;

/* How long the machine may take to go off (or to enter ACPI mode) before
 * we call it a failure. QEMU acts on the write at once. */
#define POWEROFF_WAIT_MS    1000
#define ACPI_ENABLE_WAIT_MS 300

static uint16_t reg_read(const struct acpi_reg *r)
{
	if (r->space == ACPI_SPACE_IO)
		return r->width == 8 ? inb((uint16_t)r->addr) : inw((uint16_t)r->addr);
	return r->width == 8 ? mmio_read8((volatile void *)(uintptr_t)r->addr)
			     : mmio_read16((volatile void *)(uintptr_t)r->addr);
}

static void reg_write(const struct acpi_reg *r, uint16_t v)
{
	if (r->space == ACPI_SPACE_IO) {
		if (r->width == 8)
			outb((uint16_t)r->addr, (uint8_t)v);
		else
			outw((uint16_t)r->addr, v);
	} else if (r->width == 8) {
		mmio_write8((volatile void *)(uintptr_t)r->addr, (uint8_t)v);
	} else {
		mmio_write16((volatile void *)(uintptr_t)r->addr, v);
	}
}

static const char *space_name(const struct acpi_reg *r)
{
	return r->space == ACPI_SPACE_IO ? "I/O port" : "memory";
}

/* Busy-waits up to `ms` for `done` (interrupts are off in machine_exit,
 * so no sleeping). Returns whether it became true. */
static bool wait_until(bool (*done)(void), unsigned ms)
{
	uint64_t hz = tsc_frequency() ? tsc_frequency() : 1000000000ull;
	uint64_t start = rdtsc(), limit = hz / 1000 * ms;

	while (rdtsc() - start < limit) {
		if (done())
			return true;
		__asm__ volatile("pause");
	}
	return done();
}

static bool sci_enabled(void)
{
	return reg_read(&s5.pm1a_cnt) & PM1_SCI_EN;
}

static bool never(void)
{
	return false;
}

static void enter_acpi_mode(void)
{
	if (sci_enabled())
		return;
	if (s5.smi_cmd == 0 || s5.acpi_enable == 0 || s5.smi_cmd > 0xffff) {
		/* 5.2.9: SMI_CMD and ACPI_ENABLE are zero on a machine
		 * without System Management Mode, where nobody else owns
		 * the registers; go ahead. */
		pr_warn("acpi: SCI_EN is clear and the FADT gives no way to enable ACPI mode "
			"(SMI_CMD %#x, ACPI_ENABLE %#x); writing PM1 anyway\n",
			(unsigned)s5.smi_cmd, s5.acpi_enable);
		return;
	}
	outb((uint16_t)s5.smi_cmd, s5.acpi_enable);
	if (!wait_until(sci_enabled, ACPI_ENABLE_WAIT_MS))
		pr_warn("acpi: wrote ACPI_ENABLE %#x to SMI_CMD %#x, SCI_EN still clear after %u "
			"ms; writing PM1 anyway\n",
			s5.acpi_enable, (unsigned)s5.smi_cmd, ACPI_ENABLE_WAIT_MS);
}

static void write_pm1(const struct acpi_reg *r, uint8_t slp_typ)
{
	/* Keep the other bits (SCI_EN, reserved ones) but never write 1 to
	 * GBL_RLS, which would raise an SMI. */
	uint16_t v = reg_read(r) & ~(PM1_SLP_TYP_MASK | PM1_SLP_EN | PM1_GBL_RLS);

	reg_write(r, v | (uint16_t)(slp_typ << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN);
}

/* Enter S5. Returns only on failure: -ENODEV when S5 is not available, -EIO
 * (with a message) when the machine still runs a second after the write.
 * Interrupts off (machine_exit). */
static int acpi_poweroff(void)
{
	if (!s5_ok)
		return -ENODEV;
	printf("acpi: powering off (S5)\n");
	if (s5.hw_reduced) {
		reg_write(&s5.sleep_ctl,
			  (uint16_t)(((s5.slp_typa << SLEEP_CTL_TYP_SHIFT) & SLEEP_CTL_TYP_MASK) |
				     SLEEP_CTL_SLP_EN));
	} else {
		enter_acpi_mode();
		write_pm1(&s5.pm1a_cnt, s5.slp_typa);
		if (s5.pm1b_cnt.addr)
			write_pm1(&s5.pm1b_cnt, s5.slp_typb);
	}
	wait_until(never, POWEROFF_WAIT_MS);
	pr_err("acpi: S5 written, but the machine still runs after %u ms (expected it to be "
	       "off)\n",
	       POWEROFF_WAIT_MS);
	return -EIO;
}

/* Memory-space registers must be mapped before machine_exit() needs them.
 * False when one cannot be. */
static bool map_reg(const struct acpi_reg *r)
{
	return !r->addr || r->space != ACPI_SPACE_MEMORY || ioremap(r->addr, r->width / 8);
}

/* \_S5 is in the DSDT on every machine we know; an SSDT may hold it too. */
static int find_s5_values(void)
{
	const struct acpi_sdt_header *h = acpi_find_table("DSDT", 0);
	int err = -ENOENT;

	if (!h) {
		snprintf(s5.why, sizeof s5.why, "no DSDT");
		return -ENOENT;
	}
	for (unsigned n = 0; h && err == -ENOENT; h = acpi_find_table("SSDT", n++))
		err = acpi_s5_values_from_aml((const uint8_t *)h, h->length, &s5);
	return err;
}

static void acpi_poweroff_init(void)
{
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP", 0);
	const char *mode;

	if (!acpi_present()) {
		pr_info("acpi: S5 power-off not available: no ACPI tables\n");
		return;
	}
	if (!fadt) {
		pr_info("acpi: S5 power-off not available: no FADT\n");
		return;
	}
	if (acpi_s5_regs_from_fadt((const uint8_t *)fadt, fadt->length, &s5) != 0 ||
	    find_s5_values() != 0) {
		pr_info("acpi: S5 power-off not available: %s\n", s5.why);
		return;
	}
	if (!map_reg(&s5.pm1a_cnt) || !map_reg(&s5.pm1b_cnt) || !map_reg(&s5.sleep_ctl)) {
		pr_info("acpi: S5 power-off not available: its registers cannot be mapped\n");
		return;
	}
	s5_ok = true;
	machine_set_power_off(acpi_poweroff);
	if (s5.hw_reduced) {
		pr_info("acpi: S5 power-off via SLEEP_CONTROL_REG (%s %#llx), SLP_TYP %u\n",
			space_name(&s5.sleep_ctl), (unsigned long long)s5.sleep_ctl.addr,
			s5.slp_typa);
		return;
	}
	pr_info("acpi: S5 power-off via PM1a_CNT (%s %#llx%s), SLP_TYPa %u",
		space_name(&s5.pm1a_cnt), (unsigned long long)s5.pm1a_cnt.addr,
		s5.pm1a_cnt.from_x_gas ? ", X_ field" : "", s5.slp_typa);
	if (s5.pm1b_cnt.addr)
		pr_info(", PM1b_CNT (%s %#llx), SLP_TYPb %u", space_name(&s5.pm1b_cnt),
			(unsigned long long)s5.pm1b_cnt.addr, s5.slp_typb);
	if (sci_enabled())
		mode = "on";
	else if (s5.smi_cmd && s5.acpi_enable)
		mode = "off (switched on through SMI_CMD before the write)";
	else
		mode = "off (the FADT gives no SMI_CMD to switch it on)";
	pr_info("; ACPI mode %s\n", mode);
}
INITCALL(acpi_poweroff_init);
