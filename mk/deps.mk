# `make deps`: install the Debian packages this project needs, if any is
# missing. Idempotent, and fast when everything is present (one dpkg query).

DEB_PACKAGES := gcc make binutils clang clang-format libclang-rt-14-dev libtsan2 \
	newlib-source gnu-efi \
	grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools \
	qemu-system-x86 qemu-utils ovmf \
	python3 python3-pytest python3-pexpect gdb \
	iproute2 iputils-ping procps curl iperf apache2-utils patch

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing missing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null || \
		{ echo "deps: apt-get install failed for: $$missing"; exit 1; }; \
	fi
