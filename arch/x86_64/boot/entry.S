/*
 * The kernel's three doors, and the corridor behind them into 64-bit C.
 *
 *  mb2_entry    GRUB, multiboot2 spec 3.3: 32-bit protected mode, paging
 *               off, %eax = 0x36d76289, %ebx = physical address of the boot
 *               information. Under UEFI, GRUB has already exited boot
 *               services and left CR0/CR4/EFER as the firmware had them.
 *  pvh_entry    QEMU -kernel, Xen PVH boot ABI (xen/include/public/
 *               arch-x86/hvm/start_info.h): 32-bit protected mode, paging
 *               off, %ebx = struct hvm_start_info. (%eax is not a magic:
 *               microvm leaves 0x2badb002 there; the C code checks the
 *               start_info magic instead.)
 *  efi_entry64  our GNU-EFI loader: already in long mode on the firmware's
 *               identity-mapped page tables, %rdi = struct boot_info.
 *
 * The 32-bit doors enable long mode (Intel SDM vol. 3, 9.8.5): PAE paging
 * with page tables that identity-map the first 4 GiB in 2 MiB pages, EFER.LME,
 * then CR0.PG, and a far jump into a 64-bit code segment. All three doors
 * meet at long_mode_start with %edi = boot path and %rsi = the loader's
 * information, and call boot_entry() in arch/x86_64/boot/boot_info.c, which
 * fills struct boot_info. Then the corridor ends at kmain(), the kernel's
 * entry point (kernel/main.c): the one name arch/ takes from the layers
 * above it, as a C runtime's start code takes main().
 */
#include "arch/x86_64/boot/boot_info.h"

#define MB2_MAGIC        0xe85250d6 /* in the header */
#define MB2_BOOT_MAGIC   0x36d76289 /* in %eax at entry */
#define MB2_ARCH_I386    0

#define CR0_PE  (1 << 0)
#define CR0_ET  (1 << 4)
#define CR0_NE  (1 << 5)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define EFER_MSR 0xc0000080
#define EFER_LME (1 << 8)

#define PTE_PRESENT (1 << 0)
#define PTE_WRITE   (1 << 1)
#define PTE_PWT     (1 << 3)
#define PTE_PCD     (1 << 4)
#define PTE_HUGE    (1 << 7)

#define BOOT_STACK_SIZE 16384

/* --- Multiboot2 header: must sit in the first 32 KiB, 8-byte aligned. --- */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* End tag: no optional requests; GRUB passes command line, memory map
	 * and ACPI RSDP copies anyway. */
	.short 0, 0
	.long 8
mb2_header_end:

/* --- ELF notes: PVH entry for QEMU, 64-bit entry for our EFI loader. --- */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 8, 18          /* namesz "Xen\0", descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh_entry
	.balign 4

	.section .note.VirtioOS, "a", @note
	.balign 4
	.long 9, 8, KERNEL_NOTE_TYPE_ENTRY64
	.asciz KERNEL_NOTE_NAME
	.balign 4
	.quad efi_entry64
	.balign 4

/* --- 32-bit entries ------------------------------------------------------ */
	.section .text.boot32, "ax"
	.code32
	.globl mb2_entry
mb2_entry:
	cli
	cmpl $MB2_BOOT_MAGIC, %eax
	jne not_multiboot
	movl $BOOT_PATH_MULTIBOOT2, %edi
	movl %ebx, %esi
	jmp enter_long_mode

not_multiboot:
	/* Entered by something that is not multiboot2: nothing sane to do,
	 * and no console yet. Stop. */
	hlt
	jmp not_multiboot

	.globl pvh_entry
pvh_entry:
	cli
	movl $BOOT_PATH_PVH, %edi
	movl %ebx, %esi
	/* fall through */

/* %edi = boot path, %esi = loader info. Uses no stack until the end. */
enter_long_mode:
	cld
	rdtsc                   /* boot-time reference, kept in %ebp:%ebx */
	movl %eax, %ebx
	movl %edx, %ebp

	/* The loaders zero .bss already, but nothing in the PVH or multiboot2
	 * contract says so: zero it ourselves. */
	movl %edi, %edx
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl %edx, %edi

	movl %ebx, boot_entry_tsc
	movl %ebp, boot_entry_tsc + 4

	/* Start from known control register values: under UEFI the firmware
	 * leaves WP, NX and others set. Paging stays off until CR3 is valid. */
	movl $(CR0_PE | CR0_ET | CR0_NE), %eax
	movl %eax, %cr0
	movl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $EFER_MSR, %ecx
	movl $EFER_LME, %eax    /* also clears NXE and SCE left by firmware */
	xorl %edx, %edx
	wrmsr
	movl $(CR0_PE | CR0_ET | CR0_NE | CR0_PG), %eax
	movl %eax, %cr0         /* long mode active (compatibility mode) */

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_start

/* --- 64-bit ------------------------------------------------------------ */
	.text
	.code64
	/* The EFI loader's door. The firmware's page tables identity-map all of
	 * memory, so we can run here, copy the boot info into the kernel, and
	 * only then switch to our own GDT and page tables. */
	.globl efi_entry64
efi_entry64:
	cli
	cld
	rdtsc
	shlq $32, %rdx
	orq %rax, %rdx
	movq %rdx, %r8          /* entry TSC */
	movq %rdi, %r9          /* the loader's boot_info */

	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb
	movq %r8, boot_entry_tsc

	movq %r9, %rsi
	movq $boot_info, %rdi
	movq $BOOT_INFO_SIZE, %rcx
	rep movsb

	/* Our own stack before our own page tables: those map only 0-4 GiB,
	 * and the firmware's stack may lie anywhere. */
	movq $boot_stack_top, %rsp
	movq $boot_pml4, %rax
	movq %rax, %cr3
	lgdt boot_gdt_ptr
	/* Reload CS with a far return: there is no far jump to an absolute
	 * 64-bit address. */
	pushq $0x08
	pushq $1f
	lretq
1:	movl $BOOT_PATH_EFI, %edi
	movq $boot_info, %rsi
	/* fall through */

long_mode_start:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp         /* end of the frame-pointer chain */
	movl %edi, %edi         /* zero-extend the 32-bit arguments */
	movl %esi, %esi
	movq boot_entry_tsc, %rdx
	call boot_entry         /* bool (u32 path, u64 info, u64 entry_tsc) */
	movzbl %al, %edi        /* kmain(bool boot_info_ok) */
	call kmain              /* never returns */
2:	cli
	hlt
	jmp 2b

/* --- Boot GDT: just enough for long mode; percpu_install() loads each CPU's own. */
	.section .rodata
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff        /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt                  /* lgdt in 32-bit mode reads 4 bytes */

/*
 * Boot page tables, filled in at assembly time: PML4[0] -> PDPT, whose four
 * entries point to four page directories of 512 2-MiB pages each, mapping
 * 0-4 GiB onto itself. The top gigabyte is where PCI, the LAPIC and the
 * IOAPICs live on every QEMU machine: mapped uncached (PCD|PWT). paging_init()
 * replaces these with tables built from the memory map.
 */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad boot_pdpt + PTE_PRESENT + PTE_WRITE
	.fill 511, 8, 0
boot_pdpt:
	.quad boot_pd + 0x0000 + PTE_PRESENT + PTE_WRITE
	.quad boot_pd + 0x1000 + PTE_PRESENT + PTE_WRITE
	.quad boot_pd + 0x2000 + PTE_PRESENT + PTE_WRITE
	.quad boot_pd + 0x3000 + PTE_PRESENT + PTE_WRITE
	.fill 508, 8, 0
boot_pd:
	.set addr, 0
	.rept 2048
	.if addr >= 0xc0000000
	.quad addr + PTE_PRESENT + PTE_WRITE + PTE_HUGE + PTE_PCD + PTE_PWT
	.else
	.quad addr + PTE_PRESENT + PTE_WRITE + PTE_HUGE
	.endif
	.set addr, addr + 0x200000
	.endr

	.bss
	.balign 16
	.globl boot_entry_tsc
boot_entry_tsc:
	.quad 0
	.balign 4096
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip BOOT_STACK_SIZE
	.globl boot_stack_top
boot_stack_top:
