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
 * interrupts and flag the device; netdev_poll() runs vnet_poll() in
 * thread context, which drains, refills and re-enables interrupts with the
 * lost-wakeup check (virtqueue_enable_cb() false: drain again).
 *
 * The driver's files: this one binds to the device (probe, remove,
 * configuration changes, the control queue); virtio_net_queues.c is the
 * data path; virtio_net_ring.c resizes the rings; virtio_net_dev.h is the
 * state they share; virtio_net_rx.c the receive decisions.
 *
 * The transport is invisible here: config through virtio_cread*(),
 * queues through the virtqueue API.
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
#include "kernel/time/timer.h"
#include "virtio/virtio.h"

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
		info[i] = (struct virtqueue_info){.name = names[i], .callback = vnet_queue_irq};
	if (virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_VQ))
		/* 5.1.2: right after the last pair (max_virtqueue_pairs
		 * with MQ, validate made sure we create them all). */
		info[nvqs++] = (struct virtqueue_info){.name = names[2 * NET_MAX_PAIRS],
						       .callback = vnet_ctrl_irq};
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
