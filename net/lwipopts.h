/*
 * lwIP configuration (lwIP 2.1.3, src/include/lwip/opt.h lists every
 * option). NO_SYS=1: no threads, no semaphores, only the raw (callback)
 * API. lwIP is not reentrant, so it runs in one context only: thread
 * context, from netdev_poll() (kernel/netdev/netdev.h); nothing here is ever
 * called from an interrupt, hence no SYS_LIGHTWEIGHT_PROT.
 *
 * Memory: lwIP's own heap (MEM_SIZE, a static array) and its fixed-size
 * pools, not newlib's malloc. Reasons: bounded memory that a flood cannot
 * grow (a full pool drops a frame and counts it, it never starves the rest
 * of the kernel); no contention with the rest of the kernel for newlib's heap
 * (whose lock turns interrupts off, kernel/libc/newlib_glue.c); and the pools
 * are .bss, identity mapped like all kernel memory, so pbufs can be handed
 * to the device for transmit without a copy. `netstat` shows each pool's
 * use and failures.
 *
 * No floating point anywhere (the kernel is -mgeneral-regs-only): lwIP's
 * core and lwiperf use integers only.
 */
#ifndef NET_LWIPOPTS_H
#define NET_LWIPOPTS_H

#define NO_SYS		     1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS	     1
#define LWIP_NETCONN	     0
#define LWIP_SOCKET	     0

/* Protocols: IPv4 over Ethernet, ARP, ICMP, UDP, TCP, DHCP, raw (ping). */
#define LWIP_IPV4		      1
#define LWIP_IPV6		      0
#define LWIP_ARP		      1
#define LWIP_ETHERNET		      1
#define LWIP_ICMP		      1
#define LWIP_RAW		      1
#define LWIP_UDP		      1
#define LWIP_TCP		      1
#define LWIP_DHCP		      1
#define LWIP_IGMP		      0
#define LWIP_DNS		      0
#define LWIP_AUTOIP		      0
#define DHCP_DOES_ARP_CHECK	      0 /* saves a second at boot; slirp has no conflicts */
#define LWIP_NETIF_HOSTNAME	      1
#define LWIP_NETIF_LINK_CALLBACK      1
#define LWIP_NETIF_STATUS_CALLBACK    1
#define LWIP_HAVE_LOOPIF	      0
#define IP_REASSEMBLY		      1
#define IP_FRAG			      1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0

/* Memory. */
#define MEM_ALIGNMENT		8
#define MEM_SIZE		(2 * 1024 * 1024)
#define MEMP_NUM_PBUF		128
#define MEMP_NUM_RAW_PCB	4
#define MEMP_NUM_UDP_PCB	8
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_TCP_SEG	1024
#define MEMP_NUM_REASSDATA	8
#define MEMP_NUM_ARP_QUEUE	32
/* lwIP's own timers and ours: the services' tick (net/services.c). */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 1)
#define PBUF_POOL_SIZE	     512
#define PBUF_POOL_BUFSIZE    1536

/* TCP: a full 16-bit window and send buffer, so one connection can keep
 * ~44 segments in flight. */
#define TCP_MSS		   1460
#define TCP_WND		   (44 * TCP_MSS)
#define TCP_SND_BUF	   (44 * TCP_MSS)
#define TCP_SND_QUEUELEN   (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_QUEUE_OOSEQ	   1
#define LWIP_TCP_KEEPALIVE 0

/* TCP connections, sized from a memory budget.
 *
 * What a connection costs is not its tcp_pcb (a few hundred bytes of
 * MEMP_TCP_PCB) but the data it can make us hold: what it has written and
 * the peer has not acknowledged, on the lwIP heap (tcp_write copies). The
 * budget: NET_TCP_BUDGET of the heap's MEM_SIZE for data in flight on
 * connections, a quarter each for the HTTP server, the TCP echo service and
 * the kernel's own connections (the shell's `nettest` and `iperf -c`, and
 * lwiperf), and a quarter for connections closing with data still unacknowledged;
 * the rest of the heap is for everything else (UDP and ICMP replies,
 * frames the glue copies). Each service caps what one connection may have
 * in flight (NET_*_SEND_MAX), which makes its connection limit
 * the budget's quarter divided by the cap (net/conn_limit.c enforces it).
 * The PCB pool holds those, each service's listen backlog (connections
 * handshaking, or waiting for a slot: tcp_backlog_delayed), and a few for
 * connections closing: lwIP takes back TIME-WAIT and LAST-ACK ones when
 * the pool is empty (tcp_alloc), and the services lower the priority of
 * those they close so that tcp_kill_prio() can take them too.
 *
 * lwiperf (lwIP's, not ours) has no connection limit of its own; it is
 * counted for the one test at a time it is for, and its own 10 s idle
 * timeout (LWIPERF_TCP_MAX_IDLE_SEC) ends the rest. */
#define NET_TCP_BUDGET	    (1536 * 1024)
#define NET_HTTP_SEND_MAX   (8 * 1024)	/* one status page and its head */
#define NET_ECHO_SEND_MAX   (32 * 1024) /* echo data written, not acknowledged */
#define NET_HTTP_CONNS	    (NET_TCP_BUDGET / 4 / NET_HTTP_SEND_MAX) /* 48 */
#define NET_ECHO_CONNS	    (NET_TCP_BUDGET / 4 / NET_ECHO_SEND_MAX) /* 12 */
#define NET_KERNEL_CONNS    (NET_TCP_BUDGET / 4 / TCP_SND_BUF)	     /* 6 */
#define NET_HTTP_BACKLOG    16
#define NET_ECHO_BACKLOG    4
#define NET_LWIPERF_BACKLOG 1 /* lwiperf.c listens with a backlog of 1 */
#define NET_TCP_CLOSING	    8
#define MEMP_NUM_TCP_PCB                                                                           \
	(NET_HTTP_CONNS + NET_ECHO_CONNS + NET_KERNEL_CONNS + NET_HTTP_BACKLOG +                   \
	 NET_ECHO_BACKLOG + NET_LWIPERF_BACKLOG + NET_TCP_CLOSING)
/* Backlogs count (TCP_LISTEN_BACKLOG), so a SYN flood or a full service
 * holds a few PCBs, not the whole pool. */
#define TCP_LISTEN_BACKLOG	   1
#define TCP_DEFAULT_LISTEN_BACKLOG 4

/* Checksums: lwIP verifies every received one (partial checksums from the
 * device are completed by the glue before lwIP sees them) and generates
 * them all, except, per netif, TCP and UDP on a device that finishes them
 * itself (virtio 1.2 5.1.6.2; net/netif_glue.c). Then lwIP leaves the
 * field 0 (new segments, retransmissions, control segments, datagrams)
 * and the glue writes the pseudo-header sum over it.
 * No checksum-on-copy: tcp_write cannot know the netif, so it would sum
 * every payload byte even where the device does it (and lwIP's copy is a
 * memcpy followed by a separate sum, so it saves no pass elsewhere). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define LWIP_CHECKSUM_ON_COPY	     0

/* Statistics, shown by `netstat`: 32-bit counters (16-bit ones wrap after
 * 65,535 packets). */
#define LWIP_STATS	   1
#define LWIP_STATS_LARGE   1
#define LWIP_STATS_DISPLAY 1
#define LINK_STATS	   1
#define ETHARP_STATS	   1
#define IP_STATS	   1
#define ICMP_STATS	   1
#define UDP_STATS	   1
#define TCP_STATS	   1
#define MEM_STATS	   1
#define MEMP_STATS	   1

#define LWIP_RAND() ((u32_t)lwip_port_rand())

#endif
