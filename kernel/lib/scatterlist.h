/*
 * Scatterlists: a buffer described as pieces, each an address and a length,
 * the way a device's DMA descriptors want it (virtio 1.2 section 2.7.5: a
 * chain of descriptors). Block requests (kernel/block/blkdev.h) carry one,
 * and the virtqueue API (virtio/virtqueue.h) turns one into ring
 * descriptors. Implemented in kernel/lib/scatterlist.c.
 */
#ifndef KERNEL_LIB_SCATTERLIST_H
#define KERNEL_LIB_SCATTERLIST_H

#include <stdint.h>

#include "arch/x86_64/paging.h" /* virt_to_phys() */

/*
 * One piece of a buffer. A list is an array of entries whose last one
 * carries SG_END; an entry carrying SG_CHAIN is not a buffer but a link to
 * another array (its `buf`), so a driver can prepend a header to an
 * existing list without copying it.
 */
#define SG_END	 1u
#define SG_CHAIN 2u

struct scatterlist {
	void *buf;	 /* driver (virtual) address; the ring uses virt_to_phys() */
	uint32_t length; /* bytes */
	uint32_t flags;	 /* SG_END, SG_CHAIN */
};

/* Clears `n` entries and marks the last one as the end. */
void sg_init_table(struct scatterlist *sg, unsigned n);
/* A one-entry list for `len` bytes at `buf`. */
void sg_init_one(struct scatterlist *sg, void *buf, uint32_t len);
/* Points an entry at a buffer, keeping its END mark. */
void sg_set_buf(struct scatterlist *sg, void *buf, uint32_t len);
/* Makes `sg` the last entry of its list. */
void sg_mark_end(struct scatterlist *sg);
/* Turns the last entry of `prv` (which has `prv_nents` entries) into a link
 * to `next`; that entry no longer describes a buffer. */
void sg_chain(struct scatterlist *prv, unsigned prv_nents, struct scatterlist *next);
/* The entry after `sg`, following chain links; NULL after the end. */
struct scatterlist *sg_next(struct scatterlist *sg);

static inline uint64_t sg_phys(const struct scatterlist *sg)
{
	return virt_to_phys(sg->buf);
}

#endif
