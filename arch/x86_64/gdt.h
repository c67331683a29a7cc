/*
 * One CPU's descriptor tables (arch/x86_64/gdt.c; Intel SDM vol. 3A, 3.4.5
 * "Segment Descriptors" and 8.7 "Task Management in 64-bit Mode"). Every
 * CPU needs its own TSS, because the TSS holds the stacks the CPU switches
 * to (IST1 for NMI, double fault and machine check), and a TSS descriptor
 * is marked busy by `ltr`, so each CPU also needs its own GDT to hold it.
 */
#ifndef ARCH_X86_64_GDT_H
#define ARCH_X86_64_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS		0x18

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct cpu_tables {
	uint64_t gdt[5] __attribute__((aligned(16))); /* null, code, data, TSS (two slots) */
	struct tss tss __attribute__((aligned(16)));
};

/* Fill `t` (IST1 = `ist1_top`, the top of a stack) and load it on this CPU:
 * lgdt, reload the segment registers, ltr. */
void gdt_load(struct cpu_tables *t, void *ist1_top);

#endif
