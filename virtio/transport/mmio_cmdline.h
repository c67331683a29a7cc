/*
 * The `virtio_mmio.device=` parser (virtio/transport/mmio_cmdline.c), pure so
 * the host tests run it.
 */
#ifndef VIRTIO_TRANSPORT_MMIO_CMDLINE_H
#define VIRTIO_TRANSPORT_MMIO_CMDLINE_H

#include "virtio/transport/mmio.h"

/*
 * Parses one `virtio_mmio.device=` value, Linux syntax:
 *	<size>@<baseaddr>:<irq>[:<id>]
 * size and base take K/M/G suffixes, numbers are decimal or 0x hex. On
 * error returns -EINVAL and points *why at a description of the problem
 * (for "expected ..." messages). Fills `d` (from = FROM_CMDLINE) on success.
 */
int virtio_mmio_parse_device(const char *text, struct virtio_mmio_desc *d, const char **why);

#endif
