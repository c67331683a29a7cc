/*
 * A simulated virtio-blk device (virtio 1.2 section 5.2) for the host tests
 * of the whole virtio-blk path (test_virtio_blk*.c): drivers/virtio_blk.c
 * with its splitting, the block layer, the virtio core and both ring
 * layouts bind to it, unchanged, over the in-memory transport
 * (test/host/sim_transport.c) and the device side of the rings
 * (test/host/vring_sim.c). QEMU (test/qemu/test_blk.py) only ever behaves;
 * this device also misbehaves on purpose.
 *
 * The device parses each chain as 5.2.6 lays it out (16-byte header, data,
 * status byte), checks the driver kept the limits it advertised (seg_max,
 * size_max, blk_size, capacity, read-only), serves it against an in-memory
 * disk and counts what it saw, so a test can tell "refused before the
 * device" from "refused by the device". Knobs make it hold chains, fail a
 * sector with a status, or botch the next request (enum misbehave).
 */
#ifndef TEST_HOST_BLK_SIM_H
#define TEST_HOST_BLK_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/block/blkdev.h"
#include "shim/dma_host.h"
#include "shim/irq_host.h"
#include "sim_transport.h"
#include "tap.h"
#include "virtio/virtio.h"
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

struct blk_opts {
	uint64_t features;
	uint64_t capacity;
	uint32_t blk_size, seg_max, size_max;
	uint16_t nq;
	bool split;
};

/* Big enough for the largest request a test sends (256 KiB). */
extern uint8_t wbuf[256 * 1024], rbuf[256 * 1024];
/* Requests completed through count_done() (a test resets it). */
extern unsigned ndone;

/* Registers the driver and makes blk_wait() run the device; `hung`
 * reports a wait that makes no progress, the program then exits 1. */
void blk_sim_setup(void (*hung)(void));
/* Creates the device and lets the driver bind; s->blk is NULL if it did
 * not. */
struct simblk *simblk_new(const struct blk_opts *o);
void simblk_free(struct simblk *s);
/* Serves one chain: returns the used length and writes the status. */
uint32_t serve(struct simblk *s, unsigned qi, const struct sim_req *r);
/* Pops and serves (or holds) everything available on every queue, then
 * interrupts where the driver asked for it. Returns the chains popped. */
unsigned device_run(struct simblk *s);
/* Serves the held chains, newest first (out of order), and interrupts. */
void release_held(struct simblk *s);
/* A blk_request done callback: counts into ndone. */
void count_done(struct blk_request *req, int status);
/* Runs the device and the block layer's queue until `n` requests are done
 * or nothing moves any more. For requests that may never complete. */
bool pump(struct simblk *s, unsigned n);
/* Writes `len` bytes of `v` at config offset `off`. */
void cfg_put(struct simblk *s, unsigned off, uint64_t v, unsigned len);
/* Requests the device has parsed so far. */
unsigned device_saw(const struct simblk *s);
/* A pattern of `n` bytes that differs with `seed`. */
void fill(uint8_t *p, size_t n, unsigned seed);

/* A hang, reported among the program's own checks. */
static inline void blk_sim_report_hang(void)
{
	CHECK(false, "blk_wait() hung: the device has nothing left and the request is "
		     "not done");
	tap_done();
}

static inline void blk_sim_start(void)
{
	blk_sim_setup(blk_sim_report_hang);
}

/* The check every program ends with; returns the exit status. */
static inline int blk_sim_finish(void)
{
	CHECK(irq_host_enabled && dma_host_outstanding == 0,
	      "interrupts enabled again, every ring and request slot freed (%ld left)",
	      dma_host_outstanding);
	return tap_done();
}

#endif
