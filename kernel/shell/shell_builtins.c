/*
 * The shell's core commands: what the kernel knows about itself. Device
 * commands live with their drivers (`irqs` in kernel/irq/irq.c, ...).
 */
#include <stdint.h>
#include <stdio.h>

#include "arch/x86_64/boot/boot_info.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/shell/shell.h"
#include "arch/x86_64/machine.h"
#include "kernel/time/timer.h"

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

static int cmd_uptime(int argc, char **argv)
{
	uint64_t ns = time_ns();

	printf("up %llu.%03llu s, ticks %llu\n", (unsigned long long)(ns / 1000000000u),
	       (unsigned long long)(ns / 1000000u % 1000u), (unsigned long long)timer_ticks());
	return 0;
}
SHELL_COMMAND(uptime, "uptime", "time since the timer started, and timer ticks", cmd_uptime);

static int cmd_cmdline(int argc, char **argv)
{
	printf("%s\n", boot_info.cmdline);
	return 0;
}
SHELL_COMMAND(cmdline, "cmdline", "the kernel command line, as received", cmd_cmdline);

static int cmd_halt(int argc, char **argv)
{
	printf("halting\n");
	machine_exit(EXIT_HALT);
}
SHELL_COMMAND(halt, "halt",
	      "power off: isa-debug-exit (QEMU status 1), else ACPI S5 (status 0), else halt",
	      cmd_halt);
