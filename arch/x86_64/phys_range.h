/*
 * Physical address ranges against the CPU's physical-address width
 * (Intel SDM vol. 3A, 4.1.4: CPUID.80000008H:EAX[7:0] is MAXPHYADDR; 4.5.4:
 * address bits of a paging-structure entry at or above MAXPHYADDR are
 * reserved, and a walk that meets one raises #PF with the RSVD bit set).
 *
 * Every address the kernel maps comes from someone else: firmware tables
 * (ACPI, MCFG, MADT), PCI BARs, the boot memory map, or the command line
 * (virtio_mmio.device=). Such a range is checked here before a page table
 * entry is built for it. Pure functions, so the host tests run them.
 */
#ifndef ARCH_X86_64_PHYS_RANGE_H
#define ARCH_X86_64_PHYS_RANGE_H

#include <stdint.h>

struct mem_region;

/* SDM 4.1.4: a CPU without leaf 0x80000008 has 36 physical-address bits. */
#define PHYS_ADDR_BITS_DEFAULT 36
/* 4-level paging carries at most 52 address bits in an entry. */
#define PHYS_ADDR_BITS_MAX 52

enum phys_range_verdict {
	PHYS_RANGE_OK,
	PHYS_RANGE_EMPTY,  /* size 0 */
	PHYS_RANGE_WRAPS,  /* phys + size passes 2^64 */
	PHYS_RANGE_BEYOND, /* some byte at or above 2^bits */
};

/* Is [phys, phys + size) addressable by a CPU with `bits` physical-address
 * bits? */
enum phys_range_verdict phys_range_check(uint64_t phys, uint64_t size, unsigned bits);

/* What a verdict means, for an error message ("lies beyond the CPU's ..."). */
const char *phys_range_verdict_text(enum phys_range_verdict v);

/* Fits a memory map to a CPU with `bits` physical-address bits: a region
 * that wraps or starts beyond the limit is dropped, one that crosses it is
 * cut at the limit, each with a warning. Returns the new region count (the
 * kept regions stay in order at the front of the array). */
unsigned mem_map_fit(struct mem_region *regions, unsigned n, unsigned bits);

#endif
