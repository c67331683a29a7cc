/*
 * kmain(): bring the kernel up, layer by layer, in the order the layers
 * depend on each other (docs/ARCHITECTURE.md), then run the self-tests named
 * on the command line or the interactive shell. The top of the kernel: it
 * may call every layer below, and nothing calls it but the boot entry.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/boot/boot_info.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/phys_range.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/acpi/acpi.h"
#include "kernel/console/console.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/lib/panic.h"
#include "kernel/lib/parse_value.h"
#include "kernel/libc/heap.h"
#include "kernel/main.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/selftest/bench.h"
#include "kernel/selftest/selftest.h"
#include "kernel/shell/shell.h"
#include "kernel/time/timer.h"

static void cpu_brand(char out[49])
{
	uint32_t r[4];

	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000004) {
		strcpy(out, "unknown CPU");
		return;
	}
	for (uint32_t leaf = 0; leaf < 3; leaf++) {
		cpuid(0x80000002 + leaf, 0, r);
		memcpy(out + leaf * 16, r, 16);
	}
	out[48] = 0;
	/* Leading spaces are common in brand strings. */
	char *p = out;
	while (*p == ' ')
		p++;
	memmove(out, p, strlen(p) + 1);
}

static void print_banner(void)
{
	struct mm_stats st;
	char brand[49];

	mm_get_stats(&st);
	cpu_brand(brand);
	printf("virtio-os %s, booted via %s\n", KERNEL_VERSION, boot_path_name(boot_info.path));
	printf("memory: %lu MiB usable, %lu MiB free; kernel at 0x%lx-0x%lx\n",
	       (unsigned long)(st.total_usable >> 20), (unsigned long)(st.free >> 20),
	       (unsigned long)st.kernel_start, (unsigned long)st.kernel_end);
	printf("cpu: %s; TSC %lu.%03lu MHz\n", brand, (unsigned long)(tsc_frequency() / 1000000),
	       (unsigned long)(tsc_frequency() / 1000 % 1000));
	uint64_t ns = tsc_to_ns(rdtsc() - boot_info.entry_tsc);
	printf("boot: %lu.%03lu ms since entry\n", (unsigned long)(ns / 1000000),
	       (unsigned long)(ns / 1000 % 1000));
}

noreturn void kmain(bool boot_info_ok)
{
	/* First: interrupt handlers and the clock find their CPU through GS. */
	boot_cpu.apic_id = cpuid_apic_id();
	percpu_install(&boot_cpu);
	console_init();
	setvbuf(stdout, NULL, _IONBF, 0); /* every printf reaches the wire at once */
	if (!boot_info_ok) {
		char why[200];

		boot_info_problem(why, sizeof why);
		panic("boot: the loader's information is invalid (path %s): %s",
		      boot_path_name(boot_info.path), why);
	}

	idt_init();
	/* Before anything uses the memory map: drop what the CPU cannot
	 * address, so neither the allocator nor the page tables see it. */
	boot_info.nregions =
		mem_map_fit(boot_info.regions, boot_info.nregions, paging_phys_addr_bits());
	mm_init();
	if (paging_init(boot_info.regions, boot_info.nregions, page_alloc))
		panic("paging: out of memory for the page tables");
	heap_init();
	acpi_init(boot_info.rsdp);
	irq_init();
	timer_init();
	__asm__ volatile("sti");
	console_start_input();

	print_banner();
	/* Every option is declared at link time, so the whole line is checked
	 * (and any bad word reported) here, before anything reads it. */
	cmdline_parse_received(boot_info.cmdline, boot_info.cmdline_len);
	run_initcalls();

	const char *tests = cmdline_string("test");
	if (tests)
		selftest_run(tests);
	const char *bench = cmdline_string("bench");
	bool off;
	if (bench && !(parse_bool(bench, &off) == 0 && !off)) /* bench=off runs nothing */
		bench_run(bench);
	shell_run();
}
