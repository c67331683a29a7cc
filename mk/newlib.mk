# newlib, the kernel's C library, built once from Debian's newlib-source.
#
# The kernel must never touch SSE/x87 state, but a default newlib build uses
# SSE even in printf and malloc. So we build it in two passes:
#   1. everything with -mgeneral-regs-only and float I/O disabled; the ~100
#      floating-point files (libm, strtod, ...) fail to compile and are skipped
#      (make -k);
#   2. only those failed objects again without -mgeneral-regs-only.
# The integer paths the kernel uses (printf family, malloc, string functions)
# therefore contain no xmm instructions; `make newlib-check` verifies that.

NEWLIB_TARBALL := /usr/src/newlib/newlib-3.3.0.tar.xz
NEWLIB_DIR     := $(BUILD)/newlib
NEWLIB_PREFIX  := $(abspath $(NEWLIB_DIR)/install)
NEWLIB_INC     := $(NEWLIB_PREFIX)/x86_64-elf/include
NEWLIB_LIBC    := $(NEWLIB_PREFIX)/x86_64-elf/lib/libc.a
NEWLIB_STAMP   := $(NEWLIB_DIR)/.stamp

NEWLIB_CFLAGS := -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector -mno-red-zone \
		 
NEWLIB_CONFIGURE := --target=x86_64-elf --prefix=$(NEWLIB_PREFIX) --disable-multilib \
		    --enable-newlib-io-c99-formats --disable-nls --disable-newlib-io-float \
		    --disable-newlib-supplied-syscalls

$(NEWLIB_STAMP): mk/newlib.mk | deps
	rm -rf $(NEWLIB_DIR) && mkdir -p $(NEWLIB_DIR)/obj $(NEWLIB_DIR)/src
	tar -xf $(NEWLIB_TARBALL) -C $(NEWLIB_DIR)/src --strip-components=1
	cd $(NEWLIB_DIR)/obj && ../src/configure $(NEWLIB_CONFIGURE) \
		CC_FOR_TARGET=gcc AR_FOR_TARGET=ar AS_FOR_TARGET=as LD_FOR_TARGET=ld \
		RANLIB_FOR_TARGET=ranlib NM_FOR_TARGET=nm \
		CFLAGS_FOR_TARGET="$(NEWLIB_CFLAGS) -mgeneral-regs-only" > ../configure.log 2>&1
	@echo "newlib: pass 1 (general registers only; float files are expected to fail)"
	-$(MAKE) -k -C $(NEWLIB_DIR)/obj all-target-newlib > $(NEWLIB_DIR)/pass1.log 2>&1
	@echo "newlib: pass 2 (the float files, with SSE allowed)"
	$(MAKE) -C $(NEWLIB_DIR)/obj all-target-newlib \
		CFLAGS_FOR_TARGET="$(NEWLIB_CFLAGS)" > $(NEWLIB_DIR)/pass2.log 2>&1
	$(MAKE) -C $(NEWLIB_DIR)/obj install-target-newlib > $(NEWLIB_DIR)/install.log 2>&1
	# newlib's stdatomic.h does not compile with gcc 12; gcc's own is used instead.
	rm -f $(NEWLIB_INC)/stdatomic.h
	touch $@

.PHONY: newlib
newlib: $(NEWLIB_STAMP)
