/*
 * Host unit test for flow hashing (kernel/netdev/flow_hash.c), which picks the
 * virtio-net transmit queue (virtio 1.2 section 5.1.6.5.5): one connection
 * always takes one queue, many connections spread over all queues, even the
 * sixteen even-numbered ports a Linux peer hands out to back-to-back
 * connect() calls, and frames that are not IPv4 TCP/UDP, truncated or
 * fragmented are hashed without reading past what the driver may read.
 * Every frame is allocated with exactly its length, under AddressSanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/netdev/flow_hash.h"
#include "kernel/netdev/netdev.h"
#include "tap.h"

#define GUEST_IP 0x0ac70002u /* 10.199.0.2 */
#define PEER_IP	 0x0ac70001u /* 10.199.0.1 */

struct flow {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint16_t frag; /* the IPv4 flags+offset field */
	unsigned ihl_words;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* A heap copy of an Ethernet+IPv4+L4 frame of exactly `len` bytes (the
 * headers cut off where len ends), `fill` in the bytes after the ports. */
static uint8_t *frame(const struct flow *fl, uint32_t len, uint8_t fill)
{
	uint8_t full[128];
	unsigned ihl = (fl->ihl_words ? fl->ihl_words : 5) * 4;

	memset(full, fill, sizeof full);
	memset(full, 0x52, 12); /* MAC addresses: not part of the flow */
	put16(full + 12, 0x0800);
	uint8_t *ip = full + ETH_HLEN;
	ip[0] = 0x40 | (ihl / 4);
	memset(ip + 1, 0, ihl - 1);
	put16(ip + 2, len - ETH_HLEN);
	put16(ip + 6, fl->frag);
	ip[8] = 64;
	ip[9] = fl->proto ? fl->proto : 6;
	put32(ip + 12, fl->src);
	put32(ip + 16, fl->dst);
	if (ihl > 20)
		memset(ip + 20, fill ^ 0x5a, ihl - 20); /* options differ, flow does not */
	put16(ip + ihl, fl->sport);
	put16(ip + ihl + 2, fl->dport);

	uint8_t *f = malloc(len);
	memcpy(f, full, len < sizeof full ? len : sizeof full);
	return f;
}

static unsigned pick(const struct flow *fl, uint32_t len, uint8_t fill, unsigned nq)
{
	uint8_t *f = frame(fl, len, fill);
	unsigned q = flow_pick_queue(f, len, nq);
	free(f);
	return q;
}

static uint32_t hash(const struct flow *fl, uint32_t len, uint8_t fill)
{
	uint8_t *f = frame(fl, len, fill);
	uint32_t h = flow_hash(f, len);
	free(f);
	return h;
}

static void test_one_flow_one_queue(void)
{
	struct flow fl = {GUEST_IP, PEER_IP, 7, 40000, 6, 0, 0};
	unsigned q = pick(&fl, 60, 0, 4);
	bool same = true;
	for (uint32_t len = 54; len <= 128; len += 7)
		same &= pick(&fl, len, (uint8_t)len, 4) == q;
	CHECK(same,
	      "every frame of one TCP connection takes queue %u, whatever its length and payload",
	      q);
}

/* Sixteen connections from a Linux peer, ports base, base+2, ... (Linux
 * gives connect() even ports: 16 in a row on the 6.18 kernel we run on):
 * the case that sent every connection to one queue with the driver's
 * first hash. */
static void test_linux_even_ports_spread(void)
{
	unsigned windows = 0, one_queue = 0;
	for (unsigned base = 32768; base + 32 < 61000; base += 31, windows++) {
		unsigned seen = 0;
		for (unsigned i = 0; i < 16; i++) {
			struct flow fl = {GUEST_IP, PEER_IP, 7, (uint16_t)(base + 2 * i), 6, 0, 0};
			seen |= 1u << pick(&fl, 66, 0, 2);
		}
		one_queue += seen != 3;
	}
	CHECK(one_queue * 200 < windows,
	      "16 connections on even ports use both of 2 queues: %u of %u port windows did not",
	      one_queue, windows);
}

static void test_balance(unsigned nq, unsigned step)
{
	unsigned count[8] = {0}, n = 8192;
	for (unsigned i = 0; i < n; i++) {
		struct flow fl = {GUEST_IP, PEER_IP, 7, (uint16_t)(32768 + step * i), 6, 0, 0};
		count[pick(&fl, 66, 0, nq)]++;
	}
	unsigned lo = n, hi = 0;
	for (unsigned q = 0; q < nq; q++) {
		lo = count[q] < lo ? count[q] : lo;
		hi = count[q] > hi ? count[q] : hi;
	}
	/* Within 10% of an even share. */
	CHECK(lo * nq * 10 >= n * 9 && hi * nq * 10 <= n * 11,
	      "%u flows with port step %u over %u queues: smallest share %u, largest %u", n, step,
	      nq, lo, hi);
}

static void test_not_ipv4(void)
{
	struct flow fl = {GUEST_IP, PEER_IP, 7, 40000, 6, 0, 0};
	uint8_t *f = frame(&fl, 60, 0);
	put16(f + 12, 0x0806); /* ARP */
	uint32_t arp = flow_hash(f, 60);
	put16(f + 12, 0x86dd); /* IPv6 */
	uint32_t v6 = flow_hash(f, 60);
	put16(f + 12, 0x0800);
	f[ETH_HLEN] = 0x25; /* version 2 */
	uint32_t badver = flow_hash(f, 60);
	f[ETH_HLEN] = 0x44; /* header length 16 bytes: impossible */
	uint32_t badihl = flow_hash(f, 60);
	free(f);
	CHECK(arp == 0 && v6 == 0 && badver == 0 && badihl == 0,
	      "ARP, IPv6, IP version 2 and a 16-byte IPv4 header hash to 0 (queue 0)");
}

static void test_short_frames(void)
{
	struct flow fl = {GUEST_IP, PEER_IP, 7, 40000, 6, 0, 0};
	bool zero = true;
	for (uint32_t len = 0; len < ETH_HLEN + 20; len++)
		zero &= hash(&fl, len, 0) == 0;
	CHECK(zero, "frames shorter than Ethernet + a 20-byte IPv4 header hash to 0, nothing read "
		    "beyond them");

	/* Addresses present, ports cut off: hashed by addresses alone. */
	struct flow other_ports = fl;
	other_ports.sport = 1234;
	CHECK(hash(&fl, ETH_HLEN + 20, 0) == hash(&other_ports, ETH_HLEN + 22, 0) &&
		      hash(&fl, ETH_HLEN + 20, 0) != 0,
	      "a frame cut before its ports hashes by its addresses alone");
}

static void test_ip_options(void)
{
	struct flow a = {GUEST_IP, PEER_IP, 7, 40000, 6, 0, 6}; /* 24-byte header */
	struct flow b = a;
	b.dport = 40002;
	CHECK(hash(&a, 80, 1) == hash(&a, 80, 2) && hash(&a, 80, 1) != hash(&b, 80, 1),
	      "with IP options the ports are read after the options, and the options do not count");
	struct flow plain = a;
	plain.ihl_words = 5;
	CHECK(hash(&a, 80, 1) == hash(&plain, 80, 1),
	      "the same flow with and without IP options hashes the same");
}

static void test_fragments_and_protocols(void)
{
	struct flow first = {GUEST_IP, PEER_IP, 7, 40000, 17, 0x2000, 0}; /* UDP, more fragments */
	struct flow later = first;
	later.frag = 0x00b9;  /* offset 1480 bytes, the last fragment */
	later.sport = 0x1111; /* payload bytes where a port would be */
	later.dport = 0x2222;
	CHECK(hash(&first, 100, 0) == hash(&later, 100, 0),
	      "all fragments of one UDP datagram hash alike (ports ignored)");

	struct flow udp = {GUEST_IP, PEER_IP, 7, 40000, 17, 0, 0};
	struct flow udp2 = udp;
	udp2.dport = 40001;
	struct flow icmp = {GUEST_IP, PEER_IP, 7, 40000, 1, 0, 0};
	struct flow icmp2 = icmp;
	icmp2.dport = 40001;
	CHECK(hash(&udp, 60, 0) != hash(&udp2, 60, 0) && hash(&icmp, 60, 0) == hash(&icmp2, 60, 0),
	      "UDP ports count; for ICMP the bytes where ports would be do not");
}

static void test_single_queue(void)
{
	bool zero = true;
	for (unsigned i = 0; i < 64; i++) {
		struct flow fl = {GUEST_IP, PEER_IP, 7, (uint16_t)(40000 + i), 6, 0, 0};
		zero &= pick(&fl, 60, 0, 1) == 0 && pick(&fl, 60, 0, 0) == 0;
	}
	CHECK(zero, "with one queue (or none reported) every flow takes queue 0");
}

int main(void)
{
	test_one_flow_one_queue();
	test_linux_even_ports_spread();
	test_balance(2, 2);
	test_balance(4, 1);
	test_balance(8, 2);
	test_not_ipv4();
	test_short_frames();
	test_ip_options();
	test_fragments_and_protocols();
	test_single_queue();
	return tap_done();
}
