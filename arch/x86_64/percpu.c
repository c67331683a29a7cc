/*
 * Per-CPU data through GS (arch/x86_64/percpu.h; Intel SDM vol. 3A, 3.4.4
 * "Segment Loading Instructions in IA-32e Mode": in 64-bit mode the FS and
 * GS bases come from MSRs, and `mov %gs:0` reads at that base).
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"

#define MSR_GS_BASE 0xc0000101

struct percpu boot_cpu;

uint32_t cpuid_apic_id(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[1] >> 24;
}

void percpu_install(struct percpu *cpu)
{
	cpu->self = cpu;
	/* The GDT load below reloads the data segments but leaves GS alone;
	 * with a null selector in GS the base is the MSR's alone. */
	__asm__ volatile("movw %w0, %%gs" : : "r"(0));
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)cpu);
	gdt_load(&cpu->tables, cpu->ist1_stack + sizeof(cpu->ist1_stack));
}
