/*
 * The virtio-net data path (virtio 1.2 sections 5.1.6.2-5.1.6.4): the queue
 * callback only masks its queue and flags the device, because the network
 * stack must not run in interrupt context (kernel/netdev/netdev.h); then,
 * from netdev_poll() in thread context, receive (take used buffers, let
 * drivers/virtio_net_rx.c decide what each is, hand frames up, refill) and
 * transmit (reclaim what was sent, queue new frames with their header).
 * Both end with the lost-wakeup check: re-enable the queue's interrupt and
 * drain again if buffers were used meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/virtio_net_dev.h"
#include "drivers/virtio_net_queues.h"
#include "drivers/virtio_net_rx.h"
#include "kernel/lib/log.h"
#include "kernel/netdev/flow_hash.h"
#include "kernel/netdev/netdev.h"
#include "virtio/virtio.h"

/* ---- Interrupt context: only announce work -------------------------------- */

void vnet_queue_irq(struct virtqueue *vq)
{
	struct virtnet *vn = vq->vdev->priv;

	/* Stays off until the poll has drained the queue. */
	virtqueue_disable_cb(vq);
	vn->nd.stats.interrupts++;
	netdev_kick_poll(&vn->nd);
}

/* ---- Receive (thread context) ------------------------------------------- */

/* Kicks `vq` if the device asked for it. Also with nothing added: with
 * event index that catches a wish kick_prepare read too early, or the
 * device would wait for a kick forever (virtqueue.h). Interrupts off. */
void vnet_kick(struct virtnet *vn, struct virtqueue *vq)
{
	if (virtqueue_kick_prepare(vq)) {
		virtqueue_notify(vq);
		vn->nd.stats.kicks++;
	}
}

/* Puts idle buffers back on the ring and kicks once. */
void vnet_rx_refill(struct vnet_rxq *rq)
{
	struct scatterlist sg;
	unsigned long fl;

	fl = irq_save();
	while (rq->nidle) {
		uint8_t *buf = rq->idle[rq->nidle - 1];

		sg_init_one(&sg, buf, rq->buf_size);
		if (virtqueue_add_inbuf(rq->vq, &sg, 1, buf))
			break; /* ring full or broken: keep it idle */
		rq->nidle--;
	}
	vnet_kick(rq->vn, rq->vq);
	irq_restore(fl);
}

void vnet_rx_release(struct vnet_rxq *rq, uint8_t *buf)
{
	rq->idle[rq->nidle++] = buf;
}

static void rx_drop(struct vnet_rxq *rq, enum netdev_drop why)
{
	rq->vn->nd.stats.drops[why]++;
}

/* The frame in rq->segs is complete: hand it up or count the drop, then
 * give its buffers back. */
static void rx_deliver(struct vnet_rxq *rq)
{
	struct virtnet *vn = rq->vn;
	enum netdev_drop why;

	switch (vnet_rx_finish(&rq->params, &rq->st, &why)) {
	case VNET_RX_DELIVER:
		rq->packets++;
		rq->bytes += rq->st.len;
		vn->nd.stats.rx_packets++;
		vn->nd.stats.rx_bytes += rq->st.len;
		if (vn->nd.rx)
			vn->nd.rx(&vn->nd, rq->segs, rq->st.nsegs, rq->st.len, &rq->st.info);
		break;
	case VNET_RX_DROP:
		rx_drop(rq, why);
		break;
	case VNET_RX_DROPPED:
		break;
	}
	for (unsigned i = 0; i < rq->st.nsegs; i++)
		vnet_rx_release(rq, rq->seg_bufs[i]);
	vnet_rx_reset(&rq->st);
}

/* One used buffer, `len` bytes written (already clamped by the ring to
 * what we posted; `clamped` says the device claimed more). */
static void rx_buffer(struct vnet_rxq *rq, uint8_t *buf, unsigned len, bool clamped)
{
	struct vnet_rx_step step;

	vnet_rx_buffer(&rq->params, &rq->st, buf, len, clamped, &step);
	if (step.drop != VNET_RX_NO_DROP)
		rx_drop(rq, step.drop);
	if (step.keep) {
		rq->seg_bufs[step.seg] = buf;
		rq->segs[step.seg] = (struct netdev_seg){buf + step.off, step.len};
	} else {
		vnet_rx_release(rq, buf);
	}
	if (step.complete)
		rx_deliver(rq);
}

/* Drains up to `budget` buffers; true if the budget ran out. */
static bool rx_poll(struct vnet_rxq *rq, unsigned budget)
{
	unsigned done = 0;

	for (;;) {
		unsigned long fl;
		unsigned len = 0;
		bool clamped;
		uint8_t *buf;

		while (done < budget) {
			fl = irq_save();
			buf = virtqueue_get_buf(rq->vq, &len);
			clamped = rq->vq->len_clamped;
			irq_restore(fl);
			if (!buf)
				break;
			rx_buffer(rq, buf, len, clamped);
			done++;
			/* Keep the ring full as we go, in batches. */
			if (rq->nidle >= rq->nbufs / 4)
				vnet_rx_refill(rq);
		}
		vnet_rx_refill(rq);
		if (done >= budget)
			return true;
		/* Lost-wakeup check: buffers used between the last get_buf
		 * and re-enabling would raise no interrupt. */
		fl = irq_save();
		bool quiet = virtqueue_enable_cb(rq->vq) || virtqueue_is_broken(rq->vq);
		if (!quiet)
			virtqueue_disable_cb(rq->vq);
		irq_restore(fl);
		if (quiet)
			return false;
	}
}

/* ---- Transmit (thread context) ------------------------------------------ */

/* Takes completed slots back; hands their tokens to the stack. */
void vnet_tx_reclaim(struct virtnet *vn, struct vnet_txq *tq)
{
	for (;;) {
		struct vnet_txslot *slot;
		unsigned long fl;
		unsigned len;
		void *token;

		fl = irq_save();
		slot = virtqueue_get_buf(tq->vq, &len);
		if (slot) {
			token = slot->token;
			slot->token = NULL;
			slot->next_free = tq->free;
			tq->free = slot;
			tq->inflight--;
		}
		irq_restore(fl);
		if (!slot)
			return;
		if (vn->nd.tx_done)
			vn->nd.tx_done(&vn->nd, token);
	}
}

/* Re-arms the transmit interrupt while frames are outstanding, so slots
 * come back even if the stack sends nothing more; enable_cb_delayed
 * (EVENT_IDX) asks for it only after most of them are done. */
static bool tx_poll(struct virtnet *vn, struct vnet_txq *tq)
{
	for (;;) {
		vnet_tx_reclaim(vn, tq);
		unsigned long fl = irq_save();
		/* Frames the device holds but was never told about (a lost
		 * kick, see vnet_kick) would never complete. */
		if (tq->inflight)
			vnet_kick(vn, tq->vq);
		bool quiet = tq->inflight == 0 || virtqueue_enable_cb_delayed(tq->vq) ||
			     virtqueue_is_broken(tq->vq);
		if (!quiet)
			virtqueue_disable_cb(tq->vq);
		irq_restore(fl);
		if (quiet)
			return false;
	}
}

int vnet_xmit(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
	      const struct netdev_tx_info *info, void *token)
{
	bool partial = info && info->csum_partial;
	struct virtnet *vn = to_vn(nd);
	struct vnet_txq *tq;
	struct vnet_txslot *slot;
	uint32_t total = 0;
	unsigned long fl;
	int err;

	if (nsegs == 0 || nsegs > NET_MAX_FRAGS)
		return -EMSGSIZE;
	for (unsigned i = 0; i < nsegs; i++)
		total += segs[i].len;
	if (total > vn->max_frame || total < ETH_HLEN)
		return -EMSGSIZE;
	/* 5.1.6.2.1: NEEDS_CSUM only with VIRTIO_NET_F_CSUM, and the result
	 * must land inside the frame. */
	if (partial &&
	    (!nd->tx_csum || (uint32_t)info->csum_start + info->csum_offset + 2 > total)) {
		pr_err("%s: partial checksum at %u+%u in a %u-byte frame%s; not sent\n", nd->name,
		       info->csum_start, info->csum_offset, total,
		       nd->tx_csum ? "" : " without VIRTIO_NET_F_CSUM");
		return -EINVAL;
	}
	if (!nd->link_up) {
		nd->stats.drops[NETDEV_DROP_LINK_DOWN]++;
		return -ENETDOWN;
	}
	tq = &vn->tx[flow_pick_queue(segs[0].data, segs[0].len, vn->pairs)];
	if (!tq->free)
		vnet_tx_reclaim(vn, tq);

	fl = irq_save();
	slot = tq->free;
	if (!slot) {
		irq_restore(fl);
		nd->stats.tx_busy++;
		return -EBUSY;
	}
	/* No GSO; a complete frame has an all-zero header, a partial one
	 * says where the device finishes its checksum (5.1.6.2). */
	memset(&slot->hdr, 0, sizeof slot->hdr);
	if (partial) {
		slot->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		slot->hdr.csum_start = info->csum_start;
		slot->hdr.csum_offset = info->csum_offset;
	}
	sg_init_table(slot->sg, nsegs + 1);
	sg_set_buf(&slot->sg[0], &slot->hdr, vn->hdr_len);
	for (unsigned i = 0; i < nsegs; i++)
		sg_set_buf(&slot->sg[i + 1], (void *)segs[i].data, segs[i].len);
	slot->token = token;
	err = virtqueue_add_outbuf(tq->vq, slot->sg, nsegs + 1, slot);
	if (err) {
		slot->token = NULL;
		irq_restore(fl);
		if (err == -ENOSPC) {
			/* Out of descriptors: take back what is done; the
			 * stack retries this frame. */
			nd->stats.tx_busy++;
			vnet_tx_reclaim(vn, tq);
			return -EBUSY;
		}
		return err;
	}
	tq->free = slot->next_free;
	tq->inflight++;
	vnet_kick(vn, tq->vq);
	irq_restore(fl);
	tq->packets++;
	tq->bytes += total;
	nd->stats.tx_packets++;
	nd->stats.tx_bytes += total;
	if (partial)
		nd->stats.tx_csum_partial++;
	return 0;
}

bool vnet_poll(struct netdev *nd, unsigned budget)
{
	struct virtnet *vn = to_vn(nd);
	bool more = false;

	if (nd->link_event) {
		nd->link_event = false;
		pr_info("%s: link %s\n", nd->name, nd->link_up ? "up" : "down");
		if (nd->link_changed)
			nd->link_changed(nd, nd->link_up);
	}
	for (unsigned i = 0; i < vn->max_pairs; i++) {
		more |= rx_poll(&vn->rx[i], budget);
		more |= tx_poll(vn, &vn->tx[i]);
	}
	return more;
}
