/*
 * test=net: the network stack end to end on the first interface. Gets an
 * address (DHCP, or ip= from the command line), pings the gateway, and,
 * with net.peer=ADDR:PORT, sends UDP datagrams to a peer that echoes them
 * back (the QEMU test's host socket), checking every answer.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/lib/cmdline.h"
#include "kernel/netdev/netdev.h"
#include "kernel/selftest/selftest.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "net/netif_glue.h"
#include "net/ping.h"
#include "net/udp_send.h"

CMDLINE_OPTION(net_peer, .key = "net.peer", .type = CMDLINE_STRING,
	       .help = "ADDR:PORT: UDP peer for test=net (it should echo what it receives)");
CMDLINE_OPTION(net_ping, .key = "net.ping", .type = CMDLINE_STRING,
	       .help = "ADDR: host test=net pings (default: the gateway)");

#define UDP_ROUNDS 8

struct udp_state {
	unsigned got, bad;
	bool answered; /* this round */
	char expect[64];
};

static void udp_reply(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		      u16_t port)
{
	struct udp_state *s = arg;
	char buf[64] = {0};

	if (p->tot_len == strlen(s->expect) && pbuf_copy_partial(p, buf, p->tot_len, 0) &&
	    !memcmp(buf, s->expect, p->tot_len))
		s->got++;
	else
		s->bad++;
	s->answered = true;
	pbuf_free(p);
}

static bool udp_answered(void *arg)
{
	return ((struct udp_state *)arg)->answered;
}

static void net_selftest(void)
{
	struct netdev *dev = netdev_first();
	struct ping_stats ps;
	ip_addr_t target, peer;
	uint16_t port;
	const char *s;

	if (!check(dev != NULL, "a network device is registered"))
		return;
	check(net_wait_address(15000), "%s has an address (%s)", dev->name, net_addr_source());
	struct netif *nif = net_netif(NULL);
	if (!nif || !net_has_address())
		return;
	printf("net: %s address %s", dev->name, ip4addr_ntoa(netif_ip4_addr(nif)));
	printf(" gateway %s\n", ip4addr_ntoa(netif_ip4_gw(nif)));
	ip_addr_copy_from_ip4(target, *netif_ip4_gw(nif));
	s = cmdline_string("net.ping");
	if (s && !ipaddr_aton(s, &target))
		check(false, "net.ping=%s is an address", s);
	if (!ip_addr_isany(&target)) {
		net_ping(&target, 3, false, &ps);
		check(ps.received >= 1, "ping %s: %u of %u answered", ipaddr_ntoa(&target),
		      ps.received, ps.sent);
	}

	s = cmdline_string("net.peer");
	if (s) {
		struct udp_state st = {0};
		struct udp_pcb *pcb;
		unsigned sent = 0;

		if (!check(net_parse_peer(s, &peer, &port) == 0, "net.peer=%s is ADDR:PORT", s))
			return;
		pcb = udp_new_ip_type(IPADDR_TYPE_V4);
		if (!check(pcb && udp_bind(pcb, IP4_ADDR_ANY, 0) == ERR_OK, "UDP socket"))
			return;
		udp_recv(pcb, udp_reply, &st);
		for (unsigned i = 0; i < UDP_ROUNDS; i++) {
			struct pbuf *p;

			snprintf(st.expect, sizeof st.expect, "virtio-os udp %u", i);
			p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)strlen(st.expect), PBUF_RAM);
			if (!p)
				break;
			memcpy(p->payload, st.expect, strlen(st.expect));
			st.answered = false;
			if (net_udp_sendto(pcb, p, &peer, port) == ERR_OK)
				sent++;
			pbuf_free(p);
			netdev_wait(udp_answered, &st, 2000000000ull);
		}
		check(sent == UDP_ROUNDS, "sent %u of %u datagrams to %s", sent, UDP_ROUNDS, s);
		check(st.got == UDP_ROUNDS && st.bad == 0,
		      "%u of %u echoed back correctly (%u bad)", st.got, UDP_ROUNDS, st.bad);
		udp_remove(pcb);
	}
	check(dev->stats.rx_packets > 0 && dev->stats.tx_packets > 0,
	      "counters: rx %llu tx %llu packets", (unsigned long long)dev->stats.rx_packets,
	      (unsigned long long)dev->stats.tx_packets);
	check(dev->stats.drops[NETDEV_DROP_SHORT_HDR] == 0 &&
		      dev->stats.drops[NETDEV_DROP_TOO_LONG] == 0,
	      "no malformed frames from the device");
}
SELFTEST(net, net_selftest);
