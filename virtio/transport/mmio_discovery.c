/*
 * Finding virtio-mmio transports (virtio 1.2 section 4.2 defines the
 * registers, not how to find them). Two conventions, both from Linux:
 *
 *  1. ACPI (ACPI 6.5 chapter 6.1.5 _HID, 6.2.2 _CRS, 6.4 resource data):
 *     each transport is a Device with _HID "LNRO0005" in the DSDT (or an
 *     SSDT), whose _CRS holds a Memory32Fixed window and an Extended
 *     Interrupt with its trigger mode and polarity. QEMU microvm with ACPI
 *     on (its default) describes them only this way, and only the slots
 *     that have a device plugged in.
 *
 *  2. The kernel command line: `virtio_mmio.device=<size>@<base>:<irq>[:id]`
 *     (mmio_cmdline.c), what QEMU microvm with acpi=off and Firecracker
 *     append. It carries no trigger mode. Linux passes the number to
 *     request_irq() with no trigger flags, so on x86 the IOAPIC pin keeps
 *     whatever the firmware tables say about that GSI (a MADT interrupt
 *     source override), and the ISA default, edge / active high,
 *     otherwise. We do the same, explicitly: a command-line transport is
 *     edge/high unless a MADT override names its GSI, and if the DSDT also
 *     describes the same transport, the DSDT's _CRS flags win (ACPI is
 *     read first, and a transport is registered once, at its base
 *     address). Edge works on QEMU because its virtio-mmio line drops when
 *     the interrupt is acknowledged; the handler re-reads the status
 *     before returning so an edge is never lost.
 *
 * Also here: the boot-time listing. The `mmio` command is in mmio_shell.c,
 * the `test=mmio` self-test in test/kernel/mmio_selftest.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/acpi/acpi.h"
#include "kernel/acpi/aml.h"
#include "kernel/acpi/aml_resources.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "virtio/transport/mmio.h"
#include "virtio/transport/mmio_cmdline.h"
#include "virtio/transport/mmio_devices.h"
#include "virtio/virtio.h"

CMDLINE_OPTION(
	virtio_mmio_device, .key = "virtio_mmio.device", .type = CMDLINE_STRING, .repeat = true,
	.help = "<size>@<base>:<irq>[:<id>]: a virtio-mmio transport (Linux syntax, repeatable)");

/* Linux's virtio_mmio driver binds to this ACPI id (LNRO: Linaro). */
#define VIRTIO_MMIO_HID "LNRO0005"

static unsigned aml_to_irqf(unsigned aml)
{
	unsigned f = (aml & AML_IRQ_LEVEL) ? IRQF_LEVEL : IRQF_EDGE;

	if (aml & AML_IRQ_ACTIVE_LOW)
		f |= IRQF_ACTIVE_LOW;
	return f;
}

/* Trigger/polarity for a GSI the command line named: a MADT override for
 * it (MPS INTI flags, ACPI 5.2.12.5), else ISA's edge / active high. */
static unsigned cmdline_irqf(unsigned gsi)
{
	for (unsigned i = 0; i < acpi_info.noverrides; i++) {
		const struct acpi_override *ov = &acpi_info.overrides[i];
		unsigned f = IRQF_EDGE;

		if (ov->gsi != gsi)
			continue;
		if ((ov->flags & 3) == 3)
			f |= IRQF_ACTIVE_LOW;
		if (((ov->flags >> 2) & 3) == 3)
			f = (f & ~IRQF_EDGE) | IRQF_LEVEL;
		return f;
	}
	return IRQF_EDGE;
}

static bool is_virtio_mmio(const struct aml_device *dev)
{
	return strcmp(dev->hid, VIRTIO_MMIO_HID) == 0 || strcmp(dev->cid, VIRTIO_MMIO_HID) == 0;
}

static int acpi_device_found(const struct aml_device *dev, void *ctx)
{
	struct virtio_mmio_desc d;
	struct aml_resources res;
	unsigned *found = ctx;

	if (!is_virtio_mmio(dev))
		return 0;
	/* 6.3.7: bit 0 of _STA clear means not present. */
	if (dev->has_sta && !(dev->sta & 1))
		return 0;
	if (!dev->crs) {
		pr_warn("virtio-mmio: ACPI device %s has no constant _CRS (a method, which this "
			"kernel does not run?); skipped\n",
			dev->path);
		return 0;
	}
	if (aml_parse_resources(dev->crs, dev->crs_len, &res) != 0) {
		pr_warn("virtio-mmio: ACPI device %s: _CRS unreadable; skipped\n", dev->path);
		return 0;
	}
	if (res.nmem != 1 || res.nirq != 1) {
		pr_warn("virtio-mmio: ACPI device %s: _CRS has %u memory ranges and %u "
			"interrupts, expected 1 and 1; skipped\n",
			dev->path, res.nmem, res.nirq);
		return 0;
	}
	if (res.mem[0].len < VIRTIO_MMIO_MIN_SIZE) {
		pr_warn("virtio-mmio: ACPI device %s: window of %#llx bytes, expected at least "
			"%#x; skipped\n",
			dev->path, (unsigned long long)res.mem[0].len, VIRTIO_MMIO_MIN_SIZE);
		return 0;
	}
	memset(&d, 0, sizeof d);
	d.base = res.mem[0].base;
	d.size = res.mem[0].len;
	d.gsi = res.irq[0].gsi;
	d.irqflags = aml_to_irqf(res.irq[0].flags);
	d.id = dev->has_uid ? (long)dev->uid : -1;
	d.from = VIRTIO_MMIO_FROM_ACPI;
	snprintf(d.acpi_path, sizeof d.acpi_path, "%s", dev->path);
	virtio_mmio_add(&d);
	(*found)++;
	return 0;
}

static unsigned from_cmdline(void)
{
	struct virtio_mmio_desc d;
	const char *value, *why;
	unsigned pos = 0, good = 0;

	while ((value = cmdline_next("virtio_mmio.device", &pos))) {
		if (virtio_mmio_parse_device(value, &d, &why) != 0) {
			pr_err("virtio-mmio: virtio_mmio.device=%s: %s; entry ignored\n", value,
			       why);
			continue;
		}
		d.irqflags = cmdline_irqf(d.gsi);
		virtio_mmio_add(&d);
		good++;
	}
	return good;
}

static void virtio_mmio_init(void)
{
	unsigned acpi = 0, cmd, devices = 0, empty = 0;
	struct virtio_mmio_info in;

	if (acpi_present())
		acpi_walk_devices(acpi_device_found, &acpi);
	cmd = from_cmdline();
	if (virtio_mmio_count() == 0)
		return; /* not a virtio-mmio machine: say nothing */
	virtio_mmio_probe_all();
	for (unsigned i = 0; virtio_mmio_get(i, &in); i++) {
		if (in.state == VM_REGISTERED)
			devices++;
		else if (in.state == VM_EMPTY)
			empty++;
	}
	pr_info("virtio-mmio: %u transport(s) (%u from ACPI, %u from the command line): %u "
		"with a device, %u empty\n",
		virtio_mmio_count(), acpi, cmd, devices, empty);
	virtio_mmio_print_all();
}
INITCALL(virtio_mmio_init);
