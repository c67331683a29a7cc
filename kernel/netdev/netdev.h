/*
 * Network devices: the small interface between Ethernet drivers
 * (drivers/virtio_net.c) and the network stack (net/, lwIP). Drivers know
 * nothing of lwIP and lwIP knows nothing of virtio.
 *
 * Execution model (lwIP in NO_SYS mode is not reentrant, so it must only
 * ever run in one context):
 *  - A driver's interrupt callback does no stack work: it masks further
 *    interrupts of that queue and sets `dev->pending`, which wakes whoever
 *    waits (an interrupt ends `hlt`).
 *  - Thread context runs netdev_poll(): registered as a poller
 *    (kernel/lib/poll.h), it runs from every generic waiting loop that calls
 *    poll_all() (the shell's input wait, console_getc), and the network's
 *    own waits (`ping`, the self-tests, netdev_wait()) call it directly. It
 *    runs each device's poll op, which takes used buffers off the rings and
 *    hands frames up through dev->rx, reclaims sent buffers through
 *    dev->tx_done, refills, and re-enables interrupts lost-wakeup-safely;
 *    then the stack's timers run (lwIP's sys_check_timeouts).
 *  - Transmission (ops->xmit) is called by the stack, so it too runs in
 *    thread context; drivers disable interrupts only around virtqueue
 *    calls.
 * So every callback into the stack happens from netdev_poll() or from the
 * stack's own calls, never from an interrupt.
 */
#ifndef KERNEL_NETDEV_NETDEV_H
#define KERNEL_NETDEV_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#define NETDEV_MAX_QUEUES 8
#define ETH_ALEN	  6
#define ETH_HLEN	  14

/* One piece of a frame: transmit fragments, received buffers. */
struct netdev_seg {
	const void *data;
	uint32_t len;
};

/* Why a received frame was dropped before reaching the stack. */
enum netdev_drop {
	NETDEV_DROP_TOO_LONG,	  /* longer than the buffer or the MTU allows */
	NETDEV_DROP_SHORT_HDR,	  /* used length below the virtio-net header */
	NETDEV_DROP_RUNT,	  /* frame shorter than an Ethernet header */
	NETDEV_DROP_BAD_MERGE,	  /* invalid num_buffers, or a merge left unfinished */
	NETDEV_DROP_BAD_CSUM_OFF, /* csum_start/offset outside the frame */
	NETDEV_DROP_NOMEM,	  /* the stack had no buffer for it */
	NETDEV_DROP_LINK_DOWN,	  /* transmit while the link is down */
	NETDEV_DROP_COUNT
};

struct netdev_queue_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_interrupts, tx_interrupts, rx_kicks, tx_kicks;
};

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t drops[NETDEV_DROP_COUNT];
	uint64_t tx_busy;    /* xmit refused with -EBUSY: ring full, stack retries */
	uint64_t interrupts; /* all queue and config interrupts */
	uint64_t kicks;
	uint64_t link_changes;
	/* Transmit checksums (kernel/netdev/net_csum.h): frames the device was asked
	 * to finish (NEEDS_CSUM), and padded frames finished in software. */
	uint64_t tx_csum_partial, tx_csum_software;
};

/* Receive metadata: with `csum_partial` the stack must complete the
 * transport checksum (virtio 1.2 5.1.6.4: csum_start / csum_offset). */
struct netdev_rx_info {
	bool csum_partial;
	uint16_t csum_start, csum_offset;
};

/* Transmit metadata: with `csum_partial` the frame's TCP or UDP checksum
 * field holds the pseudo-header sum and the device must finish it from
 * csum_start, storing the result at csum_start + csum_offset (virtio 1.2
 * 5.1.6.2). Only for a device with `tx_csum`. */
struct netdev_tx_info {
	bool csum_partial;
	uint16_t csum_start, csum_offset;
};

/* Ring sizes, as Linux's `ethtool -g` shows them (the `ring` shell
 * command). Counts are summed over the queue pairs. */
struct netdev_ring {
	unsigned rx, tx;		/* entries of each receive / transmit ring */
	unsigned rx_min, tx_min;	/* the smallest the driver accepts */
	unsigned rx_max, tx_max;	/* the largest the device accepts */
	unsigned rx_bufs, rx_idle;	/* receive buffers owned; of those not on a ring */
	unsigned tx_slots, tx_inflight; /* transmit slots; of those the device holds */
	bool pow2;			/* sizes must be powers of two */
	const char *layout;		/* "split", "packed" */
	const char *fixed;		/* NULL if set_ring can resize; else why not */
};

/* set_ring: leave this ring as it is. */
#define NETDEV_RING_KEEP 0xffffffffu

struct netdev;

struct netdev_ops {
	/* Queues one frame (Ethernet header first) given as `nsegs` pieces,
	 * without copying them: the memory must stay valid until
	 * dev->tx_done(dev, token). `info` NULL: the frame is complete.
	 * Thread context. Returns 0; -EBUSY when the device has no room now
	 * (nothing was queued: retry after a poll); -EMSGSIZE when there are
	 * more than dev->max_tx_segs pieces or the frame is too long;
	 * -ENETDOWN when the link is down; -EINVAL for a partial checksum
	 * the device cannot finish (no `tx_csum`, or offsets past the
	 * frame). */
	int (*xmit)(struct netdev *dev, const struct netdev_seg *segs, unsigned nsegs,
		    const struct netdev_tx_info *info, void *token);
	/* Does the work the interrupts announced (see above); at most
	 * `budget` received frames. Returns true if work may be left. */
	bool (*poll)(struct netdev *dev, unsigned budget);
	/* Per queue pair counters; false for qi out of range. */
	bool (*queue_stats)(struct netdev *dev, unsigned qi, struct netdev_queue_stats *st);
	/* Prints driver details (features, queues) for `ifconfig -v`. */
	void (*print_info)(struct netdev *dev);
	/* Optional, like Linux's ethtool -g / -G: the ring sizes, and new
	 * ones for every receive and every transmit ring (NETDEV_RING_KEEP:
	 * unchanged). set_ring returns 0 or -EOPNOTSUPP (r.fixed says why),
	 * -EINVAL (a size outside r's limits), -ENOMEM, or the transport's
	 * error; the driver logs the details. Frames in flight on a resized
	 * ring are dropped, as a queue reset loses them. Thread context. */
	void (*get_ring)(struct netdev *dev, struct netdev_ring *r);
	int (*set_ring)(struct netdev *dev, unsigned rx, unsigned tx);
};

struct netdev {
	char name[8]; /* "eth0" */
	uint8_t mac[ETH_ALEN];
	unsigned mtu;	      /* IP MTU: payload bytes after the Ethernet header */
	unsigned max_tx_segs; /* pieces per xmit */
	unsigned nqueues;     /* queue pairs in use */
	/* The device finishes TCP/UDP checksums over IPv4 (xmit's info);
	 * set by the driver before netdev_register(). */
	bool tx_csum;
	const char *driver;
	volatile bool link_up;
	/* Set from interrupt context when poll has something to do. */
	volatile bool pending;
	/* Set from interrupt context when link_up changed; poll reports it. */
	volatile bool link_event;
	const struct netdev_ops *ops;
	void *priv; /* the driver's */

	/* Filled in by the stack when it attaches (netdev_set_stack). All run
	 * in thread context, from inside ops->poll or ops->xmit. */
	void (*rx)(struct netdev *dev, const struct netdev_seg *segs, unsigned nsegs, uint32_t len,
		   const struct netdev_rx_info *info);
	void (*tx_done)(struct netdev *dev, void *token);
	void (*link_changed)(struct netdev *dev, bool up);
	void *stack_priv;

	struct netdev_stats stats;
	struct netdev *next;
};

/* The stack's hooks: attach() is called for every device registered
 * (before or after the stack), poll() after the devices' polls (timers). */
struct netdev_stack {
	void (*attach)(struct netdev *dev);
	void (*poll)(void);
};

/* Names the device ethN and attaches it to the stack. 0 or -errno. */
int netdev_register(struct netdev *dev);
void netdev_unregister(struct netdev *dev);
void netdev_set_stack(const struct netdev_stack *stack);
struct netdev *netdev_first(void);
const char *netdev_drop_name(enum netdev_drop why);

/* Thread context: run every device's poll and the stack's timers. Returns
 * true if a device had work announced or has work left (the poller
 * contract, kernel/lib/poll.h). Does nothing, and returns false, when called
 * recursively (from inside a stack callback). */
bool netdev_poll(void);
/* True if a device has work pending; call with interrupts off right
 * before wait_for_interrupt() so the wakeup cannot be missed. */
bool netdev_pending(void);
/* Polls and sleeps (sti; hlt) until done(arg) is true, `timeout_ns`
 * passed, or the user pressed Ctrl-C (console_interrupted()). Returns done's
 * last value. Thread context. */
bool netdev_wait(bool (*done)(void *arg), void *arg, uint64_t timeout_ns);

/* Called by drivers: interrupt context is fine. */
static inline void netdev_kick_poll(struct netdev *dev)
{
	dev->pending = true;
}

#endif
