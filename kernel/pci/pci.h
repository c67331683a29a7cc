/*
 * The PCI bus (PCI Local Bus Specification 3.0, PCI Express Base 4.0
 * section 7): configuration space access, enumeration, BARs, capabilities,
 * MSI and MSI-X, and a small driver registry so bus drivers (virtio-pci)
 * bind to the functions they serve.
 *
 *   pci.c       config access (ports 0xCF8/0xCFC, ECAM from ACPI MCFG), the
 *               scan through bridges, the listing, `lspci`, test=pci
 *   pci_caps.c  BAR decoding and sizing, the capability list, names; it only
 *               uses pci_read*() / pci_write*(), so the host tests run it
 *               on recorded config-space images
 *   pci_msi.c   MSI-X and MSI programming
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

/* ---- Configuration space access (pci.c in the kernel; the host tests
 * provide their own over recorded images). `off` is within 0..4095. ---- */
uint8_t pci_read8(const struct pci_dev *pdev, unsigned off);
uint16_t pci_read16(const struct pci_dev *pdev, unsigned off);
uint32_t pci_read32(const struct pci_dev *pdev, unsigned off);
void pci_write8(const struct pci_dev *pdev, unsigned off, uint8_t v);
void pci_write16(const struct pci_dev *pdev, unsigned off, uint16_t v);
void pci_write32(const struct pci_dev *pdev, unsigned off, uint32_t v);

/* ---- pci_caps.c ---- */
/* Reads the ids, class, interrupt registers, and decodes and sizes every
 * BAR (decoding is switched off meanwhile, PCI 3.0 6.2.5.1), and finds the
 * MSI / MSI-X capabilities. The caller filled segment/bus/dev/fn. */
void pci_read_header(struct pci_dev *pdev);
/* Decodes the BAR at index `i` into `bar`; returns how many BAR registers
 * it takes (2 for a 64-bit BAR, else 1). */
unsigned pci_size_bar(struct pci_dev *pdev, unsigned i, struct pci_bar *bar);
/* Offset of the first capability with `id` after the one at `prev` (0:
 * from the start), or 0. Survives loops and bad pointers. */
uint8_t pci_find_next_capability(const struct pci_dev *pdev, uint8_t prev, uint8_t id);
static inline uint8_t pci_find_capability(const struct pci_dev *pdev, uint8_t id)
{
	return pci_find_next_capability(pdev, 0, id);
}
/* "network", "bridge", ... for the listing. */
const char *pci_class_name(uint8_t class, uint8_t subclass);
/* One-line description ("00:03.0 1af4:1005 ...") and BARs line. */
int pci_format(const struct pci_dev *pdev, char *buf, size_t size);
int pci_format_bars(const struct pci_dev *pdev, char *buf, size_t size);

/* ---- pci.c ---- */
/* Sets the bits in the command register (PCI_COMMAND_MEMORY, ...). */
void pci_enable(struct pci_dev *pdev, uint16_t command_bits);
/* Maps a memory BAR (ioremap); NULL for an I/O or unassigned BAR. */
volatile void *pci_map_bar(struct pci_dev *pdev, unsigned i);
/* Registers a driver and probes it on every unbound function; functions
 * found later (none: the scan runs once) would be offered too. */
int pci_register_driver(struct pci_driver *drv);
/* Iterate over the functions found (NULL starts). */
struct pci_dev *pci_next(struct pci_dev *prev);
unsigned pci_count(void);
/* "00:03.0" into buf (at least 13 bytes); returns buf. */
const char *pci_name(const struct pci_dev *pdev, char *buf);
/* The GSI the function's INTx pin reaches through the IOAPIC, as the
 * firmware routed it (interrupt line register, ACPI MADT overrides), and
 * the request_irq() flags for it (level, polarity, shared). 0, or -ENODEV
 * when the function has no pin or the firmware did not connect it. */
int pci_intx_gsi(const struct pci_dev *pdev, unsigned *gsi, unsigned *flags);

/* ---- pci_msi.c ---- */
#define PCI_MSIX_MAX_VECTORS 64
/* Enables MSI-X with every table entry masked; the function no longer
 * uses INTx. 0 or a negative errno (-ENODEV without the capability,
 * -EBUSY while MSI is on). pci_msix_disable() puts INTx Disable back. */
int pci_msix_enable(struct pci_dev *pdev);
void pci_msix_disable(struct pci_dev *pdev);
/* Points table entry `entry` at CPU `vector` (from request_msi_vector) and
 * unmasks it. 0 or -EINVAL for an entry past the table. */
int pci_msix_set_vector(struct pci_dev *pdev, unsigned entry, int vector);
void pci_msix_mask(struct pci_dev *pdev, unsigned entry, bool masked);
/* Enables MSI with one message (Multiple Message Enable = 0) delivered as
 * CPU `vector`, turns on bus mastering (the message is a memory write) and
 * INTx Disable. 0, -ENODEV without the capability, -EBUSY while MSI-X is
 * on, -EINVAL for a vector outside 0x20-0xff or an address the function
 * cannot hold, -EIO if the enable bit does not stick. */
int pci_msi_enable(struct pci_dev *pdev, int vector);
/* Turns MSI off (masking the message where the function can) and puts the
 * INTx Disable bit back as it was before pci_msi_enable(). */
void pci_msi_disable(struct pci_dev *pdev);

#endif
