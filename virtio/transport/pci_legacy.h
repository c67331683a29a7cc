/*
 * The legacy virtio-pci interface (virtio/transport/pci_legacy.c, virtio 1.2
 * section 4.1.4.10), for pci_probe.c.
 */
#ifndef VIRTIO_TRANSPORT_PCI_LEGACY_H
#define VIRTIO_TRANSPORT_PCI_LEGACY_H

#include "virtio/transport/pci_common.h"

/* Maps and checks the legacy interface's registers and fills vp->vdev.config
 * and vp->ops. 0, or -ENODEV when the function lacks what it needs. */
int virtio_pci_legacy_probe(struct virtio_pci_device *vp);

#endif
