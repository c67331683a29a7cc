/*
 * Host tests of notification suppression in the virtqueue API
 * (virtio/virtqueue.c) over both ring layouts, split (virtio 1.2 section
 * 2.7) and packed (2.8), against the simulated device of vring_sim.c, for
 * each layout with and without event index and indirect descriptors.
 * Driver to device, the kicks (2.7.10 avail_event or used flags, 2.8.10
 * device event suppression), including a kick wish the driver read stale;
 * device to driver, the interrupts (2.7.7 used_event or avail flags, 2.8.10
 * driver event suppression): disable_cb, enable_cb, enable_cb_prepare with
 * poll, and enable_cb_delayed.
 */
#include <stdint.h>

#include "tap.h"
#include "vq_fixture.h"

static void test_kick_suppression(uint64_t feat)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok[4];
	bool event = feat & F_EVENT;

	fx_init(&f, 8, feat);
	sg_init_one(&sg, b, 4);
	/* A fresh device wants every notification. */
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[0]);
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] fresh ring: kick needed", fx_name(feat));
	CHECK(virtqueue_notify(f.vq) && f.notifies == 1, "[%s] notify rings the doorbell",
	      fx_name(feat));
	/* The device asks for no notifications while it is busy. */
	sim_want_kicks(&f.dev, false);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[1]);
	CHECK(!virtqueue_kick_prepare(f.vq) && f.vq->stats.kicks_suppressed == 1,
	      "[%s] device said no: kick suppressed", fx_name(feat));
	virtqueue_kick(f.vq);
	CHECK(f.notifies == 1, "[%s] kick() did not notify either", fx_name(feat));
	/* The device catches up, then wants notifications again: it asks
	 * at its current position. */
	while (sim_pop(&f.dev, &r) == 0)
		sim_push(&f.dev, r.head, 0);
	CHECK(!sim_want_kicks(&f.dev, true), "[%s] device caught up", fx_name(feat));
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[2]);
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] device asked again: kick", fx_name(feat));
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[3]);
	/* With event index the device asked for one notification when the
	 * avail index passed 0; it passed it already, so no second one.
	 * With flags, the device gets one per kick. */
	CHECK(virtqueue_kick_prepare(f.vq) == !event, "[%s] second kick %s", fx_name(feat),
	      event ? "suppressed by avail_event" : "sent (flags clear)");
	fx_fini(&f);
}

/*
 * With event index the device asks for one kick at an index (avail_event,
 * packed off_wrap), then re-reads the ring, and sleeps if it finds nothing.
 * The driver publishes, then reads the wish. The two full barriers make
 * sure one side sees the other; when the driver's does not work (QEMU
 * 7.2's TCG drops a single vCPU's fences) both read stale values: the
 * driver the wish before it landed, the device the index before ours. The
 * device then waits at an index we passed without kicking. A kick_prepare
 * that only looks at what was added since the previous one never kicks
 * again (the next window starts past the wish) and the queue stalls for
 * good; the transmit queue did, under iperf. Here the device's re-read is
 * made to miss on purpose.
 */
static void test_stale_kick_wish(uint64_t feat)
{
	struct fixture f;
	struct sim_req r;
	struct scatterlist sg;
	char b[4];
	int tok[4];

	fx_init(&f, 8, feat);
	sg_init_one(&sg, b, 4);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[0]);
	virtqueue_kick(f.vq);
	/* Busy: the device does not want kicks while it works. */
	sim_want_kicks(&f.dev, false);
	CHECK(sim_pop(&f.dev, &r) == 0, "[%s] device pops the first buffer", fx_name(feat));
	sim_push(&f.dev, r.head, 0);
	/* We publish the second buffer and read the old wish: no kick. */
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[1]);
	CHECK(!virtqueue_kick_prepare(f.vq), "[%s] device still busy: no kick", fx_name(feat));
	/* The device, done, asks for a kick at its position (the second
	 * buffer's) and re-reads the ring: stale, it sees nothing and
	 * sleeps (the return value is what a correct re-read would find). */
	CHECK(sim_want_kicks(&f.dev, true), "[%s] (a fenced re-read would find the buffer)",
	      fx_name(feat));
	/* The poll loop asks again with nothing added: the wish is for a
	 * buffer we published and never kicked about. */
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] nothing added: kick for the missed wish",
	      fx_name(feat));
	CHECK(!virtqueue_kick_prepare(f.vq), "[%s] once", fx_name(feat));

	/* The same through a later add: its window starts where we last
	 * kicked, so it covers the wish read stale before. */
	while (sim_pop(&f.dev, &r) == 0)
		sim_push(&f.dev, r.head, 0);
	sim_want_kicks(&f.dev, false);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[2]);
	CHECK(!virtqueue_kick_prepare(f.vq), "[%s] busy again: no kick", fx_name(feat));
	sim_want_kicks(&f.dev, true);
	virtqueue_add_outbuf(f.vq, &sg, 1, &tok[3]);
	CHECK(virtqueue_kick_prepare(f.vq), "[%s] next add kicks for the missed wish",
	      fx_name(feat));
	fx_fini(&f);
}

static void push_one(struct fixture *f)
{
	struct sim_req r;

	if (sim_pop(&f->dev, &r) == 0)
		sim_push(&f->dev, r.head, 0);
}

static void test_interrupt_suppression(uint64_t feat)
{
	struct fixture f;
	struct scatterlist sg;
	char b[4];
	int tok[16];
	unsigned len, last;
	bool event = feat & F_EVENT, irq[8];

	fx_init(&f, 16, feat);
	sg_init_one(&sg, b, 4);
	for (int i = 0; i < 8; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	push_one(&f);
	CHECK(sim_need_interrupt(&f.dev), "[%s] callbacks on: device interrupts", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);
	/* get_buf keeps used_event moving: the next one interrupts too. */
	push_one(&f);
	CHECK(sim_need_interrupt(&f.dev), "[%s] callbacks stay on across get_buf", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);

	virtqueue_disable_cb(f.vq);
	if (!event)
		CHECK(sim_driver_irq_off(&f.dev), "[%s] disable_cb sets NO_INTERRUPT / DISABLE",
		      fx_name(feat));
	push_one(&f);
	CHECK(!sim_need_interrupt(&f.dev), "[%s] disabled: no interrupt", fx_name(feat));
	CHECK(!virtqueue_enable_cb(f.vq), "[%s] enable_cb with one pending returns false",
	      fx_name(feat));
	virtqueue_get_buf(f.vq, &len);
	CHECK(virtqueue_enable_cb(f.vq), "[%s] enable_cb with none pending returns true",
	      fx_name(feat));
	if (!event)
		CHECK(!sim_driver_irq_off(&f.dev), "[%s] enable_cb clears NO_INTERRUPT / DISABLE",
		      fx_name(feat));
	else
		CHECK(sim_driver_event(&f.dev) == 3,
		      "[%s] enable_cb sets used_event / off_wrap to 3 (%u)", fx_name(feat),
		      sim_driver_event(&f.dev));
	push_one(&f);
	CHECK(sim_need_interrupt(&f.dev), "[%s] enabled again: interrupt", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);

	/* prepare + poll: the opaque position catches a buffer used in
	 * between. */
	last = virtqueue_enable_cb_prepare(f.vq);
	CHECK(!virtqueue_poll(f.vq, last), "[%s] poll: nothing yet", fx_name(feat));
	push_one(&f);
	CHECK(virtqueue_poll(f.vq, last), "[%s] poll sees the used buffer", fx_name(feat));
	virtqueue_get_buf(f.vq, &len);
	sim_need_interrupt(&f.dev);

	/* 3 outstanding, plus 5 more: 8. enable_cb_delayed asks for the
	 * interrupt after 3/4 of them (event index) or the next (flags). */
	for (int i = 8; i < 13; i++)
		virtqueue_add_outbuf(f.vq, &sg, 1, &tok[i]);
	virtqueue_disable_cb(f.vq);
	CHECK(virtqueue_enable_cb_delayed(f.vq), "[%s] enable_cb_delayed with none used: true",
	      fx_name(feat));
	for (int i = 0; i < 8; i++) {
		push_one(&f);
		irq[i] = sim_need_interrupt(&f.dev);
	}
	if (event)
		CHECK(!irq[0] && !irq[5] && irq[6] && !irq[7],
		      "[%s] delayed: the interrupt comes with the 7th of 8 used (%d%d%d%d%d%d%d%d)",
		      fx_name(feat), irq[0], irq[1], irq[2], irq[3], irq[4], irq[5], irq[6],
		      irq[7]);
	else
		CHECK(irq[0] && irq[7], "[%s] delayed without event index: every one interrupts",
		      fx_name(feat));
	fx_fini(&f);
}

int main(void)
{
	for (unsigned i = 0; i < FX_NFEATURES; i++) {
		uint64_t feat = fx_all_features[i];

		test_kick_suppression(feat);
		if (feat & F_EVENT)
			test_stale_kick_wish(feat);
		test_interrupt_suppression(feat);
	}
	return tap_done();
}
