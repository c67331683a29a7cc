/*
 * Host unit test for the physical-address checks every mapping goes through
 * (arch/x86_64/phys_range.c; Intel SDM vol. 3A 4.1.4, MAXPHYADDR), the
 * memory-map fit that runs before the allocator sees the map, and the
 * page-fault error-code decoder (arch/x86_64/page_fault.c; SDM 4.7).
 *
 * The two command-line values that used to crash the boot are here as
 * ranges: 512@0xffffffffffff0000 (2 MiB steps wrapped past 2^64 and ate
 * every page for page tables) and 512@0x100000000000 (beyond a 40-bit CPU:
 * a reserved-bit #PF on the first access).
 */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/boot/boot_info.h"
#include "arch/x86_64/page_fault.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/phys_range.h"
#include "test/host/tap.h"

static void verdict(uint64_t phys, uint64_t size, unsigned bits, enum phys_range_verdict want)
{
	enum phys_range_verdict got = phys_range_check(phys, size, bits);

	CHECK(got == want, "%#llx+%#llx at %u bits: %s (want: %s)", (unsigned long long)phys,
	      (unsigned long long)size, bits, phys_range_verdict_text(got),
	      phys_range_verdict_text(want));
}

static void test_checks(void)
{
	verdict(0xfeb00000, 0x200, 40, PHYS_RANGE_OK);
	verdict(0xffffffffffff0000ull, 512, 40, PHYS_RANGE_BEYOND);
	verdict(0xffffffffffff0000ull, 0x20000, 52, PHYS_RANGE_WRAPS);
	verdict(0x100000000000ull, 512, 40, PHYS_RANGE_BEYOND);
	verdict(0x100000000000ull, 512, 46, PHYS_RANGE_OK);
	/* The last byte below the limit is addressable; one more is not. */
	verdict((1ull << 40) - 512, 512, 40, PHYS_RANGE_OK);
	verdict((1ull << 40) - 512, 513, 40, PHYS_RANGE_BEYOND);
	verdict(0x1000, 0, 40, PHYS_RANGE_EMPTY);
	verdict(0, UINT64_MAX, 52, PHYS_RANGE_BEYOND);
	verdict(2, UINT64_MAX, 52, PHYS_RANGE_WRAPS);
	/* Ends exactly at 2^64 (phys + size == 0): beyond any real CPU. */
	verdict(0xfffffffffffff000ull, 0x1000, 52, PHYS_RANGE_BEYOND);
}

static void test_ioremap_refuses(void)
{
	/* test/host/shim/ioremap_host.c: the kernel's checks, 48 bits. */
	CHECK(ioremap(0xffffffffffff0000ull, 512) == NULL, "ioremap refuses a range past 48 bits");
	CHECK(ioremap(0xfffffffffffff000ull, 0x2000) == NULL, "ioremap refuses a range that wraps");
	CHECK(ioremap(0x1000, 0) == NULL, "ioremap refuses an empty range");
	CHECK(ioremap(0xfeb00000, 512) == (void *)0xfeb00000, "ioremap maps a good range");
}

static void test_memory_map_fit(void)
{
	struct mem_region map[] = {
		{.base = 0, .length = 0x9fc00, .type = MEM_USABLE},
		{.base = 0x100000, .length = 0x7ff00000, .type = MEM_USABLE},
		{.base = 0xffffff0000ull, .length = 0x20000, .type = MEM_USABLE}, /* crosses 2^40 */
		{.base = 0x100000000000ull, .length = 0x1000, .type = MEM_RESERVED},   /* beyond */
		{.base = 0xfffffffffffff000ull, .length = 0x2000, .type = MEM_USABLE}, /* wraps */
		{.base = 0xfee00000, .length = 0x1000, .type = MEM_RESERVED},
	};
	unsigned n = mem_map_fit(map, 6, 40);

	CHECK(n == 4, "two regions dropped, four kept (%u)", n);
	CHECK(map[0].base == 0 && map[1].base == 0x100000, "regions below the limit unchanged");
	CHECK(map[2].base == 0xffffff0000ull && map[2].length == 0x10000,
	      "crossing region cut at 2^40 (length %#llx)", (unsigned long long)map[2].length);
	CHECK(map[3].base == 0xfee00000 && map[3].type == MEM_RESERVED,
	      "kept regions stay in order after a dropped one");
}

static void pf(uint64_t code, const char *const *want, const char *const *not_want)
{
	char buf[200];
	const char *s = page_fault_describe(code, buf, sizeof buf);
	bool ok = true;

	for (; *want; want++)
		ok = ok && strstr(s, *want);
	for (; not_want && *not_want; not_want++)
		ok = ok && !strstr(s, *not_want);
	CHECK(ok, "error code %#llx -> '%s'", (unsigned long long)code, s);
}

static void test_page_fault_decode(void)
{
	pf(0x0, (const char *const[]){"page not present", "read", "supervisor", "data access", 0},
	   NULL);
	pf(0x3, (const char *const[]){"protection violation", "write", 0}, NULL);
	pf(0x4, (const char *const[]){"user mode", 0}, NULL);
	/* The boot crash: 0x8, a reserved bit, once printed as "not present". */
	pf(0x8, (const char *const[]){"reserved bit", 0},
	   (const char *const[]){"page not present", 0});
	pf(0x9, (const char *const[]){"reserved bit", 0},
	   (const char *const[]){"protection violation", 0});
	pf(0x11, (const char *const[]){"instruction fetch", 0}, NULL);
	pf(0x21, (const char *const[]){"protection key", 0}, NULL);
	pf(0x41, (const char *const[]){"shadow stack", 0}, NULL);
	pf(0x8001, (const char *const[]){"SGX", 0}, NULL);
	pf(0x10000, (const char *const[]){"other bits 0x10000", 0}, NULL);

	char tiny[8];
	page_fault_describe(0x3f, tiny, sizeof tiny);
	CHECK(strlen(tiny) == sizeof tiny - 1, "a short buffer is filled and NUL-terminated");
}

int main(void)
{
	test_checks();
	test_ioremap_refuses();
	test_memory_map_fit();
	test_page_fault_decode();
	return tap_done();
}
