/*
 * Flow hashing for transmit-queue selection (see flow_hash.h).
 *
 * Why the final mixing step matters: Linux hands connect() even ephemeral
 * ports (keeping odd ones for bind()), so sixteen connections from one
 * host differ only in a few low bits of one port, bit 0 never. A plain
 * FNV hash reduced modulo the queue count keeps those bits' parity
 * structure, and more than half the time sent every such connection to
 * the same queue. Murmur3's finaliser
 * spreads each input bit over the whole word, and the reduction then uses
 * the high bits (multiply and shift) rather than the low ones.
 */
#include "kernel/netdev/flow_hash.h"

#include <stdbool.h>

#include "kernel/netdev/netdev.h"

#define ETHERTYPE_IPV4 0x0800
#define IP_PROTO_TCP   6
#define IP_PROTO_UDP   17
#define IPV4_MIN_HLEN  20
#define IPV4_MF	       0x2000 /* "more fragments" flag */
#define IPV4_OFFSET    0x1fff /* fragment offset, in 8-byte units */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t fnv1a(uint32_t h, const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Murmur3's fmix32: every input bit flips each output bit with
 * probability about one half. */
static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

uint32_t flow_hash(const void *frame, uint32_t len)
{
	const uint8_t *f = frame;

	if (len < ETH_HLEN + IPV4_MIN_HLEN || be16(f + 12) != ETHERTYPE_IPV4)
		return 0;
	const uint8_t *ip = f + ETH_HLEN;
	unsigned ihl = (ip[0] & 0xf) * 4u;
	if ((ip[0] >> 4) != 4 || ihl < IPV4_MIN_HLEN)
		return 0;

	uint32_t h = fnv1a(2166136261u, ip + 12, 8); /* source, destination */
	/* Ports only where every packet of the flow carries them: a later
	 * fragment has none, and its first fragment must hash the same. */
	bool fragment = (be16(ip + 6) & (IPV4_MF | IPV4_OFFSET)) != 0;
	bool ports = (ip[9] == IP_PROTO_TCP || ip[9] == IP_PROTO_UDP) && !fragment;
	if (ports && len >= ETH_HLEN + ihl + 4)
		h = fnv1a(h, ip + ihl, 4);
	return mix32(h);
}

unsigned flow_pick_queue(const void *frame, uint32_t len, unsigned nqueues)
{
	if (nqueues <= 1)
		return 0;
	return (unsigned)(((uint64_t)flow_hash(frame, len) * nqueues) >> 32);
}
