/*
 * Host unit test for the kernel command-line parser (kernel/lib/cmdline.c):
 * words, key=value, bare flags, double quotes, repeated keys, numbers with
 * 0x and K/M/G suffixes, error handling for malformed text, and the report
 * of words no CMDLINE_OPTION declares (captured from stdout through a pipe).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/lib/cmdline.h"
#include "test/host/tap.h"

/* Options this test declares, next to kernel/lib/cmdline.c's own test= and
 * bench=: the section array spans both files, as in the kernel. */
CMDLINE_OPTION(mem, "mem", "test: a size");
CMDLINE_OPTION(quiet, "quiet", "test: a flag");
CMDLINE_OPTION(vmmio, "virtio_mmio.device", "test: a repeated key");
CMDLINE_OPTION(label, "label", "test: a quoted value");

/* Run fn with stdout redirected into buf; returns its result. */
static int capture(int (*fn)(void), char *buf, size_t size)
{
	int fds[2], saved, ret;
	ssize_t n;

	fflush(stdout);
	if (pipe(fds) != 0)
		return -999;
	saved = dup(1);
	dup2(fds[1], 1);
	ret = fn();
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	return ret;
}

static const char *parse_text;
static int do_parse(void)
{
	return cmdline_parse(parse_text);
}

static int parse_quiet(const char *text, char *msg, size_t size)
{
	parse_text = text;
	return capture(do_parse, msg, size);
}

static void test_words(void)
{
	char msg[512];
	int r = parse_quiet("  test=boot,newlib   quiet mem=64M\tlabel=x ", msg, sizeof msg);

	CHECK(r == 0, "plain words parse (got %d)", r);
	CHECK(cmdline_get("test") && strcmp(cmdline_get("test"), "boot,newlib") == 0,
	      "key=value: test=boot,newlib");
	CHECK(cmdline_get("quiet") && strcmp(cmdline_get("quiet"), "") == 0,
	      "bare flag has the empty value");
	CHECK(cmdline_flag("quiet"), "bare flag is set");
	CHECK(!cmdline_flag("absent"), "absent flag is not set");
	CHECK(cmdline_get("absent") == NULL, "absent key gives NULL");
	CHECK(cmdline_get("label") && strcmp(cmdline_get("label"), "x") == 0,
	      "tab separates words");
	CHECK(msg[0] == '\0', "no message for a good command line (got '%s')", msg);

	r = parse_quiet("", msg, sizeof msg);
	CHECK(r == 0 && cmdline_get("test") == NULL, "empty command line: no words");
	r = parse_quiet("quiet=0 bench=off", msg, sizeof msg);
	CHECK(r == 0 && !cmdline_flag("quiet") && !cmdline_flag("bench"),
	      "flag=0 and flag=off mean unset");
	r = parse_quiet("a=b=c", msg, sizeof msg);
	CHECK(r == 0 && strcmp(cmdline_get("a"), "b=c") == 0, "only the first '=' splits");
}

static void test_quotes(void)
{
	char msg[512];
	int r = parse_quiet("label=\"hello  world\" \"test=a b\" x=\"\" y=pre\"mid dle\"post", msg,
			    sizeof msg);

	CHECK(r == 0, "quoted words parse (got %d, '%s')", r, msg);
	CHECK(strcmp(cmdline_get("label"), "hello  world") == 0,
	      "quoted value keeps inner spaces, quotes removed");
	CHECK(strcmp(cmdline_get("test"), "a b") == 0, "quotes around the whole word");
	CHECK(strcmp(cmdline_get("x"), "") == 0, "empty quoted value");
	CHECK(strcmp(cmdline_get("y"), "premid dlepost") == 0, "quotes in the middle of a word");

	r = parse_quiet("test=boot label=\"oops", msg, sizeof msg);
	CHECK(r == -EINVAL, "unterminated quote is -EINVAL (got %d)", r);
	CHECK(strstr(msg, "unterminated") && strstr(msg, "label=\"oops"),
	      "message names the offending text: %s", msg);
	CHECK(cmdline_get("test") == NULL, "a failed parse leaves no words");

	r = parse_quiet("=value", msg, sizeof msg);
	CHECK(r == -EINVAL && strstr(msg, "'=value'"), "empty key is rejected, named: %s", msg);
}

static void test_repeats(void)
{
	char msg[512];
	unsigned pos = 0;
	const char *v[4];
	int n = 0, r;

	r = parse_quiet("virtio_mmio.device=4K@0xd0000000:5 quiet "
			"virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.device=1",
			msg, sizeof msg);
	CHECK(r == 0, "repeated keys parse");
	while (n < 4 && (v[n] = cmdline_next("virtio_mmio.device", &pos)))
		n++;
	CHECK(n == 3, "cmdline_next visits all three values (got %d)", n);
	CHECK(n == 3 && strcmp(v[0], "4K@0xd0000000:5") == 0 &&
		      strcmp(v[1], "4K@0xd0001000:6") == 0 && strcmp(v[2], "1") == 0,
	      "values come in command-line order");
	CHECK(strcmp(cmdline_get("virtio_mmio.device"), "4K@0xd0000000:5") == 0,
	      "cmdline_get returns the first");
}

static void test_numbers(void)
{
	uint64_t v = 12345;
	char msg[512];

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
	CHECK(parse_u64("0x", &v) == -EINVAL, "parse_u64 bare 0x");
	CHECK(parse_u64("12a", &v) == -EINVAL, "parse_u64 trailing garbage");
	CHECK(parse_u64("-1", &v) == -EINVAL, "parse_u64 negative");
	CHECK(parse_u64(" 1", &v) == -EINVAL, "parse_u64 leading space");
	CHECK(parse_u64("0xfg", &v) == -EINVAL, "parse_u64 bad hex digit");

	CHECK(parse_size("4K", &v) == 0 && v == 4096, "parse_size 4K");
	CHECK(parse_size("64m", &v) == 0 && v == 64ull << 20, "parse_size 64m");
	CHECK(parse_size("0x1G", &v) == 0 && v == 1ull << 30, "parse_size 0x1G");
	CHECK(parse_size("123", &v) == 0 && v == 123, "parse_size without suffix");
	CHECK(parse_size("K", &v) == -EINVAL, "parse_size suffix alone");
	CHECK(parse_size("4KB", &v) == -EINVAL, "parse_size two-letter suffix");
	CHECK(parse_size("17179869184G", &v) == -ERANGE, "parse_size overflow after shift");
	CHECK(parse_size("17179869183G", &v) == 0 && v == 17179869183ull << 30,
	      "parse_size largest G");

	parse_quiet("mem=256M bench=0x20 test=12q quiet=99999999999999999999", msg, sizeof msg);
	CHECK(cmdline_get_u64("mem", 1) == 256ull << 20, "cmdline_get_u64 with suffix");
	CHECK(cmdline_get_u64("bench", 1) == 0x20, "cmdline_get_u64 hex");
	CHECK(cmdline_get_u64("absent", 77) == 77, "cmdline_get_u64 default when absent");
}

static int get_bad_number(void)
{
	return (int)cmdline_get_u64("test", 5);
}

static int get_overflow(void)
{
	return (int)cmdline_get_u64("quiet", 6);
}

static void test_number_messages(void)
{
	char msg[512];
	int r;

	parse_quiet("test=12q quiet=99999999999999999999", msg, sizeof msg);
	r = capture(get_bad_number, msg, sizeof msg);
	CHECK(r == 5, "malformed number gives the default (got %d)", r);
	CHECK(strstr(msg, "test=12q") && strstr(msg, "not a number"),
	      "malformed number message names the text: %s", msg);
	r = capture(get_overflow, msg, sizeof msg);
	CHECK(r == 6, "overflowing number gives the default (got %d)", r);
	CHECK(strstr(msg, "99999999999999999999") && strstr(msg, "64 bits"),
	      "overflow message names the text: %s", msg);
}

static void test_limits(void)
{
	char text[4096], msg[512];
	size_t len = 0;
	int r;

	for (int i = 0; i < CMDLINE_MAX_WORDS; i++)
		len += sprintf(text + len, "w%d ", i);
	r = parse_quiet(text, msg, sizeof msg);
	CHECK(r == 0, "exactly CMDLINE_MAX_WORDS words parse (got %d)", r);
	CHECK(cmdline_get("w63") != NULL, "the last word is kept");

	sprintf(text + len, "extra=1 more");
	r = parse_quiet(text, msg, sizeof msg);
	CHECK(r == -E2BIG, "one word too many is -E2BIG (got %d)", r);
	CHECK(strstr(msg, "'extra=1'") != NULL, "message names the first excess word: %s", msg);
	CHECK(cmdline_get("w0") == NULL, "a rejected command line leaves no words");

	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	r = parse_quiet(text, msg, sizeof msg);
	CHECK(r == -E2BIG && strstr(msg, "4095 characters"), "overlong text is -E2BIG: %s", msg);
}

static void test_unknown(void)
{
	char msg[1024];
	int r;

	parse_quiet("test=boot quiet bogus mem=1M typo=\"a b\" virtio_mmio.device=x bench", msg,
		    sizeof msg);
	r = capture(cmdline_report_unknown, msg, sizeof msg);
	CHECK(r == 2, "two unknown words counted (got %d)", r);
	CHECK(strstr(msg, "cmdline: unknown option 'bogus' (ignored)\n") != NULL,
	      "bare unknown flag reported: %s", msg);
	CHECK(strstr(msg, "cmdline: unknown option 'typo=a b' (ignored)\n") != NULL,
	      "unknown key=value reported with its value");
	CHECK(!strstr(msg, "'test") && !strstr(msg, "'bench") && !strstr(msg, "'mem"),
	      "declared options are not reported");

	parse_quiet("test=x", msg, sizeof msg);
	r = capture(cmdline_report_unknown, msg, sizeof msg);
	CHECK(r == 0 && msg[0] == '\0', "nothing reported when all keys are known");
}

int main(void)
{
	test_words();
	test_quotes();
	test_repeats();
	test_numbers();
	test_number_messages();
	test_limits();
	test_unknown();
	return tap_done();
}
