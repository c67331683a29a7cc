/*
 * virtio entropy device driver (virtio 1.2 section 5.4): the smallest real
 * virtio driver, and the one to read first.
 *
 * The device has one virtqueue, "requestq" (5.4.2). The driver puts an
 * empty, device-writable buffer on it; the device fills it with random
 * bytes and returns it as "used", with the number of bytes it wrote
 * (5.4.6). There is no device configuration and there are no feature bits.
 *
 * How a read flows through the layers (docs/walkthrough.md traces it):
 *   rng_read()  -> virtqueue_add_inbuf() + virtqueue_kick()   (this file)
 *               -> the ring publishes the buffer and notifies the device
 *                  through the transport (virtio/transport/)
 *   ... the device writes the bytes and raises an interrupt ...
 *   MSI-X vector or INTx -> transport handler -> vring_interrupt()
 *               -> rng_done() (our callback) -> virtqueue_get_buf()
 *               -> sets `done`, and rng_read() wakes up from hlt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "drivers/virtio_rng.h"
#include "kernel/lib/log.h"
#include "kernel/mm/dma.h"
#include "kernel/time/timer.h"
#include "virtio/virtio.h"

#define RNG_MAX_DEVICES 4
#define RNG_BUF_SIZE	64	      /* bytes asked for per request */
#define RNG_TIMEOUT_NS	2000000000ull /* a healthy device answers at once */

struct virtio_rng {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	uint8_t *buf;	    /* DMA memory the device writes into */
	volatile bool done; /* set by rng_done() in interrupt context */
	unsigned got;	    /* bytes the device says it wrote */
	bool broken;	    /* a request timed out: the buffer is still out */
};

static struct virtio_rng *rngs[RNG_MAX_DEVICES];
static unsigned nrngs;

/* The queue callback: interrupt context, interrupts off. The device used
 * our one buffer; take it back and tell the waiting reader. */
static void rng_done(struct virtqueue *vq)
{
	struct virtio_rng *rng = vq->vdev->priv;
	unsigned len;

	if (virtqueue_get_buf(vq, &len)) {
		rng->got = len;
		rng->done = true;
	}
}

/* One request: offer `want` bytes of buffer, sleep until the device has
 * filled some of it. Returns how many bytes it wrote, or an error. */
static int rng_request(struct virtio_rng *rng, unsigned want)
{
	struct scatterlist sg;
	uint64_t start = time_ns();
	unsigned long flags;
	int err;

	if (rng->broken)
		return -EIO;
	sg_init_one(&sg, rng->buf, want);

	/* Interrupts off around virtqueue calls: rng_done() touches the same
	 * queue from the interrupt handler (one CPU, so that is all it takes). */
	flags = irq_save();
	rng->done = false;
	err = virtqueue_add_inbuf(rng->vq, &sg, 1, rng);
	if (!err && !virtqueue_kick(rng->vq))
		err = -EIO;
	/* Wait, never poll the device: wait_for_interrupt() is `sti; hlt; cli`,
	 * so the completion cannot slip in between the check and the hlt. The
	 * timer tick wakes us too, which is what makes the timeout work. */
	while (!err && !rng->done) {
		if (time_ns() - start > RNG_TIMEOUT_NS) {
			pr_err("virtio-rng virtio%d: no answer after %llu ms\n", rng->vdev->index,
			       (unsigned long long)(RNG_TIMEOUT_NS / 1000000));
			rng->broken = true;
			err = -ETIMEDOUT;
			break;
		}
		wait_for_interrupt();
	}
	irq_restore(flags);
	return err ? err : (int)rng->got;
}

int rng_read_dev(unsigned dev, void *buf, size_t len)
{
	struct virtio_rng *rng;
	size_t have = 0;
	unsigned empty = 0;

	if (dev >= nrngs)
		return -ENODEV;
	if (len > 0x7fffffff)
		return -EINVAL;
	rng = rngs[dev];
	while (have < len) {
		unsigned want = len - have < RNG_BUF_SIZE ? (unsigned)(len - have) : RNG_BUF_SIZE;
		int n = rng_request(rng, want);

		if (n < 0)
			return n;
		/* The device may return fewer bytes than asked, even none
		 * (5.4.6); the ring already clamped n to the buffer. */
		if (n == 0 && ++empty > 16) {
			pr_err("virtio-rng virtio%d: 16 empty answers in a row\n",
			       rng->vdev->index);
			return -EIO;
		}
		memcpy((uint8_t *)buf + have, rng->buf, (size_t)n);
		have += (size_t)n;
	}
	return (int)len;
}

int rng_read(void *buf, size_t len)
{
	return rng_read_dev(0, buf, len);
}

unsigned rng_count(void)
{
	return nrngs;
}

struct virtio_device *rng_vdev(unsigned dev)
{
	return dev < nrngs ? rngs[dev]->vdev : NULL;
}

struct virtqueue *rng_vq(unsigned dev)
{
	return dev < nrngs ? rngs[dev]->vq : NULL;
}

/* ---- Binding to a device -------------------------------------------- */

static int rng_probe(struct virtio_device *vdev)
{
	static const struct virtqueue_info info[1] = {{.name = "virtio-rng", .callback = rng_done}};
	struct virtqueue *vqs[1];
	struct virtio_rng *rng;
	int err;

	if (nrngs == RNG_MAX_DEVICES)
		return -ENOSPC;
	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	/* The device writes into this buffer by DMA: it must be memory with
	 * a physical address (kernel/mm/dma.h), not a stack variable. */
	rng->buf = dma_alloc(RNG_BUF_SIZE, 16);
	if (!rng->buf) {
		free(rng);
		return -ENOMEM;
	}
	rng->vdev = vdev;
	vdev->priv = rng;

	err = virtio_find_vqs(vdev, 1, vqs, info);
	if (err) {
		dma_free(rng->buf, RNG_BUF_SIZE);
		free(rng);
		return err;
	}
	rng->vq = vqs[0];
	rngs[nrngs++] = rng;
	/* The core sets DRIVER_OK after we return; reads come later. */
	return 0;
}

static void rng_remove(struct virtio_device *vdev)
{
	struct virtio_rng *rng = vdev->priv;

	/* Stop the device before freeing memory it may write. */
	virtio_reset_device(vdev);
	virtio_del_vqs(vdev);
	for (unsigned i = 0; i < nrngs; i++) {
		if (rngs[i] == rng) {
			rngs[i] = rngs[--nrngs];
			break;
		}
	}
	dma_free(rng->buf, RNG_BUF_SIZE);
	free(rng);
}

static const struct virtio_device_id rng_ids[] = {
	{VIRTIO_ID_RNG, VIRTIO_DEV_ANY_ID},
	{0, 0},
};

static struct virtio_driver virtio_rng_driver = {
	.name = "virtio-rng",
	.id_table = rng_ids,
	/* No device-specific feature bits (5.4.3). */
	.feature_table = NULL,
	.feature_table_size = 0,
	.probe = rng_probe,
	.remove = rng_remove,
};

VIRTIO_DRIVER_INITCALL(virtio_rng_driver);
