/*
 * Validating kernel.elf and placing its segments where the kernel was
 * linked to run.
 *
 * ELF: System V gABI (ELF-64 header, program headers, PT_LOAD and PT_NOTE),
 * and arch/x86_64/boot/boot_info.h for the VirtioOS note that names the kernel's
 * 64-bit entry. UEFI 2.10, 7.2 memory allocation services: AllocatePages
 * with AllocateAddress claims exactly the pages the kernel needs, so it
 * fails instead of overwriting anything the firmware still owns, and marks
 * them EfiLoaderData so the firmware will not hand them out either.
 *
 * The file is untrusted input: every offset and size is checked against the
 * file size, with overflow in mind, before it is used.
 */
#include "arch/x86_64/boot/efi/loader.h"

/* The parts of the ELF-64 format this loader needs (gABI, chapter 4 and 5). */
#define EI_NIDENT	 16
#define ELFCLASS64	 2
#define ELFDATA2LSB	 1
#define EV_CURRENT	 1
#define ET_EXEC		 2
#define EM_X86_64	 62
#define PT_LOAD		 1
#define PT_NOTE		 4
#define PAGE_OFFSET_MASK ((UINT64)EFI_PAGE_SIZE - 1)

typedef struct {
	UINT8 e_ident[EI_NIDENT];
	UINT16 e_type, e_machine;
	UINT32 e_version;
	UINT64 e_entry, e_phoff, e_shoff;
	UINT32 e_flags;
	UINT16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} Elf64_Ehdr;

typedef struct {
	UINT32 p_type, p_flags;
	UINT64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
} Elf64_Phdr;

typedef struct {
	UINT32 n_namesz, n_descsz, n_type;
} Elf64_Nhdr;

#define KERNEL_FILE L"kernel.elf"

/* a + b <= limit, without letting a + b wrap around. */
static BOOLEAN fits(UINT64 a, UINT64 b, UINT64 limit)
{
	return a <= limit && b <= limit - a;
}

static EFI_STATUS bad_elf(const CHAR16 *why)
{
	Print(LOADER_TAG L"error: " KERNEL_FILE L" is not a usable kernel: %s\n", why);
	return EFI_LOAD_ERROR;
}

static EFI_STATUS check_header(const UINT8 *file, UINTN size, const Elf64_Ehdr **out)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;

	if (size < sizeof(*eh))
		return bad_elf(L"shorter than an ELF-64 header");
	if (eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' || eh->e_ident[2] != 'L' ||
	    eh->e_ident[3] != 'F')
		return bad_elf(L"no ELF magic (expected 7f 45 4c 46)");
	if (eh->e_ident[4] != ELFCLASS64)
		return bad_elf(L"not ELFCLASS64");
	if (eh->e_ident[5] != ELFDATA2LSB)
		return bad_elf(L"not little-endian");
	if (eh->e_machine != EM_X86_64)
		return bad_elf(L"machine is not x86-64 (EM_X86_64 = 62)");
	if (eh->e_type != ET_EXEC)
		return bad_elf(L"not an executable (ET_EXEC)");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return bad_elf(L"program header size is not 56");
	if (eh->e_phnum == 0)
		return bad_elf(L"no program headers");
	if (!fits(eh->e_phoff, (UINT64)eh->e_phnum * sizeof(Elf64_Phdr), size))
		return bad_elf(L"program headers lie outside the file");
	*out = eh;
	return EFI_SUCCESS;
}

/*
 * Finds the VirtioOS note of type KERNEL_NOTE_TYPE_ENTRY64. Notes are 4-byte
 * aligned in practice even in ELF-64 (the kernel's are); honour p_align 8.
 */
static BOOLEAN find_entry_note(const UINT8 *file, const Elf64_Phdr *ph, UINT64 *entry)
{
	UINT64 align = ph->p_align == 8 ? 8 : 4;
	UINT64 off = 0, end = ph->p_filesz;
	const UINT8 *notes = file + ph->p_offset;
	static const char want[] = KERNEL_NOTE_NAME;

	while (fits(off, sizeof(Elf64_Nhdr), end)) {
		const Elf64_Nhdr *n = (const Elf64_Nhdr *)(notes + off);
		UINT64 name = off + sizeof(*n);
		UINT64 desc = name + ((n->n_namesz + align - 1) & ~(align - 1));
		UINT64 next = desc + ((n->n_descsz + align - 1) & ~(align - 1));

		if (!fits(desc, n->n_descsz, end) || next < desc)
			return FALSE;
		if (n->n_type == KERNEL_NOTE_TYPE_ENTRY64 && n->n_namesz == sizeof want &&
		    CompareMem(notes + name, want, sizeof want) == 0 && n->n_descsz == 8) {
			CopyMem(entry, notes + desc, 8);
			return TRUE;
		}
		off = next;
	}
	return FALSE;
}

/*
 * Claims the pages [base, base + pages * 4 KiB) for the kernel. Reports the
 * firmware's view if it refuses: EFI_NOT_FOUND means the range is not RAM
 * at all, EFI_OUT_OF_RESOURCES that the firmware is using part of it.
 */
static EFI_STATUS claim(struct loaded_kernel *k, EFI_PHYSICAL_ADDRESS base, UINTN pages)
{
	EFI_PHYSICAL_ADDRESS addr = base;
	EFI_STATUS st;

	if (k->nallocs == sizeof k->allocs / sizeof k->allocs[0]) {
		Print(LOADER_TAG L"error: " KERNEL_FILE L" has more than %lu loadable segments\n",
		      k->nallocs);
		return EFI_LOAD_ERROR;
	}
	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiLoaderData, pages, &addr);
	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: the kernel must live at 0x%lx-0x%lx, but that memory is "
				 L"not free (AllocatePages: %r%s)\n",
		      base, base + pages * EFI_PAGE_SIZE - 1, st,
		      st == EFI_NOT_FOUND ? L", the range is not in the memory map" : L"");
		return st;
	}
	k->allocs[k->nallocs].base = addr;
	k->allocs[k->nallocs].pages = pages;
	k->nallocs++;
	return EFI_SUCCESS;
}

void elf_unload(struct loaded_kernel *k)
{
	for (UINTN i = 0; i < k->nallocs; i++)
		uefi_call_wrapper(BS->FreePages, 2, k->allocs[i].base, k->allocs[i].pages);
	k->nallocs = 0;
}

/* Checks every PT_LOAD before the first byte is copied anywhere. */
static EFI_STATUS check_segments(const UINT8 *file, UINTN size, const Elf64_Ehdr *eh)
{
	const Elf64_Phdr *phdrs = (const Elf64_Phdr *)(file + eh->e_phoff);
	UINT64 prev_end = 0;
	UINTN loads = 0;

	for (UINTN i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];

		if (ph->p_type != PT_LOAD && ph->p_type != PT_NOTE)
			continue;
		if (!fits(ph->p_offset, ph->p_filesz, size)) {
			Print(LOADER_TAG L"error:"
					 L" " KERNEL_FILE L" segment %lu (offset 0x%lx, 0x%lx "
					 L"bytes) lies outside the file (%lu bytes)\n",
			      i, ph->p_offset, ph->p_filesz, size);
			return EFI_LOAD_ERROR;
		}
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_filesz > ph->p_memsz)
			return bad_elf(L"a PT_LOAD has p_filesz > p_memsz");
		/* The kernel is identity mapped and starts in 32-bit code too. */
		if (!fits(ph->p_paddr, ph->p_memsz, 0x100000000ull))
			return bad_elf(L"a PT_LOAD lies above 4 GiB");
		/* gABI: PT_LOAD entries are sorted; overlap would be a broken link. */
		if (ph->p_paddr < prev_end)
			return bad_elf(L"PT_LOAD segments overlap or are not sorted by address");
		prev_end = ph->p_paddr + ph->p_memsz;
		loads++;
	}
	if (loads == 0)
		return bad_elf(L"no PT_LOAD segment");
	return EFI_SUCCESS;
}

EFI_STATUS elf_load(const void *data, UINTN size, struct loaded_kernel *k)
{
	const UINT8 *file = data;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *phdrs;
	EFI_PHYSICAL_ADDRESS claimed_end = 0;
	BOOLEAN have_entry = FALSE, entry_inside = FALSE;
	EFI_STATUS st;

	ZeroMem(k, sizeof(*k));
	k->lowest = ~0ull;
	st = check_header(file, size, &eh);
	if (EFI_ERROR(st))
		return st;
	st = check_segments(file, size, eh);
	if (EFI_ERROR(st))
		return st;
	phdrs = (const Elf64_Phdr *)(file + eh->e_phoff);

	for (UINTN i = 0; i < eh->e_phnum && !have_entry; i++)
		if (phdrs[i].p_type == PT_NOTE)
			have_entry = find_entry_note(file, &phdrs[i], &k->entry64);
	if (!have_entry)
		return bad_elf(L"no VirtioOS note with the 64-bit entry (type 0x64); "
			       L"is this the virtio-os kernel?");

	for (UINTN i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];
		EFI_PHYSICAL_ADDRESS first, end;

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		/* Segments may share a page; claim only what the previous one did not. */
		first = ph->p_paddr & ~PAGE_OFFSET_MASK;
		end = (ph->p_paddr + ph->p_memsz + PAGE_OFFSET_MASK) & ~PAGE_OFFSET_MASK;
		if (first < claimed_end)
			first = claimed_end;
		if (first < end) {
			st = claim(k, first, (end - first) / EFI_PAGE_SIZE);
			if (EFI_ERROR(st)) {
				elf_unload(k);
				return st;
			}
			claimed_end = end;
		}
		CopyMem((void *)(UINTN)ph->p_paddr, file + ph->p_offset, ph->p_filesz);
		/* .bss: the part of memsz the file does not supply. */
		ZeroMem((void *)(UINTN)(ph->p_paddr + ph->p_filesz), ph->p_memsz - ph->p_filesz);
		if (ph->p_paddr < k->lowest)
			k->lowest = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > k->highest)
			k->highest = ph->p_paddr + ph->p_memsz;
		if (k->entry64 >= ph->p_paddr && k->entry64 < ph->p_paddr + ph->p_filesz)
			entry_inside = TRUE;
		Print(LOADER_TAG L"segment %lu: 0x%lx-0x%lx (%lu bytes from the file)\n", i,
		      ph->p_paddr, ph->p_paddr + ph->p_memsz, ph->p_filesz);
	}
	if (!entry_inside) {
		Print(LOADER_TAG L"error: the 64-bit entry 0x%lx is not inside a loaded segment\n",
		      k->entry64);
		elf_unload(k);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}
