/*
 * The UEFI memory map, its translation into the kernel's struct boot_info
 * regions, and the way out of boot services.
 *
 * UEFI 2.10: 7.2 memory allocation services (GetMemoryMap, the memory
 * types of table 7-5 and what each may be used for after ExitBootServices,
 * table 7-6), 7.4 image services (ExitBootServices and its map key rule).
 *
 * What becomes usable for the kernel's page allocator:
 *  - EfiConventionalMemory: free;
 *  - EfiBootServicesCode/Data: the firmware's, but dead once boot services
 *    are gone (the loader's stack lives here; the kernel leaves it at once);
 *  - EfiLoaderCode: this loader's own image, never returned to.
 * What stays reserved:
 *  - EfiLoaderData: it holds the kernel image and the struct boot_info. The
 *    kernel copies boot_info at its first instructions and keeps its own
 *    image out of the allocator, so this costs only the few pool pages the
 *    loader used, and it can never hand out a page that is still in use;
 *  - runtime services code/data, reserved, MMIO, PAL code, persistent
 *    memory: the firmware or devices keep using them;
 *  - ACPI reclaim and NVS keep their own types; unusable memory is MEM_BAD.
 * Memory flagged EFI_MEMORY_SP (specific purpose, 2.8+) is left alone too.
 *
 * The firmware's map has more entries than boot_info can hold (OVMF: about a
 * hundred), but most neighbours end up with the same kernel type: sorting by
 * address and merging neighbours of one type brings it to a few dozen.
 */
#include "arch/x86_64/boot/efi/loader.h"

#define EFI_MEMORY_SP_ATTR 0x40000ull /* UEFI 2.8, 7.2: specific purpose memory */
#define EFI_PERSISTENT_MEM 14	      /* EfiPersistentMemory, newer than gnu-efi's enum */
#define MAX_RAW_REGIONS	   1024

/* The map buffer, reused for the final GetMemoryMap: no allocation then. */
static EFI_MEMORY_DESCRIPTOR *map;
static UINTN map_capacity, map_size, map_key, desc_size;
static UINT32 desc_version;

/* Scratch for sorting and merging before the result goes into boot_info. */
static struct mem_region raw[MAX_RAW_REGIONS];

static UINT32 kernel_type(const EFI_MEMORY_DESCRIPTOR *d)
{
	switch (d->Type) {
	case EfiConventionalMemory:
	case EfiBootServicesCode:
	case EfiBootServicesData:
	case EfiLoaderCode:
		return (d->Attribute & EFI_MEMORY_SP_ATTR) ? MEM_RESERVED : MEM_USABLE;
	case EfiACPIReclaimMemory:
		return MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return MEM_ACPI_NVS;
	case EfiUnusableMemory:
		return MEM_BAD;
	case EfiLoaderData: /* see the top of this file */
	case EFI_PERSISTENT_MEM:
	default:
		return MEM_RESERVED;
	}
}

struct map_summary {
	UINTN descriptors; /* UEFI entries */
	UINT32 regions;	   /* after merging */
	UINT64 usable;	   /* bytes of MEM_USABLE */
};

/*
 * Translates the current map into info->regions. Pure computation, no
 * firmware calls, so it is safe between the final GetMemoryMap and
 * ExitBootServices. Returns EFI_BUFFER_TOO_SMALL if the merged map does
 * not fit (sum->regions says how many it needed).
 */
static EFI_STATUS convert(struct boot_info *info, struct map_summary *sum)
{
	UINTN n = map_size / desc_size, count = 0;

	ZeroMem(sum, sizeof(*sum));
	sum->descriptors = n;
	if (n > MAX_RAW_REGIONS)
		return EFI_BUFFER_TOO_SMALL;
	for (UINTN i = 0; i < n; i++) {
		/* Step by DescriptorSize, not sizeof: newer firmware appends fields. */
		const EFI_MEMORY_DESCRIPTOR *d =
			(const EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * desc_size);
		struct mem_region r = {
			.base = d->PhysicalStart,
			.length = d->NumberOfPages * EFI_PAGE_SIZE,
			.type = kernel_type(d),
		};
		UINTN j = count++;

		if (r.length == 0) {
			count--;
			continue;
		}
		/* Insertion sort: the spec does not promise an ordered map. */
		while (j > 0 && raw[j - 1].base > r.base) {
			raw[j] = raw[j - 1];
			j--;
		}
		raw[j] = r;
	}

	UINT32 out = 0;
	for (UINTN i = 0; i < count; i++) {
		struct mem_region *prev = out ? &info->regions[out - 1] : NULL;

		if (raw[i].type == MEM_USABLE)
			sum->usable += raw[i].length;
		if (prev && prev->type == raw[i].type && prev->base + prev->length == raw[i].base) {
			prev->length += raw[i].length;
			continue;
		}
		if (out < BOOT_MAX_REGIONS)
			info->regions[out] = raw[i];
		out++;
	}
	sum->regions = out;
	if (out > BOOT_MAX_REGIONS)
		return EFI_BUFFER_TOO_SMALL;
	info->nregions = out;
	return EFI_SUCCESS;
}

/* GetMemoryMap into our buffer; grows it while allocating is still allowed. */
static EFI_STATUS read_map(BOOLEAN may_grow)
{
	EFI_STATUS st;

	for (;;) {
		map_size = map_capacity;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &map_key, &desc_size,
				       &desc_version);
		if (st != EFI_BUFFER_TOO_SMALL || !may_grow)
			return st;
		/* map_size now holds what is needed; allocating may add entries. */
		if (map)
			FreePool(map);
		map_capacity = map_size + 16 * (desc_size ? desc_size : sizeof(*map));
		map = AllocatePool(map_capacity);
		if (!map) {
			map_capacity = 0;
			return EFI_OUT_OF_RESOURCES;
		}
	}
}

EFI_STATUS memmap_prepare(struct boot_info *info)
{
	struct map_summary sum;
	EFI_STATUS st = read_map(TRUE);

	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: GetMemoryMap failed: %r\n", st);
		return st;
	}
	st = convert(info, &sum);
	if (st == EFI_BUFFER_TOO_SMALL) {
		/* Dropping entries would hide RAM or, worse, reserved ranges. */
		Print(LOADER_TAG L"error: the memory map has %lu UEFI entries, %u regions after "
				 L"merging; boot_info holds %u (and the loader sorts %u)\n",
		      sum.descriptors, sum.regions, BOOT_MAX_REGIONS, MAX_RAW_REGIONS);
		return st;
	}
	/* The kernel's boot self-test prints the same two figures from its copy. */
	Print(LOADER_TAG L"memory map: %u regions, usable %lu KiB (from %lu UEFI descriptors)\n",
	      sum.regions, sum.usable >> 10, sum.descriptors);
	return EFI_SUCCESS;
}

EFI_STATUS memmap_exit_boot_services(EFI_HANDLE image, struct boot_info *info)
{
	struct map_summary sum = {0};
	EFI_STATUS st;

	/*
	 * The map key changes whenever the map does, and any firmware call may
	 * change it (an event firing between our calls, too). So: read the map,
	 * convert it without calling the firmware, exit. If the key was stale,
	 * ExitBootServices returns EFI_INVALID_PARAMETER and may already have
	 * shut part of boot services down; only GetMemoryMap and the memory
	 * allocation services may be used then, so retry silently.
	 */
	for (int attempt = 0; attempt < 8; attempt++) {
		st = read_map(attempt == 0);
		if (!EFI_ERROR(st))
			st = convert(info, &sum);
		if (EFI_ERROR(st)) {
			if (attempt == 0)
				Print(LOADER_TAG L"error: final memory map: %r (%u regions, "
						 L"boot_info holds %u)\n",
				      st, sum.regions, BOOT_MAX_REGIONS);
			return st;
		}
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, map_key);
		if (st != EFI_INVALID_PARAMETER)
			return st;
	}
	return st;
}
