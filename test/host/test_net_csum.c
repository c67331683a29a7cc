/*
 * Host unit test for transmit checksum offload (kernel/netdev/net_csum.c; virtio
 * 1.2 5.1.6.2, RFC 793 3.1, RFC 768, RFC 1071). Frames are built here with
 * a correct checksum computed by a separate, plain implementation, then
 * their checksum field is spoiled (lwIP leaves 0; anything else must be
 * overwritten too), the frame is cut into pieces (each its own exact-size
 * allocation, under AddressSanitizer) at every position or at random ones,
 * and net_csum_tx() runs on the pieces. A partial frame is then finished
 * the way the specification has the device do it (the ones'-complement
 * sum from csum_start to the end, complemented, stored at csum_start +
 * csum_offset) and must equal the original byte for byte; a frame the
 * helper does not offload must come back untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/netdev/net_csum.h"
#include "kernel/netdev/netdev.h"
#include "tap.h"

#define MAX_FRAME 1600
#define MAX_SEGS  (MAX_FRAME + 1)

struct spec {
	uint16_t ethertype; /* 0: IPv4 */
	uint8_t version;    /* 0: 4 */
	uint8_t proto;	    /* 6 TCP, 17 UDP, 1 ICMP, ... */
	unsigned ihl_words; /* 0: 5 */
	unsigned tcp_opts;  /* bytes of TCP options (a multiple of 4) */
	unsigned payload;
	uint16_t frag; /* the IPv4 flags + fragment offset field */
	unsigned pad;  /* bytes after the IP packet */
};

static uint32_t rng = 12345;

static uint8_t rnd8(void)
{
	rng = rng * 1103515245u + 12345u;
	return (uint8_t)(rng >> 16);
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

/* RFC 1071, the plain way: 16-bit big-endian words, end-around carry
 * after every addition, an odd last byte padded with zero. */
static uint16_t add_words(uint16_t acc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		uint32_t s = acc + w;
		acc = (uint16_t)(s > 0xffff ? s - 0xffff : s);
	}
	return acc;
}

static unsigned l4_start(const uint8_t *f)
{
	return ETH_HLEN + (f[ETH_HLEN] & 0xfu) * 4;
}

static unsigned csum_field(const uint8_t *f)
{
	return l4_start(f) + (f[ETH_HLEN + 9] == 6 ? 16 : 6);
}

/* The TCP or UDP checksum of an IPv4 packet inside frame `f`, computed
 * from scratch with the field counted as zero (RFC 768: 0 sent as 0xffff). */
static uint16_t reference_csum(const uint8_t *f)
{
	const uint8_t *ip = f + ETH_HLEN;
	unsigned start = l4_start(f), len = get16(ip + 2) - (start - ETH_HLEN);
	uint8_t pseudo[12], l4[MAX_FRAME];
	uint16_t acc = 0, c;

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = ip[9];
	put16(pseudo + 10, (uint16_t)len);
	memcpy(l4, f + start, len);
	put16(l4 + csum_field(f) - start, 0);
	acc = add_words(acc, pseudo, sizeof pseudo);
	acc = add_words(acc, l4, len);
	c = (uint16_t)~acc;
	return c == 0 && ip[9] == 17 ? 0xffff : c;
}

/* Builds the frame `s` describes into f; returns its length. TCP and UDP
 * packets get their correct checksum. */
static size_t build(const struct spec *s, uint8_t *f)
{
	unsigned ihl = (s->ihl_words ? s->ihl_words : 5) * 4;
	unsigned l4h = s->proto == 6 ? 20 + s->tcp_opts : s->proto == 17 ? 8 : 4;
	unsigned tot = ihl + l4h + s->payload;
	uint8_t *ip = f + ETH_HLEN;

	for (unsigned i = 0; i < ETH_HLEN + tot + s->pad; i++)
		f[i] = rnd8();
	put16(f + 12, s->ethertype ? s->ethertype : 0x0800);
	ip[0] = (uint8_t)((s->version ? s->version : 4) << 4 | ihl / 4);
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 6, s->frag);
	ip[8] = 64;
	ip[9] = s->proto;
	for (unsigned i = 20; i < ihl; i++)
		ip[i] = 1; /* IP options: NOPs */
	if (s->proto == 6)
		ip[ihl + 12] = (uint8_t)((l4h / 4) << 4 | (ip[ihl + 12] & 0xf));
	if (s->proto == 17)
		put16(ip + ihl + 4, (uint16_t)(l4h + s->payload));
	if ((s->proto == 6 || s->proto == 17) && ihl >= 20 && tot >= ihl + l4h)
		put16(f + csum_field(f), reference_csum(f));
	return ETH_HLEN + tot + s->pad;
}

/* The frame as pieces: cuts[] are the offsets where a new piece starts
 * (ascending, may repeat: an empty piece). Each piece is malloc'ed with
 * exactly its length. */
struct pieces {
	struct netdev_seg segs[MAX_SEGS];
	unsigned n;
};

static void cut(struct pieces *p, const uint8_t *f, size_t len, const unsigned *cuts,
		unsigned ncuts)
{
	size_t from = 0;

	p->n = 0;
	for (unsigned i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		uint8_t *m = malloc(to - from ? to - from : 1);

		memcpy(m, f + from, to - from);
		p->segs[p->n++] = (struct netdev_seg){m, (uint32_t)(to - from)};
		from = to;
	}
}

static void glue(struct pieces *p, uint8_t *out)
{
	size_t at = 0;

	for (unsigned i = 0; i < p->n; i++) {
		memcpy(out + at, p->segs[i].data, p->segs[i].len);
		at += p->segs[i].len;
		free((void *)p->segs[i].data);
	}
}

/* What the device does with NEEDS_CSUM (virtio 1.2 5.1.6.2): sum from
 * csum_start to the end of the frame, store the complement. */
static void device_finish(uint8_t *f, size_t len, const struct netdev_tx_info *info)
{
	uint16_t acc = add_words(0, f + info->csum_start, len - info->csum_start);

	put16(f + info->csum_start + info->csum_offset, (uint16_t)~acc);
}

/* 0 and 0xffff are the same number in ones' complement: a checksum
 * verifies with either (the device's RFC 768 duty is checked apart). */
static bool same_csum(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

enum expect { EXP_PARTIAL, EXP_SOFTWARE, EXP_AS_IS };

/* Runs one frame through net_csum_tx() cut at `cuts`; returns an error
 * string or NULL. */
static const char *run_one(const uint8_t *good, size_t len, const unsigned *cuts, unsigned ncuts,
			   enum expect exp, uint16_t spoil)
{
	uint8_t in[MAX_FRAME], out[MAX_FRAME];
	struct netdev_tx_info info = {.csum_partial = false, .csum_start = 0xeeee};
	struct pieces p;
	enum net_csum_verdict v;
	unsigned fld = 0;

	memcpy(in, good, len);
	if (exp != EXP_AS_IS) {
		fld = csum_field(in);
		put16(in + fld, spoil); /* what lwIP left, or worse */
	}
	cut(&p, in, len, cuts, ncuts);
	v = net_csum_tx(p.segs, p.n, &info);
	glue(&p, out);
	switch (exp) {
	case EXP_AS_IS:
		if (v != NET_CSUM_AS_IS)
			return "offloaded a frame it should leave alone";
		if (memcmp(out, in, len))
			return "changed a frame it should leave alone";
		if (info.csum_partial || info.csum_start != 0xeeee)
			return "filled info for a frame it left alone";
		return NULL;
	case EXP_SOFTWARE:
		if (v != NET_CSUM_SOFTWARE)
			return "did not complete a padded frame in software";
		if (memcmp(out, good, len))
			return "software checksum differs from the reference";
		return NULL;
	case EXP_PARTIAL:
		if (v != NET_CSUM_PARTIAL || !info.csum_partial)
			return "did not offload";
		if (info.csum_start != l4_start(in) || info.csum_offset != fld - l4_start(in))
			return "wrong csum_start/csum_offset";
		device_finish(out, len, &info);
		if (!same_csum(get16(out + fld), get16(good + fld)))
			return "device-finished checksum differs from the reference";
		put16(out + fld, get16(good + fld));
		if (memcmp(out, good, len))
			return "bytes other than the checksum changed";
		return NULL;
	}
	return "?";
}

/* Every way of cutting `good` we try: whole, in two at every position, in
 * one-byte pieces (as many as fit), and random cuts with empty pieces. */
static void check_frame(const char *name, const struct spec *s, enum expect exp)
{
	uint8_t good[MAX_FRAME];
	size_t len = build(s, good);
	unsigned cuts[MAX_SEGS], tried = 0, bad = 0;
	const char *err, *first = NULL;
	static const uint16_t spoils[] = {0x0000, 0xffff, 0xdead};

	for (unsigned sp = 0; sp < 3; sp++) {
		err = run_one(good, len, cuts, 0, exp, spoils[sp]);
		tried++;
		if (err && !bad++)
			first = err;
	}
	for (unsigned at = 0; at <= len; at++) {
		cuts[0] = at;
		err = run_one(good, len, cuts, 1, exp, spoils[at % 3]);
		tried++;
		if (err && !bad++)
			first = err;
	}
	for (unsigned i = 0; i + 1 < len && i < MAX_SEGS - 1; i++)
		cuts[i] = i + 1;
	err = run_one(good, len, cuts, (unsigned)(len - 1), exp, 0);
	tried++;
	if (err && !bad++)
		first = err;
	for (unsigned r = 0; r < 200; r++) {
		unsigned n = 1 + rnd8() % 15;

		for (unsigned i = 0; i < n; i++)
			cuts[i] = (unsigned)(((uint32_t)rnd8() << 8 | rnd8()) % (len + 1));
		for (unsigned i = 1; i < n; i++) /* sort: insertion */
			for (unsigned j = i; j && cuts[j - 1] > cuts[j]; j--) {
				unsigned t = cuts[j];
				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		err = run_one(good, len, cuts, n, exp, spoils[r % 3]);
		tried++;
		if (err && !bad++)
			first = err;
	}
	CHECK(bad == 0, "%s (%zu bytes): %u of %u cuttings wrong%s%s", name, len, bad, tried,
	      first ? ": " : "", first ? first : "");
}

/* A UDP frame whose checksum computes to 0: the last two payload bytes
 * are chosen to make everything sum to 0xffff. */
static size_t build_udp_zero(uint8_t *f, unsigned pad)
{
	struct spec s = {.proto = 17, .payload = 40, .pad = pad};
	size_t len = build(&s, f);
	unsigned end = ETH_HLEN + get16(f + ETH_HLEN + 2);
	uint16_t acc;

	put16(f + end - 2, 0);
	put16(f + csum_field(f), 0);
	/* reference_csum() is ~(sum); make sum 0xffff. */
	acc = (uint16_t)~reference_csum(f);
	put16(f + end - 2, (uint16_t)~acc);
	put16(f + csum_field(f), reference_csum(f));
	return len;
}

static void check_udp_zero(void)
{
	uint8_t f[MAX_FRAME], g[MAX_FRAME];
	struct netdev_tx_info info;
	size_t len = build_udp_zero(f, 0);
	struct netdev_seg seg = {g, (uint32_t)len};
	unsigned fld = csum_field(f);
	enum net_csum_verdict v;

	CHECK(get16(f + fld) == 0xffff, "a UDP checksum computing to 0 is sent as 0xffff (%04x)",
	      get16(f + fld));
	/* Offloaded: the device's complement comes out 0; turning it into
	 * 0xffff is the device's part (RFC 768), which Linux's
	 * skb_checksum_help does (test/qemu/test_net_tap.py sees it). */
	memcpy(g, f, len);
	put16(g + fld, 0);
	CHECK(net_csum_tx(&seg, 1, &info) == NET_CSUM_PARTIAL, "zero-sum UDP is offloaded");
	device_finish(g, len, &info);
	CHECK(get16(g + fld) == 0, "the device's complement is 0 (%04x): its job to send 0xffff",
	      get16(g + fld));
	/* Finished in software (a padded frame): 0xffff from the helper. */
	len = build_udp_zero(f, 6);
	memcpy(g, f, len);
	put16(g + fld, 0);
	seg.len = (uint32_t)len;
	v = net_csum_tx(&seg, 1, &info);
	CHECK(v == NET_CSUM_SOFTWARE && get16(g + fld) == 0xffff && !memcmp(f, g, len),
	      "padded zero-sum UDP completed in software as 0xffff (%04x)", get16(g + fld));
}

int main(void)
{
	static const unsigned payloads[] = {0, 1, 2, 7, 100, 1401, 1460};

	for (unsigned i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		unsigned pl = payloads[i];
		char name[96];
		struct spec tcp = {.proto = 6, .payload = pl};
		struct spec tcp_opts = {.proto = 6, .ihl_words = 6, .tcp_opts = 12, .payload = pl};
		struct spec udp = {.proto = 17, .payload = pl > 1472 ? 1472 : pl};
		struct spec udp_opts = {
			.proto = 17, .ihl_words = 15, .payload = pl > 1432 ? 1432 : pl};

		snprintf(name, sizeof name, "TCP, %u payload bytes", pl);
		check_frame(name, &tcp, EXP_PARTIAL);
		snprintf(name, sizeof name, "TCP with IP and TCP options, %u payload bytes", pl);
		check_frame(name, &tcp_opts, EXP_PARTIAL);
		snprintf(name, sizeof name, "UDP, %u payload bytes", udp.payload);
		check_frame(name, &udp, EXP_PARTIAL);
		snprintf(name, sizeof name, "UDP with 40 bytes of IP options, %u payload bytes",
			 udp_opts.payload);
		check_frame(name, &udp_opts, EXP_PARTIAL);
	}
	check_frame("TCP ACK padded to 60 bytes: software", &(struct spec){.proto = 6, .pad = 6},
		    EXP_SOFTWARE);
	check_frame("UDP, 3 payload bytes, padded: software",
		    &(struct spec){.proto = 17, .payload = 3, .pad = 15}, EXP_SOFTWARE);

	check_frame("ICMP: as is", &(struct spec){.proto = 1, .payload = 56}, EXP_AS_IS);
	check_frame("first UDP fragment (MF): as is",
		    &(struct spec){.proto = 17, .payload = 100, .frag = 0x2000}, EXP_AS_IS);
	check_frame("later TCP fragment (offset): as is",
		    &(struct spec){.proto = 6, .payload = 100, .frag = 0x00b9}, EXP_AS_IS);
	check_frame("ARP ethertype: as is",
		    &(struct spec){.ethertype = 0x0806, .proto = 6, .payload = 10}, EXP_AS_IS);
	check_frame("VLAN tag: as is",
		    &(struct spec){.ethertype = 0x8100, .proto = 17, .payload = 10}, EXP_AS_IS);
	check_frame("IPv6 version in an IPv4 ethertype: as is",
		    &(struct spec){.version = 6, .proto = 17, .payload = 10}, EXP_AS_IS);
	check_frame("IHL below 5: as is",
		    &(struct spec){.ihl_words = 4, .proto = 17, .payload = 10}, EXP_AS_IS);

	/* Lengths that do not add up: built right, then the IP total length
	 * is changed (the frame bytes stay). */
	{
		uint8_t f[MAX_FRAME];
		struct spec s = {.proto = 6, .payload = 0};
		size_t len = build(&s, f);
		unsigned cuts[1] = {20};
		const char *err;

		put16(f + ETH_HLEN + 2, (uint16_t)(len - ETH_HLEN + 1));
		err = run_one(f, len, cuts, 1, EXP_AS_IS, 0);
		CHECK(!err, "IP total length past the frame: as is%s%s", err ? ": " : "",
		      err ? err : "");
		put16(f + ETH_HLEN + 2, 20 + 19);
		err = run_one(f, len, cuts, 1, EXP_AS_IS, 0);
		CHECK(!err, "TCP shorter than its header: as is%s%s", err ? ": " : "",
		      err ? err : "");
		s = (struct spec){.proto = 17, .payload = 0};
		len = build(&s, f);
		put16(f + ETH_HLEN + 2, 20 + 7);
		err = run_one(f, len, cuts, 1, EXP_AS_IS, 0);
		CHECK(!err, "UDP shorter than its header: as is%s%s", err ? ": " : "",
		      err ? err : "");
		unsigned wrong = 0;

		s = (struct spec){.proto = 6, .payload = 0};
		build(&s, f);
		for (unsigned n = 0; n < ETH_HLEN + 20; n++) {
			uint8_t *m = malloc(n ? n : 1);
			struct netdev_seg seg = {m, n};
			struct netdev_tx_info info;

			memcpy(m, f, n);
			wrong += net_csum_tx(&seg, 1, &info) != NET_CSUM_AS_IS || memcmp(m, f, n);
			free(m);
		}
		CHECK(wrong == 0, "frames cut short inside the headers: as is (%u wrong)", wrong);
	}
	check_udp_zero();
	return tap_done();
}
