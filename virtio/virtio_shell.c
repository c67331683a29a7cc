/*
 * The `virtio` shell command: every virtio device the core knows (virtio
 * 1.2 section 2: its type, transport, negotiated features, status byte and
 * driver) and, under each, every virtqueue (section 2.7/2.8: layout, size,
 * free descriptors) with the counters the ring keeps for it. It is the
 * generic view; `lsblk -v` and `ifconfig -v` show the same queues from
 * their drivers' side.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/shell/shell.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue.h"

static void print_vq(const struct virtqueue *vq)
{
	const struct virtqueue_stats *s = &vq->stats;

	printf("  vq %u %-8s %-6s size %u free %u%s\n", vq->index, vq->name, virtqueue_layout(vq),
	       virtqueue_get_vring_size(vq), vq->num_free,
	       virtqueue_is_broken(vq) ? " BROKEN" : "");
	printf("    added %llu completed %llu kicks %llu suppressed %llu interrupts %llu "
	       "spurious %llu\n",
	       (unsigned long long)s->added, (unsigned long long)s->completed,
	       (unsigned long long)s->kicks, (unsigned long long)s->kicks_suppressed,
	       (unsigned long long)s->interrupts, (unsigned long long)s->spurious);
	printf("    indirect %llu ring-full %llu len-clamped %llu device-errors %llu\n",
	       (unsigned long long)s->indirect, (unsigned long long)s->full,
	       (unsigned long long)s->len_clamped, (unsigned long long)s->broken);
}

static int cmd_virtio(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	unsigned shown = 0;
	char name[16];

	for (struct virtio_device *d = virtio_device_next(NULL); d; d = virtio_device_next(d)) {
		snprintf(name, sizeof name, "virtio%d", d->index);
		if (only && strcmp(only, name) != 0)
			continue;
		virtio_device_print(d);
		for (const struct virtqueue *vq = d->vqs; vq; vq = vq->next)
			print_vq(vq);
		shown++;
	}
	if (!shown) {
		if (only)
			printf("virtio: no device '%s' (try virtio with no argument)\n", only);
		else
			printf("(no virtio devices)\n");
		return only ? 1 : 0;
	}
	return 0;
}
SHELL_COMMAND(virtio, "virtio [virtioN]",
	      "virtio devices: features, status, driver, and every virtqueue's counters",
	      cmd_virtio);
