/*
 * The virtio core: a registry of devices (from any transport) and drivers,
 * the matching between them, and the device initialization sequence of
 * virtio 1.2 section 3.1.1 (3.1.2 for legacy devices), feature negotiation
 * (section 6, 2.2), consistent config-space reads with the generation
 * counter (2.5.1, 4.1.4.3.1) and the DEVICE_NEEDS_RESET status (2.1.2).
 * It offers the ring layouts (split 2.7, packed 2.8) a transport can take;
 * virtio/virtqueue_transport.c builds the one negotiated.
 *
 * The registry is two singly linked lists, walked only at registration
 * time and by the shell: the kernel has one CPU and registers from init
 * code, so there is no locking.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/lib/cmdline.h"
#include "kernel/lib/log.h"
#include "virtio/virtio.h"

static const char *ring_layout_check(const char *value)
{
	if (!strcmp(value, "split") || !strcmp(value, "packed") || !strcmp(value, "auto"))
		return NULL;
	return "split, packed or auto";
}

CMDLINE_OPTION(virtio_ring, .key = "virtio.ring", .type = CMDLINE_STRING,
	       .check = ring_layout_check,
	       .help = "virtqueue layout: split, packed, or auto (default: packed when the "
		       "device offers VIRTIO_F_RING_PACKED)");

static struct virtio_device *devices;
static struct virtio_driver *drivers;
static int next_index;

/*
 * virtio.ring=split|packed|auto. "packed" and "auto" both accept
 * VIRTIO_F_RING_PACKED when the device offers it (a device that does not
 * gets a split ring either way); "split" declines it. Auto prefers packed:
 * bench-ring measures it at least as fast as split on the host, and it is
 * the layout with fewer cache lines shared per buffer. A bad value was
 * refused and reported at boot (ring_layout_check), so it reads as auto.
 */
static bool ring_allows_packed(void)
{
	const char *v = cmdline_string("virtio.ring");

	return !v || strcmp(v, "split") != 0;
}

/* Feature bits the core and the ring layouts implement; anything else in
 * the transport range is declined (section 6). */
static uint64_t transport_features(const struct virtio_device *vdev)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);

	if (!vdev->legacy) {
		/* Memory is identity mapped without an IOMMU, so addresses
		 * we give the device are right whether or not it goes
		 * through the platform's translation: accepting
		 * ACCESS_PLATFORM costs nothing, refusing it may make the
		 * device refuse us (6.1). */
		f |= VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM);
		if (vdev->config->disable_vq_and_reset && vdev->config->enable_vq_after_reset)
			f |= VIRTIO_BIT(VIRTIO_F_RING_RESET);
		/* The packed layout needs a transport that takes three
		 * addresses per queue, which every modern one does; legacy
		 * interfaces know only the split ring (and only 32 bits). */
		if (ring_allows_packed())
			f |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	}
	/* VIRTIO_F_IN_ORDER is not offered: the rings never assume the
	 * device uses buffers in order. */
	return f;
}

/* "split" or "packed", as the device's queues are laid out. */
static const char *ring_layout(const struct virtio_device *vdev)
{
	return virtio_has_feature(vdev, VIRTIO_F_RING_PACKED) ? "packed" : "split";
}

void virtio_add_status(struct virtio_device *vdev, uint8_t bits)
{
	vdev->config->set_status(vdev, (uint8_t)(vdev->config->get_status(vdev) | bits));
}

void virtio_reset_device(struct virtio_device *vdev)
{
	vdev->config->reset(vdev);
}

void virtio_device_ready(struct virtio_device *vdev)
{
	virtio_add_status(vdev, VIRTIO_CONFIG_S_DRIVER_OK);
}

static bool driver_matches(const struct virtio_driver *drv, const struct virtio_device *vdev)
{
	for (const struct virtio_device_id *id = drv->id_table; id && id->device; id++) {
		if (id->device != VIRTIO_DEV_ANY_ID && id->device != vdev->id.device)
			continue;
		if (id->vendor != VIRTIO_DEV_ANY_ID && id->vendor != vdev->id.vendor)
			continue;
		return true;
	}
	return false;
}

/* Gives up on the device: FAILED tells it the driver will not go on (2.1). */
static int fail(struct virtio_device *vdev, const char *step, int err)
{
	vdev->failed = true;
	vdev->fail_step = step;
	virtio_add_status(vdev, VIRTIO_CONFIG_S_FAILED);
	pr_err("virtio%d (%s, %s): initialization failed at step '%s' (%d)\n", vdev->index,
	       virtio_id_name(vdev->id.device), vdev->config->bus_name(vdev), step, err);
	return err;
}

/* Steps 3..8 of 3.1.1, after the reset and ACKNOWLEDGE at registration. */
static int virtio_dev_probe(struct virtio_device *vdev, struct virtio_driver *drv)
{
	uint64_t driver_bits = 0;
	uint8_t status;
	int err;

	vdev->failed = false;
	vdev->fail_step = NULL;
	virtio_add_status(vdev, VIRTIO_CONFIG_S_DRIVER);

	vdev->device_features = vdev->config->get_features(vdev);
	for (unsigned i = 0; i < drv->feature_table_size; i++)
		if (drv->feature_table[i] < 64)
			driver_bits |= VIRTIO_BIT(drv->feature_table[i]);
	/* A driver's table names device-specific bits; the transport range
	 * is the core's to decide. */
	driver_bits &= ~(VIRTIO_BIT(VIRTIO_TRANSPORT_F_END) - VIRTIO_BIT(VIRTIO_TRANSPORT_F_START));
	driver_bits |= transport_features(vdev);
	vdev->features = vdev->device_features & driver_bits;
	if (vdev->legacy)
		vdev->features &= 0xffffffffu;
	else if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1))
		/* A modern transport with a device that does not offer
		 * VERSION_1 is a transitional device we would have to drive
		 * as legacy; this transport cannot. */
		return fail(vdev, "features: device does not offer VIRTIO_F_VERSION_1", -ENODEV);

	if (drv->validate) {
		uint64_t before = vdev->features;

		err = drv->validate(vdev);
		if (err)
			return fail(vdev, "driver validate", err);
		/* validate may only decline bits. */
		vdev->features &= before;
	}

	err = vdev->config->finalize_features(vdev);
	if (err)
		return fail(vdev, "write driver features", err);

	/* 3.1.1 steps 5-6: legacy devices have no FEATURES_OK (3.1.2). */
	if (!vdev->legacy) {
		virtio_add_status(vdev, VIRTIO_CONFIG_S_FEATURES_OK);
		status = vdev->config->get_status(vdev);
		if (!(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			pr_err("virtio%d: device refused features 0x%llx: status 0x%02x after "
			       "setting FEATURES_OK\n",
			       vdev->index, (unsigned long long)vdev->features, status);
			return fail(vdev, "FEATURES_OK not accepted", -ENODEV);
		}
	}

	vdev->driver = drv;
	err = drv->probe(vdev);
	if (err) {
		vdev->driver = NULL;
		return fail(vdev, "driver probe", err);
	}
	/* Step 8, unless probe already did it to use its queues. */
	if (!(vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK))
		virtio_device_ready(vdev);
	pr_info("virtio%d: %s driver bound (%s, features 0x%llx) ring=%s\n", vdev->index, drv->name,
		vdev->config->bus_name(vdev), (unsigned long long)vdev->features,
		ring_layout(vdev));
	return 0;
}

/* Back to a freshly registered device: reset, then ACKNOWLEDGE again so
 * another driver can be tried. */
static void reset_and_acknowledge(struct virtio_device *vdev)
{
	vdev->config->reset(vdev);
	virtio_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
}

static void try_bind(struct virtio_device *vdev, struct virtio_driver *drv)
{
	if (vdev->driver || !driver_matches(drv, vdev))
		return;
	if (vdev->failed)
		reset_and_acknowledge(vdev);
	virtio_dev_probe(vdev, drv);
}

int register_virtio_driver(struct virtio_driver *drv)
{
	for (struct virtio_driver *d = drivers; d; d = d->next) {
		if (d == drv) {
			pr_err("virtio: driver %s is already registered\n", drv->name);
			return -EBUSY;
		}
	}
	if (!drv->probe) {
		pr_err("virtio: driver %s has no probe function\n", drv->name);
		return -EINVAL;
	}
	drv->next = drivers;
	drivers = drv;
	for (struct virtio_device *vdev = devices; vdev; vdev = vdev->next)
		try_bind(vdev, drv);
	return 0;
}

static void unbind(struct virtio_device *vdev)
{
	struct virtio_driver *drv = vdev->driver;

	if (!drv)
		return;
	if (drv->remove)
		drv->remove(vdev);
	vdev->driver = NULL;
	/* Whatever remove left, the device must stop touching our memory. */
	reset_and_acknowledge(vdev);
}

void unregister_virtio_driver(struct virtio_driver *drv)
{
	struct virtio_driver **pp;

	for (struct virtio_device *vdev = devices; vdev; vdev = vdev->next)
		if (vdev->driver == drv)
			unbind(vdev);
	for (pp = &drivers; *pp; pp = &(*pp)->next) {
		if (*pp == drv) {
			*pp = drv->next;
			break;
		}
	}
}

int register_virtio_device(struct virtio_device *vdev)
{
	for (struct virtio_device *d = devices; d; d = d->next)
		if (d == vdev)
			return -EBUSY;
	vdev->index = next_index++;
	vdev->driver = NULL;
	vdev->vqs = NULL;
	vdev->failed = false;
	vdev->fail_step = NULL;
	vdev->needs_reset = false;

	/* 3.1.1 steps 1-2. The reset also clears whatever a firmware or a
	 * previous kernel left running. */
	vdev->config->reset(vdev);
	if (vdev->config->get_status(vdev) != 0) {
		/* Keep it listed, so the shell shows the dead device. */
		fail(vdev, "reset: status not 0 after reset", -EIO);
	} else {
		virtio_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	}

	/* Append, so indices and shell order follow discovery order. */
	struct virtio_device **pp = &devices;

	while (*pp)
		pp = &(*pp)->next;
	vdev->next = NULL;
	*pp = vdev;

	if (vdev->failed)
		return 0;
	for (struct virtio_driver *drv = drivers; drv && !vdev->driver; drv = drv->next)
		try_bind(vdev, drv);
	return 0;
}

void unregister_virtio_device(struct virtio_device *vdev)
{
	struct virtio_device **pp;

	unbind(vdev);
	vdev->config->reset(vdev);
	for (pp = &devices; *pp; pp = &(*pp)->next) {
		if (*pp == vdev) {
			*pp = vdev->next;
			break;
		}
	}
}

int virtio_find_vqs(struct virtio_device *vdev, unsigned nvqs, struct virtqueue *vqs[],
		    const struct virtqueue_info info[])
{
	return vdev->config->find_vqs(vdev, nvqs, vqs, info);
}

void virtio_del_vqs(struct virtio_device *vdev)
{
	vdev->config->del_vqs(vdev);
}

/* A device whose config keeps changing under us is broken; this bound
 * keeps a hostile one from hanging the driver. */
#define CREAD_MAX_TRIES 100

int virtio_cread_bytes(struct virtio_device *vdev, unsigned offset, void *buf, unsigned len)
{
	const struct virtio_config_ops *cfg = vdev->config;
	uint32_t before, after;

	if (!cfg->generation) {
		cfg->get(vdev, offset, buf, len);
		return 0;
	}
	for (int tries = 0; tries < CREAD_MAX_TRIES; tries++) {
		before = cfg->generation(vdev);
		cfg->get(vdev, offset, buf, len);
		after = cfg->generation(vdev);
		if (before == after)
			return 0;
	}
	pr_err("virtio%d: config generation still changing after %d reads of %u bytes at "
	       "offset %u\n",
	       vdev->index, CREAD_MAX_TRIES, len, offset);
	return -EIO;
}

uint8_t virtio_cread8(struct virtio_device *vdev, unsigned offset)
{
	uint8_t v = 0;

	virtio_cread_bytes(vdev, offset, &v, sizeof(v));
	return v;
}

uint16_t virtio_cread16(struct virtio_device *vdev, unsigned offset)
{
	uint16_t v = 0;

	virtio_cread_bytes(vdev, offset, &v, sizeof(v));
	return v;
}

uint32_t virtio_cread32(struct virtio_device *vdev, unsigned offset)
{
	uint32_t v = 0;

	virtio_cread_bytes(vdev, offset, &v, sizeof(v));
	return v;
}

uint64_t virtio_cread64(struct virtio_device *vdev, unsigned offset)
{
	uint64_t v = 0;

	virtio_cread_bytes(vdev, offset, &v, sizeof(v));
	return v;
}

void virtio_cwrite8(struct virtio_device *vdev, unsigned offset, uint8_t v)
{
	vdev->config->set(vdev, offset, &v, sizeof(v));
}

void virtio_cwrite16(struct virtio_device *vdev, unsigned offset, uint16_t v)
{
	vdev->config->set(vdev, offset, &v, sizeof(v));
}

void virtio_cwrite32(struct virtio_device *vdev, unsigned offset, uint32_t v)
{
	vdev->config->set(vdev, offset, &v, sizeof(v));
}

void virtio_break_device(struct virtio_device *vdev)
{
	for (struct virtqueue *vq = vdev->vqs; vq; vq = vq->next)
		vq->ops->break_(vq);
}

void __virtio_unbreak_device(struct virtio_device *vdev)
{
	for (struct virtqueue *vq = vdev->vqs; vq; vq = vq->next)
		vq->ops->unbreak_(vq);
}

bool virtio_check_needs_reset(struct virtio_device *vdev)
{
	uint8_t status = vdev->config->get_status(vdev);

	if (!(status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET))
		return false;
	if (vdev->needs_reset)
		return true;
	pr_err("virtio%d (%s): device set DEVICE_NEEDS_RESET (status 0x%02x); its queues "
	       "are now broken until the device is reset\n",
	       vdev->index, virtio_id_name(vdev->id.device), status);
	vdev->needs_reset = true;
	virtio_break_device(vdev);
	/* The device will complete nothing more. Drivers learn that a queue
	 * broke in its callback (where a ring breaks on a bad completion), so
	 * run each once: what a driver holds is failed, not waited for. */
	for (struct virtqueue *vq = vdev->vqs; vq; vq = vq->next)
		if (vq->callback)
			vq->callback(vq);
	return true;
}

void virtio_config_changed(struct virtio_device *vdev)
{
	if (virtio_check_needs_reset(vdev))
		return;
	/* Before DRIVER_OK the driver is still in probe and reads the
	 * config itself. */
	if (vdev->driver && vdev->driver->config_changed &&
	    (vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK))
		vdev->driver->config_changed(vdev);
}

struct virtio_device *virtio_device_next(struct virtio_device *prev)
{
	return prev ? prev->next : devices;
}

const char *virtio_id_name(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return "net";
	case VIRTIO_ID_BLOCK:
		return "block";
	case VIRTIO_ID_CONSOLE:
		return "console";
	case VIRTIO_ID_RNG:
		return "rng";
	case VIRTIO_ID_BALLOON:
		return "balloon";
	case VIRTIO_ID_SCSI:
		return "scsi";
	case VIRTIO_ID_9P:
		return "9p";
	case VIRTIO_ID_GPU:
		return "gpu";
	case VIRTIO_ID_INPUT:
		return "input";
	case VIRTIO_ID_VSOCK:
		return "vsock";
	case VIRTIO_ID_CRYPTO:
		return "crypto";
	case VIRTIO_ID_FS:
		return "fs";
	default:
		return "unknown";
	}
}

int virtio_device_format(struct virtio_device *vdev, char *buf, size_t size)
{
	return snprintf(buf, size,
			"virtio%d %s (id %u) %s features 0x%llx status 0x%02x driver %s%s%s",
			vdev->index, virtio_id_name(vdev->id.device), (unsigned)vdev->id.device,
			vdev->config->bus_name(vdev), (unsigned long long)vdev->features,
			vdev->config->get_status(vdev), vdev->driver ? vdev->driver->name : "none",
			vdev->failed ? " FAILED: " : "",
			vdev->failed && vdev->fail_step ? vdev->fail_step : "");
}

void virtio_device_print(struct virtio_device *vdev)
{
	char line[192];

	virtio_device_format(vdev, line, sizeof(line));
	pr_info("%s\n", line);
}
