/*
 * The in-memory test transport of sim_transport.h: implements
 * struct virtio_config_ops (virtio 1.2 sections 2.1-2.5 as a transport
 * exposes them) over plain fields, with rings from the real ring_split.c
 * or ring_packed.c, as negotiated.
 */
#include <errno.h>
#include <string.h>

#include "sim_transport.h"
#include "virtio/ring/ring_split.h"
#include "virtio/virtqueue_transport.h"

static struct sim_transport *to_t(struct virtio_device *vdev)
{
	return (struct sim_transport *)((char *)vdev - offsetof(struct sim_transport, vdev));
}

static void sim_reset(struct virtio_device *vdev)
{
	struct sim_transport *t = to_t(vdev);

	t->resets++;
	if (!t->stuck_reset)
		t->status = 0;
}

static uint8_t sim_get_status(struct virtio_device *vdev)
{
	return to_t(vdev)->status;
}

static void sim_set_status(struct virtio_device *vdev, uint8_t status)
{
	struct sim_transport *t = to_t(vdev);

	if (t->nlog < sizeof(t->status_log))
		t->status_log[t->nlog++] = status;
	/* A device that cannot work with the features clears FEATURES_OK
	 * (2.2.2). */
	if (t->refuse_features)
		status &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	t->status = status;
}

static uint64_t sim_get_features(struct virtio_device *vdev)
{
	struct sim_transport *t = to_t(vdev);

	return vdev->legacy ? (uint32_t)t->offered : t->offered;
}

static int sim_finalize_features(struct virtio_device *vdev)
{
	to_t(vdev)->written_features = vdev->features;
	return 0;
}

static void sim_get(struct virtio_device *vdev, unsigned offset, void *buf, unsigned len)
{
	struct sim_transport *t = to_t(vdev);

	t->gets++;
	/* Byte by byte, like a transport without wide accesses; a torn read
	 * sees the device rewrite the field after the first half. */
	for (unsigned i = 0; i < len && offset + i < sizeof(t->config); i++) {
		if (t->tear_reads && i == len / 2) {
			t->tear_reads--;
			for (unsigned k = 0; k < len; k++)
				t->config[offset + k] ^= 0xff;
			t->generation++;
		}
		((uint8_t *)buf)[i] = t->config[offset + i];
	}
	if (t->config_unstable)
		t->generation++;
}

static void sim_set(struct virtio_device *vdev, unsigned offset, const void *buf, unsigned len)
{
	struct sim_transport *t = to_t(vdev);

	if (offset + len <= sizeof(t->config))
		memcpy(t->config + offset, buf, len);
}

static uint32_t sim_generation(struct virtio_device *vdev)
{
	return to_t(vdev)->generation;
}

static bool sim_notify(struct virtqueue *vq)
{
	to_t(vq->vdev)->notifies++;
	return true;
}

static void sim_del_vqs(struct virtio_device *vdev)
{
	struct sim_transport *t = to_t(vdev);

	for (unsigned i = 0; i < t->nvqs; i++)
		vring_del_virtqueue(t->vqs[i]);
	t->nvqs = 0;
	vdev->vqs = NULL;
}

static int sim_find_vqs(struct virtio_device *vdev, unsigned nvqs, struct virtqueue *vqs[],
			const struct virtqueue_info info[])
{
	struct sim_transport *t = to_t(vdev);

	if (nvqs > SIM_TP_MAX_VQS)
		return -EINVAL;
	for (unsigned i = 0; i < nvqs; i++) {
		vqs[i] = vring_create_virtqueue(i, 16, 0, vdev, sim_notify, info[i].callback,
						info[i].name);
		if (!vqs[i]) {
			sim_del_vqs(vdev);
			return -ENOMEM;
		}
		t->vqs[t->nvqs++] = vqs[i];
		vqs[i]->next = vdev->vqs;
		vdev->vqs = vqs[i];
	}
	return 0;
}

static const char *sim_bus_name(struct virtio_device *vdev)
{
	return "sim";
}

const struct virtio_config_ops sim_transport_ops = {
	.reset = sim_reset,
	.get_status = sim_get_status,
	.set_status = sim_set_status,
	.get_features = sim_get_features,
	.finalize_features = sim_finalize_features,
	.get = sim_get,
	.set = sim_set,
	.generation = sim_generation,
	.find_vqs = sim_find_vqs,
	.del_vqs = sim_del_vqs,
	.bus_name = sim_bus_name,
};

void sim_transport_init(struct sim_transport *t, uint32_t id, uint64_t features)
{
	memset(t, 0, sizeof(*t));
	t->vdev.id.device = id;
	t->vdev.id.vendor = 0x1af4;
	t->vdev.config = &sim_transport_ops;
	t->offered = features;
	/* Whatever a previous owner left. */
	t->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
}
