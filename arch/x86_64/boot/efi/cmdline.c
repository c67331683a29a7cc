/*
 * Where the kernel command line comes from, in this order:
 *  1. the loader's load options (UEFI 2.10, 9.1: LoadedImage->LoadOptions),
 *     which is what `BOOTX64.EFI test=boot` in the UEFI shell or the
 *     optional data of a Boot#### variable (3.1.3) pass;
 *  2. cmdline.txt next to the loader, or in the root of the ESP;
 *  3. LOADER_DEFAULT_CMDLINE (set by efi.mk; empty boots to the shell).
 *
 * Load options are UCS-2 text by convention only: firmware may pass binary
 * data (OVMF's own boot entries carry none, others carry a GUID). They are
 * used only if they are printable ASCII up to the first NUL; otherwise the
 * loader says so and moves on to cmdline.txt.
 *
 * The UEFI shell puts the program's name first, as it was typed
 * ("fs0:\EFI\BOOT\BOOTX64.EFI", "bootx64"); a Boot#### entry does not. The
 * first word is dropped when its last path component is this loader's own
 * file name (with or without ".efi", any case) or ends in ".efi"; a kernel
 * option never looks like that. Options that are empty after that count as
 * absent, so `bootx64` alone in the shell still reads cmdline.txt.
 */
#include "arch/x86_64/boot/efi/loader.h"

#ifndef LOADER_DEFAULT_CMDLINE
#define LOADER_DEFAULT_CMDLINE ""
#endif

static BOOLEAN is_space(UINT32 c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static CHAR16 lower(CHAR16 c)
{
	return c >= L'A' && c <= L'Z' ? c - L'A' + L'a' : c;
}

/* Case-insensitive compare of n characters. */
static BOOLEAN same_ci(const CHAR16 *a, const CHAR16 *b, UINTN n)
{
	for (UINTN i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return FALSE;
	return TRUE;
}

static BOOLEAN ends_with_efi(const CHAR16 *s, UINTN len)
{
	return len >= 4 && same_ci(s + len - 4, L".efi", 4);
}

/* Is word[0..len) the shell's name for this program? */
static BOOLEAN is_program_name(const CHAR16 *word, UINTN len)
{
	const CHAR16 *self = esp_loader_name();
	UINTN self_len = StrLen(self), start = 0;

	if (ends_with_efi(word, len))
		return TRUE;
	for (UINTN i = 0; i < len; i++)
		if (word[i] == L'\\' || word[i] == L'/' || word[i] == L':')
			start = i + 1;
	word += start;
	len -= start;
	if (ends_with_efi(self, self_len))
		self_len -= 4; /* "bootx64" also names BOOTX64.EFI */
	return self_len > 0 && len == self_len && same_ci(word, self, len);
}

/* Copies printable ASCII s[0..len) into out, trimmed. */
static EFI_STATUS store(char *out, const CHAR16 *s, UINTN len, const CHAR16 *from)
{
	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	if (len > BOOT_CMDLINE_MAX - 1) {
		/* Cutting it would change its meaning without anyone noticing. */
		Print(LOADER_TAG L"error: the command line from %s has %lu characters, boot_info "
				 L"holds %u\n",
		      from, len, BOOT_CMDLINE_MAX - 1);
		return EFI_BAD_BUFFER_SIZE;
	}
	for (UINTN i = 0; i < len; i++)
		out[i] = is_space(s[i]) ? ' ' : (char)s[i];
	out[len] = 0;
	return EFI_SUCCESS;
}

/* EFI_NOT_FOUND: no usable options, try the next source. */
static EFI_STATUS from_load_options(EFI_LOADED_IMAGE *li, char *out)
{
	const CHAR16 *opt = li->LoadOptions;
	UINTN n = li->LoadOptionsSize / sizeof(CHAR16), len = 0, w = 0;

	if (!opt || n == 0)
		return EFI_NOT_FOUND;
	for (; len < n && opt[len]; len++) {
		if (!is_space(opt[len]) && (opt[len] < 0x20 || opt[len] > 0x7e)) {
			Print(LOADER_TAG L"load options (%u bytes) are not ASCII text, ignored\n",
			      li->LoadOptionsSize);
			return EFI_NOT_FOUND;
		}
	}
	while (len && is_space(*opt)) {
		opt++;
		len--;
	}
	while (w < len && !is_space(opt[w]))
		w++;
	if (w && is_program_name(opt, w)) {
		opt += w;
		len -= w;
	}
	for (UINTN i = 0; i < len; i++)
		if (!is_space(opt[i]))
			return store(out, opt, len, L"the load options");
	return EFI_NOT_FOUND;
}

static EFI_STATUS from_file(char *out)
{
	static CHAR16 wide[BOOT_CMDLINE_MAX + 1];
	UINT8 *data;
	UINTN size, start = 0, len;
	EFI_STATUS st = esp_read_file(L"cmdline.txt", (void **)&data, &size);

	if (EFI_ERROR(st))
		return st; /* EFI_NOT_FOUND: fine, use the default */
	if (size >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
		start = 3; /* a UTF-8 byte order mark, as some editors write */
	len = size - start;
	/* Trailing newlines do not count against the limit. */
	while (len && is_space(data[start + len - 1]))
		len--;
	if (len > BOOT_CMDLINE_MAX) {
		FreePool(data);
		Print(LOADER_TAG L"error: cmdline.txt has %lu characters, boot_info holds %u\n",
		      len, BOOT_CMDLINE_MAX - 1);
		return EFI_BAD_BUFFER_SIZE;
	}
	for (UINTN i = 0; i < len; i++) {
		UINT8 c = data[start + i];

		if (!is_space(c) && (c < 0x20 || c > 0x7e)) {
			Print(LOADER_TAG L"error: cmdline.txt byte %lu is 0x%02x, expected "
					 L"printable ASCII\n",
			      start + i, c);
			FreePool(data);
			return EFI_LOAD_ERROR;
		}
		wide[i] = c;
	}
	FreePool(data);
	return store(out, wide, len, L"cmdline.txt");
}

EFI_STATUS loader_cmdline(EFI_LOADED_IMAGE *li, char *out)
{
	static const char def[] = LOADER_DEFAULT_CMDLINE;
	const CHAR16 *from = L"the load options";
	EFI_STATUS st = from_load_options(li, out);

	if (st == EFI_NOT_FOUND) {
		from = L"cmdline.txt";
		st = from_file(out);
		if (!EFI_ERROR(st) && out[0] == 0)
			st = EFI_NOT_FOUND; /* an empty file means "the default" */
	}
	if (st == EFI_NOT_FOUND) {
		from = L"the built-in default";
		CopyMem(out, def, sizeof def <= BOOT_CMDLINE_MAX ? sizeof def : BOOT_CMDLINE_MAX);
		out[BOOT_CMDLINE_MAX - 1] = 0;
		st = EFI_SUCCESS;
	}
	if (!EFI_ERROR(st))
		Print(LOADER_TAG L"command line (from %s): \"%a\"\n", from, out);
	return st;
}
