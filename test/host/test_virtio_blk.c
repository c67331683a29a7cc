/*
 * Host test of the whole virtio-blk path: drivers/virtio_blk.c (virtio 1.2
 * section 5.2) with its splitting, the block layer (kernel/block/blkdev.c), the
 * virtio core and both ring layouts, all unchanged, against a simulated
 * device this file plays over the in-memory transport
 * (test/host/sim_transport.c) and the device side of the rings
 * (test/host/vring_sim.c). QEMU (test/qemu/test_blk.py) only ever behaves;
 * this device also misbehaves on purpose.
 *
 * The device parses each chain as 5.2.6 lays it out (16-byte header, data,
 * status byte), checks the driver kept the limits it advertised (seg_max,
 * size_max, blk_size, capacity, read-only), serves it against an in-memory
 * disk and counts what it saw, so a test can tell "refused before the
 * device" from "refused by the device". The checks: data integrity with
 * splitting and many requests in flight, IOERR / UNSUPP mapping, a status
 * never written, a used length past the buffer, a used id never posted, a
 * request completed twice, bounds and read-only refusals, capacity change,
 * and the FLUSH / GET_ID / DISCARD / WRITE_ZEROES requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/virtio_blk.h"
#include "kernel/block/blkdev.h"
#include "kernel/lib/init.h"
#include "shim/dma_host.h"
#include "shim/irq_host.h"
#include "sim_transport.h"
#include "tap.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue_transport.h"
#include "vring_sim.h"

/* virtio-blk feature bits, config offsets, types and status (5.2.3-5.2.6),
 * spelled out again on the device's side. */
#define F_SIZE_MAX     VIRTIO_BIT(1)
#define F_SEG_MAX      VIRTIO_BIT(2)
#define F_RO	       VIRTIO_BIT(5)
#define F_BLK_SIZE     VIRTIO_BIT(6)
#define F_FLUSH	       VIRTIO_BIT(9)
#define F_MQ	       VIRTIO_BIT(12)
#define F_DISCARD      VIRTIO_BIT(13)
#define F_WRITE_ZEROES VIRTIO_BIT(14)
#define F_INDIRECT     VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT	       VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)
#define F_V1	       VIRTIO_BIT(VIRTIO_F_VERSION_1)

#define CFG_CAPACITY	 0
#define CFG_SIZE_MAX	 8
#define CFG_SEG_MAX	 12
#define CFG_BLK_SIZE	 20
#define CFG_NUM_QUEUES	 34
#define CFG_MAX_DISCARD	 36
#define CFG_DISCARD_SEG	 40
#define CFG_DISCARD_ALN	 44
#define CFG_MAX_WZ	 48
#define CFG_WZ_SEG	 52
#define CFG_WZ_MAY_UNMAP 56

#define T_IN	       0
#define T_OUT	       1
#define T_FLUSH	       4
#define T_GET_ID       8
#define T_DISCARD      11
#define T_WRITE_ZEROES 13
#define NTYPES	       16

#define S_OK	 0
#define S_IOERR	 1
#define S_UNSUPP 2

#define DISK_SECTORS 2048 /* 1 MiB backing store; capacity may say less */
#define MAX_HELD     64
#define SERIAL	     "simblk-serial-000042" /* exactly 20 bytes */

/* How the device botches the next request it serves. */
enum misbehave {
	BEHAVE,
	NO_STATUS,  /* used length 0, status byte left as the driver set it */
	LONG_LEN,   /* used length past everything the driver posted */
	TWICE,	    /* remembers its id, for the test to complete it again */
	BAD_STATUS, /* writes status 7, which 5.2.6 does not define */
};

struct sim_range {
	uint64_t sector;
	uint32_t num, flags;
};

struct simblk {
	struct sim_transport t;
	struct sim_dev q[SIM_TP_MAX_VQS];
	unsigned nq;
	struct blkdev *blk;
	uint8_t disk[DISK_SECTORS * 512];
	uint32_t blk_size, seg_max, size_max; /* as offered (0: not offered) */
	bool ro;
	/* Behaviour. */
	bool hold; /* keep chains instead of serving them */
	struct sim_req held[MAX_HELD];
	unsigned held_q[MAX_HELD], nheld;
	uint64_t err_sector; /* IN/OUT covering it gets err_status */
	uint8_t err_status;
	enum misbehave bad;
	struct {
		unsigned q;
		uint32_t id;
	} twice; /* the completion to repeat */
	/* Observations. */
	unsigned seen[NTYPES], seen_total, per_q[SIM_TP_MAX_VQS];
	unsigned max_segs, max_seg_len, multi_seg;
	unsigned violations, rule_errors;
	char why[200];
	struct sim_range last_range;
	uint32_t last_id_len;
	uint64_t last_flush_sector;
};

static struct simblk *cur; /* the device the wait hook serves */
static unsigned idle_waits;

static void violation(struct simblk *s, const char *what)
{
	if (!s->violations++)
		snprintf(s->why, sizeof s->why, "%s", what);
}

/* Copies between the disk and the data segments; false if they are not
 * what the type needs (direction) or do not fit the disk. */
static bool move_data(struct simblk *s, const struct sim_req *r, unsigned first, unsigned n,
		      uint64_t off, bool to_disk)
{
	for (unsigned i = first; i < first + n; i++) {
		const struct sim_seg *g = &r->seg[i];

		if (g->write == to_disk || off + g->len > sizeof s->disk)
			return false;
		if (to_disk)
			memcpy(s->disk + off, g->buf, g->len);
		else
			memcpy(g->buf, s->disk + off, g->len);
		off += g->len;
	}
	return true;
}

static uint64_t capacity(struct simblk *s)
{
	uint64_t c;

	memcpy(&c, s->t.config + CFG_CAPACITY, 8);
	return c;
}

/* Serves one chain: returns the used length and writes the status. */
static uint32_t serve(struct simblk *s, unsigned qi, const struct sim_req *r)
{
	struct {
		uint32_t type, ioprio;
		uint64_t sector;
	} hdr;
	const struct sim_seg *st = &r->seg[r->nseg - 1];
	unsigned ndata = r->nseg - 2;
	uint64_t bytes = 0;
	uint8_t status = S_OK;
	uint32_t in = 1;

	if (r->nseg < 2 || r->seg[0].write || r->seg[0].len != 16 || !st->write || st->len != 1) {
		violation(s, "chain is not header(16, readable) ... status(1, writable)");
		return 0;
	}
	memcpy(&hdr, r->seg[0].buf, 16);
	s->seen[hdr.type < NTYPES ? hdr.type : NTYPES - 1]++;
	s->seen_total++;
	s->per_q[qi]++;
	for (unsigned i = 1; i <= ndata; i++) {
		bytes += r->seg[i].len;
		if (r->seg[i].len > s->max_seg_len)
			s->max_seg_len = r->seg[i].len;
	}
	if (ndata > s->max_segs)
		s->max_segs = ndata;

	switch (hdr.type) {
	case T_IN:
	case T_OUT:
		if (ndata > 1)
			s->multi_seg++;
		if ((s->seg_max && ndata > s->seg_max) ||
		    (s->size_max && s->max_seg_len > s->size_max))
			violation(s, "data beyond seg_max / size_max");
		if (bytes == 0 || bytes % s->blk_size || (hdr.sector * 512) % s->blk_size)
			violation(s, "data not whole blocks");
		if (hdr.sector + bytes / 512 > capacity(s)) {
			violation(s, "request past capacity reached the device");
			status = S_IOERR;
		} else if (hdr.type == T_OUT && s->ro) {
			violation(s, "write reached a read-only device");
			status = S_IOERR;
		} else if (s->err_status && s->err_sector >= hdr.sector &&
			   s->err_sector < hdr.sector + bytes / 512) {
			status = s->err_status;
		} else if (!move_data(s, r, 1, ndata, hdr.sector * 512, hdr.type == T_OUT)) {
			violation(s, "data segments in the wrong direction");
			status = S_IOERR;
		}
		if (hdr.type == T_IN && status == S_OK)
			in += (uint32_t)bytes;
		break;
	case T_FLUSH:
		if (ndata)
			violation(s, "flush with data");
		s->last_flush_sector = hdr.sector;
		break;
	case T_GET_ID:
		if (ndata != 1 || !r->seg[1].write) {
			violation(s, "get-id without one writable buffer");
			status = S_IOERR;
			break;
		}
		s->last_id_len = r->seg[1].len;
		memcpy(r->seg[1].buf, SERIAL, r->seg[1].len < 20 ? r->seg[1].len : 20);
		in += r->seg[1].len < 20 ? r->seg[1].len : 20;
		break;
	case T_DISCARD:
	case T_WRITE_ZEROES: {
		struct sim_range rg;

		if (ndata != 1 || r->seg[1].write || r->seg[1].len != 16) {
			violation(s, "range request without one 16-byte readable range");
			status = S_IOERR;
			break;
		}
		memcpy(&rg, r->seg[1].buf, 16);
		s->last_range = rg;
		if (rg.sector + rg.num > capacity(s)) {
			violation(s, "range past capacity reached the device");
			status = S_IOERR;
		} else if (hdr.type == T_WRITE_ZEROES) {
			memset(s->disk + rg.sector * 512, 0, (size_t)rg.num * 512);
		}
		break;
	}
	default:
		status = S_UNSUPP;
		break;
	}

	switch (s->bad) {
	case NO_STATUS:
		s->bad = BEHAVE;
		return 0; /* status untouched */
	case BAD_STATUS:
		s->bad = BEHAVE;
		status = 7;
		break;
	case LONG_LEN:
		s->bad = BEHAVE;
		in += 1u << 20;
		break;
	default:
		break;
	}
	*(uint8_t *)st->buf = status;
	return in;
}

/* Pops and serves (or holds) everything available on every queue, then
 * interrupts where the driver asked for it. Returns the chains popped. */
static unsigned device_run(struct simblk *s)
{
	unsigned popped = 0;

	for (unsigned qi = 0; qi < s->nq; qi++) {
		struct sim_dev *d = &s->q[qi];
		struct sim_req r;
		bool pushed = false;
		int err;

		while ((err = sim_pop(d, &r)) == 0) {
			popped++;
			if (s->hold && s->nheld < MAX_HELD) {
				s->held[s->nheld] = r;
				s->held_q[s->nheld++] = qi;
				continue;
			}
			uint32_t len = serve(s, qi, &r);

			sim_push(d, r.head, len);
			if (s->bad == TWICE) {
				s->bad = BEHAVE;
				s->twice.q = qi;
				s->twice.id = r.head;
			}
			pushed = true;
		}
		if (err == -EPROTO && !s->rule_errors++)
			snprintf(s->why, sizeof s->why, "ring rule: %s", d->error);
		if (pushed && sim_need_interrupt(d))
			vring_interrupt(s->t.vqs[qi]);
	}
	return popped;
}

/* Serves the held chains, newest first (out of order), and interrupts. */
static void release_held(struct simblk *s)
{
	bool any[SIM_TP_MAX_VQS] = {false};

	while (s->nheld) {
		unsigned i = --s->nheld;

		sim_push(&s->q[s->held_q[i]], s->held[i].head, serve(s, s->held_q[i], &s->held[i]));
		any[s->held_q[i]] = true;
	}
	for (unsigned qi = 0; qi < s->nq; qi++)
		if (any[qi] && sim_need_interrupt(&s->q[qi]))
			vring_interrupt(s->t.vqs[qi]);
}

/* The wait_for_interrupt() of blk_wait(): the device runs. A wait that
 * makes no progress for long is a hang: report it and stop. */
static void wait_hook(void)
{
	if (device_run(cur)) {
		idle_waits = 0;
		return;
	}
	if (++idle_waits > 1000) {
		CHECK(false, "blk_wait() hung: the device has nothing left and the request is "
			     "not done");
		tap_done();
		exit(1);
	}
}

/* Runs the device and the block layer's queue until `n` requests are done
 * or nothing moves any more. For requests that may never complete. */
static unsigned ndone;

static void count_done(struct blk_request *req, int status)
{
	ndone++;
}

static bool pump(struct simblk *s, unsigned n)
{
	for (unsigned idle = 0; ndone < n && idle < 50;) {
		blk_poll();
		idle = device_run(s) ? 0 : idle + 1;
	}
	return ndone >= n;
}

/* The driver registers through its INITCALL, as at boot. */
static void register_blk_driver(void)
{
	SECTION_FOREACH(initcalls, struct initcall, ic)
	if (strcmp(ic->name, "vblk_driver_register") == 0)
		ic->fn();
}

static void cfg_put(struct simblk *s, unsigned off, uint64_t v, unsigned len)
{
	memcpy(s->t.config + off, &v, len);
}

struct blk_opts {
	uint64_t features;
	uint64_t capacity;
	uint32_t blk_size, seg_max, size_max;
	uint16_t nq;
	bool split;
};

/* Creates the device and lets the driver bind; NULL if it did not. */
static struct simblk *simblk_new(const struct blk_opts *o)
{
	struct simblk *s = calloc(1, sizeof *s);
	struct blkdev *before = NULL;

	for (struct blkdev *d = blkdev_next(NULL); d; d = blkdev_next(d))
		before = d;
	/* The core takes the packed layout whenever the device offers it. */
	sim_transport_init(&s->t, VIRTIO_ID_BLOCK,
			   o->features | F_V1 | (o->split ? 0 : VIRTIO_BIT(VIRTIO_F_RING_PACKED)));
	s->blk_size = o->features & F_BLK_SIZE ? o->blk_size : 512;
	s->seg_max = o->features & F_SEG_MAX ? o->seg_max : 1;
	s->size_max = o->features & F_SIZE_MAX ? o->size_max : 0;
	s->ro = o->features & F_RO;
	cfg_put(s, CFG_CAPACITY, o->capacity, 8);
	cfg_put(s, CFG_SIZE_MAX, o->size_max, 4);
	cfg_put(s, CFG_SEG_MAX, o->seg_max, 4);
	cfg_put(s, CFG_BLK_SIZE, o->blk_size, 4);
	cfg_put(s, CFG_NUM_QUEUES, o->nq, 2);
	cfg_put(s, CFG_MAX_DISCARD, 64, 4);
	cfg_put(s, CFG_DISCARD_SEG, 1, 4);
	cfg_put(s, CFG_DISCARD_ALN, 8, 4);
	cfg_put(s, CFG_MAX_WZ, 64, 4);
	cfg_put(s, CFG_WZ_SEG, 1, 4);
	cfg_put(s, CFG_WZ_MAY_UNMAP, 1, 1);
	for (size_t i = 0; i < sizeof s->disk; i++)
		s->disk[i] = (uint8_t)(i * 7 + i / 512);
	register_virtio_device(&s->t.vdev);
	s->blk = before ? blkdev_next(before) : blkdev_next(NULL);
	if (!s->blk || !virtio_blk_is(s->blk))
		return s;
	s->nq = s->t.nvqs;
	for (unsigned i = 0; i < s->nq; i++)
		sim_init(&s->q[i], s->t.vqs[i]);
	cur = s;
	return s;
}

static void simblk_free(struct simblk *s)
{
	unregister_virtio_device(&s->t.vdev);
	free(s);
}

static unsigned device_saw(const struct simblk *s)
{
	return s->seen_total;
}

/* ---- Data integrity, splitting, many in flight ------------------------- */

static uint8_t wbuf[256 * 1024], rbuf[256 * 1024];

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 17 + (i >> 9));
}

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

/* ---- Misbehaviour ------------------------------------------------------- */

static const struct blk_opts hostile_opts = {
	.features = F_SEG_MAX | F_FLUSH,
	.capacity = DISK_SECTORS,
	.seg_max = 8,
	.split = true,
};

static void test_bad_status(void)
{
	struct simblk *s = simblk_new(&hostile_opts);
	int e1, e2, e3;

	if (!s->blk) {
		CHECK(false, "hostile device bound");
		simblk_free(s);
		return;
	}
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
	struct simblk *s = simblk_new(&hostile_opts);
	static struct blk_request reqs[3];
	unsigned resets, held, num;
	bool done;
	int err;

	if (!s->blk) {
		CHECK(false, "hostile device bound");
		simblk_free(s);
		return;
	}
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
	struct simblk *s = simblk_new(&hostile_opts);
	unsigned saw;
	int e1, e2;

	if (!s->blk) {
		CHECK(false, "hostile device bound");
		simblk_free(s);
		return;
	}
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
	struct simblk *s = simblk_new(&hostile_opts);
	static struct blk_request reqs[3];
	unsigned resets;
	bool done;
	int err;

	if (!s->blk) {
		CHECK(false, "hostile device bound");
		simblk_free(s);
		return;
	}
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
	irq_host_wait_hook = wait_hook;
	register_blk_driver();

	test_integrity(true);
	test_integrity(false);
	test_requests();
	test_bare_device();
	test_read_only();
	test_bad_status();
	test_bogus_id();
	test_twice();
	test_needs_reset();

	CHECK(irq_host_enabled && dma_host_outstanding == 0,
	      "interrupts enabled again, every ring and request slot freed (%ld left)",
	      dma_host_outstanding);
	return tap_done();
}
