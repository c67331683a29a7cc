/*
 * Host test of the virtio-blk driver against a device that withholds
 * features (virtio 1.2 sections 5.2.3 feature bits, 5.2.5 device
 * initialization, 5.2.6.2 driver requirements): the whole path, unchanged,
 * against the simulated device of blk_sim.c. A bare device (no FLUSH,
 * DISCARD or WRITE_ZEROES, no SEG_MAX, 4 KiB blocks, the packed ring, no
 * indirect descriptors) and a read-only one: what the device did not offer
 * is refused before it, what it did still works.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_sim.h"
#include "drivers/virtio_blk.h"
#include "virtio/virtqueue_transport.h"

/* A device without the optional requests, packed ring, no indirect
 * descriptors, 4 KiB blocks, one data segment per request. */
static void test_bare_device(void)
{
	const struct blk_opts o = {
		.features = F_BLK_SIZE,
		.capacity = DISK_SECTORS,
		.blk_size = 4096,
	};
	struct simblk *s = simblk_new(&o);
	unsigned before;
	int e1, e2, e3, e4;

	if (!CHECK(s->blk && s->blk->block_size == 4096 &&
			   !strcmp(virtqueue_layout(s->t.vqs[0]), "packed"),
		   "bare device: bound, packed ring, 4096-byte blocks")) {
		simblk_free(s);
		return;
	}
	fill(wbuf, 64 * 1024, 5);
	CHECK(blk_write(s->blk, 64, 128, wbuf) == 0 && blk_read(s->blk, 64, 128, rbuf) == 0 &&
		      !memcmp(rbuf, wbuf, 64 * 1024) &&
		      !memcmp(s->disk + 64 * 512, wbuf, 64 * 1024) && s->max_segs == 1 &&
		      !s->violations && !s->rule_errors,
	      "64 KiB written and read back one segment per request (seg_max absent: 1) %s",
	      s->why);
	before = device_saw(s);
	e1 = blk_discard(s->blk, 0, 8);
	e2 = blk_write_zeroes(s->blk, 0, 8, false);
	e3 = blk_flush(s->blk);
	e4 = blk_read(s->blk, 3, 8, rbuf);
	CHECK(e1 == -EOPNOTSUPP && e2 == -EOPNOTSUPP && e3 == 0 && e4 == -EINVAL &&
		      device_saw(s) == before,
	      "not negotiated: DISCARD and WRITE_ZEROES -EOPNOTSUPP, FLUSH a no-op (no write "
	      "cache), a request not on a 4 KiB block -EINVAL; nothing reached the device");
	simblk_free(s);
}

static void test_read_only(void)
{
	const struct blk_opts o = {.features = F_RO | F_DISCARD | F_WRITE_ZEROES | F_SEG_MAX,
				   .capacity = DISK_SECTORS,
				   .seg_max = 16,
				   .split = true};
	struct simblk *s = simblk_new(&o);
	unsigned before;
	int e1, e2, e3;

	if (!CHECK(s->blk && s->blk->read_only, "read-only device: bound, read_only set")) {
		simblk_free(s);
		return;
	}
	before = device_saw(s);
	e1 = blk_write(s->blk, 0, 8, wbuf);
	e2 = blk_discard(s->blk, 0, 8);
	e3 = blk_write_zeroes(s->blk, 0, 8, false);
	CHECK(e1 == -EROFS && e2 == -EROFS && e3 == -EROFS && device_saw(s) == before &&
		      blk_read(s->blk, 0, 8, rbuf) == 0 && !memcmp(rbuf, s->disk, 4096) &&
		      !s->violations,
	      "write, discard, write-zeroes on it: -EROFS before the device; reads work");
	simblk_free(s);
}

int main(void)
{
	blk_sim_start();
	test_bare_device();
	test_read_only();
	return blk_sim_finish();
}
