/*
 * virtio-net receive decisions (virtio 1.2 sections 5.1.6.3 and 5.1.6.4):
 * checking each used buffer against what was posted and the header size,
 * num_buffers against the ring (5.1.6.4.2), and the assembled frame against
 * the MTU, the Ethernet header and its checksum offsets (5.1.6.4.1).
 * Pure: no device, no allocation; drivers/virtio_net_rx.h says who owns
 * what.
 */
#include <string.h>

#include "drivers/virtio_net_rx.h"

static void step_init(struct vnet_rx_step *step)
{
	*step = (struct vnet_rx_step){.drop = VNET_RX_NO_DROP};
}

/* A continuation buffer of a merged frame: no header, all frame data. */
static void rx_continue(const struct vnet_rx_params *p, struct vnet_rx_state *st, uint32_t len,
			bool clamped, struct vnet_rx_step *step)
{
	/* Each frame is counted once, however many of its buffers are bad. */
	if (clamped && !st->drop) {
		step->drop = NETDEV_DROP_TOO_LONG;
		st->drop = true;
	}
	if (st->nsegs == p->max_segs) {
		/* More pieces than a frame of max_frame bytes can have: the
		 * frame is too long; its remaining buffers go straight back,
		 * but they still belong to it, so the count goes on. */
		if (!st->drop)
			step->drop = NETDEV_DROP_TOO_LONG;
		st->drop = true;
	} else {
		step->keep = true;
		step->seg = st->nsegs++;
		step->off = 0;
		step->len = len;
	}
	st->len += len;
	if (--st->left == 0)
		step->complete = true;
}

void vnet_rx_buffer(const struct vnet_rx_params *p, struct vnet_rx_state *st, const void *buf,
		    uint32_t len, bool clamped, struct vnet_rx_step *step)
{
	struct virtio_net_hdr hdr = {0};
	unsigned nbuf = 1;

	step_init(step);
	if (st->left) {
		rx_continue(p, st, len, clamped, step);
		return;
	}
	if (clamped) {
		/* Longer than the buffer we posted: never read past it. */
		step->drop = NETDEV_DROP_TOO_LONG;
		return;
	}
	if (len < p->hdr_len) {
		step->drop = NETDEV_DROP_SHORT_HDR;
		return;
	}
	memcpy(&hdr, buf, p->hdr_len);
	if (p->mrg) {
		nbuf = hdr.num_buffers;
		/* Each of the num_buffers buffers is one of ours on the
		 * ring, so more than the ring holds is a lie. */
		if (nbuf == 0 || nbuf > p->nbufs) {
			step->drop = NETDEV_DROP_BAD_MERGE;
			return;
		}
	}
	st->info = (struct netdev_rx_info){0};
	/* Without GUEST_CSUM the flag means nothing (5.1.6.4.1). */
	if (p->guest_csum && (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		st->info.csum_partial = true;
		st->info.csum_start = hdr.csum_start;
		st->info.csum_offset = hdr.csum_offset;
	}
	step->keep = true;
	step->seg = 0;
	step->off = p->hdr_len;
	step->len = len - p->hdr_len;
	st->nsegs = 1;
	st->len = len - p->hdr_len;
	st->drop = false;
	st->left = nbuf - 1;
	if (st->left == 0)
		step->complete = true;
}

enum vnet_rx_verdict vnet_rx_finish(const struct vnet_rx_params *p, const struct vnet_rx_state *st,
				    enum netdev_drop *why)
{
	if (st->drop)
		return VNET_RX_DROPPED;
	if (st->len > p->max_frame)
		*why = NETDEV_DROP_TOO_LONG;
	else if (st->len < ETH_HLEN)
		*why = NETDEV_DROP_RUNT;
	else if (st->info.csum_partial &&
		 (uint32_t)st->info.csum_start + st->info.csum_offset + 2 > st->len)
		/* The stack would write the checksum past the frame. */
		*why = NETDEV_DROP_BAD_CSUM_OFF;
	else
		return VNET_RX_DELIVER;
	return VNET_RX_DROP;
}

void vnet_rx_reset(struct vnet_rx_state *st)
{
	st->nsegs = 0;
	st->left = 0;
	st->len = 0;
	st->drop = false;
}
