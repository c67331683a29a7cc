/*
 * Ring sizes of a virtio-net device, thread context (the `ring` command,
 * like Linux's `ethtool -g` / `-G`).
 *
 * A ring is resized through a queue reset (virtio 1.2 2.6.1, needs
 * VIRTIO_F_RING_RESET): the device forgets the queue, every buffer on it
 * comes back unused, and the queue starts again on a new ring. The
 * driver's per-ring memory (receive buffers and their idle list, transmit
 * slots) is sized by the ring, so it is allocated anew first (a failure
 * changes nothing) and the old memory is freed once nothing on the old
 * ring can be used any more. Frames in flight are lost, as with Linux's
 * `ethtool -G`: received ones not yet taken off the ring, the pieces of a
 * merged frame still being assembled, and sent ones not yet completed
 * (their tokens go back to the stack).
  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/virtio_net_dev.h"
#include "drivers/virtio_net_queues.h"
#include "drivers/virtio_net_ring.h"
#include "kernel/lib/log.h"
#include "kernel/mm/dma.h"
#include "kernel/netdev/netdev.h"
#include "virtio/virtio.h"

/* Why this device's rings cannot be resized, or NULL. */
static const char *vnet_ring_fixed(const struct virtnet *vn)
{
	const struct virtio_device *vdev = vn->vdev;

	if (virtio_has_feature(vdev, VIRTIO_F_RING_RESET))
		return NULL;
	if (vdev->legacy)
		return "the legacy interface has no queue reset";
	if (!(vdev->device_features & VIRTIO_BIT(VIRTIO_F_RING_RESET)))
		return "the device does not offer queue reset (VIRTIO_F_RING_RESET)";
	return "the transport cannot reset a queue";
}

void vnet_get_ring(struct netdev *nd, struct netdev_ring *r)
{
	struct virtnet *vn = to_vn(nd);
	const struct vnet_rxq *rq0 = &vn->rx[0];

	*r = (struct netdev_ring){
		.rx = virtqueue_get_vring_size(rq0->vq),
		.tx = virtqueue_get_vring_size(vn->tx[0].vq),
		/* A frame of max_frame bytes must fit on the receive ring
		 * (5.1.6.3.1); a transmitted one may take a descriptor per
		 * piece plus the header if there is no indirect table. */
		.rx_min = (rq0->params.hdr_len + vn->max_frame + rq0->buf_size - 1) / rq0->buf_size,
		.tx_min = NET_MAX_FRAGS + 1,
		.rx_max = rq0->vq->num_max,
		.tx_max = vn->tx[0].vq->num_max,
		.pow2 = strcmp(virtqueue_layout(rq0->vq), "split") == 0,
		.layout = virtqueue_layout(rq0->vq),
		.fixed = vnet_ring_fixed(vn),
	};
	for (unsigned i = 0; i < vn->max_pairs; i++) {
		r->rx_bufs += vn->rx[i].nbufs;
		r->rx_idle += vn->rx[i].nidle;
		r->tx_slots += vn->tx[i].nslots;
		r->tx_inflight += vn->tx[i].inflight;
	}
}

static bool ring_size_ok(struct virtnet *vn, const char *what, unsigned num, unsigned min,
			 unsigned max, bool pow2)
{
	if (num >= min && num <= max && (!pow2 || !(num & (num - 1))))
		return true;
	pr_err("%s: %s ring size %u refused: expected %u..%u%s\n", vn->nd.name, what, num, min, max,
	       pow2 ? ", a power of two (split ring)" : "");
	return false;
}

/* The reset receive ring hands back every buffer that was on it. */
static void rx_recycle(struct virtqueue *vq, void *buf)
{
	vnet_rx_release(vq->priv, buf);
}

static int rx_resize(struct vnet_rxq *rq, unsigned num)
{
	const char *name = rq->vn->nd.name;
	unsigned old = virtqueue_get_vring_size(rq->vq);
	size_t bufs_size = (size_t)num * rq->buf_size;
	uint8_t *bufs = dma_alloc(bufs_size, 64);
	uint8_t **idle = calloc(num, sizeof *idle);
	unsigned long fl;
	bool moved;
	int err;

	if (!bufs || !idle) {
		pr_err("%s: %s: no memory for %u receive buffers\n", name, rq->vq->name, num);
		if (bufs)
			dma_free(bufs, bufs_size);
		free(idle);
		return -ENOMEM;
	}
	fl = irq_save();
	virtqueue_disable_cb(rq->vq);
	err = virtqueue_resize(rq->vq, num, rx_recycle);
	/* Unless the queue was reset, the old ring and buffers live on. */
	moved = virtqueue_get_vring_size(rq->vq) == num;
	if (moved) {
		/* The rest of a merged frame will never come. */
		for (unsigned i = 0; i < rq->st.nsegs; i++)
			vnet_rx_release(rq, rq->seg_bufs[i]);
		vnet_rx_reset(&rq->st);
	}
	irq_restore(fl);
	if (!moved) {
		dma_free(bufs, bufs_size);
		free(idle);
		netdev_kick_poll(&rq->vn->nd); /* the poll re-enables interrupts */
		return err;
	}
	if (rq->nidle != rq->nbufs)
		/* Never free memory the device might still own. */
		pr_err("%s: %s: %u of %u receive buffers did not come back; leaked\n", name,
		       rq->vq->name, rq->nbufs - rq->nidle, rq->nbufs);
	else
		dma_free(rq->bufs, rq->bufs_size);
	free(rq->idle);
	rq->bufs = bufs;
	rq->bufs_size = bufs_size;
	rq->idle = idle;
	rq->nbufs = rq->params.nbufs = num;
	rq->nidle = 0;
	for (unsigned i = 0; i < num; i++)
		rq->idle[rq->nidle++] = bufs + (size_t)i * rq->buf_size;
	if (!err) {
		vnet_rx_refill(rq);
		pr_info("%s: %s: ring %u -> %u entries\n", name, rq->vq->name, old, num);
	}
	netdev_kick_poll(&rq->vn->nd);
	return err;
}

static int tx_resize(struct virtnet *vn, struct vnet_txq *tq, unsigned num)
{
	unsigned old = virtqueue_get_vring_size(tq->vq), dropped = 0;
	size_t slots_size = num * sizeof *tq->slots, old_size = tq->slots_size;
	struct vnet_txslot *slots = dma_alloc(slots_size, 64), *old_slots = tq->slots;
	unsigned long fl;
	bool moved;
	int err;

	if (!slots) {
		pr_err("%s: %s: no memory for %u transmit slots\n", vn->nd.name, tq->vq->name, num);
		return -ENOMEM;
	}
	vnet_tx_reclaim(vn, tq); /* what the device finished is not lost */
	fl = irq_save();
	virtqueue_disable_cb(tq->vq);
	/* The slots of the frames the reset drops still hold their tokens. */
	err = virtqueue_resize(tq->vq, num, NULL);
	moved = virtqueue_get_vring_size(tq->vq) == num;
	if (moved) {
		tq->slots = slots;
		tq->slots_size = slots_size;
		tq->nslots = num;
		for (unsigned s = 0; s < num; s++)
			slots[s].next_free = s + 1 < num ? &slots[s + 1] : NULL;
		tq->free = &slots[0];
		tq->inflight = 0;
	}
	/* Transmit interrupts only while frames are outstanding. */
	virtqueue_disable_cb(tq->vq);
	irq_restore(fl);
	if (!moved) {
		dma_free(slots, slots_size);
		netdev_kick_poll(&vn->nd);
		return err;
	}
	for (unsigned s = 0; s < old; s++) {
		if (!old_slots[s].token)
			continue;
		dropped++;
		if (vn->nd.tx_done)
			vn->nd.tx_done(&vn->nd, old_slots[s].token);
	}
	dma_free(old_slots, old_size);
	if (!err)
		pr_info("%s: %s: ring %u -> %u entries, %u frame(s) in flight dropped\n",
			vn->nd.name, tq->vq->name, old, num, dropped);
	netdev_kick_poll(&vn->nd);
	return err;
}

int vnet_set_ring(struct netdev *nd, unsigned rx, unsigned tx)
{
	struct virtnet *vn = to_vn(nd);
	struct netdev_ring r;
	int err = 0;

	vnet_get_ring(nd, &r);
	if (r.fixed) {
		pr_err("%s: rings cannot be resized: %s\n", nd->name, r.fixed);
		return -EOPNOTSUPP;
	}
	/* Both sizes are checked before either ring changes. */
	if ((rx != NETDEV_RING_KEEP && !ring_size_ok(vn, "rx", rx, r.rx_min, r.rx_max, r.pow2)) ||
	    (tx != NETDEV_RING_KEEP && !ring_size_ok(vn, "tx", tx, r.tx_min, r.tx_max, r.pow2)))
		return -EINVAL;
	for (unsigned i = 0; i < vn->max_pairs && !err; i++) {
		if (rx != NETDEV_RING_KEEP && rx != r.rx)
			err = rx_resize(&vn->rx[i], rx);
		if (!err && tx != NETDEV_RING_KEEP && tx != r.tx)
			err = tx_resize(vn, &vn->tx[i], tx);
	}
	if (err)
		pr_err("%s: resizing the rings failed (%d)\n", nd->name, err);
	return err;
}
