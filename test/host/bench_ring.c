/*
 * Ring benchmark (make bench-ring): buffers per second through add, kick
 * and get_buf on a split ring (virtio 1.2 section 2.7) and on a packed ring
 * (section 2.8), with the simulated device polling the ring on another
 * thread. Each run goes either (a) through the virtqueue wrappers and the
 * const ops table, as drivers do, or (b) straight to the layout's
 * functions; runs alternate (split ops, split direct, packed ops, packed
 * direct) so drift hits all alike. A same-thread variant (device steps inline) removes the
 * cross-core cache traffic that dominates the threaded figure.
 *
 * Prints figures only; asserts nothing. Built -O2 without sanitizers.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virtio/ring/ring_packed.h"
#include "virtio/ring/ring_split.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue_transport.h"
#include "vring_sim.h"

#define RING  256
#define RUNS  5
#define BUFS  (2u * 1000 * 1000)
#define MAX_S 1.5 /* a loaded machine stops a run early; the rate stays right */

static struct virtio_device vdev;
static struct virtqueue *vq;
static struct sim_dev dev;
static unsigned stop;
static char bufs[RING][64];

static bool bench_notify(struct virtqueue *q)
{
	return true;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *device_thread(void *arg)
{
	struct sim_req r;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (sim_pop(&dev, &r) == 0)
			sim_push(&dev, r.head, r.in_len);
	}
	return NULL;
}

static void device_step(void)
{
	struct sim_req r;

	while (sim_pop(&dev, &r) == 0)
		sim_push(&dev, r.head, r.in_len);
}

/* One run: BUFS buffers through the ring; returns buffers/s. */
static double run(bool packed, bool direct, bool threaded)
{
	pthread_t th;
	unsigned done = 0, posted = 0, len, slot = 0;
	struct scatterlist sg[RING];
	struct scatterlist *sgs[1];
	double t0, t1;

	memset(&vdev, 0, sizeof(vdev));
	vdev.features = VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	if (packed)
		vdev.features |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	vq = vring_create_virtqueue(0, RING, 0, &vdev, bench_notify, NULL, "bench");
	sim_init(&dev, vq);
	sim_want_kicks(&dev, false); /* a polling device: kicks are suppressed */
	for (unsigned i = 0; i < RING; i++)
		sg_init_one(&sg[i], bufs[i], sizeof(bufs[i]));
	stop = 0;
	if (threaded)
		pthread_create(&th, NULL, device_thread, NULL);

	t0 = now();
	for (unsigned iter = 0; done < BUFS; iter++) {
		if ((iter & 0xff) == 0 && now() - t0 > MAX_S)
			break;
		while (posted - done < RING && posted < BUFS) {
			int err;

			sgs[0] = &sg[slot];
			if (direct && packed)
				err = vring_packed_add_sgs(vq, sgs, 0, 1, bufs[slot], NULL);
			else if (direct)
				err = vring_split_add_sgs(vq, sgs, 0, 1, bufs[slot], NULL);
			else
				err = virtqueue_add_inbuf(vq, &sg[slot], 1, bufs[slot]);
			if (err)
				break;
			slot = (slot + 1) % RING;
			posted++;
		}
		if (direct && packed) {
			if (vring_packed_kick_prepare(vq))
				vring_packed_notify(vq);
		} else if (direct) {
			if (vring_split_kick_prepare(vq))
				vring_split_notify(vq);
		} else {
			virtqueue_kick(vq);
		}
		if (!threaded)
			device_step();
		if (direct && packed) {
			while (vring_packed_get_buf_ctx(vq, &len, NULL))
				done++;
		} else if (direct) {
			while (vring_split_get_buf_ctx(vq, &len, NULL))
				done++;
		} else {
			while (virtqueue_get_buf(vq, &len))
				done++;
		}
	}
	t1 = now();
	if (threaded) {
		__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	if (virtqueue_is_broken(vq) || dev.errors)
		fprintf(stderr, "bench: ring broken or device saw an error: %s\n", dev.error);
	while (virtqueue_detach_unused_buf(vq))
		;
	vring_del_virtqueue(vq);
	return done / (t1 - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	double c[RUNS];

	memcpy(c, v, sizeof(c));
	qsort(c, RUNS, sizeof(double), cmp);
	return c[RUNS / 2];
}

static void bench(bool threaded)
{
	static const char *const name[4] = {"split ops table", "split direct", "packed ops table",
					    "packed direct"};
	double r[4][RUNS], m[4];

	run(false, false, threaded); /* warm up */
	run(true, false, threaded);
	for (int i = 0; i < RUNS; i++)
		for (int k = 0; k < 4; k++)
			r[k][i] = run(k >= 2, k & 1, threaded);
	printf("%s, ring %u, event idx, up to %u buffers or %.1f s per run, %d runs "
	       "alternating:\n",
	       threaded ? "device on another thread" : "device on the same thread", RING, BUFS,
	       MAX_S, RUNS);
	for (int k = 0; k < 4; k++) {
		printf("  %-17s", name[k]);
		for (int i = 0; i < RUNS; i++)
			printf(" %.2f", r[k][i] / 1e6);
		m[k] = median(r[k]);
		printf("  median %.2f M buffers/s\n", m[k] / 1e6);
	}
	printf("  ops/direct: split %.3f (cost %.1f%%), packed %.3f (cost %.1f%%)\n", m[0] / m[1],
	       100.0 * (1.0 - m[0] / m[1]), m[2] / m[3], 100.0 * (1.0 - m[2] / m[3]));
	printf("  packed/split (ops table): %.3f\n", m[2] / m[0]);
}

int main(void)
{
	bench(true);
	bench(false);
	return 0;
}
