/*
 * virtio constants shared by the core, the transports and the drivers:
 * device status bits (virtio 1.2 section 2.1), reserved feature bits
 * (section 6), the ring feature bits (sections 2.7.5 and 2.7.7) and device
 * type ids (section 5).
 *
 * Feature bits are bit numbers, not masks, so they can be listed in a
 * driver's feature table; use VIRTIO_BIT() to build a mask from one.
 */
#ifndef VIRTIO_VIRTIO_CONFIG_H
#define VIRTIO_VIRTIO_CONFIG_H

/* Device status field (2.1). The driver only ever sets bits, except for a
 * reset, which writes 0. */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE	   1u	 /* we noticed the device */
#define VIRTIO_CONFIG_S_DRIVER		   2u	 /* we know how to drive it */
#define VIRTIO_CONFIG_S_DRIVER_OK	   4u	 /* driver is live */
#define VIRTIO_CONFIG_S_FEATURES_OK	   8u	 /* feature negotiation done */
#define VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET 0x40u /* device gave up, reset it */
#define VIRTIO_CONFIG_S_FAILED		   0x80u /* driver gave up */

#define VIRTIO_BIT(nr) (1ull << (nr))

/* 2.6: no queue has more than this many entries, whatever its layout. */
#define VIRTIO_QUEUE_SIZE_MAX 32768u

/* Device-independent feature bits live in 28..41 (section 6); a transport
 * passes them through, drivers never list them. */
#define VIRTIO_TRANSPORT_F_START 28
#define VIRTIO_TRANSPORT_F_END	 42

#define VIRTIO_F_NOTIFY_ON_EMPTY    24 /* legacy only */
#define VIRTIO_F_ANY_LAYOUT	    27 /* legacy only; implied by VERSION_1 */
#define VIRTIO_RING_F_INDIRECT_DESC 28 /* 2.7.5.3: indirect descriptor tables */
#define VIRTIO_RING_F_EVENT_IDX	    29 /* 2.7.7/2.7.10: used_event, avail_event */
#define VIRTIO_F_VERSION_1	    32 /* modern (non-legacy) device */
#define VIRTIO_F_ACCESS_PLATFORM    33 /* device is behind an IOMMU or similar */
#define VIRTIO_F_RING_PACKED	    34 /* 2.8: packed virtqueue layout */
#define VIRTIO_F_IN_ORDER	    35 /* buffers are used in the order made available */
#define VIRTIO_F_ORDER_PLATFORM	    36 /* platform memory ordering needed */
#define VIRTIO_F_SR_IOV		    37
#define VIRTIO_F_NOTIFICATION_DATA  38 /* driver passes extra data in notifications */
#define VIRTIO_F_NOTIF_CONFIG_DATA  39
#define VIRTIO_F_RING_RESET	    40 /* individual queues can be reset (2.6.1) */

/* Device types (section 5). */
#define VIRTIO_ID_NET	      1
#define VIRTIO_ID_BLOCK	      2
#define VIRTIO_ID_CONSOLE     3
#define VIRTIO_ID_RNG	      4
#define VIRTIO_ID_BALLOON     5
#define VIRTIO_ID_SCSI	      8
#define VIRTIO_ID_9P	      9
#define VIRTIO_ID_GPU	      16
#define VIRTIO_ID_INPUT	      18
#define VIRTIO_ID_VSOCK	      19
#define VIRTIO_ID_CRYPTO      20
#define VIRTIO_ID_IOMMU	      23
#define VIRTIO_ID_MEM	      24
#define VIRTIO_ID_FS	      26
#define VIRTIO_ID_PMEM	      27
#define VIRTIO_ID_RPMB	      28
#define VIRTIO_ID_SOUND	      25
#define VIRTIO_ID_I2C_ADAPTER 34
#define VIRTIO_ID_GPIO	      41

/* Matches any device type or vendor in a driver's id table. */
#define VIRTIO_DEV_ANY_ID 0xffffffffu

#endif
