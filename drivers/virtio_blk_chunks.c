/*
 * Request splitting for virtio-blk (virtio 1.2 sections 5.2.4 and 5.2.6):
 * see virtio_blk_chunks.h. No state, no allocation: the driver calls these
 * with interrupts off, the host tests call them directly.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio_blk_chunks.h"

/* Status values of 5.2.6, and what a byte nobody wrote still holds. */
#define VBLK_S_OK	 0
#define VBLK_S_IOERR	 1
#define VBLK_S_UNSUPP	 2
#define VBLK_S_UNWRITTEN 0xff

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Moves the cursor `bytes` forward. Entries it leaves exactly at their end
 * are stepped over, so a cursor at a list's end has sg == NULL. */
static void cursor_advance(struct vblk_cursor *cur, uint64_t bytes)
{
	while (cur->sg) {
		uint32_t avail = cur->sg->length - cur->off;
		uint32_t step = (uint32_t)min_u64(avail, bytes);

		cur->off += step;
		bytes -= step;
		if (cur->off < cur->sg->length)
			break;
		cur->sg = sg_next(cur->sg);
		cur->off = 0;
		if (bytes == 0 && cur->sg && cur->sg->length)
			break;
	}
}

long vblk_next_chunk(const struct vblk_limits *lim, struct vblk_cursor *cur, uint64_t remaining,
		     struct scatterlist *out, unsigned *nout)
{
	struct scatterlist *sg = cur->sg;
	uint32_t off = cur->off;
	uint64_t limit, total = 0, trimmed, excess;
	unsigned n = 0;

	*nout = 0;
	if (remaining == 0)
		return 0;
	if (lim->seg_max == 0 || lim->size_max == 0 || lim->granule == 0 ||
	    lim->max_bytes < lim->granule)
		return -EINVAL;
	limit = min_u64(remaining, lim->max_bytes);
	limit = min_u64(limit, (uint64_t)lim->seg_max * lim->size_max);

	while (total < limit && n < lim->seg_max && sg) {
		uint32_t avail = sg->length - off;
		uint32_t take;

		if (avail == 0) { /* an empty entry, or the end of one */
			sg = sg_next(sg);
			off = 0;
			continue;
		}
		take = (uint32_t)min_u64(min_u64(avail, lim->size_max), limit - total);
		out[n] = (struct scatterlist){.buf = (char *)sg->buf + off, .length = take};
		n++;
		total += take;
		off += take;
	}
	/* The list ended before the request did: the caller's lengths are
	 * wrong, and a short request would read or write the wrong sectors. */
	if (total < limit && n < lim->seg_max)
		return -EINVAL;

	/* A chunk must end on a block boundary: the device addresses whole
	 * blocks. Give the tail back to the next chunk. */
	trimmed = total - total % lim->granule;
	if (trimmed == 0)
		return -EINVAL;
	for (excess = total - trimmed; excess;) {
		if (out[n - 1].length <= excess) {
			excess -= out[n - 1].length;
			n--;
		} else {
			out[n - 1].length -= (uint32_t)excess;
			excess = 0;
		}
	}
	out[n - 1].flags = SG_END;
	*nout = n;
	cursor_advance(cur, trimmed);
	return (long)trimmed;
}

uint32_t vblk_range_chunk(uint64_t sector, uint64_t remaining, uint32_t max_sectors, uint32_t align)
{
	uint64_t chunk = min_u64(remaining, max_sectors ? max_sectors : UINT32_MAX);

	/* Ending a middle chunk on the device's alignment lets every later
	 * chunk start aligned, which is what the device can deallocate. */
	if (chunk < remaining && align > 1) {
		uint64_t end = sector + chunk;
		uint64_t aligned_end = end - end % align;

		if (aligned_end > sector)
			chunk = aligned_end - sector;
	}
	return (uint32_t)chunk;
}

int vblk_status_to_errno(uint8_t status, uint32_t used_len, int *unwritten)
{
	*unwritten = 0;
	if (used_len == 0 || status == VBLK_S_UNWRITTEN) {
		*unwritten = 1;
		return -EIO;
	}
	switch (status) {
	case VBLK_S_OK:
		return 0;
	case VBLK_S_IOERR:
		return -EIO;
	case VBLK_S_UNSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}
