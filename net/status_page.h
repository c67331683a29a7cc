/*
 * The HTTP server's status page (net/status_page.c): uptime, address,
 * devices, interface and service counters, as HTML.
 */
#ifndef NET_STATUS_PAGE_H
#define NET_STATUS_PAGE_H

#include <stddef.h>

#include "net/lwipopts.h"

/* The page and its response head fit in what one HTTP connection may
 * have in flight (net/lwipopts.h), so an answer is always written whole. */
#define STATUS_PAGE_MAX (NET_HTTP_SEND_MAX - 1024)

/* Writes the page into buf (size at least 64); returns its length. A page
 * that would not fit ends with a line saying so. */
size_t status_page(char *buf, size_t size);

#endif
