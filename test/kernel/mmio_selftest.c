/*
 * `test=mmio`: the virtio-mmio transports (virtio 1.2 section 4.2) that
 * discovery found (virtio/transport/mmio_discovery.c): each listed once,
 * empty or registered with the virtio core exactly once, its interrupt
 * routed; and, for a virtio-rng nobody else drives, one read end to end
 * through the transport by interrupt.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/irqflags.h"
#include "kernel/selftest/selftest.h"
#include "kernel/time/timer.h"
#include "virtio/transport/mmio.h"
#include "virtio/transport/mmio_devices.h"
#include "virtio/virtio.h"

/*
 * A minimal entropy reader used when no rng driver claimed a virtio-rng
 * device: it proves the transport end to end (features, queue setup,
 * notify, interrupt, used ring) without depending on drivers/.
 */
static volatile bool st_done;
static volatile unsigned st_len;

static void st_rng_done(struct virtqueue *vq)
{
	unsigned len;

	if (virtqueue_get_buf(vq, &len)) {
		st_len = len;
		st_done = true;
	}
}

static int st_rng_probe(struct virtio_device *vdev)
{
	static const struct virtqueue_info info[] = {
		{.name = "mmio-selftest-rng", .callback = st_rng_done}};
	struct virtqueue *vq;

	return virtio_find_vqs(vdev, 1, &vq, info);
}

static void st_rng_remove(struct virtio_device *vdev)
{
	virtio_reset_device(vdev);
	virtio_del_vqs(vdev);
}

static const struct virtio_device_id st_rng_ids[] = {{VIRTIO_ID_RNG, VIRTIO_DEV_ANY_ID}, {0, 0}};
static struct virtio_driver st_rng_driver = {
	.name = "mmio-selftest-rng",
	.id_table = st_rng_ids,
	.probe = st_rng_probe,
	.remove = st_rng_remove,
};

static struct virtio_device *find_vdev(int index)
{
	for (struct virtio_device *v = virtio_device_next(NULL); v; v = virtio_device_next(v))
		if (v->index == index)
			return v;
	return NULL;
}

static void rng_by_interrupt(unsigned n, const struct virtio_mmio_info *in)
{
	static uint8_t buf[32] __attribute__((aligned(64)));
	struct virtio_device *vdev = find_vdev(in->virtio_index);
	struct virtio_mmio_info after;
	struct scatterlist sg;
	unsigned long fl;
	uint64_t deadline;
	bool nonzero = false;

	if (!vdev)
		return;
	if (vdev->driver) {
		check(true, "mmio%u: rng virtio%d is bound to %s (bytes checked by test=rng)", n,
		      vdev->index, vdev->driver->name);
		return;
	}
	register_virtio_driver(&st_rng_driver);
	if (!check(vdev->driver == &st_rng_driver && vdev->vqs, "mmio%u: test rng driver bound",
		   n)) {
		unregister_virtio_driver(&st_rng_driver);
		return;
	}
	memset(buf, 0, sizeof buf);
	st_done = false;
	sg_init_one(&sg, buf, sizeof buf);
	fl = irq_save();
	virtqueue_add_inbuf(vdev->vqs, &sg, 1, buf);
	virtqueue_kick(vdev->vqs);
	deadline = time_ns() + 2000000000ull;
	while (!st_done && time_ns() < deadline)
		wait_for_interrupt();
	irq_restore(fl);
	virtio_mmio_get(n, &after);
	for (unsigned i = 0; i < sizeof buf; i++)
		nonzero |= buf[i] != 0;
	check(st_done && st_len > 0 && st_len <= sizeof buf && nonzero,
	      "mmio%u: rng delivered %u bytes by interrupt (done %d, not all zero %d)", n, st_len,
	      st_done, nonzero);
	check(after.interrupts > in->interrupts, "mmio%u: transport interrupts %llu -> %llu", n,
	      (unsigned long long)in->interrupts, (unsigned long long)after.interrupts);
	unregister_virtio_driver(&st_rng_driver);
}

static void mmio_selftest(void)
{
	struct virtio_mmio_info in, other;
	unsigned devices = 0;

	check(virtio_mmio_count() > 0, "virtio-mmio transports found: %u", virtio_mmio_count());
	for (unsigned i = 0; virtio_mmio_get(i, &in); i++) {
		unsigned same = 0, seen = 0;

		check(in.state == VM_EMPTY || in.state == VM_REGISTERED,
		      "mmio%u at %#llx: state %d is empty (1) or registered (4)", i,
		      (unsigned long long)in.desc.base, in.state);
		for (unsigned j = 0; virtio_mmio_get(j, &other); j++)
			if (other.desc.base == in.desc.base)
				same++;
		check(same == 1, "mmio%u at %#llx listed once (%u)", i,
		      (unsigned long long)in.desc.base, same);
		if (in.state != VM_REGISTERED)
			continue;
		devices++;
		check(in.version == 1 || in.version == 2, "mmio%u: version %u", i, in.version);
		check(in.vector >= 32, "mmio%u: GSI %u routed to vector %d", i, in.desc.gsi,
		      in.vector);
		for (struct virtio_device *v = virtio_device_next(NULL); v;
		     v = virtio_device_next(v))
			if (v->index == in.virtio_index)
				seen++;
		check(seen == 1, "mmio%u: registered with the virtio core once (virtio%d, %u)", i,
		      in.virtio_index, seen);
		if (in.device_id == VIRTIO_ID_RNG)
			rng_by_interrupt(i, &in);
	}
	check(devices > 0, "virtio-mmio devices registered: %u", devices);
}
SELFTEST(mmio, mmio_selftest);
