/*
 * Interrupt entry stubs, one per IDT vector (Intel SDM vol. 3, 6.14).
 *
 * On an interrupt or exception in 64-bit mode the CPU aligns the stack to 16
 * bytes and pushes SS, RSP, RFLAGS, CS, RIP, and for some exceptions an error
 * code. Each stub pushes a zero where the CPU pushes no error code, so every
 * frame has the same shape, then pushes its vector number and jumps to the
 * common code, which saves the general registers in the order of struct
 * trap_frame (arch/x86_64/trap.h) and calls trap_dispatch(frame).
 * The frame is 22 quadwords: the stack stays 16-byte aligned for the call.
 */
	.text
	.code64

/* Exceptions for which the CPU pushes an error code. */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
			   (v) == 21 || (v) == 29 || (v) == 30)

	.balign 16
	.globl isr_stub_table_start
isr_stub_table_start:
	.set vec, 0
	.rept 256
	.balign 16              /* every stub is 16 bytes: idt.c computes addresses */
	.if HAS_ERROR_CODE(vec)
	pushq $vec
	jmp isr_common
	.else
	pushq $0
	pushq $vec
	jmp isr_common
	.endif
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld                     /* the C ABI expects the direction flag clear */
	movq %rsp, %rdi
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp          /* vector and error code */
	iretq
