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

/* The services' section of the page: net/services.c registers its
 * formatter (snprintf's contract), so that the page, which the HTTP server
 * serves, does not depend on the services that include the server. */
void status_page_set_services(int (*format)(char *buf, size_t size));

#endif
