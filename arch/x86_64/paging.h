/*
 * The kernel's address space (arch/x86_64/paging.c; Intel SDM vol. 3A, 4.5
 * "4-Level Paging"): physical memory is identity mapped, so an address is
 * its own physical address. Code still converts with virt_to_phys() and
 * phys_to_virt(), so the mapping can change in one place.
 */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

struct mem_region;

/* Where page tables come from: `count` zeroed, page-aligned, contiguous
 * 4 KiB pages, or NULL. The kernel hands in its page allocator. */
typedef void *page_table_alloc_fn(size_t count);

/* Replace the boot page tables with ones built from the memory map: RAM
 * write-back, everything else below 4 GiB uncached. `alloc` also serves
 * ioremap() later. 0, or -ENOMEM (nothing was switched). */
int paging_init(const struct mem_region *regions, unsigned nregions, page_table_alloc_fn *alloc);

/* Make device memory at [phys, phys+size) accessible, uncached, and return
 * its (identity-mapped) address. Below 4 GiB everything is mapped at boot.
 * NULL, with a message, for a range that is empty, wraps past 2^64 or lies
 * beyond the CPU's physical address width (arch/x86_64/phys_range.h), or
 * when no page table could be allocated. Every address that comes from
 * firmware, a device or the command line goes through here. */
void *ioremap(uint64_t phys, uint64_t size);

/* The CPU's physical address width, MAXPHYADDR (read once). */
unsigned paging_phys_addr_bits(void);

#endif
