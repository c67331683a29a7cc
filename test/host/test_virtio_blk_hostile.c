/*
 * Host test of how the virtio-blk driver contains a device that misbehaves
 * (virtio 1.2 sections 5.2.6 status, 2.7.8 used ring, 2.1.2
 * DEVICE_NEEDS_RESET): the whole path, unchanged, against the simulated
 * device of blk_sim.c. A status never written, a status 5.2.6 does not
 * define, a used length past the buffer, a used id never posted, a request
 * completed twice, and DEVICE_NEEDS_RESET with requests held: each fails
 * what it must with -EIO or is clamped, nothing hangs, nothing leaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_sim.h"
#include "drivers/virtio_blk.h"
#include "virtio/virtqueue_transport.h"

/* ---- Misbehaviour ------------------------------------------------------- */

static const struct blk_opts hostile_opts = {
	.features = F_SEG_MAX | F_FLUSH,
	.capacity = DISK_SECTORS,
	.seg_max = 8,
	.split = true,
};

/* The device of these tests, bound; NULL (reported, freed) if the driver
 * did not bind. */
static struct simblk *hostile_new(void)
{
	struct simblk *s = simblk_new(&hostile_opts);

	if (s->blk)
		return s;
	CHECK(false, "hostile device bound");
	simblk_free(s);
	return NULL;
}

static void test_bad_status(void)
{
	struct simblk *s = hostile_new();
	int e1, e2, e3;

	if (!s)
		return;
	s->bad = NO_STATUS;
	e1 = blk_read(s->blk, 0, 8, rbuf);
	e2 = blk_read(s->blk, 8, 8, rbuf);
	CHECK(e1 == -EIO && virtio_blk_unwritten_status(s->blk) == 1 && e2 == 0 &&
		      !virtqueue_is_broken(s->t.vqs[0]),
	      "used length 0, status never written: -EIO (%s), counted, the next read OK",
	      blk_errname(e1));
	s->bad = BAD_STATUS;
	e1 = blk_write(s->blk, 0, 8, wbuf);
	CHECK(e1 == -EIO && blk_read(s->blk, 8, 8, rbuf) == 0,
	      "status 7 (undefined): -EIO, the next read OK");
	s->bad = LONG_LEN;
	e3 = blk_read(s->blk, 16, 8, rbuf);
	CHECK(e3 == 0 && s->t.vqs[0]->stats.len_clamped == 1 && !virtqueue_is_broken(s->t.vqs[0]) &&
		      !memcmp(rbuf, s->disk + 16 * 512, 4096),
	      "used length 1 MiB past the buffer: clamped and counted by the ring, no overrun "
	      "(ASan), the data and status stand");
	simblk_free(s);
}

/* Submits three 8-sector reads and lets the device take them without
 * answering; returns how many chains it holds. */
static unsigned hold_three_reads(struct simblk *s, struct blk_request reqs[3])
{
	ndone = 0;
	for (unsigned i = 0; i < 3; i++) {
		reqs[i] = (struct blk_request){.op = BLK_OP_READ,
					       .sector = 8 * i,
					       .count = 8,
					       .buf = rbuf + 4096 * i,
					       .done = count_done};
		blk_submit(s->blk, &reqs[i]);
	}
	s->hold = true;
	device_run(s);
	s->hold = false;
	return s->nheld;
}

static void test_bogus_id(void)
{
	struct simblk *s = hostile_new();
	static struct blk_request reqs[3];
	unsigned resets, held, num;
	bool done;
	int err;

	if (!s)
		return;
	/* Three reads in flight; the device serves the first but names a
	 * descriptor that heads no chain (each chain is 3 long here). */
	held = hold_three_reads(s, reqs);
	s->nheld = 0;
	num = s->q[0].vr.num;
	resets = s->t.resets;
	sim_push(&s->q[0], (s->held[0].head + num / 2) % num, serve(s, 0, &s->held[0]));
	vring_interrupt(s->t.vqs[0]);
	done = pump(s, 3);
	CHECK(held == 3 && virtqueue_is_broken(s->t.vqs[0]) && done && reqs[0].status == -EIO &&
		      reqs[1].status == -EIO && reqs[2].status == -EIO,
	      "a used id never posted: ring broken, all 3 requests in flight fail with -EIO, "
	      "nothing hangs (%u of 3 done)",
	      ndone);
	CHECK(s->t.resets > resets,
	      "the device is reset before the buffers it held are handed back");
	err = blk_read(s->blk, 0, 8, rbuf);
	CHECK(err == -EIO, "a later read on the broken device fails at once (%s)",
	      blk_errname(err));
	simblk_free(s);
}

static void test_twice(void)
{
	struct simblk *s = hostile_new();
	unsigned saw;
	int e1, e2;

	if (!s)
		return;
	s->bad = TWICE;
	e1 = blk_read(s->blk, 0, 8, rbuf);
	/* The same id again, nothing in flight behind it. */
	sim_push(&s->q[s->twice.q], s->twice.id, 1);
	vring_interrupt(s->t.vqs[s->twice.q]);
	saw = device_saw(s);
	e2 = blk_read(s->blk, 8, 8, rbuf);
	CHECK(e1 == 0 && virtqueue_is_broken(s->t.vqs[0]) && e2 == -EIO && device_saw(s) == saw,
	      "a request completed twice: the first completion counts (%s), the second breaks "
	      "the ring; the next read fails (%s), nothing hangs",
	      blk_errname(e1), blk_errname(e2));
	simblk_free(s);
}

/* DEVICE_NEEDS_RESET (2.1.2) with three reads held by the device: the
 * config interrupt makes the core break every queue and run each queue's
 * callback once, so the driver fails what it holds instead of waiting
 * for completions that will never come. */
static void test_needs_reset(void)
{
	struct simblk *s = hostile_new();
	static struct blk_request reqs[3];
	unsigned resets;
	bool done;
	int err;

	if (!s)
		return;
	hold_three_reads(s, reqs);
	s->nheld = 0; /* the device drops them */
	resets = s->t.resets;
	s->t.status |= VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
	virtio_config_changed(&s->t.vdev);
	done = pump(s, 3);
	CHECK(done && reqs[0].status == -EIO && reqs[1].status == -EIO && reqs[2].status == -EIO &&
		      s->t.resets > resets,
	      "DEVICE_NEEDS_RESET with 3 reads held: the device is reset and all 3 fail with -EIO, "
	      "nothing hangs (%u of 3 done)",
	      ndone);
	err = blk_read(s->blk, 0, 8, rbuf);
	CHECK(err == -EIO, "a later read fails at once (%s)", blk_errname(err));
	simblk_free(s);
}

int main(void)
{
	blk_sim_start();
	test_bad_status();
	test_bogus_id();
	test_twice();
	test_needs_reset();
	return blk_sim_finish();
}
