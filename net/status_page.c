/*
 * The status page the HTTP server (net/http_server.c) answers at "/": an
 * HTML document (a <pre> block) with uptime, address, the virtio devices,
 * each interface's counters and the services' counters (formatted by
 * net/services.c, which registers itself).
 */
#include <stdio.h>

#include "kernel/netdev/netdev.h"
#include "kernel/time/timer.h"
#include "net/netif_glue.h"
#include "net/status_page.h"
#include "virtio/virtio.h"

static int (*sp_services)(char *buf, size_t size);

void status_page_set_services(int (*format)(char *buf, size_t size))
{
	sp_services = format;
}

static const char sp_truncated[] = "\n(truncated: the page is larger than its buffer)\n"
				   "</pre>\n</body></html>\n";

size_t status_page(char *buf, size_t size)
{
	uint64_t ms = time_ns() / 1000000u;
	struct netif *nif = net_netif(NULL);
	size_t room = size - sizeof sp_truncated; /* the marker always fits */
	size_t n = 0;

#define OUT(...) (n += (size_t)snprintf(buf + n, n < room ? room - n : 0, __VA_ARGS__))
	OUT("<!DOCTYPE html>\n<html><head><title>virtio-os</title></head><body>\n");
	OUT("<h1>virtio-os status</h1>\n<pre>\n");
	OUT("uptime: %llu.%03llu s\n", (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000));
	if (nif)
		OUT("address: %s (%s)\n", ip4addr_ntoa(netif_ip4_addr(nif)), net_addr_source());
	OUT("\ndevices:\n");
	for (struct virtio_device *v = virtio_device_next(NULL); v; v = virtio_device_next(v)) {
		char line[160];

		virtio_device_format(v, line, sizeof line);
		OUT("  %s\n", line);
	}
	OUT("\ninterfaces:\n");
	for (struct netdev *d = netdev_first(); d; d = d->next) {
		OUT("  %s: link %s, rx %llu packets %llu bytes, tx %llu packets %llu bytes, "
		    "interrupts %llu, kicks %llu\n",
		    d->name, d->link_up ? "up" : "down", (unsigned long long)d->stats.rx_packets,
		    (unsigned long long)d->stats.rx_bytes, (unsigned long long)d->stats.tx_packets,
		    (unsigned long long)d->stats.tx_bytes, (unsigned long long)d->stats.interrupts,
		    (unsigned long long)d->stats.kicks);
	}
	OUT("\nservices:\n");
	if (sp_services && n < room)
		n += (size_t)sp_services(buf + n, room - n);
	OUT("</pre>\n</body></html>\n");
#undef OUT
	if (n >= room) {
		/* Cut at the last whole line, then say so. */
		n = room - 1;
		while (n && buf[n - 1] != '\n')
			n--;
		n += (size_t)snprintf(buf + n, size - n, "%s", sp_truncated);
	}
	return n;
}
