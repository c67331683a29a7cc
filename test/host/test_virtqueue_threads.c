/*
 * Two-thread test of both ring layouts, split (virtio 1.2 section 2.7) and
 * packed (2.8): the simulated device runs on its own thread and really
 * reads and writes the ring concurrently with the driver, so the barriers
 * of 2.7.13 / 2.8.21 and the notification-suppression handshakes of 2.7.7 /
 * 2.7.10 / 2.8.10 are exercised:
 * a missing barrier shows up as corrupted data or as a lost kick or a lost
 * interrupt (the waiting side times out).
 *
 * The driver side follows the kernel's contract: the "interrupt" the device
 * raises is only a flag; the driver thread delivers it by calling
 * vring_interrupt() itself, since one CPU never runs a vq callback
 * concurrently with other calls on that vq.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "vq_fixture.h"

#define NTOK	  48
#define TIMEOUT_S 10

struct ttok {
	uint32_t seq;
	int state; /* 0 free, 1 posted */
	uint8_t hdr[8], data[64], status[32];
};

static struct fixture fx;
static struct ttok toks[NTOK];
static unsigned kicks_rung, irq_pending, stop;
static unsigned completed, bad;
static char failure[200];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool thread_notify(struct virtqueue *vq)
{
	__atomic_fetch_add(&kicks_rung, 1, __ATOMIC_SEQ_CST);
	return true;
}

static void fail(const char *what)
{
	if (!__atomic_exchange_n(&stop, 1, __ATOMIC_SEQ_CST))
		snprintf(failure, sizeof(failure), "%s", what);
}

/* The device: serve everything available; when idle, ask for kicks,
 * re-check, and wait for one. */
static void *device_thread(void *arg)
{
	struct sim_dev *d = &fx.dev;
	struct sim_req r;
	double idle_since = 0;

	sim_want_kicks(d, false);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		int err = sim_pop(d, &r);

		if (err == 0) {
			uint32_t seq;

			/* The header carries the request's sequence number;
			 * the reply fills the in buffers with it. */
			if (sim_read(&r, &seq, sizeof(seq)) != sizeof(seq)) {
				fail("device: request without a 4-byte header");
				break;
			}
			sim_push(d, r.head, sim_fill(&r, (uint8_t)seq, r.in_len));
			if (sim_need_interrupt(d))
				__atomic_store_n(&irq_pending, 1, __ATOMIC_RELEASE);
			idle_since = 0;
			continue;
		}
		if (err != -EAGAIN) {
			fail(d->error);
			break;
		}
		unsigned seen = __atomic_load_n(&kicks_rung, __ATOMIC_SEQ_CST);

		if (sim_want_kicks(d, true)) {
			sim_want_kicks(d, false);
			continue;
		}
		if (!idle_since)
			idle_since = now();
		while (__atomic_load_n(&kicks_rung, __ATOMIC_SEQ_CST) == seen &&
		       !__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
			if (now() - idle_since > TIMEOUT_S) {
				fail("device waited 10 s for a kick: lost notification");
				return NULL;
			}
			sched_yield();
		}
		sim_want_kicks(d, false);
	}
	return NULL;
}

static void reap(struct virtqueue *vq)
{
	unsigned len;
	void *p;

	while ((p = virtqueue_get_buf(vq, &len))) {
		struct ttok *t = p;
		uint8_t want = (uint8_t)t->seq;

		if (t < toks || t >= toks + NTOK || t->state != 1) {
			bad++;
			continue;
		}
		if (len != sizeof(t->data) + sizeof(t->status) || t->data[0] != want ||
		    t->data[63] != want || t->status[31] != want)
			bad++;
		t->state = 0;
		completed++;
	}
}

/* The vq callback, NAPI style: drain, re-enable, drain what raced in. */
static void thread_callback(struct virtqueue *vq)
{
	do {
		virtqueue_disable_cb(vq);
		reap(vq);
	} while (!virtqueue_enable_cb(vq));
}

static void run(uint64_t feat, unsigned total)
{
	pthread_t dev;
	unsigned next_seq = 1, posted = 0;
	double start, last_progress;
	unsigned last_completed = 0;

	memset(toks, 0, sizeof(toks));
	completed = bad = stop = kicks_rung = irq_pending = 0;
	failure[0] = 0;
	fx_init(&fx, 32, feat);
	vring_del_virtqueue(fx.vq);
	/* A packed ring of 30: no power of two, so slot arithmetic that
	 * assumed one would show. */
	fx.vq = vring_create_virtqueue(0, (feat & F_PACKED) ? 30 : 32, 0, &fx.vdev, thread_notify,
				       thread_callback, "threads");
	fx.vdev.vqs = fx.vq;
	sim_init(&fx.dev, fx.vq);
	pthread_create(&dev, NULL, device_thread, NULL);

	start = last_progress = now();
	while (completed < total && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		/* Fill the ring. */
		for (unsigned i = 0; i < NTOK && posted < total; i++) {
			struct ttok *t = &toks[i];
			struct scatterlist h, in[2], *sgs[2] = {&h, in};

			if (t->state)
				continue;
			t->seq = next_seq;
			memcpy(t->hdr, &t->seq, sizeof(t->seq));
			memset(t->data, 0, sizeof(t->data));
			memset(t->status, 0, sizeof(t->status));
			sg_init_one(&h, t->hdr, sizeof(t->hdr));
			sg_init_table(in, 2);
			sg_set_buf(&in[0], t->data, sizeof(t->data));
			sg_set_buf(&in[1], t->status, sizeof(t->status));
			if (virtqueue_add_sgs(fx.vq, sgs, 1, 1, t))
				break;
			t->state = 1;
			next_seq++;
			posted++;
		}
		virtqueue_kick(fx.vq);
		/* Deliver the device's interrupt, if it raised one. */
		if (__atomic_exchange_n(&irq_pending, 0, __ATOMIC_ACQUIRE))
			vring_interrupt(fx.vq);
		if (completed != last_completed) {
			last_completed = completed;
			last_progress = now();
		} else if (now() - last_progress > TIMEOUT_S) {
			fail("driver waited 10 s for an interrupt: lost interrupt");
		} else {
			sched_yield();
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(dev, NULL);
	CHECK(completed >= total && bad == 0 && !failure[0] && !virtqueue_is_broken(fx.vq),
	      "[%s] two threads: %u buffers in %.2f s, data and lengths right (%u bad; %s), "
	      "%llu kicks, %llu suppressed, %llu interrupts",
	      fx_name(feat), completed, now() - start, bad, failure[0] ? failure : "no failure",
	      (unsigned long long)fx.vq->stats.kicks,
	      (unsigned long long)fx.vq->stats.kicks_suppressed,
	      (unsigned long long)fx.vq->stats.interrupts);
	fx_fini(&fx);
}

int main(void)
{
	for (unsigned i = 0; i < FX_NFEATURES; i++)
		run(fx_all_features[i], 300000);
	return tap_done();
}
