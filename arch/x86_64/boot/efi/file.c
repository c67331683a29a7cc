/*
 * Files on the EFI system partition the loader was started from.
 *
 * UEFI 2.10: 9.1 loaded image protocol (DeviceHandle: the partition we came
 * from; FilePath: our own path on it), 10.3.5.4 file path media device path
 * (how that path is spelled), 13.4 simple file system protocol (OpenVolume)
 * and 13.5 file protocol (Open, GetInfo with EFI_FILE_INFO, Read, Close).
 *
 * Files are looked up next to the loader first (EFI/BOOT/ when it was
 * started as the removable-media default, 3.5.1.1) and then in the root of
 * the volume, so both layouts work: everything in EFI/BOOT/, or kernel.elf
 * and cmdline.txt in the root as `make efi` builds it.
 */
#include "arch/x86_64/boot/efi/loader.h"

#define PATH_MAX_CHARS 256

static EFI_FILE_HANDLE root;
static CHAR16 loader_dir[PATH_MAX_CHARS];  /* "\EFI\BOOT", or "" for the root */
static CHAR16 loader_name[PATH_MAX_CHARS]; /* "BOOTX64.EFI" */

/*
 * The loader's own path is a chain of file path nodes; firmware may split
 * one path over several nodes, so join them and cut after the last '\'.
 */
static void find_loader_dir(EFI_DEVICE_PATH *dp)
{
	UINTN len = 0, last_sep = 0;

	for (; dp && !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp)) {
		if (DevicePathType(dp) != MEDIA_DEVICE_PATH ||
		    DevicePathSubType(dp) != MEDIA_FILEPATH_DP)
			continue;
		const FILEPATH_DEVICE_PATH *fp = (const FILEPATH_DEVICE_PATH *)dp;
		UINTN chars =
			(DevicePathNodeLength(dp) - SIZE_OF_FILEPATH_DEVICE_PATH) / sizeof(CHAR16);

		/* Separate joined nodes, unless one side already has the '\'. */
		if (len > 0 && loader_dir[len - 1] != L'\\' && chars > 0 &&
		    fp->PathName[0] != L'\\' && len < PATH_MAX_CHARS - 1)
			loader_dir[len++] = L'\\';
		for (UINTN i = 0; i < chars && fp->PathName[i] && len < PATH_MAX_CHARS - 1; i++)
			loader_dir[len++] = fp->PathName[i];
	}
	for (UINTN i = 0; i < len; i++)
		if (loader_dir[i] == L'\\' || loader_dir[i] == L'/')
			last_sep = i;
	/* "\EFI\BOOT\BOOTX64.EFI" -> "\EFI\BOOT" and "BOOTX64.EFI". */
	loader_dir[len] = 0;
	if (len && (loader_dir[last_sep] == L'\\' || loader_dir[last_sep] == L'/')) {
		StrCpy(loader_name, loader_dir + last_sep + 1);
		loader_dir[last_sep] = 0;
	} else {
		StrCpy(loader_name, loader_dir);
		loader_dir[0] = 0;
	}
}

const CHAR16 *esp_loader_name(void)
{
	return loader_name;
}

EFI_STATUS esp_open(EFI_HANDLE image)
{
	EFI_LOADED_IMAGE *li;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: no loaded image protocol on our own handle: %r\n", st);
		return st;
	}
	/* The partition we were loaded from, not just any FAT volume. */
	st = uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle, &FileSystemProtocol,
			       (void **)&fs);
	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: the device we were loaded from has no simple file system "
				 L"(expected a FAT ESP): %r\n",
		      st);
		return st;
	}
	st = uefi_call_wrapper(fs->OpenVolume, 2, fs, &root);
	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: cannot open the ESP's root directory: %r\n", st);
		return st;
	}
	find_loader_dir(li->FilePath);
	return EFI_SUCCESS;
}

void esp_close(void)
{
	if (root)
		uefi_call_wrapper(root->Close, 1, root);
	root = NULL;
}

/* Reads the whole of an open file into pool memory. */
static EFI_STATUS read_all(EFI_FILE_HANDLE fh, const CHAR16 *path, void **data, UINTN *size)
{
	EFI_FILE_INFO *fi = LibFileInfo(fh); /* GetInfo(EFI_FILE_INFO_ID) in pool memory */
	EFI_STATUS st = EFI_SUCCESS;
	UINT8 *buf;
	UINTN done = 0;

	if (!fi) {
		Print(LOADER_TAG L"error: cannot get the size of %s\n", path);
		return EFI_DEVICE_ERROR;
	}
	if (fi->Attribute & EFI_FILE_DIRECTORY) {
		Print(LOADER_TAG L"error: %s is a directory, expected a file\n", path);
		FreePool(fi);
		return EFI_LOAD_ERROR;
	}
	*size = fi->FileSize;
	FreePool(fi);

	/* One extra byte: callers that treat the file as text NUL-terminate it. */
	buf = AllocatePool(*size + 1);
	if (!buf) {
		Print(LOADER_TAG L"error: no memory for %s (%lu bytes)\n", path, *size);
		return EFI_OUT_OF_RESOURCES;
	}
	while (done < *size) {
		UINTN chunk = *size - done;

		st = uefi_call_wrapper(fh->Read, 3, fh, &chunk, buf + done);
		if (EFI_ERROR(st) || chunk == 0) {
			Print(LOADER_TAG L"error: reading %s stopped at byte %lu of %lu: %r\n",
			      path, done, *size, EFI_ERROR(st) ? st : EFI_END_OF_FILE);
			FreePool(buf);
			return EFI_ERROR(st) ? st : EFI_END_OF_FILE;
		}
		done += chunk;
	}
	buf[*size] = 0;
	*data = buf;
	return EFI_SUCCESS;
}

static EFI_STATUS try_read(const CHAR16 *dir, const CHAR16 *name, void **data, UINTN *size)
{
	CHAR16 path[PATH_MAX_CHARS + 32];
	EFI_FILE_HANDLE fh;
	EFI_STATUS st;

	if (StrLen(dir) + StrLen(name) + 2 > sizeof path / sizeof path[0])
		return EFI_NOT_FOUND;
	StrCpy(path, dir);
	StrCat(path, L"\\");
	StrCat(path, name);
	st = uefi_call_wrapper(root->Open, 5, root, &fh, path, EFI_FILE_MODE_READ, 0);
	if (st == EFI_NOT_FOUND)
		return st;
	if (EFI_ERROR(st)) {
		Print(LOADER_TAG L"error: cannot open %s: %r\n", path, st);
		return st;
	}
	st = read_all(fh, path, data, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (!EFI_ERROR(st))
		Print(LOADER_TAG L"read %s (%lu bytes)\n", path, *size);
	return st;
}

EFI_STATUS esp_read_file(const CHAR16 *name, void **data, UINTN *size)
{
	EFI_STATUS st = EFI_NOT_FOUND;

	if (loader_dir[0])
		st = try_read(loader_dir, name, data, size);
	if (st == EFI_NOT_FOUND)
		st = try_read(L"", name, data, size);
	return st;
}
