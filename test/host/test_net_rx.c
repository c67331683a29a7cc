/*
 * Host unit test for the virtio-net receive decisions
 * (drivers/virtio_net_rx.c, virtio 1.2 sections 5.1.6.3 and 5.1.6.4): a
 * misbehaving device, which QEMU never is, writes used lengths beyond the
 * posted buffer or below the header, a num_buffers of 0 or beyond the ring,
 * more pieces than a frame can have, runts, frames beyond the MTU and
 * checksum offsets outside the frame. Every drop reason is counted exactly
 * once per frame, no buffer is lost or released twice (LeakSanitizer), no
 * byte beyond a used length is read (each buffer is allocated with exactly
 * that many bytes, under AddressSanitizer), the good frames arrive whole,
 * and the state is clean again after every drop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio_net_rx.h"
#include "tap.h"

#define MAX_SEGS   6 /* what drivers/virtio_net.c holds with its 9000-byte MTU bound */
#define RING	   256
#define MAX_FRAME  1518 /* 14 + 1500 + a VLAN tag */
#define MAX_HELD   64
#define FRAME_SIZE 65536

/* Plays the driver: the same moves as rx_buffer()/rx_deliver() in
 * drivers/virtio_net.c, with malloc'd buffers instead of the ring. */
struct sim {
	struct vnet_rx_params p;
	struct vnet_rx_state st;
	uint64_t drops[NETDEV_DROP_COUNT];
	unsigned delivered, dropped_frames, outstanding;
	uint8_t *held[MAX_HELD];
	struct netdev_seg segs[MAX_HELD];
	bool bad_seg; /* a piece number out of order or beyond max_segs */
	/* The last frame handed up. */
	uint8_t frame[FRAME_SIZE];
	uint32_t frame_len;
	unsigned frame_nsegs;
	struct netdev_rx_info info;
};

static void sim_init(struct sim *s, bool mrg, unsigned hdr_len, bool guest_csum)
{
	memset(s, 0, sizeof *s);
	s->p = (struct vnet_rx_params){
		.hdr_len = hdr_len,
		.nbufs = RING,
		.max_segs = MAX_SEGS,
		.max_frame = MAX_FRAME,
		.mrg = mrg,
		.guest_csum = guest_csum,
	};
}

static void release(struct sim *s, uint8_t *buf)
{
	free(buf);
	s->outstanding--;
}

static void finish(struct sim *s)
{
	enum netdev_drop why = VNET_RX_NO_DROP;

	switch (vnet_rx_finish(&s->p, &s->st, &why)) {
	case VNET_RX_DELIVER:
		s->delivered++;
		s->frame_len = 0;
		for (unsigned i = 0; i < s->st.nsegs; i++) {
			memcpy(s->frame + s->frame_len, s->segs[i].data, s->segs[i].len);
			s->frame_len += s->segs[i].len;
		}
		if (s->frame_len != s->st.len)
			s->bad_seg = true;
		s->frame_nsegs = s->st.nsegs;
		s->info = s->st.info;
		break;
	case VNET_RX_DROP:
		if ((unsigned)why >= NETDEV_DROP_COUNT) {
			s->bad_seg = true;
			break;
		}
		s->drops[why]++;
		s->dropped_frames++;
		break;
	case VNET_RX_DROPPED:
		s->dropped_frames++;
		break;
	}
	for (unsigned i = 0; i < s->st.nsegs; i++)
		release(s, s->held[i]);
	vnet_rx_reset(&s->st);
}

/* One used buffer of `len` bytes (the buffer is exactly that long). */
static void feed(struct sim *s, uint8_t *buf, uint32_t len, bool clamped)
{
	struct vnet_rx_step step;
	unsigned before = s->st.nsegs;

	s->outstanding++;
	vnet_rx_buffer(&s->p, &s->st, buf, len, clamped, &step);
	if (step.drop != VNET_RX_NO_DROP)
		s->drops[step.drop]++;
	if (step.keep) {
		/* Pieces come in order, from 0 after a header. */
		if (step.seg >= s->p.max_segs || step.seg >= MAX_HELD || step.seg != before ||
		    step.off + step.len > len)
			s->bad_seg = true;
		else {
			s->held[step.seg] = buf;
			s->segs[step.seg] = (struct netdev_seg){buf + step.off, step.len};
		}
	} else {
		release(s, buf);
	}
	if (step.complete)
		finish(s);
}

/* A first buffer: header then `n` bytes of frame (byte i = seed + i). */
static uint8_t *first_buf(const struct sim *s, uint16_t num_buffers, uint8_t flags,
			  uint16_t csum_start, uint16_t csum_offset, uint32_t n, uint8_t seed,
			  uint32_t *len)
{
	struct virtio_net_hdr h = {.flags = flags,
				   .csum_start = csum_start,
				   .csum_offset = csum_offset,
				   .num_buffers = num_buffers};
	uint8_t *b = malloc(s->p.hdr_len + n + 1);

	memcpy(b, &h, s->p.hdr_len);
	for (uint32_t i = 0; i < n; i++)
		b[s->p.hdr_len + i] = (uint8_t)(seed + i);
	*len = s->p.hdr_len + n;
	return realloc(b, *len ? *len : 1); /* exactly len bytes: ASan sees any overread */
}

static uint8_t *data_buf(uint32_t n, uint8_t seed)
{
	uint8_t *b = malloc(n ? n : 1);

	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i);
	return b;
}

/* Feeds one frame of the given piece sizes (the first after the header). */
static void frame(struct sim *s, uint16_t num_buffers, const uint32_t *sizes, unsigned n,
		  uint8_t flags, uint16_t cs, uint16_t co)
{
	uint32_t len, off = sizes[0];
	uint8_t *b = first_buf(s, num_buffers, flags, cs, co, sizes[0], 0, &len);

	feed(s, b, len, false);
	for (unsigned i = 1; i < n; i++) {
		feed(s, data_buf(sizes[i], (uint8_t)off), sizes[i], false);
		off += sizes[i];
	}
}

static bool frame_is_pattern(const struct sim *s, uint32_t len)
{
	if (s->frame_len != len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (s->frame[i] != (uint8_t)i)
			return false;
	return true;
}

static uint64_t total_drops(const struct sim *s)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < NETDEV_DROP_COUNT; i++)
		t += s->drops[i];
	return t;
}

/* Only drops[why] moved, by exactly `n`, since `before`. */
static bool only_drop(const struct sim *s, const uint64_t *before, enum netdev_drop why, uint64_t n)
{
	for (unsigned i = 0; i < NETDEV_DROP_COUNT; i++)
		if (s->drops[i] - before[i] != (i == (unsigned)why ? n : 0))
			return false;
	return true;
}

/* Idle, nothing held, and a good 60-byte frame goes through. */
static bool recovers(struct sim *s)
{
	unsigned d = s->delivered;
	uint32_t sz[] = {60};

	if (s->st.left || s->st.nsegs || s->st.len || s->st.drop || s->outstanding)
		return false;
	frame(s, 1, sz, 1, 0, 0, 0);
	return s->delivered == d + 1 && frame_is_pattern(s, 60) && !s->info.csum_partial &&
	       s->outstanding == 0;
}

static void test_good_frames(void)
{
	struct sim s;

	sim_init(&s, true, 12, true);
	uint32_t one[] = {60};
	frame(&s, 1, one, 1, 0, 0, 0);
	CHECK(s.delivered == 1 && frame_is_pattern(&s, 60) && s.frame_nsegs == 1 &&
		      total_drops(&s) == 0 && s.outstanding == 0,
	      "mrg: one 60-byte buffer is delivered whole, header skipped");

	uint32_t three[] = {1000, 300, 200};
	frame(&s, 3, three, 3, 0, 0, 0);
	CHECK(s.delivered == 2 && frame_is_pattern(&s, 1500) && s.frame_nsegs == 3 &&
		      total_drops(&s) == 0 && s.outstanding == 0,
	      "mrg: num_buffers 3 assembles 1500 bytes from three buffers, in order");

	uint32_t six[] = {300, 300, 300, 300, 300, 18};
	frame(&s, 6, six, 6, 0, 0, 0);
	CHECK(s.delivered == 3 && frame_is_pattern(&s, MAX_FRAME) && s.frame_nsegs == MAX_SEGS &&
		      total_drops(&s) == 0,
	      "mrg: max_segs pieces making exactly max_frame (%u) bytes are delivered", MAX_FRAME);

	uint32_t eth[] = {ETH_HLEN};
	frame(&s, 1, eth, 1, 0, 0, 0);
	CHECK(s.delivered == 4 && frame_is_pattern(&s, ETH_HLEN) && total_drops(&s) == 0,
	      "a frame of exactly ETH_HLEN bytes is delivered");

	uint32_t empty_tail[] = {100, 0};
	frame(&s, 2, empty_tail, 2, 0, 0, 0);
	CHECK(s.delivered == 5 && frame_is_pattern(&s, 100) && s.frame_nsegs == 2 &&
		      total_drops(&s) == 0 && s.outstanding == 0,
	      "an empty continuation buffer is a piece of 0 bytes, not an error");

	/* num_buffers may name every buffer of the ring. */
	struct sim big;
	sim_init(&big, true, 12, true);
	big.p.nbufs = 4;
	big.p.max_segs = 4;
	uint32_t four[] = {20, 20, 20, 20};
	frame(&big, 4, four, 4, 0, 0, 0);
	CHECK(big.delivered == 1 && frame_is_pattern(&big, 80) && total_drops(&big) == 0,
	      "num_buffers equal to the ring size is accepted");
}

static void test_legacy_headers(void)
{
	struct sim s;
	uint32_t sz[] = {60};

	/* 10-byte header: no num_buffers field; the buffer holds exactly
	 * 10 + 60 bytes, so reading a 12-byte header would be an overread. */
	sim_init(&s, false, 10, true);
	frame(&s, 0, sz, 1, 0, 0, 0);
	CHECK(s.delivered == 1 && frame_is_pattern(&s, 60) && total_drops(&s) == 0,
	      "10-byte header without MRG_RXBUF: one buffer per frame");
	uint32_t len;
	uint8_t *b = first_buf(&s, 0, 0, 0, 0, 0, 0, &len);
	feed(&s, b, len, false);
	CHECK(s.drops[NETDEV_DROP_RUNT] == 1 && total_drops(&s) == 1 && recovers(&s),
	      "10-byte header, no frame after it: runt, header read within the 10 bytes");

	/* VERSION_1 without MRG_RXBUF: 12 bytes, num_buffers ignored. */
	sim_init(&s, false, 12, true);
	frame(&s, 0, sz, 1, 0, 0, 0);
	frame(&s, 7, sz, 1, 0, 0, 0);
	CHECK(s.delivered == 2 && total_drops(&s) == 0 && s.st.left == 0,
	      "12-byte header without MRG_RXBUF: num_buffers (0, 7) is not looked at");
}

static void test_short_header(void)
{
	struct sim s;
	uint64_t before[NETDEV_DROP_COUNT];

	sim_init(&s, true, 12, true);
	for (uint32_t len = 0; len < 12; len++) {
		memcpy(before, s.drops, sizeof before);
		feed(&s, data_buf(len, 0), len, false);
		if (!CHECK(only_drop(&s, before, NETDEV_DROP_SHORT_HDR, 1) && recovers(&s),
			   "used length %u below the 12-byte header: short-header, buffer back",
			   len))
			return;
	}
	sim_init(&s, false, 10, true);
	feed(&s, data_buf(9, 0), 9, false);
	CHECK(s.drops[NETDEV_DROP_SHORT_HDR] == 1 && total_drops(&s) == 1 && recovers(&s),
	      "used length 9 below the 10-byte header: short-header");
}

static void test_clamped(void)
{
	struct sim s;
	uint64_t before[NETDEV_DROP_COUNT];
	uint32_t len;

	sim_init(&s, true, 12, true);
	/* The ring clamped the used length to the posted 2048 bytes: the
	 * header says one buffer, but the frame went beyond it. */
	uint8_t *b = first_buf(&s, 1, 0, 0, 0, 2036, 0, &len);
	memcpy(before, s.drops, sizeof before);
	feed(&s, b, len, true);
	CHECK(only_drop(&s, before, NETDEV_DROP_TOO_LONG, 1) && s.delivered == 0 && recovers(&s),
	      "first buffer longer than posted: too-long, released at once");

	/* A clamped first buffer whose header claims more buffers: the
	 * header is not trusted, and the next buffer starts a new frame. */
	b = first_buf(&s, 3, 0, 0, 0, 2036, 0, &len);
	feed(&s, b, len, true);
	CHECK(s.st.left == 0 && s.drops[NETDEV_DROP_TOO_LONG] == 2 && recovers(&s),
	      "clamped first buffer: its num_buffers is ignored");

	/* A clamped continuation: counted once; the frame's other buffers
	 * still belong to it and are dropped without a second count. */
	memcpy(before, s.drops, sizeof before);
	unsigned d = s.delivered;
	b = first_buf(&s, 3, 0, 0, 0, 100, 0, &len);
	feed(&s, b, len, false);
	feed(&s, data_buf(2048, 0), 2048, true);
	CHECK(s.st.left == 1 && s.st.drop && s.outstanding == 2,
	      "clamped continuation: frame marked dropped, pieces still held");
	feed(&s, data_buf(50, 0), 50, false);
	CHECK(only_drop(&s, before, NETDEV_DROP_TOO_LONG, 1) && s.delivered == d &&
		      s.dropped_frames == 1 && recovers(&s),
	      "clamped continuation: one too-long for the frame, all buffers back");

	/* Two clamped continuations: still one count. */
	memcpy(before, s.drops, sizeof before);
	b = first_buf(&s, 3, 0, 0, 0, 100, 0, &len);
	feed(&s, b, len, false);
	feed(&s, data_buf(2048, 0), 2048, true);
	feed(&s, data_buf(2048, 0), 2048, true);
	CHECK(only_drop(&s, before, NETDEV_DROP_TOO_LONG, 1) && recovers(&s),
	      "two clamped continuations of one frame: counted once");
}

static void test_bad_merge(void)
{
	struct sim s;
	uint64_t before[NETDEV_DROP_COUNT];
	uint32_t len;
	static const uint16_t bad[] = {0, RING + 1, 0xffff};

	sim_init(&s, true, 12, true);
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(before, s.drops, sizeof before);
		uint8_t *b = first_buf(&s, bad[i], 0, 0, 0, 60, 0, &len);
		feed(&s, b, len, false);
		CHECK(only_drop(&s, before, NETDEV_DROP_BAD_MERGE, 1) && s.delivered == 0 &&
			      recovers(&s),
		      "num_buffers %u (ring of %u): bad-merge, buffer back, next frame fine",
		      bad[i], RING);
		s.delivered = 0;
	}
}

static void test_too_many_pieces(void)
{
	struct sim s;
	uint64_t before[NETDEV_DROP_COUNT];
	uint32_t len;

	/* Ten small pieces (1000 bytes in all, under max_frame) but more
	 * than the driver can hold: the frame cannot be handed up. */
	sim_init(&s, true, 12, true);
	memcpy(before, s.drops, sizeof before);
	uint8_t *b = first_buf(&s, 10, 0, 0, 0, 100, 0, &len);
	feed(&s, b, len, false);
	for (unsigned i = 1; i < 10; i++) {
		feed(&s, data_buf(100, 0), 100, false);
		if (i == MAX_SEGS)
			CHECK(s.st.drop && s.outstanding == MAX_SEGS,
			      "piece %u of a frame beyond max_segs (%u): released at once", i + 1,
			      MAX_SEGS);
	}
	CHECK(only_drop(&s, before, NETDEV_DROP_TOO_LONG, 1) && s.delivered == 0 &&
		      s.dropped_frames == 1 && !s.bad_seg && recovers(&s),
	      "10 pieces, %u held: one too-long, every buffer back once", MAX_SEGS);

	/* A clamped piece after the overflow: still one count. */
	memcpy(before, s.drops, sizeof before);
	b = first_buf(&s, 8, 0, 0, 0, 100, 0, &len);
	feed(&s, b, len, false);
	for (unsigned i = 1; i < 8; i++)
		feed(&s, data_buf(100, 0), 100, i == 7);
	CHECK(only_drop(&s, before, NETDEV_DROP_TOO_LONG, 1) && recovers(&s),
	      "overflow then a clamped piece: counted once");
}

static void test_frame_length(void)
{
	struct sim s;
	uint64_t before[NETDEV_DROP_COUNT];

	sim_init(&s, true, 12, true);
	uint32_t over[] = {300, 300, 300, 300, 300, 19};
	memcpy(before, s.drops, sizeof before);
	frame(&s, 6, over, 6, 0, 0, 0);
	CHECK(only_drop(&s, before, NETDEV_DROP_TOO_LONG, 1) && s.delivered == 0 && recovers(&s),
	      "merged frame of max_frame + 1 (%u) bytes: too-long", MAX_FRAME + 1);

	uint32_t big[] = {2036, 2048};
	memcpy(before, s.drops, sizeof before);
	frame(&s, 2, big, 2, 0, 0, 0);
	CHECK(only_drop(&s, before, NETDEV_DROP_TOO_LONG, 1) && recovers(&s),
	      "two full mergeable buffers (4084 bytes): too-long");

	/* Without MRG_RXBUF one big buffer holds a frame beyond the MTU. */
	sim_init(&s, false, 12, true);
	uint32_t one[] = {MAX_FRAME + 1};
	frame(&s, 0, one, 1, 0, 0, 0);
	CHECK(s.drops[NETDEV_DROP_TOO_LONG] == 1 && total_drops(&s) == 1 && recovers(&s),
	      "single buffer of max_frame + 1 bytes: too-long");

	sim_init(&s, true, 12, true);
	for (uint32_t n = 0; n < ETH_HLEN; n++) {
		uint32_t sz[] = {n};
		memcpy(before, s.drops, sizeof before);
		frame(&s, 1, sz, 1, 0, 0, 0);
		if (!CHECK(only_drop(&s, before, NETDEV_DROP_RUNT, 1) && recovers(&s),
			   "frame of %u bytes (below ETH_HLEN): runt", n))
			return;
	}
	/* A runt spread over two buffers is still a runt. */
	uint32_t split[] = {6, 7};
	memcpy(before, s.drops, sizeof before);
	frame(&s, 2, split, 2, 0, 0, 0);
	CHECK(only_drop(&s, before, NETDEV_DROP_RUNT, 1) && recovers(&s),
	      "13 bytes over two buffers: runt");
}

static void test_csum(void)
{
	struct sim s;
	uint64_t before[NETDEV_DROP_COUNT];
	uint32_t sz[] = {100};

	sim_init(&s, true, 12, true);
	/* The checksum's two bytes end exactly at the frame's end. */
	frame(&s, 1, sz, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 64);
	CHECK(s.delivered == 1 && s.info.csum_partial && s.info.csum_start == 34 &&
		      s.info.csum_offset == 64 && total_drops(&s) == 0,
	      "NEEDS_CSUM, start + offset + 2 == length: delivered with the offsets");
	frame(&s, 1, sz, 1, 0, 34, 64);
	CHECK(s.delivered == 2 && !s.info.csum_partial,
	      "the next frame without NEEDS_CSUM carries no stale offsets");
	frame(&s, 1, sz, 1, VIRTIO_NET_HDR_F_DATA_VALID, 500, 500);
	CHECK(s.delivered == 3 && !s.info.csum_partial && total_drops(&s) == 0,
	      "DATA_VALID alone: nothing to complete, offsets not checked");

	static const uint16_t bad[][2] = {{34, 65}, {99, 0}, {0, 99}, {0xffff, 0xffff}};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(before, s.drops, sizeof before);
		unsigned d = s.delivered;
		frame(&s, 1, sz, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, bad[i][0], bad[i][1]);
		CHECK(only_drop(&s, before, NETDEV_DROP_BAD_CSUM_OFF, 1) && s.delivered == d &&
			      recovers(&s),
		      "NEEDS_CSUM start %u offset %u in a 100-byte frame: bad-csum", bad[i][0],
		      bad[i][1]);
	}

	/* Across merged buffers the whole frame's length counts. */
	uint32_t two[] = {40, 60};
	frame(&s, 2, two, 2, VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 64);
	CHECK(s.info.csum_partial && frame_is_pattern(&s, 100) && s.frame_nsegs == 2,
	      "NEEDS_CSUM offsets beyond the first buffer but inside the merged frame: fine");

	/* Without GUEST_CSUM the flag means nothing (5.1.6.4.1). */
	sim_init(&s, true, 12, false);
	frame(&s, 1, sz, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0xffff, 0xffff);
	CHECK(s.delivered == 1 && !s.info.csum_partial && total_drops(&s) == 0,
	      "NEEDS_CSUM without GUEST_CSUM: ignored, frame delivered");
}

/* A reset device or a driver that saw a broken ring may stop mid-frame. */
static void test_reset_mid_frame(void)
{
	struct sim s;
	uint32_t len;

	sim_init(&s, true, 12, true);
	uint8_t *b = first_buf(&s, 3, 0, 0, 0, 100, 0, &len);
	feed(&s, b, len, false);
	CHECK(s.st.left == 2 && s.st.nsegs == 1, "a frame waiting for 2 more buffers");
	for (unsigned i = 0; i < s.st.nsegs; i++)
		release(&s, s.held[i]);
	vnet_rx_reset(&s.st);
	CHECK(recovers(&s), "vnet_rx_reset forgets it: the next buffer is a header again");
}

int main(void)
{
	test_good_frames();
	test_legacy_headers();
	test_short_header();
	test_clamped();
	test_bad_merge();
	test_too_many_pieces();
	test_frame_length();
	test_csum();
	test_reset_mid_frame();
	return tap_done();
}
