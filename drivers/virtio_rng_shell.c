/*
 * The shell's `rng N` command: N random bytes from the virtio entropy device
 * (drivers/virtio_rng.c), in hex.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "drivers/virtio_rng.h"
#include "kernel/shell/shell.h"

static int cmd_rng(int argc, char **argv)
{
	uint8_t buf[256];
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 16;
	int err;

	if (n <= 0 || n > (long)sizeof(buf)) {
		printf("rng: N must be 1..%u\n", (unsigned)sizeof(buf));
		return 1;
	}
	err = rng_read(buf, (size_t)n);
	if (err < 0) {
		printf("rng: read failed (%d)\n", err);
		return 1;
	}
	for (long i = 0; i < n; i++)
		printf("%02x%s", buf[i], (i % 32 == 31 || i == n - 1) ? "\n" : "");
	return 0;
}
SHELL_COMMAND(rng, "rng [N]", "print N (default 16) random bytes from virtio-rng", cmd_rng);
