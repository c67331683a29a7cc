/*
 * Starts the network services, on lwIP's raw API (callbacks from
 * netdev_poll(), thread context), and runs what they share:
 *   echo, port 7, UDP and TCP (RFC 862): net/echo_service.c;
 *   HTTP, port 80: the status page, net/http_server.c;
 *   lwiperf, port 5001: lwIP's iperf 2 compatible TCP server.
 * The TCP services' connection limits and timeouts are net/conn_limit.c's;
 * a timer here ticks their pools, and the timeouts come from the command
 * line.
 */
#include <stdio.h>

#include "kernel/lib/cmdline.h"
#include "kernel/lib/init.h"
#include "kernel/lib/log.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "net/echo_service.h"
#include "net/http_server.h"
#include "net/services.h"
#include "net/status_page.h"

#define SERVICES_TICK_MS 250 /* the timeouts' resolution */

/* Timeouts in seconds, 1 to an hour: zero would close every connection at
 * once, and more than an hour is as good as none. */
#define SERVICES_TIMEOUT(id, key_, def_s, help_)                                                   \
	CMDLINE_OPTION(id, .key = key_, .type = CMDLINE_U64, .def = def_s, .min = 1, .max = 3600,  \
		       .help = help_)
SERVICES_TIMEOUT(http_request_timeout, "net.http_request_timeout", HTTP_REQUEST_MS / 1000,
		 "SECONDS: an HTTP request must be complete within this");
SERVICES_TIMEOUT(http_idle_timeout, "net.http_idle_timeout", HTTP_IDLE_MS / 1000,
		 "SECONDS: an HTTP connection without progress is closed");
SERVICES_TIMEOUT(echo_idle_timeout, "net.echo_idle_timeout", ECHO_IDLE_MS / 1000,
		 "SECONDS: a TCP echo connection without progress is closed");

static struct conn_pool *const services_pools[] = {&http_pool, &echo_pool};

static void services_tick(void *arg)
{
	for (unsigned i = 0; i < sizeof services_pools / sizeof services_pools[0]; i++)
		conn_pool_tick(services_pools[i], sys_now());
	sys_timeout(SERVICES_TICK_MS, services_tick, NULL);
}

int net_services_format(char *buf, size_t size)
{
	int n = 0;

#define OUT(...) (n += snprintf(buf + n, (size_t)n < size ? size - (size_t)n : 0, __VA_ARGS__))
#define POOL(p)	 (n += conn_pool_format(p, buf + n, (size_t)n < size ? size - (size_t)n : 0))
	OUT("udp echo: %llu echoed, %llu dropped (not unicast to us), %llu send errors\n",
	    (unsigned long long)echo_stats.udp_echoed,
	    (unsigned long long)echo_stats.udp_not_unicast,
	    (unsigned long long)echo_stats.udp_send_errors);
	OUT("tcp echo: %llu connections, %llu bytes\n", (unsigned long long)echo_stats.tcp_conns,
	    (unsigned long long)echo_stats.tcp_bytes);
	POOL(&echo_pool);
	OUT("http: %llu answers: %llu ok, %llu not found, %llu client errors, %llu server "
	    "errors\n",
	    (unsigned long long)http_stats.requests, (unsigned long long)http_stats.ok,
	    (unsigned long long)http_stats.not_found, (unsigned long long)http_stats.client_errors,
	    (unsigned long long)http_stats.server_errors);
	POOL(&http_pool);
#undef POOL
#undef OUT
	return n;
}

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
			 u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes_transferred, u32_t ms_duration, u32_t bandwidth_kbitpsec)
{
	pr_info("lwiperf: %s %lu bytes in %lu ms, %lu kbit/s\n",
		type == LWIPERF_TCP_DONE_SERVER ? "done" : "aborted",
		(unsigned long)bytes_transferred, (unsigned long)ms_duration,
		(unsigned long)bandwidth_kbitpsec);
}

/* After lwIP is up: net_init() in netif_glue.c is a SUBSYS_INITCALL. */
static void net_services_start(void)
{
	http_pool.request_ms = (uint32_t)cmdline_u64("net.http_request_timeout") * 1000;
	http_pool.idle_ms = (uint32_t)cmdline_u64("net.http_idle_timeout") * 1000;
	echo_pool.idle_ms = (uint32_t)cmdline_u64("net.echo_idle_timeout") * 1000;
	status_page_set_services(net_services_format);
	echo_service_start();
	http_server_start();
	if (!lwiperf_start_tcp_server_default(iperf_report, NULL))
		pr_err("net: cannot start lwiperf on port %u\n", LWIPERF_TCP_PORT_DEFAULT);
	sys_timeout(SERVICES_TICK_MS, services_tick, NULL);
}
INITCALL(net_services_start);
