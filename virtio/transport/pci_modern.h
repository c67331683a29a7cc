/*
 * The modern virtio-pci interface (virtio/transport/pci_modern.c, virtio 1.2
 * section 4.1.4), for pci_probe.c.
 */
#ifndef VIRTIO_TRANSPORT_PCI_MODERN_H
#define VIRTIO_TRANSPORT_PCI_MODERN_H

#include "virtio/transport/pci_common.h"

/* Maps and checks the modern interface's registers and fills vp->vdev.config
 * and vp->ops. 0, or -ENODEV when the function lacks what it needs. */
int virtio_pci_modern_probe(struct virtio_pci_device *vp);

#endif
