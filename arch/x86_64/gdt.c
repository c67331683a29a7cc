/*
 * The Global Descriptor Table and Task State Segment (Intel SDM vol. 3,
 * 3.4.5 and 8.7). In long mode segmentation is mostly gone, but the CPU
 * still needs a code segment with L=1, a data segment for SS, and a TSS: it
 * holds the interrupt stack table (IST), from which the CPU takes a known-good
 * stack for a double fault, so that a kernel stack overflow produces a dump
 * instead of a triple fault and a silent reset. Each CPU has its own
 * tables (arch/x86_64/gdt.h says why); arch/x86_64/percpu.c owns them.
 */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/gdt.h"

void gdt_load(struct cpu_tables *t, void *ist1_top)
{
	uint64_t *gdt = t->gdt;
	uint64_t base = (uint64_t)(uintptr_t)&t->tss;
	uint64_t limit = sizeof(t->tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull; /* code: present, DPL 0, L=1 */
	gdt[2] = 0x00cf92000000ffffull; /* data: present, writable */
	/* A 64-bit TSS descriptor takes two slots (type 9: available TSS). */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	memset(&t->tss, 0, sizeof(t->tss));
	t->tss.ist[0] = (uint64_t)(uintptr_t)ist1_top;
	t->tss.iomap_base = sizeof(t->tss); /* no I/O permission bitmap */

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = {sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)gdt};

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
			 : "rax", "memory");
}
