/*
 * The simulated virtio-blk device of blk_sim.h (virtio 1.2 section 5.2):
 * the chain parser and server (5.2.6), the device loop the driver's waits
 * run, and the device's creation with its config space (5.2.4).
 */
#include "blk_sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio_blk.h"
#include "kernel/lib/init.h"
#include "virtio/virtqueue_transport.h"

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
uint32_t serve(struct simblk *s, unsigned qi, const struct sim_req *r)
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
unsigned device_run(struct simblk *s)
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
void release_held(struct simblk *s)
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
static void (*report_hang)(void);

static void wait_hook(void)
{
	if (device_run(cur)) {
		idle_waits = 0;
		return;
	}
	if (++idle_waits > 1000) {
		report_hang();
		exit(1);
	}
}

unsigned ndone;

void count_done(struct blk_request *req, int status)
{
	ndone++;
}

bool pump(struct simblk *s, unsigned n)
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

void cfg_put(struct simblk *s, unsigned off, uint64_t v, unsigned len)
{
	memcpy(s->t.config + off, &v, len);
}

/* Creates the device and lets the driver bind; s->blk is NULL if it did
 * not. */
struct simblk *simblk_new(const struct blk_opts *o)
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

void simblk_free(struct simblk *s)
{
	unregister_virtio_device(&s->t.vdev);
	free(s);
}

unsigned device_saw(const struct simblk *s)
{
	return s->seen_total;
}

uint8_t wbuf[256 * 1024], rbuf[256 * 1024];

void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 17 + (i >> 9));
}

void blk_sim_setup(void (*hung)(void))
{
	report_hang = hung;
	irq_host_wait_hook = wait_hook;
	register_blk_driver();
}
