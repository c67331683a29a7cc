# lwIP, the TCP/IP stack of the network layer (net/), fetched once from
# Debian's source package `lwip` (2.1.3) and compiled with the kernel flags.
#
# The fetch uses a private apt sources list and state directory under
# build/apt, so the system's apt configuration is never touched: a deb-src
# line for the suite this machine runs (VERSION_CODENAME from
# /etc/os-release), `apt-get update` into build/apt/lists, then
# `apt-get source --download-only lwip`. Only the upstream (orig) tarball is
# unpacked, under build/lwip/src; nothing of lwIP is ever committed.
#
# Our changes to lwIP are reviewed patches in net/lwip-patches/ (each says
# what and why), applied in name order with `patch -p1` on every unpack.
# Downloading and unpacking are two steps: a new or changed patch unpacks
# the kept tarball again (no network), and never a half-patched tree.
#
# lwIP runs in NO_SYS=1 mode (no threads, raw API): see net/lwipopts.h.
# Its own sources get the kernel flags without -Werror (lwIP is not ours to
# fix); our glue in net/ is compiled like every other kernel file.

LWIP_DIR     := $(BUILD)/lwip
LWIP_SRC     := $(LWIP_DIR)/src
LWIP_APT     := $(BUILD)/apt
LWIP_DOWNLOADED := $(LWIP_APT)/.downloaded
LWIP_FETCHED := $(LWIP_DIR)/.fetched
LWIP_PATCHES := $(sort $(wildcard net/lwip-patches/*.patch))
LWIP_LIB     := $(LWIP_DIR)/liblwip.a
LWIP_SUITE   := $(shell . /etc/os-release 2>/dev/null && echo $$VERSION_CODENAME)
LWIP_APT_OPTS = -o Dir::Etc::SourceList=$(abspath $(LWIP_APT)/sources.list) \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists=$(abspath $(LWIP_APT)/lists) \
		-o Dir::Cache=$(abspath $(LWIP_APT)/cache) \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root

# The parts of lwIP we use: core, IPv4, Ethernet/ARP, lwiperf.
LWIP_CORE := init.c def.c dns.c inet_chksum.c ip.c mem.c memp.c netif.c pbuf.c raw.c \
	     stats.c sys.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c \
	     ipv4/autoip.c ipv4/dhcp.c ipv4/etharp.c ipv4/icmp.c ipv4/igmp.c \
	     ipv4/ip4.c ipv4/ip4_addr.c ipv4/ip4_frag.c
LWIP_SRCS := $(addprefix $(LWIP_SRC)/src/core/,$(LWIP_CORE)) \
	     $(LWIP_SRC)/src/netif/ethernet.c \
	     $(LWIP_SRC)/src/apps/lwiperf/lwiperf.c
LWIP_OBJS := $(patsubst $(LWIP_SRC)/%.c,$(LWIP_DIR)/obj/%.o,$(LWIP_SRCS))
LWIP_INC  := -Inet -I$(LWIP_SRC)/src/include
LWIP_CFLAGS = $(filter-out -Werror -MMD -MP,$(KCFLAGS)) $(LWIP_INC) -w

# The download: once, kept in build/apt (a tarball from before this stamp
# existed counts as downloaded).
$(LWIP_DOWNLOADED): | deps
	@test -n "$(LWIP_SUITE)" || { echo "lwip: no VERSION_CODENAME in /etc/os-release"; exit 1; }
	mkdir -p $(LWIP_APT)/lists/partial $(LWIP_APT)/cache/archives/partial
	if ! ls $(LWIP_APT)/lwip_*.orig.tar.* >/dev/null 2>&1; then \
		echo "deb-src http://deb.debian.org/debian $(LWIP_SUITE) main" > $(LWIP_APT)/sources.list && \
		{ apt-get -q $(LWIP_APT_OPTS) update > $(LWIP_APT)/update.log 2>&1 || \
			{ cat $(LWIP_APT)/update.log; exit 1; }; } && \
		cd $(LWIP_APT) && { apt-get -q $(LWIP_APT_OPTS) source --download-only lwip \
			> source.log 2>&1 || { cat source.log; exit 1; }; }; \
	fi
	touch $@

# The unpacked, patched tree.
$(LWIP_FETCHED): $(LWIP_DOWNLOADED) $(LWIP_PATCHES) mk/lwip.mk
	rm -rf $(LWIP_SRC) $@ && mkdir -p $(LWIP_SRC)
	tar -xf $$(ls $(LWIP_APT)/lwip_*.orig.tar.* | head -n1) -C $(LWIP_SRC) --strip-components=1
	@test -f $(LWIP_SRC)/src/include/lwip/init.h || { echo "lwip: unexpected tarball layout"; exit 1; }
	for p in $(LWIP_PATCHES); do \
		patch -d $(LWIP_SRC) -p1 --forward --batch --no-backup-if-mismatch -s < $$p || \
			{ echo "lwip: $$p does not apply"; exit 1; }; \
	done
	touch $@

# Every lwIP object depends on the fetch and on our options header.
$(LWIP_DIR)/obj/%.o: $(LWIP_SRC)/%.c $(LWIP_FETCHED) $(NEWLIB_STAMP) net/lwipopts.h \
		net/arch/cc.h net/arch/sys_arch.h
	@mkdir -p $(@D)
	$(KCC) $(LWIP_CFLAGS) -c $< -o $@

$(LWIP_SRCS): $(LWIP_FETCHED)
	@:

$(LWIP_LIB): $(LWIP_OBJS)
	rm -f $@ && ar rcs $@ $(LWIP_OBJS)

.PHONY: lwip
lwip: $(LWIP_LIB)

# bench-net: host iperf (v2) against the guest's lwiperf through hostfwd
# (host to guest), the guest's `iperf -c` against a host `iperf -s` (guest
# to host), UDP packets/s guest to host, and (as root, over a tap) HTTP
# requests/s with ApacheBench, with and without keep-alive
# (test/qemu/bench_net.py). BENCH_NET_ARGS=--http-only runs the HTTP rows
# alone.
BENCH_TARGETS += bench-net
BENCH_NET_ARGS ?=

.PHONY: bench-net
bench-net: $(KERNEL)
	/usr/bin/python3 test/qemu/bench_net.py --kernel $(KERNEL) $(BENCH_NET_ARGS)
