/*
 * Text to numbers and booleans (kernel/lib/parse_value.h). Numbers follow
 * Linux's memparse() spelling (Documentation/admin-guide/kernel-parameters.rst:
 * decimal or 0x hex, K/M/G suffixes), booleans its kstrtobool() words; unlike
 * either, trailing text is an error rather than silently ignored.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "kernel/lib/parse_value.h"

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

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "y", "yes", "on", "true"};
	static const char *const no[] = {"0", "n", "no", "off", "false"};

	if (!s)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}
