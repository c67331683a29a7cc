/*
 * Host unit test for kernel/acpi/acpi.c (ACPI 6.5, 5.2): table images are built
 * in memory, with correct or deliberately wrong checksums, and handed to
 * acpi_init() as if firmware had left them there.
 *
 * "Physical" addresses are host addresses (the kernel identity-maps). The
 * RSDT holds 32-bit pointers, so its tables live in an arena mapped below
 * 2 GiB (MAP_32BIT); tables reached only through the XSDT live in ordinary
 * heap memory, above 4 GiB, to prove the 64-bit pointers are followed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "acpi_mm_host.h"
#include "kernel/acpi/acpi.h"
#include "tap.h"

uint64_t acpi_scan_rsdp(uint64_t phys, uint64_t len); /* not in acpi.h */

#define ARENA_SIZE (1u << 20)
static uint8_t *arena;
static size_t arena_used;

static void *arena_alloc(size_t len)
{
	void *p = arena + arena_used;
	arena_used += (len + 15) & ~(size_t)15; /* the RSDP must be 16-aligned */
	memset(p, 0, len);
	return p;
}

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void put16(void *t, size_t off, uint16_t v)
{
	memcpy((uint8_t *)t + off, &v, 2);
}
static void put32(void *t, size_t off, uint32_t v)
{
	memcpy((uint8_t *)t + off, &v, 4);
}
static void put64(void *t, size_t off, uint64_t v)
{
	memcpy((uint8_t *)t + off, &v, 8);
}

static uint8_t checksum_of(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s += b[i];
	return (uint8_t)-s;
}

/* Fill in the common header and make the bytes sum to zero. */
static void seal(void *t, const char *sig, uint32_t len)
{
	struct acpi_sdt_header *h = t;
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = 1;
	memcpy(h->oem_id, "VTIOOS", 6);
	memcpy(h->oem_table_id, "TESTTBL ", 8);
	h->checksum = 0;
	h->checksum = checksum_of(t, len);
}

static void *table(void *mem, const char *sig, uint32_t len)
{
	memset(mem, 0, len);
	seal(mem, sig, len);
	return mem;
}

static void *rsdp_v1(uint32_t rsdt)
{
	uint8_t *r = arena_alloc(20);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "VTIOOS", 6);
	r[15] = 0;
	put32(r, 16, rsdt);
	r[8] = checksum_of(r, 20);
	return r;
}

static void *rsdp_v2(uint32_t rsdt, uint64_t xsdt)
{
	uint8_t *r = arena_alloc(36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "VTIOOS", 6);
	r[15] = 2;
	put32(r, 16, rsdt);
	put32(r, 20, 36);
	put64(r, 24, xsdt);
	r[8] = checksum_of(r, 20);
	r[32] = checksum_of(r, 36);
	return r;
}

/* A MADT like QEMU microvm's, plus the entries QEMU does not emit. */
static void *build_madt(void *mem, uint64_t lapic_override)
{
	uint8_t *m = mem;
	size_t off = 44;

	memset(m, 0, 256);
	put32(m, 36, 0xfee00000);
	put32(m, 40, 1); /* PCAT_COMPAT */
	/* Processor local APICs: enabled, disabled, online-capable. */
	for (int i = 0; i < 3; i++) {
		m[off] = 0, m[off + 1] = 8, m[off + 2] = i, m[off + 3] = i;
		put32(m, off + 4, i == 0 ? 1 : i == 1 ? 0 : 2);
		off += 8;
	}
	/* Two IOAPICs, as on microvm. */
	m[off] = 1, m[off + 1] = 12, m[off + 2] = 0;
	put32(m, off + 4, 0xfec00000);
	put32(m, off + 8, 0);
	off += 12;
	m[off] = 1, m[off + 1] = 12, m[off + 2] = 1;
	put32(m, off + 4, 0xfec10000);
	put32(m, off + 8, 24);
	off += 12;
	/* Interrupt source overrides: IRQ 0 -> GSI 2; IRQ 9 level, active high. */
	m[off] = 2, m[off + 1] = 10, m[off + 2] = 0, m[off + 3] = 0;
	put32(m, off + 4, 2);
	put16(m, off + 8, 0);
	off += 10;
	m[off] = 2, m[off + 1] = 10, m[off + 2] = 0, m[off + 3] = 9;
	put32(m, off + 4, 9);
	put16(m, off + 8, 0xd);
	off += 10;
	/* An x2APIC entry (id 300, UID 7, enabled), one repeating APIC id 0
	 * (ignored with a warning), and an xAPIC entry with id 0xff (no CPU). */
	m[off] = 9, m[off + 1] = 16;
	put32(m, off + 4, 300);
	put32(m, off + 8, 1);
	put32(m, off + 12, 7);
	off += 16;
	m[off] = 9, m[off + 1] = 16;
	put32(m, off + 4, 0);
	put32(m, off + 8, 1);
	off += 16;
	m[off] = 0, m[off + 1] = 8, m[off + 2] = 9, m[off + 3] = 0xff;
	put32(m, off + 4, 1);
	off += 8;
	/* A local APIC NMI entry, which we skip. */
	m[off] = 4, m[off + 1] = 6, m[off + 2] = 0xff, m[off + 5] = 1;
	off += 6;
	if (lapic_override) {
		m[off] = 5, m[off + 1] = 12;
		put64(m, off + 4, lapic_override);
		off += 12;
	}
	seal(m, "APIC", (uint32_t)off);
	return m;
}

static void *build_mcfg(void *mem)
{
	uint8_t *m = mem;
	memset(m, 0, 60);
	put64(m, 44, 0xb0000000);
	put16(m, 52, 0);
	m[54] = 0, m[55] = 255;
	seal(m, "MCFG", 60);
	return m;
}

static void *build_fadt(void *mem, uint32_t dsdt, uint64_t x_dsdt)
{
	uint8_t *f = mem;
	memset(f, 0, 276);
	put32(f, 40, dsdt);
	put64(f, 140, x_dsdt);
	seal(f, "FACP", 276);
	return f;
}

static void *build_rsdt(const void *const *t, unsigned n)
{
	uint8_t *r = arena_alloc(36 + 4 * n);
	for (unsigned i = 0; i < n; i++)
		put32(r, 36 + 4 * i, (uint32_t)addr(t[i]));
	seal(r, "RSDT", 36 + 4 * n);
	return r;
}

static void *build_xsdt(void *mem, const void *const *t, unsigned n)
{
	uint8_t *r = mem;
	for (unsigned i = 0; i < n; i++)
		put64(r, 36 + 8 * i, addr(t[i]));
	seal(r, "XSDT", 36 + 8 * n);
	return r;
}

static int reserved(const void *t)
{
	return mm_host_was_reserved(addr(t), ((const struct acpi_sdt_header *)t)->length);
}

static void test_v1(void)
{
	void *dsdt = table(arena_alloc(64), "DSDT", 64);
	void *fadt = build_fadt(arena_alloc(276), (uint32_t)addr(dsdt), 0);
	void *madt = build_madt(arena_alloc(256), 0);
	void *mcfg = build_mcfg(arena_alloc(60));
	void *ssdt1 = table(arena_alloc(40), "SSDT", 40);
	void *ssdt2 = table(arena_alloc(48), "SSDT", 48);
	uint8_t *bad = table(arena_alloc(56), "HPET", 56);
	const void *list[] = {fadt, madt, bad, mcfg, ssdt1, ssdt2};
	void *rsdt, *rsdp;

	bad[40] ^= 0x55; /* checksum now wrong */
	rsdt = build_rsdt(list, 6);
	rsdp = rsdp_v1((uint32_t)addr(rsdt));

	mm_host_reset();
	CHECK(acpi_init(addr(rsdp)) == 0, "v1: acpi_init with an RSDP rev 0 and an RSDT");
	CHECK(acpi_present(), "v1: acpi_present()");
	CHECK(acpi_find_table("RSDT", 0) == rsdt, "v1: the RSDT is listed");
	CHECK(acpi_find_table("APIC", 0) == madt, "v1: MADT found");
	CHECK(acpi_find_table("FACP", 0) == fadt, "v1: FADT found");
	CHECK(acpi_find_table("DSDT", 0) == dsdt, "v1: DSDT found through the FADT's DSDT field");
	CHECK(acpi_find_table("HPET", 0) == NULL, "v1: table with a bad checksum is ignored");
	CHECK(acpi_find_table("SSDT", 0) == ssdt1 && acpi_find_table("SSDT", 1) == ssdt2 &&
		      acpi_find_table("SSDT", 2) == NULL,
	      "v1: two SSDTs, found by index");
	CHECK(acpi_find_table("XSDT", 0) == NULL, "v1: no XSDT");

	CHECK(acpi_info.lapic_addr == 0xfee00000, "v1: LAPIC address %#llx",
	      (unsigned long long)acpi_info.lapic_addr);
	CHECK(acpi_info.ncpus == 3, "v1: enabled + online-capable CPUs counted (%u)",
	      acpi_info.ncpus);
	CHECK(acpi_info.ncpu_entries == 4,
	      "v1: four processor entries kept, absent one included (%u)", acpi_info.ncpu_entries);
	CHECK(acpi_info.cpus[0].apic_id == 0 && acpi_info.cpus[0].usable &&
		      acpi_info.cpus[0].enabled && !acpi_info.cpus[0].x2apic,
	      "v1: CPU entry 0: APIC id 0, enabled");
	CHECK(acpi_info.cpus[1].apic_id == 1 && !acpi_info.cpus[1].usable &&
		      !acpi_info.cpus[1].enabled,
	      "v1: CPU entry 1: APIC id 1, absent (neither enabled nor online capable)");
	CHECK(acpi_info.cpus[2].apic_id == 2 && acpi_info.cpus[2].usable &&
		      !acpi_info.cpus[2].enabled,
	      "v1: CPU entry 2: APIC id 2, online capable only");
	CHECK(acpi_info.cpus[3].apic_id == 300 && acpi_info.cpus[3].uid == 7 &&
		      acpi_info.cpus[3].x2apic && acpi_info.cpus[3].enabled,
	      "v1: CPU entry 3: x2APIC id 300, UID 7; the repeated id 0 and id 0xff are not "
	      "listed");
	CHECK(acpi_info.has_8259, "v1: PCAT_COMPAT flag");
	CHECK(acpi_info.nioapics == 2, "v1: two IOAPICs (%u)", acpi_info.nioapics);
	CHECK(acpi_info.ioapics[0].addr == 0xfec00000 && acpi_info.ioapics[0].gsi_base == 0 &&
		      acpi_info.ioapics[0].id == 0,
	      "v1: IOAPIC 0 at 0xfec00000, GSI base 0");
	CHECK(acpi_info.ioapics[1].addr == 0xfec10000 && acpi_info.ioapics[1].gsi_base == 24 &&
		      acpi_info.ioapics[1].id == 1,
	      "v1: IOAPIC 1 at 0xfec10000, GSI base 24");
	CHECK(acpi_info.noverrides == 2, "v1: two overrides (%u)", acpi_info.noverrides);
	CHECK(acpi_info.overrides[0].isa_irq == 0 && acpi_info.overrides[0].gsi == 2 &&
		      acpi_info.overrides[0].flags == 0,
	      "v1: override IRQ 0 -> GSI 2");
	CHECK(acpi_info.overrides[1].isa_irq == 9 && acpi_info.overrides[1].gsi == 9 &&
		      acpi_info.overrides[1].flags == 0xd,
	      "v1: override IRQ 9 -> GSI 9, level, active high");
	CHECK(acpi_info.nmcfg == 1 && acpi_info.mcfg[0].base == 0xb0000000 &&
		      acpi_info.mcfg[0].segment == 0 && acpi_info.mcfg[0].bus_start == 0 &&
		      acpi_info.mcfg[0].bus_end == 255,
	      "v1: MCFG window 0xb0000000 buses 0-255");

	CHECK(mm_host_was_reserved(addr(rsdp), 20), "v1: RSDP reserved");
	CHECK(reserved(rsdt) && reserved(fadt) && reserved(madt) && reserved(mcfg) &&
		      reserved(dsdt) && reserved(ssdt1) && reserved(ssdt2),
	      "v1: every table used is reserved");
	CHECK(!mm_host_was_reserved(addr(bad), 56), "v1: the bad table is not reserved");

	/* The same RSDP found by scanning a "BIOS area". */
	CHECK(acpi_scan_rsdp(addr(rsdp) - 0x40, 0x100) == addr(rsdp),
	      "v1: RSDP found by scanning 16-byte boundaries");
	CHECK(acpi_scan_rsdp(addr(rsdp) + 16, 0x100) == 0, "v1: scan past it finds nothing");
}

static void test_v2(void)
{
	/* XSDT-only tables in the heap (above 4 GiB on x86-64 Linux). */
	void *dsdt_x = table(calloc(1, 64), "DSDT", 64);
	void *dsdt_32 = table(arena_alloc(64), "DSDT", 64);
	void *fadt = build_fadt(calloc(1, 276), (uint32_t)addr(dsdt_32), addr(dsdt_x));
	void *madt = build_madt(calloc(1, 256), 0x1fee00000ull);
	void *xsdt = calloc(1, 36 + 8 * 2);
	void *madt_v1 = build_madt(arena_alloc(256), 0);
	const void *xlist[] = {fadt, madt};
	const void *rlist[] = {madt_v1};
	void *rsdt = build_rsdt(rlist, 1);
	void *rsdp;

	build_xsdt(xsdt, xlist, 2);
	rsdp = rsdp_v2((uint32_t)addr(rsdt), addr(xsdt));

	mm_host_reset();
	CHECK(acpi_init(addr(rsdp)) == 0, "v2: acpi_init with an RSDP rev 2 and an XSDT");
	CHECK(acpi_find_table("XSDT", 0) == xsdt && acpi_find_table("RSDT", 0) == NULL,
	      "v2: the XSDT is used, not the RSDT");
	CHECK(acpi_find_table("APIC", 0) == madt, "v2: MADT through a 64-bit pointer");
	CHECK(acpi_find_table("DSDT", 0) == dsdt_x, "v2: DSDT from X_DSDT, which wins over DSDT");
	CHECK(acpi_info.lapic_addr == 0x1fee00000ull,
	      "v2: LAPIC address override (type 5) replaces the 32-bit one: %#llx",
	      (unsigned long long)acpi_info.lapic_addr);
	CHECK(acpi_info.nioapics == 2 && acpi_info.noverrides == 2 && acpi_info.nmcfg == 0,
	      "v2: MADT entries parsed once, no MCFG");
	CHECK(mm_host_was_reserved(addr(rsdp), 36) && reserved(xsdt) && reserved(madt) &&
		      reserved(fadt) && reserved(dsdt_x),
	      "v2: RSDP (36 bytes) and every table reserved");

	/* A broken XSDT: fall back to the RSDT. */
	((uint8_t *)xsdt)[36] ^= 1;
	CHECK(acpi_init(addr(rsdp)) == 0 && acpi_find_table("RSDT", 0) == rsdt &&
		      acpi_find_table("APIC", 0) == madt_v1,
	      "v2: XSDT with a bad checksum -> the RSDT is used");

	/* A wrong extended checksum makes the whole RSDP invalid. */
	((uint8_t *)rsdp)[32] ^= 1;
	CHECK(acpi_init(addr(rsdp)) == -ENOENT && !acpi_present(),
	      "v2: RSDP with a bad extended checksum -> -ENOENT");
	CHECK(acpi_find_table("APIC", 0) == NULL && acpi_info.nioapics == 0,
	      "v2: nothing left over from the previous acpi_init");

	free(dsdt_x);
	free(fadt);
	free(madt);
	free(xsdt);
}

static void test_bad(void)
{
	uint8_t *r;
	uint8_t *madt = arena_alloc(80);
	const void *list[1];

	/* RSDP v1 with a bad checksum. */
	r = rsdp_v1(0);
	r[8] ^= 0xff;
	CHECK(acpi_init(addr(r)) == -ENOENT, "bad RSDP checksum -> -ENOENT");
	CHECK(acpi_scan_rsdp(addr(r), 16) == 0, "a scan skips an RSDP with a bad checksum");

	/* A MADT whose second entry claims length 0 must not hang the parser,
	 * and one whose entry runs past the end must not be read past it. */
	memset(madt, 0, 80);
	put32(madt, 36, 0xfee00000);
	madt[44] = 1, madt[45] = 12;
	put32(madt, 48, 0xfec00000);
	madt[56] = 2, madt[57] = 0;
	seal(madt, "APIC", 80);
	list[0] = madt;
	r = rsdp_v1((uint32_t)addr(build_rsdt(list, 1)));
	CHECK(acpi_init(addr(r)) == 0 && acpi_info.nioapics == 1 && acpi_info.noverrides == 0,
	      "MADT entry of length 0: parsing stops after the entries before it");

	madt[45] = 200; /* first entry now overruns the table */
	seal(madt, "APIC", 80);
	CHECK(acpi_init(addr(r)) == 0 && acpi_info.nioapics == 0,
	      "MADT entry longer than the table is not parsed");

	/* An RSDT entry pointing at a "table" with an absurd length. */
	madt[4] = 0, madt[5] = 0, madt[6] = 0, madt[7] = 0x40; /* 1 GiB */
	CHECK(acpi_init(addr(r)) == 0 && acpi_find_table("APIC", 0) == NULL,
	      "table with a 1 GiB length is ignored");

	/* XSDT entries no CPU can address go through ioremap's checks (the
	 * host shim's, at 48 bits) and are skipped; the good one is used. */
	uint8_t *xsdt = calloc(1, 36 + 8 * 3);
	void *madt_ok = build_madt(calloc(1, 256), 0);

	put64(xsdt, 36, 0xffffffffffff0000ull); /* beyond the address width */
	put64(xsdt, 44, 0xffffffffffffffe0ull); /* its header wraps past 2^64 */
	put64(xsdt, 52, addr(madt_ok));
	seal(xsdt, "XSDT", 36 + 8 * 3);
	r = rsdp_v2(0, addr(xsdt));
	CHECK(acpi_init(addr(r)) == 0 && acpi_find_table("APIC", 0) == madt_ok,
	      "XSDT entries beyond the CPU or wrapping are skipped, the rest used");
	free(madt_ok);
	free(xsdt);
}

int main(void)
{
	arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (arena == MAP_FAILED) {
		perror("mmap MAP_32BIT");
		return 1;
	}
	test_v1();
	test_v2();
	test_bad();
	return tap_done();
}
