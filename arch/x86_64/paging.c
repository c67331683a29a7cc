/*
 * The kernel's page tables (Intel SDM vol. 3, 4.5: 4-level paging).
 *
 * Everything is identity mapped (virtual == physical) with 2 MiB pages:
 *  - RAM (usable, ACPI and NVS regions of the memory map) is write-back;
 *  - everything else below 4 GiB (PCI windows, ECAM, LAPIC, IOAPIC, flash)
 *    is mapped uncached, because a device register must see every access,
 *    in order, exactly once. A 2 MiB page only partly covered by RAM is
 *    uncached too: correct, merely slower for that bit of RAM;
 *  - above 4 GiB only RAM is mapped at boot; device memory there (64-bit PCI
 *    BARs, which OVMF places high) is mapped uncached on demand by ioremap().
 * Unmapped addresses fault, so a wild pointer shows up as a page fault dump.
 *
 * Uncached means PCD|PWT set in the entry: with the power-on PAT that
 * selects PAT entry 3, "UC" (SDM 11.12.3).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arch/x86_64/boot/boot_info.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/phys_range.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE   (1ull << 1)
#define PTE_PWT	    (1ull << 3)
#define PTE_PCD	    (1ull << 4)
#define PTE_HUGE    (1ull << 7)
#define PTE_ADDR    0x000ffffffffff000ull

#define HUGE_PAGE (2ull << 20)
#define FOUR_GIB  (4ull << 30)

static uint64_t *pml4;
static page_table_alloc_fn *alloc_table; /* the kernel's page allocator */
static unsigned phys_bits;		 /* MAXPHYADDR, read once */

unsigned paging_phys_addr_bits(void)
{
	if (!phys_bits) {
		unsigned bits = cpu_phys_addr_bits();
		/* A CPU reporting nonsense gets the architectural default. */
		phys_bits =
			bits >= 32 && bits <= PHYS_ADDR_BITS_MAX ? bits : PHYS_ADDR_BITS_DEFAULT;
	}
	return phys_bits;
}

static bool is_ram_type(uint32_t type)
{
	return type == MEM_USABLE || type == MEM_ACPI_RECLAIM || type == MEM_ACPI_NVS;
}

/* Is [base, base + len) entirely covered by RAM-type regions? */
static bool range_is_ram(const struct mem_region *regions, unsigned n, uint64_t base, uint64_t len)
{
	uint64_t pos = base, end = base + len;
	bool progress = true;

	/* Regions may be unsorted: sweep until no region extends coverage. */
	while (pos < end && progress) {
		progress = false;
		for (unsigned i = 0; i < n; i++) {
			const struct mem_region *r = &regions[i];
			if (is_ram_type(r->type) && r->base <= pos && pos < r->base + r->length) {
				pos = r->base + r->length;
				progress = true;
			}
		}
	}
	return pos >= end;
}

/* The next-level table behind table[index], allocated when absent; NULL
 * when out of memory. */
static uint64_t *next_table(uint64_t *table, unsigned index)
{
	if (!(table[index] & PTE_PRESENT)) {
		void *page = alloc_table(1);
		if (!page)
			return NULL;
		table[index] = (uint64_t)(uintptr_t)page | PTE_PRESENT | PTE_WRITE;
	}
	return (uint64_t *)(uintptr_t)(table[index] & PTE_ADDR);
}

/* Map one 2 MiB page at `addr` (2 MiB aligned) onto itself. An existing
 * mapping is left alone unless `replace` is set. 0 or -ENOMEM. */
static int map_huge(uint64_t addr, bool uncached, bool replace)
{
	uint64_t *pdpt = next_table(pml4, (addr >> 39) & 511);
	uint64_t *pd = pdpt ? next_table(pdpt, (addr >> 30) & 511) : NULL;
	uint64_t *pde;

	if (!pd)
		return -ENOMEM;
	pde = &pd[(addr >> 21) & 511];
	if ((*pde & PTE_PRESENT) && !replace)
		return 0;
	*pde = addr | PTE_PRESENT | PTE_WRITE | PTE_HUGE | (uncached ? PTE_PCD | PTE_PWT : 0);
	return 0;
}

int paging_init(const struct mem_region *regions, unsigned n, page_table_alloc_fn *alloc)
{
	int err = 0;

	alloc_table = alloc;
	pml4 = alloc_table(1);
	if (!pml4)
		return -ENOMEM;

	for (uint64_t a = 0; a < FOUR_GIB && !err; a += HUGE_PAGE)
		err = map_huge(a, a >= HUGE_PAGE && !range_is_ram(regions, n, a, HUGE_PAGE), true);

	for (unsigned i = 0; i < n && !err; i++) {
		const struct mem_region *r = &regions[i];
		uint64_t end = r->base + r->length;
		/* The boot path fitted the map to the CPU (boot_info_fit_to_cpu);
		 * an entry beyond it would hold reserved bits. */
		if (!is_ram_type(r->type) || end <= FOUR_GIB ||
		    phys_range_check(r->base, r->length, paging_phys_addr_bits()) != PHYS_RANGE_OK)
			continue;
		for (uint64_t a = r->base & ~(HUGE_PAGE - 1); a < end && !err; a += HUGE_PAGE)
			if (a >= FOUR_GIB)
				err = map_huge(a, false, false);
	}
	/* Half-built tables stay unused: the boot tables remain in force. */
	if (!err)
		write_cr3((uint64_t)(uintptr_t)pml4);
	return err;
}

void *ioremap(uint64_t phys, uint64_t size)
{
	enum phys_range_verdict v = phys_range_check(phys, size, paging_phys_addr_bits());

	/* Refused before any entry is built: a range that wraps would loop
	 * the 2 MiB steps below past 2^64, and one beyond MAXPHYADDR would
	 * build entries whose reserved bits fault on the first access. */
	if (v != PHYS_RANGE_OK) {
		printf("error: ioremap: base %#llx size %#llx %s (%u-bit physical addresses, "
		       "up to %#llx); not mapped\n",
		       (unsigned long long)phys, (unsigned long long)size,
		       phys_range_verdict_text(v), paging_phys_addr_bits(),
		       (unsigned long long)((1ull << paging_phys_addr_bits()) - 1));
		return NULL;
	}
	if (phys + size > FOUR_GIB) {
		for (uint64_t a = phys & ~(HUGE_PAGE - 1); a < phys + size; a += HUGE_PAGE) {
			if (map_huge(a, true, false)) {
				printf("error: paging: no memory for the page tables to map "
				       "%#llx-%#llx\n",
				       (unsigned long long)phys, (unsigned long long)(phys + size));
				return NULL;
			}
		}
		write_cr3(read_cr3()); /* flush the TLB: simple, and rare */
	}
	return (void *)(uintptr_t)phys;
}
