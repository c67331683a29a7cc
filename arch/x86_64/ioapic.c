/*
 * The I/O APIC (Intel 82093AA datasheet, 3.0 "Register Description"). Each
 * IOAPIC has a handful of input pins; pin n of an IOAPIC whose ACPI GSI base
 * is B carries global system interrupt B + n. Each pin has a 64-bit
 * redirection entry saying which vector to send to which LAPIC, with which
 * trigger mode and polarity, and whether the pin is masked.
 *
 * The registers are reached indirectly: write the register number to
 * IOREGSEL (offset 0x00), then read or write it through IOWIN (offset 0x10).
 * Both are 32-bit. Interrupts can come in between the two accesses, so the
 * pair runs with interrupts off.
 */
#include <errno.h>
#include <stdio.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/paging.h"

#define IOREGSEL 0x00
#define IOWIN	 0x10
/* The two registers above are all of it (82093AA 3.0). */
#define IOAPIC_MMIO_SIZE 0x20

#define IOAPIC_REG_ID	 0x00
#define IOAPIC_REG_VER	 0x01 /* bits 16-23: maximum redirection entry */
#define IOAPIC_REG_REDIR 0x10 /* entry n: low dword 0x10 + 2n, high 0x11 + 2n */

/* Redirection entry, low dword (datasheet 3.2.4). Delivery mode 000 (fixed)
 * and destination mode 0 (physical) are zero bits. */
#define REDIR_ACTIVE_LOW (1u << 13)
#define REDIR_LEVEL	 (1u << 15)
#define REDIR_MASKED	 (1u << 16)
#define REDIR_DEST_SHIFT 24 /* high dword: physical APIC id */

struct ioapic {
	volatile uint8_t *base;
	uint8_t id;
	uint32_t gsi_base;
	unsigned nr_pins;
};

static struct ioapic ioapics[IOAPIC_MAX];
static unsigned nioapics;

static uint32_t ioapic_read(struct ioapic *io, uint32_t reg)
{
	unsigned long fl = irq_save();
	uint32_t v;

	mmio_write32(io->base + IOREGSEL, reg);
	v = mmio_read32(io->base + IOWIN);
	irq_restore(fl);
	return v;
}

static void ioapic_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	unsigned long fl = irq_save();

	mmio_write32(io->base + IOREGSEL, reg);
	mmio_write32(io->base + IOWIN, v);
	irq_restore(fl);
}

static struct ioapic *find(unsigned gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->nr_pins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

int ioapic_add(uint8_t id, uint64_t phys, uint32_t gsi_base)
{
	struct ioapic *io;
	uint32_t ver;

	if (nioapics == IOAPIC_MAX)
		return -ENOSPC;
	io = &ioapics[nioapics];
	/* The MADT's address: checked like any other firmware address. */
	io->base = ioremap(phys, IOAPIC_MMIO_SIZE);
	if (!io->base) {
		printf("error: ioapic: id %u at %#llx cannot be mapped; ignored\n", id,
		       (unsigned long long)phys);
		return -EINVAL;
	}
	io->id = id;
	io->gsi_base = gsi_base;
	ver = ioapic_read(io, IOAPIC_REG_VER);
	/* A read of all ones means nothing answers at this address. */
	if (ver == 0xffffffffu) {
		printf("error: ioapic: no IOAPIC at %#llx (version register reads %#x, expected "
		       "a version and entry count)\n",
		       (unsigned long long)phys, (unsigned)ver);
		return -ENODEV;
	}
	io->nr_pins = ((ver >> 16) & 0xff) + 1;
	nioapics++;

	/* Firmware may have left entries live; nothing may fire before a
	 * driver asks for it. */
	for (unsigned pin = 0; pin < io->nr_pins; pin++) {
		ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin, REDIR_MASKED);
		ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin + 1, 0);
	}
	return 0;
}

unsigned ioapic_count(void)
{
	return nioapics;
}

bool ioapic_has_gsi(unsigned gsi)
{
	unsigned pin;
	return find(gsi, &pin) != NULL;
}

unsigned ioapic_gsi_end(void)
{
	unsigned end = 0;
	for (unsigned i = 0; i < nioapics; i++)
		if (ioapics[i].gsi_base + ioapics[i].nr_pins > end)
			end = ioapics[i].gsi_base + ioapics[i].nr_pins;
	return end;
}

int ioapic_route(unsigned gsi, uint8_t vector, bool level, bool active_low, uint8_t dest)
{
	unsigned pin;
	struct ioapic *io = find(gsi, &pin);
	uint32_t low = vector | REDIR_MASKED;

	if (!io)
		return -ENODEV;
	if (level)
		low |= REDIR_LEVEL;
	if (active_low)
		low |= REDIR_ACTIVE_LOW;
	/* Masked while we change it; destination first, so the entry is never
	 * live with a half-written route. */
	ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin, REDIR_MASKED);
	ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)dest << REDIR_DEST_SHIFT);
	ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin, low);
	return 0;
}

void ioapic_mask(unsigned gsi, bool masked)
{
	unsigned pin;
	struct ioapic *io = find(gsi, &pin);
	uint32_t low;

	if (!io)
		return;
	low = ioapic_read(io, IOAPIC_REG_REDIR + 2 * pin);
	if (masked)
		low |= REDIR_MASKED;
	else
		low &= ~REDIR_MASKED;
	ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin, low);
}

void ioapic_reset(unsigned gsi)
{
	unsigned pin;
	struct ioapic *io = find(gsi, &pin);

	if (!io)
		return;
	ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin, REDIR_MASKED);
	ioapic_write(io, IOAPIC_REG_REDIR + 2 * pin + 1, 0);
}

void ioapic_print(void)
{
	for (unsigned i = 0; i < nioapics; i++) {
		struct ioapic *io = &ioapics[i];
		printf("irq: IOAPIC id %u at %#llx: GSI %u-%u\n", io->id,
		       (unsigned long long)virt_to_phys((const void *)io->base),
		       (unsigned)io->gsi_base, (unsigned)(io->gsi_base + io->nr_pins - 1));
	}
}
