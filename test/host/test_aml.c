/*
 * Host unit test for the AML reader and resource-template decoder
 * (kernel/acpi/aml.c, ACPI 6.5 chapter 20 and section 6.4):
 *  - DSDTs recorded from QEMU 7.2 microvm (test/host/data/README): every
 *    device, the LNRO0005 virtio-mmio transports with their windows and
 *    level-triggered GSIs, and the non-virtio devices around them;
 *  - hand-made AML for what QEMU does not produce: multi-byte PkgLengths,
 *    EISA ids, nested scopes and parent prefixes, _STA, an opcode the reader
 *    cannot skip (the rest of that device is dropped, the next device is
 *    still found);
 *  - resource templates: each descriptor kind, flags, and malformed ones;
 *  - robustness: every truncation and every single-byte corruption of a
 *    recorded table is walked under ASan/UBSan without a crash;
 *  - one name by its path (aml_find_name) and Package decoding
 *    (aml_parse_package), which \_S5 uses (test_acpi_s5.c has the rest).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi/aml.h"
#include "kernel/acpi/aml_resources.h"
#include "test/host/data_file.h"
#include "test/host/tap.h"

#define HDR 36 /* ACPI table header */

struct found {
	unsigned n;
	struct aml_device dev[32];
	struct aml_resources res[32];
	int res_err[32];
};

static int collect(const struct aml_device *dev, void *ctx)
{
	struct found *f = ctx;

	if (f->n < 32) {
		f->dev[f->n] = *dev;
		f->res_err[f->n] =
			dev->crs ? aml_parse_resources(dev->crs, dev->crs_len, &f->res[f->n]) : -1;
		f->n++;
	}
	return 0;
}

static const struct aml_device *by_path(const struct found *f, const char *path, unsigned *idx)
{
	for (unsigned i = 0; i < f->n; i++)
		if (strcmp(f->dev[i].path, path) == 0) {
			if (idx)
				*idx = i;
			return &f->dev[i];
		}
	return NULL;
}

/* A virtio-mmio transport in a recorded table: slot n of QEMU's layout. */
static void check_transport(const struct found *f, unsigned slot, unsigned gsi)
{
	char path[32];
	unsigned i;
	const struct aml_device *d;

	snprintf(path, sizeof path, "\\_SB_.VR%02u", slot);
	d = by_path(f, path, &i);
	if (!CHECK(d != NULL, "%s found", path))
		return;
	CHECK(strcmp(d->hid, "LNRO0005") == 0, "%s _HID %s", path, d->hid);
	CHECK(d->has_uid && d->uid == slot, "%s _UID %llu", path, (unsigned long long)d->uid);
	CHECK(!d->incomplete, "%s read completely", path);
	if (!CHECK(f->res_err[i] == 0, "%s _CRS decodes", path))
		return;
	CHECK(f->res[i].nmem == 1 && f->res[i].mem[0].base == 0xfeb00000ull + slot * 0x200 &&
		      f->res[i].mem[0].len == 0x200 && f->res[i].mem[0].writable,
	      "%s Memory32Fixed %#llx+%#llx", path, (unsigned long long)f->res[i].mem[0].base,
	      (unsigned long long)f->res[i].mem[0].len);
	CHECK(f->res[i].nirq == 1 && f->res[i].irq[0].gsi == gsi &&
		      f->res[i].irq[0].flags == AML_IRQ_LEVEL,
	      "%s Interrupt GSI %u level, active high (got %u flags %#x)", path, gsi,
	      f->res[i].irq[0].gsi, f->res[i].irq[0].flags);
}

static void test_recorded(void)
{
	struct found f = {0};
	uint8_t *t;
	size_t len;
	const struct aml_device *d;
	unsigned i;
	int n;

	/* -M microvm, two virtio-rng-device and one virtio-blk-device. */
	t = load_data_file("microvm-dsdt-2rng-blk.dat", &len);
	if (!CHECK(t && len > HDR && memcmp(t, "DSDT", 4) == 0, "recorded microvm DSDT loads"))
		return;
	n = aml_walk_devices(t + HDR, len - HDR, collect, &f);
	CHECK(n == 8 && f.n == 8, "8 devices in the microvm DSDT (got %d)", n);
	check_transport(&f, 23, 47);
	check_transport(&f, 22, 46);
	check_transport(&f, 21, 45);
	d = by_path(&f, "\\_SB_.COM1", &i);
	CHECK(d && strcmp(d->hid, "PNP0501") == 0 && d->has_sta && d->sta == 0xf,
	      "COM1: EISA id PNP0501, _STA 0xf");
	CHECK(d && f.res_err[i] == 0 && f.res[i].nirq == 1 && f.res[i].irq[0].gsi == 4 &&
		      f.res[i].irq[0].flags == 0 && f.res[i].nio == 1,
	      "COM1: IRQNoFlags {4} (edge, high) and one I/O range");
	d = by_path(&f, "\\_SB_.GED_", &i);
	CHECK(d && strcmp(d->hid, "ACPI0013") == 0 && !d->incomplete,
	      "GED read past its OperationRegion, Field and Method");
	CHECK(d && f.res_err[i] == 0 && f.res[i].nirq == 1 && f.res[i].irq[0].gsi == 9 &&
		      f.res[i].irq[0].flags == 0,
	      "GED: edge interrupt 9");
	d = by_path(&f, "\\_SB_.PWRB", NULL);
	CHECK(d && !d->has_sta && !d->crs, "PWRB: Method _STA not evaluated, no _CRS");

	/* Every truncation: no crash, never more devices than the whole. */
	bool sane = true;
	for (size_t cut = HDR; cut < len; cut++) {
		struct found g = {0};
		n = aml_walk_devices(t + HDR, cut - HDR, collect, &g);
		if (n < 0 || n > 8)
			sane = false;
	}
	CHECK(sane, "every truncation of the DSDT walks safely");
	/* Every byte set to each of a few values that mean something. */
	static const uint8_t vals[] = {0x00, 0x08, 0x10, 0x11, 0x5b, 0x82, 0x86, 0x89, 0xff, 0x7f};
	sane = true;
	for (size_t pos = HDR; pos < len; pos++) {
		uint8_t saved = t[pos];
		for (size_t v = 0; v < sizeof vals; v++) {
			struct found g = {0};
			t[pos] = vals[v];
			n = aml_walk_devices(t + HDR, len - HDR, collect, &g);
			if (n > 32)
				sane = false;
		}
		t[pos] = saved;
	}
	CHECK(sane, "every single-byte corruption of the DSDT walks safely");
	free(t);

	/* -M microvm,ioapic2=off, one virtio-rng-device: GSI 16 + slot. */
	memset(&f, 0, sizeof f);
	t = load_data_file("microvm-ioapic2off-dsdt-rng.dat", &len);
	if (!CHECK(t && len > HDR, "recorded microvm,ioapic2=off DSDT loads"))
		return;
	n = aml_walk_devices(t + HDR, len - HDR, collect, &f);
	CHECK(n == 6, "6 devices in the ioapic2=off DSDT (got %d)", n);
	check_transport(&f, 7, 23);
	free(t);
}

/* ---- hand-made AML ---- */

struct aml_buf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct aml_buf *a, const void *p, size_t n)
{
	memcpy(a->b + a->n, p, n);
	a->n += n;
}

static void put1(struct aml_buf *a, uint8_t v)
{
	a->b[a->n++] = v;
}

/* Encodes a PkgLength for `body` bytes that follow it; uses `force` bytes
 * of encoding (1-4) so multi-byte forms get exercised. */
static void put_pkg(struct aml_buf *a, size_t body, unsigned force)
{
	size_t len = body + force;

	if (force == 1) {
		put1(a, (uint8_t)len);
		return;
	}
	put1(a, (uint8_t)(((force - 1) << 6) | (len & 0x0f)));
	for (unsigned i = 1; i < force; i++)
		put1(a, (uint8_t)(len >> (4 + 8 * (i - 1))));
}

/* Wraps `body` as opcode(s) + PkgLength + body. */
static void put_pkg_obj(struct aml_buf *a, const uint8_t *op, size_t oplen,
			const struct aml_buf *body, unsigned force)
{
	put(a, op, oplen);
	put_pkg(a, body->n, force);
	put(a, body->b, body->n);
}

static void name_str(struct aml_buf *a, const char seg[4], const char *s)
{
	put1(a, 0x08);
	put(a, seg, 4);
	put1(a, 0x0d);
	put(a, s, strlen(s) + 1);
}

static void name_int(struct aml_buf *a, const char seg[4], uint32_t v)
{
	put1(a, 0x08);
	put(a, seg, 4);
	put1(a, 0x0c);
	put(a, &v, 4);
}

/* Name(_CRS, ResourceTemplate{Memory32Fixed(base, 0x200), Interrupt(gsi)}) */
static void name_crs(struct aml_buf *a, uint32_t base, uint32_t gsi, uint8_t irqflags)
{
	struct aml_buf buf = {0}, rt = {0};
	uint32_t size = 0x200;

	put1(&rt, 0x86);
	put1(&rt, 9);
	put1(&rt, 0);
	put1(&rt, 1);
	put(&rt, &base, 4);
	put(&rt, &size, 4);
	put1(&rt, 0x89);
	put1(&rt, 6);
	put1(&rt, 0);
	put1(&rt, irqflags);
	put1(&rt, 1);
	put(&rt, &gsi, 4);
	put1(&rt, 0x79);
	put1(&rt, 0);
	put1(&buf, 0x0a);
	put1(&buf, (uint8_t)rt.n);
	put(&buf, rt.b, rt.n);
	put1(a, 0x08);
	put(a, "_CRS", 4);
	put_pkg_obj(a, (const uint8_t[]){0x11}, 1, &buf, 2);
}

static void device(struct aml_buf *a, const char seg[4], const struct aml_buf *body, unsigned force)
{
	struct aml_buf named = {0};

	put(&named, seg, 4);
	put(&named, body->b, body->n);
	put_pkg_obj(a, (const uint8_t[]){0x5b, 0x82}, 2, &named, force);
}

static void test_handmade(void)
{
	struct aml_buf top = {0}, sb = {0}, d0 = {0}, d1 = {0}, d2 = {0}, d3 = {0}, inner = {0};
	struct aml_buf sbnamed = {0};
	struct found f = {0};
	const struct aml_device *d;
	unsigned i;
	int n;

	/* VR00: a transport, 3-byte PkgLength, level/high. */
	name_str(&d0, "_HID", "LNRO0005");
	name_int(&d0, "_UID", 0);
	name_crs(&d0, 0xd0000000, 5, 0x01);
	device(&sb, "VR00", &d0, 3);

	/* VR01: edge, active low, shared, _STA 0 (absent), 4-byte
	 * PkgLength; a Method _DSM before its names is skipped. */
	put1(&d1, 0x14);
	put_pkg(&d1, 6, 1);
	put(&d1, "_DSM", 4);
	put1(&d1, 0x04);
	put1(&d1, 0xa3); /* Noop inside the method: never parsed */
	name_str(&d1, "_HID", "LNRO0005");
	name_int(&d1, "_STA", 0);
	name_crs(&d1, 0xd0000200, 6, 0x01 | 0x02 | 0x04 | 0x08);
	device(&sb, "VR01", &d1, 4);

	/* BAD0: an opcode the reader cannot size (Noop 0xa3 at device
	 * level) after _HID: the device is reported incomplete, without the
	 * _CRS that follows it. */
	name_str(&d2, "_HID", "LNRO0005");
	put1(&d2, 0xa3);
	name_crs(&d2, 0xd0000400, 7, 0x01);
	device(&sb, "BAD0", &d2, 1);

	/* PAR0 containing KID0 whose _HID is an EISA id, and whose _UID uses
	 * a parent prefix path (^KID0 resolves to PAR0's sibling: here only
	 * to check the path logic does not break). */
	{
		uint32_t eisa = 0x0105d041; /* EISAID("PNP0501") */
		name_int(&inner, "_HID", eisa);
	}
	device(&d3, "KID0", &inner, 1);
	device(&sb, "PAR0", &d3, 2);

	put(&sbnamed, "\\_SB_", 5);
	put(&sbnamed, sb.b, sb.n);
	put_pkg_obj(&top, (const uint8_t[]){0x10}, 1, &sbnamed, 2);
	/* A device declared with a root path and a dual name outside any
	 * scope. */
	{
		struct aml_buf body = {0}, named = {0};

		name_str(&body, "_HID", "LNRO0005");
		name_crs(&body, 0xd0000600, 9, 0x01);
		put1(&named, '\\');
		put1(&named, 0x2e);
		put(&named, "_SB_VR03", 8);
		put(&named, body.b, body.n);
		put_pkg_obj(&top, (const uint8_t[]){0x5b, 0x82}, 2, &named, 1);
	}

	n = aml_walk_devices(top.b, top.n, collect, &f);
	CHECK(n == 6, "6 hand-made devices found (got %d)", n);

	d = by_path(&f, "\\_SB_.VR00", &i);
	CHECK(d && strcmp(d->hid, "LNRO0005") == 0 && d->has_uid && d->uid == 0 &&
		      f.res_err[i] == 0 && f.res[i].mem[0].base == 0xd0000000 &&
		      f.res[i].irq[0].gsi == 5 && f.res[i].irq[0].flags == AML_IRQ_LEVEL,
	      "VR00: 3-byte PkgLength, window and level GSI 5");
	d = by_path(&f, "\\_SB_.VR01", &i);
	CHECK(d && d->has_sta && d->sta == 0 && !d->incomplete, "VR01: _STA 0 after a Method");
	CHECK(d && f.res_err[i] == 0 &&
		      f.res[i].irq[0].flags == (AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED),
	      "VR01: edge, active low, shared (flags %#x)", d ? f.res[i].irq[0].flags : 0);
	d = by_path(&f, "\\_SB_.BAD0", NULL);
	CHECK(d && d->incomplete && strcmp(d->hid, "LNRO0005") == 0 && !d->crs,
	      "BAD0: incomplete, _HID kept, _CRS after the unknown opcode not seen");
	d = by_path(&f, "\\_SB_.PAR0.KID0", NULL);
	CHECK(d && strcmp(d->hid, "PNP0501") == 0, "nested PAR0.KID0 with EISA id PNP0501 (%s)",
	      d ? d->hid : "-");
	CHECK(by_path(&f, "\\_SB_.PAR0", NULL) != NULL, "PAR0 reported after its child");
	d = by_path(&f, "\\_SB_.VR03", &i);
	CHECK(d && f.res_err[i] == 0 && f.res[i].mem[0].base == 0xd0000600,
	      "root + dual-name path \\_SB_.VR03");

	/* The callback stops the walk with its value. */
	struct aml_buf one = {0};
	device(&one, "VR00", &d0, 1);
	CHECK(aml_walk_devices(one.b, one.n, NULL, NULL) < 0, "no callback: -EINVAL");

	/* A PkgLength running past the end of the block. */
	uint8_t past[] = {0x10, 0x3f, '_', 'S', 'B', '_'};
	memset(&f, 0, sizeof f);
	CHECK(aml_walk_devices(past, sizeof past, collect, &f) == 0 && f.n == 0,
	      "Scope whose PkgLength overruns the block: nothing found, no crash");
}

static int stop_at_first(const struct aml_device *dev, void *ctx)
{
	(*(unsigned *)ctx)++;
	return 42;
}

static void test_stop(void)
{
	uint8_t *t;
	size_t len;
	unsigned calls = 0;

	t = load_data_file("microvm-dsdt-2rng-blk.dat", &len);
	if (!t)
		return;
	CHECK(aml_walk_devices(t + HDR, len - HDR, stop_at_first, &calls) == 42 && calls == 1,
	      "a non-zero callback return stops the walk and is returned");
	free(t);
}

/* ---- resource templates ---- */

static void test_resources(void)
{
	struct aml_resources r;
	/* IRQ(Level, ActiveLow, Shared){3,10} ; IO ; Memory32(min=max) ;
	 * a QWord space (counted as other) ; End. */
	const uint8_t rt[] = {
		0x23, 0x08, 0x04, 0x18,				/* IRQ 3, 10 level low shared */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08, /* IO 0x3f8 */
		0x85, 0x11, 0x00, 0x01, 0x00, 0x00, 0xc0, 0xfe, /* Memory32 RW min */
		0x00, 0x00, 0xc0, 0xfe, 0x00, 0x10, 0x00, 0x00, /* max, align */
		0x00, 0x10, 0x00, 0x00,				/* length 0x1000 */
		0x8a, 0x03, 0x00, 0x01, 0x02, 0x03,		/* a large item we skip */
		0x89, 0x0a, 0x00, 0x00, 0x02, 0x20, 0,	  0,	0, 0x21, 0, 0, 0, /* producer */
		0x79, 0x00,
	};

	CHECK(aml_parse_resources(rt, sizeof rt, &r) == 0, "mixed template decodes");
	CHECK(r.nirq == 2 && r.irq[0].gsi == 3 && r.irq[1].gsi == 10 &&
		      r.irq[0].flags == (AML_IRQ_LEVEL | AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED),
	      "IRQ descriptor: ISA IRQs 3 and 10, level, low, shared");
	CHECK(r.nio == 1, "one I/O range counted");
	CHECK(r.nmem == 1 && r.mem[0].base == 0xfec00000 && r.mem[0].len == 0x1000,
	      "Memory32 with min == max kept");
	CHECK(r.nother == 2, "the skipped large item and the producer interrupt counted (%u)",
	      r.nother);

	const uint8_t no_end[] = {0x22, 0x10, 0x00};
	CHECK(aml_parse_resources(no_end, sizeof no_end, &r) < 0, "missing End Tag refused");
	const uint8_t short_mem[] = {0x86, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0x79, 0};
	CHECK(aml_parse_resources(short_mem, sizeof short_mem, &r) < 0,
	      "Memory32Fixed with 5 bytes refused");
	const uint8_t overrun[] = {0x86, 0x09, 0x00, 0x01, 0, 0};
	CHECK(aml_parse_resources(overrun, sizeof overrun, &r) < 0,
	      "descriptor longer than the template refused");
	const uint8_t zero_irqs[] = {0x89, 0x02, 0x00, 0x01, 0x00, 0x79, 0};
	CHECK(aml_parse_resources(zero_irqs, sizeof zero_irqs, &r) < 0,
	      "Extended Interrupt with no interrupts refused");
	const uint8_t too_many[] = {0x89, 0x06, 0x00, 0x01, 0x02, 5, 0, 0, 0, 0x79, 0};
	CHECK(aml_parse_resources(too_many, sizeof too_many, &r) < 0,
	      "Extended Interrupt count larger than its length refused");
	const uint8_t short_irq[] = {0x21, 0x10, 0x79, 0};
	CHECK(aml_parse_resources(short_irq, sizeof short_irq, &r) < 0,
	      "IRQ descriptor with 1 byte refused");
	CHECK(aml_parse_resources(rt, 0, &r) < 0, "empty template refused");
}

static void test_eisaid(void)
{
	char s[8];

	aml_eisaid_to_str(0x0105d041, s);
	CHECK(strcmp(s, "PNP0501") == 0, "EISAID 0x0105d041 is PNP0501 (%s)", s);
	aml_eisaid_to_str(0x030ad041, s);
	CHECK(strcmp(s, "PNP0A03") == 0, "EISAID 0x030ad041 is PNP0A03 (%s)", s);
}

/* ---- one name by its path, and packages ---- */

static void test_find_name(void)
{
	const uint8_t *obj;
	size_t olen, len;
	struct aml_package pkg;
	uint8_t *t;

	t = load_data_file("microvm-dsdt-2rng-blk.dat", &len);
	if (!CHECK(t != NULL, "recorded microvm DSDT loads"))
		return;
	CHECK(aml_find_name(t + HDR, len - HDR, "\\_SB_.VR23._UID", &obj, &olen) == 0 &&
		      olen == 2 && obj[0] == 0x0a && obj[1] == 23,
	      "a name inside a device: \\_SB_.VR23._UID is ByteConst 23");
	CHECK(aml_find_name(t + HDR, len - HDR, "\\_SB_.VR99._UID", &obj, &olen) == -ENOENT,
	      "a name that is not there: -ENOENT");
	CHECK(aml_find_name(t + HDR, len - HDR, "_S5_", &obj, &olen) == -EINVAL,
	      "a relative path: -EINVAL");
	CHECK(aml_find_name(t + HDR, len - HDR, "\\_S5_", &obj, &olen) == 0 &&
		      aml_parse_package(obj, olen, &pkg) == 0 && pkg.declared == 4 &&
		      pkg.nelems == 4 && pkg.elem[0].is_int && pkg.elem[0].value == 5 &&
		      pkg.elem[1].is_int && pkg.elem[1].value == 0,
	      "\\_S5_ inside Scope(\\): Package(4){5, 0, 0, 0}");
	free(t);

	/* Package(9){Package(1){One}, "s", Buffer, \_SB_, 7, 0x1234,
	 * 0x12345678, Ones, Zero}: everything sized, integers decoded, and
	 * only AML_PKG_MAX elements kept. */
	const uint8_t mixed[] = {0x12, 0x1e, 0x09, 0x12, 0x03, 0x01, 0x01, 0x0d, 's',  0x00, 0x11,
				 0x04, 0x0a, 0x01, 0xaa, 0x5c, '_',  'S',  'B',	 '_',  0x0a, 0x07,
				 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56, 0x34, 0x12, 0xff, 0x00};
	int err = aml_parse_package(mixed, sizeof mixed, &pkg);
	CHECK(err == 0 && pkg.declared == 9 && pkg.nelems == AML_PKG_MAX && !pkg.unreadable,
	      "mixed package: %u of %u elements read", pkg.nelems, pkg.declared);
	CHECK(!pkg.elem[0].is_int && pkg.elem[0].opcode == 0x12 && !pkg.elem[1].is_int &&
		      pkg.elem[1].opcode == 0x0d && !pkg.elem[2].is_int && !pkg.elem[3].is_int &&
		      pkg.elem[3].opcode == 0x5c,
	      "package, string, buffer and name elements are skipped, not integers");
	CHECK(pkg.elem[4].value == 7 && pkg.elem[5].value == 0x1234 &&
		      pkg.elem[6].value == 0x12345678 && pkg.elem[7].value == ~0ull,
	      "Byte, Word, DWord constants and Ones");
	const uint8_t cut[] = {0x12, 0x05, 0x02, 0x0c, 0x01, 0x02};
	CHECK(aml_parse_package(cut, sizeof cut, &pkg) == 0 && pkg.unreadable && pkg.nelems == 1 &&
		      pkg.elem[0].opcode == 0x0c,
	      "a DWordConst cut off by the PkgLength: unreadable element 0");
	const uint8_t over[] = {0x12, 0x08, 0x02, 0x00};
	CHECK(aml_parse_package(over, sizeof over, &pkg) == -EINVAL,
	      "a PkgLength past the buffer: -EINVAL");
	CHECK(aml_parse_package(mixed + 1, sizeof mixed - 1, &pkg) == -EINVAL,
	      "not a package: -EINVAL");
	CHECK(aml_parse_package(mixed, 0, &pkg) == -EINVAL, "empty: -EINVAL");
}

int main(void)
{
	test_recorded();
	test_handmade();
	test_stop();
	test_resources();
	test_eisaid();
	test_find_name();
	return tap_done();
}
