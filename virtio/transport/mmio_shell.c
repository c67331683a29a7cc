/*
 * The shell's `mmio` command: every virtio-mmio transport found (virtio 1.2
 * section 4.2), where it was described, its state, and its interrupts.
 */
#include <stdio.h>

#include "kernel/shell/shell.h"
#include "virtio/transport/mmio.h"
#include "virtio/transport/mmio_devices.h"

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
