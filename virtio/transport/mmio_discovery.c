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
 * Also here: the boot-time listing, the `mmio` and `aml` shell commands and
 * the `test=mmio` self-test.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/acpi/acpi.h"
#include "kernel/acpi/aml.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/irq/irq.h"
#include "kernel/lib/log.h"
#include "kernel/selftest/selftest.h"
#include "kernel/shell/shell.h"
#include "kernel/time/timer.h"
#include "virtio/transport/mmio.h"
#include "virtio/virtio.h"

CMDLINE_OPTION(virtio_mmio_device, "virtio_mmio.device",
	       "<size>@<base>:<irq>[:<id>]: a virtio-mmio transport (Linux syntax, repeatable)");

/* Linux's virtio_mmio driver binds to this ACPI id (LNRO: Linaro). */
#define VIRTIO_MMIO_HID "LNRO0005"

#define ACPI_HEADER_LEN 36

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

/* Every definition block: the DSDT, then the SSDTs. */
static void walk_acpi(aml_device_fn fn, void *ctx)
{
	const struct acpi_sdt_header *h = acpi_find_table("DSDT", 0);

	for (unsigned n = 0; h; h = acpi_find_table("SSDT", n++)) {
		if (h->length < ACPI_HEADER_LEN) {
			pr_warn("virtio-mmio: %.4s of %u bytes is shorter than its header\n",
				h->signature, (unsigned)h->length);
			continue;
		}
		aml_walk_devices((const uint8_t *)h + ACPI_HEADER_LEN, h->length - ACPI_HEADER_LEN,
				 fn, ctx);
	}
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
		walk_acpi(acpi_device_found, &acpi);
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

/* ---- shell ---- */

static int cmd_mmio(int argc, char **argv)
{
	struct virtio_mmio_info in;
	char line[160];

	if (virtio_mmio_count() == 0) {
		printf("no virtio-mmio transports\n");
		return 0;
	}
	for (unsigned i = 0; virtio_mmio_get(i, &in); i++) {
		virtio_mmio_format(i, line, sizeof line);
		printf("%s\n", line);
		if (in.vector >= 0)
			printf("       vector %d, %llu interrupts\n", in.vector,
			       (unsigned long long)in.interrupts);
	}
	return 0;
}
SHELL_COMMAND(mmio, "mmio", "list virtio-mmio transports (base, size, GSI, version, device)",
	      cmd_mmio);

static int print_aml_device(const struct aml_device *dev, void *ctx)
{
	struct aml_resources res;

	printf("%-20s hid %-9s", dev->path, dev->hid[0] ? dev->hid : "-");
	if (dev->has_uid)
		printf(" uid %llu", (unsigned long long)dev->uid);
	if (dev->has_sta)
		printf(" sta %#llx", (unsigned long long)dev->sta);
	if (dev->crs && aml_parse_resources(dev->crs, dev->crs_len, &res) == 0) {
		for (unsigned i = 0; i < res.nmem; i++)
			printf(" mem %#llx+%#llx", (unsigned long long)res.mem[i].base,
			       (unsigned long long)res.mem[i].len);
		for (unsigned i = 0; i < res.nirq; i++)
			printf(" irq %u %s", res.irq[i].gsi,
			       res.irq[i].flags & AML_IRQ_LEVEL ? "level" : "edge");
		if (res.nio)
			printf(" io x%u", res.nio);
	}
	if (dev->incomplete)
		printf(" (incomplete)");
	printf("\n");
	return 0;
}

/* `aml dump` prints the DSDT in hex, the way test/host/data/ blobs were
 * recorded (test/host/data/README). */
static int cmd_aml(int argc, char **argv)
{
	const struct acpi_sdt_header *h = acpi_find_table("DSDT", 0);

	if (!h) {
		printf("no DSDT\n");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "dump") == 0) {
		const uint8_t *p = (const uint8_t *)h;

		printf("DSDT %u bytes\n", (unsigned)h->length);
		for (unsigned i = 0; i < h->length; i++)
			printf("%02x%s", p[i], (i % 32 == 31 || i + 1 == h->length) ? "\n" : "");
		printf("end of DSDT\n");
		return 0;
	}
	walk_acpi(print_aml_device, NULL);
	return 0;
}
SHELL_COMMAND(aml, "aml [dump]", "list devices in the ACPI DSDT/SSDTs, or dump the DSDT in hex",
	      cmd_aml);

/* ---- test=mmio ---- */

/*
 * A minimal entropy reader used when no rng driver claimed a virtio-rng
 * device: it proves the transport end to end (features, queue setup,
 * notify, interrupt, used ring) without depending on drivers/.
 */
static volatile bool st_done;
static volatile unsigned st_len;

static void st_rng_done(struct virtqueue *vq)
{
	unsigned len;

	if (virtqueue_get_buf(vq, &len)) {
		st_len = len;
		st_done = true;
	}
}

static int st_rng_probe(struct virtio_device *vdev)
{
	static const struct virtqueue_info info[] = {{"mmio-selftest-rng", st_rng_done}};
	struct virtqueue *vq;

	return virtio_find_vqs(vdev, 1, &vq, info);
}

static void st_rng_remove(struct virtio_device *vdev)
{
	virtio_reset_device(vdev);
	virtio_del_vqs(vdev);
}

static const struct virtio_device_id st_rng_ids[] = {{VIRTIO_ID_RNG, VIRTIO_DEV_ANY_ID}, {0, 0}};
static struct virtio_driver st_rng_driver = {
	.name = "mmio-selftest-rng",
	.id_table = st_rng_ids,
	.probe = st_rng_probe,
	.remove = st_rng_remove,
};

static struct virtio_device *find_vdev(int index)
{
	for (struct virtio_device *v = virtio_device_next(NULL); v; v = virtio_device_next(v))
		if (v->index == index)
			return v;
	return NULL;
}

static void rng_by_interrupt(unsigned n, const struct virtio_mmio_info *in)
{
	static uint8_t buf[32] __attribute__((aligned(64)));
	struct virtio_device *vdev = find_vdev(in->virtio_index);
	struct virtio_mmio_info after;
	struct scatterlist sg;
	unsigned long fl;
	uint64_t deadline;
	bool nonzero = false;

	if (!vdev)
		return;
	if (vdev->driver) {
		check(true, "mmio%u: rng virtio%d is bound to %s (bytes checked by test=rng)", n,
		      vdev->index, vdev->driver->name);
		return;
	}
	register_virtio_driver(&st_rng_driver);
	if (!check(vdev->driver == &st_rng_driver && vdev->vqs, "mmio%u: test rng driver bound",
		   n)) {
		unregister_virtio_driver(&st_rng_driver);
		return;
	}
	memset(buf, 0, sizeof buf);
	st_done = false;
	sg_init_one(&sg, buf, sizeof buf);
	fl = irq_save();
	virtqueue_add_inbuf(vdev->vqs, &sg, 1, buf);
	virtqueue_kick(vdev->vqs);
	deadline = time_ns() + 2000000000ull;
	while (!st_done && time_ns() < deadline)
		wait_for_interrupt();
	irq_restore(fl);
	virtio_mmio_get(n, &after);
	for (unsigned i = 0; i < sizeof buf; i++)
		nonzero |= buf[i] != 0;
	check(st_done && st_len > 0 && st_len <= sizeof buf && nonzero,
	      "mmio%u: rng delivered %u bytes by interrupt (done %d, not all zero %d)", n, st_len,
	      st_done, nonzero);
	check(after.interrupts > in->interrupts, "mmio%u: transport interrupts %llu -> %llu", n,
	      (unsigned long long)in->interrupts, (unsigned long long)after.interrupts);
	unregister_virtio_driver(&st_rng_driver);
}

static void mmio_selftest(void)
{
	struct virtio_mmio_info in, other;
	unsigned devices = 0;

	check(virtio_mmio_count() > 0, "virtio-mmio transports found: %u", virtio_mmio_count());
	for (unsigned i = 0; virtio_mmio_get(i, &in); i++) {
		unsigned same = 0, seen = 0;

		check(in.state == VM_EMPTY || in.state == VM_REGISTERED,
		      "mmio%u at %#llx: state %d is empty (1) or registered (4)", i,
		      (unsigned long long)in.desc.base, in.state);
		for (unsigned j = 0; virtio_mmio_get(j, &other); j++)
			if (other.desc.base == in.desc.base)
				same++;
		check(same == 1, "mmio%u at %#llx listed once (%u)", i,
		      (unsigned long long)in.desc.base, same);
		if (in.state != VM_REGISTERED)
			continue;
		devices++;
		check(in.version == 1 || in.version == 2, "mmio%u: version %u", i, in.version);
		check(in.vector >= 32, "mmio%u: GSI %u routed to vector %d", i, in.desc.gsi,
		      in.vector);
		for (struct virtio_device *v = virtio_device_next(NULL); v;
		     v = virtio_device_next(v))
			if (v->index == in.virtio_index)
				seen++;
		check(seen == 1, "mmio%u: registered with the virtio core once (virtio%d, %u)", i,
		      in.virtio_index, seen);
		if (in.device_id == VIRTIO_ID_RNG)
			rng_by_interrupt(i, &in);
	}
	check(devices > 0, "virtio-mmio devices registered: %u", devices);
}
SELFTEST(mmio, mmio_selftest);
