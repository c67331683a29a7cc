/*
 * A small reader for the part of ACPI Machine Language (ACPI 6.5 chapter
 * 20, "ACPI Machine Language Specification") that static device
 * descriptions use. The resource templates a device's _CRS holds (ACPI 6.5
 * section 6.4) are decoded by aml_resources.h.
 *
 * It is not an interpreter: it walks the definition blocks of the DSDT or an
 * SSDT, finds Device() objects and the constant Name() objects inside them
 * (_HID, _CID, _UID, _STA, _CRS), and hands each device to a callback. That
 * is enough for the virtio-mmio transports QEMU's microvm and Firecracker
 * describe (_HID "LNRO0005" with a constant _CRS). The same walk finds
 * one constant Name() by its path and decodes a Package of integers, which
 * is what the \_S5 sleep-type package needs (kernel/acpi/acpi_s5.c). See aml.c
 * for what it does not handle.
 *
 * Pure functions over a byte buffer, so test/host/test_aml.c runs them on
 * recorded and hand-made tables.
 */
#ifndef KERNEL_ACPI_AML_H
#define KERNEL_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_PATH_MAX 64
#define AML_ID_MAX   16 /* "LNRO0005", "PNP0501" (from an EISA id) */

/* One Device() as far as constant Name() objects describe it. */
struct aml_device {
	char path[AML_PATH_MAX]; /* "\_SB_.VR23" */
	char hid[AML_ID_MAX];	 /* "" when there is no constant _HID */
	char cid[AML_ID_MAX];	 /* first _CID, "" when none */
	bool has_uid;
	uint64_t uid;
	bool has_sta;	    /* a constant _STA (a Method _STA is not evaluated) */
	uint64_t sta;	    /* bit 0: present (6.3.7) */
	const uint8_t *crs; /* the _CRS buffer's bytes, NULL when none */
	size_t crs_len;
	bool incomplete; /* the body held something the reader cannot skip */
};

/* Called for every device, after its body was read. Return 0 to go on,
 * anything else stops the walk and is returned by aml_walk_devices(). */
typedef int (*aml_device_fn)(const struct aml_device *dev, void *ctx);

/*
 * Walks the AML of one definition block: `aml` points just after the
 * 36-byte table header, `len` is the table length minus the header.
 * Returns the number of devices reported, the callback's non-zero value,
 * or -EINVAL if the block is malformed at its top level. Constructs it
 * cannot skip are reported once with pr_warn and the rest of the
 * enclosing Scope or Device is skipped (its length is known).
 */
int aml_walk_devices(const uint8_t *aml, size_t len, aml_device_fn fn, void *ctx);

/*
 * Finds the Name() object at the absolute `path` ("\_S5_", segments of four
 * characters joined by '.') among the names the device walk sees: in the
 * root, in Scope()s and in Device()s, not inside Method, If/Else or
 * Processor/PowerResource/ThermalZone bodies (see aml.c). On success
 * `*obj` points at the value's first byte (its opcode) and `*obj_len` is its
 * size. Returns 0; -ENOENT when no such name was seen; -EINVAL for bad
 * arguments or a value the reader cannot size (then `*obj` still points at
 * it and `*obj_len` reaches to the end of the block). Prints nothing.
 */
int aml_find_name(const uint8_t *aml, size_t len, const char *path, const uint8_t **obj,
		  size_t *obj_len);

#define AML_PKG_MAX 8

/* A constant Package as far as its first AML_PKG_MAX elements go. */
struct aml_package {
	unsigned declared; /* NumElements (at most 255) */
	unsigned nelems;   /* elements present in the initializer, as far as read */
	bool unreadable;   /* reading stopped at elem[nelems - 1]: it cannot be sized */
	struct aml_pkg_elem {
		bool is_int; /* Zero/One/Ones or a Byte/Word/DWord/QWord constant */
		uint64_t value;
		uint8_t opcode; /* the element's first byte, for messages */
	} elem[AML_PKG_MAX];
};

/* Decodes a Package or VarPackage (with a constant count) from the bytes
 * aml_find_name() handed out. Returns 0, or -EINVAL when `obj` is not a
 * package or its length runs past `len`. */
int aml_parse_package(const uint8_t *obj, size_t len, struct aml_package *pkg);

/* Decodes a compressed EISA id (the integer form of _HID, "PNP0501") into
 * 8 bytes of `out`. */
void aml_eisaid_to_str(uint32_t id, char out[8]);

#endif
