/*
 * BOOTX64.EFI: the virtio-os loader, a UEFI application built with GNU-EFI.
 *
 * UEFI 2.10 sections: 4.1 the image entry point (efi_main, called by
 * GNU-EFI's crt0 after relocating us), 4.3 system table, 4.6 configuration
 * table (the ACPI RSDP: ACPI 2.0 GUID first, the 1.0 one as a fallback),
 * 7.2 memory allocation services, 7.4 ExitBootServices, 9.1 loaded image
 * protocol, 12.4 simple text output (ConOut; OVMF mirrors it to the serial
 * port), 12.9 graphics output protocol (the framebuffer).
 *
 * The order matters: everything that can fail is done while boot services
 * are still there to report it and to take us back (an error status from
 * efi_main returns to the boot manager, which tries the next boot option).
 * Only ExitBootServices and the jump come last.
 *
 * The kernel side of the contract is arch/x86_64/boot/boot_info.h and efi_entry64 in
 * arch/x86_64/boot/entry.S: we call the address in the kernel's VirtioOS
 * note as void entry(struct boot_info *) on the firmware's identity-mapped
 * page tables, with interrupts off.
 */
#include "arch/x86_64/boot/efi/loader.h"

/* 4.6: the two ACPI entries of the configuration table. */
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

typedef void (*kernel_entry_fn)(struct boot_info *info);

static UINT64 rdtsc(void)
{
	UINT32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((UINT64)hi << 32) | lo;
}

static UINT64 find_rsdp(void)
{
	UINT64 v1 = 0;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (CompareGuid(&t->VendorGuid, &acpi20_guid) == 0)
			return (UINT64)(UINTN)t->VendorTable;
		if (CompareGuid(&t->VendorGuid, &acpi10_guid) == 0)
			v1 = (UINT64)(UINTN)t->VendorTable;
	}
	return v1;
}

/* 12.9: a linear framebuffer, if the firmware drives a display at all. */
static void find_framebuffer(struct boot_framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi;

	if (EFI_ERROR(LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop)) || !gop->Mode ||
	    !gop->Mode->Info)
		return;
	mi = gop->Mode->Info;
	/* BltOnly: there is no memory the kernel could draw into. */
	if (mi->PixelFormat == PixelBltOnly)
		return;
	fb->addr = gop->Mode->FrameBufferBase;
	fb->width = mi->HorizontalResolution;
	fb->height = mi->VerticalResolution;
	fb->bpp = 32; /* both 8-bit-per-colour formats, and OVMF's only one */
	fb->pitch = mi->PixelsPerScanLine * 4;
}

/*
 * The boot_info lives in its own EfiLoaderData pages below 4 GiB: they stay
 * valid after ExitBootServices (unlike pool memory we might free), the
 * kernel's memory map calls them reserved, and the kernel copies the
 * structure before it uses any memory at all.
 */
static struct boot_info *alloc_boot_info(void)
{
	EFI_PHYSICAL_ADDRESS addr = 0xffffffffull;
	UINTN pages = EFI_SIZE_TO_PAGES(sizeof(struct boot_info));
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, pages,
			       &addr);
	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: no memory below 4 GiB for boot_info: %r\n", st);
		return NULL;
	}
	ZeroMem((void *)(UINTN)addr, pages * EFI_PAGE_SIZE);
	return (struct boot_info *)(UINTN)addr;
}

static void free_boot_info(struct boot_info *info)
{
	uefi_call_wrapper(BS->FreePages, 2, (EFI_PHYSICAL_ADDRESS)(UINTN)info,
			  EFI_SIZE_TO_PAGES(sizeof(struct boot_info)));
}

/* Everything up to, not including, ExitBootServices. */
static EFI_STATUS prepare(EFI_HANDLE image, struct boot_info *info, struct loaded_kernel *k)
{
	EFI_LOADED_IMAGE *li;
	void *file;
	UINTN size;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: no loaded image protocol on our own handle: %r\n", st);
		return st;
	}
	st = loader_cmdline(li, info->cmdline);
	if (EFI_ERROR(st))
		return st;

	st = esp_read_file(L"kernel.elf", &file, &size);
	if (st == EFI_NOT_FOUND)
		Print(LOADER_TAG L"error: kernel.elf not found next to %s or in the root of the "
				 L"ESP\n",
		      esp_loader_name());
	if (EFI_ERROR(st))
		return st;
	st = elf_load(file, size, k);
	/* The kernel is in place now; the file copy is not needed either way. */
	FreePool(file);
	if (EFI_ERROR(st))
		return st;
	Print(LOADER_TAG L"kernel at 0x%lx-0x%lx, 64-bit entry 0x%lx\n", k->lowest, k->highest,
	      k->entry64);

	info->rsdp = find_rsdp();
	if (info->rsdp)
		Print(LOADER_TAG L"ACPI RSDP at 0x%lx\n", info->rsdp);
	else
		Print(LOADER_TAG L"warning: no ACPI RSDP in the configuration table\n");
	find_framebuffer(&info->fb);
	if (info->fb.addr)
		Print(LOADER_TAG L"framebuffer %ux%u at 0x%lx, pitch %u\n", info->fb.width,
		      info->fb.height, info->fb.addr, info->fb.pitch);

	st = memmap_prepare(info);
	if (EFI_ERROR(st))
		elf_unload(k);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	/* First thing: the loader's share of the boot time starts here. */
	UINT64 start_tsc = rdtsc();
	struct loaded_kernel kernel;
	struct boot_info *info;
	EFI_STATUS st;

	InitializeLib(image, systab);
	Print(LOADER_TAG L"virtio-os loader (GNU-EFI) on %s firmware rev 0x%x, UEFI %u.%u\n",
	      ST->FirmwareVendor, ST->FirmwareRevision, ST->Hdr.Revision >> 16,
	      (ST->Hdr.Revision & 0xffff) / 10);

	st = esp_open(image);
	if (EFI_ERROR(st))
		goto fail;
	info = alloc_boot_info();
	if (!info) {
		st = EFI_OUT_OF_RESOURCES;
		goto fail;
	}
	info->magic = BOOT_INFO_MAGIC;
	info->version = BOOT_INFO_VERSION;
	info->path = BOOT_PATH_EFI;
	/* The kernel replaces this with the TSC at its own entry (boot_entry()). */
	info->entry_tsc = start_tsc;

	st = prepare(image, info, &kernel);
	esp_close();
	if (EFI_ERROR(st)) {
		free_boot_info(info);
		goto fail;
	}
	Print(LOADER_TAG L"exiting boot services, entering the kernel with boot_info at 0x%lx\n",
	      (UINT64)(UINTN)info);

	st = memmap_exit_boot_services(image, info);
	if (EFI_ERROR(st)) {
		/*
		 * Boot services may be partly gone: no printing, no freeing. The
		 * status still goes back to whoever started us.
		 */
		return st;
	}

	/* No firmware from here on. The kernel installs its own IDT; until then
	 * an interrupt would run firmware handlers that are no longer valid. */
	__asm__ volatile("cli");
	((kernel_entry_fn)(UINTN)kernel.entry64)(info);
	for (;;) /* the kernel never returns; if it does, stop here */
		__asm__ volatile("hlt");

fail:
	Print(LOADER_TAG L"boot failed (%r), returning to the firmware\n", st);
	esp_close();
	return st;
}
