/*
 * The GNU-EFI loader's internal interfaces: a UEFI application
 * (EFI/BOOT/BOOTX64.EFI) that reads kernel.elf from its own ESP, loads it at
 * its physical addresses, fills a struct boot_info (arch/x86_64/boot/boot_info.h),
 * exits boot services and enters the kernel through the 64-bit entry named
 * in the kernel's VirtioOS ELF note.
 *
 * UEFI 2.10 sections used across the loader: 4.3 system table, 4.6
 * configuration table, 7.2 memory allocation services, 7.4 image services
 * (ExitBootServices), 9.1 loaded image protocol, 10.3 device path nodes,
 * 12.4 simple text output, 12.9 graphics output, 13.4 simple file system,
 * 13.5 file protocol. The ELF parts follow the System V gABI (ELF-64).
 *
 * Every call into the firmware goes through uefi_call_wrapper(): Debian's
 * GNU-EFI is built for the System V ABI and the wrapper switches to the
 * Microsoft x64 convention the firmware expects (-DEFI_FUNCTION_WRAPPER).
 */
#ifndef ARCH_X86_64_BOOT_EFI_LOADER_H
#define ARCH_X86_64_BOOT_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "arch/x86_64/boot/boot_info.h"

/* Prefix of every message, so a test can tell the loader from the firmware. */
#define LOADER_TAG L"efi: "

/* --- file.c: files on the ESP the loader was started from --- */

/*
 * Opens the root of the volume the loader came from and remembers the
 * directory the loader itself lives in; must be called first.
 */
EFI_STATUS esp_open(EFI_HANDLE image);
/*
 * Reads NAME (ASCII) from the loader's directory, then from the volume root.
 * On success *data is pool memory the caller frees with FreePool().
 * Returns EFI_NOT_FOUND quietly when the file is in neither place.
 */
EFI_STATUS esp_read_file(const CHAR16 *name, void **data, UINTN *size);
/* The loader's own file name ("BOOTX64.EFI"), "" if the firmware did not say. */
const CHAR16 *esp_loader_name(void);
void esp_close(void);

/* --- cmdline.c: the kernel command line (load options, cmdline.txt, default) --- */

/* Fills out[BOOT_CMDLINE_MAX]; prints where it came from. */
EFI_STATUS loader_cmdline(EFI_LOADED_IMAGE *li, char *out);

/* --- elf.c: validating and placing the kernel image --- */

struct loaded_kernel {
	UINT64 entry64;		/* physical address from the VirtioOS note */
	UINT64 lowest, highest; /* physical range the image occupies */
	UINTN nallocs;
	struct {
		EFI_PHYSICAL_ADDRESS base;
		UINTN pages;
	} allocs[16]; /* what to give back if loading fails halfway */
};

/* Checks the image and loads every PT_LOAD; prints why when it fails. */
EFI_STATUS elf_load(const void *file, UINTN size, struct loaded_kernel *k);
/* Returns the pages of a kernel that will not be entered after all. */
void elf_unload(struct loaded_kernel *k);

/* --- memmap.c: the memory map and the way out of boot services --- */

/*
 * Reads the memory map, converts it into info->regions and prints the
 * summary. Fails (with a message) if the map does not fit in boot_info.
 */
EFI_STATUS memmap_prepare(struct boot_info *info);
/*
 * Takes the final memory map, converts it into info->regions and calls
 * ExitBootServices, retrying with a fresh map key. Prints nothing once the
 * first ExitBootServices attempt was made: the console may be gone.
 */
EFI_STATUS memmap_exit_boot_services(EFI_HANDLE image, struct boot_info *info);

#endif
