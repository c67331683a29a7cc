/*
 * Several producers on one virtqueue, as several CPUs sharing a queue will
 * be: each thread (a CPU) posts its own requests, and every operation on
 * the virtqueue (add, kick, the interrupt's get_buf) runs under the
 * queue's spinlock (kernel/lib/spinlock.c), which is the contract the
 * kernel's drivers follow once queues are shared. The device (virtio 1.2
 * sections 2.7 and 2.8, test/host/vring_sim.c) runs on a thread of its own
 * and takes the same lock, as a CPU taking the queue's interrupt would.
 *
 * Checks: every request completes exactly once, to the thread that posted
 * it, with its own data; nothing is left in the ring. Built with ASan/UBSan
 * and with ThreadSanitizer (build/host-tsan/): TSan reports any access to
 * the ring or to a request that the lock fails to order.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "kernel/lib/spinlock.h"
#include "tap.h"
#include "vq_fixture.h"

#define PRODUCERS   3
#define PER_THREAD  4000
#define POOL	    6 /* requests in flight per thread */
#define TOKEN_MAGIC 0x7e57

struct req {
	uint16_t magic, owner;
	uint32_t seq;
	int in_flight;
	uint8_t hdr[8], data[32];
};

static struct fixture fx;
static struct spinlock vq_lock = SPINLOCK_INIT("test vq");
static struct req pool[PRODUCERS][POOL];
static unsigned done[PRODUCERS], wrong[PRODUCERS];
static int stop;

/* The queue's callback, run by whoever delivers the interrupt, with
 * vq_lock held. */
static void reap(struct virtqueue *vq)
{
	unsigned len;
	struct req *r;

	while ((r = virtqueue_get_buf(vq, &len))) {
		if (r->magic != TOKEN_MAGIC || r->owner >= PRODUCERS || !r->in_flight) {
			wrong[0]++;
			continue;
		}
		if (len != sizeof(r->data) || r->data[0] != (uint8_t)r->seq ||
		    r->data[31] != (uint8_t)r->seq)
			wrong[r->owner]++;
		r->in_flight = 0;
		done[r->owner]++;
	}
}

static bool mp_notify(struct virtqueue *vq)
{
	return true;
}

static void *producer(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg, posted = 0, seq = 1;

	while (posted < PER_THREAD) {
		unsigned long fl = spin_lock_irqsave(&vq_lock);

		for (unsigned i = 0; i < POOL && posted < PER_THREAD; i++) {
			struct req *r = &pool[me][i];
			struct scatterlist h, d, *sgs[2] = {&h, &d};

			if (r->in_flight)
				continue;
			*r = (struct req){.magic = TOKEN_MAGIC, .owner = (uint16_t)me, .seq = seq};
			memcpy(r->hdr, &r->seq, sizeof(r->seq));
			sg_init_one(&h, r->hdr, sizeof(r->hdr));
			sg_init_one(&d, r->data, sizeof(r->data));
			if (virtqueue_add_sgs(fx.vq, sgs, 1, 1, r))
				break; /* ring full: the device will make room */
			r->in_flight = 1;
			seq++;
			posted++;
		}
		virtqueue_kick(fx.vq);
		spin_unlock_irqrestore(&vq_lock, fl);
		sched_yield();
	}
	return NULL;
}

/* Serve everything available, then deliver the interrupt: all under the
 * lock, so the ring is never touched by two threads at once. */
static void *device(void *arg)
{
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned long fl = spin_lock_irqsave(&vq_lock);
		struct sim_req r;
		bool served = false;

		while (sim_pop(&fx.dev, &r) == 0) {
			uint32_t seq = 0;

			sim_read(&r, &seq, sizeof(seq));
			sim_push(&fx.dev, r.head, sim_fill(&r, (uint8_t)seq, r.in_len));
			served = true;
		}
		if (served && sim_need_interrupt(&fx.dev))
			vring_interrupt(fx.vq);
		else if (served)
			reap(fx.vq); /* suppressed: the driver would poll */
		spin_unlock_irqrestore(&vq_lock, fl);
		sched_yield();
	}
	return NULL;
}

static void run(uint64_t feat)
{
	pthread_t prod[PRODUCERS], dev;
	unsigned total = 0, bad = 0;
	bool each = true;

	memset(pool, 0, sizeof(pool));
	memset(done, 0, sizeof(done));
	memset(wrong, 0, sizeof(wrong));
	stop = 0;
	fx_init(&fx, 16, feat);
	vring_del_virtqueue(fx.vq);
	fx.vq = vring_create_virtqueue(0, 16, 0, &fx.vdev, mp_notify, reap, "mp");
	fx.vdev.vqs = fx.vq;
	sim_init(&fx.dev, fx.vq);

	pthread_create(&dev, NULL, device, NULL);
	for (unsigned i = 0; i < PRODUCERS; i++)
		pthread_create(&prod[i], NULL, producer, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < PRODUCERS; i++)
		pthread_join(prod[i], NULL);
	/* Let the device finish what is in flight. */
	for (int spins = 0; spins < 1000000; spins++) {
		unsigned long fl = spin_lock_irqsave(&vq_lock);
		unsigned sum = 0;

		for (unsigned i = 0; i < PRODUCERS; i++)
			sum += done[i];
		spin_unlock_irqrestore(&vq_lock, fl);
		if (sum == PRODUCERS * PER_THREAD)
			break;
		sched_yield();
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(dev, NULL);

	for (unsigned i = 0; i < PRODUCERS; i++) {
		total += done[i];
		bad += wrong[i];
		each = each && done[i] == PER_THREAD;
	}
	CHECK(each && bad == 0 && !virtqueue_is_broken(fx.vq),
	      "[%s] %u producer threads under the queue lock: %u of %u requests back, each to "
	      "its own thread (%u, %u, %u), %u wrong",
	      fx_name(feat), PRODUCERS, total, PRODUCERS * PER_THREAD, done[0], done[1], done[2],
	      bad);
	CHECK(fx_fini(&fx) == 0, "[%s] nothing left in the ring", fx_name(feat));
}

int main(void)
{
	for (unsigned i = 0; i < FX_NFEATURES; i++)
		run(fx_all_features[i]);
	return tap_done();
}
