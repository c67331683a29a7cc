/*
 * Benchmark `bench=blk` for the block layer and the virtio-blk driver
 * (virtio 1.2 section 5.2): 4 KiB random reads at queue depth 1 and 32,
 * 4 KiB random writes at depth 32, sequential 128 KiB reads and writes at
 * depth 8, each for a fixed time (bench.blk_ms, default 1500 ms), on the
 * first block device. Prints IOPS, MB/s, interrupts per request and the
 * mean latency. Integer arithmetic only: the kernel has no FPU state.
 *
 * Requests are kept in flight by the thread: it waits (sti; hlt) until a
 * completion callback marks a slot done and submits the slot again.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/virtio_blk.h"
#include "kernel/block/blkdev.h"
#include "kernel/lib/cmdline.h"
#include "kernel/mm/dma.h"
#include "kernel/selftest/bench.h"
#include "kernel/time/timer.h"

CMDLINE_OPTION(blk_bench_ms, .key = "bench.blk_ms", .type = CMDLINE_U64, .def = 1500, .min = 1,
	       .max = 600000, .help = "bench=blk: milliseconds per test");

#define MAX_QD 32

struct slot {
	struct blk_request req;
	void *buf;
	bool busy;	    /* submitted, not yet collected by the thread */
	volatile bool done; /* set by the completion callback */
};

struct run {
	struct slot slot[MAX_QD];
	volatile unsigned done_count; /* completions not yet seen by the thread */
	unsigned errors;
	int first_error;
};

static struct run run;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	/* xorshift64: cheap, and integer only. */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void slot_done(struct blk_request *req, int status)
{
	struct slot *s = req->ctx;

	if (status) {
		run.errors++;
		if (!run.first_error)
			run.first_error = status;
	}
	s->done = true;
	run.done_count++;
}

static bool something_done(void *arg)
{
	return run.done_count != 0;
}

static uint64_t irq_total(struct blkdev *dev)
{
	struct virtio_blk_qstats qs;
	uint64_t n = 0;

	for (unsigned q = 0; virtio_blk_queue_stats(dev, q, &qs) == 0; q++)
		n += qs.interrupts;
	return n;
}

struct test {
	const char *name;
	enum blk_op op;
	uint32_t sectors; /* per request */
	unsigned qd;
	bool sequential;
};

static void one_test(struct blkdev *dev, const struct test *t, uint64_t duration_ns)
{
	uint64_t span = dev->capacity / t->sectors; /* request-sized positions */
	uint64_t seq = 0, completed = 0, latency_sum = 0, irq0, t0, end, elapsed;
	unsigned inflight = 0;

	if (span == 0 || (t->op != BLK_OP_READ && dev->read_only)) {
		printf("bench: blk %s: skipped (%s)\n", t->name,
		       span == 0 ? "disk too small" : "read-only");
		return;
	}
	run.done_count = 0;
	run.errors = 0;
	run.first_error = 0;
	irq0 = irq_total(dev);
	t0 = time_ns();
	end = t0 + duration_ns;
	for (;;) {
		/* Collect finished slots, refill idle ones while there is
		 * time left. */
		for (unsigned i = 0; i < t->qd; i++) {
			struct slot *s = &run.slot[i];
			uint64_t pos;

			if (s->done) {
				s->done = false;
				s->busy = false;
				run.done_count--;
				inflight--;
				completed++;
				latency_sum += time_ns() - s->req.submit_ns;
			}
			if (s->busy || time_ns() >= end)
				continue;
			pos = t->sequential ? seq++ % span : next_random() % span;
			s->req = (struct blk_request){.op = t->op,
						      .sector = pos * t->sectors,
						      .count = t->sectors,
						      .buf = s->buf,
						      .done = slot_done,
						      .ctx = s};
			s->busy = true;
			inflight++;
			if (blk_submit(dev, &s->req) != 0) {
				s->busy = false;
				inflight--;
				run.errors++;
			}
		}
		if (inflight == 0)
			break;
		blk_wait(something_done, NULL);
	}
	elapsed = time_ns() - t0;
	if (elapsed == 0)
		elapsed = 1;

	uint64_t irqs = irq_total(dev) - irq0;
	uint64_t bytes = completed * t->sectors * BLK_SECTOR_SIZE;
	uint64_t iops = completed * 1000000000ull / elapsed;
	uint64_t mbps10 = bytes * 10000ull / elapsed; /* MB/s x 10 */
	uint64_t ipr100 = completed ? irqs * 100 / completed : 0;
	uint64_t lat_us = completed ? latency_sum / completed / 1000 : 0;

	printf("bench: blk %-16s qd %2u: %7llu IOPS %5llu.%llu MB/s %llu.%02llu irq/req "
	       "latency %llu us (%llu requests, %llu errors)\n",
	       t->name, t->qd, (unsigned long long)iops, (unsigned long long)(mbps10 / 10),
	       (unsigned long long)(mbps10 % 10), (unsigned long long)(ipr100 / 100),
	       (unsigned long long)(ipr100 % 100), (unsigned long long)lat_us,
	       (unsigned long long)completed, (unsigned long long)run.errors);
	printf("bench: blk result %s qd=%u iops=%llu mbps10=%llu irq_per_req100=%llu "
	       "lat_us=%llu errors=%u\n",
	       t->name, t->qd, (unsigned long long)iops, (unsigned long long)mbps10,
	       (unsigned long long)ipr100, (unsigned long long)lat_us, run.errors);
}

static const struct test tests[] = {
	{"randread-4k", BLK_OP_READ, 8, 1, false},     {"randread-4k", BLK_OP_READ, 8, 32, false},
	{"randwrite-4k", BLK_OP_WRITE, 8, 32, false},  {"seqread-128k", BLK_OP_READ, 256, 8, true},
	{"seqwrite-128k", BLK_OP_WRITE, 256, 8, true},
};

static void blk_bench(void)
{
	struct blkdev *dev = blkdev_next(NULL);
	uint64_t ms = cmdline_u64("bench.blk_ms");

	if (!dev) {
		printf("bench: blk: no block device\n");
		return;
	}
	printf("bench: blk device %s %llu sectors, %u queue(s), features %s, %llu ms per test\n",
	       dev->name, (unsigned long long)dev->capacity, dev->nqueues, dev->features,
	       (unsigned long long)ms);
	for (unsigned i = 0; i < MAX_QD; i++) {
		run.slot[i].buf = dma_alloc(128 * 1024, 4096);
		if (!run.slot[i].buf) {
			printf("bench: blk: no memory for buffers\n");
			return;
		}
	}
	for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++)
		one_test(dev, &tests[i], ms * 1000000ull);
	blk_flush(dev);
	for (unsigned i = 0; i < MAX_QD; i++)
		dma_free(run.slot[i].buf, 128 * 1024);
}
BENCHMARK(blk, blk_bench);
