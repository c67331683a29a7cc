/*
 * Benchmark `bench=blk_mq`: 4 KiB random reads from every CPU at once, at
 * queue depth 32 per CPU, on the first block device (virtio 1.2 5.2 with
 * VIRTIO_BLK_F_MQ: give it `num-queues=` the number of CPUs, so each CPU
 * submits on its own queue and takes its own completions). Runs for
 * bench.blk_ms and prints each CPU's IOPS and the total;
 * test/qemu/bench_blk_mq.py compares -smp 1, 2 and 4 in one run.
 *
 * Each CPU keeps its requests in flight from its own thread context (the
 * boot CPU's main thread, the others' idle loops through a cross-CPU call)
 * and waits in `sti; hlt` until its completions arrive.
 */
#include <stdio.h>

#include "arch/x86_64/percpu.h"
#include "kernel/acpi/acpi.h"
#include "kernel/block/blkdev.h"
#include "kernel/lib/cmdline.h"
#include "kernel/mm/dma.h"
#include "kernel/selftest/bench.h"
#include "kernel/smp/smp.h"
#include "kernel/smp/smp_call.h"
#include "kernel/time/timer.h"

#define QD	    32
#define REQ_SECTORS 8

struct mq_run;

struct mq_slot {
	struct blk_request req;
	struct mq_run *run;
	void *buf;
	bool busy;
	bool done;
};

/* One CPU's run: written by that CPU only (its completions arrive on it). */
struct mq_run {
	struct blkdev *dev;
	uint64_t end_ns, rng;
	struct mq_slot slot[QD];
	unsigned done_count;
	uint64_t completed, elapsed_ns;
	unsigned errors;
};

static struct mq_run runs[ACPI_MAX_CPUS];

static void mq_done(struct blk_request *req, int status)
{
	struct mq_slot *s = req->ctx;
	struct mq_run *r = s->run;

	/* Normally on the submitting CPU, but a request another CPU issued
	 * from the shared pending list completes there: atomics. */
	if (status)
		__atomic_fetch_add(&r->errors, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&r->done_count, 1, __ATOMIC_RELEASE);
}

static bool mq_something_done(void *arg)
{
	return __atomic_load_n(&((struct mq_run *)arg)->done_count, __ATOMIC_ACQUIRE) != 0;
}

static void mq_submit(struct mq_run *r, struct mq_slot *s)
{
	uint64_t span = r->dev->capacity / REQ_SECTORS;

	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	s->req = (struct blk_request){.op = BLK_OP_READ,
				      .sector = r->rng % span * REQ_SECTORS,
				      .count = REQ_SECTORS,
				      .buf = s->buf,
				      .done = mq_done,
				      .ctx = s};
	s->busy = true;
	if (blk_submit(r->dev, &s->req)) {
		s->busy = false;
		r->errors++;
	}
}

static void mq_cpu(void *arg)
{
	struct mq_run *r = arg;
	uint64_t t0 = time_ns();
	unsigned inflight;

	for (;;) {
		inflight = 0;
		for (unsigned i = 0; i < QD; i++) {
			struct mq_slot *s = &r->slot[i];

			if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
				s->done = false;
				s->busy = false;
				__atomic_fetch_sub(&r->done_count, 1, __ATOMIC_RELAXED);
				r->completed++;
			}
			if (!s->busy && time_ns() < r->end_ns)
				mq_submit(r, s);
			inflight += s->busy;
		}
		if (!inflight)
			break;
		blk_wait(mq_something_done, r);
	}
	r->elapsed_ns = time_ns() - t0;
}

static void *run_for(unsigned cpu)
{
	return &runs[cpu];
}

static void blk_mq_bench(void)
{
	struct blkdev *dev = blkdev_next(NULL);
	unsigned n = smp_cpus_online();
	uint64_t ms = cmdline_u64("bench.blk_ms"), total = 0;
	unsigned errors = 0;
	int err;

	if (!dev || dev->capacity < REQ_SECTORS) {
		printf("bench: blk_mq: no block device\n");
		return;
	}
	printf("bench: blk_mq device %s, %u queue(s), %u CPU(s), qd %u per CPU, %llu ms\n",
	       dev->name, dev->nqueues, n, QD, (unsigned long long)ms);
	for (unsigned c = 0; c < n; c++) {
		runs[c] = (struct mq_run){.dev = dev, .rng = 0x9e3779b97f4a7c15ull * (c + 1)};
		for (unsigned i = 0; i < QD; i++) {
			runs[c].slot[i].run = &runs[c];
			runs[c].slot[i].buf = dma_alloc(REQ_SECTORS * BLK_SECTOR_SIZE, 4096);
			if (!runs[c].slot[i].buf) {
				printf("bench: blk_mq: no memory for buffers\n");
				return;
			}
		}
	}
	uint64_t end = time_ns() + ms * 1000000ull;
	for (unsigned c = 0; c < n; c++)
		runs[c].end_ns = end;
	err = smp_call_everywhere(mq_cpu, run_for, (unsigned)ms + 30000);
	for (unsigned c = 0; c < n; c++) {
		uint64_t iops = runs[c].completed * 1000000000ull /
				(runs[c].elapsed_ns ? runs[c].elapsed_ns : 1);
		printf("bench: blk_mq cpu %u: %llu IOPS (%llu requests, %u errors)\n", c,
		       (unsigned long long)iops, (unsigned long long)runs[c].completed,
		       runs[c].errors);
		total += iops;
		errors += runs[c].errors;
		for (unsigned i = 0; i < QD; i++)
			dma_free(runs[c].slot[i].buf, REQ_SECTORS * BLK_SECTOR_SIZE);
	}
	printf("bench: blk_mq result cpus=%u queues=%u iops=%llu errors=%u call=%d\n", n,
	       dev->nqueues, (unsigned long long)total, errors, err);
}
BENCHMARK(blk_mq, blk_mq_bench);
