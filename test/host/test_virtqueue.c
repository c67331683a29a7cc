/*
 * Host tests of the virtqueue data path (virtio/virtqueue.c) over both ring
 * layouts, the split ring (virtio/ring/ring_split.c, virtio 1.2 section 2.7)
 * and the packed ring (virtio/ring/ring_packed.c, section 2.8), against the
 * simulated device of vring_sim.c: one suite, run for each layout with and
 * without event index and indirect descriptors. Scatterlists, every add /
 * get wrapper, direct and indirect chains (2.7.5.3, 2.8.6, 2.8.7) and the
 * fallback to a direct chain, a full ring, 16-bit index wrap and packed wrap
 * counters flipping tens of thousands of times (2.7.6, 2.7.8, 2.8.1),
 * out-of-order completion (IN_ORDER is not negotiated, so any order is
 * legal) and detach.
 *
 * The rest of the virtqueue suite: notification suppression in
 * test_virtqueue_notify.c, ring layout, sizes, resize and break in
 * test_virtqueue_lifecycle.c, a hostile device and the seeded random run in
 * test_virtqueue_hostile.c.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

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

int main(void)
{
	test_scatterlist();
	for (unsigned i = 0; i < FX_NFEATURES; i++) {
		uint64_t feat = fx_all_features[i];

		test_roundtrip(feat);
		test_add_sgs_chains(feat);
		test_ring_full(feat);
		test_out_of_order(feat);
		test_wrap(feat);
		test_detach(feat);
	}
	for (uint64_t layout = 0; layout <= F_PACKED; layout += F_PACKED) {
		test_inbuf_ctx(layout);
		test_indirect_fallback(layout);
	}
	return tap_done();
}
