/*
 * Host tests of the virtqueue API (virtio/virtqueue.c) over both ring
 * layouts, the split ring (virtio/ring/ring_split.c, virtio 1.2 section 2.7) and
 * the packed ring (virtio/ring/ring_packed.c, section 2.8), against the
 * simulated device of vring_sim.c: one suite, run for each layout with and
 * without event index and indirect descriptors. Every wrapper, notification
 * suppression (2.7.7, 2.7.10, 2.8.10), direct and indirect chains (2.7.5.3,
 * 2.8.6, 2.8.7), a full ring, 16-bit index wrap and packed wrap counters
 * flipping tens of thousands of times, out-of-order completion (IN_ORDER is
 * not negotiated, so any order is legal), detach, break/unbreak, resize, a
 * seeded random run, and a hostile device.
 *
 * The random run prints its seed; replay one with VQ_SEED=N.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "vq_fixture.h"

static void test_scatterlist(void)
{
	struct scatterlist a[3], b[2], one;
	char x[4], y[8], z[16], w[32];
	unsigned n = 0, bytes = 0;

	sg_init_one(&one, x, sizeof(x));
	CHECK(one.buf == x && one.length == 4 && sg_next(&one) == NULL,
	      "sg_init_one: one entry of 4 bytes, then the end");

	sg_init_table(a, 3);
	sg_set_buf(&a[0], x, sizeof(x));
	sg_set_buf(&a[1], y, sizeof(y));
	sg_init_table(b, 2);
	sg_set_buf(&b[0], z, sizeof(z));
	sg_set_buf(&b[1], w, sizeof(w));
	sg_chain(a, 3, b);
	for (struct scatterlist *s = a; s; s = sg_next(s)) {
		n++;
		bytes += s->length;
	}
	CHECK(n == 4 && bytes == 60,
	      "sg_chain: 2 + 2 entries through a link (%u entries, %u bytes)", n, bytes);
	sg_mark_end(&a[0]);
	CHECK(sg_next(&a[0]) == NULL, "sg_mark_end ends the list early");
}

/* One out buffer and one in buffer each way round; checks data, length,
 * kick, interrupt and callback. */
static void test_roundtrip(uint64_t feat)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char out[32] = "hello, device", in[64] = {0}, seen[32] = {0};
	unsigned len = 0;
	int tok_out, tok_in;

	fx_init(&f, 8, feat);
	sg_init_one(&sg, out, sizeof(out));
	CHECK(virtqueue_add_outbuf(f.vq, &sg, 1, &tok_out) == 0, "[%s] add_outbuf", fx_name(feat));
	sg_init_one(&sg, in, sizeof(in));
	CHECK(virtqueue_add_inbuf(f.vq, &sg, 1, &tok_in) == 0, "[%s] add_inbuf", fx_name(feat));
	CHECK(f.vq->num_free == 6 && f.vq->stats.added == 2, "[%s] two descriptors in use",
	      fx_name(feat));
	CHECK(virtqueue_kick(f.vq) && f.notifies == 1 && f.vq->stats.kicks == 1,
	      "[%s] kick rings the doorbell once", fx_name(feat));

	CHECK(sim_pop(&f.dev, &r) == 0 && r.nseg == 1 && !r.seg[0].write && r.out_len == 32,
	      "[%s] device sees a 32-byte readable buffer", fx_name(feat));
	sim_read(&r, seen, sizeof(seen));
	CHECK(memcmp(seen, out, sizeof(out)) == 0, "[%s] device reads the driver's bytes",
	      fx_name(feat));
	sim_push(&f.dev, r.head, 0);
	CHECK(sim_pop(&f.dev, &r) == 0 && r.nseg == 1 && r.seg[0].write && r.in_len == 64,
	      "[%s] device sees a 64-byte writable buffer", fx_name(feat));
	sim_push(&f.dev, r.head, sim_fill(&r, 0xab, 40));
	CHECK(sim_pop(&f.dev, &r) == -EAGAIN, "[%s] nothing else available", fx_name(feat));
	CHECK(sim_need_interrupt(&f.dev), "[%s] device must interrupt", fx_name(feat));

	CHECK(vring_interrupt(f.vq) && f.callbacks == 1, "[%s] vring_interrupt runs the callback",
	      fx_name(feat));
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok_out && len == 0, "[%s] out token, len 0",
	      fx_name(feat));
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok_in && len == 40, "[%s] in token, len 40 (%u)",
	      fx_name(feat), len);
	CHECK(in[0] == (char)0xab && in[39] == (char)0xab && in[40] == 0,
	      "[%s] device's 40 bytes landed in the buffer", fx_name(feat));
	CHECK(virtqueue_get_buf(f.vq, &len) == NULL, "[%s] then nothing", fx_name(feat));
	CHECK(!vring_interrupt(f.vq) && f.callbacks == 1 && f.vq->stats.spurious == 1,
	      "[%s] an interrupt with nothing used is not ours", fx_name(feat));
	CHECK(f.vq->num_free == 8 && f.vq->stats.completed == 2, "[%s] all descriptors free",
	      fx_name(feat));
	CHECK(virtqueue_get_vring_size(f.vq) == 8, "[%s] get_vring_size", fx_name(feat));
	CHECK(fx_fini(&f) == 0 && dma_host_outstanding == f.dma_before,
	      "[%s] nothing left, nothing leaked", fx_name(feat));
}

/* header (out) + data (out, 2 entries) + status (in): three lists. */
static void test_add_sgs_chains(uint64_t feat)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist hdr, data[2], status;
	struct scatterlist *sgs[3] = {&hdr, data, &status};
	char h[16], d0[512], d1[512], st = 0;
	unsigned len;
	int tok;
	bool indirect = feat & F_INDIRECT;

	fx_init(&f, 8, feat);
	sg_init_one(&hdr, h, sizeof(h));
	sg_init_table(data, 2);
	sg_set_buf(&data[0], d0, sizeof(d0));
	sg_set_buf(&data[1], d1, sizeof(d1));
	sg_init_one(&status, &st, 1);
	CHECK(virtqueue_add_sgs(f.vq, sgs, 2, 1, &tok) == 0, "[%s] add_sgs of 3 lists",
	      fx_name(feat));
	CHECK(f.vq->num_free == (indirect ? 7u : 4u), "[%s] %s chain uses %u descriptors (%u)",
	      fx_name(feat), indirect ? "indirect" : "direct", indirect ? 1 : 4,
	      8 - f.vq->num_free);
	CHECK(f.vq->stats.indirect == (indirect ? 1u : 0u), "[%s] indirect counter", fx_name(feat));
	CHECK(sim_pop(&f.dev, &r) == 0 && r.indirect == indirect && r.nseg == 4,
	      "[%s] device sees 4 segments (%s)", fx_name(feat), f.dev.error);
	CHECK(r.seg[0].buf == h && r.seg[1].buf == d0 && r.seg[2].buf == d1 && r.seg[3].buf == &st,
	      "[%s] in the order given", fx_name(feat));
	CHECK(!r.seg[2].write && r.seg[3].write && r.out_len == 1040 && r.in_len == 1,
	      "[%s] readable before writable", fx_name(feat));
	sim_push(&f.dev, r.head, 1);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok && len == 1 && f.vq->num_free == 8,
	      "[%s] comes back, descriptors freed", fx_name(feat));
	CHECK(fx_fini(&f) == 0 && dma_host_outstanding == f.dma_before, "[%s] indirect table freed",
	      fx_name(feat));
}

static void test_inbuf_ctx(uint64_t layout)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char buf[8];
	unsigned len;
	void *ctx = NULL;
	int tok, c;

	fx_init(&f, 4, layout);
	sg_init_one(&sg, buf, sizeof(buf));
	virtqueue_add_inbuf_ctx(f.vq, &sg, 1, &tok, &c);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 8);
	CHECK(virtqueue_get_buf_ctx(f.vq, &len, &ctx) == &tok && ctx == &c && len == 8,
	      "[%s] get_buf_ctx returns the token and ctx given to add_inbuf_ctx",
	      virtqueue_layout(f.vq));
	fx_fini(&f);
}

static void test_ring_full(uint64_t feat)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg[3];
	char buf[8][16];
	int tok[9];
	unsigned len, back = 0, mask = 0;
	void *t;

	fx_init(&f, 8, feat);
	for (int i = 0; i < 8; i++) {
		sg_init_one(sg, buf[i], 16);
		if (virtqueue_add_inbuf(f.vq, sg, 1, &tok[i]))
			break;
	}
	sg_init_one(sg, buf[0], 16);
	CHECK(virtqueue_add_inbuf(f.vq, sg, 1, &tok[8]) == -ENOSPC && f.vq->stats.full == 1,
	      "[%s] ninth add into a ring of 8: -ENOSPC", fx_name(feat));
	sg_init_table(sg, 3);
	for (int i = 0; i < 3; i++)
		sg_set_buf(&sg[i], buf[i], 16);
	CHECK(virtqueue_add_outbuf(f.vq, sg, 3, &tok[8]) == -ENOSPC, "[%s] a three-buffer add too",
	      fx_name(feat));
	CHECK(virtqueue_add_outbuf(f.vq, sg, 3, NULL) == -EINVAL, "[%s] NULL token: -EINVAL",
	      fx_name(feat));
	virtqueue_kick(f.vq);
	while (sim_pop(&f.dev, &r) == 0)
		sim_push(&f.dev, r.head, 16);
	while ((t = virtqueue_get_buf(f.vq, &len))) {
		back++;
		mask |= 1u << ((int *)t - tok);
	}
	CHECK(back == 8 && mask == 0xff, "[%s] all eight tokens come back (%u, mask %#x)",
	      fx_name(feat), back, mask);
	CHECK(virtqueue_add_outbuf(f.vq, sg, 3, &tok[8]) == 0, "[%s] room again", fx_name(feat));
	fx_fini(&f);

	/* A chain longer than the ring is never valid (2.7.5.3.1). */
	{
		struct scatterlist big[5];

		fx_init(&f, 4, feat);
		sg_init_table(big, 5);
		for (int i = 0; i < 5; i++)
			sg_set_buf(&big[i], buf[i], 16);
		CHECK(virtqueue_add_outbuf(f.vq, big, 5, &tok[0]) == -EINVAL,
		      "[%s] 5 buffers into a ring of 4: -EINVAL", fx_name(feat));
		fx_fini(&f);
	}
}

static void test_kick_suppression(uint64_t feat)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok[4];
	bool event = feat & F_EVENT;

	fx_init(&f, 8, feat);
	sg_init_one(&sg, b, 4);
	/* A fresh device wants every notification. */
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[0]);
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] fresh ring: kick needed", fx_name(feat));
	CHECK(virtqueue_notify(f.vq) && f.notifies == 1, "[%s] notify rings the doorbell",
	      fx_name(feat));
	/* The device asks for no notifications while it is busy. */
	sim_want_kicks(&f.dev, false);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[1]);
	CHECK(!virtqueue_kick_prepare(f.vq) && f.vq->stats.kicks_suppressed == 1,
	      "[%s] device said no: kick suppressed", fx_name(feat));
	virtqueue_kick(f.vq);
	CHECK(f.notifies == 1, "[%s] kick() did not notify either", fx_name(feat));
	/* The device catches up, then wants notifications again: it asks
	 * at its current position. */
	while (sim_pop(&f.dev, &r) == 0)
		sim_push(&f.dev, r.head, 0);
	CHECK(!sim_want_kicks(&f.dev, true), "[%s] device caught up", fx_name(feat));
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[2]);
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] device asked again: kick", fx_name(feat));
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[3]);
	/* With event index the device asked for one notification when the
	 * avail index passed 0; it passed it already, so no second one.
	 * With flags, the device gets one per kick. */
	CHECK(virtqueue_kick_prepare(f.vq) == !event, "[%s] second kick %s", fx_name(feat),
	      event ? "suppressed by avail_event" : "sent (flags clear)");
	fx_fini(&f);
}

/*
 * With event index the device asks for one kick at an index (avail_event,
 * packed off_wrap), then re-reads the ring, and sleeps if it finds nothing.
 * The driver publishes, then reads the wish. The two full barriers make
 * sure one side sees the other; when the driver's does not work (QEMU
 * 7.2's TCG drops a single vCPU's fences) both read stale values: the
 * driver the wish before it landed, the device the index before ours. The
 * device then waits at an index we passed without kicking. A kick_prepare
 * that only looks at what was added since the previous one never kicks
 * again (the next window starts past the wish) and the queue stalls for
 * good; the transmit queue did, under iperf. Here the device's re-read is
 * made to miss on purpose.
 */
static void test_stale_kick_wish(uint64_t feat)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok[4];

	fx_init(&f, 8, feat);
	sg_init_one(&sg, b, 4);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[0]);
	virtqueue_kick(f.vq);
	/* Busy: the device does not want kicks while it works. */
	sim_want_kicks(&f.dev, false);
	CHECK(sim_pop(&f.dev, &r) == 0, "[%s] device pops the first buffer", fx_name(feat));
	sim_push(&f.dev, r.head, 0);
	/* We publish the second buffer and read the old wish: no kick. */
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[1]);
	CHECK(!virtqueue_kick_prepare(f.vq), "[%s] device still busy: no kick", fx_name(feat));
	/* The device, done, asks for a kick at its position (the second
	 * buffer's) and re-reads the ring: stale, it sees nothing and
	 * sleeps (the return value is what a correct re-read would find). */
	CHECK(sim_want_kicks(&f.dev, true), "[%s] (a fenced re-read would find the buffer)",
	      fx_name(feat));
	/* The poll loop asks again with nothing added: the wish is for a
	 * buffer we published and never kicked about. */
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] nothing added: kick for the missed wish",
	      fx_name(feat));
	CHECK(!virtqueue_kick_prepare(f.vq), "[%s] once", fx_name(feat));

	/* The same through a later add: its window starts where we last
	 * kicked, so it covers the wish read stale before. */
	while (sim_pop(&f.dev, &r) == 0)
		sim_push(&f.dev, r.head, 0);
	sim_want_kicks(&f.dev, false);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[2]);
	CHECK(!virtqueue_kick_prepare(f.vq), "[%s] busy again: no kick", fx_name(feat));
	sim_want_kicks(&f.dev, true);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[3]);
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] next add kicks for the missed wish",
	      fx_name(feat));
	fx_fini(&f);
}

static void push_one(struct fixture *f)
{
	struct sim_req r;

	if (sim_pop(&f->dev, &r) == 0)
		sim_push(&f->dev, r.head, 0);
}

static void test_interrupt_suppression(uint64_t feat)
{
	struct fixture f;
	struct scatterlist sg;
	char b[4];
	int tok[16];
	unsigned len, last;
	bool event = feat & F_EVENT, irq[8];

	fx_init(&f, 16, feat);
	sg_init_one(&sg, b, 4);
	for (int i = 0; i < 8; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	push_one(&f);
	CHECK(sim_need_interrupt(&f.dev), "[%s] callbacks on: device interrupts", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);
	/* get_buf keeps used_event moving: the next one interrupts too. */
	push_one(&f);
	CHECK(sim_need_interrupt(&f.dev), "[%s] callbacks stay on across get_buf", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);

	virtqueue_disable_cb(f.vq);
	if (!event)
		CHECK(sim_driver_irq_off(&f.dev), "[%s] disable_cb sets NO_INTERRUPT / DISABLE",
		      fx_name(feat));
	push_one(&f);
	CHECK(!sim_need_interrupt(&f.dev), "[%s] disabled: no interrupt", fx_name(feat));
	CHECK(!virtqueue_enable_cb(f.vq), "[%s] enable_cb with one pending returns false",
	      fx_name(feat));
	virtqueue_get_buf(f.vq, &len);
	CHECK(virtqueue_enable_cb(f.vq), "[%s] enable_cb with none pending returns true",
	      fx_name(feat));
	if (!event)
		CHECK(!sim_driver_irq_off(&f.dev), "[%s] enable_cb clears NO_INTERRUPT / DISABLE",
		      fx_name(feat));
	else
		CHECK(sim_driver_event(&f.dev) == 3,
		      "[%s] enable_cb sets used_event / off_wrap to 3 (%u)", fx_name(feat),
		      sim_driver_event(&f.dev));
	push_one(&f);
	CHECK(sim_need_interrupt(&f.dev), "[%s] enabled again: interrupt", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);

	/* prepare + poll: the opaque position catches a buffer used in
	 * between. */
	last = virtqueue_enable_cb_prepare(f.vq);
	CHECK(!virtqueue_poll(f.vq, last), "[%s] poll: nothing yet", fx_name(feat));
	push_one(&f);
	CHECK(virtqueue_poll(f.vq, last), "[%s] poll sees the used buffer", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);
	sim_need_interrupt(&f.dev);

	/* 3 outstanding, plus 5 more: 8. enable_cb_delayed asks for the
	 * interrupt after 3/4 of them (event index) or the next (flags). */
	for (int i = 8; i < 13; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	virtqueue_disable_cb(f.vq);
	CHECK(virtqueue_enable_cb_delayed(f.vq), "[%s] enable_cb_delayed with none used: true",
	      fx_name(feat));
	for (int i = 0; i < 8; i++) {
		push_one(&f);
		irq[i] = sim_need_interrupt(&f.dev);
	}
	if (event)
		CHECK(!irq[0] && !irq[5] && irq[6] && !irq[7],
		      "[%s] delayed: the interrupt comes with the 7th of 8 used (%d%d%d%d%d%d%d%d)",
		      fx_name(feat), irq[0], irq[1], irq[2], irq[3], irq[4], irq[5], irq[6],
		      irq[7]);
	else
		CHECK(irq[0] && irq[7], "[%s] delayed without event index: every one interrupts",
		      fx_name(feat));
	fx_fini(&f);
}

/* The device completes in its own order; each token comes back once with
 * the length the device gave it. */
static void test_out_of_order(uint64_t feat)
{
	struct fixture f;
	struct sim_req r[16];
	struct scatterlist sg;
	char buf[16][64];
	unsigned len, order[16], ok = 0;
	void *t;

	fx_init(&f, 16, feat);
	for (int i = 0; i < 16; i++) {
		sg_init_one(&sg, buf[i], 64);
		virtqueue_add_inbuf(f.vq, &sg, 1, buf[i]);
	}
	for (int i = 0; i < 16; i++)
		sim_pop(&f.dev, &r[i]);
	for (int i = 0; i < 16; i++)
		order[i] = (unsigned)(i * 7) % 16; /* a permutation */
	for (int i = 0; i < 16; i++)
		sim_push(&f.dev, r[order[i]].head, order[i] + 1);
	for (int i = 0; i < 16; i++) {
		t = virtqueue_get_buf(f.vq, &len);
		if (t == buf[order[i]] && len == order[i] + 1)
			ok++;
	}
	CHECK(ok == 16 && virtqueue_get_buf(f.vq, &len) == NULL,
	      "[%s] 16 completions in device order, right tokens and lengths (%u)", fx_name(feat),
	      ok);
	fx_fini(&f);
}

/* Far past 65536 so both free-running indices wrap, in a small ring so
 * each slot is reused thousands of times; a packed ring of 3 (no power of
 * two) flips both wrap counters tens of thousands of times. */
static void test_wrap(uint64_t feat)
{
	bool packed = feat & F_PACKED;
	unsigned num = packed ? 3 : 4;
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg[2];
	char buf[4][2][8];
	unsigned len, bad = 0;
	const unsigned total = 150000;
	unsigned done = 0, added = 0;

	fx_init(&f, num, feat);
	while (done < total) {
		while (added - done < 4 && added < total) {
			unsigned s = added % 4;

			sg_init_table(sg, 2);
			sg_set_buf(&sg[0], buf[s][0], 8);
			sg_set_buf(&sg[1], buf[s][1], 8);
			/* Direct chains of 2 may not fit: wait for room. */
			if (virtqueue_add_inbuf(f.vq, sg, 1 + added % 2, buf[s]))
				break;
			added++;
		}
		if (added == done) {
			bad++;
			break;
		}
		virtqueue_kick(f.vq);
		while (sim_pop(&f.dev, &r) == 0)
			sim_push(&f.dev, r.head, r.in_len);
		while (done < added) {
			void *t = virtqueue_get_buf(f.vq, &len);

			if (!t)
				break;
			if (t != buf[done % 4] || len != (done % 2 ? 16u : 8u))
				bad++;
			done++;
		}
		if (f.dev.errors)
			break;
	}
	CHECK(bad == 0 && done == total && !f.dev.errors,
	      "[%s] %u buffers through a ring of 4, indices wrapped, all right (%u bad, %s)",
	      fx_name(feat), done, bad, f.dev.error);
	if (!packed) {
		CHECK(f.dev.vr.avail->idx == (uint16_t)total &&
			      f.dev.vr.used->idx == (uint16_t)total,
		      "[%s] avail and used idx are %u mod 65536", fx_name(feat), total);
	} else {
		/* Half the buffers take one slot, half two (one if indirect). */
		unsigned slots = total / 2 + total / 2 * ((feat & F_INDIRECT) ? 1 : 2);

		CHECK(f.dev.avail_laps == slots / num && f.dev.used_laps == slots / num &&
			      f.dev.avail_laps > 10000,
		      "[%s] both wrap counters flipped %u times (%u, %u)", fx_name(feat),
		      slots / num, f.dev.avail_laps, f.dev.used_laps);
	}
	fx_fini(&f);
}

static void test_detach(uint64_t feat)
{
	struct fixture f;
	struct sim_req r[3];
	struct scatterlist sg[2];
	char buf[10][2][8];
	unsigned len, seen[10] = {0}, dup = 0, n = 0;
	void *t;

	fx_init(&f, 32, feat);
	for (int i = 0; i < 10; i++) {
		sg_init_table(sg, 2);
		sg_set_buf(&sg[0], buf[i][0], 8);
		sg_set_buf(&sg[1], buf[i][1], 8);
		virtqueue_add_sgs(f.vq, (struct scatterlist *[]){sg}, 1, 0, buf[i]);
	}
	/* The device takes three and finishes two, then is reset. */
	for (int i = 0; i < 3; i++)
		sim_pop(&f.dev, &r[i]);
	sim_push(&f.dev, r[0].head, 0);
	sim_push(&f.dev, r[1].head, 0);
	for (int i = 0; i < 2; i++) {
		t = virtqueue_get_buf(f.vq, &len);
		if (t)
			seen[(char(*)[2][8])t - buf]++;
	}
	while ((t = virtqueue_detach_unused_buf(f.vq))) {
		unsigned i = (unsigned)((char(*)[2][8])t - buf);

		if (i >= 10 || seen[i]++)
			dup++;
		n++;
	}
	CHECK(n == 8 && dup == 0,
	      "[%s] detach returns the 8 unfinished tokens once each (%u, %u "
	      "dups)",
	      fx_name(feat), n, dup);
	CHECK(f.vq->num_free == 32 && virtqueue_detach_unused_buf(f.vq) == NULL,
	      "[%s] then NULL, every descriptor free", fx_name(feat));
	CHECK(fx_fini(&f) == 0 && dma_host_outstanding == f.dma_before,
	      "[%s] indirect tables of detached buffers freed", fx_name(feat));
}

static void test_break(uint64_t layout)
{
	const char *L = layout ? "packed" : "split";
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok, tok2;
	unsigned len;

	fx_init(&f, 4, layout);
	sg_init_one(&sg, b, 4);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	virtqueue_break(f.vq);
	CHECK(virtqueue_is_broken(f.vq), "[%s] break: is_broken", L);
	CHECK(virtqueue_add_outbuf(f.vq, &sg, 1, &tok2) == -EIO, "[%s] broken: add fails with -EIO",
	      L);
	CHECK(virtqueue_get_buf(f.vq, &len) == NULL, "[%s] broken: get_buf returns nothing", L);
	CHECK(!virtqueue_notify(f.vq) && f.notifies == 0, "[%s] broken: notify does not ring", L);
	CHECK(vring_interrupt(f.vq) && f.callbacks == 0,
	      "[%s] broken: interrupt is ours but no callback runs", L);
	virtqueue_unbreak(f.vq);
	CHECK(!virtqueue_is_broken(f.vq) && virtqueue_get_buf(f.vq, &len) == &tok,
	      "[%s] unbreak: the used buffer comes back", L);

	virtio_break_device(&f.vdev);
	CHECK(virtqueue_is_broken(f.vq), "[%s] virtio_break_device breaks the device's queues", L);
	__virtio_unbreak_device(&f.vdev);
	CHECK(!virtqueue_is_broken(f.vq), "[%s] __virtio_unbreak_device unbreaks them", L);

	f.notify_fails = true;
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok2);
	CHECK(!virtqueue_kick(f.vq) && virtqueue_is_broken(f.vq),
	      "[%s] a doorbell that fails breaks the queue", L);
	fx_fini(&f);
}

/* A transport that can reset one queue (2.6.1), for resize. */
static int resets, enables;

static int fake_disable_vq_and_reset(struct virtqueue *vq)
{
	resets++;
	return 0;
}

static int fake_enable_vq_after_reset(struct virtqueue *vq)
{
	enables++;
	return 0;
}

static const struct virtio_config_ops reset_ops = {
	.disable_vq_and_reset = fake_disable_vq_and_reset,
	.enable_vq_after_reset = fake_enable_vq_after_reset,
};

static unsigned recycled;

static void recycle(struct virtqueue *vq, void *buf)
{
	recycled++;
}

static void test_resize(uint64_t layout)
{
	const char *L = layout ? "packed" : "split";
	const struct virtqueue_ops *ops;
	/* 2.7 wants a power of two; 2.8 takes any size but 0. */
	unsigned bad = layout ? 0 : 6;
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok[8];
	unsigned len;
	struct virtqueue_ops no_resize_ops;

	resets = enables = 0;
	recycled = 0;
	fx_init(&f, 8, layout);
	ops = f.vq->ops;
	sg_init_one(&sg, b, 4);
	for (int i = 0; i < 3; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -EOPNOTSUPP,
	      "[%s] resize without queue reset: -EOPNOTSUPP", L);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok[0] && virtqueue_get_vring_size(f.vq) == 8,
	      "[%s] and the old ring keeps working", L);

	no_resize_ops = *f.vq->ops;
	no_resize_ops.resize = NULL;
	f.vq->ops = &no_resize_ops;
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -ENOENT, "[%s] ring without resize: -ENOENT",
	      L);
	f.vq->ops = ops;
	fx_fini(&f);

	/* A transport that can reset one queue is not enough: the feature
	 * must have been negotiated too (2.6.1). */
	fx_init_cfg(&f, 8, layout, &reset_ops);
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -EOPNOTSUPP && resets == 0,
	      "[%s] queue reset without VIRTIO_F_RING_RESET: -EOPNOTSUPP, device untouched", L);
	fx_fini(&f);

	/* Both, as the ring is created (features are final before queues
	 * are set up, 3.1.1); again two of three buffers outstanding. */
	fx_init_cfg(&f, 8, layout | VIRTIO_BIT(VIRTIO_F_RING_RESET), &reset_ops);
	for (int i = 0; i < 3; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok[0], "[%s] resizable ring works", L);
	CHECK(virtqueue_resize(f.vq, bad, recycle) == -EINVAL, "[%s] size %u: -EINVAL", L, bad);
	CHECK(virtqueue_resize(f.vq, 16, recycle) == -EINVAL, "[%s] beyond num_max: -EINVAL", L);
	dma_host_fail_after = 1;
	CHECK(virtqueue_resize(f.vq, 4, recycle) == -ENOMEM && resets == 0 &&
		      virtqueue_get_vring_size(f.vq) == 8,
	      "[%s] no memory: -ENOMEM, device untouched, old ring kept", L);
	CHECK(virtqueue_resize(f.vq, 4, recycle) == 0 && resets == 1 && enables == 1,
	      "[%s] resize to 4 resets and re-enables the queue", L);
	CHECK(recycled == 2 && virtqueue_get_vring_size(f.vq) == 4 && f.vq->num_free == 4,
	      "[%s] the two outstanding buffers were recycled; 4 free descriptors", L);
	sim_init(&f.dev, f.vq);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[5]);
	sim_pop(&f.dev, &r);
	sim_push(&f.dev, r.head, 0);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok[5], "[%s] the new ring works", L);
	CHECK(fx_fini(&f) == 0 && dma_host_outstanding == f.dma_before, "[%s] old ring freed", L);
}

/* Where the three parts live (2.7: alignment 16 / 2 / 4; legacy wants
 * the used ring on the transport's boundary, the block page aligned). */
static struct virtqueue *split_ring(unsigned index, unsigned num, unsigned align, const char *name)
{
	const struct vring_params p = {
		.index = index, .num = num, .align = align, .notify = fx_notify, .name = name};

	return vring_create_virtqueue_split(&p);
}

static void test_layout(void)
{
	struct virtqueue *vq;
	uint64_t d, a, u;

	vq = split_ring(3, 256, 0, "modern");
	d = virtqueue_get_desc_addr(vq);
	a = virtqueue_get_avail_addr(vq);
	u = virtqueue_get_used_addr(vq);
	CHECK(vq->index == 3 && d % 16 == 0 && a == d + 16 * 256 && u % 4 == 0 &&
		      u >= a + vring_avail_size(256),
	      "modern layout: desc 16-aligned, avail after it, used 4-aligned after avail");
	vring_del_virtqueue(vq);
	vq = split_ring(0, 64, 4096, "legacy");
	d = virtqueue_get_desc_addr(vq);
	u = virtqueue_get_used_addr(vq);
	CHECK(d % 4096 == 0 && u % 4096 == 0 && u - d == 4096,
	      "legacy layout: one page-aligned block, used ring on the next page");
	vring_del_virtqueue(vq);
	CHECK(split_ring(0, 48, 0, "bad") == NULL && split_ring(0, 65536, 0, "bad") == NULL,
	      "sizes that are not a power of two up to 32768 are refused");
}

/* The packed layout (2.8): descriptor ring 16-aligned, driver and device
 * event suppression areas 4-aligned after it; any size from 1 to 32768. */
static void test_layout_packed(void)
{
	struct virtio_device vdev = {.features = F_PACKED};
	struct virtqueue *vq;
	uint64_t d, drv, dev;

	vq = vring_create_virtqueue(2, 100, 0, &vdev, fx_notify, NULL, "packed");
	CHECK(vq && !strcmp(virtqueue_layout(vq), "packed") && virtqueue_get_vring_size(vq) == 100,
	      "packed: a ring of 100 (no power of two) through the core's constructor");
	d = virtqueue_get_desc_addr(vq);
	drv = virtqueue_get_avail_addr(vq);
	dev = virtqueue_get_used_addr(vq);
	CHECK(d % 16 == 0 && drv == d + 16 * 100 && drv % 4 == 0 && dev == drv + 4,
	      "packed layout: desc ring 16-aligned, driver then device event areas 4-aligned");
	vring_del_virtqueue(vq);
	CHECK(vring_create_virtqueue(0, 0, 0, &vdev, fx_notify, NULL, "bad") == NULL &&
		      vring_create_virtqueue(0, 32769, 0, &vdev, fx_notify, NULL, "bad") == NULL,
	      "packed sizes 0 and 32769 are refused");
	vq = vring_create_virtqueue(0, 32768, 0, &vdev, fx_notify, NULL, "max");
	CHECK(vq && virtqueue_get_vring_size(vq) == 32768, "packed size 32768 is accepted");
	if (vq)
		vring_del_virtqueue(vq);
	CHECK(vring_queue_size(&vdev, 1000, 256) == 256 && vring_queue_size(&vdev, 100, 256) == 100,
	      "packed queue size: the device maximum as it is, capped");
	vdev.features = 0;
	CHECK(vring_queue_size(&vdev, 100, 256) == 64 && vring_queue_size(&vdev, 1000, 256) == 256,
	      "split queue size: a power of two");
}

/* The indirect table cannot be allocated: fall back to a direct chain. */
static void test_indirect_fallback(uint64_t layout)
{
	const char *L = layout ? "packed" : "split";
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg[3];
	char b[3][4];
	int tok;
	unsigned len;

	fx_init(&f, 8, F_INDIRECT | layout);
	sg_init_table(sg, 3);
	for (int i = 0; i < 3; i++)
		sg_set_buf(&sg[i], b[i], 4);
	dma_host_fail_after = 1;
	CHECK(virtqueue_add_outbuf(f.vq, sg, 3, &tok) == 0 && f.vq->num_free == 5,
	      "[%s] no memory for the indirect table: a direct chain of 3", L);
	CHECK(sim_pop(&f.dev, &r) == 0 && !r.indirect && r.nseg == 3, "[%s] device sees it direct",
	      L);
	sim_push(&f.dev, r.head, 0);
	CHECK(virtqueue_get_buf(f.vq, &len) == &tok && f.vq->num_free == 8,
	      "[%s] and it comes back", L);
	fx_fini(&f);
}

/* ---- The random run ---------------------------------------------------- */

struct rtok {
	int state; /* 0 free, 1 with the device, 2 popped by the device */
	unsigned nout, nin;
	uint8_t out[4][32], in[4][32];
	uint32_t expect_len;
	struct sim_req req;
};

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible from the printed seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static void test_random(uint64_t seed, unsigned steps)
{
	enum { NTOK = 96 };
	static struct rtok t[NTOK];
	struct fixture f;
	struct scatterlist sgo[4], sgi[4], *sgs[2];
	unsigned popped[NTOK], npopped = 0, len, errors = 0, returned = 0, posted = 0;
	uint64_t feat;
	void *p;

	rng_state = seed ? seed : 1;
	feat = fx_all_features[rnd() % FX_NFEATURES];
	memset(t, 0, sizeof(t));
	/* Packed rings may be any size: try odd ones too. */
	fx_init(&f, (feat & F_PACKED) ? 3 + rnd() % 62 : 1u << (2 + rnd() % 5), feat);
	printf("# random run: seed %llu (replay with VQ_SEED=%llu), ring %u, %s\n",
	       (unsigned long long)seed, (unsigned long long)seed, virtqueue_get_vring_size(f.vq),
	       fx_name(feat));
	for (unsigned step = 0; step < steps && !errors; step++) {
		unsigned op = rnd() % 100;

		if (op < 40) { /* driver adds */
			unsigned i = rnd() % NTOK, o = 0;
			int err;

			if (t[i].state)
				continue;
			t[i].nout = rnd() % 4;
			t[i].nin = rnd() % 4;
			if (!t[i].nout && !t[i].nin)
				t[i].nin = 1;
			sg_init_table(sgo, t[i].nout ? t[i].nout : 1);
			sg_init_table(sgi, t[i].nin ? t[i].nin : 1);
			for (unsigned k = 0; k < t[i].nout; k++) {
				memset(t[i].out[k], (int)(i + k), 32);
				sg_set_buf(&sgo[k], t[i].out[k], 1 + rnd() % 32);
			}
			for (unsigned k = 0; k < t[i].nin; k++) {
				memset(t[i].in[k], 0, 32);
				sg_set_buf(&sgi[k], t[i].in[k], 32);
			}
			if (t[i].nout)
				sgs[o++] = sgo;
			if (t[i].nin)
				sgs[o++] = sgi;
			err = virtqueue_add_sgs(f.vq, sgs, t[i].nout ? 1 : 0, t[i].nin ? 1 : 0,
						&t[i]);
			if (err == 0) {
				t[i].state = 1;
				posted++;
			} else if (err != -ENOSPC && err != -EINVAL) {
				errors++;
			}
		} else if (op < 50) {
			virtqueue_kick(f.vq);
		} else if (op < 70) { /* device pops */
			struct sim_req r;

			if (sim_pop(&f.dev, &r) == 0) {
				struct rtok *x = NULL;

				/* find the token whose first buffer this is */
				for (unsigned i = 0; i < NTOK && !x; i++)
					if (t[i].state == 1 &&
					    r.seg[0].buf == (t[i].nout ? (void *)t[i].out[0]
								       : (void *)t[i].in[0]))
						x = &t[i];
				if (!x || r.nseg != x->nout + x->nin) {
					errors++;
					break;
				}
				for (unsigned k = 0; k < x->nout; k++)
					if (((uint8_t *)r.seg[k].buf)[0] != (uint8_t)((x - t) + k))
						errors++;
				x->req = r;
				x->state = 2;
				popped[npopped++] = (unsigned)(x - t);
			} else if (f.dev.errors) {
				errors++;
			}
		} else if (op < 85) { /* device completes one, any order */
			if (npopped) {
				unsigned j = rnd() % npopped, i = popped[j];
				uint32_t n = t[i].req.in_len ? rnd() % (t[i].req.in_len + 1) : 0;

				popped[j] = popped[--npopped];
				t[i].expect_len = sim_fill(&t[i].req, (uint8_t)(0x80 | i), n);
				sim_push(&f.dev, t[i].req.head, t[i].expect_len);
				t[i].state = 3;
				if (sim_need_interrupt(&f.dev))
					vring_interrupt(f.vq);
			}
		} else if (op < 95) { /* driver reaps */
			while ((p = virtqueue_get_buf(f.vq, &len))) {
				struct rtok *x = p;

				if (x < t || x >= t + NTOK || x->state != 3 ||
				    len != x->expect_len ||
				    (len && x->in[0][0] != (uint8_t)(0x80 | (x - t))))
					errors++;
				x->state = 0;
				returned++;
			}
		} else if (op < 97) {
			virtqueue_disable_cb(f.vq);
		} else if (op < 99) {
			virtqueue_enable_cb(f.vq);
		} else {
			virtqueue_enable_cb_delayed(f.vq);
		}
	}
	/* Drain: everything still out comes back through the device. */
	do {
		struct sim_req r;

		while (sim_pop(&f.dev, &r) == 0)
			for (unsigned i = 0; i < NTOK; i++)
				if (t[i].state == 1 &&
				    r.seg[0].buf == (t[i].nout ? (void *)t[i].out[0]
							       : (void *)t[i].in[0])) {
					t[i].req = r;
					t[i].state = 2;
					popped[npopped++] = i;
				}
		while (npopped) {
			unsigned i = popped[--npopped];

			t[i].expect_len = 0;
			sim_push(&f.dev, t[i].req.head, 0);
			t[i].state = 3;
		}
		while ((p = virtqueue_get_buf(f.vq, &len))) {
			if (((struct rtok *)p)->state != 3)
				errors++;
			((struct rtok *)p)->state = 0;
			returned++;
		}
	} while (!errors && (npopped || sim_has_avail(&f.dev)));
	CHECK(errors == 0 && returned == posted && !f.dev.errors && !virtqueue_is_broken(f.vq),
	      "random run seed %llu: %u buffers, each back once with its length (%u errors, %s)",
	      (unsigned long long)seed, posted, errors, f.dev.error);
	CHECK(fx_fini(&f) == 0 && dma_host_outstanding == f.dma_before,
	      "random run: nothing left over or leaked");
}

/* ---- Hostile device ---------------------------------------------------- */

enum hostile {
	H_ID_RANGE,
	H_ID_REPEAT,
	H_NOT_HEAD,
	H_NEVER_AVAIL,
	H_IDX_JUMP,
	H_HUGE_LEN,
	H_SCRIBBLE,
};

static const char *const hostile_name[] = {
	"used id out of range",
	"repeated used id",
	"used id inside a chain / free id",
	"used id never made available",
	"used idx jumps / wrong-lap flags",
	"used len past the buffer",
	"device scribbles on the descriptor table",
};

static void test_hostile(enum hostile h, uint64_t feat)
{
	struct fixture f;
	struct sim_req r[3];
	struct scatterlist sg[3];
	char buf[3][3][16];
	unsigned len = 0, back = 0, got = 0;
	const char *what = hostile_name[h];
	bool packed = feat & F_PACKED;
	bool expect_broken = h != H_HUGE_LEN && h != H_SCRIBBLE && !(packed && h == H_IDX_JUMP);
	bool clamped = false;

	fx_init(&f, 16, feat);
	for (int i = 0; i < 3; i++) {
		sg_init_table(sg, 3);
		for (int k = 0; k < 3; k++)
			sg_set_buf(&sg[k], buf[i][k], 16);
		virtqueue_add_inbuf(f.vq, sg, 3, buf[i]);
	}
	for (int i = 0; i < 3; i++)
		sim_pop(&f.dev, &r[i]);
	switch (h) {
	case H_ID_RANGE:
		sim_push(&f.dev, 16 + 5, 4);
		break;
	case H_ID_REPEAT:
		sim_push(&f.dev, r[0].head, 4);
		sim_push(&f.dev, r[0].head, 4);
		break;
	case H_NOT_HEAD:
		/* split direct: the second descriptor of chain 0; split
		 * indirect: a free descriptor; packed: a free buffer id */
		sim_push(&f.dev, (feat & (F_INDIRECT | F_PACKED)) ? 7u : r[0].head + 1u, 4);
		break;
	case H_NEVER_AVAIL:
		sim_push(&f.dev, 15, 4);
		break;
	case H_IDX_JUMP:
		if (packed) {
			/* No used index to jump: the packed analogue is a slot
			 * whose flags claim "used" for the wrong lap (AVAIL !=
			 * USED): it must not be taken as used at all. */
			struct vring_packed_desc *d = &f.dev.pvr.desc[f.dev.used_pos];

			d->id = r[0].head;
			d->len = 4;
			__atomic_store_n(&d->flags, (uint16_t)VRING_PACKED_DESC_F_USED,
					 __ATOMIC_RELEASE);
			break;
		}
		sim_push(&f.dev, r[0].head, 4);
		__atomic_store_n(&f.dev.vr.used->idx, (uint16_t)1000, __ATOMIC_RELEASE);
		break;
	case H_HUGE_LEN:
		sim_push(&f.dev, r[1].head, 0xffffffffu);
		break;
	case H_SCRIBBLE:
		sim_scribble(&f.dev);
		sim_push(&f.dev, r[2].head, 48);
		break;
	}
	for (unsigned l; got < 8 && virtqueue_get_buf(f.vq, &l); got++) {
		clamped |= f.vq->len_clamped;
		len = l;
	}
	if (expect_broken) {
		CHECK(virtqueue_is_broken(f.vq) && f.vq->stats.broken == 1,
		      "[%s] hostile, %s: queue broken", fx_name(feat), what);
		CHECK(got == (h == H_ID_REPEAT ? 1u : 0u),
		      "[%s] hostile, %s: no buffer returned past the bad entry (%u)", fx_name(feat),
		      what, got);
		CHECK(virtqueue_add_inbuf(f.vq, sg, 3, buf[0]) == -EIO &&
			      virtqueue_get_buf(f.vq, &len) == NULL,
		      "[%s] hostile, %s: later add and get_buf fail", fx_name(feat), what);
	} else if (h == H_IDX_JUMP) {
		CHECK(got == 0 && !virtqueue_is_broken(f.vq),
		      "[%s] hostile, wrong-lap used flags: not taken as used", fx_name(feat));
	} else if (h == H_HUGE_LEN) {
		CHECK(got == 1 && len == 48 && clamped && f.vq->stats.len_clamped == 1 &&
			      !virtqueue_is_broken(f.vq),
		      "[%s] hostile, %s: len clamped to the 48 posted bytes and reported (%u)",
		      fx_name(feat), what, len);
	} else {
		struct sim_req again;

		CHECK(got == 1 && len == 48 && !virtqueue_is_broken(f.vq),
		      "[%s] hostile, %s: the driver's own copy frees the right chain",
		      fx_name(feat), what);
		sim_push(&f.dev, r[0].head, 0);
		sim_push(&f.dev, r[1].head, 0);
		while (virtqueue_get_buf(f.vq, &len))
			got++;
		sg_init_table(sg, 3);
		for (int k = 0; k < 3; k++)
			sg_set_buf(&sg[k], buf[0][k], 16);
		virtqueue_add_inbuf(f.vq, sg, 3, buf[0]);
		CHECK(got == 3 && f.vq->num_free == 16 - ((feat & F_INDIRECT) ? 1 : 3) &&
			      sim_pop(&f.dev, &again) == 0 && again.nseg == 3,
		      "[%s] hostile, %s: ring state intact, next chain well formed (%s)",
		      fx_name(feat), what, f.dev.error);
		got = 1;
	}
	back = fx_fini(&f);
	CHECK(back + got == 3 || (h == H_SCRIBBLE && back == 1),
	      "[%s] hostile, %s: detach returns the rest (%u + %u)", fx_name(feat), what, got,
	      back);
	CHECK(dma_host_outstanding == f.dma_before, "[%s] hostile, %s: nothing leaked",
	      fx_name(feat), what);
}

int main(int argc, char **argv)
{
	const char *env = getenv("VQ_SEED");
	uint64_t seed;

	test_scatterlist();
	for (unsigned i = 0; i < FX_NFEATURES; i++) {
		uint64_t feat = fx_all_features[i];

		test_roundtrip(feat);
		test_add_sgs_chains(feat);
		test_ring_full(feat);
		test_kick_suppression(feat);
		if (feat & F_EVENT)
			test_stale_kick_wish(feat);
		test_interrupt_suppression(feat);
		test_out_of_order(feat);
		test_wrap(feat);
		test_detach(feat);
		for (int h = H_ID_RANGE; h <= H_SCRIBBLE; h++)
			test_hostile((enum hostile)h, feat);
	}
	for (uint64_t layout = 0; layout <= F_PACKED; layout += F_PACKED) {
		test_inbuf_ctx(layout);
		test_break(layout);
		test_resize(layout);
		test_indirect_fallback(layout);
	}
	test_layout();
	test_layout_packed();

	if (argc > 1)
		seed = strtoull(argv[1], NULL, 0);
	else if (env)
		seed = strtoull(env, NULL, 0);
	else
		seed = (uint64_t)time(NULL);
	test_random(seed, 2000000);
	if (argc <= 1 && !env)
		for (uint64_t s = 1; s <= 8; s++)
			test_random(seed + s, 50000);
	return tap_done();
}
