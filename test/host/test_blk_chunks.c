/*
 * Host unit test for virtio-blk request splitting (drivers/virtio_blk_chunks.c,
 * virtio 1.2 sections 5.2.4 and 5.2.6): chunks respect seg_max, size_max,
 * the driver's byte cap and the block granule, and together they cover the
 * caller's data exactly once, in order; DISCARD/WRITE_ZEROES ranges respect
 * their sector limit and alignment; status bytes map to errors.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio_blk_chunks.h"
#include "tap.h"

#define MAX_OUT 512

static uint32_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

/*
 * Splits `total` bytes of `list` under `lim` and checks every chunk and the
 * whole. Returns the number of chunks, or -1 after a failed check.
 */
static int split_and_verify(const char *what, struct scatterlist *list, uint64_t total,
			    const struct vblk_limits *lim, const uint8_t *data)
{
	struct vblk_cursor cur = {list, 0};
	struct scatterlist out[MAX_OUT];
	uint8_t *copy = malloc(total ? total : 1);
	uint64_t done = 0;
	int chunks = 0;
	bool ok = true;

	while (done < total) {
		unsigned n;
		long got = vblk_next_chunk(lim, &cur, total - done, out, &n);
		uint64_t sum = 0;

		if (got <= 0) {
			ok = CHECK(false, "%s: chunk %d at %llu returned %ld", what, chunks,
				   (unsigned long long)done, got);
			break;
		}
		if (n == 0 || n > lim->seg_max || (uint64_t)got > lim->max_bytes ||
		    got % lim->granule || !(out[n - 1].flags & SG_END)) {
			ok = CHECK(false,
				   "%s: chunk %d: %u segments (max %u), %ld bytes (max %u, granule "
				   "%u)",
				   what, chunks, n, lim->seg_max, got, lim->max_bytes,
				   lim->granule);
			break;
		}
		for (unsigned i = 0; i < n; i++) {
			if (out[i].length == 0 || out[i].length > lim->size_max) {
				ok = CHECK(false,
					   "%s: chunk %d segment %u of %u bytes (size_max %u)",
					   what, chunks, i, out[i].length, lim->size_max);
				goto out;
			}
			memcpy(copy + done + sum, out[i].buf, out[i].length);
			sum += out[i].length;
		}
		if (sum != (uint64_t)got) {
			ok = CHECK(false, "%s: chunk %d segments sum %llu, returned %ld", what,
				   chunks, (unsigned long long)sum, got);
			break;
		}
		done += got;
		chunks++;
	}
	if (ok)
		ok = CHECK(memcmp(copy, data, total) == 0,
			   "%s: %d chunks cover %llu bytes exactly once, in order", what, chunks,
			   (unsigned long long)total);
out:
	free(copy);
	return ok ? chunks : -1;
}

static void test_contiguous(void)
{
	static uint8_t buf[1 << 20];
	struct scatterlist sg;
	struct vblk_limits lim = {
		.seg_max = 1, .size_max = 65536, .max_bytes = 1u << 30, .granule = 512};

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 9));
	sg_init_one(&sg, buf, sizeof buf);
	CHECK(split_and_verify("1 MiB, seg_max 1, size_max 64K", &sg, sizeof buf, &lim, buf) == 16,
	      "1 MiB in 64 KiB segments, one per request: 16 requests");

	lim.seg_max = 4;
	CHECK(split_and_verify("1 MiB, seg_max 4", &sg, sizeof buf, &lim, buf) == 4,
	      "seg_max 4: four 64 KiB segments per request, 4 requests");

	lim.size_max = 1000; /* not a multiple of 512 */
	lim.seg_max = 3;
	struct vblk_cursor cur = {&sg, 0};
	struct scatterlist out[8];
	unsigned n;
	long got = vblk_next_chunk(&lim, &cur, sizeof buf, out, &n);
	CHECK(got == 2560 && n == 3 && out[2].length == 560 && cur.off == 2560,
	      "size_max 1000, seg_max 3: 3000 bytes trimmed to 2560, cursor at 2560 (got %ld, "
	      "n %u, off %u)",
	      got, n, cur.off);
	CHECK(split_and_verify("size_max 1000", &sg, sizeof buf, &lim, buf) > 0,
	      "size_max 1000 splits the whole buffer");

	lim = (struct vblk_limits){
		.seg_max = 128, .size_max = 1u << 20, .max_bytes = 131072, .granule = 4096};
	CHECK(split_and_verify("max_bytes 128K granule 4K", &sg, sizeof buf, &lim, buf) == 8,
	      "driver cap 128 KiB: 8 requests");
}

static void test_piecewise(void)
{
	static uint8_t buf[100 * 512];
	struct scatterlist sg[100];
	struct vblk_limits lim = {
		.seg_max = 8, .size_max = 4096, .max_bytes = 1u << 20, .granule = 512};

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i ^ (i >> 8));
	sg_init_table(sg, 100);
	for (int i = 0; i < 100; i++)
		sg_set_buf(&sg[i], buf + i * 512, 512);
	CHECK(split_and_verify("100 x 512, seg_max 8", sg, sizeof buf, &lim, buf) == 13,
	      "100 sectors in 512-byte pieces, seg_max 8: 13 requests");

	/* A chained list: first 40 entries, then a link to the other 60. */
	struct scatterlist a[41], b[60];
	sg_init_table(a, 41);
	sg_init_table(b, 60);
	for (int i = 0; i < 40; i++)
		sg_set_buf(&a[i], buf + i * 512, 512);
	for (int i = 0; i < 60; i++)
		sg_set_buf(&b[i], buf + (40 + i) * 512, 512);
	sg_chain(a, 41, b);
	CHECK(split_and_verify("chained 40+60", a, sizeof buf, &lim, buf) == 13,
	      "chained scatterlist split the same way");

	/* Pieces of 100 bytes: 2 segments never make a 512-byte block. */
	struct scatterlist tiny[10];
	sg_init_table(tiny, 10);
	for (int i = 0; i < 10; i++)
		sg_set_buf(&tiny[i], buf + i * 100, 100);
	lim.seg_max = 2;
	struct vblk_cursor cur = {tiny, 0};
	struct scatterlist out[MAX_OUT];
	unsigned n;
	CHECK(vblk_next_chunk(&lim, &cur, 512, out, &n) == -EINVAL,
	      "pieces too small for a block within seg_max: -EINVAL");

	/* A list shorter than the request. */
	lim.seg_max = 128;
	cur = (struct vblk_cursor){sg, 0};
	CHECK(vblk_next_chunk(&lim, &cur, sizeof buf + 512, out, &n) == -EINVAL,
	      "list shorter than the request: -EINVAL");

	/* Unusable limits. */
	struct vblk_limits bad = {.seg_max = 0, .size_max = 512, .max_bytes = 512, .granule = 512};
	cur = (struct vblk_cursor){sg, 0};
	CHECK(vblk_next_chunk(&bad, &cur, 512, out, &n) == -EINVAL, "seg_max 0: -EINVAL");
	CHECK(vblk_next_chunk(&lim, &cur, 0, out, &n) == 0 && n == 0, "nothing left: 0");

	/* Empty entries are skipped. */
	struct scatterlist holes[4];
	sg_init_table(holes, 4);
	sg_set_buf(&holes[0], buf, 0);
	sg_set_buf(&holes[1], buf, 1024);
	sg_set_buf(&holes[2], buf + 1024, 0);
	sg_set_buf(&holes[3], buf + 1024, 1024);
	CHECK(split_and_verify("empty entries", holes, 2048, &lim, buf) == 1,
	      "empty scatterlist entries are skipped");
}

/* Random lists and limits: the invariants hold for all of them. Pieces are
 * whole blocks and a segment holds at least one, so a chunk always exists
 * (the cases where none does are tested above). */
static void test_random(void)
{
	static uint8_t buf[256 * 1024];
	static struct scatterlist sg[300];
	int failures = 0, runs = 400;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rnd(256);
	for (int r = 0; r < runs; r++) {
		struct vblk_limits lim;
		uint32_t granule = 512u << rnd(3);
		uint64_t total = 0;
		unsigned n = 1 + rnd(299);

		lim.granule = granule;
		lim.seg_max = 1 + rnd(r % 2 ? 4 : 300);
		lim.size_max = granule + rnd(70000);
		lim.max_bytes = granule * (1 + rnd(64));
		sg_init_table(sg, n);
		for (unsigned i = 0; i < n; i++) {
			uint32_t len = granule * (1 + rnd(4));
			if (total + len > sizeof buf)
				len = 0;
			sg_set_buf(&sg[i], buf + total, len);
			total += len;
		}
		total -= total % granule;
		if (total == 0)
			continue;
		if (split_and_verify("random", sg, total, &lim, buf) < 0)
			failures++;
	}
	CHECK(failures == 0, "%d random lists and limits split correctly", runs);
}

static void test_ranges(void)
{
	CHECK(vblk_range_chunk(0, 250, 0, 0) == 250, "no limit: the whole range");
	CHECK(vblk_range_chunk(0, 250, 100, 0) == 100 &&
		      vblk_range_chunk(100, 150, 100, 0) == 100 &&
		      vblk_range_chunk(200, 50, 100, 0) == 50,
	      "max 100: 100, 100, 50");
	CHECK(vblk_range_chunk(3, 1000, 100, 8) == 93, "aligned: from 3, max 100, align 8 -> 93");
	CHECK(vblk_range_chunk(96, 904, 100, 8) == 96, "from 96, max 100, align 8 -> 96");
	CHECK(vblk_range_chunk(3, 4, 100, 8) == 4, "the last chunk is not trimmed");
	CHECK(vblk_range_chunk(1, 1000, 4, 8) == 4, "alignment larger than the chunk: no trim");
	CHECK(vblk_range_chunk(0, 1ull << 40, 0, 0) == UINT32_MAX, "no limit still fits 32 bits");

	/* Walk a big range: the chunks cover it exactly. */
	uint64_t s = 5, left = 100000, covered = 0;
	int ok = 1;
	while (left) {
		uint32_t c = vblk_range_chunk(s, left, 4096, 64);
		if (c == 0 || c > 4096) {
			ok = 0;
			break;
		}
		if (c < left && (s + c) % 64)
			ok = 0;
		s += c;
		left -= c;
		covered += c;
	}
	CHECK(ok && covered == 100000, "100000 sectors in aligned chunks of at most 4096");
}

static void test_status(void)
{
	int unwritten;

	CHECK(vblk_status_to_errno(0, 1, &unwritten) == 0 && !unwritten, "OK -> 0");
	CHECK(vblk_status_to_errno(1, 1, &unwritten) == -EIO && !unwritten, "IOERR -> -EIO");
	CHECK(vblk_status_to_errno(2, 1, &unwritten) == -EOPNOTSUPP, "UNSUPP -> -EOPNOTSUPP");
	CHECK(vblk_status_to_errno(7, 1, &unwritten) == -EIO && !unwritten,
	      "unknown status -> -EIO");
	CHECK(vblk_status_to_errno(0xff, 4097, &unwritten) == -EIO && unwritten,
	      "status still 0xff -> -EIO, unwritten");
	CHECK(vblk_status_to_errno(0, 0, &unwritten) == -EIO && unwritten,
	      "used length 0 -> -EIO, unwritten");
}

int main(void)
{
	test_contiguous();
	test_piecewise();
	test_random();
	test_ranges();
	test_status();
	return tap_done();
}
