/*
 * Host test of the virtio-blk request path (virtio 1.2 section 5.2.6):
 * drivers/virtio_blk.c with its splitting, the block layer
 * (kernel/block/blkdev.c), the virtio core and both ring layouts, all
 * unchanged, against the simulated device of blk_sim.c. Data integrity
 * with splitting to seg_max / size_max and many requests in flight over
 * two queues, completed out of order; IOERR / UNSUPP mapping; bounds
 * refused before the device and a capacity change followed; and the FLUSH
 * / GET_ID / DISCARD / WRITE_ZEROES requests as the device sees them.
 *
 * Features the device withholds are in test_virtio_blk_features.c, a
 * device that misbehaves in test_virtio_blk_hostile.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_sim.h"
#include "drivers/virtio_blk.h"
#include "virtio/virtqueue_transport.h"

/* ---- Data integrity, splitting, many in flight ------------------------- */

static void test_integrity(bool split)
{
	const struct blk_opts o = {
		.features = F_SIZE_MAX | F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_MQ | F_DISCARD |
			    F_WRITE_ZEROES | F_INDIRECT | F_EVENT,
		.capacity = DISK_SECTORS,
		.blk_size = 512,
		.seg_max = 4,
		.size_max = 4096,
		.nq = 2,
		.split = split,
	};
	struct simblk *s = simblk_new(&o);
	const char *layout = split ? "split" : "packed";
	bool ok = true;

	if (!CHECK(s->blk && s->nq == 2 && s->blk->capacity == DISK_SECTORS &&
			   !strcmp(virtqueue_layout(s->t.vqs[0]), layout),
		   "%s: driver bound, %llu sectors, 2 queues, %s ring", layout,
		   s->blk ? (unsigned long long)s->blk->capacity : 0ull, layout)) {
		simblk_free(s);
		return;
	}

	/* Varied sizes and offsets, each written then read back, compared with
	 * the simulated disk itself. */
	srand(split ? 1 : 2);
	for (unsigned i = 0; i < 40 && ok; i++) {
		uint32_t count = 1 + (uint32_t)rand() % 200;
		uint64_t sector = (uint64_t)rand() % (DISK_SECTORS - count);

		if (i == 0)
			count = 512, sector = 100; /* 256 KiB: many chunks */
		fill(wbuf, count * 512, i);
		memset(rbuf, 0, count * 512);
		ok = blk_write(s->blk, sector, count, wbuf) == 0 &&
		     !memcmp(s->disk + sector * 512, wbuf, count * 512) &&
		     blk_read(s->blk, sector, count, rbuf) == 0 && !memcmp(rbuf, wbuf, count * 512);
	}
	CHECK(ok && !s->violations && !s->rule_errors,
	      "%s: 40 writes and reads of 1-512 sectors land on the disk and read back (%s; %s)",
	      layout, ok ? "all equal" : "differs", s->why);
	CHECK(s->max_segs <= 4 && s->max_seg_len <= 4096 && s->multi_seg > 0 &&
		      s->seen[T_OUT] > 40 && s->per_q[0] && s->per_q[1],
	      "%s: requests split to seg_max 4 x size_max 4096 (max %u segs, %u bytes; %u device "
	      "writes for 40; queues %u/%u)",
	      layout, s->max_segs, s->max_seg_len, s->seen[T_OUT], s->per_q[0], s->per_q[1]);

	/* A scatterlist with odd pieces: chunks must still be whole blocks. */
	if (split) {
		static const uint32_t lens[] = {1000, 24, 3000, 72, 5000, 7216, 100, 484};
		struct scatterlist sg[8];
		struct blk_request req = {.op = BLK_OP_WRITE, .sector = 7, .count = 33, .sg = sg};
		size_t off = 0;

		sg_init_table(sg, 8);
		for (unsigned i = 0; i < 8; i++) {
			sg_set_buf(&sg[i], wbuf + off, lens[i]);
			off += lens[i];
		}
		fill(wbuf, off, 99);
		int err = blk_submit_wait(s->blk, &req);

		CHECK(off == 33 * 512 && err == 0 && !memcmp(s->disk + 7 * 512, wbuf, off) &&
			      !s->violations,
		      "a write from 8 odd-sized pieces arrives as whole-sector chunks, in order "
		      "(%u chunks)",
		      req.chunks);
	}

	/* Many in flight: the device holds every chain, then completes them
	 * newest first. Without room in the rings the block layer queues. */
	{
		static struct blk_request reqs[48];
		unsigned n = 48, errors = 0;
		bool same = true;

		s->hold = true;
		ndone = 0;
		for (unsigned i = 0; i < n; i++) {
			fill(wbuf + i * 4096, 4096, 1000 + i);
			reqs[i] = (struct blk_request){.op = BLK_OP_WRITE,
						       .sector = 8 * i,
						       .count = 8,
						       .buf = wbuf + i * 4096,
						       .done = count_done};
			blk_submit(s->blk, &reqs[i]);
		}
		device_run(s);
		unsigned held = s->nheld, first_done = ndone;

		while (ndone < n && s->nheld) {
			release_held(s);
			blk_poll();
			device_run(s);
		}
		s->hold = false;
		pump(s, n);
		for (unsigned i = 0; i < n; i++)
			errors += reqs[i].status != 0;
		same = !memcmp(s->disk, wbuf, n * 4096);
		CHECK(held == 32 && first_done == 0 && ndone == n && !errors && same &&
			      !s->violations,
		      "%s: 48 writes submitted: %u held by the device at once (2 rings of 16), "
		      "the rest queued; completed out of order, all OK, data in place",
		      layout, held);
	}
	simblk_free(s);
}

/* ---- Device errors ------------------------------------------------------ */

static void test_device_errors(struct simblk *s)
{
	static struct blk_request reqs[3];
	static uint8_t bufs[3][4096];

	/* Three reads in flight together; the device fails the middle one. */
	s->err_sector = 1000 + 8;
	s->err_status = S_IOERR;
	ndone = 0;
	for (unsigned i = 0; i < 3; i++) {
		reqs[i] = (struct blk_request){.op = BLK_OP_READ,
					       .sector = 1000 + 8 * i,
					       .count = 8,
					       .buf = bufs[i],
					       .done = count_done};
		blk_submit(s->blk, &reqs[i]);
	}
	pump(s, 3);
	CHECK(ndone == 3 && reqs[0].status == 0 && reqs[1].status == -EIO && reqs[2].status == 0 &&
		      !memcmp(bufs[2], s->disk + 1016 * 512, 4096),
	      "IOERR on one of three reads in flight: it gets -EIO (%s), the others OK",
	      blk_errname(reqs[1].status));
	s->err_status = S_UNSUPP;
	CHECK(blk_write(s->blk, 1008, 8, bufs[0]) == -EOPNOTSUPP &&
		      blk_write(s->blk, 1000, 8, bufs[0]) == 0,
	      "UNSUPP -> -EOPNOTSUPP; the next write is unaffected");
	s->err_sector = 0;
	s->err_status = 0;
}

/* ---- Bounds, capacity change, the other request types ------------------ */

static void test_requests(void)
{
	const struct blk_opts o = {
		.features =
			F_SIZE_MAX | F_SEG_MAX | F_FLUSH | F_DISCARD | F_WRITE_ZEROES | F_INDIRECT,
		.capacity = 1024,
		.seg_max = 8,
		.size_max = 65536,
		.split = true,
	};
	struct simblk *s = simblk_new(&o);
	static uint8_t buf[8192];
	char id[BLK_ID_BYTES + 1];
	unsigned before;
	int e1, e2, e3;

	if (!CHECK(s->blk != NULL, "device with flush, discard, write-zeroes: bound")) {
		simblk_free(s);
		return;
	}
	test_device_errors(s);

	before = device_saw(s);
	e1 = blk_read(s->blk, 1020, 8, buf);
	e2 = blk_read(s->blk, UINT64_MAX - 3, 8, buf);
	e3 = blk_discard(s->blk, 1000, 64);
	CHECK(e1 == -ERANGE && e2 == -ERANGE && e3 == -ERANGE && device_saw(s) == before,
	      "past capacity (read across the end, sector overflow, discard): -ERANGE, nothing "
	      "reached the device");

	/* Capacity change: the device grows, says so, the driver follows. */
	cfg_put(s, CFG_CAPACITY, 2048, 8);
	s->t.generation++;
	virtio_config_changed(&s->t.vdev);
	CHECK(s->blk->capacity == 2048 && blk_read(s->blk, 1020, 8, buf) == 0 &&
		      !memcmp(buf, s->disk + 1020 * 512, 4096),
	      "capacity grown through config change: %llu sectors, the read across the old end "
	      "works",
	      (unsigned long long)s->blk->capacity);
	cfg_put(s, CFG_CAPACITY, 512, 8);
	s->t.generation++;
	virtio_config_changed(&s->t.vdev);
	before = device_saw(s);
	CHECK(s->blk->capacity == 512 && blk_read(s->blk, 600, 8, buf) == -ERANGE &&
		      device_saw(s) == before,
	      "capacity shrunk: a read past the new end is refused before the device");

	before = s->seen[T_FLUSH];
	s->last_flush_sector = 99;
	CHECK(blk_flush(s->blk) == 0 && s->seen[T_FLUSH] == before + 1 &&
		      s->last_flush_sector == 0 && !s->violations,
	      "FLUSH reaches the device: type 4, sector 0, no data");
	CHECK(blk_get_id(s->blk, id) == 0 && s->seen[T_GET_ID] == 1 && s->last_id_len == 20 &&
		      !strcmp(id, SERIAL),
	      "GET_ID: type 8 with a 20-byte writable buffer; id '%s'", id);
	CHECK(blk_discard(s->blk, 16, 8) == 0 && s->seen[T_DISCARD] == 1 &&
		      s->last_range.sector == 16 && s->last_range.num == 8 &&
		      s->last_range.flags == 0,
	      "DISCARD: type 11, range sector 16, 8 sectors, flags 0");
	memset(s->disk + 40 * 512, 0xaa, 100 * 512);
	{
		bool zero = true;
		int err = blk_write_zeroes(s->blk, 40, 100, true);

		for (unsigned i = 0; i < 100 * 512; i++)
			zero &= s->disk[40 * 512 + i] == 0;
		CHECK(err == 0 && s->seen[T_WRITE_ZEROES] == 2 && s->last_range.flags == 1 &&
			      s->last_range.sector + s->last_range.num == 140 && zero &&
			      !s->violations,
		      "WRITE_ZEROES with unmap: type 13, flag UNMAP, 100 sectors in chunks of "
		      "max_write_zeroes_sectors 64 (%u requests), zeroed",
		      s->seen[T_WRITE_ZEROES]);
	}
	simblk_free(s);
}

int main(void)
{
	blk_sim_start();
	test_integrity(true);
	test_integrity(false);
	test_requests();
	return blk_sim_finish();
}
