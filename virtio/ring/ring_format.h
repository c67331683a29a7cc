/*
 * The memory layout a driver shares with a device: the split virtqueue of
 * virtio 1.2 section 2.7 (descriptor table, available ring, used ring) and
 * the event-index rule of section 2.7.7.2 / 2.7.10, and the packed
 * virtqueue of section 2.8 (descriptor ring, driver and device event
 * suppression structures).
 *
 * Every field is little-endian on the wire (modern devices) or native-endian
 * (legacy devices); x86_64 is little-endian, so both are plain integers
 * here. The le types name which fields the spec says are little-endian.
 */
#ifndef VIRTIO_RING_RING_FORMAT_H
#define VIRTIO_RING_RING_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint16_t le16;
typedef uint32_t le32;
typedef uint64_t le64;

/* Descriptor flags (2.7.5). */
#define VRING_DESC_F_NEXT     1 /* `next` continues the chain */
#define VRING_DESC_F_WRITE    2 /* device writes the buffer (else reads it) */
#define VRING_DESC_F_INDIRECT 4 /* buffer is a table of descriptors (2.7.5.3) */

/* avail->flags (2.7.6): please do not interrupt me. Only meaningful without
 * VIRTIO_RING_F_EVENT_IDX. */
#define VRING_AVAIL_F_NO_INTERRUPT 1
/* used->flags (2.7.8): please do not notify me. Only meaningful without
 * VIRTIO_RING_F_EVENT_IDX. */
#define VRING_USED_F_NO_NOTIFY 1

/* The spec's maximum queue size for a split ring (2.7). */
#define VRING_SPLIT_MAX_NUM 32768u

/* Alignments the spec requires of each part (2.7, table "Virtqueue Part
 * Alignment"). Legacy transports additionally want the used ring on the
 * `align` boundary they were told about (usually 4096). */
#define VRING_DESC_ALIGN  16
#define VRING_AVAIL_ALIGN 2
#define VRING_USED_ALIGN  4

struct vring_desc {
	le64 addr;  /* guest-physical address of the buffer */
	le32 len;   /* its length in bytes */
	le16 flags; /* VRING_DESC_F_* */
	le16 next;  /* index of the next descriptor when F_NEXT is set */
};

struct vring_avail {
	le16 flags;  /* VRING_AVAIL_F_* */
	le16 idx;    /* where the driver puts the next entry (free-running) */
	le16 ring[]; /* num heads, then used_event (EVENT_IDX only) */
};

struct vring_used_elem {
	le32 id;  /* head of the chain the device finished with */
	le32 len; /* bytes the device wrote into the chain's writable buffers */
};

struct vring_used {
	le16 flags;		       /* VRING_USED_F_* */
	le16 idx;		       /* where the device puts the next entry (free-running) */
	struct vring_used_elem ring[]; /* num entries, then avail_event (le16) */
};

/* Pointers to the three parts of one split ring. */
struct vring {
	unsigned num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* With EVENT_IDX the driver tells the device "interrupt me when used->idx
 * passes this" in the slot after the last avail entry, and the device tells
 * the driver "notify me when avail->idx passes this" after the last used
 * entry (2.7.7.2, 2.7.10). */
static inline le16 *vring_used_event(const struct vring *vr)
{
	return &vr->avail->ring[vr->num];
}

static inline le16 *vring_avail_event(const struct vring *vr)
{
	return (le16 *)&vr->used->ring[vr->num];
}

static inline size_t vring_desc_size(unsigned num)
{
	return sizeof(struct vring_desc) * num;
}

/* Including used_event. */
static inline size_t vring_avail_size(unsigned num)
{
	return sizeof(struct vring_avail) + sizeof(le16) * (num + 1);
}

/* Including avail_event. */
static inline size_t vring_used_size(unsigned num)
{
	return sizeof(struct vring_used) + sizeof(struct vring_used_elem) * num + sizeof(le16);
}

/*
 * The event-index rule (2.7.7.2): having moved its index from `old` to
 * `new_idx`, the other side wants a notification if `event_idx` lies in
 * [old, new_idx). The unsigned 16-bit arithmetic makes it work across the
 * wrap of the free-running indices.
 */
static inline bool vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* ---- The packed layout (2.8) ------------------------------------------ */

/* Descriptor flags of 2.8.1 on top of NEXT / WRITE / INDIRECT: a
 * descriptor is available when AVAIL equals the driver's wrap counter and
 * USED does not; used when both equal the device's wrap counter. */
#define VRING_PACKED_DESC_F_AVAIL (1u << 7)
#define VRING_PACKED_DESC_F_USED  (1u << 15)

/* Event suppression flags (2.8.10): notify always, never, or when the
 * other side reaches the descriptor named by off_wrap (needs EVENT_IDX). */
#define VRING_PACKED_EVENT_FLAG_ENABLE	0x0
#define VRING_PACKED_EVENT_FLAG_DISABLE 0x1
#define VRING_PACKED_EVENT_FLAG_DESC	0x2
/* off_wrap: bits 0-14 a descriptor offset, bit 15 the wrap counter. */
#define VRING_PACKED_EVENT_F_WRAP_CTR 15

/* 2.8: the packed ring's size need not be a power of two; offsets are
 * 15 bits, so at most 32768 entries. */
#define VRING_PACKED_MAX_NUM 32768u

/* Alignments of the three areas (2.8, "Virtqueue Part Alignment"). */
#define VRING_PACKED_DESC_ALIGN	 16
#define VRING_PACKED_EVENT_ALIGN 4

struct vring_packed_desc {
	le64 addr;  /* guest-physical address of the buffer */
	le32 len;   /* its length (driver) / bytes written (device, used) */
	le16 id;    /* buffer id: the same in every descriptor of a chain */
	le16 flags; /* VRING_DESC_F_* and VRING_PACKED_DESC_F_AVAIL/USED */
};

/* The driver event suppression area (the driver's wish, read by the
 * device) and the device one (the other way round) share this shape. */
struct vring_packed_desc_event {
	le16 off_wrap; /* descriptor offset | wrap counter << 15 (FLAG_DESC) */
	le16 flags;    /* VRING_PACKED_EVENT_FLAG_* */
};

/* Pointers to the three areas of one packed ring. */
struct vring_packed {
	unsigned num;
	struct vring_packed_desc *desc;
	struct vring_packed_desc_event *driver; /* driver writes, device reads */
	struct vring_packed_desc_event *device; /* device writes, driver reads */
};

#endif
