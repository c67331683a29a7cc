/*
 * lwIP's netif on top of the kernel's network devices (kernel/netdev/netdev.h),
 * and the lwIP system glue for NO_SYS=1 mode (sys_now, assert, random).
 *
 * Receive: the driver hands each frame up from netdev_poll() as pieces of
 * its receive buffers; we copy them into one pbuf (lwIP keeps pbufs for a
 * long time, e.g. out-of-order TCP segments, and the driver wants its
 * buffers back on the ring at once), complete a partial checksum the
 * device left us (virtio 1.2 5.1.6.4: VIRTIO_NET_HDR_F_NEEDS_CSUM), and
 * feed it to ethernet_input.
 * Transmit: the pbuf chain goes to the driver as fragments without a copy;
 * a reference keeps it alive until the driver's tx_done. A ring that is
 * full returns ERR_MEM: TCP keeps the segment queued and sends it later,
 * UDP callers see the error. On a device that finishes checksums
 * (dev->tx_csum, virtio 1.2 5.1.6.2) lwIP skips the TCP and UDP ones and
 * each frame leaves partial (kernel/netdev/net_csum.h).
 * Timers: sys_check_timeouts() after every poll round.
 *
 * Addresses: `ip=ADDR/PREFIX[,gw=GW]` on the command line gives eth0 a
 * static address; otherwise every interface runs the DHCP client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "kernel/lib/panic.h"
#include "kernel/netdev/net_csum.h"
#include "kernel/netdev/netdev.h"
#include "kernel/time/timer.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "net/ip_static.h"
#include "net/netif_glue.h"
#include "netif/ethernet.h"

CMDLINE_OPTION(ip, .key = "ip", .type = CMDLINE_STRING, .check = ip_static_check,
	       .help = "ADDR/PREFIX[,gw=GW]: static IPv4 address for eth0 instead of DHCP");

#define NET_MAX_NETIFS 4

struct glue {
	struct netif nif;
	struct netdev *dev;
	bool dhcp;
};

static struct glue glues[NET_MAX_NETIFS];
static unsigned nglues;
static bool static_addr;

/* ---- lwIP system glue ------------------------------------------------------ */

u32_t sys_now(void)
{
	return (u32_t)(time_ns() / 1000000u);
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
	panic("lwIP assertion \"%s\" failed at %s:%d", msg, file, line);
}

uint32_t lwip_port_rand(void)
{
	static uint64_t state;

	if (!state)
		state = rdtsc() | 1;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 11);
}

/* ---- Receive ---------------------------------------------------------------- */

static void glue_rx(struct netdev *dev, const struct netdev_seg *segs, unsigned nsegs, uint32_t len,
		    const struct netdev_rx_info *info)
{
	struct glue *g = dev->stack_priv;
	struct pbuf *p;
	uint32_t off = 0;

	/* One contiguous buffer: from the pool when it fits, so the partial
	 * checksum below can be computed in place. */
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, len <= PBUF_POOL_BUFSIZE ? PBUF_POOL : PBUF_RAM);
	if (!p || p->next) {
		if (p)
			pbuf_free(p);
		dev->stats.drops[NETDEV_DROP_NOMEM]++;
		LINK_STATS_INC(link.memerr);
		return;
	}
	for (unsigned i = 0; i < nsegs; i++) {
		memcpy((uint8_t *)p->payload + off, segs[i].data, segs[i].len);
		off += segs[i].len;
	}
	if (info->csum_partial) {
		/* The field holds the pseudo-header sum; summing from
		 * csum_start to the end and storing the complement finishes
		 * it (the driver checked the offsets against the length). */
		uint8_t *f = p->payload;
		u16_t sum = inet_chksum(f + info->csum_start, (u16_t)(len - info->csum_start));

		memcpy(f + info->csum_start + info->csum_offset, &sum, 2);
	}
	LINK_STATS_INC(link.recv);
	if (g->nif.input(p, &g->nif) != ERR_OK)
		pbuf_free(p);
}

/* ---- Transmit --------------------------------------------------------------- */

static err_t glue_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct glue *g = nif->state;
	struct netdev *dev = g->dev;
	struct netdev_seg segs[32];
	enum net_csum_verdict verdict = NET_CSUM_AS_IS;
	struct netdev_tx_info info;
	struct pbuf *q, *send = p;
	unsigned n = 0;
	int err;

	/* Zero copy needs a short chain of memory that stays put: PBUF_REF
	 * data may change after we return (PBUF_NEEDS_COPY). */
	for (q = p; q; q = q->next)
		if (++n > dev->max_tx_segs || n > 32 || PBUF_NEEDS_COPY(q))
			break;
	if (q) {
		send = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
		if (!send) {
			LINK_STATS_INC(link.memerr);
			return ERR_MEM;
		}
	} else {
		pbuf_ref(p);
	}
	n = 0;
	for (q = send; q; q = q->next)
		if (q->len)
			segs[n++] = (struct netdev_seg){q->payload, q->len};
	/* lwIP left TCP and UDP checksums to the device (glue_netif_init);
	 * the chain is ours (referenced or cloned), so the field may be
	 * written. */
	if (dev->tx_csum)
		verdict = net_csum_tx(segs, n, &info);
	err = dev->ops->xmit(dev, segs, n, verdict == NET_CSUM_PARTIAL ? &info : NULL, send);
	if (err) {
		pbuf_free(send);
		LINK_STATS_INC(link.drop);
		return err == -EBUSY ? ERR_MEM : err == -ENETDOWN ? ERR_CONN : ERR_IF;
	}
	if (verdict == NET_CSUM_SOFTWARE)
		dev->stats.tx_csum_software++;
	LINK_STATS_INC(link.xmit);
	return ERR_OK;
}

static void glue_tx_done(struct netdev *dev, void *token)
{
	if (token)
		pbuf_free(token);
}

static void glue_link_changed(struct netdev *dev, bool up)
{
	struct glue *g = dev->stack_priv;

	if (up)
		netif_set_link_up(&g->nif); /* restarts DHCP too */
	else
		netif_set_link_down(&g->nif);
}

static void glue_status(struct netif *nif)
{
	struct glue *g = nif->state;

	char a[16], gw[16];

	if (ip4_addr_isany_val(*netif_ip4_addr(nif)))
		return;
	/* ip4addr_ntoa has one static buffer: one _r call per address. */
	ip4addr_ntoa_r(netif_ip4_addr(nif), a, sizeof a);
	ip4addr_ntoa_r(netif_ip4_gw(nif), gw, sizeof gw);
	pr_info("%s: address %s/%u gw %s (%s)\n", g->dev->name, a,
		(unsigned)__builtin_popcount(ip4_addr_get_u32(netif_ip4_netmask(nif))), gw,
		g->dhcp ? "dhcp" : "static");
}

static err_t glue_netif_init(struct netif *nif)
{
	struct glue *g = nif->state;

	nif->name[0] = 'e';
	nif->name[1] = 'n';
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, g->dev->mac, ETH_HWADDR_LEN);
	nif->mtu = (u16_t)g->dev->mtu;
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->output = etharp_output;
	nif->linkoutput = glue_linkoutput;
	/* A device that finishes TCP and UDP checksums gets them partial
	 * (lwIP leaves the field 0, glue_linkoutput writes the pseudo-header
	 * sum); IP header and ICMP checksums are still made here, and every
	 * received checksum is still checked. A UDP datagram larger than
	 * the MTU is checksummed by lwIP all the same (net/udp_send.c). */
	if (g->dev->tx_csum)
		NETIF_SET_CHECKSUM_CTRL(nif, NETIF_CHECKSUM_ENABLE_ALL & ~(NETIF_CHECKSUM_GEN_TCP |
									   NETIF_CHECKSUM_GEN_UDP));
	netif_set_hostname(nif, "virtio-os");
	return ERR_OK;
}

static void glue_attach(struct netdev *dev)
{
	struct glue *g;
	ip4_addr_t ip, mask, gw;
	/* Checked at boot (ip_static_check): a refused ip= reads as absent. */
	const char *st = nglues == 0 ? cmdline_string("ip") : NULL;
	struct ip_static conf;
	const char *why;

	if (nglues == NET_MAX_NETIFS) {
		pr_warn("net: %s: more than %u interfaces; not attached\n", dev->name,
			NET_MAX_NETIFS);
		return;
	}
	g = &glues[nglues++];
	g->dev = dev;
	dev->stack_priv = g;
	ip4_addr_set_zero(&ip);
	ip4_addr_set_zero(&mask);
	ip4_addr_set_zero(&gw);
	if (st && ip_static_parse(st, &conf, &why) == 0) {
		ip4_addr_set_u32(&ip, lwip_htonl(conf.addr));
		ip4_addr_set_u32(&mask, lwip_htonl(conf.mask));
		ip4_addr_set_u32(&gw, lwip_htonl(conf.gw));
	} else {
		st = NULL;
	}
	if (!netif_add(&g->nif, &ip, &mask, &gw, g, glue_netif_init, ethernet_input)) {
		pr_err("net: %s: lwIP refused the interface\n", dev->name);
		return;
	}
	netif_set_status_callback(&g->nif, glue_status);
	dev->tx_done = glue_tx_done;
	dev->link_changed = glue_link_changed;
	dev->rx = glue_rx;
	if (nglues == 1)
		netif_set_default(&g->nif);
	netif_set_up(&g->nif);
	if (dev->link_up)
		netif_set_link_up(&g->nif);
	if (st) {
		static_addr = true;
		glue_status(&g->nif);
	} else {
		g->dhcp = true;
		dhcp_start(&g->nif);
	}
}

static void glue_poll(void)
{
	sys_check_timeouts();
}

static const struct netdev_stack lwip_stack = {
	.attach = glue_attach,
	.poll = glue_poll,
};

struct netif *net_netif(struct netdev *dev)
{
	if (!dev)
		return netif_default;
	return dev->stack_priv ? &((struct glue *)dev->stack_priv)->nif : NULL;
}

bool net_has_address(void)
{
	return netif_default && !ip4_addr_isany_val(*netif_ip4_addr(netif_default));
}

static bool has_address(void *arg)
{
	return net_has_address();
}

bool net_wait_address(unsigned timeout_ms)
{
	return netdev_wait(has_address, NULL, (uint64_t)timeout_ms * 1000000u);
}

const char *net_addr_source(void)
{
	return static_addr ? "static" : "dhcp";
}

int net_parse_peer(const char *s, ip_addr_t *ip, uint16_t *port)
{
	char buf[32], *colon, *end;
	long p;

	if (!s || strlen(s) >= sizeof buf)
		return -EINVAL;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon++ = '\0';
	p = strtol(colon, &end, 10);
	if (*end || end == colon || p < 1 || p > 65535 || !ipaddr_aton(buf, ip))
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* lwIP first, so the services (net/services.c) can open their ports. */
static void net_init(void)
{
	lwip_init();
}
SUBSYS_INITCALL(net_init);

/* Once every driver has probed and printed what it found, each network
 * device gets its netif and its address. */
static void net_attach_devices(void)
{
	netdev_set_stack(&lwip_stack);
}
LATE_INITCALL(net_attach_devices);
