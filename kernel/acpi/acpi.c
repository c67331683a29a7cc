/*
 * ACPI table discovery (ACPI 6.5, chapter 5.2 "ACPI System Description
 * Tables"): the Root System Description Pointer (5.2.5), the RSDT/XSDT
 * (5.2.7, 5.2.8), the FADT's pointer to the DSDT (5.2.9), the MADT
 * (5.2.12) and the PCI Express MCFG table (PCI Firmware Specification 3.x,
 * 4.1.2).
 *
 * Firmware leaves the tables in memory the boot memory map calls
 * ACPI-reclaim (or plain reserved); we only read them, so all we must do is
 * keep the page allocator away from them (mm_reserve). Every table carries a
 * checksum: all its bytes sum to zero modulo 256. A table whose checksum is
 * wrong is reported and ignored, because a half-written or stale table is
 * worse than none (its interrupt routing would be wrong).
 *
 * Physical memory is identity mapped, so a table's physical address is also
 * where we read it; every address the firmware hands us still goes through
 * ioremap(), which refuses a range the CPU cannot address.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86_64/paging.h"
#include "kernel/acpi/acpi.h"
#include "kernel/lib/log.h"
#include "kernel/mm/page_alloc.h"

struct acpi_info acpi_info;

/* ACPI 5.2.5.3: the RSDP. Revision 0 (ACPI 1.0) ends after rsdt_address
 * (20 bytes, covered by `checksum`); revision 2 adds the 64-bit XSDT pointer
 * and a checksum over the whole `length`. */
struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

/* Offsets inside the tables we read (after the 36-byte common header). */
#define SDT_HDR_LEN	 36
#define FADT_DSDT	 40  /* 32-bit physical address of the DSDT */
#define FADT_X_DSDT	 140 /* 64-bit address, ACPI 2.0+, wins if non-zero */
#define MADT_LAPIC_ADDR	 36
#define MADT_FLAGS	 40
#define MADT_ENTRIES	 44
#define MADT_PCAT_COMPAT (1u << 0)
#define MCFG_ENTRIES	 44 /* header + 8 reserved bytes */
#define MCFG_ENTRY_LEN	 16

/* MADT interrupt controller structure types (ACPI 5.2.12, table 5.21). */
enum {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_ISO = 2, /* interrupt source override */
	MADT_NMI_SOURCE = 3,
	MADT_LAPIC_NMI = 4,
	MADT_LAPIC_ADDR_OVERRIDE = 5,
	MADT_X2APIC = 9,
};
#define MADT_CPU_ENABLED	(1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)

/* No real table is this big; a larger length means we are reading garbage. */
#define ACPI_MAX_TABLE_LEN (16u << 20)
#define ACPI_MAX_TABLES	   64

static const struct acpi_sdt_header *tables[ACPI_MAX_TABLES];
static unsigned ntables;
static bool present;

/* Tables are byte-packed: read fields with memcpy so no access is unaligned. */
static uint16_t get16(const void *p, size_t off)
{
	uint16_t v;
	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}

static uint32_t get32(const void *p, size_t off)
{
	uint32_t v;
	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}

static uint64_t get64(const void *p, size_t off)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}

static uint8_t sum_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum;
}

static bool rsdp_valid(const struct acpi_rsdp *r)
{
	if (memcmp(r->signature, "RSD PTR ", 8) != 0)
		return false;
	if (sum_bytes(r, RSDP_V1_LEN) != 0)
		return false;
	/* Revision 2+ (ACPI 2.0 and later): the extended checksum covers the
	 * whole structure, whose length must at least hold the XSDT pointer. */
	if (r->revision >= 2) {
		uint32_t len = r->length;
		if (len < RSDP_V2_LEN || len > 4096 || sum_bytes(r, len) != 0)
			return false;
	}
	return true;
}

/*
 * ACPI 5.2.5.1: on BIOS systems the RSDP lies on a 16-byte boundary either in
 * the first KiB of the Extended BIOS Data Area (whose segment is stored at
 * 0x40e) or in the BIOS ROM area 0xe0000-0xfffff. Not static so the host
 * test can point it at a buffer.
 */
uint64_t acpi_scan_rsdp(uint64_t phys, uint64_t len)
{
	for (uint64_t off = 0; off + RSDP_V1_LEN <= len; off += 16) {
		const struct acpi_rsdp *r = phys_to_virt(phys + off);
		if (memcmp(r->signature, "RSD PTR ", 8) == 0 && rsdp_valid(r))
			return phys + off;
	}
	return 0;
}

static uint64_t find_rsdp_bios(void)
{
	uint64_t ebda = (uint64_t)get16(phys_to_virt(0x40e), 0) << 4;
	uint64_t rsdp = 0;

	/* The EBDA sits just below 640 KiB; a value outside that range means
	 * there is no EBDA (PVH, EFI), and reading there would be pointless. */
	if (ebda >= 0x80000 && ebda < 0xa0000)
		rsdp = acpi_scan_rsdp(ebda, 1024);
	if (!rsdp)
		rsdp = acpi_scan_rsdp(0xe0000, 0x20000);
	return rsdp;
}

/* Map a table header, check its length and checksum. `what` names where the
 * pointer came from, for the error message. */
static const struct acpi_sdt_header *check_table(uint64_t phys, const char *what)
{
	const struct acpi_sdt_header *h;

	if (phys == 0)
		return NULL;
	/* The address is the firmware's word: map the header, then the
	 * length it claims, each through ioremap's range checks. */
	h = ioremap(phys, SDT_HDR_LEN);
	if (!h) {
		pr_warn("acpi: %s at %#llx cannot be mapped; ignored\n", what,
			(unsigned long long)phys);
		return NULL;
	}
	if (h->length < SDT_HDR_LEN || h->length > ACPI_MAX_TABLE_LEN) {
		pr_warn("acpi: %s at %#llx: length %u, expected %u..%u; ignored\n", what,
			(unsigned long long)phys, (unsigned)h->length, SDT_HDR_LEN,
			ACPI_MAX_TABLE_LEN);
		return NULL;
	}
	if (!ioremap(phys, h->length)) {
		pr_warn("acpi: table %.4s at %#llx (%u bytes) cannot be mapped; ignored\n",
			h->signature, (unsigned long long)phys, (unsigned)h->length);
		return NULL;
	}
	if (sum_bytes(h, h->length) != 0) {
		pr_warn("acpi: table %.4s at %#llx: bad checksum (bytes sum to %#x, expected 0); "
			"ignored\n",
			h->signature, (unsigned long long)phys, sum_bytes(h, h->length));
		return NULL;
	}
	return h;
}

static void add_table(const struct acpi_sdt_header *h)
{
	for (unsigned i = 0; i < ntables; i++)
		if (tables[i] == h)
			return; /* listed twice (DSDT via FADT and XSDT) */
	if (ntables == ACPI_MAX_TABLES) {
		pr_warn("acpi: more than %u tables; %.4s ignored\n", ACPI_MAX_TABLES, h->signature);
		return;
	}
	tables[ntables++] = h;
	mm_reserve(virt_to_phys(h), h->length);
}

const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned n)
{
	for (unsigned i = 0; i < ntables; i++)
		if (memcmp(tables[i]->signature, sig, 4) == 0 && n-- == 0)
			return tables[i];
	return NULL;
}

const struct acpi_sdt_header *acpi_table(unsigned n)
{
	return n < ntables ? tables[n] : NULL;
}

bool acpi_present(void)
{
	return present;
}

void acpi_walk_devices(aml_device_fn fn, void *ctx)
{
	const struct acpi_sdt_header *h = acpi_find_table("DSDT", 0);

	for (unsigned n = 0; h; h = acpi_find_table("SSDT", n++)) {
		if (h->length < sizeof(*h)) {
			pr_warn("acpi: %.4s of %u bytes is shorter than its header\n", h->signature,
				(unsigned)h->length);
			continue;
		}
		aml_walk_devices((const uint8_t *)(h + 1), h->length - sizeof(*h), fn, ctx);
	}
}

/* The FADT (signature "FACP") points at the DSDT, which the XSDT does not
 * list. ACPI 5.2.9: X_DSDT, when present and non-zero, supersedes DSDT. */
static void add_dsdt(const struct acpi_sdt_header *fadt)
{
	uint64_t dsdt = 0;
	const struct acpi_sdt_header *h;

	if (fadt->length >= FADT_X_DSDT + 8)
		dsdt = get64(fadt, FADT_X_DSDT);
	if (dsdt == 0 && fadt->length >= FADT_DSDT + 4)
		dsdt = get32(fadt, FADT_DSDT);
	h = check_table(dsdt, "DSDT (from FADT)");
	if (!h)
		return;
	if (memcmp(h->signature, "DSDT", 4) != 0) {
		pr_warn("acpi: FADT's DSDT pointer %#llx leads to \"%.4s\", expected \"DSDT\"\n",
			(unsigned long long)dsdt, h->signature);
		return;
	}
	add_table(h);
}

/* One processor entry of the MADT, kept in the order the table gives (the
 * first is the boot CPU by convention, not by rule: kernel/smp/ matches the
 * BSP by its APIC id). Entries with neither "enabled" nor "online capable"
 * are kept too, as absent CPUs (a hot-plug slot: `-smp 2,maxcpus=4`). */
static void add_cpu(struct acpi_info *ai, uint32_t apic_id, uint32_t uid, uint32_t flags,
		    bool x2apic)
{
	/* 0xff in an xAPIC entry means "no APIC": such an entry names no CPU. */
	if (!x2apic && apic_id == 0xff)
		return;
	for (unsigned i = 0; i < ai->ncpu_entries; i++) {
		if (ai->cpus[i].apic_id == apic_id) {
			pr_warn("acpi: MADT lists APIC id %u twice; the second entry is ignored\n",
				(unsigned)apic_id);
			return;
		}
	}
	if (ai->ncpu_entries == ACPI_MAX_CPUS) {
		ai->ncpus_ignored++;
		return;
	}
	ai->cpus[ai->ncpu_entries++] = (struct acpi_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.usable = flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE),
		.enabled = flags & MADT_CPU_ENABLED,
		.x2apic = x2apic,
	};
	if (flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE))
		ai->ncpus++;
}

static void parse_madt(const struct acpi_sdt_header *madt)
{
	struct acpi_info *ai = &acpi_info;
	uint32_t len = madt->length;

	if (len < MADT_ENTRIES) {
		pr_warn("acpi: MADT length %u, expected at least %u\n", (unsigned)len,
			MADT_ENTRIES);
		return;
	}
	ai->lapic_addr = get32(madt, MADT_LAPIC_ADDR);
	ai->has_8259 = get32(madt, MADT_FLAGS) & MADT_PCAT_COMPAT;

	for (uint32_t off = MADT_ENTRIES; off + 2 <= len;) {
		const uint8_t *e = (const uint8_t *)madt + off;
		uint8_t type = e[0], elen = e[1];

		/* A zero or overlong entry would loop forever or run off the end. */
		if (elen < 2 || off + elen > len) {
			pr_warn("acpi: MADT entry at offset %u has length %u (table length %u); "
				"rest ignored\n",
				(unsigned)off, elen, (unsigned)len);
			break;
		}
		switch (type) {
		case MADT_LAPIC:
			/* Processor Local APIC (5.2.12.2): UID at 2, APIC id at 3. */
			if (elen >= 8)
				add_cpu(ai, e[3], e[2], get32(e, 4), false);
			break;
		case MADT_X2APIC:
			/* Processor Local x2APIC (5.2.12.12): id at 4, flags at 8,
			 * UID at 12. Firmware uses these for ids of 255 and up. */
			if (elen >= 16)
				add_cpu(ai, get32(e, 4), get32(e, 12), get32(e, 8), true);
			break;
		case MADT_IOAPIC:
			if (elen < 12)
				break;
			if (ai->nioapics == ACPI_MAX_IOAPICS) {
				pr_warn("acpi: more than %u IOAPICs; id %u ignored\n",
					ACPI_MAX_IOAPICS, e[2]);
				break;
			}
			ai->ioapics[ai->nioapics++] = (struct acpi_ioapic){
				.id = e[2],
				.addr = get32(e, 4),
				.gsi_base = get32(e, 8),
			};
			break;
		case MADT_ISO:
			/* Bus 0 is ISA, the only bus the spec allows here. */
			if (elen < 10)
				break;
			if (ai->noverrides == ACPI_MAX_OVERRIDES) {
				pr_warn("acpi: more than %u interrupt overrides; IRQ %u ignored\n",
					ACPI_MAX_OVERRIDES, e[3]);
				break;
			}
			ai->overrides[ai->noverrides++] = (struct acpi_override){
				.isa_irq = e[3],
				.gsi = get32(e, 4),
				.flags = get16(e, 8),
			};
			break;
		case MADT_LAPIC_ADDR_OVERRIDE:
			/* 5.2.12.8: a 64-bit LAPIC address that replaces the
			 * 32-bit one in the header. */
			if (elen >= 12)
				ai->lapic_addr = get64(e, 4);
			break;
		default:
			break;
		}
		off += elen;
	}
	if (ai->ncpus_ignored)
		pr_warn("acpi: MADT lists %u processor entries beyond the first %u; those CPUs "
			"are not used\n",
			ai->ncpus_ignored, ACPI_MAX_CPUS);
}

static void parse_mcfg(const struct acpi_sdt_header *mcfg)
{
	struct acpi_info *ai = &acpi_info;

	for (uint32_t off = MCFG_ENTRIES; off + MCFG_ENTRY_LEN <= mcfg->length;
	     off += MCFG_ENTRY_LEN) {
		const uint8_t *e = (const uint8_t *)mcfg + off;
		if (ai->nmcfg == ACPI_MAX_MCFG) {
			pr_warn("acpi: more than %u MCFG windows; the rest ignored\n",
				ACPI_MAX_MCFG);
			break;
		}
		ai->mcfg[ai->nmcfg++] = (struct acpi_mcfg){
			.base = get64(e, 0),
			.segment = get16(e, 8),
			.bus_start = e[10],
			.bus_end = e[11],
		};
	}
}

/* Walk the XSDT (8-byte entries) or RSDT (4-byte entries). */
static void add_root_entries(const struct acpi_sdt_header *root, unsigned entry_size)
{
	unsigned n = (root->length - SDT_HDR_LEN) / entry_size;

	for (unsigned i = 0; i < n; i++) {
		size_t off = SDT_HDR_LEN + (size_t)i * entry_size;
		uint64_t phys = entry_size == 8 ? get64(root, off) : get32(root, off);
		const struct acpi_sdt_header *h =
			check_table(phys, entry_size == 8 ? "XSDT entry" : "RSDT entry");
		if (h)
			add_table(h);
	}
}

/* Pick the root table: the XSDT for revision 2+, the RSDT otherwise or when
 * the XSDT is broken. */
static const struct acpi_sdt_header *find_root(const struct acpi_rsdp *r, unsigned *entry_size)
{
	const struct acpi_sdt_header *h;

	if (r->revision >= 2 && r->xsdt_address) {
		h = check_table(r->xsdt_address, "XSDT");
		if (h && memcmp(h->signature, "XSDT", 4) == 0) {
			*entry_size = 8;
			return h;
		}
		pr_warn("acpi: XSDT at %#llx unusable, trying the RSDT\n",
			(unsigned long long)r->xsdt_address);
	}
	h = check_table(r->rsdt_address, "RSDT");
	if (h && memcmp(h->signature, "RSDT", 4) == 0) {
		*entry_size = 4;
		return h;
	}
	return NULL;
}

int acpi_init(uint64_t rsdp)
{
	const struct acpi_rsdp *r;
	const struct acpi_sdt_header *root, *h;
	unsigned entry_size = 0;

	/* Start from nothing, so the host test can call us repeatedly. */
	memset(&acpi_info, 0, sizeof(acpi_info));
	ntables = 0;
	present = false;

	if (rsdp == 0)
		rsdp = find_rsdp_bios();
	if (rsdp == 0) {
		pr_info("acpi: no RSDP (none handed over, none in the EBDA or BIOS area)\n");
		return -ENOENT;
	}
	/* Map the most rsdp_valid may read: it sums a revision 2 length
	 * only once that length is at most 4096. */
	r = ioremap(rsdp, 4096);
	if (!r) {
		pr_err("acpi: RSDP at %#llx cannot be mapped\n", (unsigned long long)rsdp);
		return -ENOENT;
	}
	if (!rsdp_valid(r)) {
		pr_err("acpi: RSDP at %#llx: bad signature or checksum, expected \"RSD PTR \" "
		       "with bytes summing to 0\n",
		       (unsigned long long)rsdp);
		return -ENOENT;
	}
	acpi_info.rsdp = rsdp;
	acpi_info.rsdp_revision = r->revision;
	mm_reserve(rsdp, r->revision >= 2 ? r->length : RSDP_V1_LEN);

	root = find_root(r, &entry_size);
	if (!root) {
		pr_err("acpi: RSDP at %#llx rev %u: neither XSDT nor RSDT is valid\n",
		       (unsigned long long)rsdp, r->revision);
		return -ENOENT;
	}
	add_table(root);
	add_root_entries(root, entry_size);

	h = acpi_find_table("FACP", 0);
	if (h)
		add_dsdt(h);
	h = acpi_find_table("APIC", 0);
	if (h)
		parse_madt(h);
	h = acpi_find_table("MCFG", 0);
	if (h)
		parse_mcfg(h);

	present = true;
	pr_info("acpi: RSDP rev %u at %#llx, %s, %u tables; LAPIC %#llx, %u CPU(s), %u IOAPIC(s), "
		"%u override(s)%s\n",
		r->revision, (unsigned long long)rsdp, entry_size == 8 ? "XSDT" : "RSDT", ntables,
		(unsigned long long)acpi_info.lapic_addr, acpi_info.ncpus, acpi_info.nioapics,
		acpi_info.noverrides, acpi_info.has_8259 ? ", 8259" : "");
	return 0;
}
