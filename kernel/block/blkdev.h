/*
 * Block devices: the interface between block drivers (drivers/virtio_blk.c,
 * virtio 1.2 section 5.2) and their users (shell, self-tests, benchmarks).
 *
 * Addresses are in 512-byte sectors whatever the device's logical block
 * size, like the virtio-blk request header (5.2.6): a request's start and
 * length must then be multiples of the block size.
 *
 * The interface is asynchronous: blk_submit() hands a struct blk_request to
 * the device and returns; req->done(req, status) runs when the device has
 * finished it, usually in interrupt context. The blocking wrappers
 * (blk_read, blk_write, ...) submit and wait with `sti; hlt` until then.
 *
 * Everything the device could refuse is checked first: a request past the
 * end, a write to a read-only device, an operation the device did not
 * negotiate is rejected by blk_submit() with an error and nothing is sent.
 *
 * Concurrency (one CPU): blk_submit() may be called from thread context or
 * from a done callback. Requests are issued to the device only from thread
 * context (blk_submit outside a callback, blk_poll, the waiting loops): the
 * ring allocates indirect tables with the heap, which is not safe to enter
 * from an interrupt. A submitter that waits for completions must wait with
 * blk_wait() (or call blk_poll() each time it wakes), so queued work gets
 * issued as the ring drains.
 */
#ifndef KERNEL_BLOCK_BLKDEV_H
#define KERNEL_BLOCK_BLKDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/spinlock.h"

#include "kernel/lib/scatterlist.h"

#define BLK_SECTOR_SIZE	 512u
#define BLK_SECTOR_SHIFT 9
#define BLK_ID_BYTES	 20 /* GET_ID answer (5.2.6): not NUL terminated */

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_GET_ID,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
	BLK_OP_COUNT
};

/* Capabilities a driver declares in blkdev->caps. */
#define BLK_CAP_FLUSH	     (1u << 0) /* volatile cache; FLUSH means something */
#define BLK_CAP_DISCARD	     (1u << 1)
#define BLK_CAP_WRITE_ZEROES (1u << 2)
#define BLK_CAP_GET_ID	     (1u << 3)

/* What a device's volatile write cache does with a completed write. */
enum blk_cache_mode {
	BLK_CACHE_WRITETHROUGH, /* the data is on stable storage (or no cache) */
	BLK_CACHE_WRITEBACK,	/* the data may sit in a cache until a FLUSH */
};

/* Request flags. */
#define BLK_REQ_UNMAP (1u << 0) /* WRITE_ZEROES: the device may deallocate */

struct blk_request;
struct blkdev;
typedef void blk_done_fn(struct blk_request *req, int status);

struct blk_request {
	/* Filled by the submitter. */
	enum blk_op op;
	uint32_t flags;	 /* BLK_REQ_* */
	uint64_t sector; /* READ, WRITE, DISCARD, WRITE_ZEROES */
	uint32_t count;	 /* sectors; 0 for FLUSH and GET_ID */
	/* Data for READ and WRITE (count * 512 bytes) and GET_ID
	 * (BLK_ID_BYTES): either a scatterlist (sg != NULL) or one
	 * contiguous buffer. Must stay valid until done runs. */
	struct scatterlist *sg;
	void *buf;
	blk_done_fn *done; /* required; interrupt or thread context */
	void *ctx;	   /* the submitter's */

	/* Result, valid when done runs: 0, -EIO (device error or a status the
	 * device did not write), -EOPNOTSUPP (device said UNSUPP), ... */
	int status;

	/* Private to the block layer and the driver. */
	struct blkdev *dev;
	struct blk_request *next_pending; /* in dev's queue of unissued work */
	uint64_t next_sector;		  /* split cursor: next chunk starts here */
	struct scatterlist *cur_sg;	  /* ... and takes data from here */
	uint32_t cur_off;		  /* ... at this offset in cur_sg */
	struct scatterlist one_sg;	  /* the list for `buf` */
	unsigned inflight;		  /* chunks the device holds */
	unsigned chunks;		  /* chunks issued in all */
	bool issued_all;
	int error;
	uint64_t submit_ns;
	unsigned submit_cpu; /* woken when done ran on another CPU */
	unsigned hwq;	     /* the hardware context it was submitted on */
};

/* What a driver provides. issue and kick are called with the lock of the
 * request's hardware context held (blk_lock()), and interrupts off: they
 * may touch only that context's queues (req->hwq, `hwq`). */
struct blkdev_ops {
	/* Issue as much of `req` as the device takes now, continuing from
	 * its split cursor. Returns 1 when nothing is left to issue (also
	 * after an error, recorded in req->error), 0 when the device is full
	 * (call again after completions). */
	int (*issue)(struct blkdev *dev, struct blk_request *req);
	/* Tell the device about everything issued since the last call. */
	void (*kick)(struct blkdev *dev, unsigned hwq);
	/* Optional: the part of a kick that may trap to the hypervisor (the
	 * doorbell write), called after the context lock is dropped so other
	 * CPUs do not wait while the device is told. kick then only decides
	 * which queues need it. */
	void (*notify)(struct blkdev *dev);
	/* Optional: collect completions of context `hwq` as the interrupt
	 * would, without holding its lock (it takes it). A waiter calls it
	 * on every wake-up, so a completion whose interrupt was lost is
	 * still seen (see vblk_poll for why interrupts can be lost). */
	void (*poll)(struct blkdev *dev, unsigned hwq);
	/* Extra lines for `lsblk -v` / `blk stats`. Optional. */
	void (*print_stats)(struct blkdev *dev);
	/* Switch the write cache mode and update dev->cache. Optional
	 * (devices whose mode is fixed). Thread context, interrupts on. */
	int (*set_cache_mode)(struct blkdev *dev, enum blk_cache_mode mode);
};

struct blk_op_stats {
	uint64_t submitted; /* accepted by blk_submit */
	uint64_t completed; /* done called */
	uint64_t errors;    /* done called with status != 0 */
	uint64_t rejected;  /* refused by blk_submit (nothing sent) */
	uint64_t sectors;   /* completed sectors */
};

#define BLK_MAX_CPUS 64 /* as ACPI_MAX_CPUS */
#define BLK_MAX_HWQ  8

struct blkdev {
	char name[8];	     /* vda, vdb, ... assigned at registration */
	uint64_t capacity;   /* sectors; may change (config change) */
	uint32_t block_size; /* logical block size, bytes, power of 2 >= 512 */
	bool read_only;
	unsigned caps; /* BLK_CAP_* */
	enum blk_cache_mode cache;
	unsigned nqueues;  /* hardware queues, for display */
	char features[96]; /* for lsblk: "flush discard wzeroes mq ..." */
	const char *driver;
	const struct blkdev_ops *ops;
	void *priv;

	/* Hardware contexts, as blk-mq has them: the driver sets nr_hwq
	 * (1 to BLK_MAX_HWQ) before registering, and CPU c submits on
	 * context c % nr_hwq. Each has its own lock, which guards its list
	 * of work not yet issued and the driver's queues that belong to it
	 * (issue, kick and their completions run under it): two CPUs on two
	 * contexts never wait for each other. */
	unsigned nr_hwq;
	struct blk_hwq {
		struct spinlock lock;
		struct blk_request *pend_head, *pend_tail; /* submitted, not fully issued */
	} hwq[BLK_MAX_HWQ];
	/* Completed, done not run yet: one list per completing CPU, touched
	 * only by that CPU with interrupts off, which runs it when it drops
	 * the lock (so a done callback runs on the CPU that took the
	 * completion, normally the submitter). */
	struct blk_done_list {
		struct blk_request *head, *tail;
	} done[BLK_MAX_CPUS];
	/* Updated from every context: atomic. */
	unsigned inflight_requests; /* submitted, done not yet run */
	struct blk_op_stats stats[BLK_OP_COUNT];
	struct blkdev *next; /* the registry: changed only at boot and removal */
};

/* Registration by drivers: names the device (vda, vdb, ...) and lists it.
 * Returns 0 or a negative errno. */
int blkdev_register(struct blkdev *dev);
void blkdev_unregister(struct blkdev *dev);
struct blkdev *blkdev_find(const char *name);
struct blkdev *blkdev_next(struct blkdev *prev); /* NULL starts */
const char *blk_op_name(enum blk_op op);

/* A hardware context's lock, for drivers: their completion path (an
 * interrupt, on the CPU that owns the queue) takes the lock of the context
 * the queue belongs to. blk_unlock() releases it, rings the doorbells
 * (ops->notify), then runs the done callbacks of the requests this CPU
 * completed meanwhile, with no lock held, so a callback may submit again,
 * to any device. blk_lock_all() takes every context's lock, in index order
 * (the lock order), for what spans queues: a reset, a removal, a resize. */
unsigned long blk_lock(struct blkdev *dev, unsigned hwq);
void blk_unlock(struct blkdev *dev, unsigned hwq, unsigned long flags);
unsigned long blk_lock_all(struct blkdev *dev);
void blk_unlock_all(struct blkdev *dev, unsigned long flags);

/* Drivers call this once per request when its last chunk completed, with
 * its context's lock held: sets req->status; req->done runs at
 * blk_unlock(). */
void blk_complete(struct blk_request *req);

/* Checks `req` and queues it to the device. Returns 0 (done will run,
 * possibly before blk_submit returns), or a negative errno and done never
 * runs: -EINVAL (malformed), -ERANGE (past the end), -EROFS (write to a
 * read-only device), -EOPNOTSUPP (an operation the device lacks), -ENODEV.
 */
int blk_submit(struct blkdev *dev, struct blk_request *req);
/* Issues queued work to every device. Thread context. */
void blk_poll(void);
/* Waits (sti; hlt, issuing queued work on every wake) until cond(arg) is
 * true. Thread context. */
void blk_wait(bool (*cond)(void *arg), void *arg);

/* Blocking wrappers: submit and wait. 0 or a negative errno. */
int blk_submit_wait(struct blkdev *dev, struct blk_request *req);
int blk_read(struct blkdev *dev, uint64_t sector, uint32_t count, void *buf);
int blk_write(struct blkdev *dev, uint64_t sector, uint32_t count, const void *buf);
int blk_flush(struct blkdev *dev);
int blk_get_id(struct blkdev *dev, char id[BLK_ID_BYTES + 1]);
int blk_discard(struct blkdev *dev, uint64_t sector, uint32_t count);
int blk_write_zeroes(struct blkdev *dev, uint64_t sector, uint32_t count, bool unmap);

/* Changes the device's write cache mode. Going to write-through flushes
 * first, so that everything already written is as safe as what follows.
 * 0, -EOPNOTSUPP (the mode is fixed), or the flush's / driver's error.
 * Thread context. */
int blk_set_cache_mode(struct blkdev *dev, enum blk_cache_mode mode);
const char *blk_cache_mode_name(enum blk_cache_mode mode);

/* "EIO", "EROFS", ... for messages; "E?" for others. */
const char *blk_errname(int err);

#endif
