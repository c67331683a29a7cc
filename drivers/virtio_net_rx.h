/*
 * virtio-net receive decisions (virtio 1.2 sections 5.1.6, 5.1.6.3,
 * 5.1.6.4, 5.1.6.4.1 and 5.1.6.4.2): the pure logic of the receive path,
 * apart from the driver (drivers/virtio_net.c) so the host tests can play a
 * misbehaving device against it. QEMU never writes a bad used length, a
 * bad num_buffers or a bad checksum offset, so these drop paths are only
 * ever exercised there (test/host/test_net_rx.c).
 *
 * The driver owns the buffers and the frame's piece list; this module owns
 * the bookkeeping of the frame being assembled and says, for each used
 * buffer, whether it becomes a piece of the frame or goes straight back to
 * the ring, which drop to count, and when the frame is complete; then
 * whether the whole frame may go up to the stack.
 */
#ifndef DRIVERS_VIRTIO_NET_RX_H
#define DRIVERS_VIRTIO_NET_RX_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/netdev/netdev.h"

/* 5.1.6: the header; num_buffers only counts with MRG_RXBUF. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

/* Header flags (5.1.6). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u

/* What one receive queue was set up with; fixed after probe. */
struct vnet_rx_params {
	unsigned hdr_len;   /* 10 or 12: bytes of header before the frame */
	unsigned nbufs;	    /* buffers the ring holds: num_buffers can be no more */
	unsigned max_segs;  /* pieces the driver can hold for one frame */
	uint32_t max_frame; /* Ethernet header + MTU + a VLAN tag */
	bool mrg;	    /* VIRTIO_NET_F_MRG_RXBUF: num_buffers is valid */
	bool guest_csum;    /* VIRTIO_NET_F_GUEST_CSUM: NEEDS_CSUM is honoured */
};

/* The frame being assembled from mergeable buffers (5.1.6.4.2). */
struct vnet_rx_state {
	unsigned nsegs; /* pieces kept so far */
	unsigned left;	/* buffers still to come; 0: expecting a header */
	uint32_t len;	/* frame bytes so far (headers excluded) */
	bool drop;	/* the frame is already dropped and counted */
	struct netdev_rx_info info;
};

/* No drop to count. */
#define VNET_RX_NO_DROP NETDEV_DROP_COUNT

/* What to do with one used buffer. */
struct vnet_rx_step {
	enum netdev_drop drop; /* count this now, or VNET_RX_NO_DROP */
	/* keep: piece number `seg` of the frame is `len` bytes at buf + off
	 * (the driver holds the buffer until the frame is finished);
	 * otherwise the buffer goes back to the ring now. */
	bool keep;
	unsigned seg;
	uint32_t off, len;
	bool complete; /* the frame is complete: ask vnet_rx_finish() */
};

enum vnet_rx_verdict {
	VNET_RX_DELIVER, /* hand the pieces up */
	VNET_RX_DROP,	 /* count *why, do not hand it up */
	VNET_RX_DROPPED, /* already counted while it was assembled */
};

/* One used buffer: `len` bytes written at `buf` (already clamped by the
 * ring to the posted size; `clamped` says the device claimed more, so only
 * `len` bytes may be read). Reads the header at `buf` when one is due. */
void vnet_rx_buffer(const struct vnet_rx_params *p, struct vnet_rx_state *st, const void *buf,
		    uint32_t len, bool clamped, struct vnet_rx_step *step);

/* The frame in `st` is complete (step->complete): may it go up? */
enum vnet_rx_verdict vnet_rx_finish(const struct vnet_rx_params *p, const struct vnet_rx_state *st,
				    enum netdev_drop *why);

/* Forgets the frame (after the driver released its pieces). */
void vnet_rx_reset(struct vnet_rx_state *st);

#endif
