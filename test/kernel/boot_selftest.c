/*
 * The foundation's self-tests:
 *   boot    the boot info is sane, the page/DMA allocators and the heap
 *           work, and timer ticks arrive by interrupt;
 *   newlib  the C library's integer paths (printf family, malloc, string
 *           functions, strtoul) behave in this freestanding build;
 *   fault   an invalid opcode on purpose: the exception dump must appear
 *           and the machine must stop with the panic status (checked from
 *           outside by test/qemu/test_boot.py).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/boot/boot_info.h"
#include "kernel/mm/dma.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/selftest/selftest.h"
#include "kernel/time/timer.h"

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

static void test_boot_info(void)
{
	uint64_t usable = 0, usable_high = 0;

	/* Verbatim, so the host compares it with what it passed. */
	printf("cmdline: %s\n", boot_info.cmdline);
	check(boot_info.magic == BOOT_INFO_MAGIC, "boot info magic 0x%x (expected 0x%x)",
	      boot_info.magic, BOOT_INFO_MAGIC);
	check(boot_info.version == BOOT_INFO_VERSION, "boot info version %u", boot_info.version);
	check(boot_info.path >= BOOT_PATH_MULTIBOOT2 && boot_info.path <= BOOT_PATH_EFI,
	      "boot path %u (%s)", boot_info.path, boot_path_name(boot_info.path));
	check(boot_info.cmdline[0] != '\0', "command line is not empty");
	check(memchr(boot_info.cmdline, '\0', sizeof boot_info.cmdline) != NULL,
	      "command line is NUL terminated");
	check(boot_info.nregions > 0 && boot_info.nregions <= BOOT_MAX_REGIONS,
	      "memory map has %u entries", boot_info.nregions);
	for (uint32_t i = 0; i < boot_info.nregions && i < BOOT_MAX_REGIONS; i++) {
		const struct mem_region *r = &boot_info.regions[i];

		if (r->type != MEM_USABLE)
			continue;
		usable += r->length;
		if (r->base + r->length > (1u << 20))
			usable_high +=
				r->base + r->length - (r->base > (1u << 20) ? r->base : (1u << 20));
	}
	check(usable_high > (1u << 20), "usable RAM above 1 MiB: %llu KiB (of %llu KiB)",
	      (unsigned long long)(usable_high >> 10), (unsigned long long)(usable >> 10));
}

static void test_page_alloc(void)
{
	struct mm_stats before, after;
	unsigned char *p, *q;

	mm_get_stats(&before);
	check(before.free > 0 && before.free <= before.total_usable,
	      "allocator has %llu KiB free of %llu KiB usable",
	      (unsigned long long)(before.free >> 10),
	      (unsigned long long)(before.total_usable >> 10));
	p = page_alloc(4);
	if (!check(p != NULL, "page_alloc(4) succeeds"))
		return;
	check((uintptr_t)p % PAGE_SIZE == 0, "page_alloc returns a page-aligned address %p", p);
	check((uintptr_t)p >= (1u << 20), "page_alloc never hands out the first MiB");
	check((uintptr_t)p + 4 * PAGE_SIZE <= before.kernel_start ||
		      (uintptr_t)p >= before.kernel_end,
	      "pages %p lie outside the kernel image 0x%llx-0x%llx", p,
	      (unsigned long long)before.kernel_start, (unsigned long long)before.kernel_end);
	check(all_zero(p, 4 * PAGE_SIZE), "new pages are zeroed");
	mm_get_stats(&after);
	check(before.free - after.free == 4 * PAGE_SIZE, "free memory dropped by 4 pages");
	memset(p, 0x5a, 4 * PAGE_SIZE);
	page_free(p, 4);
	mm_get_stats(&after);
	check(after.free == before.free, "free memory restored by page_free");
	q = page_alloc(4);
	check(q == p, "first fit: the same pages come back (%p, %p)", p, q);
	check(q && all_zero(q, 4 * PAGE_SIZE), "reused pages are zeroed again");
	page_free(q, 4);
}

static void test_dma_alloc(void)
{
	static const struct {
		size_t size, align;
	} cases[] = {
		{16, 16}, {64, 64}, {100, 256}, {2000, 4096}, {4096, 4096}, {3 * 4096, 16384},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t size = cases[i].size, align = cases[i].align;
		unsigned char *p = dma_alloc(size, align);

		if (!check(p != NULL, "dma_alloc(%zu, %zu) succeeds", size, align))
			continue;
		check((uintptr_t)p % align == 0 && virt_to_phys(p) == (uintptr_t)p,
		      "dma_alloc(%zu, %zu) = %p is aligned and identity mapped", size, align, p);
		check(all_zero(p, size), "dma_alloc(%zu, %zu) memory is zeroed", size, align);
		memset(p, 0xee, size);
		dma_free(p, size);
	}
}

static void test_heap(void)
{
	char *big = malloc(1 << 20);
	unsigned *small[32];
	bool ok = true;

	if (check(big != NULL, "malloc(1 MiB) succeeds")) {
		memset(big, 0x33, 1 << 20);
		check(big[0] == 0x33 && big[(1 << 20) - 1] == 0x33, "1 MiB block is writable");
		free(big);
	}
	for (unsigned i = 0; i < 32; i++) {
		small[i] = malloc((i + 1) * 24);
		if (!small[i]) {
			ok = false;
			break;
		}
		for (unsigned k = 0; k < (i + 1) * 6; k++)
			small[i][k] = i;
	}
	for (unsigned i = 0; ok && i < 32; i++)
		for (unsigned k = 0; k < (i + 1) * 6; k++)
			ok &= small[i][k] == i;
	check(ok, "32 small blocks keep their contents (no overlap)");
	for (unsigned i = 0; i < 32; i++)
		free(small[i]);
	unsigned *z = calloc(1000, sizeof *z);
	check(z && all_zero(z, 1000 * sizeof *z), "calloc memory is zeroed");
	free(z);
}

static void test_timer(void)
{
	uint64_t t0 = timer_ticks(), ns0 = time_ns();
	uint64_t t1, ns1;

	sleep_ms(30);
	t1 = timer_ticks();
	ns1 = time_ns();
	/* 30 ms at TIMER_HZ is 3 ticks, but a busy host can make QEMU merge
	 * several ticks into one interrupt: ask only that ticks arrived while
	 * the CPU sat in hlt, which only an interrupt can cause. */
	check(t1 > t0, "timer interrupts arrive: %llu ticks during sleep_ms(30) at %d Hz",
	      (unsigned long long)(t1 - t0), TIMER_HZ);
	check(ns1 - ns0 >= 30000000ull, "sleep_ms(30) slept %llu us",
	      (unsigned long long)((ns1 - ns0) / 1000));
}

static void selftest_boot(void)
{
	test_boot_info();
	test_page_alloc();
	test_dma_alloc();
	test_heap();
	test_timer();
}
SELFTEST(boot, selftest_boot);

static void expect_string(const char *got, const char *want, const char *what)
{
	check(strcmp(got, want) == 0, "%s: '%s' (expected '%s')", what, got, want);
}

static void selftest_newlib(void)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof buf, "%d %s %llx %zu %p", -42, "abc", 0xdeadbeefcafeull,
		     (size_t)123456789, (void *)0x1000);
	expect_string(buf, "-42 abc deadbeefcafe 123456789 0x1000", "snprintf %d %s %llx %zu %p");
	check(n == (int)strlen(buf), "snprintf returns the length %d", n);
	snprintf(buf, sizeof buf, "[%5d|%-5d|%05u|%x|%X|%lld|%c]", 42, 42, 42u, 255u, 255u,
		 (long long)INT64_MIN, 'z');
	expect_string(buf, "[   42|42   |00042|ff|FF|-9223372036854775808|z]", "snprintf widths");
	n = snprintf(buf, 8, "%s", "truncated text");
	check(n == 14 && strcmp(buf, "truncat") == 0, "snprintf truncates and returns %d", n);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)UINT64_MAX);
	expect_string(buf, "18446744073709551615", "snprintf UINT64_MAX");

	/* malloc over sizes from a byte to a megabyte, all alive at once. */
	void *blocks[21];
	bool ok = true;
	for (int i = 0; i <= 20; i++) {
		size_t size = (size_t)1 << i;

		blocks[i] = malloc(size);
		ok &= blocks[i] != NULL;
		if (blocks[i])
			memset(blocks[i], i, size);
	}
	for (int i = 0; ok && i <= 20; i++) {
		const unsigned char *c = blocks[i];

		ok &= c[0] == i && c[((size_t)1 << i) - 1] == i;
	}
	check(ok, "malloc of 1 B .. 1 MiB, all writable and distinct");
	for (int i = 0; i <= 20; i++)
		free(blocks[i]);
	void *again = malloc(1 << 20);
	check(again != NULL, "malloc(1 MiB) again after free");
	free(again);
	char *r = malloc(16);
	r = r ? realloc(r, 4096) : NULL;
	check(r != NULL, "realloc grows a block");
	free(r);

	char src[64], dst[64];
	for (int i = 0; i < 64; i++)
		src[i] = (char)(i * 7);
	memcpy(dst, src, sizeof dst);
	check(memcmp(dst, src, sizeof dst) == 0, "memcpy copies 64 bytes");
	memset(dst + 8, 'x', 16);
	check(dst[7] == src[7] && dst[8] == 'x' && dst[23] == 'x' && dst[24] == src[24],
	      "memset writes exactly its range");
	memmove(dst + 1, dst, 32);
	check(dst[1] == src[0] && dst[9] == 'x', "memmove handles overlap");
	check(strcmp("abc", "abd") < 0 && strcmp("abc", "abc") == 0 && strcmp("b", "a") > 0,
	      "strcmp orders strings");
	check(strlen("virtio") == 6 && strncmp("virtio-os", "virtio-net", 7) == 0,
	      "strlen and strncmp");
	check(strtoul("0x1f", NULL, 16) == 31 && strtoul("0x1f", NULL, 0) == 31 &&
		      strtoul("777", NULL, 8) == 511 && strtoul("123abc", NULL, 10) == 123,
	      "strtoul in bases 16, 0, 8, 10");
	char *end;
	check(strtoull("18446744073709551615", &end, 10) == UINT64_MAX && *end == '\0',
	      "strtoull parses UINT64_MAX");
}
SELFTEST(newlib, selftest_newlib);

static void selftest_fault(void)
{
	printf("fault: executing ud2; expect an #UD dump and the panic exit status\n");
	__asm__ volatile("ud2");
	check(false, "execution continued after ud2");
}
SELFTEST(fault, selftest_fault);
