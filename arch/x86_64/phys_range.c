/*
 * Physical address ranges against MAXPHYADDR (Intel SDM vol. 3A, 4.1.4 and
 * 4.5.4). See phys_range.h.
 */
#include <stdio.h>

#include "arch/x86_64/boot/boot_info.h"
#include "arch/x86_64/phys_range.h"

/* One past the highest address a CPU with `bits` address bits reaches. */
static uint64_t phys_limit(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : 1ull << bits;
}

enum phys_range_verdict phys_range_check(uint64_t phys, uint64_t size, unsigned bits)
{
	if (size == 0)
		return PHYS_RANGE_EMPTY;
	if (phys + size < phys && phys + size != 0)
		return PHYS_RANGE_WRAPS;
	if (phys + size == 0) /* ends exactly at 2^64: the last byte is 2^64-1 */
		return bits >= 64 ? PHYS_RANGE_OK : PHYS_RANGE_BEYOND;
	if (phys + size > phys_limit(bits))
		return PHYS_RANGE_BEYOND;
	return PHYS_RANGE_OK;
}

const char *phys_range_verdict_text(enum phys_range_verdict v)
{
	switch (v) {
	case PHYS_RANGE_OK:
		return "is addressable";
	case PHYS_RANGE_EMPTY:
		return "is empty";
	case PHYS_RANGE_WRAPS:
		return "wraps past the top of the 64-bit address space";
	case PHYS_RANGE_BEYOND:
		return "lies beyond the CPU's physical address space";
	}
	return "is invalid";
}

unsigned mem_map_fit(struct mem_region *regions, unsigned n, unsigned bits)
{
	uint64_t limit = phys_limit(bits);
	unsigned kept = 0;

	for (unsigned i = 0; i < n; i++) {
		struct mem_region r = regions[i];
		enum phys_range_verdict v = phys_range_check(r.base, r.length, bits);

		if ((v == PHYS_RANGE_BEYOND || v == PHYS_RANGE_WRAPS) && r.base < limit) {
			printf("warning: memory map: region %#llx-%#llx (type %u) crosses the "
			       "CPU's "
			       "%u-bit physical address limit; cut at %#llx\n",
			       (unsigned long long)r.base,
			       (unsigned long long)(r.base + r.length - 1), (unsigned)r.type, bits,
			       (unsigned long long)limit);
			r.length = limit - r.base;
		} else if (v != PHYS_RANGE_OK && v != PHYS_RANGE_EMPTY) {
			printf("warning: memory map: region base %#llx length %#llx (type %u) %s "
			       "(%u bits); dropped\n",
			       (unsigned long long)r.base, (unsigned long long)r.length,
			       (unsigned)r.type, phys_range_verdict_text(v), bits);
			continue;
		}
		regions[kept++] = r;
	}
	return kept;
}
