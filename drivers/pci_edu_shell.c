/*
 * The shell's `edu` command (drivers/pci_edu.c): interrupt counts, raising
 * interrupts on demand, the factorial unit, and switching between MSI and
 * INTx.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/pci_edu.h"
#include "kernel/console/console.h"
#include "kernel/shell/shell.h"

static void edu_print(const struct edu_dev *edu)
{
	printf("%s: edu v%u.%u, %s; MSI vector 0x%02x: %u interrupts; INTx GSI %d: %u "
	       "interrupts (%u for other devices); status 0x%08x\n",
	       edu->name, (unsigned)(edu->id >> 24), (unsigned)(edu->id >> 16) & 0xff,
	       edu_irq_mode_name(edu->mode), edu->msi_vector, edu->msi_irqs,
	       edu->intx_vector ? (int)edu->gsi : -1, edu->intx_irqs, edu->intx_other,
	       (unsigned)edu_read(edu, EDU_REG_IRQ_STATUS));
}

static int cmd_edu(int argc, char **argv)
{
	struct edu_dev *edu = edu_get(0);
	unsigned long n;
	int err;

	if (!edu) {
		printf("edu: no edu device (QEMU -device edu, PCI 1234:11e8)\n");
		return 1;
	}
	if (argc == 1) {
		for (unsigned i = 0; i < edu_count(); i++)
			edu_print(edu_get(i));
		return 0;
	}
	if (strcmp(argv[1], "raise") == 0 && argc <= 3) {
		unsigned got = 0;

		n = argc == 3 ? strtoul(argv[2], NULL, 0) : 1;
		if (n == 0 || n > 1000) {
			printf("edu raise: COUNT is 1-1000\n");
			return 1;
		}
		for (unsigned long i = 0; i < n && !console_interrupted(); i++) {
			/* A different bit each time, as the self-test does. */
			err = edu_raise_wait(edu, 1u << (8 + i % 24), EDU_DEFAULT_TIMEOUT_NS);
			if (err) {
				printf("edu raise: interrupt %lu did not arrive (%d)\n", i + 1,
				       err);
				break;
			}
			got++;
		}
		printf("edu raise: %u of %lu interrupts arrived by %s\n", got, n,
		       edu_irq_mode_name(edu->mode));
		return got == n ? 0 : 1;
	}
	if (strcmp(argv[1], "fact") == 0 && argc == 3) {
		uint32_t r;

		n = strtoul(argv[2], NULL, 0);
		err = edu_factorial(edu, (uint32_t)n, &r, EDU_DEFAULT_TIMEOUT_NS);
		if (err) {
			printf("edu fact: failed (%d)\n", err);
			return 1;
		}
		printf("%lu! = %u (mod 2^32)\n", n, (unsigned)r);
		return 0;
	}
	if (strcmp(argv[1], "mode") == 0 && argc == 3) {
		enum edu_irq_mode m = strcmp(argv[2], "msi") == 0    ? EDU_IRQ_MSI
				      : strcmp(argv[2], "intx") == 0 ? EDU_IRQ_INTX
								     : EDU_IRQ_NONE;
		if (m == EDU_IRQ_NONE) {
			printf("edu mode: msi or intx\n");
			return 1;
		}
		err = edu_set_irq_mode(edu, m);
		if (err) {
			printf("edu mode %s: failed (%d)\n", argv[2], err);
			return 1;
		}
		edu_print(edu);
		return 0;
	}
	printf("usage: edu [raise [COUNT] | fact N | mode msi|intx]\n");
	return 1;
}
SHELL_COMMAND(edu, "edu [raise [COUNT] | fact N | mode msi|intx]",
	      "QEMU edu device: counts, raise interrupts, factorial, MSI or INTx", cmd_edu);
