/*
 * Host unit test for the number and boolean spellings every parser shares
 * (kernel/lib/parse_value.c): decimal and 0x hex, K/M/G suffixes, overflow
 * as -ERANGE, trailing text as an error, and Linux's boolean words.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/parse_value.h"
#include "test/host/tap.h"

static void test_u64(void)
{
	uint64_t v = 12345;

	CHECK(parse_u64("0", &v) == 0 && v == 0, "parse_u64 0");
	CHECK(parse_u64("4096", &v) == 0 && v == 4096, "parse_u64 decimal");
	CHECK(parse_u64("0xDeadBeef", &v) == 0 && v == 0xdeadbeef, "parse_u64 hex, mixed case");
	CHECK(parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX, "parse_u64 max");
	CHECK(parse_u64("0xffffffffffffffff", &v) == 0 && v == UINT64_MAX, "parse_u64 hex max");
	v = 7;
	CHECK(parse_u64("18446744073709551616", &v) == -ERANGE && v == 7,
	      "parse_u64 overflow by one is -ERANGE, output untouched");
	CHECK(parse_u64("0x10000000000000000", &v) == -ERANGE, "parse_u64 hex overflow");
	CHECK(parse_u64("", &v) == -EINVAL, "parse_u64 empty");
	CHECK(parse_u64(NULL, &v) == -EINVAL, "parse_u64 NULL");
	CHECK(parse_u64("0x", &v) == -EINVAL, "parse_u64 bare 0x");
	CHECK(parse_u64("12a", &v) == -EINVAL, "parse_u64 trailing garbage");
	CHECK(parse_u64("-1", &v) == -EINVAL, "parse_u64 negative");
	CHECK(parse_u64(" 1", &v) == -EINVAL, "parse_u64 leading space");
	CHECK(parse_u64("0xfg", &v) == -EINVAL, "parse_u64 bad hex digit");
}

static void test_size(void)
{
	uint64_t v = 0;

	CHECK(parse_size("4K", &v) == 0 && v == 4096, "parse_size 4K");
	CHECK(parse_size("64m", &v) == 0 && v == 64ull << 20, "parse_size 64m");
	CHECK(parse_size("0x1G", &v) == 0 && v == 1ull << 30, "parse_size 0x1G");
	CHECK(parse_size("123", &v) == 0 && v == 123, "parse_size without suffix");
	CHECK(parse_size("K", &v) == -EINVAL, "parse_size suffix alone");
	CHECK(parse_size("4KB", &v) == -EINVAL, "parse_size two-letter suffix");
	CHECK(parse_size("12q", &v) == -EINVAL, "parse_size unknown suffix");
	CHECK(parse_size("17179869184G", &v) == -ERANGE, "parse_size overflow after shift");
	CHECK(parse_size("17179869183G", &v) == 0 && v == 17179869183ull << 30,
	      "parse_size largest G");
	CHECK(parse_size("99999999999999999999", &v) == -ERANGE, "parse_size overflow");
}

static void test_bool(void)
{
	static const char *const yes[] = {"1", "y", "Y", "yes", "On", "TRUE"};
	static const char *const no[] = {"0", "n", "No", "off", "OFF", "false"};
	static const char *const bad[] = {"", "banana", "2", "yess", "o", "on ", "-1"};
	bool b;

	for (unsigned i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		b = false;
		CHECK(parse_bool(yes[i], &b) == 0 && b, "'%s' is true", yes[i]);
	}
	for (unsigned i = 0; i < sizeof no / sizeof no[0]; i++) {
		b = true;
		CHECK(parse_bool(no[i], &b) == 0 && !b, "'%s' is false", no[i]);
	}
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b = true;
		CHECK(parse_bool(bad[i], &b) == -EINVAL && b, "'%s' is refused, output untouched",
		      bad[i]);
	}
	CHECK(parse_bool(NULL, &b) == -EINVAL, "NULL is refused");
}

int main(void)
{
	test_u64();
	test_size();
	test_bool();
	return tap_done();
}
