/*
 * Finding virtio devices on the PCI bus (virtio 1.2 section 4.1.2): vendor
 * 0x1af4, device 0x1000-0x103f transitional (type from the subsystem id),
 * 0x1040 + type modern only. A transitional device with the modern
 * capabilities is driven through the modern interface (pci_modern.c)
 * unless `virtio_pci.force_legacy=1`, else through the legacy one
 * (pci_legacy.c); either way the device is then registered with the virtio
 * core, which binds a driver.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_bus.h"
#include "kernel/pci/pci_config.h"
#include "virtio/transport/pci_common.h"
#include "virtio/transport/pci_legacy.h"
#include "virtio/transport/pci_modern.h"
#include "virtio/virtio.h"

CMDLINE_OPTION(vp_force_legacy, .key = "virtio_pci.force_legacy", .type = CMDLINE_BOOL,
	       .help = "drive transitional virtio PCI devices through the legacy interface");

static bool vp_match(const struct pci_dev *pdev)
{
	return pdev->vendor == VIRTIO_PCI_VENDOR && pdev->device >= VIRTIO_PCI_TRANSITIONAL_FIRST &&
	       pdev->device <= VIRTIO_PCI_MODERN_LAST;
}

static int vp_probe(struct pci_dev *pdev)
{
	struct virtio_pci_device *vp;
	bool transitional = pdev->device <= VIRTIO_PCI_TRANSITIONAL_LAST;
	uint32_t type;
	int err;

	/* 4.1.2.3: a transitional device's type is its subsystem id. */
	type = transitional ? pdev->subsys_id : pdev->device - VIRTIO_PCI_MODERN_FIRST;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->pdev = pdev;
	pci_name(pdev, vp->name);
	vp->vdev.id.device = type;
	vp->vdev.id.vendor = pdev->subsys_vendor;

	err = -ENODEV;
	if (!(transitional && cmdline_bool("virtio_pci.force_legacy")))
		err = virtio_pci_modern_probe(vp);
	if (err && transitional)
		err = virtio_pci_legacy_probe(vp);
	if (err) {
		pr_err("virtio-pci %s: %04x:%04x (%s) has no usable %s interface (%d); left "
		       "alone\n",
		       vp->name, pdev->vendor, pdev->device, virtio_id_name(type),
		       transitional ? "modern or legacy" : "modern", err);
		free(vp);
		return err;
	}
	/* The device reads rings and writes buffers by DMA. */
	pci_enable(pdev, PCI_COMMAND_MASTER);
	pdev->driver_note = vp->note;

	pr_info("virtio-pci %s: %s device (type %u), %s interface\n", vp->name,
		virtio_id_name(type), type, vp->modern ? "modern" : "legacy");
	/* The core resets the device and binds a driver if one is registered. */
	err = register_virtio_device(&vp->vdev);
	if (err) {
		pr_err("virtio-pci %s: registering with the virtio core failed (%d)\n", vp->name,
		       err);
		return 0; /* registers stay claimed; vp leaks on purpose */
	}
	if (!vp->vdev.driver && !vp->vdev.failed)
		pr_info("virtio-pci %s: virtio%d: no driver for virtio device type %u (%s); "
			"device left alone\n",
			vp->name, vp->vdev.index, type, virtio_id_name(type));
	if (!vp->vdev.vqs)
		snprintf(vp->note, sizeof(vp->note), "virtio%d %s, %s%s", vp->vdev.index,
			 virtio_id_name(type), vp->modern ? "modern" : "legacy",
			 vp->vdev.driver ? "" : ", no driver");
	return 0;
}

static struct pci_driver virtio_pci_driver = {
	.name = "virtio-pci",
	.match = vp_match,
	.probe = vp_probe,
};

static void virtio_pci_init(void)
{
	pci_register_driver(&virtio_pci_driver);
}
INITCALL(virtio_pci_init);
