/*
 * The shell's `mem` command: the page allocator's figures
 * (kernel/mm/page_alloc.c) and the memory map the loader handed over.
 */
#include <stdint.h>
#include <stdio.h>

#include "arch/x86_64/boot/boot_info.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/shell/shell.h"

static const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI_RECLAIM:
		return "ACPI tables";
	case MEM_ACPI_NVS:
		return "ACPI NVS";
	case MEM_BAD:
		return "bad";
	default:
		return "unknown";
	}
}

static int cmd_mem(int argc, char **argv)
{
	struct mm_stats st;

	mm_get_stats(&st);
	printf("usable %llu KiB, free %llu KiB (%llu pages), kernel 0x%llx-0x%llx\n",
	       (unsigned long long)(st.total_usable >> 10), (unsigned long long)(st.free >> 10),
	       (unsigned long long)(st.free / PAGE_SIZE), (unsigned long long)st.kernel_start,
	       (unsigned long long)st.kernel_end);
	printf("boot memory map (%u entries, as the loader gave it):\n", boot_info.nregions);
	for (uint32_t i = 0; i < boot_info.nregions && i < BOOT_MAX_REGIONS; i++) {
		const struct mem_region *r = &boot_info.regions[i];

		printf("  0x%016llx-0x%016llx %-11s %llu KiB\n", (unsigned long long)r->base,
		       (unsigned long long)(r->base + r->length), mem_type_name(r->type),
		       (unsigned long long)(r->length >> 10));
	}
	return 0;
}
SHELL_COMMAND(mem, "mem", "memory: allocator figures and the boot memory map", cmd_mem);
