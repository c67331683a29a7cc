/*
 * The PCI bus (PCI Local Bus Specification 3.0, PCI Express Base 4.0
 * section 7) as this kernel knows it: the configuration header's registers
 * and the struct pci_dev every part of kernel/pci/ fills in. The parts, each
 * with its own header, bottom up:
 *
 *   pci_config.c  configuration access (ports 0xCF8/0xCFC, ECAM from the
 *                 ACPI MCFG), and setting command-register bits
 *   pci_caps.c    BAR decoding and sizing, the capability list, names; it
 *                 only uses pci_read*() / pci_write*(), so the host tests
 *                 run it on recorded config-space images
 *   pci_msi.c     MSI-X and MSI programming
 *   pci_bus.c     the scan through bridges and the driver registry, so bus
 *                 drivers (virtio-pci) bind to the functions they serve
 *   pci_shell.c   `lspci`
 */
#ifndef KERNEL_PCI_PCI_H
#define KERNEL_PCI_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Type 0 / type 1 configuration header registers (PCI 3.0 6.1, 6.2). */
#define PCI_VENDOR_ID	    0x00
#define PCI_DEVICE_ID	    0x02
#define PCI_COMMAND	    0x04
#define PCI_STATUS	    0x06
#define PCI_REVISION_ID	    0x08
#define PCI_PROG_IF	    0x09
#define PCI_SUBCLASS	    0x0a
#define PCI_CLASS	    0x0b
#define PCI_HEADER_TYPE	    0x0e
#define PCI_BAR0	    0x10
#define PCI_PRIMARY_BUS	    0x18 /* type 1 */
#define PCI_SECONDARY_BUS   0x19 /* type 1 */
#define PCI_SUBORDINATE_BUS 0x1a /* type 1 */
#define PCI_SUBSYS_VENDOR   0x2c /* type 0 */
#define PCI_SUBSYS_ID	    0x2e /* type 0 */
#define PCI_CAP_PTR	    0x34
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d

#define PCI_COMMAND_IO		 (1u << 0)
#define PCI_COMMAND_MEMORY	 (1u << 1)
#define PCI_COMMAND_MASTER	 (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_INTERRUPT	 (1u << 3) /* the function asserts INTx */
#define PCI_STATUS_CAP_LIST	 (1u << 4)
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_HEADER_TYPE_MASK	 0x7f

/* Capability ids (PCI 3.0 appendix H). */
#define PCI_CAP_ID_MSI	  0x05
#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_EXP	  0x10
#define PCI_CAP_ID_MSIX	  0x11

/* MSI capability layout (PCI 3.0 6.8.1): Message Control's read-only bits
 * 7 (64-bit address capable) and 8 (per-vector masking capable) decide
 * where the data and the mask bits are. */
#define PCI_MSI_CTRL	     2
#define PCI_MSI_CTRL_ENABLE  (1u << 0)
#define PCI_MSI_CTRL_MMC     (7u << 1) /* multiple message capable */
#define PCI_MSI_CTRL_MME     (7u << 4) /* multiple message enable */
#define PCI_MSI_CTRL_64BIT   (1u << 7)
#define PCI_MSI_CTRL_MASKBIT (1u << 8)
#define PCI_MSI_ADDR_LO	     4
#define PCI_MSI_ADDR_HI	     8 /* 64-bit capable functions only */
#define PCI_MSI_DATA_32	     8 /* 16 bits */
#define PCI_MSI_MASK_32	     12
#define PCI_MSI_DATA_64	     12
#define PCI_MSI_MASK_64	     16

enum pci_bar_type {
	PCI_BAR_NONE = 0, /* not implemented (reads back 0) */
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* occupies this BAR and the next */
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetchable;
	uint64_t addr; /* as the firmware assigned it; 0 = unassigned */
	uint64_t size;
};

struct pci_dev;

/* A driver for PCI functions (virtio-pci is one). */
struct pci_driver {
	const char *name;
	bool (*match)(const struct pci_dev *pdev);
	/* 0 when the driver took the function, else a negative errno. */
	int (*probe)(struct pci_dev *pdev);
	struct pci_driver *next;
};

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_id; /* type 0 headers only */
	uint8_t class, subclass, prog_if, revision;
	uint8_t header_type;	   /* without the multifunction bit */
	uint8_t irq_line, irq_pin; /* pin 0 = none, 1 = INTA ... */
	unsigned nbars;		   /* 6 (type 0), 2 (type 1), 0 */
	struct pci_bar bar[6];
	uint8_t msi_cap, msix_cap;    /* capability offsets, 0 = absent */
	uint16_t msix_size;	      /* MSI-X table entries */
	volatile uint8_t *msix_table; /* mapped while MSI-X is in use */
	bool msix_enabled, msi_enabled;
	int msi_vector; /* the CPU vector MSI delivers, when enabled */
	/* The command register's INTx Disable bit before MSI or MSI-X turned
	 * it on, put back when they are turned off. */
	bool intx_disable_saved;
	struct pci_driver *driver;
	const char *driver_note; /* what the driver says about the binding */
	struct pci_dev *next;	 /* in scan order */
};

#endif
