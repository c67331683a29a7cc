# virtio-os: a bare-metal x86_64 guest with its own virtio drivers.
#
#   make          build the kernel, the GRUB ISO and the host test programs
#   make run      install what is missing, build, boot in QEMU (virtio disk + NIC, serial on stdio)
#   make debug    the same, stopped for gdb (GDB_PORT=1234); attach with gdb -x mk/gdb/virtio-os.gdb
#   make test     build everything and run every test (host unit tests + QEMU serial-console tests)
#   make bench    benchmarks (print figures, assert nothing)
#   make clean    remove build/
#
# Everything generated lands in build/. The Makefile is -j safe and incremental.

BUILD      := build
PYTEST     := /usr/bin/python3 -m pytest
QEMU       := qemu-system-x86_64
KERNEL     := $(BUILD)/kernel.elf
ISO        := $(BUILD)/virtio-os.iso

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

include mk/deps.mk
include mk/newlib.mk
include arch/x86_64/boot/efi/efi.mk
include mk/bench.mk
include mk/lwip.mk

# --- The kernel -------------------------------------------------------------
# No SSE/FPU anywhere in the kernel (-mgeneral-regs-only): interrupt handlers
# then never have to save vector state. No red zone: an interrupt would
# overwrite it. Linked at 2 MiB and identity mapped, so the default code model
# is enough and physical == virtual.
KCC      := gcc
KCFLAGS  := -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	    -mno-red-zone -mgeneral-regs-only -fno-omit-frame-pointer -fno-common \
	    -Wall -Wextra -Werror -Wno-unused-parameter \
	    -I. -isystem $(NEWLIB_INC) -MMD -MP
KASFLAGS := -g -I. -MMD -MP -D__ASSEMBLY__
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack \
	    -T linker/kernel.ld
LIBGCC   := $(shell $(KCC) -print-libgcc-file-name)

# The kernel's folders, bottom up in the layer order of docs/ARCHITECTURE.md
# (test/test_layers.py checks that the two agree). Every .c/.S in them belongs
# to the kernel, linked in this order. The EFI loader (arch/x86_64/boot/efi)
# is a separate program with its own rules.
KDIRS := arch/x86_64/boot arch/x86_64 \
	 kernel/lib kernel/console kernel/shell kernel/selftest kernel/mm kernel/libc \
	 kernel/acpi kernel/irq kernel/time kernel/smp kernel/pci kernel/block kernel/netdev kernel \
	 virtio virtio/ring virtio/transport drivers net test/kernel
KSRCS := $(foreach d,$(KDIRS),$(sort $(wildcard $(d)/*.c $(d)/*.S)))

.PHONY: print-kdirs
print-kdirs:
	@echo $(KDIRS)
KOBJS := $(patsubst %,$(BUILD)/obj/%.o,$(KSRCS))

$(BUILD)/obj/%.c.o: %.c $(NEWLIB_STAMP)
	@mkdir -p $(@D)
	$(KCC) $(KCFLAGS) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(KCC) $(KASFLAGS) -c $< -o $@

# The network layer (net/) and its self-test are built against lwIP's
# headers (mk/lwip.mk).
LWIP_USERS := $(filter $(BUILD)/obj/net/% $(BUILD)/obj/test/kernel/net_%,$(KOBJS))
$(LWIP_USERS): KCFLAGS += $(LWIP_INC)
$(LWIP_USERS): $(LWIP_FETCHED)

$(KERNEL): $(KOBJS) $(LWIP_LIB) linker/kernel.ld $(NEWLIB_STAMP)
	$(KCC) $(KLDFLAGS) -o $@ $(KOBJS) $(LWIP_LIB) $(NEWLIB_LIBC) $(LIBGCC)

-include $(KOBJS:.o=.d)

# --- GRUB ISO (BIOS + UEFI hybrid) -----------------------------------------
# The menu entry passes $(CMDLINE) (empty unless `make iso CMDLINE=...`) in
# place of @CMDLINE@. The ISO depends on a file holding the last value, which
# changes only when the value does, so a new CMDLINE rebuilds the ISO.
ISO_CMDLINE_STAMP := $(BUILD)/iso-cmdline.txt
$(ISO_CMDLINE_STAMP): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(subst ','\'',$(CMDLINE))' | cmp -s - $@ || \
		printf '%s\n' '$(subst ','\'',$(CMDLINE))' > $@

$(ISO): $(KERNEL) arch/x86_64/boot/grub.cfg $(ISO_CMDLINE_STAMP)
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	cp $(KERNEL) $(BUILD)/iso/boot/kernel.elf
	CMDLINE_TEXT="$$(cat $(ISO_CMDLINE_STAMP))" python3 -c \
		'import os,sys; sys.stdout.write(open(sys.argv[1]).read().replace("@CMDLINE@", os.environ["CMDLINE_TEXT"]))' \
		arch/x86_64/boot/grub.cfg > $(BUILD)/iso/boot/grub/grub.cfg
	@! grep -q @CMDLINE@ $(BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso 2>$(BUILD)/grub-mkrescue.log || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }

# --- Host programs (unit tests, fuzzer, ring benchmark) --------------------
-include test/host/host.mk

.PHONY: FORCE
FORCE:

.PHONY: all kernel iso run run-microvm debug test test-host test-qemu bench clean format format-check
all: $(KERNEL) $(ISO) $(EFI_IMG) $(HOST_TEST_BINS) $(HOST_TSAN_BINS)
kernel: $(KERNEL)
iso: $(ISO)

# A scratch disk for `make run`, so the virtio-blk driver has something to show.
$(BUILD)/run-disk.img:
	@mkdir -p $(@D)
	truncate -s 64M $@

RUN_DEVICES := -device virtio-rng-pci \
	-drive file=$(BUILD)/run-disk.img,format=raw,if=none,id=disk0 \
	-device virtio-blk-pci,drive=disk0 \
	-netdev user,id=net0 -device virtio-net-pci,netdev=net0
run: deps all $(BUILD)/run-disk.img
	$(QEMU) -M q35 -m 256M -nographic -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		$(RUN_DEVICES) -kernel $(KERNEL) -append "$(CMDLINE)"; \
	status=$$?; [ $$status -eq 1 ] || [ $$status -eq 0 ] || echo "qemu exit status $$status"

# The same on QEMU microvm: no PCI, virtio-mmio transports described by ACPI.
run-microvm: deps all $(BUILD)/run-disk.img
	$(QEMU) -M microvm -m 256M -nographic -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -device virtio-rng-device \
		-drive file=$(BUILD)/run-disk.img,format=raw,if=none,id=disk0 \
		-device virtio-blk-device,drive=disk0 \
		-netdev user,id=net0 -device virtio-net-device,netdev=net0 \
		-kernel $(KERNEL) -append "$(CMDLINE)"; \
	status=$$?; [ $$status -eq 1 ] || [ $$status -eq 0 ] || echo "qemu exit status $$status"

# `make run`, stopped at the first instruction with QEMU's gdb stub on
# 127.0.0.1:$(GDB_PORT) (-gdb rather than -s, so the port can be picked;
# only local: the stub gives whoever connects the whole machine).
# mk/gdb/virtio-os.gdb loads the symbols, connects, sets breakpoints and
# adds vq-dump and friends (README, "Debugging with gdb").
GDB_PORT ?= 1234
GDB_ATTACH := gdb $(if $(filter-out 1234,$(GDB_PORT)),-ex 'set \$$gdb_port = $(GDB_PORT)' )-x mk/gdb/virtio-os.gdb
debug: deps $(KERNEL) $(BUILD)/run-disk.img
	@echo "debug: QEMU waits for gdb on 127.0.0.1:$(GDB_PORT); in another terminal: cd $(CURDIR) && $(GDB_ATTACH)"
	@$(QEMU) -M q35 -m 256M -nographic -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		$(RUN_DEVICES) -kernel $(KERNEL) -append "$(CMDLINE)" \
		-gdb tcp:127.0.0.1:$(GDB_PORT) -S; \
	status=$$?; [ $$status -eq 1 ] || [ $$status -eq 0 ] || echo "qemu exit status $$status"

# `make test` is the one command CI runs: host tests and QEMU tests, all
# collected by pytest so the summary line counts every one of them.
test: deps all
	$(PYTEST) -q -p no:cacheprovider --junitxml=$(BUILD)/test-results.xml test/

bench: deps all $(BENCH_TARGETS)

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run -Werror $(shell git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
