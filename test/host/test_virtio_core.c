/*
 * Host tests of the virtio core (virtio/virtio.c) over the in-memory test
 * transport: driver/device matching in both orders, the initialization
 * sequence and feature negotiation of virtio 1.2 section 3.1.1 (3.1.2 for
 * legacy), FAILED with the failing step named, config reads with the
 * generation counter (2.5.1), DEVICE_NEEDS_RESET (2.1.2), and the shell
 * helpers.
 */
#include <errno.h>
#include <string.h>

#include "kernel/lib/cmdline.h"
#include "shim/dma_host.h"
#include "sim_transport.h"
#include "tap.h"
#include "virtio/virtio.h"

#define ACK  VIRTIO_CONFIG_S_ACKNOWLEDGE
#define DRV  VIRTIO_CONFIG_S_DRIVER
#define FOK  VIRTIO_CONFIG_S_FEATURES_OK
#define DOK  VIRTIO_CONFIG_S_DRIVER_OK
#define FAIL VIRTIO_CONFIG_S_FAILED

static unsigned probes, removes, config_changes;
static int probe_result;
static struct virtqueue *probe_vq;

static int blk_probe(struct virtio_device *vdev)
{
	struct virtqueue *vqs[1];
	const struct virtqueue_info info[1] = {{.name = "requests"}};
	int err;

	probes++;
	if (probe_result)
		return probe_result;
	err = virtio_find_vqs(vdev, 1, vqs, info);
	if (err)
		return err;
	probe_vq = vqs[0];
	return 0;
}

static void blk_remove(struct virtio_device *vdev)
{
	removes++;
	virtio_reset_device(vdev);
	virtio_del_vqs(vdev);
}

static void blk_config_changed(struct virtio_device *vdev)
{
	config_changes++;
}

static const struct virtio_device_id blk_ids[] = {{VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID}, {0, 0}};
/* Bit 33 is a transport bit: listing it must not make the core accept it
 * on the driver's behalf. */
static const unsigned blk_features[] = {1, 5, 33};

static struct virtio_driver blk_driver = {
	.name = "simblk",
	.id_table = blk_ids,
	.feature_table = blk_features,
	.feature_table_size = 3,
	.probe = blk_probe,
	.remove = blk_remove,
	.config_changed = blk_config_changed,
};

static bool log_is(const struct sim_transport *t, const uint8_t *want, unsigned n)
{
	return t->nlog == n && memcmp(t->status_log, want, n) == 0;
}

static void reset_counters(void)
{
	probes = removes = config_changes = 0;
	probe_result = 0;
	probe_vq = NULL;
}

static const uint64_t offer = VIRTIO_BIT(1) | VIRTIO_BIT(2) | VIRTIO_BIT(5) |
			      VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |
			      VIRTIO_BIT(VIRTIO_F_RING_RESET);

static void test_device_first(void)
{
	struct sim_transport t;
	const uint8_t seq[] = {ACK, ACK | DRV, ACK | DRV | FOK, ACK | DRV | FOK | DOK};
	const uint64_t want = VIRTIO_BIT(1) | VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			      VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	char line[200];

	reset_counters();
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	CHECK(register_virtio_device(&t.vdev) == 0 && t.resets == 1 && t.status == ACK,
	      "device registered: reset, then ACKNOWLEDGE (status 0x%x)", t.status);
	CHECK(probes == 0 && !t.vdev.driver, "no driver yet: nothing probed");
	CHECK(register_virtio_driver(&blk_driver) == 0 && probes == 1 &&
		      t.vdev.driver == &blk_driver,
	      "driver registered second: bound");
	CHECK(log_is(&t, seq, 4), "status went ACK, DRIVER, FEATURES_OK, DRIVER_OK (%u writes)",
	      t.nlog);
	CHECK(t.vdev.features == want && t.written_features == want,
	      "features: driver's bits AND offer, plus VERSION_1 and EVENT_IDX; not bit 2, "
	      "not RING_RESET without queue reset (0x%llx)",
	      (unsigned long long)t.vdev.features);
	CHECK(probe_vq && t.vdev.vqs == probe_vq && virtqueue_get_vring_size(probe_vq) == 16,
	      "probe created its queue through find_vqs");
	CHECK(register_virtio_driver(&blk_driver) == -EBUSY, "registering twice: -EBUSY");

	virtio_device_format(&t.vdev, line, sizeof(line));
	CHECK(strstr(line, "block") && strstr(line, "sim") && strstr(line, "simblk") &&
		      strstr(line, "status 0x0f"),
	      "device line: %s", line);

	unregister_virtio_driver(&blk_driver);
	CHECK(removes == 1 && !t.vdev.driver && t.status == ACK && !t.vdev.vqs,
	      "driver unregistered: removed, queues gone, device reset and acknowledged");
	unregister_virtio_device(&t.vdev);
}

static void test_driver_first(void)
{
	struct sim_transport t, other;
	unsigned n = 0;

	reset_counters();
	register_virtio_driver(&blk_driver);
	sim_transport_init(&other, VIRTIO_ID_NET, offer);
	register_virtio_device(&other.vdev);
	CHECK(probes == 0 && !other.vdev.driver, "a net device does not match a block driver");
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	register_virtio_device(&t.vdev);
	CHECK(probes == 1 && t.vdev.driver == &blk_driver && (t.status & DOK),
	      "driver first, device second: bound and live");
	for (struct virtio_device *d = virtio_device_next(NULL); d; d = virtio_device_next(d))
		n++;
	CHECK(n == 2 && t.vdev.index == other.vdev.index + 1,
	      "virtio_device_next walks both devices in discovery order");
	virtio_device_print(&t.vdev);
	unregister_virtio_device(&t.vdev);
	CHECK(removes == 1 && t.status == 0, "device unregistered: driver removed, device reset");
	unregister_virtio_device(&other.vdev);
	unregister_virtio_driver(&blk_driver);
	CHECK(virtio_device_next(NULL) == NULL, "registry empty again");
}

static void test_failures(void)
{
	struct sim_transport t;

	register_virtio_driver(&blk_driver);

	reset_counters();
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	t.refuse_features = true;
	register_virtio_device(&t.vdev);
	CHECK(probes == 0 && !t.vdev.driver && (t.status & FAIL) && !(t.status & DOK),
	      "device refuses FEATURES_OK: FAILED, no probe (status 0x%x)", t.status);
	CHECK(t.vdev.failed && t.vdev.fail_step && strstr(t.vdev.fail_step, "FEATURES_OK"),
	      "the failed step is named: %s", t.vdev.fail_step ? t.vdev.fail_step : "(none)");
	unregister_virtio_device(&t.vdev);

	reset_counters();
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer & ~VIRTIO_BIT(VIRTIO_F_VERSION_1));
	register_virtio_device(&t.vdev);
	CHECK(probes == 0 && (t.status & FAIL) && strstr(t.vdev.fail_step, "VERSION_1"),
	      "modern transport, device without VERSION_1: FAILED before probe");
	unregister_virtio_device(&t.vdev);

	reset_counters();
	probe_result = -EIO;
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	register_virtio_device(&t.vdev);
	CHECK(probes == 1 && !t.vdev.driver && (t.status & FAIL) && !(t.status & DOK) &&
		      strstr(t.vdev.fail_step, "probe"),
	      "probe fails: FAILED, unbound, step 'driver probe'");
	unregister_virtio_device(&t.vdev);

	reset_counters();
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	t.stuck_reset = true;
	register_virtio_device(&t.vdev);
	CHECK(probes == 0 && (t.status & FAIL) && strstr(t.vdev.fail_step, "reset"),
	      "reset never completes: FAILED at the reset step, never probed");
	unregister_virtio_device(&t.vdev);

	reset_counters();
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer | VIRTIO_BIT(2));
	t.vdev.legacy = true;
	register_virtio_device(&t.vdev);
	{
		bool saw_fok = false;

		for (unsigned i = 0; i < t.nlog; i++)
			saw_fok |= (t.status_log[i] & FOK) != 0;
		CHECK(probes == 1 && !saw_fok && (t.status & DOK) &&
			      t.vdev.features == (VIRTIO_BIT(1) | VIRTIO_BIT(5) |
						  VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)),
		      "legacy device: no FEATURES_OK step, 32 feature bits (0x%llx)",
		      (unsigned long long)t.vdev.features);
	}
	unregister_virtio_device(&t.vdev);
	unregister_virtio_driver(&blk_driver);
}

/* The core offers VIRTIO_F_RING_PACKED on modern transports unless
 * virtio.ring=split, and the queues follow the negotiated layout. */
static void test_ring_choice(void)
{
	static const char *const opts[] = {"", "virtio.ring=packed", "virtio.ring=split",
					   "virtio.ring=bogus"};
	static const bool want_packed[] = {true, true, false, true};
	struct sim_transport t;

	register_virtio_driver(&blk_driver);
	for (unsigned i = 0; i < 4; i++) {
		bool packed;

		CHECK(cmdline_parse(opts[i]) == (i == 3 ? 1 : 0), "'%s': %s", opts[i],
		      i == 3 ? "refused at boot (reads as auto)" : "accepted");
		reset_counters();
		sim_transport_init(&t, VIRTIO_ID_BLOCK, offer | VIRTIO_BIT(VIRTIO_F_RING_PACKED));
		register_virtio_device(&t.vdev);
		packed = virtio_has_feature(&t.vdev, VIRTIO_F_RING_PACKED);
		CHECK(probes == 1 && packed == want_packed[i] && probe_vq &&
			      !strcmp(virtqueue_layout(probe_vq), packed ? "packed" : "split"),
		      "'%s': RING_PACKED %s, the queue is %s", opts[i],
		      packed ? "accepted" : "declined",
		      probe_vq ? virtqueue_layout(probe_vq) : "-");
		unregister_virtio_device(&t.vdev);
	}
	cmdline_parse("");
	reset_counters();
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer | VIRTIO_BIT(VIRTIO_F_RING_PACKED));
	t.vdev.legacy = true;
	register_virtio_device(&t.vdev);
	CHECK(probes == 1 && !virtio_has_feature(&t.vdev, VIRTIO_F_RING_PACKED) && probe_vq &&
		      !strcmp(virtqueue_layout(probe_vq), "split"),
	      "legacy device: never packed");
	unregister_virtio_device(&t.vdev);
	unregister_virtio_driver(&blk_driver);
}

static int decline_validate(struct virtio_device *vdev)
{
	virtio_clear_feature(vdev, 5);
	/* validate may only decline: this must not stick */
	vdev->features |= VIRTIO_BIT(2);
	return 0;
}

static void test_validate(void)
{
	struct sim_transport t;
	struct virtio_driver drv = blk_driver;

	reset_counters();
	drv.validate = decline_validate;
	register_virtio_driver(&drv);
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	register_virtio_device(&t.vdev);
	CHECK(!virtio_has_feature(&t.vdev, 5) && !virtio_has_feature(&t.vdev, 2) &&
		      virtio_has_feature(&t.vdev, 1) && t.written_features == t.vdev.features,
	      "validate declines bit 5 and cannot add bit 2");
	unregister_virtio_device(&t.vdev);
	unregister_virtio_driver(&drv);
}

static void test_config(void)
{
	struct sim_transport t;
	uint64_t v = 0x1122334455667788ull, got;
	uint8_t bytes[12];

	reset_counters();
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	register_virtio_device(&t.vdev);
	memcpy(t.config, &v, 8);
	t.tear_reads = 1;
	t.gets = 0;
	got = virtio_cread64(&t.vdev, 0);
	CHECK(got == ~v && t.gets == 2,
	      "a read torn by a config change is retried: 0x%llx after %u reads",
	      (unsigned long long)got, t.gets);
	virtio_cwrite32(&t.vdev, 8, 0xdeadbeef);
	CHECK(virtio_cread32(&t.vdev, 8) == 0xdeadbeef && virtio_cread16(&t.vdev, 8) == 0xbeef &&
		      virtio_cread8(&t.vdev, 11) == 0xde,
	      "cwrite32 / cread32 / cread16 / cread8");
	t.config_unstable = true;
	t.gets = 0;
	CHECK(virtio_cread_bytes(&t.vdev, 0, bytes, sizeof(bytes)) == -EIO && t.gets == 100,
	      "a config that never settles: -EIO after a bounded number of reads (%u)", t.gets);
	unregister_virtio_device(&t.vdev);
}

static void test_needs_reset(void)
{
	struct sim_transport t;

	reset_counters();
	register_virtio_driver(&blk_driver);
	sim_transport_init(&t, VIRTIO_ID_BLOCK, offer);
	register_virtio_device(&t.vdev);
	virtio_config_changed(&t.vdev);
	CHECK(config_changes == 1 && !virtqueue_is_broken(probe_vq),
	      "config change: the driver's config_changed runs");
	t.status |= VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
	virtio_config_changed(&t.vdev);
	CHECK(config_changes == 1 && t.vdev.needs_reset && virtqueue_is_broken(probe_vq),
	      "DEVICE_NEEDS_RESET: reported, queues broken, driver not called");
	CHECK(virtio_check_needs_reset(&t.vdev), "virtio_check_needs_reset says so too");
	unregister_virtio_device(&t.vdev);
	unregister_virtio_driver(&blk_driver);
	CHECK(dma_host_outstanding == 0, "every ring freed (%ld left)", dma_host_outstanding);
}

int main(void)
{
	test_device_first();
	test_driver_first();
	test_failures();
	test_validate();
	test_config();
	test_needs_reset();
	test_ring_choice();
	CHECK(strcmp(virtio_id_name(VIRTIO_ID_NET), "net") == 0 &&
		      strcmp(virtio_id_name(999), "unknown") == 0,
	      "virtio_id_name");
	return tap_done();
}
