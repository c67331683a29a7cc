/*
 * The virtio-blk data path (virtio 1.2 section 5.2.6): turns a block layer
 * request (kernel/block/blkdev.h) into device requests, one descriptor
 * chain each (a device-readable header, the data, a device-writable status
 * byte), and completes them from the used ring. A request the device's
 * limits do not allow in one piece is cut into chunks
 * (drivers/virtio_blk_chunks.c). Queue q belongs to the block layer's
 * hardware context q % nr_hwq, and so to the CPUs of that context; its
 * interrupt goes to CPU q, which is in it (blk-mq's mapping). A request is
 * issued only on its context's queues, round robin among them, under that
 * context's lock, so requests complete where they were submitted and CPUs
 * on different contexts never share a lock.
 * The driver's state is in drivers/virtio_blk_dev.h; probing is in
 * drivers/virtio_blk.c.
 */
#include <errno.h>
#include <stdint.h>

#include "drivers/virtio_blk_chunks.h"
#include "arch/x86_64/percpu.h"
#include "drivers/virtio_blk_dev.h"
#include "kernel/block/blkdev.h"
#include "kernel/lib/log.h"
#include "virtio/virtio.h"

static const uint32_t op_type[BLK_OP_COUNT] = {
	[BLK_OP_READ] = VIRTIO_BLK_T_IN,	 [BLK_OP_WRITE] = VIRTIO_BLK_T_OUT,
	[BLK_OP_FLUSH] = VIRTIO_BLK_T_FLUSH,	 [BLK_OP_GET_ID] = VIRTIO_BLK_T_GET_ID,
	[BLK_OP_DISCARD] = VIRTIO_BLK_T_DISCARD, [BLK_OP_WRITE_ZEROES] = VIRTIO_BLK_T_WRITE_ZEROES,
};

/* ---- Completion (interrupt context) ------------------------------------ */

/* Puts the slot back and completes its request when it was the last
 * chunk; `err` (0 or a negative errno) is the chunk's result. */
static void finish_slot(struct vblk_queue *q, struct vblk_slot *slot, int err)
{
	struct blk_request *req = slot->req;

	if (err && !req->error)
		req->error = err;
	q->completed++;
	slot->req = NULL;
	slot->next_free = q->free;
	q->free = slot;
	req->inflight--;
	if (req->issued_all && req->inflight == 0)
		blk_complete(req);
}

static void complete_slot(struct vblk_queue *q, struct vblk_slot *slot, unsigned len)
{
	struct vblk *vb = q->vb;
	int unwritten;
	int err = vblk_status_to_errno(slot->status, len, &unwritten);

	if (unwritten) {
		vb->unwritten++;
		pr_err("%s: %s at sector %llu completed without a status byte (used length %u, "
		       "status 0x%02x; expected length >= 1 and status 0-2): failing with -EIO\n",
		       vb->blk.name, blk_op_name(slot->op), (unsigned long long)slot->hdr.sector,
		       len, slot->status);
	} else if (err == -EIO) {
		vb->io_errors++;
		pr_err("%s: device reported an I/O error (status %u) for %s at sector %llu\n",
		       vb->blk.name, slot->status, blk_op_name(slot->op),
		       (unsigned long long)(slot->op == BLK_OP_DISCARD ||
							    slot->op == BLK_OP_WRITE_ZEROES
						    ? slot->range.sector
						    : slot->hdr.sector));
	} else if (err) {
		vb->unsupported++;
	}
	finish_slot(q, slot, err);
}

/* The device is reset (it no longer touches our buffers): take back what
 * every queue still holds and fail it with -EIO. Returns how many device
 * requests that was. Every context's lock held (blk_lock_all()). */
unsigned vblk_fail_held_requests(struct vblk *vb)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vb->nq; i++) {
		struct vblk_slot *slot;

		while ((slot = virtqueue_detach_unused_buf(vb->q[i].vq))) {
			finish_slot(&vb->q[i], slot, -EIO);
			n++;
		}
	}
	return n;
}

/* A queue the ring found broken (the device returned an id it was never
 * given, more buffers than it held, ...) completes nothing more: without
 * this its requests, and everyone waiting on them, would wait forever.
 * Reset the device so it stops using our buffers, give up on it (FAILED,
 * 2.1), and fail every request it held, on every queue, with -EIO. Later
 * submissions fail at once: broken rings refuse new buffers. */
static void vblk_fail_device(struct vblk *vb)
{
	struct virtio_device *vdev = vb->vdev;
	unsigned long fl = blk_lock_all(&vb->blk);

	if (vdev->failed) {
		blk_unlock_all(&vb->blk, fl);
		return;
	}
	pr_err("%s: virtio%d broke a request queue; device reset, its requests fail with "
	       "-EIO\n",
	       vb->blk.name, vdev->index);
	virtio_reset_device(vdev);
	virtio_break_device(vdev);
	vdev->failed = true;
	vdev->fail_step = "request queue broken";
	virtio_add_status(vdev, VIRTIO_CONFIG_S_FAILED);
	vblk_fail_held_requests(vb);
	blk_unlock_all(&vb->blk, fl);
}

/* The vq callback: drain, then re-enable callbacks and drain again if
 * buffers arrived in between (virtqueue_enable_cb returning false), so no
 * completion waits for an interrupt that already happened. */
void vblk_vq_done(struct virtqueue *vq)
{
	struct vblk_queue *q = vq->priv;
	struct vblk *vb = q->vb;
	unsigned hwq = (unsigned)(q - vb->q) % vb->blk.nr_hwq;
	struct vblk_slot *slot;
	unsigned len;
	bool broken;
	unsigned long fl = blk_lock(&vb->blk, hwq);

	if (this_cpu()->index < 64)
		q->cpus |= 1ull << this_cpu()->index;
	do {
		virtqueue_disable_cb(vq);
		while ((slot = virtqueue_get_buf(vq, &len)))
			complete_slot(q, slot, len);
	} while (!virtqueue_enable_cb(vq) && !virtqueue_is_broken(vq));
	broken = virtqueue_is_broken(vq);
	/* The done callbacks run here, after the lock is dropped. */
	blk_unlock(&vb->blk, hwq, fl);
	/* Failing the device takes every context's lock, in order: not
	 * while holding one of them. */
	if (broken)
		vblk_fail_device(vb);
}

/* ---- Issuing (thread context, interrupts off) --------------------------- */

/* Fills the slot for the next chunk of `req` without changing `req`;
 * returns the sectors the chunk covers (0 for FLUSH/GET_ID), or a negative
 * errno. sgs[]/nout/nin describe the chain. */
static long build_chunk(struct vblk *vb, struct blk_request *req, struct vblk_slot *slot,
			struct vblk_cursor *cur, struct scatterlist *sgs[3], unsigned *nout,
			unsigned *nin)
{
	uint64_t left = req->sector + req->count - req->next_sector;
	long bytes;
	uint32_t n;
	unsigned ndata;

	slot->hdr.type = op_type[req->op];
	slot->hdr.ioprio = 0;
	slot->hdr.sector = 0;
	slot->op = (uint8_t)req->op;
	/* The device overwrites this; if it still reads 0xff afterwards it
	 * never did (5.2.6: the status is the last byte it writes). */
	slot->status = 0xff;
	sg_init_one(&slot->sg_hdr, &slot->hdr, sizeof slot->hdr);
	sg_init_one(&slot->sg_status, &slot->status, 1);
	sgs[0] = &slot->sg_hdr;

	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		bytes = vblk_next_chunk(&vb->lim, cur, left * BLK_SECTOR_SIZE, slot->data, &ndata);
		if (bytes <= 0) {
			pr_err("%s: %s at sector %llu: the data list cannot be cut into requests "
			       "of "
			       "at most %u segments of %u bytes, whole %u-byte blocks (%ld)\n",
			       vb->blk.name, blk_op_name(req->op),
			       (unsigned long long)req->next_sector, vb->lim.seg_max,
			       vb->lim.size_max, vb->lim.granule, bytes);
			return -EINVAL;
		}
		slot->hdr.sector = req->next_sector;
		if (req->op == BLK_OP_WRITE) {
			sgs[1] = slot->data;
			sgs[2] = &slot->sg_status;
			*nout = 2;
			*nin = 1;
		} else {
			sgs[1] = slot->data;
			sgs[2] = &slot->sg_status;
			*nout = 1;
			*nin = 2;
		}
		return bytes / BLK_SECTOR_SIZE;
	case BLK_OP_FLUSH:
		sgs[1] = &slot->sg_status;
		*nout = 1;
		*nin = 1;
		return 0;
	case BLK_OP_GET_ID:
		/* The caller's list, or its one buffer, as it is: 20 bytes. */
		sgs[1] = req->cur_sg;
		sgs[2] = &slot->sg_status;
		*nout = 1;
		*nin = 2;
		return 0;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		if (req->op == BLK_OP_DISCARD)
			n = vblk_range_chunk(req->next_sector, left, vb->max_discard_sectors,
					     vb->discard_align);
		else
			n = vblk_range_chunk(req->next_sector, left, vb->max_wz_sectors,
					     vb->lim.granule / BLK_SECTOR_SIZE);
		slot->range.sector = req->next_sector;
		slot->range.num_sectors = n;
		slot->range.flags = req->op == BLK_OP_WRITE_ZEROES &&
						    (req->flags & BLK_REQ_UNMAP) && vb->wz_may_unmap
					    ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
					    : 0;
		sg_init_one(&slot->sg_range, &slot->range, sizeof slot->range);
		sgs[1] = &slot->sg_range;
		sgs[2] = &slot->sg_status;
		*nout = 2;
		*nin = 1;
		return n;
	default:
		return -EINVAL;
	}
}

/* The next of context `hwq`'s queues (q with q % nr_hwq == hwq), round
 * robin, that has a free slot and was not found full in this call (`full`
 * bit set). */
static struct vblk_queue *pick_queue(struct vblk *vb, unsigned hwq, unsigned full)
{
	unsigned step = vb->blk.nr_hwq;
	unsigned owned = (vb->nq - hwq + step - 1) / step;

	for (unsigned j = 0; j < owned; j++) {
		unsigned k = (vb->next_q[hwq] + j) % owned, qi = hwq + k * step;

		if (vb->q[qi].free && !(full & (1u << qi))) {
			vb->next_q[hwq] = k + 1;
			return &vb->q[qi];
		}
	}
	return NULL;
}

int vblk_issue(struct blkdev *dev, struct blk_request *req)
{
	struct vblk *vb = to_vblk(dev);
	unsigned full = 0;

	for (;;) {
		struct vblk_queue *q = pick_queue(vb, req->hwq, full);
		struct vblk_cursor cur = {req->cur_sg, req->cur_off};
		struct scatterlist *sgs[3];
		struct vblk_slot *slot;
		unsigned nout = 0, nin = 0;
		long sectors;
		int err;

		if (!q)
			return 0; /* every queue full: wait for completions */
		slot = q->free;
		sectors = build_chunk(vb, req, slot, &cur, sgs, &nout, &nin);
		if (sectors < 0) {
			req->error = (int)sectors;
			return 1;
		}
		slot->req = req;
		err = virtqueue_add_sgs(q->vq, sgs, nout, nin, slot);
		if (err == -ENOSPC) {
			/* Out of descriptors (no indirect tables): this queue
			 * is full even with slots left. */
			slot->req = NULL;
			full |= 1u << (q - vb->q);
			continue;
		}
		if (err) {
			slot->req = NULL;
			pr_err("%s: queue %u refused a %s request (%d)\n", dev->name,
			       (unsigned)(q - vb->q), blk_op_name(req->op), err);
			req->error = err;
			return 1;
		}
		q->free = slot->next_free;
		q->requests++;
		q->per_type[req->op]++;
		req->inflight++;
		req->chunks++;
		req->cur_sg = cur.sg;
		req->cur_off = cur.off;
		req->next_sector += (uint64_t)sectors;
		if (sectors == 0 || req->next_sector >= req->sector + req->count)
			return 1;
	}
}

void vblk_kick(struct blkdev *dev, unsigned hwq)
{
	struct vblk *vb = to_vblk(dev);

	/* Under the context's lock: publish and decide (2.7.13, 2.8.21) for
	 * its queues; the doorbell itself waits for vblk_notify(). */
	for (unsigned i = hwq; i < vb->nq; i += dev->nr_hwq) {
		/* Also without new work: with event index, this is where a
		 * device's wish read too early is caught (kick_prepare). */
		if (virtqueue_kick_prepare(vb->q[i].vq))
			__atomic_store_n(&vb->q[i].need_notify, true, __ATOMIC_RELEASE);
	}
}

/*
 * A waiter's look at its context's used rings, on every wake-up (the tick
 * included). Interrupt suppression is a handshake (2.7.7.2 / 2.7.10): we
 * publish used_event and re-read used->idx, the device publishes used->idx
 * and reads used_event, each with a full barrier in between. QEMU 7.2's
 * TCG drops a single vCPU's fences, so with the device on another host
 * thread (an iothread) both may read the other's old value, and the
 * device decides no interrupt is due for the completions we then wait
 * for. Looking again here turns such a lost interrupt into a delay of at
 * most one tick instead of a hang.
 */
void vblk_poll(struct blkdev *dev, unsigned hwq)
{
	struct vblk *vb = to_vblk(dev);

	for (unsigned i = hwq; i < vb->nq; i += dev->nr_hwq)
		vblk_vq_done(vb->q[i].vq);
}

void vblk_notify(struct blkdev *dev)
{
	struct vblk *vb = to_vblk(dev);

	/* Without the lock: whichever CPU takes the flag rings the doorbell,
	 * which covers everything published before the flag was set. */
	for (unsigned i = 0; i < vb->nq; i++)
		if (__atomic_exchange_n(&vb->q[i].need_notify, false, __ATOMIC_ACQ_REL))
			virtqueue_notify(vb->q[i].vq);
}
