/*
 * A recording mm_reserve() for host tests (see acpi_mm_host.h). It is weak:
 * a test that links the real kernel/mm/page_alloc.c gets the real one, and the two
 * never collide at link time.
 */
#include "acpi_mm_host.h"
#include "kernel/mm/page_alloc.h"

struct mm_host_range mm_host_reserved[MM_HOST_MAX_RESERVED];
unsigned mm_host_nreserved;

__attribute__((weak)) void mm_reserve(uint64_t base, uint64_t len)
{
	if (mm_host_nreserved < MM_HOST_MAX_RESERVED)
		mm_host_reserved[mm_host_nreserved++] = (struct mm_host_range){base, len};
}

int mm_host_was_reserved(uint64_t base, uint64_t len)
{
	for (unsigned i = 0; i < mm_host_nreserved; i++)
		if (base >= mm_host_reserved[i].base &&
		    base + len <= mm_host_reserved[i].base + mm_host_reserved[i].len)
			return 1;
	return 0;
}

void mm_host_reset(void)
{
	mm_host_nreserved = 0;
}
