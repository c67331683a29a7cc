/*
 * libFuzzer target: the fuzzer plays a hostile device against the split
 * ring driver (virtio/ring/ring_split.c, virtio 1.2 section 2.7), or, built with
 * -DFUZZ_PACKED (fuzz_vring_packed), the packed ring driver
 * (virtio/ring/ring_packed.c, section 2.8). Its input is a script mixing driver
 * operations (add, kick, get_buf, callbacks on/off, detach) with device
 * writes to everything a device can write: used entries with any id and
 * length; split: used->idx, used->flags, avail_event and even the
 * descriptor table the spec says it only reads; packed: any flags in any
 * slot (used marks for either lap), the device event suppression area, and
 * the address/length/id of descriptors it owns.
 *
 * Whatever the device does, the driver must never touch memory it does not
 * own (AddressSanitizer), never return a token that is not outstanding or
 * return one twice, never report more bytes than a buffer holds, and give
 * back every token exactly once by get_buf or detach. Violations trap.
 *
 *   make fuzz FUZZ_SECONDS=600
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shim/dma_host.h"
#include "virtio/ring/ring_packed.h"
#include "virtio/ring/ring_split.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue_transport.h"
#include "vring_sim.h"

#define NTOK 48

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, unsigned bytes)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < bytes && in->n; i++, in->n--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

static bool fuzz_notify(struct virtqueue *vq)
{
	return true;
}

static void fuzz_callback(struct virtqueue *vq)
{
}

struct tok {
	bool out; /* outstanding */
	uint32_t in_cap;
	uint8_t bufs[6][16];
};

static struct tok toks[NTOK];

#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__);         \
			__builtin_trap();                                                          \
		}                                                                                  \
	} while (0)

static void returned(void *t, unsigned len, bool via_get_buf, struct virtqueue *vq)
{
	struct tok *x = t;

	REQUIRE(x >= toks && x < toks + NTOK);
	REQUIRE(x->out);
	if (via_get_buf)
		REQUIRE(len <= x->in_cap);
	x->out = false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The ring's pr_err lines for every hostile write would drown the
	 * fuzzer's own output (stderr). */
	if (!freopen("/dev/null", "w", stdout))
		return 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct virtio_device vdev;
	struct virtqueue *vq;
	struct sim_dev dev;
	struct scatterlist sgo[3], sgi[3], *sgs[2];
	uint16_t popped[64];
	unsigned npopped = 0, num, len;
	long dma_before = dma_host_outstanding;
#ifdef FUZZ_PACKED
	/* Only the packed device side reads descriptors it might find
	 * rewritten (case 3). */
	bool scribbled = false;
#endif
	void *t;

	memset(&vdev, 0, sizeof(vdev));
	memset(toks, 0, sizeof(toks));
#ifdef FUZZ_PACKED
	/* Packed rings need no power of two (2.8). */
	num = 1 + take(&in, 1) % 64;
	vdev.features |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
#else
	num = 1u << (take(&in, 1) % 7);
#endif
	{
		uint32_t f = take(&in, 1);

		if (f & 1)
			vdev.features |= VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
		if (f & 2)
			vdev.features |= VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC);
	}
	vq = vring_create_virtqueue(0, num, 0, &vdev, fuzz_notify, fuzz_callback, "fuzz");
	REQUIRE(vq);
	vdev.vqs = vq;
	sim_init(&dev, vq);

	while (in.n) {
		uint32_t op = take(&in, 1);

		switch (op % 14) {
		case 0: { /* driver adds 1..6 buffers */
			uint32_t shape = take(&in, 1);
			unsigned nout = shape % 4, nin = (shape / 4) % 4, i = take(&in, 1) % NTOK;
			struct tok *x = &toks[i];
			int err;

			if (x->out || (!nout && !nin))
				break;
			x->in_cap = 0;
			if (nout)
				sg_init_table(sgo, nout);
			if (nin)
				sg_init_table(sgi, nin);
			for (unsigned k = 0; k < nout; k++)
				sg_set_buf(&sgo[k], x->bufs[k], 1 + take(&in, 1) % 16);
			for (unsigned k = 0; k < nin; k++) {
				uint32_t l = 1 + take(&in, 1) % 16;

				sg_set_buf(&sgi[k], x->bufs[3 + k], l);
				x->in_cap += l;
			}
			unsigned o = 0;

			if (nout)
				sgs[o++] = sgo;
			if (nin)
				sgs[o++] = sgi;
			err = virtqueue_add_sgs(vq, sgs, nout ? 1 : 0, nin ? 1 : 0, x);
			if (!err)
				x->out = true;
			else
				REQUIRE(err == -ENOSPC || err == -EINVAL || err == -EIO);
			break;
		}
		case 1:
			virtqueue_kick(vq);
			break;
		case 2:
			while ((t = virtqueue_get_buf(vq, &len)))
				returned(t, len, true, vq);
			break;
		case 3: /* device pops a head (packed: a buffer), honestly */
			if (sim_has_avail(&dev) && npopped < 64) {
#ifdef FUZZ_PACKED
				struct sim_req r;

				/* Once the fuzzer rewrote descriptors the
				 * simulated device reads them as they are now
				 * (an indirect address may point anywhere), so it
				 * stops popping; until then the driver's chains
				 * must be well formed (the simulator checks). */
				if (scribbled)
					break;
				REQUIRE(sim_pop(&dev, &r) == 0);
				popped[npopped++] = r.head;
#else
				uint16_t slot = dev.last_avail++ & (num - 1);

				popped[npopped++] = dev.vr.avail->ring[slot];
#endif
			}
			break;
		case 4: /* device completes a popped head, any length */
			if (npopped) {
				unsigned j = take(&in, 1) % npopped;

				sim_push(&dev, popped[j], take(&in, 4));
				popped[j] = popped[--npopped];
			}
			break;
		case 5: /* device writes any used entry */
			sim_push(&dev, take(&in, 2), take(&in, 4));
#ifdef FUZZ_PACKED
			/* It may have returned a buffer the device never read
			 * (its indirect table is gone) or overwritten slots not
			 * yet read: the simulated device stops reading. */
			scribbled = true;
#endif
			break;
#ifdef FUZZ_PACKED
		case 6: { /* device writes any flags into any slot */
			unsigned slot = take(&in, 2) % num;

			__atomic_store_n(&dev.pvr.desc[slot].flags, (uint16_t)take(&in, 2),
					 __ATOMIC_RELEASE);
			scribbled = true;
			break;
		}
		case 7:
			dev.pvr.device->flags = (uint16_t)take(&in, 2);
			dev.pvr.device->off_wrap = (uint16_t)take(&in, 2);
			break;
		case 8: { /* device scribbles on a descriptor's address, length, id */
			unsigned slot = take(&in, 2) % num, off = take(&in, 1) % 14;

			((uint8_t *)&dev.pvr.desc[slot])[off] = (uint8_t)take(&in, 1);
			scribbled = true;
			break;
		}
#else
		case 6: /* device moves used->idx anywhere */
			dev.used_idx = (uint16_t)take(&in, 2);
			__atomic_store_n(&dev.vr.used->idx, dev.used_idx, __ATOMIC_RELEASE);
			break;
		case 7:
			dev.vr.used->flags = (uint16_t)take(&in, 2);
			*vring_avail_event(&dev.vr) = (uint16_t)take(&in, 2);
			break;
		case 8: { /* device scribbles on the descriptor table */
			size_t off = take(&in, 2) % vring_desc_size(num);

			((uint8_t *)dev.vr.desc)[off] = (uint8_t)take(&in, 1);
			break;
		}
#endif
		case 9:
			virtqueue_disable_cb(vq);
			break;
		case 10:
			virtqueue_enable_cb(vq);
			break;
		case 11:
			virtqueue_enable_cb_delayed(vq);
			break;
		case 12:
			vring_interrupt(vq);
			break;
		case 13:
			if ((t = virtqueue_detach_unused_buf(vq)))
				returned(t, 0, false, vq);
#ifdef FUZZ_PACKED
			/* Detached without a reset: the buffer (and its
			 * indirect table) is gone from under the device. */
			scribbled = true;
#endif
			break;
		}
		REQUIRE(vq->num_free <= num);
	}

	while ((t = virtqueue_detach_unused_buf(vq)))
		returned(t, 0, false, vq);
	REQUIRE(vq->num_free == num);
	for (unsigned i = 0; i < NTOK; i++)
		REQUIRE(!toks[i].out);
	vring_del_virtqueue(vq);
	REQUIRE(dma_host_outstanding == dma_before);
	return 0;
}
