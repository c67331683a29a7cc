/*
 * virtio network device driver (virtio 1.2 section 5.1).
 *
 * Queues (5.1.2): receiveq1, transmitq1, ..., receiveqN, transmitqN and,
 * with VIRTIO_NET_F_CTRL_VQ, the control queue after them. With
 * VIRTIO_NET_F_MQ we create up to NET_MAX_PAIRS pairs and switch them on
 * through the control queue (5.1.6.5.5); until then the device only uses
 * the first pair.
 *
 * Every buffer starts with struct virtio_net_hdr (5.1.6): 12 bytes with
 * VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF (num_buffers present), 10
 * bytes for a legacy device without mergeable buffers.
 *
 * Receive (5.1.6.3, 5.1.6.4): the ring is kept full of equally sized
 * buffers from one DMA block. Each used buffer is checked against what was
 * posted (the ring clamps a used length beyond the buffer and tells us:
 * that frame is dropped), against the header size, and, with
 * MRG_RXBUF, its num_buffers; then the frame's pieces go up to the stack,
 * which copies them, and the buffers go back on the ring. The checks are
 * in drivers/virtio_net_rx.c (pure, so the host tests can reach the paths
 * QEMU never takes); this file only moves buffers and counts.
 *
 * Transmit (5.1.6.2): header + the stack's fragments as one scatterlist,
 * no copy; a completed slot hands its token back to the stack. A full ring
 * makes xmit return -EBUSY (the stack keeps the frame and retries). With
 * VIRTIO_NET_F_CSUM the device finishes TCP/UDP checksums: the stack
 * leaves them partial (kernel/netdev/net_csum.h) and says where, and the header
 * passes that on with VIRTIO_NET_HDR_F_NEEDS_CSUM.
 *
 * Context (kernel/netdev/netdev.h): the queue callbacks only disable their own
 * interrupts and flag the device; netdev_poll() runs virtnet_poll() in
 * thread context, which drains, refills and re-enables interrupts with the
 * lost-wakeup check (virtqueue_enable_cb() false: drain again).
 *
 * The transport is invisible here: config through virtio_cread*(),
 * queues through the virtqueue API.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/virtio_net_rx.h"
#include "kernel/lib/log.h"
#include "kernel/mm/dma.h"
#include "kernel/netdev/flow_hash.h"
#include "kernel/netdev/netdev.h"
#include "kernel/time/timer.h"
#include "virtio/virtio.h"

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM	   0
#define VIRTIO_NET_F_GUEST_CSUM	   1
#define VIRTIO_NET_F_MTU	   3
#define VIRTIO_NET_F_MAC	   5
#define VIRTIO_NET_F_MRG_RXBUF	   15
#define VIRTIO_NET_F_STATUS	   16
#define VIRTIO_NET_F_CTRL_VQ	   17
#define VIRTIO_NET_F_CTRL_RX	   18
#define VIRTIO_NET_F_MQ		   22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

/* struct virtio_net_config (5.1.4). */
#define CFG_MAC		     0	/* u8[6] */
#define CFG_STATUS	     6	/* le16 */
#define CFG_MAX_VQ_PAIRS     8	/* le16 */
#define CFG_MTU		     10 /* le16 */
#define VIRTIO_NET_S_LINK_UP 1u

/* Control queue (5.1.6.5). */
#define VIRTIO_NET_CTRL_RX		0
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK			0

#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000

/* Our own bounds. */
#define NET_MAX_PAIRS	 4
#define NET_MAX_FRAGS	 16   /* stack fragments per transmitted frame */
#define NET_MRG_BUF_SIZE 2048 /* one mergeable receive buffer */
#define NET_MAX_MTU	 9000
#define NET_VLAN_HLEN	 4
#define NET_CTRL_TIMEOUT 1000000000ull /* QEMU answers at once */

struct virtnet;

struct vnet_txslot {
	struct virtio_net_hdr hdr; /* device-readable, so in DMA memory */
	void *token;
	struct vnet_txslot *next_free;
	struct scatterlist sg[NET_MAX_FRAGS + 1];
};

struct vnet_rxq {
	struct virtqueue *vq;
	struct virtnet *vn;
	uint8_t *bufs; /* nbufs * buf_size bytes of DMA memory */
	size_t bufs_size;
	unsigned nbufs, buf_size;
	uint8_t **idle; /* buffers not on the ring */
	unsigned nidle;
	/* Mergeable buffers of the frame being assembled (5.1.6.4.2). */
	struct netdev_seg segs[NET_MAX_MTU / (NET_MRG_BUF_SIZE - 16) + 2];
	uint8_t *seg_bufs[NET_MAX_MTU / (NET_MRG_BUF_SIZE - 16) + 2];
	struct vnet_rx_params params;
	struct vnet_rx_state st;
	uint64_t packets, bytes;
};

struct vnet_txq {
	struct virtqueue *vq;
	struct vnet_txslot *slots;
	size_t slots_size;
	unsigned nslots, inflight;
	struct vnet_txslot *free;
	uint64_t packets, bytes;
};

struct virtnet {
	struct virtio_device *vdev;
	struct netdev nd;
	unsigned hdr_len;	   /* 10 or 12 */
	unsigned max_pairs, pairs; /* created / enabled */
	bool mrg;
	struct vnet_rxq rx[NET_MAX_PAIRS];
	struct vnet_txq tx[NET_MAX_PAIRS];
	struct virtqueue *cvq;
	/* The control request: class, command, data, ack (5.1.6.5). */
	struct {
		uint8_t class_, cmd;
		uint8_t data[8];
		uint8_t ack;
	} * ctrl;
	volatile bool ctrl_done;
	uint16_t mtu_dev;
	unsigned max_frame; /* Ethernet header + MTU + a VLAN tag */
	uint64_t config_irqs;
};

static struct virtnet *to_vn(struct netdev *nd)
{
	return nd->priv;
}

/* ---- Interrupt context: only announce work -------------------------------- */

static void vnet_queue_irq(struct virtqueue *vq)
{
	struct virtnet *vn = vq->vdev->priv;

	/* Stays off until the poll has drained the queue. */
	virtqueue_disable_cb(vq);
	vn->nd.stats.interrupts++;
	netdev_kick_poll(&vn->nd);
}

static void vnet_ctrl_irq(struct virtqueue *vq)
{
	struct virtnet *vn = vq->vdev->priv;

	vn->nd.stats.interrupts++;
	vn->ctrl_done = true;
}

static bool read_link(struct virtnet *vn)
{
	/* Without STATUS the link is assumed up (5.1.4). */
	if (!virtio_has_feature(vn->vdev, VIRTIO_NET_F_STATUS))
		return true;
	return (virtio_cread16(vn->vdev, CFG_STATUS) & VIRTIO_NET_S_LINK_UP) != 0;
}

/* 5.1.4.2: the status changed (link up/down). Interrupt context. */
static void vnet_config_changed(struct virtio_device *vdev)
{
	struct virtnet *vn = vdev->priv;
	bool up;

	if (!vn)
		return;
	vn->config_irqs++;
	vn->nd.stats.interrupts++;
	up = read_link(vn);
	if (up != vn->nd.link_up) {
		vn->nd.link_up = up;
		vn->nd.link_event = true;
		vn->nd.stats.link_changes++;
		netdev_kick_poll(&vn->nd);
	}
}

/* ---- Receive (thread context) ------------------------------------------- */

/* Kicks `vq` if the device asked for it. Also with nothing added: with
 * event index that catches a wish kick_prepare read too early, or the
 * device would wait for a kick forever (virtqueue.h). Interrupts off. */
static void vnet_kick(struct virtnet *vn, struct virtqueue *vq)
{
	if (virtqueue_kick_prepare(vq)) {
		virtqueue_notify(vq);
		vn->nd.stats.kicks++;
	}
}

/* Puts idle buffers back on the ring and kicks once. */
static void rx_refill(struct vnet_rxq *rq)
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

static void rx_release(struct vnet_rxq *rq, uint8_t *buf)
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
		rx_release(rq, rq->seg_bufs[i]);
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
		rx_release(rq, buf);
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
				rx_refill(rq);
		}
		rx_refill(rq);
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
static void tx_reclaim(struct virtnet *vn, struct vnet_txq *tq)
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
		tx_reclaim(vn, tq);
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

static int vnet_xmit(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
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
		tx_reclaim(vn, tq);

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
			tx_reclaim(vn, tq);
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

static bool vnet_poll(struct netdev *nd, unsigned budget)
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

static bool vnet_queue_stats(struct netdev *nd, unsigned qi, struct netdev_queue_stats *st)
{
	struct virtnet *vn = to_vn(nd);

	if (qi >= vn->max_pairs)
		return false;
	st->rx_packets = vn->rx[qi].packets;
	st->rx_bytes = vn->rx[qi].bytes;
	st->tx_packets = vn->tx[qi].packets;
	st->tx_bytes = vn->tx[qi].bytes;
	st->rx_interrupts = vn->rx[qi].vq->stats.interrupts;
	st->tx_interrupts = vn->tx[qi].vq->stats.interrupts;
	st->rx_kicks = vn->rx[qi].vq->stats.kicks;
	st->tx_kicks = vn->tx[qi].vq->stats.kicks;
	return true;
}

static void vnet_print_info(struct netdev *nd)
{
	struct virtnet *vn = to_vn(nd);
	struct virtio_device *vdev = vn->vdev;

	printf("  virtio%d (%s%s), features 0x%llx:%s%s%s%s%s%s%s%s%s%s%s\n", vdev->index,
	       vdev->config->bus_name(vdev), vdev->legacy ? ", legacy" : "",
	       (unsigned long long)vdev->features,
	       virtio_has_feature(vdev, VIRTIO_NET_F_MAC) ? " mac" : "",
	       virtio_has_feature(vdev, VIRTIO_NET_F_STATUS) ? " status" : "",
	       vn->mrg ? " mrg_rxbuf" : "",
	       virtio_has_feature(vdev, VIRTIO_NET_F_CSUM) ? " csum" : "",
	       virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM) ? " guest_csum" : "",
	       virtio_has_feature(vdev, VIRTIO_NET_F_MTU) ? " mtu" : "", vn->cvq ? " ctrl_vq" : "",
	       virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_RX) ? " ctrl_rx" : "",
	       virtio_has_feature(vdev, VIRTIO_NET_F_MQ) ? " mq" : "",
	       virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC) ? " indirect" : "",
	       virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX) ? " event_idx" : "");
	printf("  header %u bytes, rx buffers %u x %u bytes, queue pairs %u of %u, config "
	       "interrupts %llu\n",
	       vn->hdr_len, vn->rx[0].nbufs, vn->rx[0].buf_size, vn->pairs, vn->max_pairs,
	       (unsigned long long)vn->config_irqs);
}

/* ---- Ring sizes (ethtool -g / -G), thread context ---------------------- */

/*
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

static void vnet_get_ring(struct netdev *nd, struct netdev_ring *r)
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
	rx_release(vq->priv, buf);
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
			rx_release(rq, rq->seg_bufs[i]);
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
		rx_refill(rq);
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
	tx_reclaim(vn, tq); /* what the device finished is not lost */
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

static int vnet_set_ring(struct netdev *nd, unsigned rx, unsigned tx)
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

static const struct netdev_ops vnet_ops = {
	.xmit = vnet_xmit,
	.poll = vnet_poll,
	.queue_stats = vnet_queue_stats,
	.print_info = vnet_print_info,
	.get_ring = vnet_get_ring,
	.set_ring = vnet_set_ring,
};

/* ---- Control queue (5.1.6.5), thread context ------------------------------ */

/* Sends one command and waits for the device's ack. 0, -EIO (the device
 * said VIRTIO_NET_ERR), -ETIMEDOUT, or the add error. */
static int ctrl_cmd(struct virtnet *vn, uint8_t class_, uint8_t cmd, const void *data, unsigned len)
{
	struct scatterlist hdr, sdata, ack, *sgs[3];
	uint64_t start = time_ns();
	unsigned n = 0, got;
	unsigned long fl;
	int err;

	if (!vn->cvq || len > sizeof vn->ctrl->data)
		return -EOPNOTSUPP;
	vn->ctrl->class_ = class_;
	vn->ctrl->cmd = cmd;
	memcpy(vn->ctrl->data, data, len);
	vn->ctrl->ack = 0xff; /* the device overwrites it */
	sg_init_one(&hdr, &vn->ctrl->class_, 2);
	sg_init_one(&sdata, vn->ctrl->data, len);
	sg_init_one(&ack, &vn->ctrl->ack, 1);
	sgs[n++] = &hdr;
	if (len)
		sgs[n++] = &sdata;
	sgs[n++] = &ack;

	fl = irq_save();
	vn->ctrl_done = false;
	err = virtqueue_add_sgs(vn->cvq, sgs, n - 1, 1, vn->ctrl);
	if (!err && !virtqueue_kick(vn->cvq))
		err = -EIO;
	while (!err && !virtqueue_get_buf(vn->cvq, &got)) {
		if (time_ns() - start > NET_CTRL_TIMEOUT) {
			err = -ETIMEDOUT;
			/* The buffer stays with the device: no more commands. */
			virtqueue_break(vn->cvq);
			break;
		}
		wait_for_interrupt(); /* our callback, or the tick */
	}
	irq_restore(fl);
	if (err) {
		pr_err("%s: control command %u.%u: no answer (%d)\n", vn->nd.name, class_, cmd,
		       err);
		return err;
	}
	if (vn->ctrl->ack != VIRTIO_NET_OK) {
		pr_warn("%s: control command %u.%u refused (ack %u, expected 0)\n", vn->nd.name,
			class_, cmd, vn->ctrl->ack);
		return -EIO;
	}
	return 0;
}

/* ---- Probe ---------------------------------------------------------------- */

static int vnet_validate(struct virtio_device *vdev)
{
	/* 5.1.3.1: these need the control queue. */
	if (!virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_VQ)) {
		virtio_clear_feature(vdev, VIRTIO_NET_F_CTRL_RX);
		virtio_clear_feature(vdev, VIRTIO_NET_F_MQ);
		virtio_clear_feature(vdev, VIRTIO_NET_F_CTRL_MAC_ADDR);
	}
	if (virtio_has_feature(vdev, VIRTIO_NET_F_MQ)) {
		uint16_t n = virtio_cread16(vdev, CFG_MAX_VQ_PAIRS);

		/* The control queue follows the device's last pair, so we
		 * must create all of them: decline MQ beyond our bound. */
		if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > NET_MAX_PAIRS) {
			pr_warn("virtio%d: net: max_virtqueue_pairs %u, we drive 1..%u; declining "
				"VIRTIO_NET_F_MQ\n",
				vdev->index, n, NET_MAX_PAIRS);
			virtio_clear_feature(vdev, VIRTIO_NET_F_MQ);
		}
	}
	if (virtio_has_feature(vdev, VIRTIO_NET_F_MTU)) {
		uint16_t mtu = virtio_cread16(vdev, CFG_MTU);

		/* 5.1.4.1: at least 68; and we need room for it. */
		if (mtu < 68 || mtu > NET_MAX_MTU) {
			pr_warn("virtio%d: net: mtu %u, expected 68..%u; declining "
				"VIRTIO_NET_F_MTU\n",
				vdev->index, mtu, NET_MAX_MTU);
			virtio_clear_feature(vdev, VIRTIO_NET_F_MTU);
		}
	}
	return 0;
}

static void vnet_free(struct virtnet *vn)
{
	for (unsigned i = 0; i < NET_MAX_PAIRS; i++) {
		if (vn->rx[i].bufs)
			dma_free(vn->rx[i].bufs, vn->rx[i].bufs_size);
		free(vn->rx[i].idle);
		if (vn->tx[i].slots)
			dma_free(vn->tx[i].slots, vn->tx[i].slots_size);
	}
	if (vn->ctrl)
		dma_free(vn->ctrl, sizeof *vn->ctrl);
	free(vn);
}

static int setup_rxq(struct virtnet *vn, struct vnet_rxq *rq, struct virtqueue *vq)
{
	rq->vq = vq;
	rq->vn = vn;
	vq->priv = rq;
	rq->nbufs = virtqueue_get_vring_size(vq);
	/* Mergeable: small buffers, the device chains as many as it needs.
	 * Otherwise each buffer must hold the largest frame (5.1.6.3.1). */
	rq->buf_size = vn->mrg ? NET_MRG_BUF_SIZE : (vn->hdr_len + vn->max_frame + 63) & ~63u;
	rq->params = (struct vnet_rx_params){
		.hdr_len = vn->hdr_len,
		.nbufs = rq->nbufs,
		.max_segs = sizeof rq->segs / sizeof rq->segs[0],
		.max_frame = vn->max_frame,
		.mrg = vn->mrg,
		.guest_csum = virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_CSUM),
	};
	rq->bufs_size = (size_t)rq->nbufs * rq->buf_size;
	rq->bufs = dma_alloc(rq->bufs_size, 64);
	rq->idle = calloc(rq->nbufs, sizeof *rq->idle);
	if (!rq->bufs || !rq->idle)
		return -ENOMEM;
	for (unsigned i = 0; i < rq->nbufs; i++)
		rq->idle[rq->nidle++] = rq->bufs + (size_t)i * rq->buf_size;
	return 0;
}

static int setup_txq(struct vnet_txq *tq, struct virtqueue *vq)
{
	tq->vq = vq;
	vq->priv = tq;
	tq->nslots = virtqueue_get_vring_size(vq);
	tq->slots_size = tq->nslots * sizeof *tq->slots;
	tq->slots = dma_alloc(tq->slots_size, 64);
	if (!tq->slots)
		return -ENOMEM;
	for (unsigned s = 0; s < tq->nslots; s++)
		tq->slots[s].next_free = s + 1 < tq->nslots ? &tq->slots[s + 1] : NULL;
	tq->free = &tq->slots[0];
	/* Transmit interrupts only while frames are outstanding. */
	virtqueue_disable_cb(vq);
	return 0;
}

static void read_mac(struct virtnet *vn)
{
	struct virtio_device *vdev = vn->vdev;

	if (virtio_has_feature(vdev, VIRTIO_NET_F_MAC)) {
		virtio_cread_bytes(vdev, CFG_MAC, vn->nd.mac, ETH_ALEN);
		if (!(vn->nd.mac[0] & 1) && memcmp(vn->nd.mac, "\0\0\0\0\0\0", ETH_ALEN))
			return;
		pr_warn("virtio%d: net: device MAC is multicast or zero; using a random one\n",
			vdev->index);
	}
	/* Locally administered, unicast (5.1.5: the driver picks one). */
	uint64_t t = time_ns() * 2654435761u + (uint64_t)vdev->index;
	vn->nd.mac[0] = 0x52;
	for (unsigned i = 1; i < ETH_ALEN; i++)
		vn->nd.mac[i] = (uint8_t)(t >> (8 * i));
	if (vdev->legacy)
		/* Legacy devices take the driver's MAC through config. */
		for (unsigned i = 0; i < ETH_ALEN; i++)
			virtio_cwrite8(vdev, CFG_MAC + i, vn->nd.mac[i]);
}

static int vnet_probe(struct virtio_device *vdev)
{
	static const char *const names[2 * NET_MAX_PAIRS + 1] = {
		"rx.0", "tx.0", "rx.1", "tx.1", "rx.2", "tx.2", "rx.3", "tx.3", "ctrl",
	};
	struct virtqueue_info info[2 * NET_MAX_PAIRS + 1];
	struct virtqueue *vqs[2 * NET_MAX_PAIRS + 1];
	struct virtnet *vn;
	unsigned nvqs;
	int err;

	vn = calloc(1, sizeof *vn);
	if (!vn)
		return -ENOMEM;
	vn->vdev = vdev;
	vdev->priv = vn;
	vn->mrg = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
	vn->hdr_len = vn->mrg || virtio_has_feature(vdev, VIRTIO_F_VERSION_1) ? 12 : 10;
	vn->nd.mtu = 1500;
	if (virtio_has_feature(vdev, VIRTIO_NET_F_MTU)) {
		vn->mtu_dev = virtio_cread16(vdev, CFG_MTU); /* checked in validate */
		vn->nd.mtu = vn->mtu_dev;
	}
	vn->max_frame = ETH_HLEN + NET_VLAN_HLEN + vn->nd.mtu;
	vn->max_pairs = 1;
	if (virtio_has_feature(vdev, VIRTIO_NET_F_MQ))
		vn->max_pairs = virtio_cread16(vdev, CFG_MAX_VQ_PAIRS); /* validated */
	read_mac(vn);

	nvqs = 2 * vn->max_pairs;
	for (unsigned i = 0; i < nvqs; i++)
		info[i] = (struct virtqueue_info){names[i], vnet_queue_irq};
	if (virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_VQ))
		/* 5.1.2: right after the last pair (max_virtqueue_pairs
		 * with MQ, validate made sure we create them all). */
		info[nvqs++] = (struct virtqueue_info){names[2 * NET_MAX_PAIRS], vnet_ctrl_irq};
	err = virtio_find_vqs(vdev, nvqs, vqs, info);
	if (err) {
		pr_err("virtio%d: net: could not set up %u queues (%d)\n", vdev->index, nvqs, err);
		vdev->priv = NULL;
		vnet_free(vn);
		return err;
	}
	for (unsigned i = 0; i < vn->max_pairs && !err; i++) {
		err = setup_rxq(vn, &vn->rx[i], vqs[2 * i]);
		if (!err)
			err = setup_txq(&vn->tx[i], vqs[2 * i + 1]);
	}
	if (!err && virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_VQ)) {
		vn->cvq = vqs[2 * vn->max_pairs];
		vn->ctrl = dma_alloc(sizeof *vn->ctrl, 16);
		if (!vn->ctrl)
			err = -ENOMEM;
	}
	if (err) {
		pr_err("virtio%d: net: no memory for buffers\n", vdev->index);
		virtio_reset_device(vdev);
		virtio_del_vqs(vdev);
		vdev->priv = NULL;
		vnet_free(vn);
		return err;
	}

	vn->nd.driver = "virtio-net";
	vn->nd.ops = &vnet_ops;
	vn->nd.priv = vn;
	vn->nd.max_tx_segs = NET_MAX_FRAGS;
	/* 5.1.3: with CSUM the device accepts partially checksummed frames. */
	vn->nd.tx_csum = virtio_has_feature(vdev, VIRTIO_NET_F_CSUM);
	vn->nd.nqueues = 1;
	vn->pairs = 1;
	vn->nd.link_up = read_link(vn);

	/* Fill the receive rings, then go live: 3.1.1 forbids notifying
	 * before DRIVER_OK, so the kicks come after it. */
	for (unsigned i = 0; i < vn->max_pairs; i++) {
		unsigned long fl = irq_save();
		struct scatterlist sg;
		struct vnet_rxq *rq = &vn->rx[i];

		while (rq->nidle) {
			uint8_t *buf = rq->idle[rq->nidle - 1];
			sg_init_one(&sg, buf, rq->buf_size);
			if (virtqueue_add_inbuf(rq->vq, &sg, 1, buf))
				break;
			rq->nidle--;
		}
		irq_restore(fl);
	}
	virtio_device_ready(vdev);
	for (unsigned i = 0; i < vn->max_pairs; i++) {
		unsigned long fl = irq_save();
		virtqueue_kick(vn->rx[i].vq);
		irq_restore(fl);
	}

	err = netdev_register(&vn->nd);
	if (err) {
		virtio_reset_device(vdev);
		virtio_del_vqs(vdev);
		vdev->priv = NULL;
		vnet_free(vn);
		return err;
	}

	if (vn->max_pairs > 1) {
		uint16_t pairs = (uint16_t)vn->max_pairs;

		if (ctrl_cmd(vn, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2) ==
		    0) {
			vn->pairs = vn->max_pairs;
			vn->nd.nqueues = vn->pairs;
		}
	}
	if (virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_MAC_ADDR))
		ctrl_cmd(vn, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, vn->nd.mac,
			 ETH_ALEN);
	if (virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_RX)) {
		/* QEMU starts promiscuous; we only want our own frames,
		 * broadcasts and multicasts. */
		uint8_t off = 0, on = 1;
		ctrl_cmd(vn, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1);
		ctrl_cmd(vn, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1);
	}

	pr_info("%s: virtio%d (%s%s), MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, link %s, "
		"%u queue pair(s) of %u, header %u bytes%s\n",
		vn->nd.name, vdev->index, vdev->config->bus_name(vdev),
		vdev->legacy ? ", legacy" : "", vn->nd.mac[0], vn->nd.mac[1], vn->nd.mac[2],
		vn->nd.mac[3], vn->nd.mac[4], vn->nd.mac[5], vn->nd.mtu,
		vn->nd.link_up ? "up" : "down", vn->pairs, virtqueue_get_vring_size(vn->rx[0].vq),
		vn->hdr_len, vn->mrg ? ", mergeable rx buffers" : "");
	return 0;
}

static void vnet_remove(struct virtio_device *vdev)
{
	struct virtnet *vn = vdev->priv;

	if (!vn)
		return;
	netdev_unregister(&vn->nd);
	virtio_reset_device(vdev);
	for (unsigned i = 0; i < vn->max_pairs; i++) {
		struct vnet_txslot *slot;

		while (virtqueue_detach_unused_buf(vn->rx[i].vq))
			;
		while ((slot = virtqueue_detach_unused_buf(vn->tx[i].vq)))
			if (vn->nd.tx_done)
				vn->nd.tx_done(&vn->nd, slot->token);
	}
	virtio_del_vqs(vdev);
	vdev->priv = NULL;
	vnet_free(vn);
}

static const struct virtio_device_id vnet_ids[] = {
	{VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID},
	{0, 0},
};

static const unsigned vnet_features[] = {
	VIRTIO_NET_F_CSUM,	    VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_MTU,
	VIRTIO_NET_F_MAC,	    VIRTIO_NET_F_MRG_RXBUF,  VIRTIO_NET_F_STATUS,
	VIRTIO_NET_F_CTRL_VQ,	    VIRTIO_NET_F_CTRL_RX,    VIRTIO_NET_F_MQ,
	VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_F_ANY_LAYOUT,
};

static struct virtio_driver vnet_driver = {
	.name = "virtio-net",
	.id_table = vnet_ids,
	.feature_table = vnet_features,
	.feature_table_size = sizeof vnet_features / sizeof vnet_features[0],
	.validate = vnet_validate,
	.probe = vnet_probe,
	.remove = vnet_remove,
	.config_changed = vnet_config_changed,
};

VIRTIO_DRIVER_INITCALL(vnet_driver);
