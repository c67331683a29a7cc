/*
 * The virtio-blk driver's own state (virtio 1.2 section 5.2), shared by its
 * files and nobody else: drivers/virtio_blk.c (probe, configuration,
 * statistics) and virtio_blk_requests.c (the data path: block requests
 * into device requests, and their completions). The device's feature bits,
 * configuration layout and request formats, and the per-queue state.
 */
#ifndef DRIVERS_VIRTIO_BLK_DEV_H
#define DRIVERS_VIRTIO_BLK_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio_blk_chunks.h"
#include "kernel/block/blkdev.h"
#include "virtio/virtio.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_CONFIG_WCE	  11
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Offsets in struct virtio_blk_config (5.2.4). */
#define CFG_CAPACITY		     0	/* le64, 512-byte sectors */
#define CFG_SIZE_MAX		     8	/* le32 */
#define CFG_SEG_MAX		     12 /* le32 */
#define CFG_BLK_SIZE		     20 /* le32 */
#define CFG_PHYS_BLOCK_EXP	     24 /* u8: physical block = blk_size << exp */
#define CFG_ALIGNMENT_OFFSET	     25 /* u8 */
#define CFG_MIN_IO_SIZE		     26 /* le16, in blocks */
#define CFG_OPT_IO_SIZE		     28 /* le32, in blocks */
#define CFG_WRITEBACK		     32 /* u8 */
#define CFG_NUM_QUEUES		     34 /* le16 */
#define CFG_MAX_DISCARD_SECTORS	     36 /* le32 */
#define CFG_MAX_DISCARD_SEG	     40 /* le32 */
#define CFG_DISCARD_SECTOR_ALIGNMENT 44 /* le32 */
#define CFG_MAX_WRITE_ZEROES_SECTORS 48 /* le32 */
#define CFG_MAX_WRITE_ZEROES_SEG     52 /* le32 */
#define CFG_WRITE_ZEROES_MAY_UNMAP   56 /* u8 */

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

/* Our own bounds: queues we drive, data segments per request (each
 * in-flight slot carries a scatterlist this long), bytes per request (a
 * request the size of the whole disk would hold the ring for long). */
#define VBLK_MAX_QUEUES 8
#define VBLK_MAX_SEGS	32
#define VBLK_MAX_BYTES	(1u << 20)
/* Without SIZE_MAX a segment is bounded only by the 32-bit descriptor
 * length; keep it a whole number of any block size. */
#define VBLK_SIZE_MAX_DEFAULT (1u << 30)

/* The device-readable request header (5.2.6). Little-endian: modern
 * devices are, and legacy ones use the guest's order, which on x86 is the
 * same. */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* The data of DISCARD and WRITE_ZEROES: one range (5.2.6). */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* One device request in flight: the header, range and status the device
 * reads and writes, and the lists that describe them. The slots of a
 * queue come from one dma_alloc block. */
struct vblk_slot {
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes range;
	uint8_t status;
	uint8_t op; /* enum blk_op, for messages */
	struct blk_request *req;
	struct vblk_slot *next_free;
	struct scatterlist sg_hdr, sg_range, sg_status;
	struct scatterlist data[VBLK_MAX_SEGS];
};

struct vblk;

struct vblk_queue {
	struct virtqueue *vq;
	struct vblk *vb;
	struct vblk_slot *slots;
	size_t slots_size;
	unsigned nslots;
	struct vblk_slot *free;
	bool need_notify; /* kick_prepare said yes: ring the doorbell (atomic) */
	uint64_t cpus;	  /* CPUs that ran its callback (virtio_blk_qstats) */
	uint64_t requests, completed;
	uint64_t per_type[BLK_OP_COUNT];
};

struct vblk {
	struct virtio_device *vdev;
	struct blkdev blk;
	unsigned nq;
	unsigned next_q[BLK_MAX_HWQ]; /* round robin within each context */
	struct vblk_queue q[VBLK_MAX_QUEUES];
	struct vblk_limits lim;
	uint32_t seg_max_dev, size_max_dev; /* as the device said, for lsblk */
	uint32_t max_discard_sectors, discard_align;
	uint32_t max_wz_sectors;
	bool wz_may_unmap;
	uint8_t phys_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint64_t unwritten, io_errors, unsupported;
};

static inline struct vblk *to_vblk(const struct blkdev *dev)
{
	return dev->priv;
}

/* The data path (virtio_blk_requests.c). vblk_issue and vblk_kick are the
 * blkdev_ops of the same names, called with interrupts off; vblk_vq_done
 * is every request queue's callback, in interrupt context. */
int vblk_issue(struct blkdev *dev, struct blk_request *req);
void vblk_kick(struct blkdev *dev, unsigned hwq);
void vblk_notify(struct blkdev *dev);
void vblk_poll(struct blkdev *dev, unsigned hwq);
void vblk_vq_done(struct virtqueue *vq);
unsigned vblk_fail_held_requests(struct vblk *vb);

#endif
