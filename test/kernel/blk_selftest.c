/*
 * Self-test `test=blk` for the block layer and the virtio-blk driver
 * (virtio 1.2 section 5.2.6: IN, OUT, FLUSH, GET_ID, DISCARD,
 * WRITE_ZEROES), run on every block device found.
 *
 * The test range is the whole disk, or its first 32 MiB on bigger disks.
 * Per device, in order:
 *  1. read the range in requests of varied sizes, many in flight; print
 *     its CRC-32 (the host compares it with the image it made) and, if the
 *     disk holds the initial pattern (seed 0x1001), verify every sector;
 *  2. read-only device: writes, discards and write-zeroes are refused with
 *     -EROFS before anything reaches the device; stop there;
 *  3. write the pattern with seed 0x2002 over the range in requests of
 *     varied sizes (some as scatterlists of small pieces, so the driver
 *     splits them at seg_max), leaving every 5th request out as a hole
 *     (printed: `blk: vda hole START+COUNT`), the last sector included;
 *  4. FLUSH, GET_ID, WRITE_ZEROES (read back zeroes), DISCARD;
 *  5. read everything back in other sizes and verify: pattern, holes
 *     unchanged, zeroes; print the CRC-32 of the range for the host;
 *  6. out-of-range and malformed requests are refused, last sector works;
 *  7. per-type and per-queue counters; with several queues, each was used.
 *
 * Sector contents (also computed by test/qemu/test_blk.py): bytes 0-7 the
 * sector number, 8-15 the seed (little-endian), 16-511 a window of a fixed
 * pseudo-random table picked by (sector * 131 + seed) mod 512.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/virtio_blk.h"
#include "kernel/block/blkdev.h"
#include "kernel/mm/dma.h"
#include "kernel/selftest/selftest.h"
#include "kernel/time/timer.h"

#define SEED_INIT	 0x1001u
#define SEED_WRITE	 0x2002u
#define TEST_MAX_SECTORS (32u * 1024 * 1024 / BLK_SECTOR_SIZE)
#define WINDOW_SECTORS	 8192u /* 4 MiB of buffer per batch */
#define BATCH_MAX	 256u  /* requests in flight per batch */
#define SG_POOL		 4096u /* scatterlist entries per batch */
#define MAX_HOLES	 512u

static uint8_t pattern_table[1024];
static uint32_t crc_table[256];

static void tables_init(void)
{
	uint32_t x = 0xb10c;

	for (unsigned i = 0; i < sizeof pattern_table; i++) {
		x = x * 1103515245u + 12345u;
		pattern_table[i] = (uint8_t)(x >> 24);
	}
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}

/* CRC-32 as zlib computes it; pass 0 to start, the previous value to go on. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void fill_sector(uint8_t *p, uint64_t sector, uint64_t seed)
{
	unsigned k = (unsigned)((sector * 131 + seed) & 511);

	memcpy(p, &sector, 8);
	memcpy(p + 8, &seed, 8);
	memcpy(p + 16, pattern_table + k, BLK_SECTOR_SIZE - 16);
}

static bool sector_matches(const uint8_t *p, uint64_t sector, uint64_t seed)
{
	uint8_t want[BLK_SECTOR_SIZE];

	fill_sector(want, sector, seed);
	return memcmp(p, want, BLK_SECTOR_SIZE) == 0;
}

static bool sector_is_zero(const uint8_t *p)
{
	for (unsigned i = 0; i < BLK_SECTOR_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- Batches: many requests in flight, waited for together ------------- */

struct batch {
	volatile unsigned outstanding;
	unsigned errors;
	int first_error;
	unsigned n;
	struct blk_request req[BATCH_MAX];
	struct scatterlist sg[SG_POOL];
	unsigned sg_used;
};

static struct batch batch;
static uint8_t *window; /* WINDOW_SECTORS * 512 bytes */

static void batch_done(struct blk_request *req, int status)
{
	struct batch *b = req->ctx;

	if (status) {
		b->errors++;
		if (!b->first_error)
			b->first_error = status;
	}
	b->outstanding--;
}

static bool batch_idle(void *arg)
{
	return ((struct batch *)arg)->outstanding == 0;
}

static void batch_reset(struct batch *b)
{
	b->n = 0;
	b->errors = 0;
	b->first_error = 0;
	b->sg_used = 0;
}

/* Submits one request of the batch; data at window + offset. With `pieces`
 * the data goes as a scatterlist of 512/1024/1536-byte pieces. */
static int batch_add(struct blkdev *dev, struct batch *b, enum blk_op op, uint64_t sector,
		     uint32_t count, uint8_t *data, bool pieces)
{
	struct blk_request *req = &b->req[b->n++];
	unsigned long fl;
	int err;

	*req = (struct blk_request){.op = op, .sector = sector, .count = count, .buf = data};
	if (pieces && b->sg_used + count <= SG_POOL) {
		struct scatterlist *sg = &b->sg[b->sg_used];
		uint32_t left = count * BLK_SECTOR_SIZE, off = 0;
		unsigned n = 0;

		while (left) {
			uint32_t len = BLK_SECTOR_SIZE * (1 + n % 3);

			if (len > left)
				len = left;
			sg[n] = (struct scatterlist){.buf = data + off, .length = len};
			off += len;
			left -= len;
			n++;
		}
		sg[n - 1].flags = SG_END;
		b->sg_used += n;
		req->sg = sg;
		req->buf = NULL;
	}
	req->done = batch_done;
	req->ctx = b;
	/* done may run from an interrupt as soon as the request is in. */
	fl = irq_save();
	b->outstanding++;
	irq_restore(fl);
	err = blk_submit(dev, req);
	if (err) {
		fl = irq_save();
		b->outstanding--;
		irq_restore(fl);
		b->errors++;
		if (!b->first_error)
			b->first_error = err;
	}
	return err;
}

static void batch_wait(struct batch *b)
{
	blk_wait(batch_idle, b);
}

/* ---- The test ------------------------------------------------------------ */

struct hole {
	uint64_t start;
	uint32_t count;
};

struct plan {
	uint64_t n;  /* sectors in the test range */
	uint32_t bs; /* block size in sectors */
	struct hole holes[MAX_HOLES];
	unsigned nholes;
	uint64_t zero_start[2];
	uint32_t zero_count[2];
	unsigned nzero;
	uint64_t discard_start;
	uint32_t discard_count;
	bool initial_pattern;
};

static struct plan plan;

static bool in_hole(const struct plan *p, uint64_t s)
{
	for (unsigned i = 0; i < p->nholes; i++)
		if (s >= p->holes[i].start && s < p->holes[i].start + p->holes[i].count)
			return true;
	return false;
}

static bool in_zeroes(const struct plan *p, uint64_t s)
{
	for (unsigned i = 0; i < p->nzero; i++)
		if (s >= p->zero_start[i] && s < p->zero_start[i] + p->zero_count[i])
			return true;
	return false;
}

static bool in_discard(const struct plan *p, uint64_t s)
{
	return p->discard_count && s >= p->discard_start && s < p->discard_start + p->discard_count;
}

static uint32_t round_bs(uint32_t n, uint32_t bs)
{
	n -= n % bs;
	return n ? n : bs;
}

/*
 * Reads [0, n) in requests whose sizes cycle through `sizes`, a window at a
 * time, all requests of a window in flight together; calls check() on each
 * window in disk order and returns the CRC-32 of the range, or sets *err.
 */
static uint32_t read_range(struct blkdev *dev, uint64_t n, const uint32_t *sizes, unsigned nsizes,
			   unsigned *bad, int *err,
			   unsigned (*check)(const uint8_t *buf, uint64_t start, uint64_t count))
{
	uint32_t crc = 0;
	unsigned si = 0;

	for (uint64_t w = 0; w < n; w += WINDOW_SECTORS) {
		uint64_t wn = n - w < WINDOW_SECTORS ? n - w : WINDOW_SECTORS;

		batch_reset(&batch);
		for (uint64_t s = w; s < w + wn && batch.n < BATCH_MAX;) {
			uint32_t c = round_bs(sizes[si++ % nsizes], plan.bs);

			if (batch.n == BATCH_MAX - 1 || c > w + wn - s)
				c = (uint32_t)(w + wn - s);
			batch_add(dev, &batch, BLK_OP_READ, s, c,
				  window + (s - w) * BLK_SECTOR_SIZE, si % 4 == 1);
			s += c;
		}
		batch_wait(&batch);
		if (batch.errors) {
			*err = batch.first_error;
			return 0;
		}
		crc = crc32_update(crc, window, wn * BLK_SECTOR_SIZE);
		if (check)
			*bad += check(window, w, wn);
	}
	return crc;
}

static unsigned check_initial(const uint8_t *buf, uint64_t start, uint64_t count)
{
	unsigned bad = 0;

	for (uint64_t i = 0; i < count; i++) {
		if (!sector_matches(buf + i * BLK_SECTOR_SIZE, start + i, SEED_INIT)) {
			if (bad++ < 3)
				printf("# sector %llu: not the initial pattern\n",
				       (unsigned long long)(start + i));
		}
	}
	return bad;
}

static unsigned check_final(const uint8_t *buf, uint64_t start, uint64_t count)
{
	unsigned bad = 0;

	for (uint64_t i = 0; i < count; i++) {
		uint64_t s = start + i;
		const uint8_t *p = buf + i * BLK_SECTOR_SIZE;
		bool ok;
		const char *want;

		if (in_zeroes(&plan, s)) {
			ok = sector_is_zero(p);
			want = "zeroes";
		} else if (in_discard(&plan, s)) {
			continue; /* undefined after DISCARD (5.2.6.2) */
		} else if (in_hole(&plan, s)) {
			ok = !plan.initial_pattern || sector_matches(p, s, SEED_INIT);
			want = "initial pattern (hole)";
		} else {
			ok = sector_matches(p, s, SEED_WRITE);
			want = "written pattern";
		}
		if (!ok && bad++ < 3)
			printf("# sector %llu: expected %s\n", (unsigned long long)s, want);
	}
	return bad;
}

static const uint32_t initial_sizes[] = {128, 1, 8, 255, 32, 2048, 3, 64};
static const uint32_t write_sizes[] = {8,   1, 64,   3, 256,  17, 128, 2, 40, 255,
				       512, 5, 2048, 7, 4096, 33, 16,  9, 24, 4};
static const uint32_t final_sizes[] = {1, 2, 3, 4, 5, 8, 16, 31, 64, 100, 256};

/* Writes the pattern over [0, n) leaving holes; records them in plan. */
static bool write_range(struct blkdev *dev)
{
	uint64_t n = plan.n;
	unsigned idx = 0;

	plan.nholes = 0;
	for (uint64_t w = 0; w < n;) {
		uint64_t s = w;

		batch_reset(&batch);
		while (s < n && batch.n < BATCH_MAX) {
			uint32_t c = round_bs(write_sizes[idx % (sizeof write_sizes / 4)], plan.bs);

			if (c > n - s)
				c = (uint32_t)(n - s);
			if (s + c - w > WINDOW_SECTORS)
				break; /* next window */
			/* Every 5th request is left out, never the last. */
			if (idx % 5 == 3 && s + c < n && plan.nholes < MAX_HOLES) {
				plan.holes[plan.nholes++] = (struct hole){s, c};
				printf("blk: %s hole %llu+%u\n", dev->name, (unsigned long long)s,
				       c);
			} else {
				uint8_t *data = window + (s - w) * BLK_SECTOR_SIZE;

				for (uint32_t i = 0; i < c; i++)
					fill_sector(data + i * BLK_SECTOR_SIZE, s + i, SEED_WRITE);
				batch_add(dev, &batch, BLK_OP_WRITE, s, c, data, idx % 3 == 1);
			}
			s += c;
			idx++;
		}
		batch_wait(&batch);
		if (!check(batch.errors == 0, "%s: writes %llu..%llu: %u failed (first %d %s)",
			   dev->name, (unsigned long long)w, (unsigned long long)s, batch.errors,
			   batch.first_error, blk_errname(batch.first_error)))
			return false;
		w = s;
	}
	return true;
}

static void counts(struct blkdev *dev)
{
	for (unsigned op = 0; op < BLK_OP_COUNT; op++) {
		const struct blk_op_stats *st = &dev->stats[op];

		printf("blk: %s count %s submitted %llu completed %llu errors %llu rejected %llu "
		       "device %llu\n",
		       dev->name, blk_op_name(op), (unsigned long long)st->submitted,
		       (unsigned long long)st->completed, (unsigned long long)st->errors,
		       (unsigned long long)st->rejected,
		       (unsigned long long)virtio_blk_type_count(dev, op));
		check(st->submitted == st->completed, "%s: every %s request completed (%llu/%llu)",
		      dev->name, blk_op_name(op), (unsigned long long)st->completed,
		      (unsigned long long)st->submitted);
	}
	struct virtio_blk_qstats qs;
	unsigned used = 0, nq = 0;

	for (unsigned q = 0; virtio_blk_queue_stats(dev, q, &qs) == 0; q++, nq++) {
		printf("blk: %s queue %u size %u requests %llu completed %llu interrupts %llu "
		       "kicks "
		       "%llu\n",
		       dev->name, q, qs.size, (unsigned long long)qs.requests,
		       (unsigned long long)qs.completed, (unsigned long long)qs.interrupts,
		       (unsigned long long)qs.kicks);
		if (qs.requests)
			used++;
	}
	if (nq > 1)
		check(used == nq, "%s: requests spread over all %u queues (%u used)", dev->name, nq,
		      used);
	check(virtio_blk_unwritten_status(dev) == 0,
	      "%s: the device wrote every status byte (%llu missing)", dev->name,
	      (unsigned long long)virtio_blk_unwritten_status(dev));
}

static void test_rejections(struct blkdev *dev)
{
	uint64_t cap = dev->capacity;
	uint32_t bs = plan.bs;
	uint64_t reads_before = virtio_blk_type_count(dev, BLK_OP_READ);
	struct blk_request req = {.op = BLK_OP_READ, .sector = 0, .count = 0, .buf = window};
	int err;

	err = blk_read(dev, cap, bs, window);
	check(err == -ERANGE, "%s: read at the capacity (%llu) refused: %d %s", dev->name,
	      (unsigned long long)cap, err, blk_errname(err));
	err = blk_read(dev, cap - bs, 2 * bs, window);
	check(err == -ERANGE, "%s: read across the end refused: %d %s", dev->name, err,
	      blk_errname(err));
	err = blk_read(dev, UINT64_MAX - 1, bs, window);
	check(err == -ERANGE, "%s: read at sector 2^64-2 (overflow) refused: %d %s", dev->name, err,
	      blk_errname(err));
	err = blk_submit_wait(dev, &req);
	check(err == -EINVAL, "%s: read of 0 sectors refused: %d %s", dev->name, err,
	      blk_errname(err));
	if (bs > 1) {
		err = blk_read(dev, 1, bs, window);
		check(err == -EINVAL, "%s: read not aligned to the %u-byte block refused: %d",
		      dev->name, dev->block_size, err);
	}
	check(virtio_blk_type_count(dev, BLK_OP_READ) == reads_before,
	      "%s: refused requests never reached the device", dev->name);
	err = blk_read(dev, cap - bs, bs, window);
	check(err == 0, "%s: read of the last block (sector %llu) works: %d", dev->name,
	      (unsigned long long)(cap - bs), err);
	if (dev->read_only)
		return;
	err = blk_write(dev, cap, bs, window);
	check(err == -ERANGE, "%s: write at the capacity refused: %d %s", dev->name, err,
	      blk_errname(err));
	if (dev->caps & BLK_CAP_DISCARD) {
		err = blk_discard(dev, cap - bs, 2 * bs);
		check(err == -ERANGE, "%s: discard across the end refused: %d %s", dev->name, err,
		      blk_errname(err));
	}
}

static void test_read_only(struct blkdev *dev)
{
	uint64_t before = virtio_blk_type_count(dev, BLK_OP_WRITE) +
			  virtio_blk_type_count(dev, BLK_OP_DISCARD) +
			  virtio_blk_type_count(dev, BLK_OP_WRITE_ZEROES);
	int err;

	err = blk_write(dev, 0, plan.bs, window);
	check(err == -EROFS, "%s: write to a read-only device refused: %d %s", dev->name, err,
	      blk_errname(err));
	err = blk_write_zeroes(dev, 0, plan.bs, false);
	check(err == -EROFS, "%s: write-zeroes to a read-only device refused: %d %s", dev->name,
	      err, blk_errname(err));
	err = blk_discard(dev, 0, plan.bs);
	check(err == -EROFS, "%s: discard on a read-only device refused: %d %s", dev->name, err,
	      blk_errname(err));
	check(virtio_blk_type_count(dev, BLK_OP_WRITE) +
			      virtio_blk_type_count(dev, BLK_OP_DISCARD) +
			      virtio_blk_type_count(dev, BLK_OP_WRITE_ZEROES) ==
		      before,
	      "%s: nothing was sent to the read-only device", dev->name);
	err = blk_flush(dev);
	check(err == 0, "%s: flush on a read-only device: %d", dev->name, err);
}

static void test_zeroes_discard(struct blkdev *dev)
{
	uint64_t n = plan.n;
	uint32_t bs = plan.bs;
	int err;

	plan.nzero = 0;
	plan.discard_count = 0;
	if (!(dev->caps & BLK_CAP_WRITE_ZEROES)) {
		err = blk_write_zeroes(dev, 0, bs, false);
		check(err == -EOPNOTSUPP, "%s: no WRITE_ZEROES: refused with -EOPNOTSUPP (%d)",
		      dev->name, err);
	} else if (n >= 64 * bs) {
		plan.zero_start[0] = (n / 2 + 3 * bs) / bs * bs;
		plan.zero_count[0] = 45 * bs;
		plan.zero_start[1] = (n / 3 + bs) / bs * bs;
		plan.zero_count[1] = 100 * bs;
		plan.nzero = 2;
		for (unsigned i = 0; i < 2; i++) {
			err = blk_write_zeroes(dev, plan.zero_start[i], plan.zero_count[i], i == 1);
			check(err == 0, "%s: write-zeroes %llu+%u%s: %d %s", dev->name,
			      (unsigned long long)plan.zero_start[i], plan.zero_count[i],
			      i == 1 ? " (unmap allowed)" : "", err, blk_errname(err));
			printf("blk: %s zeroes %llu+%u\n", dev->name,
			       (unsigned long long)plan.zero_start[i], plan.zero_count[i]);
			err = blk_read(dev, plan.zero_start[i], plan.zero_count[i], window);
			unsigned bad = 0;
			for (uint32_t s = 0; s < plan.zero_count[i]; s++)
				bad += !sector_is_zero(window + s * BLK_SECTOR_SIZE);
			check(err == 0 && bad == 0, "%s: zeroed range reads back zeroes (%u bad)",
			      dev->name, bad);
		}
	}
	if (!(dev->caps & BLK_CAP_DISCARD)) {
		err = blk_discard(dev, 0, bs);
		check(err == -EOPNOTSUPP, "%s: no DISCARD: refused with -EOPNOTSUPP (%d)",
		      dev->name, err);
	} else if (n >= 64 * bs) {
		plan.discard_start = (n / 4) / (8 * bs) * (8 * bs);
		plan.discard_count = 64 * bs;
		err = blk_discard(dev, plan.discard_start, plan.discard_count);
		check(err == 0, "%s: discard %llu+%u: %d %s", dev->name,
		      (unsigned long long)plan.discard_start, plan.discard_count, err,
		      blk_errname(err));
		printf("blk: %s discard %llu+%u\n", dev->name,
		       (unsigned long long)plan.discard_start, plan.discard_count);
	}
}

static void test_device(struct blkdev *dev)
{
	char id[BLK_ID_BYTES + 1];
	unsigned bad = 0;
	uint32_t crc;
	int err = 0;
	uint64_t t0;

	memset(&plan, 0, sizeof plan);
	plan.bs = dev->block_size / BLK_SECTOR_SIZE;
	plan.n = dev->capacity < TEST_MAX_SECTORS ? dev->capacity : TEST_MAX_SECTORS;
	plan.n -= plan.n % plan.bs;
	printf("blk: %s capacity %llu block %u ro %d queues %u features %s\n", dev->name,
	       (unsigned long long)dev->capacity, dev->block_size, dev->read_only, dev->nqueues,
	       dev->features);
	if (!check(plan.n >= 8 * plan.bs, "%s: at least 8 blocks to test (%llu sectors)", dev->name,
		   (unsigned long long)plan.n))
		return;
	printf("blk: %s range 0+%llu\n", dev->name, (unsigned long long)plan.n);

	/* 1. What the host put there. */
	err = blk_read(dev, 0, plan.bs, window);
	plan.initial_pattern = err == 0 && sector_matches(window, 0, SEED_INIT);
	t0 = time_ns();
	crc = read_range(dev, plan.n, initial_sizes, sizeof initial_sizes / 4, &bad, &err,
			 plan.initial_pattern ? check_initial : NULL);
	check(err == 0, "%s: read the range (%llu sectors, %llu ms): %d %s", dev->name,
	      (unsigned long long)plan.n, (unsigned long long)((time_ns() - t0) / 1000000), err,
	      blk_errname(err));
	printf("blk: %s initial crc32 0x%08x pattern %s\n", dev->name, crc,
	       plan.initial_pattern ? "yes" : "no");
	if (plan.initial_pattern)
		check(bad == 0, "%s: every sector holds the host's initial pattern (%u bad)",
		      dev->name, bad);

	err = blk_get_id(dev, id);
	check(err == 0 || err == -EOPNOTSUPP, "%s: GET_ID: %d %s", dev->name, err,
	      blk_errname(err));
	if (err == 0)
		printf("blk: %s id '%s'\n", dev->name, id);

	if (dev->read_only) {
		test_read_only(dev);
		test_rejections(dev);
		counts(dev);
		return;
	}

	/* 3-4. */
	t0 = time_ns();
	if (!write_range(dev))
		return;
	check(true, "%s: wrote the pattern (%u holes, %llu ms)", dev->name, plan.nholes,
	      (unsigned long long)((time_ns() - t0) / 1000000));
	err = blk_flush(dev);
	check(err == 0, "%s: flush: %d %s", dev->name, err, blk_errname(err));
	test_zeroes_discard(dev);
	err = blk_flush(dev);
	check(err == 0, "%s: second flush: %d", dev->name, err);

	/* 5. */
	bad = 0;
	t0 = time_ns();
	crc = read_range(dev, plan.n, final_sizes, sizeof final_sizes / 4, &bad, &err, check_final);
	check(err == 0, "%s: read back the range (%llu ms): %d %s", dev->name,
	      (unsigned long long)((time_ns() - t0) / 1000000), err, blk_errname(err));
	check(bad == 0, "%s: every sector reads back as written (%u bad)", dev->name, bad);
	printf("blk: %s final crc32 0x%08x\n", dev->name, crc);

	/* 6-7. */
	test_rejections(dev);
	counts(dev);
}

static void blk_selftest(void)
{
	unsigned ndev = 0;

	tables_init();
	window = dma_alloc(WINDOW_SECTORS * BLK_SECTOR_SIZE, 4096);
	if (!check(window != NULL, "blk: %u KiB test buffer", WINDOW_SECTORS / 2))
		return;
	for (struct blkdev *dev = blkdev_next(NULL); dev; dev = blkdev_next(dev)) {
		ndev++;
		test_device(dev);
	}
	check(ndev > 0, "blk: at least one block device (found %u)", ndev);
	dma_free(window, WINDOW_SECTORS * BLK_SECTOR_SIZE);
	printf("blk: done\n");
}
SELFTEST(blk, blk_selftest);
