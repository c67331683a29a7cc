/*
 * The shell's `lspci` command: every function the scan found
 * (kernel/pci/pci_bus.c), its BARs and its driver; `lspci -x` adds the
 * first 256 bytes of configuration space.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/pci/pci_bus.h"
#include "kernel/pci/pci_caps.h"
#include "kernel/pci/pci_config.h"
#include "kernel/shell/shell.h"

/* `lspci -x`: the first 256 bytes of config space in the layout of Linux's
 * `lspci -x`, which is how test/host/data/ images were recorded. */
static void dump_config(const struct pci_dev *pdev)
{
	for (unsigned off = 0; off < 256; off += 16) {
		printf("%02x:", off);
		for (unsigned i = 0; i < 16; i++)
			printf(" %02x", pci_read8(pdev, off + i));
		printf("\n");
	}
}

static int cmd_lspci(int argc, char **argv)
{
	bool hex = argc > 1 && strcmp(argv[1], "-x") == 0;
	char line[200];

	if (argc > 1 && !hex) {
		printf("usage: lspci [-x]\n");
		return 1;
	}
	for (struct pci_dev *pdev = pci_next(NULL); pdev; pdev = pci_next(pdev)) {
		pci_format(pdev, line, sizeof(line));
		printf("%s\n", line);
		if (pci_format_bars(pdev, line, sizeof(line)) > 0)
			printf("        %s\n", line);
		if (pdev->driver)
			printf("        driver %s%s%s\n", pdev->driver->name,
			       pdev->driver_note ? ": " : "",
			       pdev->driver_note ? pdev->driver_note : "");
		if (hex)
			dump_config(pdev);
	}
	return 0;
}
SHELL_COMMAND(lspci, "lspci [-x]",
	      "list PCI functions, their BARs, interrupts and drivers (-x: config space)",
	      cmd_lspci);
