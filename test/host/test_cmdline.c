/*
 * Host unit test for the kernel command-line parser (kernel/lib/cmdline.c):
 * words, key=value, bare flags, double quotes, typed options (bool, number
 * with a range, text with a check), repeatable and non-repeatable keys (the
 * last wins), and that one bad word (malformed, unknown, refused, cut off by
 * the length limit) is reported and dropped while every other word counts.
 * Messages are captured from stdout through a pipe. The number and boolean
 * spellings themselves are test_parse_value.c's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/lib/cmdline.h"
#include "test/host/tap.h"

/* Options this test declares, next to kernel/lib/cmdline.c's own test= and
 * bench=: the section array spans both files, as in the kernel. */
static const char *even_check(const char *value)
{
	return strlen(value) % 2 == 0 ? NULL : "an even number of characters";
}

CMDLINE_OPTION(mem, .key = "mem", .type = CMDLINE_U64, .def = 7, .help = "test: a size");
CMDLINE_OPTION(port, .key = "port", .type = CMDLINE_U64, .def = 80, .min = 1, .max = 65535,
	       .help = "test: a number with a range");
CMDLINE_OPTION(quiet, .key = "quiet", .type = CMDLINE_BOOL, .help = "test: a flag");
CMDLINE_OPTION(loud, .key = "loud", .type = CMDLINE_BOOL, .def = true,
	       .help = "test: a flag that defaults on");
CMDLINE_OPTION(vmmio, .key = "virtio_mmio.device", .type = CMDLINE_STRING, .repeat = true,
	       .help = "test: a repeated key");
CMDLINE_OPTION(label, .key = "label", .type = CMDLINE_STRING, .help = "test: a quoted value");
CMDLINE_OPTION(even, .key = "even", .type = CMDLINE_STRING, .check = even_check,
	       .help = "test: a value with a check");

/* Run fn with stdout redirected into buf (a temporary file, not a pipe:
 * a line of thousands of bad words prints more than a pipe holds); returns
 * its result. */
static int capture(int (*fn)(void), char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved, ret;
	size_t n;

	fflush(stdout);
	if (!tmp)
		return -999;
	saved = dup(1);
	dup2(fileno(tmp), 1);
	ret = fn();
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return ret;
}

static const char *parse_text;
static size_t parse_sent;
static int do_parse(void)
{
	return cmdline_parse_received(parse_text, parse_sent);
}

/* Parse `text` (of a line the loader said had `sent` characters; 0: all of
 * it arrived) with its messages in msg; returns the number dropped. */
static int parse_sent_quiet(const char *text, size_t sent, char *msg, size_t size)
{
	parse_text = text;
	parse_sent = sent;
	return capture(do_parse, msg, size);
}

static int parse_quiet(const char *text, char *msg, size_t size)
{
	return parse_sent_quiet(text, 0, msg, size);
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void test_words(void)
{
	char msg[512];
	int r = parse_quiet("  test=boot,newlib   quiet mem=64M\tlabel=x ", msg, sizeof msg);

	CHECK(r == 0, "plain words parse (got %d)", r);
	CHECK(same(cmdline_string("test"), "boot,newlib"), "key=value: test=boot,newlib");
	CHECK(cmdline_bool("quiet"), "a bare flag is true");
	CHECK(cmdline_u64("mem") == 64ull << 20, "a number with a suffix");
	CHECK(same(cmdline_string("label"), "x"), "tab separates words");
	CHECK(msg[0] == '\0', "no message for a good command line (got '%s')", msg);

	r = parse_quiet("", msg, sizeof msg);
	CHECK(r == 0 && cmdline_string("test") == NULL && !cmdline_given("quiet"),
	      "empty command line: no words");
	CHECK(!cmdline_bool("quiet") && cmdline_bool("loud") && cmdline_u64("mem") == 7 &&
		      cmdline_u64("port") == 80,
	      "absent options read as their defaults");
	r = parse_quiet("quiet=0 loud=off", msg, sizeof msg);
	CHECK(r == 0 && !cmdline_bool("quiet") && !cmdline_bool("loud"),
	      "flag=0 and flag=off mean false");
	r = parse_quiet("quiet=Yes loud=TRUE", msg, sizeof msg);
	CHECK(r == 0 && cmdline_bool("quiet") && cmdline_bool("loud"), "yes/true in any case");
	r = parse_quiet("label=b=c", msg, sizeof msg);
	CHECK(r == 0 && same(cmdline_string("label"), "b=c"), "only the first '=' splits");
}

static void test_quotes(void)
{
	char msg[512];
	int r = parse_quiet("label=\"hello  world\" \"test=a b\" even=\"\" "
			    "virtio_mmio.device=pre\"mid dle\"post",
			    msg, sizeof msg);
	unsigned pos = 0;

	CHECK(r == 0, "quoted words parse (got %d, '%s')", r, msg);
	CHECK(same(cmdline_string("label"), "hello  world"),
	      "quoted value keeps inner spaces, quotes removed");
	CHECK(same(cmdline_string("test"), "a b"), "quotes around the whole word");
	CHECK(same(cmdline_string("even"), ""), "empty quoted value");
	CHECK(same(cmdline_next("virtio_mmio.device", &pos), "premid dlepost"),
	      "quotes in the middle of a word");
}

/* One malformed word costs only itself (issue 14: it used to cost all). */
static void test_malformed_words(void)
{
	char msg[512];
	int r;

	r = parse_quiet("test=boot label=\"oops mem=1K", msg, sizeof msg);
	CHECK(r == 1, "an unterminated quote drops one word (got %d)", r);
	CHECK(strstr(msg, "unterminated") && strstr(msg, "'label=\"oops'"),
	      "the message names the word: %s", msg);
	CHECK(same(cmdline_string("test"), "boot") && cmdline_u64("mem") == 1024 &&
		      !cmdline_given("label"),
	      "the words before and after it are kept");

	r = parse_quiet("quiet =x mem=2K", msg, sizeof msg);
	CHECK(r == 1 && strstr(msg, "'=x'") && strstr(msg, "empty key"),
	      "'=x' is reported as an empty key: %s", msg);
	CHECK(cmdline_bool("quiet") && cmdline_u64("mem") == 2048, "the others are kept");

	r = parse_quiet("\"\" quiet", msg, sizeof msg);
	CHECK(r == 1 && cmdline_bool("quiet"), "an empty quoted word is dropped, not the rest");
}

static void test_unknown(void)
{
	char msg[1024];
	int r = parse_quiet("test=boot quiet bogus mem=1M typo=\"a b\" bench=x", msg, sizeof msg);

	CHECK(r == 2, "two unknown words counted (got %d)", r);
	CHECK(strstr(msg, "cmdline: unknown option 'bogus' (ignored)\n") != NULL,
	      "bare unknown flag reported: %s", msg);
	CHECK(strstr(msg, "cmdline: unknown option 'typo=a b' (ignored)\n") != NULL,
	      "unknown key=value reported with its value");
	CHECK(!strstr(msg, "'test") && !strstr(msg, "'bench") && !strstr(msg, "'mem"),
	      "declared options are not reported");
	CHECK(same(cmdline_string("test"), "boot") && cmdline_u64("mem") == 1 << 20,
	      "the known words still count");
}

/* Values are checked once, against the option's type (issue 14:
 * virtio_pci.msix=banana). */
static void test_typed_values(void)
{
	char msg[1024];
	int r;

	r = parse_quiet("quiet=banana loud=maybe", msg, sizeof msg);
	CHECK(r == 2, "two bad booleans dropped (got %d)", r);
	CHECK(strstr(msg, "quiet=banana: expected a boolean") && strstr(msg, "default, off"),
	      "a bad boolean names the word, what was expected and the default: %s", msg);
	CHECK(!cmdline_bool("quiet") && cmdline_bool("loud"), "a bad boolean reads as the default");

	r = parse_quiet("mem=12q port=0 port=70000", msg, sizeof msg);
	CHECK(r == 3, "a bad number and two out of range dropped (got %d)", r);
	CHECK(strstr(msg, "mem=12q: expected a number"), "a bad number is named: %s", msg);
	CHECK(strstr(msg, "port=0: expected a number from 1 to 65535") &&
		      strstr(msg, "port=70000: expected a number from 1 to 65535"),
	      "out of range names the range: %s", msg);
	CHECK(cmdline_u64("mem") == 7 && cmdline_u64("port") == 80, "they read as the defaults");

	r = parse_quiet("mem=99999999999999999999", msg, sizeof msg);
	CHECK(r == 1 && strstr(msg, "64 bits"), "an overflowing number is named: %s", msg);
	r = parse_quiet("mem", msg, sizeof msg);
	CHECK(r == 1 && cmdline_u64("mem") == 7, "a number option as a bare flag is refused");
	r = parse_quiet("label", msg, sizeof msg);
	CHECK(r == 1 && strstr(msg, "not a bare flag") && !cmdline_string("label"),
	      "a text option as a bare flag is refused: %s", msg);

	r = parse_quiet("even=abc even=abcd", msg, sizeof msg);
	CHECK(r == 1 && strstr(msg, "even=abc: expected an even number of characters"),
	      "the option's own check refuses a value: %s", msg);
	CHECK(same(cmdline_string("even"), "abcd"), "and the good value is kept");
	CHECK(strstr(msg, "using even=abcd"), "the message says which value is used: %s", msg);
}

/* The last value wins, as in Linux; a repeatable option keeps them all. */
static void test_repeats(void)
{
	char msg[1024];
	unsigned pos = 0;
	const char *v[4];
	int n = 0, r;

	r = parse_quiet("virtio_mmio.device=4K@0xd0000000:5 quiet "
			"virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.device=1",
			msg, sizeof msg);
	CHECK(r == 0 && msg[0] == '\0', "a repeatable key given three times: no message");
	while (n < 4 && (v[n] = cmdline_next("virtio_mmio.device", &pos)))
		n++;
	CHECK(n == 3 && same(v[0], "4K@0xd0000000:5") && same(v[1], "4K@0xd0001000:6") &&
		      same(v[2], "1"),
	      "cmdline_next visits all three values in order (got %d)", n);

	r = parse_quiet("mem=1K label=a mem=2K quiet=0 label=b mem=3K quiet", msg, sizeof msg);
	CHECK(r == 0, "duplicates are not dropped words (got %d)", r);
	CHECK(cmdline_u64("mem") == 3072 && same(cmdline_string("label"), "b") &&
		      cmdline_bool("quiet"),
	      "the last value of each wins");
	CHECK(strstr(msg, "mem given 3 times; the last one wins: mem=3K") &&
		      strstr(msg, "label given 2 times; the last one wins: label=b") &&
		      strstr(msg, "quiet given 2 times; the last one wins: quiet\n"),
	      "each duplicate is reported once, with the winner: %s", msg);

	r = parse_quiet("mem=1K mem=oops", msg, sizeof msg);
	CHECK(r == 1 && cmdline_u64("mem") == 1024 && strstr(msg, "using mem=1K"),
	      "a bad later value does not win over a good earlier one: %s", msg);
}

/* No limit on the number of words (issue 14: 65 words lost them all). */
static void test_many_words(void)
{
	static char text[CMDLINE_TEXT_MAX];
	char msg[512];
	size_t len = 0;
	unsigned pos = 0, n = 0;
	int r;

	while (len + 24 < sizeof text - 16)
		len += (size_t)sprintf(text + len, "virtio_mmio.device=%u ", n++);
	sprintf(text + len, "mem=5K");
	r = parse_quiet(text, msg, sizeof msg);
	CHECK(r == 0 && msg[0] == '\0', "%u words parse with no message (got %d)", n + 1, r);
	while (cmdline_next("virtio_mmio.device", &pos))
		n--;
	CHECK(n == 0 && cmdline_u64("mem") == 5 * 1024, "every word is kept, the last too");

	memset(text, 0, sizeof text);
	for (len = 0; len + 2 < sizeof text - 1;)
		len += (size_t)sprintf(text + len, "x ");
	r = parse_quiet(text, msg, sizeof msg);
	CHECK(r == (int)(len / 2), "%zu one-letter words fit (all unknown: got %d)", len / 2, r);
}

/* A line longer than the parser holds, or cut by the boot path, is
 * reported with what was lost (issue 14: cut silently at 1,023). */
static void test_long_lines(void)
{
	static char text[CMDLINE_TEXT_MAX + 64];
	char msg[2048];
	size_t len = 0;
	int r;

	/* 2,100 characters: more than Linux's 2,048, less than the limit. */
	while (len < 2100)
		len += (size_t)sprintf(text + len, "label=%04zu ", len);
	sprintf(text + len, "mem=9K");
	r = parse_quiet(text, msg, sizeof msg);
	CHECK(r == 0 && cmdline_u64("mem") == 9 * 1024, "a %zu-character line is whole", len + 6);

	/* Longer than CMDLINE_TEXT_MAX: cut at the last space before the limit. */
	memset(text, 0, sizeof text);
	len = (size_t)sprintf(text, "mem=3K ");
	while (len < CMDLINE_TEXT_MAX + 20)
		len += (size_t)sprintf(text + len, "quiet ");
	r = parse_quiet(text, msg, sizeof msg);
	CHECK(strstr(msg, "only the first 4095 are kept"),
	      "a line over the limit is reported with the count kept: %s", msg);
	CHECK(cmdline_u64("mem") == 3072 && cmdline_bool("quiet"), "what fits is kept");

	/* The boot path held 30 of a 50-character line: the word cut in two
	 * ("label=abc" arrived as "label=a") is dropped, not taken as "a". */
	r = parse_sent_quiet("mem=1K quiet label=a", 50, msg, sizeof msg);
	CHECK(r == 1, "a line cut by the loader drops one word (got %d)", r);
	CHECK(strstr(msg, "has 50 characters") && strstr(msg, "the cut word 'label=a' too"),
	      "the cut is reported, naming the lost word: %s", msg);
	CHECK(!cmdline_given("label") && cmdline_u64("mem") == 1024 && cmdline_bool("quiet"),
	      "the whole words before the cut are kept");

	r = parse_sent_quiet("mem=1K quiet ", 40, msg, sizeof msg);
	CHECK(r == 1 && strstr(msg, "has 40 characters") && !strstr(msg, "cut word"),
	      "a cut at a space loses no word of what arrived: %s", msg);
	r = parse_sent_quiet("mem=1K", 6, msg, sizeof msg);
	CHECK(r == 0 && msg[0] == '\0', "a line that arrived whole is not reported");
}

static int read_undeclared(void)
{
	return cmdline_string("nobody.declares") == NULL && cmdline_u64("label") == 0;
}

/* A reader asking for an undeclared key, or with the wrong type, is a
 * kernel bug: said so, and the default comes back. */
static void test_reader_mistakes(void)
{
	char msg[512];
	int r;

	parse_quiet("label=x", msg, sizeof msg);
	r = capture(read_undeclared, msg, sizeof msg);
	CHECK(r == 1, "wrong readers get the default");
	CHECK(strstr(msg, "'nobody.declares', which nothing declares") &&
		      strstr(msg, "'label' as number, but it is declared text"),
	      "and are reported: %s", msg);
}

static int print_options(void)
{
	cmdline_print_options();
	return 0;
}

static void test_help(void)
{
	char msg[4096];

	capture(print_options, msg, sizeof msg);
	CHECK(strstr(msg, "port ") && strstr(msg, "number, default 80") &&
		      strstr(msg, "bool, default on") && strstr(msg, "text, repeatable"),
	      "help options lists each option with its type and default: %s", msg);
}

int main(void)
{
	test_words();
	test_quotes();
	test_malformed_words();
	test_unknown();
	test_typed_values();
	test_repeats();
	test_many_words();
	test_long_lines();
	test_reader_mistakes();
	test_help();
	return tap_done();
}
