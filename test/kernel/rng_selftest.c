/*
 * Self-test `test=rng` for the virtio entropy driver (virtio 1.2 section
 * 5.4): every rng device answers, by interrupt, with bytes that differ
 * from one read to the next. It prints each device's transport and
 * interrupt mode, so one boot per QEMU configuration shows the whole path.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/virtio_rng.h"
#include "kernel/selftest/selftest.h"
#include "virtio/virtio.h"

#define RNG_TEST_BYTES 32

static void print_hex(const char *label, const uint8_t *p, unsigned n)
{
	printf("%s", label);
	for (unsigned i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static void selftest_rng(void)
{
	unsigned n = rng_count();

	check(n > 0, "rng: %u virtio-rng device(s) bound", n);
	for (unsigned i = 0; i < n; i++) {
		struct virtio_device *vdev = rng_vdev(i);
		struct virtqueue *vq = rng_vq(i);
		uint8_t a[RNG_TEST_BYTES], b[RNG_TEST_BYTES];
		uint64_t irqs = vq->stats.interrupts;

		printf("rng%u: virtio%d transport %s features 0x%llx queue size %u\n", i,
		       vdev->index, vdev->config->bus_name(vdev),
		       (unsigned long long)vdev->features, virtqueue_get_vring_size(vq));
		int r1 = rng_read_dev(i, a, sizeof(a));
		int r2 = rng_read_dev(i, b, sizeof(b));
		if (!check(r1 == RNG_TEST_BYTES && r2 == RNG_TEST_BYTES,
			   "rng%u: two reads of %u bytes returned %d and %d", i, RNG_TEST_BYTES, r1,
			   r2))
			continue;
		print_hex("rng: read 1 ", a, sizeof(a));
		print_hex("rng: read 2 ", b, sizeof(b));
		check(vq->stats.interrupts > irqs,
		      "rng%u: bytes arrived by interrupt (queue interrupts %llu -> %llu)", i,
		      (unsigned long long)irqs, (unsigned long long)vq->stats.interrupts);
		check(memcmp(a, b, sizeof(a)) != 0, "rng%u: two reads differ", i);
	}
}
SELFTEST(rng, selftest_rng);
