/*
 * ioremap() for host tests: the identity, as in the kernel, behind the
 * kernel's own range checks (arch/x86_64/phys_range.c) with a 48-bit
 * address width, so a test's buffers (user addresses) map and a range
 * that wraps or lies beyond is refused. Weak: a test may define its own.
 */
#include <stdint.h>
#include <stdio.h>

#include "arch/x86_64/paging.h"
#include "arch/x86_64/phys_range.h"

#define HOST_PHYS_BITS 48

__attribute__((weak)) unsigned paging_phys_addr_bits(void)
{
	return HOST_PHYS_BITS;
}

__attribute__((weak)) void *ioremap(uint64_t phys, uint64_t size)
{
	enum phys_range_verdict v = phys_range_check(phys, size, paging_phys_addr_bits());

	if (v != PHYS_RANGE_OK) {
		printf("ioremap (host): %#llx+%#llx %s\n", (unsigned long long)phys,
		       (unsigned long long)size, phys_range_verdict_text(v));
		return NULL;
	}
	return (void *)(uintptr_t)phys;
}
