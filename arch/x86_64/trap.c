/*
 * Where every interrupt and exception lands (from isr.S).
 *
 * Exceptions (vectors 0-31, Intel SDM vol. 3, 6.15) are kernel bugs or
 * deliberate faults from the `fault` self-test: print everything needed to
 * find the cause (vector and name, error code, RIP, RSP, CR2 for a page
 * fault, all general registers), then stop with the panic exit status. The
 * kernel does not try to continue: its state can no longer be trusted.
 *
 * Everything else is an interrupt, handed to the handler the interrupt
 * layer registered (kernel/irq/irq.c).
 */
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/machine.h"
#include "arch/x86_64/page_fault.h"
#include "arch/x86_64/trap.h"

static const char *const exception_names[32] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range exceeded",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack-segment fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 floating-point error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD floating-point",
	[20] = "#VE virtualization",
	[21] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security",
};

static void dump_exception(const struct trap_frame *tf)
{
	const char *name = exception_names[tf->vector];

	printf("\n*** EXCEPTION %lu (%s) error code 0x%lx\n", (unsigned long)tf->vector,
	       name ? name : "reserved", (unsigned long)tf->error_code);
	printf("RIP %016lx  CS %04lx  RFLAGS %016lx\n", (unsigned long)tf->rip,
	       (unsigned long)tf->cs, (unsigned long)tf->rflags);
	printf("RSP %016lx  SS %04lx  CR2 %016lx  CR3 %016lx\n", (unsigned long)tf->rsp,
	       (unsigned long)tf->ss, (unsigned long)read_cr2(), (unsigned long)read_cr3());
	if (tf->vector == 14) {
		char why[160];

		printf("page fault: %s\n", page_fault_describe(tf->error_code, why, sizeof why));
	}
	printf("RAX %016lx  RBX %016lx  RCX %016lx  RDX %016lx\n", (unsigned long)tf->rax,
	       (unsigned long)tf->rbx, (unsigned long)tf->rcx, (unsigned long)tf->rdx);
	printf("RSI %016lx  RDI %016lx  RBP %016lx  R8  %016lx\n", (unsigned long)tf->rsi,
	       (unsigned long)tf->rdi, (unsigned long)tf->rbp, (unsigned long)tf->r8);
	printf("R9  %016lx  R10 %016lx  R11 %016lx  R12 %016lx\n", (unsigned long)tf->r9,
	       (unsigned long)tf->r10, (unsigned long)tf->r11, (unsigned long)tf->r12);
	printf("R13 %016lx  R14 %016lx  R15 %016lx\n", (unsigned long)tf->r13,
	       (unsigned long)tf->r14, (unsigned long)tf->r15);
	/* Walk the frame-pointer chain (the kernel keeps frame pointers). */
	printf("call trace:");
	uint64_t *fp = (uint64_t *)(uintptr_t)tf->rbp;
	for (int depth = 0; depth < 16 && fp && ((uintptr_t)fp & 7) == 0 &&
			    (uintptr_t)fp > 0x100000 && (uintptr_t)fp < 0x100000000ull;
	     depth++) {
		printf(" %016lx", (unsigned long)fp[1]);
		fp = (uint64_t *)(uintptr_t)fp[0];
	}
	printf("\n");
}

static trap_irq_handler_fn *irq_handler;

void trap_set_irq_handler(trap_irq_handler_fn *fn)
{
	irq_handler = fn;
}

void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector >= 32) {
		if (irq_handler)
			irq_handler((unsigned)tf->vector);
		else
			printf("warning: trap: interrupt on vector %#lx before the interrupt "
			       "layer was set up; ignored\n",
			       (unsigned long)tf->vector);
		return;
	}
	dump_exception(tf);
	printf("kernel stopped after an exception\n");
	machine_exit(EXIT_PANIC);
}
