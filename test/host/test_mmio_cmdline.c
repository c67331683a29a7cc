/*
 * Host unit test for the `virtio_mmio.device=<size>@<baseaddr>:<irq>[:<id>]`
 * parser (virtio/transport/mmio_cmdline.c), the Linux syntax QEMU microvm (acpi=off)
 * and Firecracker put on the kernel command line: good entries in every
 * accepted spelling, each kind of bad entry refused with a reason, and
 * repeated keys read back through kernel/lib/cmdline.c as discovery does.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/lib/cmdline.h"
#include "test/host/tap.h"
#include "virtio/transport/mmio_cmdline.h"

CMDLINE_OPTION(vmmio, .key = "virtio_mmio.device", .type = CMDLINE_STRING, .repeat = true,
	       .help = "test: repeated key");
CMDLINE_OPTION(console, .key = "console", .type = CMDLINE_STRING, .help = "test: another key");

static void good(const char *text, uint64_t base, uint64_t size, unsigned gsi, long id)
{
	struct virtio_mmio_desc d;
	const char *why = "";
	int err = virtio_mmio_parse_device(text, &d, &why);

	if (!CHECK(err == 0, "'%s' accepted (got %d: %s)", text, err, why ? why : ""))
		return;
	CHECK(d.base == base && d.size == size && d.gsi == gsi && d.id == id,
	      "'%s' -> base %#llx size %#llx gsi %u id %ld", text, (unsigned long long)d.base,
	      (unsigned long long)d.size, d.gsi, d.id);
	CHECK(d.from == VIRTIO_MMIO_FROM_CMDLINE && d.acpi_path[0] == '\0',
	      "'%s' marked as from the command line", text);
}

/* `reason` is a word the explanation must contain, so each class of
 * mistake gets its own message. */
static void bad(const char *text, const char *reason)
{
	struct virtio_mmio_desc d;
	const char *why = NULL;
	int err = virtio_mmio_parse_device(text, &d, &why);

	CHECK(err == -EINVAL && why && strstr(why, reason), "'%s' refused: %s (want '%s')", text,
	      why ? why : "(no reason)", reason);
}

int main(void)
{
	char longer[200];

	/* What QEMU microvm appends with acpi=off. */
	good("512@0xfeb00e00:12", 0xfeb00e00, 512, 12, -1);
	good("0x200@0xfeb00000:5", 0xfeb00000, 0x200, 5, -1);
	/* Firecracker style, with the optional platform id. */
	good("4K@0xd0000000:5:3", 0xd0000000, 4096, 5, 3);
	good("4k@0xd0001000:6:0", 0xd0001000, 4096, 6, 0);
	/* memparse suffixes on the base too, and decimal numbers. */
	good("1M@3G:40", 3ull << 30, 1 << 20, 40, -1);
	good("256@4275047936:47", 4275047936ull, 256, 47, -1);
	good("512@0x10000000000:9", 0x10000000000ull, 512, 9, -1);

	bad("12Q@0xfeb00000:5", "size");
	bad("@0xfeb00000:5", "size");
	bad("0@0xfeb00000:5", "size");
	bad("255@0xfeb00000:5", "size");
	bad("512@0xfeb0zz00:5", "base address");
	bad("512@:5", "base address");
	bad("512@0:5", "base address");
	bad("512@0xfeb00002:5", "base address");
	bad("512@0xfeb00000", "irq");
	bad("512@0xfeb00000:", "irq");
	bad("512@0xfeb00000:0", "irq");
	bad("512@0xfeb00000:x5", "irq");
	bad("512@0xfeb00000:256", "irq");
	bad("512@0xfeb00000:5:", "id");
	bad("512@0xfeb00000:5:abc", "id");
	bad("512:5", "'@'");
	bad("", "empty");
	bad("0x1000@0xfffffffffffff800:5", "wraps");
	memset(longer, '1', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	bad(longer, "too long");

	/* Several entries on one command line, read the way discovery reads
	 * them: one good, three bad, one good. */
	CHECK(cmdline_parse("console=ttyS0 virtio_mmio.device=512@0xfeb00e00:12 "
			    "virtio_mmio.device=12Q@0xfeb00c00:11 "
			    "virtio_mmio.device=512@0xfeb0zz00:10 "
			    "virtio_mmio.device=512@0xfeb00800 "
			    "virtio_mmio.device=512@0xfeb00600:8:2") == 0,
	      "command line with five entries parses");
	{
		unsigned pos = 0, ngood = 0, nbad = 0;
		const char *v;
		uint64_t bases[2] = {0, 0};

		while ((v = cmdline_next("virtio_mmio.device", &pos))) {
			struct virtio_mmio_desc d;
			const char *why;

			if (virtio_mmio_parse_device(v, &d, &why) == 0) {
				if (ngood < 2)
					bases[ngood] = d.base;
				ngood++;
			} else {
				nbad++;
			}
		}
		CHECK(ngood == 2 && nbad == 3, "two good and three bad entries (%u, %u)", ngood,
		      nbad);
		CHECK(bases[0] == 0xfeb00e00 && bases[1] == 0xfeb00600,
		      "good entries in command-line order");
	}
	return tap_done();
}
