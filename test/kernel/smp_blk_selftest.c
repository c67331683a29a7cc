/*
 * `test=smp_blk`: block I/O from every CPU at once over a multi-queue
 * virtio-blk device (virtio 1.2 5.2, VIRTIO_BLK_F_MQ), as blk-mq does it:
 * each CPU submits on its own queue, and that queue's MSI-X vector is
 * steered to it, so its requests complete on it. Every CPU writes its own
 * region of vda (SMP_BLK_REQUESTS requests of 4 KiB each, a pattern naming
 * the CPU and the sector) and reads it back; then each queue must have
 * carried requests and taken its interrupts on its own CPU only. The host
 * (test/qemu/test_smp.py) checks the pattern in the image afterwards.
 * Needs vda with at least as many queues as CPUs (`num-queues=N`).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/percpu.h"
#include "drivers/virtio_blk.h"
#include "kernel/acpi/acpi.h"
#include "kernel/block/blkdev.h"
#include "kernel/mm/dma.h"
#include "kernel/selftest/selftest.h"
#include "kernel/smp/smp.h"
#include "kernel/smp/smp_call.h"

#define SMP_BLK_REQUESTS 64
#define SECTORS_PER_REQ	 8 /* 4 KiB */
#define REGION_SECTORS	 (SMP_BLK_REQUESTS * SECTORS_PER_REQ)

struct cpu_io {
	struct blkdev *dev;
	unsigned cpu;
	int write_err, read_err;
	unsigned mismatches;
};

static struct cpu_io io[ACPI_MAX_CPUS];

/* Word j of sector s written by CPU c (test/qemu/test_smp.py computes the
 * same): the CPU in the top byte, the sector and the word index below. */
static uint64_t word(unsigned cpu, uint64_t sector, unsigned j)
{
	return (uint64_t)(cpu + 1) << 56 | sector << 8 | j;
}

static void fill(uint64_t *buf, unsigned cpu, uint64_t sector)
{
	for (unsigned s = 0; s < SECTORS_PER_REQ; s++)
		for (unsigned j = 0; j < BLK_SECTOR_SIZE / 8; j++)
			buf[s * BLK_SECTOR_SIZE / 8 + j] = word(cpu, sector + s, j);
}

static void write_and_verify(void *arg)
{
	struct cpu_io *c = arg;
	uint64_t base = (uint64_t)c->cpu * REGION_SECTORS;
	uint64_t *buf = dma_alloc(SECTORS_PER_REQ * BLK_SECTOR_SIZE, 4096);
	uint64_t *want = dma_alloc(SECTORS_PER_REQ * BLK_SECTOR_SIZE, 4096);

	if (!buf || !want) {
		c->write_err = -12;
		goto out;
	}
	for (unsigned r = 0; r < SMP_BLK_REQUESTS && !c->write_err; r++) {
		fill(buf, c->cpu, base + r * SECTORS_PER_REQ);
		c->write_err = blk_write(c->dev, base + r * SECTORS_PER_REQ, SECTORS_PER_REQ, buf);
	}
	for (unsigned r = 0; r < SMP_BLK_REQUESTS && !c->read_err; r++) {
		memset(buf, 0, SECTORS_PER_REQ * BLK_SECTOR_SIZE);
		c->read_err = blk_read(c->dev, base + r * SECTORS_PER_REQ, SECTORS_PER_REQ, buf);
		fill(want, c->cpu, base + r * SECTORS_PER_REQ);
		if (memcmp(buf, want, SECTORS_PER_REQ * BLK_SECTOR_SIZE))
			c->mismatches++;
	}
out:
	dma_free(buf, SECTORS_PER_REQ * BLK_SECTOR_SIZE);
	dma_free(want, SECTORS_PER_REQ * BLK_SECTOR_SIZE);
}

static void *io_for(unsigned cpu)
{
	return &io[cpu];
}

static void smp_blk_selftest(void)
{
	struct blkdev *dev = blkdev_find("vda");
	unsigned n = smp_cpus_online(), bad = 0;
	int err;

	if (!check(dev && virtio_blk_is(dev), "vda is a virtio-blk device"))
		return;
	if (!check(dev->nqueues >= n, "vda has %u queues for %u CPUs", dev->nqueues, n))
		return;
	if (!check(dev->capacity >= (uint64_t)n * REGION_SECTORS,
		   "vda holds %u regions of %u sectors", n, REGION_SECTORS))
		return;
	for (unsigned c = 0; c < n; c++)
		io[c] = (struct cpu_io){.dev = dev, .cpu = c};
	err = smp_call_everywhere(write_and_verify, io_for, 60000);
	check(err == 0, "every CPU ran its I/O (%d)", err);
	for (unsigned c = 0; c < n; c++) {
		check(io[c].write_err == 0 && io[c].read_err == 0 && io[c].mismatches == 0,
		      "CPU %u: %u writes and reads of 4 KiB at sector %u, read back equal (errors "
		      "%d/%d, %u mismatches)",
		      c, SMP_BLK_REQUESTS, c * REGION_SECTORS, io[c].write_err, io[c].read_err,
		      io[c].mismatches);
		printf("smp_blk: cpu %u region %u+%u\n", c, c * REGION_SECTORS, REGION_SECTORS);
	}
	for (unsigned q = 0; q < n; q++) {
		struct virtio_blk_qstats st;

		if (virtio_blk_queue_stats(dev, q, &st) ||
		    !check(st.requests >= 2 * SMP_BLK_REQUESTS && st.cpus == 1ull << q,
			   "queue %u: %llu requests, callbacks on CPUs %#llx (only CPU %u's)", q,
			   (unsigned long long)st.requests, (unsigned long long)st.cpus, q))
			bad++;
	}
	check(bad == 0, "each CPU's requests went out on its own queue and completed on it");
}
SELFTEST(smp_blk, smp_blk_selftest);
