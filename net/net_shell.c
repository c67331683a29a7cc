/*
 * Shell commands of the network layer: `ifconfig`, `ping HOST [COUNT]`,
 * `netstat`. ping (RFC 792 echo) uses an lwIP raw pcb and waits in
 * netdev_wait(), which runs the stack while it sleeps.
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
#include "net/net.h"

#define PING_ID	     0x5649 /* "VI" */
#define PING_DATA    56
#define PING_TIMEOUT 1000000000ull

/* ---- ping ----------------------------------------------------------------- */

struct ping_state {
	u16_t seq;
	bool got;
	uint64_t sent_ns, rtt_ns;
	unsigned ttl;
};

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	struct ping_state *ps = arg;
	struct icmp_echo_hdr echo;
	u16_t hlen;

	/* The raw pcb sees the whole IP packet. */
	if (p->tot_len < IP_HLEN + sizeof echo)
		return 0;
	hlen = (u16_t)(IPH_HL((struct ip_hdr *)p->payload) * 4);
	if (pbuf_copy_partial(p, &echo, sizeof echo, hlen) != sizeof echo)
		return 0;
	if (echo.type != ICMP_ER || echo.id != lwip_htons(PING_ID) ||
	    echo.seqno != lwip_htons(ps->seq))
		return 0; /* not ours: let lwIP have it */
	ps->rtt_ns = time_ns() - ps->sent_ns;
	ps->ttl = IPH_TTL((struct ip_hdr *)p->payload);
	ps->got = true;
	pbuf_free(p);
	return 1;
}

static bool ping_done(void *arg)
{
	return ((struct ping_state *)arg)->got;
}

int net_ping(const ip_addr_t *dst, unsigned count, bool quiet, struct ping_stats *st)
{
	struct ping_state ps = {0};
	struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
	uint64_t sum = 0;

	memset(st, 0, sizeof *st);
	if (!pcb)
		return -ENOMEM;
	raw_recv(pcb, ping_recv, &ps);
	for (unsigned i = 0; i < count; i++) {
		struct pbuf *p =
			pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
		struct icmp_echo_hdr *e;
		uint64_t start = time_ns();
		err_t err;

		if (!p)
			break;
		e = p->payload;
		ps.seq = (u16_t)(i + 1);
		ps.got = false;
		ICMPH_TYPE_SET(e, ICMP_ECHO);
		ICMPH_CODE_SET(e, 0);
		e->id = lwip_htons(PING_ID);
		e->seqno = lwip_htons(ps.seq);
		for (unsigned b = 0; b < PING_DATA; b++)
			((u8_t *)(e + 1))[b] = (u8_t)b;
		e->chksum = 0;
		e->chksum = inet_chksum(e, p->len);
		ps.sent_ns = time_ns();
		err = raw_sendto(pcb, p, dst);
		pbuf_free(p);
		st->sent++;
		if (err != ERR_OK) {
			if (!quiet)
				printf("ping: send to %s failed (lwIP error %d)\n",
				       ipaddr_ntoa(dst), err);
		} else if (netdev_wait(ping_done, &ps, PING_TIMEOUT)) {
			uint64_t us = ps.rtt_ns / 1000;

			st->received++;
			sum += us;
			if (st->received == 1 || us < st->min_us)
				st->min_us = us;
			if (us > st->max_us)
				st->max_us = us;
			if (!quiet)
				printf("%u bytes from %s: icmp_seq=%u ttl=%u time=%llu.%03llu ms\n",
				       PING_DATA + 8, ipaddr_ntoa(dst), ps.seq, ps.ttl,
				       (unsigned long long)(us / 1000),
				       (unsigned long long)(us % 1000));
		} else if (!quiet) {
			printf("no reply from %s: icmp_seq=%u\n", ipaddr_ntoa(dst), ps.seq);
		}
		/* One per second, like ping(8), but never idle after a loss. */
		if (i + 1 < count && ps.got)
			while (time_ns() - start < 1000000000ull / 4)
				netdev_wait(ping_done, &(struct ping_state){0},
					    1000000000ull / 4 - (time_ns() - start));
	}
	raw_remove(pcb);
	if (st->received)
		st->avg_us = sum / st->received;
	return (int)st->received;
}

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
	netdev_poll();
	printf("services: udp echo %llu, tcp echo %llu connections %llu bytes, http %llu\n",
	       (unsigned long long)net_service_stats.udp_echo,
	       (unsigned long long)net_service_stats.tcp_echo_conns,
	       (unsigned long long)net_service_stats.tcp_echo_bytes,
	       (unsigned long long)net_service_stats.http_requests);
	stats_display();
	return 0;
}
SHELL_COMMAND(netstat, "netstat", "lwIP protocol, memory and pool statistics", cmd_netstat);
