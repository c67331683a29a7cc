/*
 * virtio-blk (virtio 1.2 section 5.2): what the self-test, the benchmark and
 * the shell may ask the driver beyond the generic block interface
 * (kernel/block/blkdev.h): per-queue counters.
 */
#ifndef DRIVERS_VIRTIO_BLK_H
#define DRIVERS_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/block/blkdev.h"

struct virtio_blk_qstats {
	unsigned size;	     /* ring entries */
	uint64_t requests;   /* device requests (chunks) added */
	uint64_t completed;  /* ... and completed */
	uint64_t interrupts; /* vq callbacks (vring_interrupt calls) */
	uint64_t kicks;
	uint64_t cpus; /* bit n: CPU n ran this queue's callback (CPUs 0-63) */
};

/* True if `dev` is driven by virtio-blk. */
bool virtio_blk_is(const struct blkdev *dev);
/* Queue `q`'s counters; -EINVAL past the last queue. */
int virtio_blk_queue_stats(const struct blkdev *dev, unsigned q, struct virtio_blk_qstats *st);
/* Device requests by type (chunks, after splitting), for BLK_OP_*. */
uint64_t virtio_blk_type_count(const struct blkdev *dev, enum blk_op op);
/* Completions whose status byte the device never wrote. */
uint64_t virtio_blk_unwritten_status(const struct blkdev *dev);

#endif
