/*
 * Host test for kernel/pci/pci_caps.c: BAR decoding and sizing (PCI Local Bus
 * 3.0 6.2.5.1) and the capability walk (6.7), run unchanged against
 * configuration-space images recorded from QEMU 7.2 with `lspci -x` in
 * virtio-os (test/host/data/pci_*.txt), plus hand-made hostile images.
 *
 * The fake configuration space answers like hardware: a BAR register keeps
 * only its writable address bits, which the test supplies from the QEMU
 * device models (the recording holds the addresses, not the sizes); every
 * other register stores what is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/pci/pci.h"
#include "kernel/pci/pci_caps.h"
#include "kernel/pci/pci_config.h"
#include "tap.h"

#define MAX_FUNCS 32

struct fake_fn {
	uint8_t bus, dev, fn;
	uint8_t cfg[256];
	uint64_t bar_size[6]; /* 0: BAR not implemented */
	bool io_upper_zero;   /* I/O BARs read back 0 in bits 31:16 */
};

static struct fake_fn funcs[MAX_FUNCS];
static unsigned nfuncs;
static unsigned bar_writes_seen;

static struct fake_fn *lookup(const struct pci_dev *pdev)
{
	for (unsigned i = 0; i < nfuncs; i++)
		if (funcs[i].bus == pdev->bus && funcs[i].dev == pdev->dev &&
		    funcs[i].fn == pdev->fn)
			return &funcs[i];
	return NULL;
}

static uint32_t fake_read(const struct pci_dev *pdev, unsigned off, unsigned width)
{
	struct fake_fn *f = lookup(pdev);
	uint32_t v = 0;

	if (!f || off + width > 256)
		return 0xffffffffu >> (32 - 8 * width);
	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)f->cfg[off + i] << (8 * i);
	return v;
}

/* Which BAR register (0-5) `off` is for a type 0 header, or -1 (type 1: 0-1). */
static int bar_index(const struct fake_fn *f, unsigned off)
{
	unsigned nbars = (f->cfg[PCI_HEADER_TYPE] & 0x7f) == 1 ? 2 : 6;

	if (off < PCI_BAR0 || off >= PCI_BAR0 + 4 * nbars)
		return -1;
	return (int)(off - PCI_BAR0) / 4;
}

static void fake_write(const struct pci_dev *pdev, unsigned off, unsigned width, uint32_t v)
{
	struct fake_fn *f = lookup(pdev);
	int b;

	if (!f || off + width > 256)
		return;
	b = bar_index(f, off);
	if (b >= 0 && width == 4) {
		uint32_t old = fake_read(pdev, off, 4);
		uint32_t keep, mask;
		bar_writes_seen++;
		/* The upper half of a 64-bit BAR: its size lives in the BAR below. */
		if (b > 0 && f->bar_size[b] == 0 && f->bar_size[b - 1] &&
		    (f->cfg[PCI_BAR0 + 4 * (b - 1)] & 0x7) == 0x4) {
			mask = (uint32_t)(~(f->bar_size[b - 1] - 1) >> 32);
			keep = 0;
		} else if (f->bar_size[b] == 0) {
			return; /* unimplemented: reads 0 whatever is written */
		} else if (old & 1) {
			mask = (uint32_t) ~(f->bar_size[b] - 1) & ~3u;
			if (f->io_upper_zero)
				mask &= 0xffff;
			keep = old & 3;
		} else {
			mask = (uint32_t) ~(f->bar_size[b] - 1) & ~0xfu;
			keep = old & 0xf;
		}
		v = (v & mask) | keep;
	}
	for (unsigned i = 0; i < width; i++)
		f->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

uint8_t pci_read8(const struct pci_dev *pdev, unsigned off)
{
	return (uint8_t)fake_read(pdev, off, 1);
}
uint16_t pci_read16(const struct pci_dev *pdev, unsigned off)
{
	return (uint16_t)fake_read(pdev, off & ~1u, 2);
}
uint32_t pci_read32(const struct pci_dev *pdev, unsigned off)
{
	return fake_read(pdev, off & ~3u, 4);
}
void pci_write8(const struct pci_dev *pdev, unsigned off, uint8_t v)
{
	fake_write(pdev, off, 1, v);
}
void pci_write16(const struct pci_dev *pdev, unsigned off, uint16_t v)
{
	fake_write(pdev, off & ~1u, 2, v);
}
void pci_write32(const struct pci_dev *pdev, unsigned off, uint32_t v)
{
	fake_write(pdev, off & ~3u, 4, v);
}

/* Reads an `lspci -x` recording: "BB:DD.F ..." starts a function, "XX: 16
 * hex bytes" lines fill its config space, anything else is ignored. */
static unsigned load_image(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	struct fake_fn *cur = NULL;
	unsigned bus, dev, fn, off;

	nfuncs = 0;
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%2x:%2x.%1x ", &bus, &dev, &fn) == 3 && line[2] == ':' &&
		    line[5] == '.' && nfuncs < MAX_FUNCS) {
			cur = &funcs[nfuncs++];
			memset(cur, 0, sizeof(*cur));
			cur->bus = bus;
			cur->dev = dev;
			cur->fn = fn;
		} else if (cur && sscanf(line, "%2x:", &off) == 1 && line[2] == ':' && off < 256) {
			char *p = line + 3;
			for (unsigned i = 0; i < 16 && off + i < 256; i++)
				cur->cfg[off + i] = (uint8_t)strtoul(p, &p, 16);
		}
	}
	fclose(fp);
	return nfuncs;
}

static struct fake_fn *fn_at(unsigned bus, unsigned dev, unsigned fn)
{
	struct pci_dev probe = {.bus = bus, .dev = dev, .fn = fn};
	return lookup(&probe);
}

static void set_sizes(unsigned bus, unsigned dev, unsigned fn, const uint64_t sizes[6])
{
	struct fake_fn *f = fn_at(bus, dev, fn);
	if (f)
		memcpy(f->bar_size, sizes, sizeof(f->bar_size));
}

static struct pci_dev read_dev(unsigned bus, unsigned dev, unsigned fn)
{
	struct pci_dev pdev = {.bus = bus, .dev = dev, .fn = fn};
	pci_read_header(&pdev);
	return pdev;
}

static bool bar_is(const struct pci_dev *d, unsigned i, enum pci_bar_type t, bool pf, uint64_t addr,
		   uint64_t size)
{
	const struct pci_bar *b = &d->bar[i];
	return b->type == t && b->prefetchable == pf && b->addr == addr && b->size == size;
}

static void test_q35(void)
{
	static const uint64_t virtio_transitional[6] = {0x20, 0x1000, 0, 0, 0x4000, 0};
	static const uint64_t virtio_modern[6] = {0, 0x1000, 0, 0, 0x4000, 0};
	static const uint64_t e1000e[6] = {0x20000, 0x20000, 0x20, 0x4000, 0, 0};
	static const uint64_t bridge[6] = {0x100, 0, 0, 0, 0, 0};
	static const uint64_t vga[6] = {0x1000000, 0, 0x1000, 0, 0, 0};
	struct fake_fn before;

	if (!CHECK(load_image("test/host/data/pci_q35.txt") == 9, "q35 image: 9 functions"))
		return;
	set_sizes(0, 8, 0, virtio_transitional);
	set_sizes(1, 1, 0, virtio_modern);
	set_sizes(0, 2, 0, e1000e);
	set_sizes(0, 0xb, 0, bridge);
	set_sizes(0, 1, 0, vga);

	/* virtio-rng, transitional: I/O, mem32, and a 64-bit prefetchable BAR. */
	before = *fn_at(0, 8, 0);
	bar_writes_seen = 0;
	struct pci_dev d = read_dev(0, 8, 0);
	CHECK(d.vendor == 0x1af4 && d.device == 0x1005 && d.subsys_id == 4,
	      "00:08.0 ids 1af4:1005 subsys 4 (got %04x:%04x %u)", d.vendor, d.device, d.subsys_id);
	CHECK(d.header_type == 0 && d.nbars == 6, "00:08.0 type 0 header with 6 BARs");
	CHECK(bar_is(&d, 0, PCI_BAR_IO, false, 0xd060, 0x20), "00:08.0 BAR0 io 0xd060 size 0x20");
	CHECK(bar_is(&d, 1, PCI_BAR_MEM32, false, 0xfea95000, 0x1000),
	      "00:08.0 BAR1 mem32 0xfea95000 size 0x1000");
	CHECK(bar_is(&d, 4, PCI_BAR_MEM64, true, 0xfe200000, 0x4000),
	      "00:08.0 BAR4 mem64 pf 0xfe200000 size 0x4000");
	CHECK(d.bar[5].type == PCI_BAR_NONE, "00:08.0 BAR5 is BAR4's upper half, not a BAR");
	CHECK(d.bar[2].type == PCI_BAR_NONE && d.bar[3].type == PCI_BAR_NONE,
	      "00:08.0 BAR2, BAR3 unimplemented");
	CHECK(bar_writes_seen > 0 && memcmp(before.cfg, fn_at(0, 8, 0)->cfg, 256) == 0,
	      "sizing restored every register (%u BAR writes)", bar_writes_seen);
	CHECK(d.msix_cap == 0x98 && d.msix_size == 2, "00:08.0 MSI-X at 0x98, 2 entries");
	CHECK(d.msi_cap == 0, "00:08.0 has no MSI");
	CHECK(d.irq_pin == 1 && d.irq_line == 10, "00:08.0 INTA, line 10");

	/* The virtio vendor capabilities, in list order, with their cfg_type. */
	static const uint8_t want_pos[] = {0x84, 0x70, 0x60, 0x50, 0x40};
	static const uint8_t want_type[] = {5, 2, 4, 3, 1};
	unsigned n = 0;
	bool order_ok = true;
	for (uint8_t pos = pci_find_capability(&d, PCI_CAP_ID_VENDOR); pos;
	     pos = pci_find_next_capability(&d, pos, PCI_CAP_ID_VENDOR)) {
		if (n >= 5 || pos != want_pos[n] || pci_read8(&d, pos + 3) != want_type[n])
			order_ok = false;
		n++;
	}
	CHECK(n == 5 && order_ok,
	      "00:08.0 vendor caps 0x84,0x70,0x60,0x50,0x40 with types "
	      "pci-cfg,notify,device,isr,common (found %u)",
	      n);
	CHECK(pci_find_capability(&d, PCI_CAP_ID_EXP) == 0, "00:08.0 has no PCIe capability");

	/* Non-transitional virtio behind the bridge: no I/O BAR. */
	d = read_dev(1, 1, 0);
	CHECK(d.device == 0x1044 && d.bar[0].type == PCI_BAR_NONE &&
		      bar_is(&d, 4, PCI_BAR_MEM64, true, 0xfe000000, 0x4000),
	      "01:01.0 1af4:1044 without I/O BAR, BAR4 mem64 pf 0xfe000000");

	/* e1000e: PM -> MSI -> PCIe -> MSI-X. */
	d = read_dev(0, 2, 0);
	CHECK(bar_is(&d, 0, PCI_BAR_MEM32, false, 0xfea40000, 0x20000) &&
		      bar_is(&d, 1, PCI_BAR_MEM32, false, 0xfea60000, 0x20000) &&
		      bar_is(&d, 2, PCI_BAR_IO, false, 0xd040, 0x20) &&
		      bar_is(&d, 3, PCI_BAR_MEM32, false, 0xfea90000, 0x4000),
	      "00:02.0 e1000e BARs mem32 0x20000 x2, io 0x20, mem32 0x4000");
	CHECK(d.msi_cap == 0xd0 && d.msix_cap == 0xa0 && d.msix_size == 5,
	      "00:02.0 MSI at 0xd0, MSI-X at 0xa0 with 5 entries (got %#x %#x %u)", d.msi_cap,
	      d.msix_cap, d.msix_size);
	CHECK(pci_find_capability(&d, PCI_CAP_ID_EXP) == 0xe0, "00:02.0 PCIe capability at 0xe0");
	CHECK(pci_find_capability(&d, 0x01) == 0xc8, "00:02.0 power management at 0xc8");

	/* A PCI-to-PCI bridge: type 1 header, two BARs, bus numbers. */
	d = read_dev(0, 0xb, 0);
	CHECK(d.header_type == 1 && d.nbars == 2, "00:0b.0 type 1 header with 2 BARs");
	CHECK(bar_is(&d, 0, PCI_BAR_MEM64, false, 0xfea96000, 0x100),
	      "00:0b.0 BAR0 mem64 0xfea96000 size 0x100");
	CHECK(pci_read8(&d, PCI_SECONDARY_BUS) == 1, "00:0b.0 secondary bus 1");
	CHECK(d.msi_cap == 0x4c, "00:0b.0 MSI at 0x4c");

	/* VGA: 16 MiB prefetchable framebuffer. */
	d = read_dev(0, 1, 0);
	CHECK(bar_is(&d, 0, PCI_BAR_MEM32, true, 0xfd000000, 0x1000000),
	      "00:01.0 BAR0 mem32 pf 0xfd000000 size 16 MiB");

	/* The host bridge: no BARs, no capabilities, no interrupt. */
	d = read_dev(0, 0, 0);
	bool none = true;
	for (unsigned i = 0; i < 6; i++)
		none &= d.bar[i].type == PCI_BAR_NONE;
	CHECK(none && d.msix_cap == 0 && d.msi_cap == 0 && d.irq_pin == 0,
	      "00:00.0 host bridge: no BARs, caps or pin");

	char line[200];
	d = read_dev(0, 8, 0);
	pci_format(&d, line, sizeof(line));
	CHECK(strcmp(line, "00:08.0 1af4:1005 class 00ff00 (unclassified) subsys 1af4:0004 INTA "
			   "irq 10 msix 2") == 0,
	      "listing line: %s", line);
	pci_format_bars(&d, line, sizeof(line));
	CHECK(strstr(line, "BAR4 mem64 pf 0xfe200000 size 0x4000") != NULL, "BARs line: %s", line);
	char tiny[8];
	CHECK(pci_format(&d, tiny, sizeof(tiny)) == 7 && strlen(tiny) == 7,
	      "listing truncates into a small buffer");
}

static void test_pc(void)
{
	static const uint64_t legacy[6] = {0x20, 0x1000, 0, 0, 0, 0};
	static const uint64_t ide[6] = {0, 0, 0, 0, 0x10, 0};

	if (!CHECK(load_image("test/host/data/pci_pc.txt") == 7, "pc image: 7 functions"))
		return;
	set_sizes(0, 8, 0, legacy);
	set_sizes(0, 1, 1, ide);
	struct pci_dev d = read_dev(0, 8, 0);
	CHECK(d.device == 0x1005 && bar_is(&d, 0, PCI_BAR_IO, false, 0xc040, 0x20) &&
		      d.bar[4].type == PCI_BAR_NONE,
	      "pc 00:08.0 legacy-only virtio: BAR0 io 0xc040, no BAR4");
	CHECK(pci_find_capability(&d, PCI_CAP_ID_VENDOR) == 0,
	      "pc 00:08.0 legacy-only virtio has no vendor capabilities");
	CHECK(d.msix_cap && d.msix_size == 2, "pc 00:08.0 MSI-X with 2 entries");
	d = read_dev(0, 1, 1);
	CHECK(bar_is(&d, 4, PCI_BAR_IO, false, 0xc060, 0x10), "pc 00:01.1 IDE BAR4 io 0xc060");
	d = read_dev(0, 1, 0);
	CHECK(d.class == 0x06 && d.subclass == 0x01 &&
		      strcmp(pci_class_name(d.class, d.subclass), "ISA bridge") == 0,
	      "pc 00:01.0 is an ISA bridge");
	/* Function 0 of the PIIX3 sets the multifunction bit. */
	CHECK(pci_read8(&d, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION,
	      "pc 00:01.0 header type says multifunction");
}

/* Hand-made images that break the rules. */
static struct fake_fn *blank(void)
{
	nfuncs = 1;
	memset(&funcs[0], 0, sizeof(funcs[0]));
	funcs[0].cfg[0] = 0x34; /* vendor 0x1234 */
	funcs[0].cfg[1] = 0x12;
	funcs[0].cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	return &funcs[0];
}

static void test_hostile(void)
{
	struct pci_dev d = {0};
	struct fake_fn *f;

	/* A capability pointing at itself: the walk must end. */
	f = blank();
	f->cfg[PCI_CAP_PTR] = 0x40;
	f->cfg[0x40] = 0x09;
	f->cfg[0x41] = 0x40;
	unsigned n = 0;
	for (uint8_t pos = pci_find_capability(&d, PCI_CAP_ID_VENDOR); pos && n < 100;
	     pos = pci_find_next_capability(&d, pos, PCI_CAP_ID_VENDOR))
		n++;
	CHECK(n == 1, "self-looping capability list ends (%u steps)", n);
	CHECK(pci_find_capability(&d, PCI_CAP_ID_MSIX) == 0, "looping list: MSI-X not found");

	/* A longer loop: 0x40 -> 0x50 -> 0x40; each capability found once. */
	f = blank();
	f->cfg[PCI_CAP_PTR] = 0x40;
	f->cfg[0x40] = 0x09;
	f->cfg[0x41] = 0x50;
	f->cfg[0x50] = 0x09;
	f->cfg[0x51] = 0x40;
	n = 0;
	for (uint8_t pos = pci_find_capability(&d, PCI_CAP_ID_VENDOR); pos && n < 100;
	     pos = pci_find_next_capability(&d, pos, PCI_CAP_ID_VENDOR))
		n++;
	CHECK(n == 2, "two-element loop yields 2 capabilities (%u)", n);

	/* A pointer into the standard header ends the list. */
	f = blank();
	f->cfg[PCI_CAP_PTR] = 0x10;
	CHECK(pci_find_capability(&d, PCI_BAR0 & 0xff) == 0, "pointer into the header is refused");

	/* Reserved low pointer bits are ignored (6.7). */
	f = blank();
	f->cfg[PCI_CAP_PTR] = 0x43;
	f->cfg[0x40] = PCI_CAP_ID_MSIX;
	CHECK(pci_find_capability(&d, PCI_CAP_ID_MSIX) == 0x40, "pointer 0x43 means 0x40");

	/* Status says there is no list: the pointer is not followed. */
	f = blank();
	f->cfg[PCI_STATUS] = 0;
	f->cfg[PCI_CAP_PTR] = 0x40;
	f->cfg[0x40] = PCI_CAP_ID_MSIX;
	CHECK(pci_find_capability(&d, PCI_CAP_ID_MSIX) == 0, "no list without the status bit");

	/* An I/O BAR whose upper 16 bits read back 0 (allowed for x86). */
	f = blank();
	f->cfg[PCI_BAR0] = 0x01;
	f->cfg[PCI_BAR0 + 1] = 0xc0;
	f->bar_size[0] = 0x40;
	f->io_upper_zero = true;
	struct pci_bar bar;
	unsigned used = pci_size_bar(&d, 0, &bar);
	CHECK(used == 1 && bar.type == PCI_BAR_IO && bar.addr == 0xc000 && bar.size == 0x40,
	      "I/O BAR with 16-bit decoding: size 0x40 (got 0x%llx)", (unsigned long long)bar.size);

	/* A 64-bit BAR in the last slot has no upper half: not decoded. */
	f = blank();
	f->cfg[PCI_BAR0 + 20] = 0x04;
	f->bar_size[5] = 0x1000;
	d.nbars = 6;
	used = pci_size_bar(&d, 5, &bar);
	CHECK(used == 1 && bar.type == PCI_BAR_NONE, "64-bit BAR in slot 5 is rejected");

	/* A 64-bit BAR above 4 GiB keeps its upper address bits. */
	f = blank();
	f->cfg[PCI_BAR0] = 0x0c;
	f->cfg[PCI_BAR0 + 4] = 0x80; /* 0x80_0000_0000 */
	f->bar_size[0] = 0x100000000ull;
	used = pci_size_bar(&d, 0, &bar);
	CHECK(used == 2 && bar.type == PCI_BAR_MEM64 && bar.addr == 0x8000000000ull &&
		      bar.size == 0x100000000ull && bar.prefetchable,
	      "4 GiB 64-bit BAR at 512 GiB (addr 0x%llx size 0x%llx)", (unsigned long long)bar.addr,
	      (unsigned long long)bar.size);

	/* A junk interrupt pin is dropped. */
	f = blank();
	f->cfg[PCI_INTERRUPT_PIN] = 9;
	d = (struct pci_dev){0};
	pci_read_header(&d);
	CHECK(d.irq_pin == 0, "interrupt pin 9 is treated as none");
}

int main(void)
{
	test_q35();
	test_pc();
	test_hostile();
	return tap_done();
}
