/*
 * The `ring` shell command: the ring sizes of network devices, and new
 * ones, like Linux's `ethtool -g` / `ethtool -G DEV rx N tx N`. The driver
 * does the work (netdev_ops get_ring / set_ring; virtio-net resizes through
 * a virtqueue reset, virtio 1.2 section 2.6.1); this file parses, prints,
 * and says why a resize was refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/lib/parse_value.h"
#include "kernel/netdev/netdev.h"
#include "kernel/shell/shell.h"

static struct netdev *netdev_find(const char *name)
{
	for (struct netdev *d = netdev_first(); d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static void print_ring(struct netdev *d)
{
	struct netdev_ring r;

	if (!d->ops->get_ring) {
		printf("%s: the driver (%s) does not report ring sizes\n", d->name,
		       d->driver ? d->driver : "?");
		return;
	}
	d->ops->get_ring(d, &r);
	printf("%s: rx %u (max %u), tx %u (max %u), %s ring, %u queue pair(s)\n", d->name, r.rx,
	       r.rx_max, r.tx, r.tx_max, r.layout, d->nqueues);
	printf("  rx buffers %u (idle %u), tx slots %u (in flight %u)\n", r.rx_bufs, r.rx_idle,
	       r.tx_slots, r.tx_inflight);
	if (r.fixed)
		printf("  resize: no, %s\n", r.fixed);
	else
		printf("  resize: rx %u..%u, tx %u..%u%s\n", r.rx_min, r.rx_max, r.tx_min, r.tx_max,
		       r.pow2 ? ", powers of two" : "");
}

static const char *why(int err)
{
	switch (err) {
	case -EOPNOTSUPP:
		return "the device cannot resize its rings";
	case -EINVAL:
		return "invalid size";
	case -ENOMEM:
		return "out of memory";
	case -ETIMEDOUT:
		return "the queue reset timed out";
	default:
		return "error";
	}
}

static int usage(void)
{
	printf("usage: ring [DEV [rx N] [tx N]]\n");
	return 1;
}

static int cmd_ring(int argc, char **argv)
{
	unsigned size[2] = {NETDEV_RING_KEEP, NETDEV_RING_KEEP}; /* rx, tx */
	struct netdev *d;
	int err = 0;

	if (argc == 1) {
		if (!netdev_first())
			printf("(no network devices)\n");
		for (d = netdev_first(); d; d = d->next)
			print_ring(d);
		return 0;
	}
	d = netdev_find(argv[1]);
	if (!d) {
		printf("ring: no network device '%s' (try ifconfig)\n", argv[1]);
		return 1;
	}
	if (argc % 2)
		return usage(); /* DEV, then pairs of words */
	for (int i = 2; i < argc; i += 2) {
		bool rx = strcmp(argv[i], "rx") == 0;
		uint64_t v;

		if (!rx && strcmp(argv[i], "tx") != 0)
			return usage();
		if (parse_u64(argv[i + 1], &v) || v >= NETDEV_RING_KEEP) {
			printf("ring: %s size '%s' is not a number\n", argv[i], argv[i + 1]);
			return 1;
		}
		size[rx ? 0 : 1] = (unsigned)v;
	}
	if (argc > 2) {
		if (!d->ops->set_ring)
			err = -EOPNOTSUPP;
		else
			err = d->ops->set_ring(d, size[0], size[1]);
		if (err)
			printf("ring: %s: not resized: %s (%d)\n", d->name, why(err), err);
	}
	print_ring(d);
	return err ? 1 : 0;
}
SHELL_COMMAND(ring, "ring [DEV [rx N] [tx N]]",
	      "network ring sizes; resize the receive / transmit rings (like ethtool -G)",
	      cmd_ring);
