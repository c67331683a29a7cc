/*
 * Transmit checksum offload, the frame side (virtio 1.2 5.1.6.2; RFC 793
 * 3.1, RFC 768, RFC 1071): see kernel/netdev/net_csum.h.
 *
 * The frame is read and written only through frame_read/frame_write, which
 * walk the pieces, so a header or the checksum field itself may be cut
 * anywhere and nothing past the last piece is ever touched.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/netdev/net_csum.h"

#define ETHERTYPE_IPV4 0x0800
#define IPV4_MIN_HLEN  20
#define IP_PROTO_TCP   6
#define IP_PROTO_UDP   17
#define IP_FRAG_MASK   0x3fff /* more-fragments flag and fragment offset */
#define TCP_MIN_HLEN   20
#define TCP_CSUM_OFF   16
#define UDP_HLEN       8
#define UDP_CSUM_OFF   6

/* Copies `len` bytes between frame offset `off` and `buf`: out of the
 * frame, or into it when `to_frame` (the pieces are const for the
 * device's sake, but their memory is the caller's own, net_csum.h).
 * False if the frame is shorter. */
static bool frame_copy(const struct netdev_seg *segs, unsigned nsegs, uint32_t off, void *buf,
		       uint32_t len, bool to_frame)
{
	uint8_t *b = buf;

	for (unsigned i = 0; i < nsegs && len; i++) {
		uint8_t *piece = (uint8_t *)segs[i].data;
		uint32_t n;

		if (off >= segs[i].len) {
			off -= segs[i].len;
			continue;
		}
		n = segs[i].len - off < len ? segs[i].len - off : len;
		if (to_frame)
			memcpy(piece + off, b, n);
		else
			memcpy(b, piece + off, n);
		b += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

static bool frame_read(const struct netdev_seg *segs, unsigned nsegs, uint32_t off, void *out,
		       uint32_t len)
{
	return frame_copy(segs, nsegs, off, out, len, false);
}

/* The caller checked that the bytes exist. */
static void frame_write(const struct netdev_seg *segs, unsigned nsegs, uint32_t off, void *in,
			uint32_t len)
{
	frame_copy(segs, nsegs, off, in, len, true);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* RFC 1071: `acc` plus frame bytes [start, end) as big-endian 16-bit
 * words counted from `start` (an odd last byte is the high half of a word
 * padded with zero). Byte by byte: only the rare padded frame comes here. */
static uint64_t frame_sum(const struct netdev_seg *segs, unsigned nsegs, uint32_t start,
			  uint32_t end, uint64_t acc)
{
	uint32_t base = 0;
	bool low = false;

	for (unsigned i = 0; i < nsegs && base < end; base += segs[i].len, i++) {
		const uint8_t *d = segs[i].data;

		for (uint32_t j = 0; j < segs[i].len; j++) {
			uint32_t at = base + j;

			if (at < start || at >= end)
				continue;
			acc += low ? d[j] : (uint32_t)d[j] << 8;
			low = !low;
		}
	}
	return acc;
}

enum net_csum_verdict net_csum_tx(const struct netdev_seg *segs, unsigned nsegs,
				  struct netdev_tx_info *info)
{
	uint8_t h[ETH_HLEN + IPV4_MIN_HLEN], field[2];
	const uint8_t *ip = h + ETH_HLEN;
	uint32_t flen = 0, ihl, tot, l4len, start, min_l4;
	uint16_t csum_off, sum;

	for (unsigned i = 0; i < nsegs; i++)
		flen += segs[i].len;
	if (!frame_read(segs, nsegs, 0, h, sizeof h) || get16(h + 12) != ETHERTYPE_IPV4)
		return NET_CSUM_AS_IS;
	ihl = (ip[0] & 0xfu) * 4;
	tot = get16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < IPV4_MIN_HLEN || tot < ihl || ETH_HLEN + tot > flen)
		return NET_CSUM_AS_IS;
	/* A fragment's checksum covers the whole datagram, which no single
	 * frame holds: its sender must have computed it. */
	if (get16(ip + 6) & IP_FRAG_MASK)
		return NET_CSUM_AS_IS;
	switch (ip[9]) {
	case IP_PROTO_TCP:
		csum_off = TCP_CSUM_OFF;
		min_l4 = TCP_MIN_HLEN;
		break;
	case IP_PROTO_UDP:
		csum_off = UDP_CSUM_OFF;
		min_l4 = UDP_HLEN;
		break;
	default:
		return NET_CSUM_AS_IS;
	}
	l4len = tot - ihl;
	if (l4len < min_l4)
		return NET_CSUM_AS_IS;
	/* IP options only move the start: the pseudo-header takes the
	 * addresses from the fixed header (lwIP never sends the source-route
	 * options that would make it the route's last address). */
	start = ETH_HLEN + ihl;
	sum = fold((uint64_t)get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18) +
		   ip[9] + l4len);
	if (ETH_HLEN + tot == flen) {
		put16(field, sum);
		frame_write(segs, nsegs, start + csum_off, field, 2);
		*info = (struct netdev_tx_info){
			.csum_partial = true,
			.csum_start = (uint16_t)start,
			.csum_offset = csum_off,
		};
		return NET_CSUM_PARTIAL;
	}
	/* Bytes after the packet: the device's "to the end of the frame"
	 * would count them, so finish the sum here over the packet only. */
	put16(field, 0);
	frame_write(segs, nsegs, start + csum_off, field, 2);
	sum = (uint16_t)~fold(frame_sum(segs, nsegs, start, ETH_HLEN + tot, sum));
	/* RFC 768: a computed 0 is sent as all ones; 0 means "none". */
	if (sum == 0 && ip[9] == IP_PROTO_UDP)
		sum = 0xffff;
	put16(field, sum);
	frame_write(segs, nsegs, start + csum_off, field, 2);
	return NET_CSUM_SOFTWARE;
}
