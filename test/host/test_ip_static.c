/*
 * Host unit test for the ip=ADDR/PREFIX[,gw=GW] parser (net/ip_static.c):
 * good addresses with and without a prefix and gateway, and every kind of
 * address no host may have (issue 14: 0.0.0.0/8, 255.255.255.255/32 and
 * 224.0.0.1/4 were taken), plus inet_aton's shorthand (10.1/8 became
 * 10.0.0.1), each refused with its own reason.
 */
#include <stdint.h>
#include <string.h>

#include "net/ip_static.h"
#include "test/host/tap.h"

#define Q(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void good(const char *text, uint32_t addr, unsigned prefix, uint32_t mask, uint32_t gw)
{
	struct ip_static ip;
	const char *why = "";
	int err = ip_static_parse(text, &ip, &why);

	if (!CHECK(err == 0, "'%s' accepted (got %d: %s)", text, err, why))
		return;
	CHECK(ip.addr == addr && ip.prefix == prefix && ip.mask == mask && ip.gw == gw,
	      "'%s' -> %#x/%u mask %#x gw %#x", text, ip.addr, ip.prefix, ip.mask, ip.gw);
	CHECK(ip_static_check(text) == NULL, "'%s': the option's check agrees", text);
}

/* `reason`: a word the explanation must contain. */
static void bad(const char *text, const char *reason)
{
	struct ip_static ip = {.addr = 42};
	const char *why = NULL;
	int err = ip_static_parse(text, &ip, &why);

	CHECK(err != 0 && why && strstr(why, reason) && ip.addr == 42, "'%s' refused, because: %s",
	      text, why ? why : "(none)");
	CHECK(ip_static_check(text) == why, "'%s': the option's check says the same", text);
}

int main(void)
{
	good("10.0.2.15/24", Q(10, 0, 2, 15), 24, 0xffffff00, 0);
	good("10.0.2.15", Q(10, 0, 2, 15), 24, 0xffffff00, 0); /* the default prefix */
	good("192.168.77.1/24,gw=192.168.77.2", Q(192, 168, 77, 1), 24, 0xffffff00,
	     Q(192, 168, 77, 2));
	good("10.1.2.3/8,gw=10.0.0.1", Q(10, 1, 2, 3), 8, 0xff000000, Q(10, 0, 0, 1));
	good("172.16.0.1/32", Q(172, 16, 0, 1), 32, 0xffffffff, 0);
	good("172.16.0.0/31", Q(172, 16, 0, 0), 31, 0xfffffffe, 0); /* RFC 3021 */
	good("1.2.3.4/1", Q(1, 2, 3, 4), 1, 0x80000000, 0);
	good("223.255.255.254/30", Q(223, 255, 255, 254), 30, 0xfffffffc, 0);

	/* The three, and the rest of the special blocks. */
	bad("0.0.0.0/8", "0.0.0.0/8");
	bad("0.1.2.3/24", "0.0.0.0/8");
	bad("255.255.255.255/32", "broadcast");
	bad("224.0.0.1/4", "multicast");
	bad("239.1.1.1/24", "multicast");
	bad("240.0.0.1/24", "reserved");
	bad("127.0.0.1/8", "loopback");

	/* Host part all zeros or all ones. */
	bad("10.0.2.0/24", "network's own address");
	bad("10.0.2.255/24", "broadcast address");
	bad("10.0.0.0/8", "network's own address");

	/* inet_aton's shorthand and other spellings that are not a.b.c.d. */
	bad("10.1/8", "four decimal numbers");
	bad("10/8", "four decimal numbers");
	bad("10.0.2/24", "four decimal numbers");
	bad("10.0.2.15.1/24", "four decimal numbers");
	bad("010.0.2.15/24", "four decimal numbers"); /* octal in inet_aton */
	bad("0x0a.0.2.15/24", "four decimal numbers");
	bad("10.0.2.256/24", "four decimal numbers");
	bad("10.0.2.1000/24", "four decimal numbers");
	bad("10..2.15/24", "four decimal numbers");
	bad("", "four decimal numbers");
	bad(" 10.0.2.15", "four decimal numbers");

	/* Prefixes. */
	bad("10.0.2.15/0", "prefix");
	bad("10.0.2.15/33", "prefix");
	bad("10.0.2.15/", "prefix");
	bad("10.0.2.15/24x", "prefix");
	bad("10.0.2.15/024", "prefix");

	/* Gateways. */
	bad("10.0.2.15/24,gateway=10.0.2.2", "gw=");
	bad("10.0.2.15/24,", "gw=");
	bad("10.0.2.15/24,gw=10.0.2", "gateway of four");
	bad("10.0.2.15/24,gw=10.0.2.2x", "gateway of four");
	bad("10.0.2.15/24,gw=10.0.3.1", "own network");
	bad("10.0.2.15/24,gw=10.0.2.15", "other than the address");
	bad("10.0.2.15/24,gw=0.0.0.0", "host address");
	bad("10.0.2.15/24,gw=10.0.2.255", "host address");
	bad("10.0.2.15/24,gw=224.0.0.1", "host address");
	return tap_done();
}
