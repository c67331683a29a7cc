/*
 * Host unit test for the HTTP/1.1 request parser (net/http_request.c,
 * RFC 9112): complete and incomplete heads, persistence for HTTP/1.0 and
 * 1.1, pipelined requests, and every error status it answers (400, 405,
 * 414, 431, 501, 505), each input copied to a heap buffer of exactly its
 * length so AddressSanitizer catches any read past it.
 */
#include <stdlib.h>
#include <string.h>

#include "net/http_request.h"
#include "tap.h"

/* Parses s (its first len bytes); returns whether a result came. */
static bool parse_n(const char *s, size_t len, struct http_request *r)
{
	char *b = malloc(len ? len : 1);
	bool done;

	memcpy(b, s, len);
	done = http_request_parse(b, len, r);
	if (done && r->status == 0) {
		/* The path points into b: check it before b goes. */
		static char path[64];

		snprintf(path, sizeof path, "%.*s", (int)r->path_len, r->path);
		r->path = path;
	}
	free(b);
	return done;
}

static bool parse(const char *s, struct http_request *r)
{
	return parse_n(s, strlen(s), r);
}

static int status_of(const char *s)
{
	struct http_request r;

	return parse(s, &r) ? r.status : -1;
}

static void test_good(void)
{
	struct http_request r;
	const char *get = "GET /index.html?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n";

	CHECK(parse(get, &r) && r.status == 0 && r.method == HTTP_GET && r.minor == 1,
	      "a GET over HTTP/1.1");
	CHECK(!strcmp(r.path, "/index.html") && r.length == strlen(get),
	      "its path without the query, and its length");
	CHECK(r.keep_alive, "HTTP/1.1 persists by default");
	CHECK(parse("HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r) &&
		      r.method == HTTP_HEAD && !r.keep_alive,
	      "HEAD, and Connection: close ends persistence");
	CHECK(parse("GET / HTTP/1.0\r\n\r\n", &r) && r.status == 0 && r.minor == 0 && !r.keep_alive,
	      "HTTP/1.0 needs no Host and does not persist by default");
	CHECK(parse("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", &r) && r.keep_alive,
	      "HTTP/1.0 with Connection: keep-alive persists (any case)");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &r) &&
		      !r.keep_alive,
	      "close among other Connection options");
	CHECK(parse("\r\n\r\nGET / HTTP/1.1\nHost: a\n\n", &r) && r.status == 0 &&
		      r.length == strlen("\r\n\r\nGET / HTTP/1.1\nHost: a\n\n"),
	      "empty lines before the request and bare LF line ends are accepted");
	CHECK(parse("GET http://example/p?q HTTP/1.1\r\nHost: example\r\n\r\n", &r) &&
		      r.status == 0 && !strcmp(r.path, "/p"),
	      "absolute-form target");
	CHECK(parse("GET HTTP://example HTTP/1.1\r\nHost: example\r\n\r\n", &r) && r.status == 0 &&
		      !strcmp(r.path, "/"),
	      "absolute-form without a path is /");
	CHECK(parse("GET / HTTP/1.9\r\nHost: a\r\n\r\n", &r) && r.status == 0 && r.minor == 1,
	      "a later HTTP/1.x is served as 1.1");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &r) &&
		      r.status == 0 && !r.keep_alive,
	      "a request with a body is answered, then the connection closes");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r) && r.keep_alive,
	      "Content-Length: 0 is no body");
}

static void test_incomplete_and_pipelined(void)
{
	struct http_request r;
	const char *two = "GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /x HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t first = strlen("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	bool all_wait = true;

	for (size_t n = 0; n < first; n++)
		all_wait &= !parse_n(two, n, &r);
	CHECK(all_wait, "every proper prefix of a request head waits for more");
	CHECK(parse(two, &r) && r.length == first && r.method == HTTP_GET,
	      "two pipelined requests: the first, and its length");
	CHECK(parse(two + first, &r) && r.method == HTTP_HEAD && !strcmp(r.path, "/x"),
	      "then the second");
	CHECK(!parse("", &r) && !parse("\r\n", &r), "nothing, or only empty lines, waits");
}

static void test_errors(void)
{
	struct http_request r;
	char *line = malloc(2 * HTTP_HEAD_MAX);

	CHECK(status_of("FOO / HTTP/1.1\r\nHost: a\r\n\r\n") == 501, "an unknown method: 501");
	CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\n\r\n") == 405 &&
		      status_of("DELETE / HTTP/1.1\r\nHost: a\r\n\r\n") == 405,
	      "a method RFC 9110 defines that we do not allow: 405");
	CHECK(status_of("get / HTTP/1.1\r\nHost: a\r\n\r\n") == 501, "methods are case-sensitive");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", &r) && !r.keep_alive,
	      "after an error the connection closes");
	CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400, "HTTP/1.1 without Host: 400");
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400, "two Hosts: 400");
	CHECK(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505, "HTTP/2.0 in HTTP/1: 505");
	CHECK(status_of("GET /\r\n\r\n") == 400, "no version (HTTP/0.9): 400");
	CHECK(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "two spaces: 400");
	CHECK(status_of("GET / HTTP/1.1 \r\nHost: a\r\n\r\n") == 400, "a trailing space: 400");
	CHECK(status_of("GET x HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "a target not a path: 400");
	CHECK(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400,
	      "whitespace before a field's colon: 400");
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400,
	      "obsolete line folding: 400");
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n") == 400,
	      "a line that is no field: 400");
	CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n") == 400 &&
		      status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
				"Content-Length: 2\r\n\r\n") == 400,
	      "a bad Content-Length, or two that differ: 400");
	CHECK(status_of("GET /\rx HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "a bare CR: 400");
	CHECK(parse_n("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29, &r) && r.status == 400,
	      "a NUL byte: 400");

	/* 414: a request line over HTTP_LINE_MAX, known before its end. */
	memset(line, 'a', HTTP_HEAD_MAX + 16);
	memcpy(line, "GET /", 5);
	CHECK(!parse_n(line, HTTP_LINE_MAX, &r), "a request line up to the limit waits");
	CHECK(parse_n(line, HTTP_LINE_MAX + 2, &r) && r.status == 414 && !r.keep_alive &&
		      r.length == HTTP_LINE_MAX + 2,
	      "one byte more without its end: 414 at once, the whole buffer consumed");
	memcpy(line + HTTP_LINE_MAX - 9, " HTTP/1.1\r\n", 11);
	CHECK(!parse_n(line, HTTP_LINE_MAX + 2, &r), "a line of exactly HTTP_LINE_MAX is fine");
	memcpy(line + HTTP_LINE_MAX - 8, " HTTP/1.1\r\n", 11);
	CHECK(parse_n(line, HTTP_LINE_MAX + 3, &r) && r.status == 414, "one more byte: 414");

	/* 431: a head that does not end within HTTP_HEAD_MAX. */
	strcpy(line, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(line + strlen(line), 'b', HTTP_HEAD_MAX);
	CHECK(!parse_n(line, HTTP_HEAD_MAX - 1, &r), "a head short of the limit waits");
	CHECK(parse_n(line, HTTP_HEAD_MAX, &r) && r.status == 431,
	      "a full buffer without the blank line: 431");
	CHECK(parse_n(line, HTTP_HEAD_MAX + 10, &r) && r.status == 431 &&
		      r.length == HTTP_HEAD_MAX + 10,
	      "bytes beyond HTTP_HEAD_MAX are not read, but consumed");
	free(line);
}

int main(void)
{
	test_good();
	test_incomplete_and_pipelined();
	test_errors();
	return tap_done();
}
