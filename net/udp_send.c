/*
 * UDP sends that stay checksummed when IPv4 must fragment them (RFC 768,
 * RFC 791 3.2 fragmentation; virtio 1.2 5.1.6.2 is why the question comes
 * up).
 *
 * On a device that finishes checksums lwIP skips the UDP ones
 * (net/netif_glue.c) and the glue leaves each frame's partial for the
 * device. A datagram larger than the MTU goes out as IP fragments, though,
 * and no fragment can be finished on its own (the checksum covers the
 * whole datagram): it would leave with 0, which over IPv4 means "no
 * checksum". So for such a datagram lwIP's own generation is switched
 * back on, for this one send only: the send is synchronous and lwIP runs
 * in one context (kernel/netdev/netdev.h), so nothing else sees the flag.
 *
 * The kernel's UDP senders all come here; lwIP's own DHCP does not, and
 * needs not: its messages always fit in one frame.
 */
#include "lwip/netif.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/udp.h"
#include "lwip/udp.h"
#include "net/udp_send.h"

err_t net_udp_sendto(struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *dst, u16_t port)
{
	uint32_t changed[256 / 32] = {0}; /* by netif->num */
	uint32_t len = (uint32_t)p->tot_len + UDP_HLEN + IP_HLEN;
	struct netif *nif;
	err_t err;

	NETIF_FOREACH(nif)
	{
		if (nif->mtu && len > nif->mtu && !(nif->chksum_flags & NETIF_CHECKSUM_GEN_UDP)) {
			NETIF_SET_CHECKSUM_CTRL(nif, nif->chksum_flags | NETIF_CHECKSUM_GEN_UDP);
			changed[nif->num / 32] |= 1u << (nif->num % 32);
		}
	}
	err = udp_sendto(pcb, p, dst, port);
	NETIF_FOREACH(nif)
	{
		if (changed[nif->num / 32] & (1u << (nif->num % 32)))
			NETIF_SET_CHECKSUM_CTRL(nif, nif->chksum_flags & ~NETIF_CHECKSUM_GEN_UDP);
	}
	return err;
}
