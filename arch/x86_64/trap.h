/*
 * Interrupt and exception entry. Every IDT vector has a small stub
 * (arch/x86_64/isr.S) that saves the general registers into a trap_frame and
 * calls trap_dispatch(). Vectors 0-31 are CPU exceptions (dumped, then the
 * machine stops with a failure status); 32-255 are interrupts, handed to
 * the handler the interrupt layer registered with trap_set_irq_handler()
 * (kernel/irq/irq.c, which also signals end-of-interrupt).
 *
 * Vector plan (Intel SDM vol. 3, 6.2; the LAPIC uses the top 4 bits of the
 * vector as priority):
 *	0x00-0x1f  CPU exceptions
 *	0x20-0x2f  legacy 8259 PIC, remapped here and masked (spurious only)
 *	0x30-0xef  allocated at run time: IOAPIC GSIs, MSI and MSI-X
 *	0xf0       LAPIC timer tick
 *	0xf2       wake-up: only ends a `hlt` (kernel/smp/cpus.c)
 *	0xfe       LAPIC error
 *	0xff       LAPIC spurious
 */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include <stdint.h>

#define VECTOR_PIC_BASE	     0x20
#define VECTOR_DYNAMIC_FIRST 0x30
#define VECTOR_DYNAMIC_LAST  0xef
#define VECTOR_TIMER	     0xf0
#define VECTOR_WAKE	     0xf2
#define VECTOR_APIC_ERROR    0xfe
#define VECTOR_SPURIOUS	     0xff

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;	   /* error_code is 0 when the CPU pushes none */
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void trap_dispatch(struct trap_frame *tf); /* called by isr.S */

/* Who handles vectors 32-255, with interrupts off. Until one is set, an
 * interrupt is counted nowhere and only reported (there should be none:
 * interrupts stay off until the interrupt layer is up). */
typedef void trap_irq_handler_fn(unsigned vector);
void trap_set_irq_handler(trap_irq_handler_fn *fn);

/* Build the IDT and load it on this CPU (the boot CPU, once); idt_load()
 * loads the same IDT on another CPU. The GDT and TSS are per CPU
 * (arch/x86_64/percpu.h). */
void idt_init(void);
void idt_load(void);

#endif
