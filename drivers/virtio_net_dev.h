/*
 * The virtio-net driver's own state (virtio 1.2 section 5.1), shared by its
 * files and nobody else: drivers/virtio_net.c (probe, the control queue,
 * configuration), virtio_net_queues.c (receiving and sending) and
 * virtio_net_ring.c (ring sizes). The device's feature bits, configuration
 * layout and control commands, and the per-queue state.
 */
#ifndef DRIVERS_VIRTIO_NET_DEV_H
#define DRIVERS_VIRTIO_NET_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio_net_rx.h"
#include "kernel/netdev/netdev.h"
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

static inline struct virtnet *to_vn(struct netdev *nd)
{
	return nd->priv;
}

#endif
