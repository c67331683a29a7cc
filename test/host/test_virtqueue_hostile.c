/*
 * Host tests of the virtqueue API (virtio/virtqueue.c) against a device it
 * cannot predict, over both ring layouts, split (virtio 1.2 section 2.7) and
 * packed (2.8), for each with and without event index and indirect
 * descriptors. A hostile device (vring_sim.c writing what the spec forbids:
 * used ids out of range, repeated, not a chain head or never made
 * available, a used index that jumps or packed flags of the wrong lap,
 * lengths past the buffer, a scribbled descriptor table; 2.7.8, 2.8.1,
 * 2.8.6) must break the queue or be contained, never corrupt it; and a
 * seeded random run interleaves adds, kicks, device pops, completions in any
 * order and callback changes, checking every buffer comes back once with
 * its length.
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

	for (unsigned i = 0; i < FX_NFEATURES; i++)
		for (int h = H_ID_RANGE; h <= H_SCRIBBLE; h++)
			test_hostile((enum hostile)h, fx_all_features[i]);

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
