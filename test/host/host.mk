# Host programs: unit tests for kernel logic compiled for Linux, under
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Each test/host/test_NAME.c becomes build/host/test_NAME, linked with the
# project sources listed in HOST_SRCS_test_NAME (unchanged kernel sources)
# and the shims in test/host/shim/. test/host/test_host_programs.py runs every
# such program and turns each `ok`/`not ok` line into a pytest result.

HOST_CC      := gcc
HOST_CFLAGS  := -std=c11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
		-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-D_GNU_SOURCE -DHOST_TEST -I. -Itest/host/shim -MMD -MP
HOST_LDFLAGS := -fsanitize=address,undefined -pthread

HOST_TESTS     := $(patsubst test/host/%.c,%,$(wildcard test/host/test_*.c))
HOST_TEST_BINS := $(patsubst %,$(BUILD)/host/%,$(HOST_TESTS))
# The shims, and the one kernel source a shim itself runs (ioremap_host.c
# applies the kernel's range checks).
HOST_SHIM_SRCS := $(wildcard test/host/shim/*.c) arch/x86_64/phys_range.c

# Per-test source lists live next to the tests.
-include $(wildcard test/host/*.mk.inc)

define host_test_rule
$(BUILD)/host/$(1): test/host/$(1).c $(HOST_SRCS_$(1)) $(HOST_SHIM_SRCS) test/host/host.mk
	@mkdir -p $$(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $$@ test/host/$(1).c $(HOST_SRCS_$(1)) $(HOST_SHIM_SRCS) $(HOST_LDFLAGS)
endef
$(foreach t,$(HOST_TESTS),$(eval $(call host_test_rule,$(t))))

-include $(HOST_TEST_BINS:=.d)

# The same programs under ThreadSanitizer, for the tests whose threads share
# memory through the kernel's spinlock. TSan cannot be combined with ASan,
# hence a second build in build/host-tsan/. TSan does not model the fences
# the rings use (-Wno-tsan): test_virtqueue_mp keeps every ring access
# under the lock, which TSan does model; test_virtqueue_threads, whose
# device thread relies on the fences alone, stays an ASan test.
HOST_TSAN_TESTS  := test_spinlock test_virtqueue_mp
comma := ,
HOST_TSAN_CFLAGS := $(filter-out -fsanitize=address$(comma)undefined,$(HOST_CFLAGS)) -fsanitize=thread -Wno-tsan
HOST_TSAN_BINS   := $(patsubst %,$(BUILD)/host-tsan/%,$(HOST_TSAN_TESTS))

define host_tsan_rule
$(BUILD)/host-tsan/$(1): test/host/$(1).c $(HOST_SRCS_$(1)) $(HOST_SHIM_SRCS) test/host/host.mk
	@mkdir -p $$(@D)
	$(HOST_CC) $(HOST_TSAN_CFLAGS) -o $$@ test/host/$(1).c $(HOST_SRCS_$(1)) $(HOST_SHIM_SRCS) -fsanitize=thread -pthread
endef
$(foreach t,$(HOST_TSAN_TESTS),$(eval $(call host_tsan_rule,$(t))))

-include $(HOST_TSAN_BINS:=.d)

.PHONY: test-host
test-host: $(HOST_TEST_BINS)
	$(PYTEST) -q -p no:cacheprovider test/host/

# --- libFuzzer targets: the fuzzer plays the device (test/host/fuzz_vring.c) -
# fuzz_vring drives the split ring, fuzz_vring_packed (the same source with
# -DFUZZ_PACKED) the packed ring. `make fuzz` runs each for FUZZ_SECONDS
# (default 60) on its own corpus in build/fuzz/; FUZZ_TARGET=fuzz_vring or
# FUZZ_TARGET=fuzz_vring_packed runs one. A finding leaves a crash-* file in
# build/fuzz/.
FUZZ_CC      := clang
FUZZ_SECONDS ?= 60
FUZZ_TARGET  ?= fuzz_vring fuzz_vring_packed
FUZZ_CFLAGS  := -std=c11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-D_GNU_SOURCE -DHOST_TEST -I. -Itest/host/shim
FUZZ_SRCS    := test/host/fuzz_vring.c virtio/virtqueue.c virtio/virtqueue_transport.c kernel/lib/scatterlist.c virtio/ring/ring_split.c virtio/ring/ring_packed.c \
		virtio/ring/ring_impl.c virtio/virtio.c kernel/lib/cmdline.c kernel/lib/parse_value.c \
		test/host/vring_sim.c test/host/shim/dma_host.c

$(BUILD)/fuzz/fuzz_vring: $(FUZZ_SRCS) $(wildcard virtio/*.h virtio/ring/*.h kernel/lib/*.h test/host/*.h) test/host/host.mk
	@mkdir -p $(@D)/corpus
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS)

$(BUILD)/fuzz/fuzz_vring_packed: $(FUZZ_SRCS) $(wildcard virtio/*.h virtio/ring/*.h kernel/lib/*.h test/host/*.h) test/host/host.mk
	@mkdir -p $(@D)/corpus_packed
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_PACKED -o $@ $(FUZZ_SRCS)

.PHONY: fuzz
fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGET))
	cd $(BUILD)/fuzz && for t in $(FUZZ_TARGET); do \
		corpus=corpus; [ $$t = fuzz_vring_packed ] && corpus=corpus_packed; \
		mkdir -p $$corpus; \
		./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -max_len=4096 \
			$$corpus || exit 1; \
	done

# --- Ring benchmark: ops table vs direct split-ring calls (test/host/bench_ring.c)
BENCH_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
		-D_GNU_SOURCE -DHOST_TEST -I. -Itest/host/shim
BENCH_SRCS   := test/host/bench_ring.c virtio/virtqueue.c virtio/virtqueue_transport.c kernel/lib/scatterlist.c virtio/ring/ring_split.c virtio/ring/ring_packed.c \
		virtio/ring/ring_impl.c virtio/virtio.c kernel/lib/cmdline.c kernel/lib/parse_value.c \
		test/host/vring_sim.c test/host/shim/dma_host.c

$(BUILD)/bench/bench_ring: $(BENCH_SRCS) $(wildcard virtio/*.h virtio/ring/*.h kernel/lib/*.h test/host/*.h) test/host/host.mk
	@mkdir -p $(@D)
	$(HOST_CC) $(BENCH_CFLAGS) -o $@ $(BENCH_SRCS) -pthread

.PHONY: bench-ring
bench-ring: $(BUILD)/bench/bench_ring
	$(BUILD)/bench/bench_ring
BENCH_TARGETS += bench-ring
