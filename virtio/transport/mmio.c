/*
 * The virtio-mmio transport, virtio 1.2 section 4.2: both register layouts,
 * version 2 (4.2.2, 4.2.3) and the legacy version 1 (4.2.4), behind one
 * struct virtio_config_ops, so drivers cannot tell them apart.
 *
 * The two versions share most registers. They differ in:
 *  - features: version 1 has 32 bits only (the select register exists but
 *    only word 0 is meaningful); version 2 has 64 through the selectors;
 *  - queues: version 1 wants GuestPageSize once, then per queue QueueNum,
 *    QueueAlign and QueuePFN (the ring in one block, used ring on the
 *    QueueAlign boundary, address given as a page number); version 2 takes
 *    three 64-bit addresses and a QueueReady flag;
 *  - ConfigGeneration exists in version 2 only;
 *  - reset: version 2 promises the status reads 0 once the reset is done
 *    (4.2.2.1), so we wait for that.
 *
 * One interrupt line per transport. The handler reads InterruptStatus and
 * writes the same bits to InterruptACK (4.2.3.4); bit 0 ("used buffer")
 * means any queue may have used buffers, bit 1 a configuration change.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/paging.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/log.h"
#include "kernel/mm/page_alloc.h"
#include "virtio/transport/mmio.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue_transport.h"

/* Register offsets (4.2.2, table "MMIO Device Register Layout"; 4.2.4 for
 * the legacy-only ones). All 32 bits wide. */
#define VM_MAGIC_VALUE	       0x000
#define VM_VERSION	       0x004
#define VM_DEVICE_ID	       0x008
#define VM_VENDOR_ID	       0x00c
#define VM_DEVICE_FEATURES     0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES     0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_GUEST_PAGE_SIZE     0x028 /* legacy */
#define VM_QUEUE_SEL	       0x030
#define VM_QUEUE_NUM_MAX       0x034
#define VM_QUEUE_NUM	       0x038
#define VM_QUEUE_ALIGN	       0x03c /* legacy */
#define VM_QUEUE_PFN	       0x040 /* legacy */
#define VM_QUEUE_READY	       0x044
#define VM_QUEUE_NOTIFY	       0x050
#define VM_INTERRUPT_STATUS    0x060
#define VM_INTERRUPT_ACK       0x064
#define VM_STATUS	       0x070
#define VM_QUEUE_DESC_LOW      0x080
#define VM_QUEUE_DESC_HIGH     0x084
#define VM_QUEUE_DRIVER_LOW    0x090
#define VM_QUEUE_DRIVER_HIGH   0x094
#define VM_QUEUE_DEVICE_LOW    0x0a0
#define VM_QUEUE_DEVICE_HIGH   0x0a4
#define VM_CONFIG_GENERATION   0x0fc
#define VM_CONFIG	       0x100

#define VM_MAGIC 0x74726976 /* "virt", little-endian */

#define VM_INT_VRING  (1u << 0)
#define VM_INT_CONFIG (1u << 1)

/* Rings are allocated at most this large: QEMU offers up to 1024 entries,
 * which costs memory and buys nothing for our drivers. */
#define VM_MAX_RING 256
/* Legacy rings: page size we announce, alignment of the used ring. */
#define VM_LEGACY_PAGE	4096u
#define VM_LEGACY_ALIGN 4096u

static struct virtio_mmio_device *to_vm(struct virtio_device *vdev)
{
	return (struct virtio_mmio_device *)vdev;
}

static uint32_t vm_read(struct virtio_mmio_device *vm, unsigned reg)
{
	return mmio_read32(vm->base + reg);
}

static void vm_write(struct virtio_mmio_device *vm, unsigned reg, uint32_t v)
{
	mmio_write32(vm->base + reg, v);
}

/* ---- struct virtio_config_ops ---- */

static uint8_t vm_get_status(struct virtio_device *vdev)
{
	return (uint8_t)vm_read(to_vm(vdev), VM_STATUS);
}

static void vm_set_status(struct virtio_device *vdev, uint8_t status)
{
	/* 0 would be a reset, which has its own op. */
	vm_write(to_vm(vdev), VM_STATUS, status);
}

static void vm_reset(struct virtio_device *vdev)
{
	struct virtio_mmio_device *vm = to_vm(vdev);

	vm_write(vm, VM_STATUS, 0);
	/* 4.2.2.1: version 2 devices read back 0 once the reset completed.
	 * QEMU resets synchronously; the bound stops a broken device from
	 * hanging boot (the core notices the non-zero status). */
	if (vm->version >= 2)
		for (unsigned i = 0; i < 1000000 && vm_read(vm, VM_STATUS) != 0; i++)
			__asm__ volatile("pause");
}

static uint64_t vm_get_features(struct virtio_device *vdev)
{
	struct virtio_mmio_device *vm = to_vm(vdev);
	uint64_t f;

	vm_write(vm, VM_DEVICE_FEATURES_SEL, 0);
	f = vm_read(vm, VM_DEVICE_FEATURES);
	if (vm->version >= 2) {
		vm_write(vm, VM_DEVICE_FEATURES_SEL, 1);
		f |= (uint64_t)vm_read(vm, VM_DEVICE_FEATURES) << 32;
	}
	return f;
}

static int vm_finalize_features(struct virtio_device *vdev)
{
	struct virtio_mmio_device *vm = to_vm(vdev);

	if (vm->version == 1 && (vdev->features >> 32)) {
		pr_err("virtio-mmio@%#llx: features %#llx need bits above 31, which a version 1 "
		       "transport cannot carry\n",
		       (unsigned long long)vm->desc.base, (unsigned long long)vdev->features);
		return -EINVAL;
	}
	vm_write(vm, VM_DRIVER_FEATURES_SEL, 0);
	vm_write(vm, VM_DRIVER_FEATURES, (uint32_t)vdev->features);
	if (vm->version >= 2) {
		vm_write(vm, VM_DRIVER_FEATURES_SEL, 1);
		vm_write(vm, VM_DRIVER_FEATURES, (uint32_t)(vdev->features >> 32));
	}
	return 0;
}

/* The device-specific config space is what remains of the window after
 * the register block. */
static bool config_in_range(struct virtio_mmio_device *vm, unsigned offset, unsigned len)
{
	uint64_t room = vm->desc.size - VM_CONFIG;

	if ((uint64_t)offset + len <= room)
		return true;
	if (!vm->warned_config) {
		vm->warned_config = true;
		pr_err("virtio-mmio@%#llx: config access at %u+%u is outside the %llu-byte config "
		       "space\n",
		       (unsigned long long)vm->desc.base, offset, len, (unsigned long long)room);
	}
	return false;
}

/*
 * 4.2.2.2: in version 2 the driver uses accesses as wide as the field (8,
 * 16, 32 bits; 64-bit fields as two 32-bit reads). Legacy devices are read
 * a byte at a time, as Linux does: their config layout is guest-endian and
 * any width works.
 */
static void vm_get(struct virtio_device *vdev, unsigned offset, void *buf, unsigned len)
{
	struct virtio_mmio_device *vm = to_vm(vdev);
	volatile uint8_t *p = vm->base + VM_CONFIG + offset;
	uint8_t *out = buf;

	if (!config_in_range(vm, offset, len)) {
		memset(buf, 0, len);
		return;
	}
	if (vm->version >= 2) {
		uint16_t w;
		uint32_t l;

		switch (len) {
		case 2:
			w = mmio_read16(p);
			memcpy(buf, &w, 2);
			return;
		case 4:
			l = mmio_read32(p);
			memcpy(buf, &l, 4);
			return;
		case 8:
			l = mmio_read32(p);
			memcpy(out, &l, 4);
			l = mmio_read32(p + 4);
			memcpy(out + 4, &l, 4);
			return;
		}
	}
	for (unsigned i = 0; i < len; i++)
		out[i] = mmio_read8(p + i);
}

static void vm_set(struct virtio_device *vdev, unsigned offset, const void *buf, unsigned len)
{
	struct virtio_mmio_device *vm = to_vm(vdev);
	volatile uint8_t *p = vm->base + VM_CONFIG + offset;
	const uint8_t *in = buf;

	if (!config_in_range(vm, offset, len))
		return;
	if (vm->version >= 2) {
		uint16_t w;
		uint32_t l;

		switch (len) {
		case 2:
			memcpy(&w, buf, 2);
			mmio_write16(p, w);
			return;
		case 4:
			memcpy(&l, buf, 4);
			mmio_write32(p, l);
			return;
		case 8:
			memcpy(&l, in, 4);
			mmio_write32(p, l);
			memcpy(&l, in + 4, 4);
			mmio_write32(p + 4, l);
			return;
		}
	}
	for (unsigned i = 0; i < len; i++)
		mmio_write8(p + i, in[i]);
}

static uint32_t vm_generation(struct virtio_device *vdev)
{
	return vm_read(to_vm(vdev), VM_CONFIG_GENERATION);
}

/* The doorbell: the queue index written to QueueNotify (4.2.3.3; without
 * VIRTIO_F_NOTIFICATION_DATA, which the core does not offer). */
static bool vm_notify(struct virtqueue *vq)
{
	struct virtio_mmio_device *vm = to_vm(vq->vdev);

	vm_write(vm, VM_QUEUE_NOTIFY, vq->index);
	return true;
}

/* Tells the device a queue is gone: QueueReady 0 (v2) or QueuePFN 0 (v1). */
static void vm_deactivate_queue(struct virtio_mmio_device *vm, unsigned index)
{
	vm_write(vm, VM_QUEUE_SEL, index);
	if (vm->version == 1)
		vm_write(vm, VM_QUEUE_PFN, 0);
	else
		vm_write(vm, VM_QUEUE_READY, 0);
}

static void vm_del_vqs(struct virtio_device *vdev)
{
	struct virtio_mmio_device *vm = to_vm(vdev);
	unsigned long fl = irq_save();
	struct virtqueue *vq = vdev->vqs;

	/* Unlinked first, with interrupts off, so the handler never walks a
	 * queue being freed. */
	vdev->vqs = NULL;
	irq_restore(fl);
	while (vq) {
		struct virtqueue *next = vq->next;

		vm_deactivate_queue(vm, vq->index);
		vring_del_virtqueue(vq);
		vq = next;
	}
}

static int vm_setup_vq(struct virtio_mmio_device *vm, unsigned index,
		       const struct virtqueue_info *info, struct virtqueue **out)
{
	struct virtqueue *vq;
	uint32_t max;
	unsigned num;

	vm_write(vm, VM_QUEUE_SEL, index);
	/* 4.2.3.2 / 4.2.4: the queue must not be in use already. */
	if (vm->version == 1 ? vm_read(vm, VM_QUEUE_PFN) != 0 : vm_read(vm, VM_QUEUE_READY) != 0) {
		pr_err("virtio-mmio@%#llx: queue %u is already live before setup, expected it "
		       "idle after reset\n",
		       (unsigned long long)vm->desc.base, index);
		return -ENOENT;
	}
	max = vm_read(vm, VM_QUEUE_NUM_MAX);
	if (max == 0) {
		pr_err("virtio-mmio@%#llx: queue %u does not exist (QueueNumMax 0)\n",
		       (unsigned long long)vm->desc.base, index);
		return -ENOENT;
	}
	if (max > VIRTIO_QUEUE_SIZE_MAX) {
		pr_err("virtio-mmio@%#llx: queue %u QueueNumMax %u, expected at most %u\n",
		       (unsigned long long)vm->desc.base, index, max, VIRTIO_QUEUE_SIZE_MAX);
		return -EIO;
	}
	/* A power of two for a split ring (2.7); a packed ring (2.8, only
	 * negotiated on version 2) takes the maximum as it is. */
	num = vring_queue_size(&vm->vdev, max, VM_MAX_RING);

	/* Split or packed, as negotiated: version 2 takes the descriptor,
	 * driver and device areas as three addresses either way (4.2.2). */
	vq = vring_create_virtqueue(index, num, vm->version == 1 ? VM_LEGACY_ALIGN : 0, &vm->vdev,
				    vm_notify, info->callback, info->name);
	if (!vq)
		return -ENOMEM;

	vm_write(vm, VM_QUEUE_NUM, num);
	if (vm->version == 1) {
		uint64_t pfn = virtqueue_get_desc_addr(vq) / VM_LEGACY_PAGE;

		/* QueuePFN is 32 bits of page number: the ring must sit
		 * below 16 TiB, which identity-mapped RAM always does. */
		if (pfn >> 32) {
			pr_err("virtio-mmio@%#llx: ring at %#llx is beyond what QueuePFN can "
			       "address\n",
			       (unsigned long long)vm->desc.base,
			       (unsigned long long)virtqueue_get_desc_addr(vq));
			vring_del_virtqueue(vq);
			return -ENOMEM;
		}
		vm_write(vm, VM_QUEUE_ALIGN, VM_LEGACY_ALIGN);
		vm_write(vm, VM_QUEUE_PFN, (uint32_t)pfn);
	} else {
		uint64_t a;

		a = virtqueue_get_desc_addr(vq);
		vm_write(vm, VM_QUEUE_DESC_LOW, (uint32_t)a);
		vm_write(vm, VM_QUEUE_DESC_HIGH, (uint32_t)(a >> 32));
		a = virtqueue_get_avail_addr(vq);
		vm_write(vm, VM_QUEUE_DRIVER_LOW, (uint32_t)a);
		vm_write(vm, VM_QUEUE_DRIVER_HIGH, (uint32_t)(a >> 32));
		a = virtqueue_get_used_addr(vq);
		vm_write(vm, VM_QUEUE_DEVICE_LOW, (uint32_t)a);
		vm_write(vm, VM_QUEUE_DEVICE_HIGH, (uint32_t)(a >> 32));
		vm_write(vm, VM_QUEUE_READY, 1);
		if (vm_read(vm, VM_QUEUE_READY) != 1) {
			pr_err("virtio-mmio@%#llx: queue %u QueueReady reads %u after writing 1\n",
			       (unsigned long long)vm->desc.base, index,
			       vm_read(vm, VM_QUEUE_READY));
			vm_deactivate_queue(vm, index);
			vring_del_virtqueue(vq);
			return -EIO;
		}
	}
	*out = vq;
	return 0;
}

static int vm_find_vqs(struct virtio_device *vdev, unsigned nvqs, struct virtqueue *vqs[],
		       const struct virtqueue_info info[])
{
	struct virtio_mmio_device *vm = to_vm(vdev);
	struct virtqueue **tail = &vdev->vqs;

	if (vm->version == 1)
		vm_write(vm, VM_GUEST_PAGE_SIZE, VM_LEGACY_PAGE); /* 4.2.4.1 */
	while (*tail)
		tail = &(*tail)->next;
	for (unsigned i = 0; i < nvqs; i++) {
		struct virtqueue *vq = NULL;
		int err;

		vqs[i] = NULL;
		if (!info[i].name)
			continue; /* the driver does not want this queue */
		err = vm_setup_vq(vm, i, &info[i], &vq);
		if (err) {
			vm_del_vqs(vdev);
			return err;
		}
		unsigned long fl = irq_save();
		vq->next = NULL;
		*tail = vq;
		tail = &vq->next;
		irq_restore(fl);
		vqs[i] = vq;
	}
	return 0;
}

static const char *vm_bus_name(struct virtio_device *vdev)
{
	return to_vm(vdev)->version == 1 ? "mmio-legacy" : "mmio";
}

/* Queue reset (VIRTIO_F_RING_RESET, QueueReset at 0x0c0) is not
 * implemented: QEMU 7.2's virtio-mmio does not offer it either. */
static const struct virtio_config_ops vm_ops_v2 = {
	.reset = vm_reset,
	.get_status = vm_get_status,
	.set_status = vm_set_status,
	.get_features = vm_get_features,
	.finalize_features = vm_finalize_features,
	.get = vm_get,
	.set = vm_set,
	.generation = vm_generation,
	.find_vqs = vm_find_vqs,
	.del_vqs = vm_del_vqs,
	.bus_name = vm_bus_name,
};

/* Legacy: no ConfigGeneration register. */
static const struct virtio_config_ops vm_ops_v1 = {
	.reset = vm_reset,
	.get_status = vm_get_status,
	.set_status = vm_set_status,
	.get_features = vm_get_features,
	.finalize_features = vm_finalize_features,
	.get = vm_get,
	.set = vm_set,
	.generation = NULL,
	.find_vqs = vm_find_vqs,
	.del_vqs = vm_del_vqs,
	.bus_name = vm_bus_name,
};

/* ---- interrupts ---- */

/*
 * 4.2.3.4. The loop matters on edge-triggered lines (command-line
 * devices): if the device sets a new bit between our read and our ACK, the
 * line never drops, so no new edge would come; reading again until the
 * status is 0 catches it. On a level-triggered line the bound keeps a
 * device that never clears its status from holding the CPU forever.
 */
static void vm_interrupt(void *ctx)
{
	struct virtio_mmio_device *vm = ctx;

	for (unsigned round = 0; round < 16; round++) {
		uint32_t st = vm_read(vm, VM_INTERRUPT_STATUS);

		if (st == 0)
			return;
		if (st == 0xffffffff) {
			/* Nothing answers at the address any more (a bus
			 * error reads as all ones): stop listening rather
			 * than take this interrupt forever. */
			if (!vm->warned_status) {
				vm->warned_status = true;
				pr_err("virtio-mmio@%#llx: InterruptStatus reads all ones; device "
				       "gone? masking GSI %u\n",
				       (unsigned long long)vm->desc.base, vm->desc.gsi);
			}
			irq_mask(vm->desc.gsi);
			return;
		}
		vm_write(vm, VM_INTERRUPT_ACK, st);
		vm->interrupts++;
		if ((st & ~(VM_INT_VRING | VM_INT_CONFIG)) && !vm->warned_status) {
			vm->warned_status = true;
			pr_warn("virtio-mmio@%#llx: InterruptStatus %#x has bits other than "
				"0 (used buffer) and 1 (config change)\n",
				(unsigned long long)vm->desc.base, st);
		}
		if (st & VM_INT_VRING)
			for (struct virtqueue *vq = vm->vdev.vqs; vq; vq = vq->next)
				vring_interrupt(vq);
		if (st & VM_INT_CONFIG)
			virtio_config_changed(&vm->vdev);
	}
}

/* Checks the identification registers (4.2.2): magic, version, device. */
void virtio_mmio_probe(struct virtio_mmio_device *vm)
{
	unsigned long long base = vm->desc.base;
	uint32_t magic;
	int err;

	vm->base = ioremap(vm->desc.base, vm->desc.size);
	if (!vm->base) {
		pr_err("virtio-mmio@%#llx: cannot map %#llx bytes\n", base,
		       (unsigned long long)vm->desc.size);
		vm->state = VM_BAD;
		return;
	}
	magic = vm_read(vm, VM_MAGIC_VALUE);
	if (magic != VM_MAGIC) {
		pr_err("virtio-mmio@%#llx: MagicValue %#x, expected %#x (\"virt\"); not a "
		       "virtio-mmio transport\n",
		       base, magic, VM_MAGIC);
		vm->state = VM_BAD;
		return;
	}
	vm->version = vm_read(vm, VM_VERSION);
	if (vm->version != 1 && vm->version != 2) {
		pr_err("virtio-mmio@%#llx: Version %u, expected 1 (legacy) or 2\n", base,
		       vm->version);
		vm->state = VM_BAD;
		return;
	}
	vm->device_id = vm_read(vm, VM_DEVICE_ID);
	vm->vendor_id = vm_read(vm, VM_VENDOR_ID);
	if (vm->device_id == 0) {
		/* 4.2.3.1.1: a placeholder slot; nothing to say about it. */
		vm->state = VM_EMPTY;
		return;
	}
	if (vm->device_id == 0xffffffff) {
		pr_err("virtio-mmio@%#llx: DeviceID reads all ones; nothing answers there\n", base);
		vm->state = VM_BAD;
		return;
	}
	if (vm->version == 2 && vm->desc.size < VIRTIO_MMIO_MIN_SIZE) {
		pr_err("virtio-mmio@%#llx: window of %#llx bytes, expected at least %#x\n", base,
		       (unsigned long long)vm->desc.size, VIRTIO_MMIO_MIN_SIZE);
		vm->state = VM_BAD;
		return;
	}
	/* Quiet until a driver sets it up; reset also drops any interrupt
	 * a previous user left pending. */
	vm_write(vm, VM_STATUS, 0);

	snprintf(vm->irq_name, sizeof vm->irq_name, "virtio-mmio@%llx", base);
	/* Shared is harmless: the handler checks InterruptStatus first. */
	err = request_irq(vm->desc.gsi, vm->desc.irqflags | IRQF_SHARED, vm_interrupt, vm,
			  vm->irq_name);
	if (err < 0) {
		pr_err("virtio-mmio@%#llx: cannot route GSI %u (error %d); device not used\n", base,
		       vm->desc.gsi, err);
		vm->state = VM_IRQ_FAILED;
		return;
	}
	vm->vector = err;

	vm->vdev.id.device = vm->device_id;
	vm->vdev.id.vendor = vm->vendor_id;
	vm->vdev.legacy = vm->version == 1;
	vm->vdev.config = vm->version == 1 ? &vm_ops_v1 : &vm_ops_v2;
	if (vm->version == 1)
		vm_write(vm, VM_GUEST_PAGE_SIZE, VM_LEGACY_PAGE);
	vm->state = VM_REGISTERED;
	err = register_virtio_device(&vm->vdev);
	if (err) {
		pr_err("virtio-mmio@%#llx: the virtio core refused the device (error %d)\n", base,
		       err);
		free_irq(vm->desc.gsi, vm_interrupt, vm);
		vm->vector = -1;
		vm->state = VM_BAD;
	}
}
