/*
 * virtio over PCI (virtio 1.2 section 4.1), the parts both interfaces
 * (pci_modern.c, pci_legacy.c) share; pci_probe.c finds the devices:
 *  - interrupts (4.1.5.1.2 MSI-X vectors, 4.1.5.3-4.1.5.5): MSI-X with a
 *    vector for configuration changes and one per virtqueue; if the
 *    device refuses (it answers VIRTIO_MSI_NO_VECTOR when read back) or
 *    has too few table entries, one MSI-X vector for everything; else the INTx pin, level-triggered
 *    and shared, where the ISR status register says why the device
 *    interrupted. `virtio_pci.msix=0` goes straight to INTx.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/irq/irq.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/log.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_bus.h"
#include "kernel/pci/pci_config.h"
#include "kernel/pci/pci_msi.h"
#include "kernel/smp/smp.h"
#include "virtio/transport/pci_common.h"
#include "virtio/virtqueue_transport.h"

CMDLINE_OPTION(vp_msix, .key = "virtio_pci.msix", .type = CMDLINE_BOOL, .def = true,
	       .help = "off: no MSI-X for virtio PCI devices (use INTx)");

void vp_link_vq(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct virtqueue **pp = &vdev->vqs;

	while (*pp)
		pp = &(*pp)->next;
	vq->next = NULL;
	*pp = vq;
}

const char *vp_bus_name(struct virtio_device *vdev)
{
	static const char *const names[2][4] = {
		{"pci-legacy", "pci-legacy msix", "pci-legacy msix-shared", "pci-legacy intx"},
		{"pci-modern", "pci-modern msix", "pci-modern msix-shared", "pci-modern intx"},
	};
	struct virtio_pci_device *vp = to_vp(vdev);

	return names[vp->modern][vp->irq_mode];
}

/* ---- Interrupt handlers (interrupt context) ---------------------------- */

/* MSI-X, one vector per queue: the vector alone says which queue. */
static void vp_vq_interrupt(void *ctx)
{
	vring_interrupt(ctx);
}

/* MSI-X, the configuration-change vector. */
static void vp_config_interrupt(void *ctx)
{
	struct virtio_pci_device *vp = ctx;

	virtio_config_changed(&vp->vdev);
}

/* One vector or line for everything: the ISR status tells a configuration
 * change from queue activity, and reading it lowers the INTx line. Zero
 * means the shared line was raised by another device. */
static void vp_shared_interrupt(void *ctx)
{
	struct virtio_pci_device *vp = ctx;
	uint8_t isr = vp->ops->read_isr(vp);

	if (vp->irq_mode == VP_IRQ_INTX && !isr)
		return;
	if (isr & VIRTIO_PCI_ISR_CONFIG)
		virtio_config_changed(&vp->vdev);
	/* With MSI-X the device need not set the queue bit: look at every
	 * queue; vring_interrupt() ignores queues with nothing used. */
	if ((isr & VIRTIO_PCI_ISR_QUEUE) || vp->irq_mode != VP_IRQ_INTX)
		for (struct virtqueue *vq = vp->vdev.vqs; vq; vq = vq->next)
			vring_interrupt(vq);
}

/* ---- Queue and interrupt set-up ---------------------------------------- */

static void vp_free_irqs(struct virtio_pci_device *vp)
{
	for (unsigned i = 0; i < vp->nmsix; i++) {
		pci_msix_mask(vp->pdev, i, true);
		if (vp->msix_vectors[i] > 0)
			free_msi_vector(vp->msix_vectors[i]);
		vp->msix_vectors[i] = 0;
		free(vp->msix_names[i]);
		vp->msix_names[i] = NULL;
	}
	vp->nmsix = 0;
	pci_msix_disable(vp->pdev);
	if (vp->intx)
		free_irq(vp->gsi, vp_shared_interrupt, vp);
	vp->intx = false;
	vp->irq_mode = VP_IRQ_NONE;
}

void vp_del_vqs(struct virtio_device *vdev)
{
	struct virtio_pci_device *vp = to_vp(vdev);
	struct virtqueue *vq = vdev->vqs, *next;

	/* Vectors go first, so no interrupt runs on a ring being freed. */
	if (vp->nmsix)
		vp->ops->set_config_vector(vp, VIRTIO_MSI_NO_VECTOR);
	vp_free_irqs(vp);
	for (; vq; vq = next) {
		next = vq->next;
		vp->ops->del_vq(vp, vq);
	}
	vdev->vqs = NULL;
}

/* Takes a CPU vector for MSI-X table entry `entry`, sends it to CPU
 * `cpu` (modulo the CPUs online), and points the entry at it. */
static int vp_msix_vector(struct virtio_pci_device *vp, unsigned entry, irq_handler_t handler,
			  void *ctx, const char *name, unsigned cpu)
{
	struct percpu *target = smp_cpu(cpu % smp_cpus_online());
	char *label = malloc(strlen(vp->name) + strlen(name) + 2);
	int v;

	if (!label)
		return -ENOMEM;
	/* The irq layer keeps the name pointer: it lives until the vector
	 * is freed (vp_free_irqs). */
	sprintf(label, "%s %s", vp->name, name);
	v = request_msi_vector(handler, ctx, label);
	if (v < 0) {
		free(label);
		return v;
	}
	vp->msix_names[entry] = label;
	vp->msix_vectors[entry] = v;
	if (entry >= vp->nmsix)
		vp->nmsix = entry + 1;
	if (target && target->index != 0)
		irq_set_msi_cpu(v, target->apic_id);
	return pci_msix_set_vector(vp->pdev, entry, v);
}

/* Creates the queues with the given vectors (all NO_VECTOR for INTx; the
 * config entry 0 or entry 1+i per queue with a callback for MSI-X). Any
 * error here is the queue's, not the interrupt mode's: *fatal says so. */
static int vp_setup_vqs(struct virtio_pci_device *vp, unsigned nvqs, struct virtqueue *vqs[],
			const struct virtqueue_info info[], bool *fatal)
{
	uint16_t entry = 1;
	int err;

	for (unsigned i = 0; i < nvqs; i++) {
		uint16_t vec = VIRTIO_MSI_NO_VECTOR;

		if (info[i].callback && vp->irq_mode == VP_IRQ_MSIX_PER_VQ)
			vec = entry;
		else if (info[i].callback && vp->irq_mode == VP_IRQ_MSIX_SHARED)
			vec = 0;
		err = vp->ops->setup_vq(vp, i, info[i].callback, info[i].name, vec, &vqs[i]);
		/* -EBUSY: the device refused the vector; anything else is
		 * about the queue itself. */
		if (err) {
			*fatal = err != -EBUSY;
			return err;
		}
		vp_link_vq(&vp->vdev, vqs[i]);
		if (vec != VIRTIO_MSI_NO_VECTOR && vec != 0) {
			err = vp_msix_vector(vp, entry, vp_vq_interrupt, vqs[i], info[i].name,
					     info[i].irq_cpu);
			if (err)
				return err;
			entry++;
		}
	}
	return 0;
}

static int vp_try_msix(struct virtio_pci_device *vp, bool per_vq, unsigned nvqs,
		       struct virtqueue *vqs[], const struct virtqueue_info info[], bool *fatal)
{
	struct virtio_device *vdev = &vp->vdev;
	unsigned needed = 1;
	int err;

	if (per_vq)
		for (unsigned i = 0; i < nvqs; i++)
			needed += info[i].callback != NULL;
	if (!vp->pdev->msix_cap || vp->pdev->msix_size < needed || needed > PCI_MSIX_MAX_VECTORS)
		return -ENOSPC;
	err = pci_msix_enable(vp->pdev);
	if (err)
		return err;
	vp->irq_mode = per_vq ? VP_IRQ_MSIX_PER_VQ : VP_IRQ_MSIX_SHARED;

	err = vp_msix_vector(vp, 0, per_vq ? vp_config_interrupt : vp_shared_interrupt, vp,
			     per_vq ? "config" : "virtio", 0);
	if (err)
		goto fail;
	/* 4.1.5.1.2: the device reads the vector back as NO_VECTOR when
	 * it could not allocate it. */
	if (vp->ops->set_config_vector(vp, 0) != 0) {
		err = -EBUSY;
		goto fail;
	}
	err = vp_setup_vqs(vp, nvqs, vqs, info, fatal);
	if (!err)
		return 0;
fail:
	vp_del_vqs(vdev);
	return err;
}

static int vp_try_intx(struct virtio_pci_device *vp, unsigned nvqs, struct virtqueue *vqs[],
		       const struct virtqueue_info info[], bool *fatal)
{
	struct pci_dev *pdev = vp->pdev;
	unsigned flags, gsi;
	int err;

	/* The GSI and trigger the firmware routed the pin to (pci.c). */
	if (pci_intx_gsi(pdev, &gsi, &flags)) {
		pr_err("virtio-pci %s: no INTx (pin %u, line %u) and no usable MSI-X\n", vp->name,
		       pdev->irq_pin, pdev->irq_line);
		return -ENODEV;
	}

	vp->irq_mode = VP_IRQ_INTX;
	err = vp_setup_vqs(vp, nvqs, vqs, info, fatal);
	if (err)
		goto fail;
	snprintf(vp->irq_name, sizeof(vp->irq_name), "%s intx", vp->name);
	err = request_irq(gsi, flags, vp_shared_interrupt, vp, vp->irq_name);
	if (err < 0)
		goto fail;
	vp->gsi = gsi;
	vp->intx = true;
	pci_write16(pdev, PCI_COMMAND, pci_read16(pdev, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	return 0;
fail:
	vp_del_vqs(&vp->vdev);
	return err;
}

int vp_find_vqs(struct virtio_device *vdev, unsigned nvqs, struct virtqueue *vqs[],
		const struct virtqueue_info info[])
{
	struct virtio_pci_device *vp = to_vp(vdev);
	bool msix = cmdline_bool("virtio_pci.msix");
	bool fatal = false;
	int err = -ENODEV;

	if (vdev->vqs)
		return -EBUSY;
	if (msix && !vp->pdev->msix_cap)
		pr_info("virtio-pci %s: no MSI-X capability; using INTx\n", vp->name);
	else if (msix) {
		err = vp_try_msix(vp, true, nvqs, vqs, info, &fatal);
		if (err && !fatal) {
			pr_info("virtio-pci %s: no MSI-X vector per queue (%d); trying one shared "
				"vector\n",
				vp->name, err);
			err = vp_try_msix(vp, false, nvqs, vqs, info, &fatal);
			if (err && !fatal)
				pr_info("virtio-pci %s: no MSI-X (%d); using INTx\n", vp->name,
					err);
		}
	}
	if (err && !fatal)
		err = vp_try_intx(vp, nvqs, vqs, info, &fatal);
	if (err)
		return err;
	/* Queues go live only once every one of them has its interrupt. */
	if (vp->ops->enable_vqs)
		vp->ops->enable_vqs(vp);
	snprintf(vp->note, sizeof(vp->note), "virtio%d %s, %s", vdev->index,
		 virtio_id_name(vdev->id.device), vp_bus_name(vdev));
	return 0;
}
