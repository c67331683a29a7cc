/*
 * The kernel command line (kernel/lib/cmdline.h), parsed the way Linux parses
 * its own (Documentation/admin-guide/kernel-parameters.rst): words separated
 * by spaces, each either `key=value` or a bare `flag`; double quotes group
 * text containing spaces (`key="a b"` or `"key=a b"`) and are removed.
 *
 * Like Linux, one bad word costs only itself: it is reported and the rest
 * of the line still counts. The words are kept in a private copy of the
 * text, so the boot info (or a test's string) may change afterwards.
 * Nothing here allocates: this runs before anything else could fail.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/boot/boot_info.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/log.h"
#include "kernel/lib/parse_value.h"

/* The options the core itself reads (kernel/main.c, kernel/selftest/selftest.c). */
CMDLINE_OPTION(test, .key = "test", .type = CMDLINE_STRING,
	       .help = "NAME[,NAME...]: run self-tests, then exit QEMU with a status");
CMDLINE_OPTION(bench, .key = "bench", .type = CMDLINE_STRING,
	       .help = "NAME[,NAME...]: run benchmarks after boot (print figures, assert nothing)");

_Static_assert(CMDLINE_TEXT_MAX >= BOOT_CMDLINE_MAX, "the parser must hold what boot_info holds");

struct word {
	const char *key;
	const char *value; /* "" for a bare flag */
	bool has_value;
	const struct cmdline_option *opt; /* NULL: no option has this key */
	bool good;			  /* declared, and the value is of its type */
};

/* Unquoted words, NUL-separated; keys and values point into it. Every word
 * takes at least one character and one separator, so the array has room
 * for as many words as the text can hold: there is no word limit. */
static char text_buf[CMDLINE_TEXT_MAX];
static struct word words[CMDLINE_TEXT_MAX / 2];
static unsigned nwords;

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- Splitting ------------------------------------------------------------- */

/*
 * Copy the word at *sp (ending before `end`) into *outp without its quotes,
 * and advance both. Returns NULL with the word skipped when it is
 * malformed, after saying so.
 */
static struct word *split_word(const char **sp, const char *end, char **outp)
{
	const char *s = *sp, *start = s, *open_quote = NULL;
	char *out = *outp, *word = out, *eq = NULL;

	/* A space ends the word only outside quotes. The first '=' splits it,
	 * even inside quotes ("key=a b"). */
	while (s < end && (open_quote || !is_space(*s))) {
		if (*s == '"') {
			open_quote = open_quote ? NULL : s;
			s++;
			continue;
		}
		if (*s == '=' && !eq)
			eq = out;
		*out++ = *s++;
	}
	*out++ = '\0'; /* fits: the copy is never longer than the text */

	if (open_quote) {
		/* The quote swallowed the rest of the line. Read the stray
		 * quote as if it were not there: the bad word ends at the first
		 * space after it, and the words after that still count. */
		s = open_quote;
		while (s < end && !is_space(*s))
			s++;
		pr_err("cmdline: '%.*s': unterminated double quote, expected a closing \"; word "
		       "ignored\n",
		       (int)(s - start), start);
		*sp = s;
		return NULL; /* *outp stays: the copy is discarded */
	}
	*sp = s;
	if (eq == word || word[0] == '\0') {
		pr_err("cmdline: '%.*s': empty key, expected key=value or flag; word ignored\n",
		       (int)(s - start), start);
		return NULL;
	}
	*outp = out;

	struct word *w = &words[nwords++];
	*w = (struct word){.key = word, .value = "", .has_value = eq != NULL};
	if (eq) {
		*eq = '\0';
		w->value = eq + 1;
	}
	return w;
}

/*
 * How much of `text` (len characters of a line that had `sent`) to split:
 * all of it, or, when it was cut, up to the last space before the cut, so
 * no word arrives half. Reports a cut.
 */
static size_t usable_length(const char *text, size_t len, size_t sent, int *dropped)
{
	size_t keep = len < CMDLINE_TEXT_MAX - 1 ? len : CMDLINE_TEXT_MAX - 1;
	size_t cut = keep;

	if (sent < len)
		sent = len;
	if (keep == sent)
		return keep;
	/* The character after the kept part is known only when we have it. */
	if (keep == len || !is_space(text[keep])) {
		while (cut > 0 && !is_space(text[cut - 1]))
			cut--;
	}
	pr_err("cmdline: the command line has %zu characters, only the first %zu are kept "
	       "(at most %d fit); everything from character %zu on is ignored",
	       sent, keep, CMDLINE_TEXT_MAX - 1, cut + 1);
	if (cut < keep)
		printf(", the cut word '%.*s' too", (int)(keep - cut), text + cut);
	printf("\n");
	(*dropped)++;
	return cut;
}

/* ---- Checking against the declarations ------------------------------------- */

static const struct cmdline_option *find_option(const char *key)
{
	SECTION_FOREACH(cmdline_options, struct cmdline_option, opt)
	{
		if (strcmp(opt->key, key) == 0)
			return opt;
	}
	return NULL;
}

/* NULL when n is within opt's range, else the range (in a static buffer,
 * so report() asks again for each word it prints). */
static const char *out_of_range(const struct cmdline_option *opt, uint64_t n)
{
	static char why[64];

	if (n >= opt->min && (opt->max == 0 || n <= opt->max))
		return NULL;
	if (opt->max)
		snprintf(why, sizeof why, "a number from %llu to %llu",
			 (unsigned long long)opt->min, (unsigned long long)opt->max);
	else
		snprintf(why, sizeof why, "a number of at least %llu",
			 (unsigned long long)opt->min);
	return why;
}

/* NULL when w->value is good for its option, else what was expected. */
static const char *refusal(const struct word *w)
{
	uint64_t n;
	bool b;

	switch (w->opt->type) {
	case CMDLINE_BOOL:
		return !w->has_value || parse_bool(w->value, &b) == 0 ? NULL : PARSE_BOOL_EXPECTED;
	case CMDLINE_U64: {
		int err = w->has_value ? parse_size(w->value, &n) : -EINVAL;

		if (err == -ERANGE)
			return "a number that fits in 64 bits";
		if (err)
			return PARSE_SIZE_EXPECTED;
		return out_of_range(w->opt, n);
	}
	case CMDLINE_STRING:
		if (!w->has_value)
			return "key=value, not a bare flag";
		return w->opt->check ? w->opt->check(w->value) : NULL;
	}
	return "a declared type (the option's declaration is broken)";
}

/* The good word of `opt` that decides its value: the last one. */
static const struct word *winner(const struct cmdline_option *opt)
{
	for (unsigned i = nwords; i-- > 0;)
		if (words[i].opt == opt && words[i].good)
			return &words[i];
	return NULL;
}

static unsigned good_count(const struct cmdline_option *opt)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nwords; i++)
		n += words[i].opt == opt && words[i].good;
	return n;
}

static void print_default(const struct cmdline_option *opt)
{
	if (opt->type == CMDLINE_BOOL)
		printf("using the default, %s\n", opt->def ? "on" : "off");
	else if (opt->type == CMDLINE_U64)
		printf("using the default, %llu\n", (unsigned long long)opt->def);
	else
		printf("ignored, as if not given\n");
}

/* One line per dropped or overridden word, in command-line order. */
static int report(void)
{
	int dropped = 0;

	for (unsigned i = 0; i < nwords; i++) {
		const struct word *w = &words[i];
		const char *eq = w->has_value ? "=" : "";

		if (!w->opt) {
			printf("cmdline: unknown option '%s%s%s' (ignored)\n", w->key, eq,
			       w->value);
			dropped++;
		} else if (!w->good) {
			const struct word *win = winner(w->opt);

			pr_err("cmdline: %s%s%s: expected %s; ", w->key, eq, w->value, refusal(w));
			if (w->opt->repeat)
				printf("ignored\n");
			else if (win)
				printf("using %s%s%s\n", win->key, win->has_value ? "=" : "",
				       win->value);
			else
				print_default(w->opt);
			dropped++;
		} else if (!w->opt->repeat && winner(w->opt) == w && good_count(w->opt) > 1) {
			pr_warn("cmdline: %s given %u times; the last one wins: %s%s%s\n", w->key,
				good_count(w->opt), w->key, eq, w->value);
		}
	}
	return dropped;
}

int cmdline_parse_received(const char *text, size_t sent)
{
	const char *s = text ? text : "";
	int dropped = 0;
	const char *end = s + usable_length(s, strlen(s), sent, &dropped);
	char *out = text_buf;

	nwords = 0;
	for (;;) {
		while (s < end && is_space(*s))
			s++;
		if (s == end)
			break;
		struct word *w = split_word(&s, end, &out);
		if (!w) {
			dropped++;
			continue;
		}
		w->opt = find_option(w->key);
		w->good = w->opt && !refusal(w);
	}
	return dropped + report();
}

int cmdline_parse(const char *text)
{
	return cmdline_parse_received(text, 0);
}

/* ---- Readers --------------------------------------------------------------- */

static const char *type_name(enum cmdline_type type)
{
	switch (type) {
	case CMDLINE_BOOL:
		return "bool";
	case CMDLINE_U64:
		return "number";
	case CMDLINE_STRING:
		return "text";
	}
	return "?";
}

/* The declaration of `key`, when it has type `type`. */
static const struct cmdline_option *declared(const char *key, enum cmdline_type type)
{
	const struct cmdline_option *opt = find_option(key);

	if (!opt)
		pr_err("cmdline: the kernel reads option '%s', which nothing declares\n", key);
	else if (opt->type != type)
		pr_err("cmdline: the kernel reads option '%s' as %s, but it is declared %s\n", key,
		       type_name(type), type_name(opt->type));
	else
		return opt;
	return NULL;
}

bool cmdline_bool(const char *key)
{
	const struct cmdline_option *opt = declared(key, CMDLINE_BOOL);
	const struct word *w = opt ? winner(opt) : NULL;
	bool b = true; /* a bare flag */

	if (!w)
		return opt && opt->def;
	if (w->has_value)
		parse_bool(w->value, &b); /* checked by refusal() */
	return b;
}

uint64_t cmdline_u64(const char *key)
{
	const struct cmdline_option *opt = declared(key, CMDLINE_U64);
	const struct word *w = opt ? winner(opt) : NULL;
	uint64_t n;

	if (!w)
		return opt ? opt->def : 0;
	parse_size(w->value, &n); /* checked by refusal() */
	return n;
}

const char *cmdline_string(const char *key)
{
	const struct cmdline_option *opt = declared(key, CMDLINE_STRING);
	const struct word *w = opt ? winner(opt) : NULL;

	return w ? w->value : NULL;
}

const char *cmdline_next(const char *key, unsigned *pos)
{
	const struct cmdline_option *opt = declared(key, CMDLINE_STRING);

	while (opt && *pos < nwords) {
		const struct word *w = &words[(*pos)++];
		if (w->opt == opt && w->good)
			return w->value;
	}
	return NULL;
}

bool cmdline_given(const char *key)
{
	const struct cmdline_option *opt = find_option(key);

	return opt && winner(opt);
}

void cmdline_print_options(void)
{
	SECTION_FOREACH(cmdline_options, struct cmdline_option, opt)
	{
		char kind[40];

		if (opt->type == CMDLINE_BOOL)
			snprintf(kind, sizeof kind, "bool, default %s", opt->def ? "on" : "off");
		else if (opt->type == CMDLINE_U64)
			snprintf(kind, sizeof kind, "number, default %llu",
				 (unsigned long long)opt->def);
		else
			snprintf(kind, sizeof kind, "text%s", opt->repeat ? ", repeatable" : "");
		printf("  %-24s %-22s %s\n", opt->key, kind, opt->help);
	}
}
