/*
 * The application processors' way from real mode into the kernel (Intel SDM
 * vol. 3A, 8.4.4 "MP Initialization Example" and 9.9 "Mode Switching").
 *
 * A STARTUP IPI starts a CPU in 16-bit real mode at CS = page >> 4, IP = 0,
 * so this code must sit at the start of a page below 1 MiB: ap_start.c
 * copies the bytes between ap_trampoline_start and ap_trampoline_end there.
 * The copy cannot know its address at assembly time, so the real-mode part
 * computes it from CS and patches the two fields that need a linear address
 * (the GDT pointer and the far jump into 32-bit code). Then the same steps
 * as the boot CPU's entry.S: protected mode, PAE with the boot page tables
 * (which identity-map 0-4 GiB, so the copy and the kernel are both
 * reachable), EFER.LME, paging on, and a far jump to ap_long_mode in the
 * kernel proper. That part loads the kernel's real page tables, the stack
 * and the C entry that ap_start() left in ap_boot_params, and calls it.
 */
#define CR0_PE  (1 << 0)
#define CR0_ET  (1 << 4)
#define CR0_NE  (1 << 5)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define EFER_MSR 0xc0000080
#define EFER_LME (1 << 8)

/* Selectors of the trampoline's own GDT. */
#define TR_CODE32 0x08
#define TR_DATA   0x10
#define TR_CODE64 0x18

/* struct ap_boot_params (ap_start.c fills it, and checks these offsets). */
#define PARAMS_CR3   0
#define PARAMS_STACK 8
#define PARAMS_ENTRY 16
#define PARAMS_SIZE  48

#define OFF(label) ((label) - ap_trampoline_start)

	.section .rodata
	.balign 16
	.globl ap_trampoline_start, ap_trampoline_end
	.code16
ap_trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx                   /* %ebx = linear address of this page */

	leal OFF(tr_gdt)(%ebx), %eax
	movl %eax, OFF(tr_gdt_ptr) + 2
	leal OFF(tr_protected)(%ebx), %eax
	movl %eax, OFF(tr_far_jump)
	lgdtl OFF(tr_gdt_ptr)

	movl $(CR0_PE | CR0_ET | CR0_NE), %eax
	movl %eax, %cr0
	ljmpl *OFF(tr_far_jump)         /* to tr_protected, CS = TR_CODE32 */

	.code32
tr_protected:
	movw $TR_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax           /* below 4 GiB: it is in the kernel image */
	movl %eax, %cr3
	movl $EFER_MSR, %ecx
	movl $EFER_LME, %eax
	xorl %edx, %edx
	wrmsr
	movl $(CR0_PE | CR0_ET | CR0_NE | CR0_PG), %eax
	movl %eax, %cr0                 /* long mode active (compatibility mode) */
	ljmp $TR_CODE64, $ap_long_mode  /* the kernel is linked below 4 GiB */

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* TR_CODE32: 32-bit code, 4 GiB flat */
	.quad 0x00cf92000000ffff        /* TR_DATA: data, 4 GiB flat */
	.quad 0x00af9a000000ffff        /* TR_CODE64: 64-bit code */
tr_gdt_end:
tr_gdt_ptr:
	.short tr_gdt_end - tr_gdt - 1
	.long 0                         /* patched: linear address of tr_gdt */
tr_far_jump:
	.long 0                         /* patched: linear address of tr_protected */
	.short TR_CODE32
ap_trampoline_end:

/* --- In the kernel proper, reached from the copy by its far jump. ---- */
	.text
	.code64
ap_long_mode:
	movw $TR_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq ap_boot_params + PARAMS_CR3, %rax
	movq %rax, %cr3                 /* the boot CPU's page tables */
	movq ap_boot_params + PARAMS_STACK, %rsp
	xorl %ebp, %ebp                 /* end of the frame-pointer chain */
	call *ap_boot_params + PARAMS_ENTRY /* never returns */
1:	cli
	hlt
	jmp 1b

	.bss
	.balign 16
	.globl ap_boot_params
ap_boot_params:
	.skip PARAMS_SIZE
