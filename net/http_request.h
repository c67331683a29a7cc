/*
 * HTTP/1.1 request heads (RFC 9112 2-3, 5, 9.3; RFC 9110 9, 15): the
 * parser of the HTTP server (net/http_server.c), on its own so that host
 * tests feed it every malformed input (test/host/test_http_request.c).
 */
#ifndef NET_HTTP_REQUEST_H
#define NET_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_LINE_MAX 1024 /* request line, without its CRLF: longer is 414 */
#define HTTP_HEAD_MAX 2048 /* request line and header fields: longer is 431 */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER, /* any other method */
};

struct http_request {
	/* 0 for a well-formed GET or HEAD; otherwise the status to answer:
	 * 400 malformed, 405 a method of RFC 9110 we do not allow, 414 request
	 * line too long, 431 head too long, 501 an unknown method, 505 not
	 * HTTP/1.x. */
	int status;
	enum http_method method;
	const char *path; /* into the buffer: the target's path, no query */
	size_t path_len;
	unsigned minor;	 /* HTTP/1.minor */
	bool keep_alive; /* the connection may stay open after the answer */
	size_t length;	 /* bytes of the buffer this request takes */
};

/* Parses the request at the start of buf[0..len). Returns false while the
 * head is incomplete and may still become valid; true once *req holds a
 * complete head or an error to answer (after an error, the connection is
 * to be closed: keep_alive is false). len beyond HTTP_HEAD_MAX is not
 * looked at. */
bool http_request_parse(const char *buf, size_t len, struct http_request *req);

#endif
