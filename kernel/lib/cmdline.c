/*
 * The kernel command line (kernel/lib/cmdline.h), parsed the way Linux parses
 * its own (Documentation/admin-guide/kernel-parameters.rst): words separated
 * by spaces, each either `key=value` or a bare `flag`; double quotes group
 * text containing spaces (`key="a b"` or `"key=a b"`) and are removed; a key
 * may appear several times.
 *
 * The words are kept in a private copy of the text, so the boot info (or a
 * test's string) may change afterwards. Nothing here allocates: this runs
 * before anything else could fail.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/lib/cmdline.h"
#include "kernel/lib/log.h"

/* The options the core itself reads (kernel/main.c, kernel/selftest/selftest.c). */
CMDLINE_OPTION(test, "test", "run self-tests: test=NAME[,NAME...], then exit QEMU with a status");
CMDLINE_OPTION(bench, "bench", "run benchmarks after boot (print figures, assert nothing)");

/* Longer than any boot path delivers (BOOT_CMDLINE_MAX), so truncation is
 * the loader's business and a parse never silently drops text. */
#define CMDLINE_TEXT_MAX 2048

struct word {
	const char *key;
	const char *value; /* "" for a bare flag */
	bool has_value;
};

/* Unquoted words, NUL-separated; keys and values point into it. */
static char text_buf[CMDLINE_TEXT_MAX];
static struct word words[CMDLINE_MAX_WORDS];
static unsigned nwords;

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_parse(const char *text)
{
	const char *s = text ? text : "";
	char *out = text_buf;

	nwords = 0;
	if (strlen(s) >= sizeof(text_buf)) {
		pr_err("cmdline: %zu characters, at most %zu are supported; ignoring it all\n",
		       strlen(s), sizeof(text_buf) - 1);
		return -E2BIG;
	}

	for (;;) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;

		const char *start = s;
		char *word = out;
		char *eq = NULL;
		bool quoted = false;

		/* Copy one word, dropping the quotes; a space ends the word
		 * only outside quotes. The first '=' outside the key splits
		 * it, even when it sits inside quotes ("key=a b"). */
		while (*s && (quoted || !is_space(*s))) {
			if (*s == '"') {
				quoted = !quoted;
				s++;
				continue;
			}
			if (*s == '=' && !eq)
				eq = out;
			*out++ = *s++;
		}
		*out++ = '\0'; /* fits: the copy is never longer than the text */

		if (quoted) {
			pr_err("cmdline: unterminated double quote in '%s'; expected a closing "
			       "\"\n",
			       start);
			nwords = 0;
			return -EINVAL;
		}
		if (eq == word) {
			pr_err("cmdline: word '%.*s' has an empty key; expected key=value or "
			       "flag\n",
			       (int)(s - start), start);
			nwords = 0;
			return -EINVAL;
		}
		if (nwords == CMDLINE_MAX_WORDS) {
			pr_err("cmdline: more than %d words, starting at '%.*s'; ignoring it all\n",
			       CMDLINE_MAX_WORDS, (int)(s - start), start);
			nwords = 0;
			return -E2BIG;
		}

		struct word *w = &words[nwords++];
		w->key = word;
		if (eq) {
			*eq = '\0';
			w->value = eq + 1;
			w->has_value = true;
		} else {
			w->value = "";
			w->has_value = false;
		}
	}
	return 0;
}

const char *cmdline_next(const char *key, unsigned *pos)
{
	while (*pos < nwords) {
		const struct word *w = &words[(*pos)++];
		if (strcmp(w->key, key) == 0)
			return w->value;
	}
	return NULL;
}

const char *cmdline_get(const char *key)
{
	unsigned pos = 0;
	return cmdline_next(key, &pos);
}

bool cmdline_flag(const char *key)
{
	const char *v = cmdline_get(key);

	if (!v)
		return false;
	return strcmp(v, "0") != 0 && strcmp(v, "off") != 0 && strcmp(v, "no") != 0 &&
	       strcmp(v, "false") != 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL; /* a bare "0x" is not a number */
	}
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t len;
	unsigned shift = 0;
	uint64_t v;
	int err;

	if (!s || !*s)
		return -EINVAL;
	len = strlen(s);
	switch (s[len - 1]) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	}
	/* Hex digits never include K, M or G, so "0x1G" is unambiguous. */
	if (shift)
		len--;
	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	err = parse_u64(num, &v);
	if (err)
		return err;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

uint64_t cmdline_get_u64(const char *key, uint64_t def)
{
	const char *v = cmdline_get(key);
	uint64_t n;
	int err;

	if (!v)
		return def;
	err = parse_size(v, &n);
	if (err == -ERANGE) {
		pr_err("cmdline: %s=%s does not fit in 64 bits; using %llu\n", key, v,
		       (unsigned long long)def);
		return def;
	}
	if (err) {
		pr_err("cmdline: %s=%s is not a number (expected decimal or 0x hex, optional "
		       "K/M/G suffix); using %llu\n",
		       key, v, (unsigned long long)def);
		return def;
	}
	return n;
}

static bool option_declared(const char *key)
{
	SECTION_FOREACH(cmdline_options, struct cmdline_option, opt)
	{
		if (strcmp(opt->key, key) == 0)
			return true;
	}
	return false;
}

int cmdline_report_unknown(void)
{
	int unknown = 0;

	for (unsigned i = 0; i < nwords; i++) {
		const struct word *w = &words[i];

		if (option_declared(w->key))
			continue;
		if (w->has_value)
			printf("cmdline: unknown option '%s=%s' (ignored)\n", w->key, w->value);
		else
			printf("cmdline: unknown option '%s' (ignored)\n", w->key);
		unknown++;
	}
	return unknown;
}
