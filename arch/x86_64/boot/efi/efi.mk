# The GNU-EFI loader (BOOTX64.EFI) and the FAT image it boots from.
# Included by the top-level Makefile; everything lands in build/efi/ and
# build/virtio-os-efi.img.
#
#   make efi                       build/virtio-os-efi.img
#   make run-efi                   boot it with OVMF, serial on stdio
#   make run-efi EFI_CMDLINE=...   what goes into cmdline.txt (default: $(CMDLINE))
#
# A UEFI application is a PE32+ image. GNU-EFI builds it as a position
# independent ELF shared object, linked with its own crt0 and linker script,
# then converted by objcopy; crt0 applies the relocations at run time,
# because the firmware may load us anywhere.

EFI_DIR      := arch/x86_64/boot/efi
EFI_BUILD    := $(BUILD)/efi
EFI_APP      := $(EFI_BUILD)/BOOTX64.EFI
EFI_IMG      := $(BUILD)/virtio-os-efi.img
EFI_VARS     := $(EFI_BUILD)/OVMF_VARS.fd
OVMF_CODE    := /usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS    := /usr/share/OVMF/OVMF_VARS_4M.fd
EFI_CMDLINE  ?= $(CMDLINE)
# What the loader uses when neither load options nor cmdline.txt give one.
EFI_DEFAULT_CMDLINE ?=

GNUEFI_INC   := /usr/include/efi
GNUEFI_LIB   := /usr/lib
EFI_CFLAGS   := -std=gnu11 -O2 -g -ffreestanding -fpic -fshort-wchar -fno-stack-protector \
		-fno-stack-check -fno-strict-aliasing -mno-red-zone -maccumulate-outgoing-args \
		-DEFI_FUNCTION_WRAPPER -Wall -Wextra -Werror -I. -I$(GNUEFI_INC) \
		-I$(GNUEFI_INC)/x86_64 -I$(GNUEFI_INC)/protocol -MMD -MP \
		-DLOADER_DEFAULT_CMDLINE='"$(EFI_DEFAULT_CMDLINE)"'
EFI_LDFLAGS  := -nostdlib -znocombreloc -shared -Bsymbolic -T $(GNUEFI_LIB)/elf_x86_64_efi.lds \
		-L$(GNUEFI_LIB)
# The sections the PE image needs: code, data, and what crt0 relocates with.
EFI_OBJCOPY_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
		-j .rela -j .rel.* -j .rela.* -j .reloc

EFI_SRCS     := $(wildcard $(EFI_DIR)/*.c)
EFI_OBJS     := $(patsubst $(EFI_DIR)/%.c,$(EFI_BUILD)/%.o,$(EFI_SRCS))

$(EFI_BUILD)/%.o: $(EFI_DIR)/%.c $(EFI_DIR)/efi.mk
	@mkdir -p $(@D)
	gcc $(EFI_CFLAGS) -c $< -o $@

$(EFI_BUILD)/loader.so: $(EFI_OBJS)
	ld $(EFI_LDFLAGS) $(GNUEFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJS) -o $@ -lefi -lgnuefi

$(EFI_APP): $(EFI_BUILD)/loader.so
	objcopy $(EFI_OBJCOPY_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

-include $(EFI_OBJS:.o=.d)

# The kernel without debug information: the loader reads all of the file
# through the firmware, and the image stays small. Program headers and notes
# are untouched.
$(EFI_BUILD)/kernel.elf: $(KERNEL)
	@mkdir -p $(@D)
	objcopy --strip-debug $< $@

# cmdline.txt is rewritten (at parse time) only when EFI_CMDLINE changes, so
# its date tells make whether the image needs rebuilding. A phony "check"
# prerequisite instead would rebuild the image on every run.
EFI_CMDLINE_TXT := $(EFI_BUILD)/cmdline.txt
EFI_CMDLINE_Q   := '$(subst ','\'',$(EFI_CMDLINE))'
$(shell mkdir -p $(EFI_BUILD) && { printf '%s\n' $(EFI_CMDLINE_Q) | cmp -s - $(EFI_CMDLINE_TXT) || \
	printf '%s\n' $(EFI_CMDLINE_Q) >$(EFI_CMDLINE_TXT); })

# A FAT16 file system without a partition table: OVMF boots it as a
# removable disk from EFI/BOOT/BOOTX64.EFI (UEFI 2.10, 3.5.1.1). mtools
# writes into the file directly: no root, no loop device.
$(EFI_IMG): $(EFI_APP) $(EFI_BUILD)/kernel.elf $(EFI_CMDLINE_TXT)
	@rm -f $@.tmp
	truncate -s 32M $@.tmp
	mformat -i $@.tmp -v VIRTIOOS ::
	mmd -i $@.tmp ::/EFI ::/EFI/BOOT
	mcopy -i $@.tmp $(EFI_APP) ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i $@.tmp $(EFI_BUILD)/kernel.elf ::/kernel.elf
	mcopy -i $@.tmp $(EFI_CMDLINE_TXT) ::/cmdline.txt
	mv -f $@.tmp $@

# OVMF keeps its variables (boot entries) in a writable flash; ours is a
# copy, made once, so the system's file stays pristine.
$(EFI_VARS):
	@mkdir -p $(@D)
	cp $(OVMF_VARS) $@

.PHONY: efi run-efi
efi: $(EFI_IMG)

run-efi: deps $(EFI_IMG) $(EFI_VARS) $(BUILD)/run-disk.img
	$(QEMU) -M q35 -m 256M -nographic -no-reboot -accel tcg \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=$(OVMF_CODE) \
		-drive if=pflash,format=raw,unit=1,file=$(EFI_VARS) \
		-drive file=$(EFI_IMG),format=raw,if=none,id=esp \
		-device ide-hd,drive=esp,bus=ide.0 \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		$(RUN_DEVICES); \
	status=$$?; [ $$status -eq 1 ] || [ $$status -eq 0 ] || echo "qemu exit status $$status"
