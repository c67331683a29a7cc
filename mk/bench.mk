# `make bench` fragments: each benchmark adds its target to BENCH_TARGETS.
#
# bench-blk: boots the kernel with bench=blk (test/kernel/blk_bench.c)
# against a 256 MiB raw file and against QEMU's null-co backend (no I/O at
# all: what is left is the guest, the ring and QEMU's virtio emulation),
# under TCG, each with the split and the packed ring (packed=off/on), and
# prints one table with both IOPS columns: the median of 3 runs and the
# range (BENCH_BLK_RUNS=N to change). Figures only, nothing asserted.

BENCH_TARGETS += bench-blk
BENCH_BLK_RUNS ?= 3

# bench-blk-mq: block IOPS with 1, 2 and 4 CPUs, each submitting on its
# own queue (test/kernel/blk_mq_bench.c, test/qemu/bench_blk_mq.py): the
# scaling ratio against -smp 1, measured in the same run, without and with
# an iothread. Figures only.
BENCH_TARGETS += bench-blk-mq
BENCH_BLK_MQ_RUNS ?= 3

.PHONY: bench-blk-mq
bench-blk-mq: $(KERNEL)
	/usr/bin/python3 test/qemu/bench_blk_mq.py --kernel $(KERNEL) --runs $(BENCH_BLK_MQ_RUNS)

.PHONY: bench-blk
bench-blk: $(KERNEL)
	/usr/bin/python3 test/qemu/bench_blk.py --kernel $(KERNEL) --image $(BUILD)/bench-blk.img \
		--runs $(BENCH_BLK_RUNS)
