/*
 * Shell commands of the network layer: `ifconfig`, `ping HOST [COUNT]`
 * (net/ping.c sends the echo requests), `netstat`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/netdev/netdev.h"
#include "kernel/shell/shell.h"
#include "kernel/time/timer.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "net/netif_glue.h"
#include "net/ping.h"
#include "net/services.h"

/* ---- ping ----------------------------------------------------------------- */

static int cmd_ping(int argc, char **argv)
{
	ip_addr_t dst;
	struct ping_stats st;
	long count = argc > 2 ? strtol(argv[2], NULL, 0) : 4;

	if (argc < 2 || !ipaddr_aton(argv[1], &dst) || count < 1 || count > 1000) {
		printf("usage: ping A.B.C.D [COUNT 1..1000]\n");
		return 1;
	}
	if (!net_has_address())
		printf("ping: warning: no address yet\n");
	net_ping(&dst, (unsigned)count, false, &st);
	printf("--- %s ping statistics ---\n%u packets transmitted, %u received, %u%% packet "
	       "loss",
	       argv[1], st.sent, st.received,
	       st.sent ? (st.sent - st.received) * 100 / st.sent : 0);
	if (st.received)
		printf(", rtt min/avg/max = %llu.%03llu/%llu.%03llu/%llu.%03llu ms",
		       (unsigned long long)(st.min_us / 1000),
		       (unsigned long long)(st.min_us % 1000),
		       (unsigned long long)(st.avg_us / 1000),
		       (unsigned long long)(st.avg_us % 1000),
		       (unsigned long long)(st.max_us / 1000),
		       (unsigned long long)(st.max_us % 1000));
	printf("\n");
	return st.received ? 0 : 1;
}
SHELL_COMMAND(ping, "ping A.B.C.D [COUNT]", "send ICMP echo requests, print round trips", cmd_ping);

/* ---- ifconfig ------------------------------------------------------------- */

static int cmd_ifconfig(int argc, char **argv)
{
	bool verbose = argc > 1 && !strcmp(argv[1], "-v");

	netdev_poll();
	if (!netdev_first())
		printf("no network interfaces\n");
	for (struct netdev *d = netdev_first(); d; d = d->next) {
		struct netif *nif = net_netif(d);
		struct netdev_queue_stats qs;

		printf("%s: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, link %s\n", d->name,
		       d->driver, d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5],
		       d->mtu, d->link_up ? "up" : "down");
		if (nif)
			printf("  inet %s", ip4addr_ntoa(netif_ip4_addr(nif)));
		if (nif)
			printf(" netmask %s", ip4addr_ntoa(netif_ip4_netmask(nif)));
		if (nif)
			printf(" gateway %s (%s)\n", ip4addr_ntoa(netif_ip4_gw(nif)),
			       nif == net_netif(NULL) ? net_addr_source() : "dhcp");
		printf("  rx packets %llu bytes %llu, tx packets %llu bytes %llu, tx busy %llu\n",
		       (unsigned long long)d->stats.rx_packets,
		       (unsigned long long)d->stats.rx_bytes,
		       (unsigned long long)d->stats.tx_packets,
		       (unsigned long long)d->stats.tx_bytes, (unsigned long long)d->stats.tx_busy);
		printf("  interrupts %llu, kicks %llu, link changes %llu\n  drops:",
		       (unsigned long long)d->stats.interrupts, (unsigned long long)d->stats.kicks,
		       (unsigned long long)d->stats.link_changes);
		for (unsigned r = 0; r < NETDEV_DROP_COUNT; r++)
			printf(" %s %llu", netdev_drop_name(r),
			       (unsigned long long)d->stats.drops[r]);
		/* partial: sent for the device to finish (kernel/netdev/net_csum.h). */
		printf("\n  tx checksum offload %s: partial %llu, software %llu",
		       d->tx_csum ? "on" : "off", (unsigned long long)d->stats.tx_csum_partial,
		       (unsigned long long)d->stats.tx_csum_software);
		printf("\n  queue pairs in use: %u\n", d->nqueues);
		for (unsigned q = 0; d->ops->queue_stats && d->ops->queue_stats(d, q, &qs); q++)
			printf("  queue %u: rx %llu packets %llu bytes, tx %llu packets %llu "
			       "bytes, "
			       "irqs rx %llu tx %llu, kicks rx %llu tx %llu\n",
			       q, (unsigned long long)qs.rx_packets,
			       (unsigned long long)qs.rx_bytes, (unsigned long long)qs.tx_packets,
			       (unsigned long long)qs.tx_bytes,
			       (unsigned long long)qs.rx_interrupts,
			       (unsigned long long)qs.tx_interrupts,
			       (unsigned long long)qs.rx_kicks, (unsigned long long)qs.tx_kicks);
		if (verbose && d->ops->print_info)
			d->ops->print_info(d);
	}
	return 0;
}
SHELL_COMMAND(ifconfig, "ifconfig [-v]", "network interfaces: address, MAC, MTU, link, counters",
	      cmd_ifconfig);

/* ---- netstat -------------------------------------------------------------- */

static int cmd_netstat(int argc, char **argv)
{
	static char buf[2048];

	netdev_poll();
	net_services_format(buf, sizeof buf);
	printf("%s", buf);
	stats_display();
	return 0;
}
SHELL_COMMAND(netstat, "netstat", "lwIP protocol, memory and pool statistics", cmd_netstat);
