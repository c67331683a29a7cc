/*
 * The block layer (kernel/block/blkdev.h): a registry of block devices named vda,
 * vdb, ... in registration order, request checking, a per-device queue of
 * requests not yet (fully) issued to the driver, completion bookkeeping and
 * the blocking wrappers. It knows no device: drivers (virtio-blk, virtio
 * 1.2 section 5.2) provide struct blkdev_ops.
 *
 * Why a queue in front of the driver: a request may be split into more
 * device requests than the ring has room for. Such work waits here and is
 * issued as completions free the ring: nothing is ever dropped because the
 * ring was full.
 *
 * Several CPUs, as blk-mq does it: each device has hardware contexts
 * (dev->hwq[], as many as the driver has queues for, at most one per CPU),
 * each with its own lock over its unissued work and the driver's rings
 * that belong to it. CPU c submits on context c % nr_hwq, and the
 * driver's completion interrupt for those rings runs on that CPU too, so
 * in the steady state no two CPUs share a lock. Done callbacks run after
 * the lock is released (blk_unlock), so a callback may submit again
 * without taking a lock it already holds. A request whose callback ran on
 * another CPU than the one that submitted it wakes that CPU, which may be
 * waiting in `hlt` for it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/percpu.h"
#include "kernel/block/blkdev.h"
#include "kernel/lib/log.h"
#include "kernel/smp/smp.h"
#include "kernel/time/timer.h"

static struct blkdev *devices;
static unsigned registered; /* names are never reused: vda stays vda */

/* A waiter that sees nothing for this long says so (and keeps waiting: the
 * device still owns the buffers). */
#define BLK_STALL_NS (10ull * 1000000000ull)

const char *blk_op_name(enum blk_op op)
{
	static const char *const names[BLK_OP_COUNT] = {
		[BLK_OP_READ] = "read",	      [BLK_OP_WRITE] = "write",
		[BLK_OP_FLUSH] = "flush",     [BLK_OP_GET_ID] = "get-id",
		[BLK_OP_DISCARD] = "discard", [BLK_OP_WRITE_ZEROES] = "write-zeroes",
	};
	return (unsigned)op < BLK_OP_COUNT ? names[op] : "?";
}

const char *blk_errname(int err)
{
	switch (err) {
	case 0:
		return "OK";
	case -EIO:
		return "EIO";
	case -EINVAL:
		return "EINVAL";
	case -ERANGE:
		return "ERANGE";
	case -EROFS:
		return "EROFS";
	case -EOPNOTSUPP:
		return "EOPNOTSUPP";
	case -ENODEV:
		return "ENODEV";
	case -ENOMEM:
		return "ENOMEM";
	case -ENOSPC:
		return "ENOSPC";
	default:
		return "E?";
	}
}

int blkdev_register(struct blkdev *dev)
{
	struct blkdev **pp = &devices;

	if (!dev->ops || !dev->ops->issue || !dev->ops->kick)
		return -EINVAL;
	if (registered >= 26) {
		pr_err("blk: a 27th block device; names go from vda to vdz\n");
		return -ENOSPC;
	}
	if (dev->block_size < BLK_SECTOR_SIZE || (dev->block_size & (dev->block_size - 1)))
		dev->block_size = BLK_SECTOR_SIZE;
	snprintf(dev->name, sizeof dev->name, "vd%c", 'a' + registered++);
	if (dev->nr_hwq == 0 || dev->nr_hwq > BLK_MAX_HWQ)
		dev->nr_hwq = dev->nr_hwq ? BLK_MAX_HWQ : 1;
	for (unsigned h = 0; h < BLK_MAX_HWQ; h++) {
		spin_lock_init(&dev->hwq[h].lock, "block hw context");
		dev->hwq[h].pend_head = dev->hwq[h].pend_tail = NULL;
	}
	memset(dev->done, 0, sizeof dev->done);
	dev->inflight_requests = 0;
	memset(dev->stats, 0, sizeof dev->stats);
	while (*pp)
		pp = &(*pp)->next;
	dev->next = NULL;
	*pp = dev;
	return 0;
}

void blkdev_unregister(struct blkdev *dev)
{
	for (struct blkdev **pp = &devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			return;
		}
	}
}

struct blkdev *blkdev_find(const char *name)
{
	for (struct blkdev *d = devices; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

struct blkdev *blkdev_next(struct blkdev *prev)
{
	return prev ? prev->next : devices;
}

unsigned long blk_lock(struct blkdev *dev, unsigned hwq)
{
	return spin_lock_irqsave(&dev->hwq[hwq % BLK_MAX_HWQ].lock);
}

unsigned long blk_lock_all(struct blkdev *dev)
{
	unsigned long fl = irq_save();

	for (unsigned h = 0; h < dev->nr_hwq; h++)
		spin_lock(&dev->hwq[h].lock);
	return fl;
}

static struct blk_done_list *my_done_list(struct blkdev *dev)
{
	return &dev->done[this_cpu()->index % BLK_MAX_CPUS];
}

/* Runs the done callbacks this CPU queued with blk_complete(), without any
 * lock: the list is this CPU's, so interrupts off is enough to take from
 * it (an interrupt on this CPU may add to it). */
static void run_done(struct blkdev *dev)
{
	struct blk_done_list *list = my_done_list(dev);

	for (;;) {
		unsigned long fl = irq_save();
		struct blk_request *req = list->head;

		if (req) {
			list->head = req->next_pending;
			if (!list->head)
				list->tail = NULL;
		}
		irq_restore(fl);
		if (!req)
			return;
		unsigned cpu = req->submit_cpu;
		/* After done, req may be gone (the submitter's stack). */
		req->done(req, req->status);
		if (cpu != this_cpu()->index)
			smp_wake(cpu);
	}
}

/* What follows every unlock: doorbells, then this CPU's done callbacks. */
static void after_unlock(struct blkdev *dev, bool done_waiting)
{
	if (dev->ops && dev->ops->notify)
		dev->ops->notify(dev);
	if (done_waiting)
		run_done(dev);
}

void blk_unlock(struct blkdev *dev, unsigned hwq, unsigned long flags)
{
	bool done_waiting = my_done_list(dev)->head != NULL;

	spin_unlock_irqrestore(&dev->hwq[hwq % BLK_MAX_HWQ].lock, flags);
	after_unlock(dev, done_waiting);
}

void blk_unlock_all(struct blkdev *dev, unsigned long flags)
{
	bool done_waiting = my_done_list(dev)->head != NULL;

	for (unsigned h = dev->nr_hwq; h-- > 0;)
		spin_unlock(&dev->hwq[h].lock);
	irq_restore(flags);
	after_unlock(dev, done_waiting);
}

static void count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

void blk_complete(struct blk_request *req)
{
	struct blkdev *dev = req->dev;
	struct blk_op_stats *st = &dev->stats[req->op];
	struct blk_done_list *list = my_done_list(dev);

	req->status = req->error;
	count(&st->completed, 1);
	if (req->status)
		count(&st->errors, 1);
	else
		count(&st->sectors, req->count);
	__atomic_fetch_sub(&dev->inflight_requests, 1, __ATOMIC_RELAXED);
	req->next_pending = NULL;
	if (list->tail)
		list->tail->next_pending = req;
	else
		list->head = req;
	list->tail = req;
}

/* Hands context `h`'s queued requests to the driver until it is full. The
 * context's lock held. */
static void issue_pending(struct blkdev *dev, unsigned h)
{
	struct blk_hwq *q = &dev->hwq[h];
	struct blk_request *req;

	while ((req = q->pend_head)) {
		if (dev->ops->issue(dev, req) == 0)
			break; /* full: completions will make room */
		q->pend_head = req->next_pending;
		if (!q->pend_head)
			q->pend_tail = NULL;
		req->issued_all = true;
		/* Nothing in flight: it failed before its first chunk went
		 * out, or the device already finished every chunk. */
		if (req->inflight == 0)
			blk_complete(req);
	}
	/* Always: a kick with nothing new still catches a notification
	 * wish read too early (virtqueue_kick_prepare). */
	dev->ops->kick(dev, h);
}

/* Issues what `dev` has pending, if anything, on every context; on this
 * CPU's own context also when nothing is pending, for the kick. */
static void issue_pending_locked(struct blkdev *dev)
{
	unsigned mine = this_cpu()->index % dev->nr_hwq;

	for (unsigned h = 0; h < dev->nr_hwq; h++) {
		unsigned long fl;

		if (h != mine && !__atomic_load_n(&dev->hwq[h].pend_head, __ATOMIC_RELAXED))
			continue;
		fl = blk_lock(dev, h);
		issue_pending(dev, h);
		blk_unlock(dev, h, fl);
	}
}

void blk_poll(void)
{
	for (struct blkdev *d = devices; d; d = d->next)
		issue_pending_locked(d);
}

static bool is_write_op(enum blk_op op)
{
	return op == BLK_OP_WRITE || op == BLK_OP_DISCARD || op == BLK_OP_WRITE_ZEROES;
}

/* Everything the device could refuse, decided before anything is sent. */
static int check_request(const struct blkdev *dev, const struct blk_request *req)
{
	uint64_t bs_sectors = dev->block_size / BLK_SECTOR_SIZE;

	if ((unsigned)req->op >= BLK_OP_COUNT || !req->done)
		return -EINVAL;
	if (dev->read_only && is_write_op(req->op))
		return -EROFS;
	switch (req->op) {
	case BLK_OP_FLUSH:
		return 0;
	case BLK_OP_GET_ID:
		if (!(dev->caps & BLK_CAP_GET_ID))
			return -EOPNOTSUPP;
		return req->buf || req->sg ? 0 : -EINVAL;
	case BLK_OP_DISCARD:
		if (!(dev->caps & BLK_CAP_DISCARD))
			return -EOPNOTSUPP;
		break;
	case BLK_OP_WRITE_ZEROES:
		if (!(dev->caps & BLK_CAP_WRITE_ZEROES))
			return -EOPNOTSUPP;
		break;
	default:
		if (!req->buf && !req->sg)
			return -EINVAL;
		break;
	}
	if (req->count == 0)
		return -EINVAL;
	/* Written so that sector + count cannot overflow. */
	if (req->sector >= dev->capacity || req->count > dev->capacity - req->sector)
		return -ERANGE;
	if (req->sector % bs_sectors || req->count % bs_sectors)
		return -EINVAL;
	return 0;
}

int blk_submit(struct blkdev *dev, struct blk_request *req)
{
	unsigned long fl;
	unsigned h;
	int err;

	if (!dev)
		return -ENODEV;
	h = this_cpu()->index % dev->nr_hwq;
	fl = blk_lock(dev, h);
	err = check_request(dev, req);
	if (err) {
		if ((unsigned)req->op < BLK_OP_COUNT)
			count(&dev->stats[req->op].rejected, 1);
		blk_unlock(dev, h, fl);
		return err;
	}
	req->dev = dev;
	req->status = 0;
	req->error = 0;
	req->inflight = 0;
	req->chunks = 0;
	req->issued_all = false;
	req->next_pending = NULL;
	req->next_sector = req->sector;
	if (req->sg) {
		req->cur_sg = req->sg;
	} else if (req->buf) {
		uint64_t len = req->op == BLK_OP_GET_ID ? BLK_ID_BYTES
							: (uint64_t)req->count * BLK_SECTOR_SIZE;

		sg_init_one(&req->one_sg, req->buf, (uint32_t)len);
		req->cur_sg = &req->one_sg;
	} else {
		req->cur_sg = NULL;
	}
	req->cur_off = 0;
	req->submit_ns = time_ns();
	req->submit_cpu = this_cpu()->index;
	req->hwq = h;
	count(&dev->stats[req->op].submitted, 1);
	__atomic_fetch_add(&dev->inflight_requests, 1, __ATOMIC_RELAXED);

	/* A device without a volatile write cache has nothing to flush
	 * (virtio 1.2 5.2.6.2: without VIRTIO_BLK_F_FLUSH writes are stable
	 * when they complete). */
	if (req->op == BLK_OP_FLUSH && !(dev->caps & BLK_CAP_FLUSH)) {
		req->issued_all = true;
		blk_complete(req);
		blk_unlock(dev, h, fl);
		return 0;
	}

	struct blk_hwq *q = &dev->hwq[h];
	if (q->pend_tail)
		q->pend_tail->next_pending = req;
	else
		q->pend_head = req;
	q->pend_tail = req;
	issue_pending(dev, h);
	blk_unlock(dev, h, fl);
	return 0;
}

void blk_wait(bool (*cond)(void *arg), void *arg)
{
	unsigned long fl = irq_save();
	uint64_t start = time_ns();
	bool warned = false;

	for (;;) {
		/* Interrupts stay off between the check and the hlt; the
		 * lock is taken only to issue and to look for completions. */
		for (struct blkdev *d = devices; d; d = d->next) {
			issue_pending_locked(d);
			if (d->ops->poll)
				d->ops->poll(d, this_cpu()->index % d->nr_hwq);
		}
		if (cond(arg))
			break;
		if (!warned && time_ns() - start > BLK_STALL_NS) {
			pr_warn("blk: no completion for 10 s; still waiting (requests in "
				"flight:");
			for (struct blkdev *d = devices; d; d = d->next)
				pr_info(" %s %u", d->name, d->inflight_requests);
			pr_info(")\n");
			warned = true;
		}
		/* Atomic with the check above: an interrupt that completes
		 * the request after it cannot be missed (kernel/irq/irq.h). */
		wait_for_interrupt();
	}
	irq_restore(fl);
}

static bool flag_is_set(void *arg)
{
	return *(volatile bool *)arg;
}

static void sync_done(struct blk_request *req, int status)
{
	*(volatile bool *)req->ctx = true;
}

int blk_submit_wait(struct blkdev *dev, struct blk_request *req)
{
	volatile bool done = false;
	int err;

	req->done = sync_done;
	req->ctx = (void *)&done;
	err = blk_submit(dev, req);
	if (err)
		return err;
	blk_wait(flag_is_set, (void *)&done);
	return req->status;
}

int blk_read(struct blkdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	struct blk_request req = {.op = BLK_OP_READ, .sector = sector, .count = count, .buf = buf};

	return blk_submit_wait(dev, &req);
}

int blk_write(struct blkdev *dev, uint64_t sector, uint32_t count, const void *buf)
{
	/* The device only reads the buffer; the request type is shared. */
	struct blk_request req = {
		.op = BLK_OP_WRITE, .sector = sector, .count = count, .buf = (void *)buf};

	return blk_submit_wait(dev, &req);
}

int blk_flush(struct blkdev *dev)
{
	struct blk_request req = {.op = BLK_OP_FLUSH};

	return blk_submit_wait(dev, &req);
}

const char *blk_cache_mode_name(enum blk_cache_mode mode)
{
	return mode == BLK_CACHE_WRITEBACK ? "writeback" : "writethrough";
}

int blk_set_cache_mode(struct blkdev *dev, enum blk_cache_mode mode)
{
	if (!dev->ops->set_cache_mode)
		return -EOPNOTSUPP;
	if (mode == dev->cache)
		return 0;
	/* Write-through promises that a completed write is stable: make
	 * the writes completed before the switch stable too. */
	if (mode == BLK_CACHE_WRITETHROUGH && (dev->caps & BLK_CAP_FLUSH)) {
		int err = blk_flush(dev);
		if (err)
			return err;
	}
	return dev->ops->set_cache_mode(dev, mode);
}

int blk_get_id(struct blkdev *dev, char id[BLK_ID_BYTES + 1])
{
	struct blk_request req = {.op = BLK_OP_GET_ID, .buf = id};
	int err;

	memset(id, 0, BLK_ID_BYTES + 1);
	err = blk_submit_wait(dev, &req);
	id[BLK_ID_BYTES] = '\0';
	return err;
}

int blk_discard(struct blkdev *dev, uint64_t sector, uint32_t count)
{
	struct blk_request req = {.op = BLK_OP_DISCARD, .sector = sector, .count = count};

	return blk_submit_wait(dev, &req);
}

int blk_write_zeroes(struct blkdev *dev, uint64_t sector, uint32_t count, bool unmap)
{
	struct blk_request req = {.op = BLK_OP_WRITE_ZEROES,
				  .flags = unmap ? BLK_REQ_UNMAP : 0,
				  .sector = sector,
				  .count = count};

	return blk_submit_wait(dev, &req);
}
