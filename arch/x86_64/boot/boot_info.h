/*
 * struct boot_info: everything the kernel needs to know about how it was
 * started, in one place. Each entry path (multiboot2 from GRUB, PVH from
 * QEMU -kernel, the GNU-EFI loader) fills one of these before kmain() runs,
 * so nothing above arch/ knows which path was taken.
 *
 * The structure has no pointers: the EFI loader fills it in its own memory
 * and hands over its physical address, and the kernel copies it at once.
 */
#ifndef ARCH_X86_64_BOOT_BOOT_INFO_H
#define ARCH_X86_64_BOOT_BOOT_INFO_H

#define BOOT_INFO_MAGIC	  0x564f5342u /* "BSOV" */
#define BOOT_INFO_VERSION 2	      /* 2: a 4 KiB command line and its sent length */
#define BOOT_INFO_SIZE	  7232	      /* sizeof(struct boot_info), for assembly */

/*
 * The 64-bit entry for loaders that are already in long mode (the EFI
 * loader): a note in the kernel ELF, like the PVH note, whose descriptor is
 * the 8-byte physical address of a function called as
 *	void entry(struct boot_info *info)   (System V ABI, info in %rdi)
 * with interrupts off, on any identity-mapping page tables and any stack.
 */
#define KERNEL_NOTE_NAME	 "VirtioOS"
#define KERNEL_NOTE_TYPE_ENTRY64 0x64

/* How the kernel was entered (boot_info.path); also used by entry.S. */
#define BOOT_PATH_MULTIBOOT2 1 /* GRUB, BIOS or UEFI */
#define BOOT_PATH_PVH	     2 /* QEMU -kernel (hvm_start_info) */
#define BOOT_PATH_EFI	     3 /* our GNU-EFI loader */

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Memory region types, after translation from e820 / multiboot2 / UEFI. */
enum mem_type {
	MEM_USABLE = 1,	      /* free RAM the page allocator may hand out */
	MEM_RESERVED = 2,     /* firmware, MMIO, anything we must not touch */
	MEM_ACPI_RECLAIM = 3, /* ACPI tables: readable, never allocated */
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum mem_type */
	uint32_t reserved;
};

struct boot_framebuffer {
	uint64_t addr; /* 0: none */
	uint32_t width, height, pitch, bpp;
};

#define BOOT_MAX_REGIONS 128
/* Multiboot2 and PVH pass a command line of any length and Linux takes at
 * least 2048 characters (COMMAND_LINE_SIZE on x86); a longer one is cut
 * here, and cmdline_len tells the kernel so it can say what was lost. */
#define BOOT_CMDLINE_MAX 4096

struct boot_info {
	uint32_t magic;	  /* BOOT_INFO_MAGIC */
	uint32_t version; /* BOOT_INFO_VERSION */
	uint32_t path;	  /* BOOT_PATH_* */
	uint32_t nregions;
	uint64_t rsdp;	    /* physical address of the ACPI RSDP, 0 if unknown */
	uint64_t entry_tsc; /* TSC when the kernel was entered (boot timing) */
	/* The length of the command line the loader had; more than
	 * strlen(cmdline) when it did not fit (the kernel reports that). */
	uint64_t cmdline_len;
	char cmdline[BOOT_CMDLINE_MAX]; /* NUL-terminated */
	struct mem_region regions[BOOT_MAX_REGIONS];
	struct boot_framebuffer fb;
};

_Static_assert(sizeof(struct boot_info) == BOOT_INFO_SIZE, "update BOOT_INFO_SIZE");

/* The kernel's copy, valid from the start of kmain(). */
extern struct boot_info boot_info;

const char *boot_path_name(uint32_t path);

/* Fills boot_info from what the loader handed over (entry.S calls it). */
bool boot_entry(uint32_t path, uint64_t info, uint64_t entry_tsc);

/* When boot_entry() returned false: what was wrong, for kmain's panic. */
void boot_info_problem(char *buf, size_t size);

#endif /* __ASSEMBLY__ */
#endif
