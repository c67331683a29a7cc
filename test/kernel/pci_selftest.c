/*
 * `test=pci`: the enumeration of kernel/pci/pci_bus.c found functions (as
 * many as pci.expect= says QEMU was given, when set), and every BAR it sized
 * has a power-of-two size and an address aligned to it (PCI 3.0 6.2.5.1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/lib/cmdline.h"
#include "kernel/pci/pci_bus.h"
#include "kernel/pci/pci_config.h"
#include "kernel/selftest/selftest.h"

CMDLINE_OPTION(pci_expect, .key = "pci.expect", .type = CMDLINE_U64,
	       .help = "test=pci: number of PCI functions the enumeration must find");

static void selftest_pci(void)
{
	uint64_t expect = cmdline_u64("pci.expect");
	unsigned bridges = 0;

	check(pci_count() > 0, "pci: enumeration found %u functions", pci_count());
	if (cmdline_given("pci.expect"))
		check(pci_count() == expect, "pci: found %u functions, pci.expect=%llu",
		      pci_count(), (unsigned long long)expect);
	for (struct pci_dev *pdev = pci_next(NULL); pdev; pdev = pci_next(pdev)) {
		if (pdev->header_type == 1)
			bridges++;
		/* Every implemented BAR has a power-of-two size and an address
		 * aligned to it (6.2.5.1): sizing went right. */
		for (unsigned i = 0; i < pdev->nbars; i++) {
			const struct pci_bar *b = &pdev->bar[i];
			if (b->type == PCI_BAR_NONE)
				continue;
			bool pow2 = b->size && !(b->size & (b->size - 1));
			if (!pow2 || (b->addr & (b->size - 1)))
				check(false,
				      "pci: %02x:%02x.%x BAR%u addr 0x%llx size 0x%llx: "
				      "expected a power-of-two size and aligned address",
				      pdev->bus, pdev->dev, pdev->fn, i,
				      (unsigned long long)b->addr, (unsigned long long)b->size);
		}
	}
	printf("pci: %u bridges, %s\n", bridges,
	       pci_config_uses_ecam() ? "ECAM" : "ports 0xCF8/0xCFC");
}
SELFTEST(pci, selftest_pci);
