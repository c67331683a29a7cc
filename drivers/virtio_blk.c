/*
 * virtio-blk driver (virtio 1.2 section 5.2), its binding: reads the
 * device configuration (5.2.4), negotiates the features of 5.2.3, sets up
 * the request queues and registers a block device (kernel/block/blkdev.h).
 *
 * Requests are asynchronous: the block layer calls issue() to fill the
 * rings, and the device's interrupt runs the queue callback, which drains
 * the used ring and completes each request. That data path is in
 * drivers/virtio_blk_requests.c; the state both files share is in
 * drivers/virtio_blk_dev.h. With VIRTIO_BLK_F_MQ every queue the device
 * offers is used and chunks are spread round robin over them.
 *
 * Nothing here knows the transport (PCI modern, legacy or MMIO): only the
 * config ops through virtio_cread*() and the virtqueue API.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/virtio_blk.h"
#include "drivers/virtio_blk_chunks.h"
#include "drivers/virtio_blk_dev.h"
#include "kernel/block/blkdev.h"
#include "kernel/lib/log.h"
#include "kernel/mm/dma.h"
#include "kernel/smp/cpus.h"
#include "virtio/virtio.h"

static const char *const queue_names[VBLK_MAX_QUEUES] = {
	"req.0", "req.1", "req.2", "req.3", "req.4", "req.5", "req.6", "req.7",
};

static void vblk_print_stats(struct blkdev *dev)
{
	struct vblk *vb = to_vblk(dev);

	pr_info("  %s: virtio%d (%s), seg_max %u (device %u), size_max %u (device %u), "
		"max request %u bytes\n",
		dev->name, vb->vdev->index, vb->vdev->config->bus_name(vb->vdev), vb->lim.seg_max,
		vb->seg_max_dev, vb->lim.size_max, vb->size_max_dev, vb->lim.max_bytes);
	pr_info("  topology: physical block exp %u, alignment offset %u, min io %u, opt io %u; "
		"cache %s\n",
		vb->phys_block_exp, vb->alignment_offset, vb->min_io_size, vb->opt_io_size,
		blk_cache_mode_name(dev->cache));
	pr_info("  discard: max %u sectors, alignment %u; write-zeroes: max %u sectors, may "
		"unmap %u\n",
		vb->max_discard_sectors, vb->discard_align, vb->max_wz_sectors, vb->wz_may_unmap);
	for (unsigned i = 0; i < vb->nq; i++) {
		const struct vblk_queue *q = &vb->q[i];
		const struct virtqueue_stats *s = &q->vq->stats;

		pr_info("  queue %u: size %u, requests %llu, completed %llu, interrupts %llu, "
			"kicks "
			"%llu, indirect %llu, ring full %llu\n",
			i, q->nslots, (unsigned long long)q->requests,
			(unsigned long long)q->completed, (unsigned long long)s->interrupts,
			(unsigned long long)s->kicks, (unsigned long long)s->indirect,
			(unsigned long long)s->full);
	}
	pr_info("  device requests by type:");
	for (unsigned op = 0; op < BLK_OP_COUNT; op++)
		pr_info(" %s %llu", blk_op_name(op),
			(unsigned long long)virtio_blk_type_count(dev, op));
	pr_info("\n  status errors: io %llu, unsupported %llu, unwritten %llu\n",
		(unsigned long long)vb->io_errors, (unsigned long long)vb->unsupported,
		(unsigned long long)vb->unwritten);
}

/* 5.2.5: with CONFIG_WCE the `writeback` field says the mode; without
 * it, a device that offers FLUSH has a write-back cache and one that does
 * not is write-through. */
static enum blk_cache_mode read_cache_mode(struct virtio_device *vdev)
{
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE))
		return virtio_cread8(vdev, CFG_WRITEBACK) ? BLK_CACHE_WRITEBACK
							  : BLK_CACHE_WRITETHROUGH;
	return virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH) ? BLK_CACHE_WRITEBACK
							    : BLK_CACHE_WRITETHROUGH;
}

/* 5.2.5: with CONFIG_WCE the driver picks the mode through `writeback`;
 * the device confirms by reading back what it now does. */
static int vblk_set_cache_mode(struct blkdev *dev, enum blk_cache_mode mode)
{
	struct virtio_device *vdev = to_vblk(dev)->vdev;

	if (!virtio_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE))
		return -EOPNOTSUPP;
	virtio_cwrite8(vdev, CFG_WRITEBACK, mode == BLK_CACHE_WRITEBACK);
	dev->cache = read_cache_mode(vdev);
	if (dev->cache != mode) {
		pr_err("%s: asked for a %s cache, the device kept %s\n", dev->name,
		       blk_cache_mode_name(mode), blk_cache_mode_name(dev->cache));
		return -EIO;
	}
	return 0;
}

static const struct blkdev_ops vblk_ops = {
	.issue = vblk_issue,
	.kick = vblk_kick,
	.notify = vblk_notify,
	.poll = vblk_poll,
	.print_stats = vblk_print_stats,
	.set_cache_mode = vblk_set_cache_mode,
};

/* ---- Accessors for the self-test, benchmark, shell ---------------------- */

bool virtio_blk_is(const struct blkdev *dev)
{
	return dev && dev->ops == &vblk_ops;
}

int virtio_blk_queue_stats(const struct blkdev *dev, unsigned qi, struct virtio_blk_qstats *st)
{
	const struct vblk *vb;

	if (!virtio_blk_is(dev) || qi >= to_vblk(dev)->nq)
		return -EINVAL;
	vb = to_vblk(dev);
	st->size = vb->q[qi].nslots;
	st->requests = vb->q[qi].requests;
	st->completed = vb->q[qi].completed;
	st->interrupts = vb->q[qi].vq->stats.interrupts;
	st->kicks = vb->q[qi].vq->stats.kicks;
	st->cpus = vb->q[qi].cpus;
	return 0;
}

uint64_t virtio_blk_type_count(const struct blkdev *dev, enum blk_op op)
{
	uint64_t n = 0;

	if (!virtio_blk_is(dev) || (unsigned)op >= BLK_OP_COUNT)
		return 0;
	for (unsigned i = 0; i < to_vblk(dev)->nq; i++)
		n += to_vblk(dev)->q[i].per_type[op];
	return n;
}

uint64_t virtio_blk_unwritten_status(const struct blkdev *dev)
{
	return virtio_blk_is(dev) ? to_vblk(dev)->unwritten : 0;
}

/* ---- Probe ------------------------------------------------------------- */

/* 5.2.4: reads what the negotiated features make valid, checking each
 * value before it bounds anything. */
static void read_config(struct vblk *vb)
{
	struct virtio_device *vdev = vb->vdev;
	uint32_t blk_size = BLK_SECTOR_SIZE;

	vb->blk.capacity = virtio_cread64(vdev, CFG_CAPACITY);

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_BLK_SIZE)) {
		uint32_t v = virtio_cread32(vdev, CFG_BLK_SIZE);

		if (v >= BLK_SECTOR_SIZE && v <= 65536 && !(v & (v - 1)))
			blk_size = v;
		else
			pr_warn("virtio%d: blk_size %u, expected a power of two from 512 to 65536; "
				"using 512\n",
				vdev->index, v);
	}
	vb->blk.block_size = blk_size;

	vb->seg_max_dev = 1; /* 5.2.4: without SEG_MAX, one data segment */
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_SEG_MAX)) {
		vb->seg_max_dev = virtio_cread32(vdev, CFG_SEG_MAX);
		if (vb->seg_max_dev == 0) {
			pr_warn("virtio%d: seg_max 0, expected >= 1; using 1\n", vdev->index);
			vb->seg_max_dev = 1;
		}
	}
	vb->size_max_dev = 0;
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_SIZE_MAX)) {
		vb->size_max_dev = virtio_cread32(vdev, CFG_SIZE_MAX);
		if (vb->size_max_dev && vb->size_max_dev < BLK_SECTOR_SIZE) {
			pr_warn("virtio%d: size_max %u, expected >= 512; using 512\n", vdev->index,
				vb->size_max_dev);
			vb->size_max_dev = BLK_SECTOR_SIZE;
		}
	}
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_TOPOLOGY)) {
		vb->phys_block_exp = virtio_cread8(vdev, CFG_PHYS_BLOCK_EXP);
		vb->alignment_offset = virtio_cread8(vdev, CFG_ALIGNMENT_OFFSET);
		vb->min_io_size = virtio_cread16(vdev, CFG_MIN_IO_SIZE);
		vb->opt_io_size = virtio_cread32(vdev, CFG_OPT_IO_SIZE);
	}
	vb->blk.cache = read_cache_mode(vdev);
	vb->nq = 1;
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_MQ)) {
		unsigned n = virtio_cread16(vdev, CFG_NUM_QUEUES);

		if (n == 0)
			pr_warn("virtio%d: num_queues 0 with MQ, expected >= 1; using 1\n",
				vdev->index);
		vb->nq = n == 0 ? 1 : n > VBLK_MAX_QUEUES ? VBLK_MAX_QUEUES : n;
	}
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_DISCARD)) {
		vb->max_discard_sectors = virtio_cread32(vdev, CFG_MAX_DISCARD_SECTORS);
		vb->discard_align = virtio_cread32(vdev, CFG_DISCARD_SECTOR_ALIGNMENT);
	}
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_WRITE_ZEROES)) {
		vb->max_wz_sectors = virtio_cread32(vdev, CFG_MAX_WRITE_ZEROES_SECTORS);
		vb->wz_may_unmap = virtio_cread8(vdev, CFG_WRITE_ZEROES_MAY_UNMAP) != 0;
	}
}

/* Derives our limits and capabilities from the config. */
static void set_limits(struct vblk *vb, unsigned ring_size)
{
	uint32_t bs = vb->blk.block_size, bs_sectors = bs / BLK_SECTOR_SIZE;
	uint32_t seg_max = vb->seg_max_dev;
	char *f = vb->blk.features;
	size_t fs = sizeof vb->blk.features;
	struct virtio_device *vdev = vb->vdev;

	/* A chain is header + data + status and never longer than the
	 * ring (2.7.5.3.1, also for indirect tables). */
	if (seg_max > VBLK_MAX_SEGS)
		seg_max = VBLK_MAX_SEGS;
	if (seg_max > ring_size - 2)
		seg_max = ring_size - 2;
	vb->lim.seg_max = seg_max;
	vb->lim.size_max = vb->size_max_dev ? vb->size_max_dev : VBLK_SIZE_MAX_DEFAULT;
	vb->lim.granule = bs;
	vb->lim.max_bytes = VBLK_MAX_BYTES / bs * bs;

	vb->blk.read_only = virtio_has_feature(vdev, VIRTIO_BLK_F_RO);
	vb->blk.caps = BLK_CAP_GET_ID; /* every device knows the type; UNSUPP otherwise */
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH))
		vb->blk.caps |= BLK_CAP_FLUSH;
	/* A range limit below one block makes the operation unusable. */
	vb->max_discard_sectors = vb->max_discard_sectors / bs_sectors * bs_sectors;
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_DISCARD) && vb->max_discard_sectors)
		vb->blk.caps |= BLK_CAP_DISCARD;
	if (vb->discard_align < bs_sectors || vb->discard_align % bs_sectors)
		vb->discard_align = bs_sectors;
	vb->max_wz_sectors = vb->max_wz_sectors / bs_sectors * bs_sectors;
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_WRITE_ZEROES) && vb->max_wz_sectors)
		vb->blk.caps |= BLK_CAP_WRITE_ZEROES;

	snprintf(f, fs, "%s%s%s%s%s%s%s%s%s", vb->blk.caps & BLK_CAP_FLUSH ? "flush " : "",
		 vb->blk.caps & BLK_CAP_DISCARD ? "discard " : "",
		 vb->blk.caps & BLK_CAP_WRITE_ZEROES ? "write-zeroes " : "",
		 virtio_has_feature(vdev, VIRTIO_BLK_F_MQ) ? "mq " : "",
		 virtio_has_feature(vdev, VIRTIO_BLK_F_TOPOLOGY) ? "topology " : "",
		 virtio_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE) ? "wce " : "",
		 virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC) ? "indirect " : "",
		 virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX) ? "event-idx " : "",
		 vdev->legacy ? "legacy" : "");
	size_t len = strlen(f);
	if (len && f[len - 1] == ' ')
		f[len - 1] = '\0';
}

static void free_queues(struct vblk *vb)
{
	for (unsigned i = 0; i < vb->nq; i++) {
		if (vb->q[i].slots)
			dma_free(vb->q[i].slots, vb->q[i].slots_size);
		vb->q[i].slots = NULL;
	}
}

static int vblk_probe(struct virtio_device *vdev)
{
	struct virtqueue *vqs[VBLK_MAX_QUEUES];
	struct virtqueue_info info[VBLK_MAX_QUEUES];
	unsigned ring_min = 0;
	struct vblk *vb;
	int err;

	vb = calloc(1, sizeof *vb);
	if (!vb)
		return -ENOMEM;
	vb->vdev = vdev;
	read_config(vb);
	/* One hardware context per CPU, or per queue if there are fewer
	 * (kernel/block/blkdev.h); before the queues exist, since their
	 * interrupts find their context by it. */
	vb->blk.nr_hwq = vb->nq < smp_cpus_online() ? vb->nq : smp_cpus_online();
	if (vb->blk.nr_hwq > BLK_MAX_HWQ)
		vb->blk.nr_hwq = BLK_MAX_HWQ;

	/* Queue i belongs to context i % nr_hwq and takes its interrupt on
	 * CPU i (modulo the CPUs online), one of that context's CPUs:
	 * requests complete where they were submitted. */
	for (unsigned i = 0; i < vb->nq; i++)
		info[i] = (struct virtqueue_info){
			.name = queue_names[i], .callback = vblk_vq_done, .irq_cpu = i};
	err = virtio_find_vqs(vdev, vb->nq, vqs, info);
	if (err) {
		pr_err("virtio%d: blk: could not set up %u request queue(s) (%d)\n", vdev->index,
		       vb->nq, err);
		free(vb);
		return err;
	}
	for (unsigned i = 0; i < vb->nq; i++) {
		struct vblk_queue *q = &vb->q[i];
		unsigned size = virtqueue_get_vring_size(vqs[i]);

		q->vq = vqs[i];
		q->vb = vb;
		q->nslots = size;
		q->slots_size = size * sizeof(struct vblk_slot);
		q->slots = dma_alloc(q->slots_size, 64);
		if (!q->slots || size < 3) {
			/* q lives in vb: decide before freeing it. */
			err = q->slots ? -EINVAL : -ENOMEM;
			pr_err("virtio%d: blk: queue %u of size %u: %s\n", vdev->index, i, size,
			       q->slots ? "expected at least 3 entries" : "no memory for requests");
			free_queues(vb);
			virtio_reset_device(vdev);
			virtio_del_vqs(vdev);
			free(vb);
			return err;
		}
		for (unsigned s = 0; s < size; s++)
			q->slots[s].next_free = s + 1 < size ? &q->slots[s + 1] : NULL;
		q->free = &q->slots[0];
		vqs[i]->priv = q;
		if (!ring_min || size < ring_min)
			ring_min = size;
	}
	set_limits(vb, ring_min);

	vb->blk.nqueues = vb->nq;
	vb->blk.driver = "virtio-blk";
	vb->blk.ops = &vblk_ops;
	vb->blk.priv = vb;
	vdev->priv = vb;
	/* Queues must be live before anyone can submit. */
	virtio_device_ready(vdev);
	err = blkdev_register(&vb->blk);
	if (err) {
		virtio_reset_device(vdev);
		free_queues(vb);
		virtio_del_vqs(vdev);
		free(vb);
		return err;
	}
	pr_info("%s: virtio%d (%s), %llu sectors (%llu MiB), block size %u, %s, %u queue(s) of "
		"%u, seg_max %u, size_max %u; %s\n",
		vb->blk.name, vdev->index, vdev->config->bus_name(vdev),
		(unsigned long long)vb->blk.capacity, (unsigned long long)(vb->blk.capacity >> 11),
		vb->blk.block_size, vb->blk.read_only ? "read-only" : "read-write", vb->nq,
		ring_min, vb->seg_max_dev, vb->size_max_dev, vb->blk.features);
	return 0;
}

/* Fails what the device will now never complete. */
static void vblk_remove(struct virtio_device *vdev)
{
	struct vblk *vb = vdev->priv;
	unsigned long fl;
	unsigned failed;

	if (!vb)
		return;
	fl = blk_lock_all(&vb->blk);
	blkdev_unregister(&vb->blk);
	virtio_reset_device(vdev);
	failed = vblk_fail_held_requests(vb);
	blk_unlock_all(&vb->blk, fl);
	if (failed)
		pr_err("%s: removed with %u device requests in flight: they fail with -EIO\n",
		       vb->blk.name, failed);
	virtio_del_vqs(vdev);
	free_queues(vb);
	vdev->priv = NULL;
	free(vb);
}

/* 5.2.4: the device changed its config, most likely the capacity (a
 * resize on the host). Interrupt context. */
static void vblk_config_changed(struct virtio_device *vdev)
{
	struct vblk *vb = vdev->priv;
	unsigned long fl;
	uint64_t cap;

	if (!vb)
		return;
	fl = blk_lock_all(&vb->blk);
	cap = virtio_cread64(vdev, CFG_CAPACITY);
	if (cap != vb->blk.capacity) {
		pr_info("%s: capacity changed from %llu to %llu sectors (%llu MiB)\n", vb->blk.name,
			(unsigned long long)vb->blk.capacity, (unsigned long long)cap,
			(unsigned long long)(cap >> 11));
		vb->blk.capacity = cap;
	}
	vb->blk.cache = read_cache_mode(vdev);
	blk_unlock_all(&vb->blk, fl);
}

static const struct virtio_device_id vblk_ids[] = {
	{VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID},
	{0, 0},
};

static const unsigned vblk_features[] = {
	VIRTIO_BLK_F_SIZE_MAX,	   VIRTIO_BLK_F_SEG_MAX,    VIRTIO_BLK_F_RO, VIRTIO_BLK_F_BLK_SIZE,
	VIRTIO_BLK_F_FLUSH,	   VIRTIO_BLK_F_TOPOLOGY,   VIRTIO_BLK_F_MQ, VIRTIO_BLK_F_DISCARD,
	VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_F_CONFIG_WCE,
};

static struct virtio_driver vblk_driver = {
	.name = "virtio-blk",
	.id_table = vblk_ids,
	.feature_table = vblk_features,
	.feature_table_size = sizeof vblk_features / sizeof vblk_features[0],
	.probe = vblk_probe,
	.remove = vblk_remove,
	.config_changed = vblk_config_changed,
};

VIRTIO_DRIVER_INITCALL(vblk_driver);
