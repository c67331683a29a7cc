/*
 * The Interrupt Descriptor Table (Intel SDM vol. 3, 6.10-6.14): 256 gates,
 * each pointing at a 16-byte stub in isr.S. All are interrupt gates, so the
 * CPU clears IF on entry: handlers run with interrupts off, as the
 * interrupt path in docs/ARCHITECTURE.md promises. The double fault and NMI
 * gates use IST1, a separate stack.
 */
#include <stdint.h>

#include "arch/x86_64/trap.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr; /* present | DPL 0 | type 0xE (64-bit interrupt gate) */
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define STUB_SIZE	16
#define GATE_INTERRUPT	0x8e
#define KERNEL_CODE_SEL 0x08

extern char isr_stub_table_start[];
static struct idt_gate idt[256] __attribute__((aligned(16)));

void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t addr = (uint64_t)(uintptr_t)(isr_stub_table_start + v * STUB_SIZE);
		idt[v] = (struct idt_gate){
			.offset_low = addr & 0xffff,
			.selector = KERNEL_CODE_SEL,
			.ist = (v == 2 || v == 8 || v == 18) ? 1 : 0, /* NMI, #DF, #MC */
			.type_attr = GATE_INTERRUPT,
			.offset_mid = (addr >> 16) & 0xffff,
			.offset_high = addr >> 32,
		};
	}
	idt_load();
}

/* One IDT serves every CPU: the gates are the same everywhere, and IST1
 * names a slot in the TSS, which each CPU has its own of. */
void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}
