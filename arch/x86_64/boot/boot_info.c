/*
 * Translating what each loader hands over into one struct boot_info.
 *
 *  - multiboot2 (spec 3.6): a list of 8-byte aligned tags; we read the
 *    command line (1), the memory map (6), the framebuffer (8) and the ACPI
 *    RSDP copies (14 old, 15 new). GRUB may place this list right after the
 *    kernel image, in memory the page allocator will later hand out, so
 *    everything is copied here, before anything is allocated.
 *  - PVH (Xen hvm_start_info, version >= 1): command line, RSDP address and
 *    an e820-style memory map, all by physical address.
 *  - EFI: our loader fills a struct boot_info itself; entry.S copied it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/boot/boot_info.h"

struct boot_info boot_info;

/* GRUB gives a copy of the RSDP, not its address; keep the copy here. */
static uint8_t rsdp_copy[36] __attribute__((aligned(16)));

/* e820 and multiboot2 share the memory type numbers (ACPI 6.x, 15.1). */
static uint32_t e820_type(uint32_t type)
{
	switch (type) {
	case 1:
		return MEM_USABLE;
	case 3:
		return MEM_ACPI_RECLAIM;
	case 4:
		return MEM_ACPI_NVS;
	case 5:
		return MEM_BAD;
	default:
		return MEM_RESERVED;
	}
}

static void add_region(uint64_t base, uint64_t length, uint32_t type)
{
	if (length == 0 || boot_info.nregions == BOOT_MAX_REGIONS)
		return; /* microvm ends its map with an all-zero entry */
	struct mem_region *r = &boot_info.regions[boot_info.nregions++];
	r->base = base;
	r->length = length;
	r->type = type;
}

/* The loader's memory may be reused later, so keep what fits and how
 * much there was; the kernel's command-line parser reports a cut. */
static void copy_cmdline(const char *s)
{
	if (!s)
		return;
	boot_info.cmdline_len = strlen(s);
	strncpy(boot_info.cmdline, s, BOOT_CMDLINE_MAX - 1);
}

/* --- multiboot2 --------------------------------------------------------- */

struct mb2_tag {
	uint32_t type, size;
};

struct mb2_mmap_entry {
	uint64_t base, length;
	uint32_t type, reserved;
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size, entry_version;
	/* entries follow */
};

struct mb2_tag_framebuffer {
	struct mb2_tag tag;
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, type;
};

enum {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
};

static void parse_multiboot2(uint64_t info)
{
	uint32_t total = *(const uint32_t *)(uintptr_t)info;
	uint64_t end = info + total;
	bool have_new_rsdp = false;

	for (uint64_t p = info + 8; p + sizeof(struct mb2_tag) <= end;) {
		const struct mb2_tag *tag = (const void *)(uintptr_t)p;
		if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag))
			break;
		const uint8_t *body = (const uint8_t *)(tag + 1);
		uint32_t body_len = tag->size - sizeof(*tag);

		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			copy_cmdline((const char *)body);
			break;
		case MB2_TAG_MMAP: {
			const struct mb2_tag_mmap *m = (const void *)tag;
			if (m->entry_size < sizeof(struct mb2_mmap_entry))
				break;
			for (uint64_t e = p + sizeof(*m); e + m->entry_size <= p + tag->size;
			     e += m->entry_size) {
				const struct mb2_mmap_entry *me = (const void *)(uintptr_t)e;
				add_region(me->base, me->length, e820_type(me->type));
			}
			break;
		}
		case MB2_TAG_FRAMEBUFFER: {
			const struct mb2_tag_framebuffer *fb = (const void *)tag;
			boot_info.fb.addr = fb->addr;
			boot_info.fb.pitch = fb->pitch;
			boot_info.fb.width = fb->width;
			boot_info.fb.height = fb->height;
			boot_info.fb.bpp = fb->bpp;
			break;
		}
		case MB2_TAG_ACPI_NEW:
		case MB2_TAG_ACPI_OLD:
			/* Prefer the ACPI 2.0 RSDP (XSDT) when both are given. */
			if (tag->type == MB2_TAG_ACPI_OLD && have_new_rsdp)
				break;
			memcpy(rsdp_copy, body,
			       body_len < sizeof(rsdp_copy) ? body_len : sizeof(rsdp_copy));
			boot_info.rsdp = (uint64_t)(uintptr_t)rsdp_copy;
			have_new_rsdp = tag->type == MB2_TAG_ACPI_NEW;
			break;
		}
		p += (tag->size + 7) & ~7u;
	}
}

/* --- PVH ---------------------------------------------------------------- */

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* What a rejected start_info held, kept for boot_info_problem(): this
 * runs before the console exists, so nothing can be printed yet. */
static uint64_t pvh_info_addr;
static uint32_t pvh_seen_magic;

static bool parse_pvh(uint64_t info)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)info;

	if (si->magic != HVM_START_MAGIC) {
		pvh_info_addr = info;
		pvh_seen_magic = si->magic;
		return false;
	}
	if (si->cmdline_paddr)
		copy_cmdline((const char *)(uintptr_t)si->cmdline_paddr);
	boot_info.rsdp = si->rsdp_paddr;
	if (si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
		for (uint32_t i = 0; i < si->memmap_entries; i++)
			add_region(e[i].addr, e[i].size, e820_type(e[i].type));
	}
	return true;
}

const char *boot_path_name(uint32_t path)
{
	switch (path) {
	case BOOT_PATH_MULTIBOOT2:
		return "multiboot2";
	case BOOT_PATH_PVH:
		return "pvh";
	case BOOT_PATH_EFI:
		return "efi";
	default:
		return "unknown";
	}
}

/* Called from entry.S on the boot stack, in long mode, interrupts off.
 * Returns whether the loader's information was usable; entry.S hands that
 * to kmain(). */
bool boot_entry(uint32_t path, uint64_t info, uint64_t entry_tsc)
{
	bool ok = true;

	if (path == BOOT_PATH_EFI) {
		/* entry.S already copied the loader's struct into boot_info. */
		ok = boot_info.magic == BOOT_INFO_MAGIC && boot_info.version == BOOT_INFO_VERSION;
	} else {
		boot_info.magic = BOOT_INFO_MAGIC;
		boot_info.version = BOOT_INFO_VERSION;
		if (path == BOOT_PATH_MULTIBOOT2)
			parse_multiboot2(info);
		else
			ok = parse_pvh(info);
	}
	boot_info.path = path;
	boot_info.entry_tsc = entry_tsc;
	return ok;
}

void boot_info_problem(char *buf, size_t size)
{
	if (pvh_info_addr == 0) {
		snprintf(buf, size, "magic 0x%x or version %u, expected 0x%x version %u",
			 boot_info.magic, boot_info.version, BOOT_INFO_MAGIC, BOOT_INFO_VERSION);
		return;
	}
	/* QEMU's PVH option ROM copies the command line into a buffer just
	 * below its start_info: a line of more than about 4,120 characters
	 * runs over it, and the magic then reads as text. */
	snprintf(buf, size,
		 "the PVH start_info at 0x%llx has magic 0x%08x, expected 0x%08x (a command line "
		 "too long for QEMU's PVH ROM, about 4,120 characters, overwrites it)",
		 (unsigned long long)pvh_info_addr, pvh_seen_magic, HVM_START_MAGIC);
}
