/*
 * Per-CPU data (arch/x86_64/percpu.c): one struct percpu for each
 * processor, found through the GS segment base (Intel SDM vol. 3A, 3.4.4;
 * the IA32_GS_BASE MSR). The structure's first field points to itself, so
 * `this_cpu()` is a single `mov %gs:0`: no table lookup, no APIC read, and
 * correct on whichever CPU the code happens to run.
 *
 * Ownership: a CPU writes only its own structure; other CPUs read it (the
 * `cpus` command), so the counters are plain 64-bit stores, which x86 never
 * tears, read with a volatile load.
 */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stdint.h>

#include "arch/x86_64/gdt.h"

#define IST_STACK_SIZE 8192

struct percpu {
	struct percpu *self; /* %gs:0 */
	unsigned index;	     /* 0 is the boot CPU; the others in MADT order */
	uint32_t apic_id;
	volatile uint64_t ticks; /* timer ticks this CPU took */
	volatile uint64_t irqs;	 /* interrupts this CPU dispatched (ticks included) */
	struct cpu_tables tables;
	/* NMI, double fault and machine check run here (IST1): a known-good
	 * stack even when the kernel stack has overflowed. */
	uint8_t ist1_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
};

/* The boot CPU's structure is static: it exists before any allocator. */
extern struct percpu boot_cpu;

/* Make `cpu` this CPU's: point GS at it and load its GDT and TSS. Called
 * once on each CPU, first thing (kmain for the boot CPU, ap_entry for the
 * others), with `cpu` zeroed except for index and apic_id. */
void percpu_install(struct percpu *cpu);

/* The initial APIC id from CPUID (leaf 1, EBX[31:24]): needs no LAPIC
 * mapping, so it works before lapic_init(). */
uint32_t cpuid_apic_id(void);

#ifndef HOST_TEST
static inline struct percpu *this_cpu(void)
{
	struct percpu *cpu;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(cpu));
	return cpu;
}
#else
/* Host tests: test/host/shim/percpu_host.c gives each thread its own. */
struct percpu *this_cpu(void);
#endif

#endif
