/*
 * Parsing and checking `ip=ADDR/PREFIX[,gw=GW]` (net/ip_static.h).
 *
 * Strict on purpose. inet_aton() (and lwIP's ip4addr_aton(), which copies
 * it) accepts the old shorthand forms: "10.1" is 10.0.0.1 and "10" is
 * 0.0.0.10, and a leading 0 makes a part octal. Someone who types ip=10.1/8
 * most likely left out a part, so only four decimal parts are taken.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "net/ip_static.h"

#define IP_STATIC_DEFAULT_PREFIX 24 /* when "/PREFIX" is left out */

/* Up to 3 decimal digits at *sp, 0 to `max`, with no leading zero. */
static int parse_number(const char **sp, unsigned max, unsigned *out)
{
	const char *s = *sp;
	unsigned v = 0, n = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < 3)
		v = v * 10 + (unsigned)(s[n++] - '0');
	if (n == 0 || (s[n] >= '0' && s[n] <= '9') || (n > 1 && s[0] == '0') || v > max)
		return -EINVAL;
	*sp = s + n;
	*out = v;
	return 0;
}

/* Exactly four dotted decimal parts, ending at a character in `stop` (or
 * the end). */
static int parse_quad(const char **sp, const char *stop, uint32_t *out)
{
	const char *s = *sp;
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		unsigned part;

		if (i > 0 && *s++ != '.')
			return -EINVAL;
		if (parse_number(&s, 255, &part))
			return -EINVAL;
		a = a << 8 | part;
	}
	if (*s && !strchr(stop, *s))
		return -EINVAL;
	*sp = s;
	*out = a;
	return 0;
}

/* NULL when `a` is an address a host may have, else what it is. */
static const char *special(uint32_t a)
{
	switch (a >> 24) {
	case 0:
		return "an address outside 0.0.0.0/8 (\"this network\")";
	case 127:
		return "an address outside 127.0.0.0/8 (loopback)";
	}
	if ((a >> 28) == 0xe)
		return "a unicast address, not multicast (224.0.0.0/4)";
	if ((a >> 28) == 0xf)
		return "a unicast address, not reserved or broadcast (240.0.0.0/4)";
	return NULL;
}

/* NULL when `a` is a host address in ip's network, else what it is. */
static const char *not_a_host(uint32_t a, const struct ip_static *ip)
{
	if (ip->prefix > 30)
		return NULL;
	if ((a & ~ip->mask) == 0)
		return "a host address, not the network's own address (host part 0)";
	if ((a & ~ip->mask) == ~ip->mask)
		return "a host address, not the network's broadcast address";
	return NULL;
}

static int refuse(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

int ip_static_parse(const char *text, struct ip_static *out, const char **why)
{
	const char *s = text;
	struct ip_static ip = {.prefix = IP_STATIC_DEFAULT_PREFIX};

	if (parse_quad(&s, "/,", &ip.addr))
		return refuse(why, "ADDR/PREFIX[,gw=GW] with ADDR four decimal numbers 0-255 "
				   "(a.b.c.d)");
	if (*s == '/') {
		s++;
		if (parse_number(&s, 32, &ip.prefix) || ip.prefix == 0 || (*s && *s != ','))
			return refuse(why, "a prefix length from 1 to 32 after '/'");
	}
	bool has_gw = *s == ',';
	if (has_gw) {
		s++;
		if (strncmp(s, "gw=", 3) != 0)
			return refuse(why, "',gw=GW' after the address");
		s += 3;
		if (parse_quad(&s, "", &ip.gw))
			return refuse(why, "a gateway of four decimal numbers 0-255 (gw=a.b.c.d)");
	}
	ip.mask = ip.prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> ip.prefix);

	const char *what = special(ip.addr);
	if (!what)
		what = not_a_host(ip.addr, &ip);
	if (what)
		return refuse(why, what);
	if (has_gw) {
		if (special(ip.gw) || not_a_host(ip.gw, &ip))
			return refuse(why, "a gateway that is a host address");
		if (ip.gw == ip.addr)
			return refuse(why, "a gateway other than the address itself");
		if ((ip.gw & ip.mask) != (ip.addr & ip.mask))
			return refuse(why, "a gateway inside the address's own network");
	}
	*out = ip;
	return 0;
}

const char *ip_static_check(const char *text)
{
	struct ip_static ip;
	const char *why = NULL;

	return ip_static_parse(text, &ip, &why) ? why : NULL;
}
