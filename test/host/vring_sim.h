/*
 * A simulated device side of a virtqueue, split (virtio 1.2 section 2.7)
 * or packed (section 2.8), the device's half, for host tests, the fuzzer
 * and the ring benchmark: it pops available chains (following indirect
 * tables), checks that the driver kept the rules a real device relies on,
 * writes used entries, and makes the notification decisions of 2.7.7 /
 * 2.7.10 / 2.8.10 from the device's side. It works on raw ring memory, like
 * a device, and may run on another thread than the driver. The layout is
 * the queue's (sim_init asks it); the functions below work for both.
 */
#ifndef TEST_HOST_VRING_SIM_H
#define TEST_HOST_VRING_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/ring/ring_format.h"
#include "virtio/virtqueue.h"

#define SIM_MAX_SEGS 64
/* Largest packed ring the simulator remembers buffer sizes for. */
#define SIM_MAX_NUM 1024

struct sim_seg {
	void *buf;
	uint32_t len;
	bool write; /* device-writable */
};

struct sim_req {
	uint16_t head; /* split: head descriptor; packed: buffer id */
	bool indirect;
	unsigned nseg;
	struct sim_seg seg[SIM_MAX_SEGS];
	uint32_t out_len, in_len; /* readable / writable bytes */
};

struct sim_dev {
	bool packed;
	struct vring vr;	 /* split */
	struct vring_packed pvr; /* packed */
	bool event;		 /* EVENT_IDX negotiated */
	bool indirect;		 /* INDIRECT_DESC negotiated */
	uint16_t last_avail;	 /* split: free-running; packed: buffers popped */
	uint16_t used_idx;	 /* split: free-running; packed: slots used (mod 2^16) */
	uint16_t signalled;	 /* used_idx at the last interrupt decision */
	/* Packed: the device's two positions and wrap counters (2.8.1), how
	 * many slots each popped id occupies, and laps completed. */
	uint16_t avail_pos, used_pos;
	bool avail_wrap, used_wrap;
	unsigned avail_laps, used_laps;
	uint16_t ndescs[SIM_MAX_NUM];
	unsigned errors; /* driver rule violations seen */
	char error[256]; /* the first one */
};

void sim_init(struct sim_dev *d, struct virtqueue *vq);
/* True if the driver made a chain available that we did not pop yet. */
bool sim_has_avail(struct sim_dev *d);
/* Pops the next available chain. 0, -EAGAIN when none, -EPROTO when the
 * driver broke a rule (recorded in d->error). */
int sim_pop(struct sim_dev *d, struct sim_req *r);
/* Writes `pattern` into the writable segments, up to `max` bytes; returns
 * how many were written. */
uint32_t sim_fill(const struct sim_req *r, uint8_t pattern, uint32_t max);
/* Copies up to `max` readable bytes into `out`; returns how many. */
uint32_t sim_read(const struct sim_req *r, void *out, uint32_t max);
/* Publishes one used entry (any id/len: hostile tests lie here). */
void sim_push(struct sim_dev *d, uint32_t id, uint32_t len);
/* Device-side interrupt decision after pushing: event index or flags.
 * Contains the full barrier the device needs before reading them. */
bool sim_need_interrupt(struct sim_dev *d);
/* Device-side kick suppression: `want` false asks the driver not to
 * notify; true asks to be notified, and returns whether chains arrived
 * meanwhile (re-check after re-enabling, with the full barrier). */
bool sim_want_kicks(struct sim_dev *d, bool want);

/* What the driver asked for, for tests: interrupts off by flag (split
 * NO_INTERRUPT / packed DISABLE), and the event position (split
 * used_event / packed off_wrap offset). */
bool sim_driver_irq_off(const struct sim_dev *d);
unsigned sim_driver_event(const struct sim_dev *d);
/* Hostile writes: overwrite every descriptor the driver wrote (split: the
 * whole table; packed: address, length and id, keeping the flags that say
 * who owns the slot). */
void sim_scribble(struct sim_dev *d);

#endif
