/*
 * Request splitting for virtio-blk (virtio 1.2 section 5.2.4, 5.2.6): the
 * pure arithmetic, apart from the driver so the host tests can run it.
 *
 * A device bounds one request by the number of data segments (seg_max,
 * VIRTIO_BLK_F_SEG_MAX), the bytes in one segment (size_max,
 * VIRTIO_BLK_F_SIZE_MAX), and for DISCARD / WRITE_ZEROES the sectors in one
 * range (max_discard_sectors, max_write_zeroes_sectors) and their alignment.
 * A block-layer request larger than that becomes several device requests
 * ("chunks"), each ending on a logical-block boundary.
 */
#ifndef DRIVERS_VIRTIO_BLK_CHUNKS_H
#define DRIVERS_VIRTIO_BLK_CHUNKS_H

#include <stdint.h>

#include "kernel/lib/scatterlist.h"

struct vblk_limits {
	uint32_t seg_max;   /* data segments per request, >= 1 */
	uint32_t size_max;  /* bytes per segment, >= 512 */
	uint32_t max_bytes; /* data bytes per request (driver's own cap) */
	uint32_t granule;   /* a request's length is a multiple of this */
};

/* Where the next chunk's data starts: an entry of the caller's scatterlist
 * and an offset into it. */
struct vblk_cursor {
	struct scatterlist *sg;
	uint32_t off;
};

/*
 * Cuts the next chunk of at most `remaining` bytes from the cursor: fills
 * out[0..*nout) (at most lim->seg_max entries, each at most lim->size_max
 * bytes, the last marked SG_END) and advances the cursor past them.
 * Returns the chunk's bytes, a positive multiple of lim->granule; 0 when
 * `remaining` is 0; -EINVAL when the limits are unusable, the list ends
 * before `remaining` bytes, or no multiple of the granule fits in seg_max
 * segments of this list (tiny pieces).
 */
long vblk_next_chunk(const struct vblk_limits *lim, struct vblk_cursor *cur, uint64_t remaining,
		     struct scatterlist *out, unsigned *nout);

/*
 * The sectors of the next DISCARD or WRITE_ZEROES chunk starting at
 * `sector` with `remaining` sectors left: at most `max_sectors` (0: no
 * limit but 32 bits), and when the range continues, ending on a multiple
 * of `align` (sectors, 0 or 1: none) if that leaves a non-empty chunk.
 */
uint32_t vblk_range_chunk(uint64_t sector, uint64_t remaining, uint32_t max_sectors,
			  uint32_t align);

/* The block layer's error for a completed request: the status byte and the
 * bytes the device said it wrote. `status` was pre-filled with 0xff, so a
 * byte still 0xff, or a used length of 0, means the device never wrote it
 * (-EIO, *unwritten set). OK -> 0, IOERR -> -EIO, UNSUPP -> -EOPNOTSUPP,
 * anything else -> -EIO. */
int vblk_status_to_errno(uint8_t status, uint32_t used_len, int *unwritten);

#endif
