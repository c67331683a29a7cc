/*
 * The HTTP/1.1 request parser (net/http_request.h). What it accepts, by
 * section:
 *
 * RFC 9112 2.2: lines end in CRLF; a bare LF is accepted as a line end, a
 * bare CR or a NUL inside a line is an error. Empty lines before the
 * request line are skipped.
 * RFC 9112 3: request-line = method SP request-target SP HTTP-version,
 * single spaces. The method is a token (RFC 9110 5.6.2): GET and HEAD are
 * served; the other methods RFC 9110 9.3 defines, and PATCH (RFC 5789),
 * get 405; any other token 501 (RFC 9110 15.6.2). The target is in
 * origin form ("/path?query") or absolute form ("http://host/path",
 * 3.2.2, which a server must accept). HTTP/1.0 and 1.1 are served, a later
 * 1.x as 1.1 (RFC 9110 6.2), another major version gets 505.
 * RFC 9112 5: field-name ":" OWS value OWS; whitespace before the colon
 * and obsolete line folding are rejected (5.1, 5.2).
 * RFC 9112 3.2: an HTTP/1.1 request without exactly one Host is an error.
 * RFC 9112 9.3: HTTP/1.1 connections persist unless "Connection: close";
 * HTTP/1.0 ones only with "Connection: keep-alive".
 * A request with a body (Content-Length above 0, or Transfer-Encoding)
 * is answered and the connection closed: GET and HEAD need no body, and
 * closing is simpler and safer than skipping one (RFC 9112 6.3 item 3-4
 * forbids guessing at a broken one).
 */
#include <string.h>

#include "net/http_request.h"

static bool hr_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char hr_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the lower-case word w, ignoring case. */
static bool hr_is(const char *s, size_t n, const char *w)
{
	if (strlen(w) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hr_lower(s[i]) != w[i])
			return false;
	return true;
}

static bool hr_is_exact(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(s, w, n);
}

/* The end of the line starting at s (its LF), NULL if none before end. */
static const char *hr_line_end(const char *s, const char *end)
{
	const char *lf = memchr(s, '\n', (size_t)(end - s));

	return lf;
}

/* The content of a line: without its LF and an optional CR before it.
 * False if a CR or NUL is left inside. */
static bool hr_content(const char *s, const char *lf, size_t *n)
{
	*n = (size_t)(lf - s);
	if (*n && s[*n - 1] == '\r')
		(*n)--;
	for (size_t i = 0; i < *n; i++)
		if (s[i] == '\r' || s[i] == '\0')
			return false;
	return true;
}

static int hr_method(const char *m, size_t n, enum http_method *method)
{
	static const char *const not_allowed[] = {"POST",    "PUT",   "DELETE", "CONNECT",
						  "OPTIONS", "TRACE", "PATCH"};

	*method = HTTP_OTHER;
	if (hr_is_exact(m, n, "GET")) {
		*method = HTTP_GET;
		return 0;
	}
	if (hr_is_exact(m, n, "HEAD")) {
		*method = HTTP_HEAD;
		return 0;
	}
	for (size_t i = 0; i < sizeof not_allowed / sizeof not_allowed[0]; i++)
		if (hr_is_exact(m, n, not_allowed[i]))
			return 405;
	return 501;
}

/* The path of an origin- or absolute-form target, without its query. */
static bool hr_target(const char *t, size_t n, struct http_request *req)
{
	const char *end = t + n, *q;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return false;
	if (n > 7 && hr_is(t, 7, "http://")) {
		const char *slash = memchr(t + 7, '/', n - 7);

		if (slash == t + 7)
			return false; /* no authority */
		t = slash ? slash : end;
	} else if (n == 0 || t[0] != '/') {
		return false;
	}
	q = memchr(t, '?', (size_t)(end - t));
	if (q)
		end = q;
	req->path = t == end ? "/" : t;
	req->path_len = t == end ? 1 : (size_t)(end - t);
	return true;
}

/* "HTTP/1.1": 0 and *minor, 505 for another major version, 400 if not a
 * version at all. */
static int hr_version(const char *v, size_t n, unsigned *minor)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1')
		return 505;
	*minor = (unsigned)(v[7] - '0') > 1 ? 1 : (unsigned)(v[7] - '0');
	return 0;
}

static int hr_request_line(const char *s, size_t n, struct http_request *req)
{
	const char *end = s + n, *sp1, *sp2;
	int st, mst;

	sp1 = memchr(s, ' ', n);
	if (!sp1 || sp1 == s)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)))
		return 400;
	for (const char *p = s; p < sp1; p++)
		if (!hr_tchar(*p))
			return 400;
	st = hr_version(sp2 + 1, (size_t)(end - sp2 - 1), &req->minor);
	if (st)
		return st;
	mst = hr_method(s, (size_t)(sp1 - s), &req->method);
	if (mst)
		return mst; /* the target of a method we do not serve is not ours to judge */
	if (!hr_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), req))
		return 400;
	return 0;
}

/* Content-Length: 1*DIGIT; several fields must agree (RFC 9112 6.3). */
static bool hr_content_length(const char *v, size_t n, long long *len)
{
	long long x = 0;

	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (v[i] - '0');
	}
	if (*len >= 0 && *len != x)
		return false;
	*len = x;
	return true;
}

/* The comma-separated tokens of a Connection field. */
static void hr_connection(const char *v, size_t n, bool *close, bool *keep)
{
	const char *end = v + n;

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v)), *e = comma ? comma : end;
		const char *b = v;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (hr_is(b, (size_t)(e - b), "close"))
			*close = true;
		else if (hr_is(b, (size_t)(e - b), "keep-alive"))
			*keep = true;
		v = comma ? comma + 1 : end;
	}
}

static bool hr_fail(struct http_request *req, int status, size_t length)
{
	req->status = status;
	req->keep_alive = false;
	req->length = length;
	return true;
}

bool http_request_parse(const char *buf, size_t len, struct http_request *req)
{
	const char *s = buf, *end, *lf;
	size_t n, limit = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	unsigned hosts = 0;
	bool close = false, keep = false, body = false;
	long long clen = -1;
	int st;

	*req = (struct http_request){0};
	end = buf + limit;
	while (s < end && (*s == '\r' || *s == '\n'))
		s++;
	lf = hr_line_end(s, end);
	if (!lf) {
		if ((size_t)(end - s) > HTTP_LINE_MAX + 1)
			return hr_fail(req, 414, len);
		if (limit == HTTP_HEAD_MAX)
			return hr_fail(req, 431, len);
		return false;
	}
	if (!hr_content(s, lf, &n))
		return hr_fail(req, 400, len);
	if (n > HTTP_LINE_MAX)
		return hr_fail(req, 414, len);
	st = hr_request_line(s, n, req);
	for (s = lf + 1;; s = lf + 1) {
		const char *colon, *v, *ve;

		lf = hr_line_end(s, end);
		if (!lf)
			return limit == HTTP_HEAD_MAX ? hr_fail(req, 431, len) : false;
		if (!hr_content(s, lf, &n))
			return hr_fail(req, 400, len);
		if (n == 0)
			break; /* the blank line: the head is complete */
		if (st)
			continue; /* already an error: only its length matters */
		colon = memchr(s, ':', n);
		if (s[0] == ' ' || s[0] == '\t' || !colon || colon == s) {
			st = 400; /* obs-fold, or not a field */
			continue;
		}
		for (const char *p = s; p < colon; p++)
			if (!hr_tchar(*p))
				st = 400;
		v = colon + 1;
		ve = s + n;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (hr_is(s, (size_t)(colon - s), "host"))
			hosts++;
		else if (hr_is(s, (size_t)(colon - s), "connection"))
			hr_connection(v, (size_t)(ve - v), &close, &keep);
		else if (hr_is(s, (size_t)(colon - s), "content-length")) {
			if (!hr_content_length(v, (size_t)(ve - v), &clen))
				st = 400;
		} else if (hr_is(s, (size_t)(colon - s), "transfer-encoding"))
			body = true;
	}
	req->length = (size_t)(lf + 1 - buf);
	if (!st && (hosts > 1 || (req->minor >= 1 && hosts == 0)))
		st = 400;
	if (st)
		return hr_fail(req, st, req->length);
	if (clen > 0)
		body = true;
	req->keep_alive = !body && !close && (req->minor >= 1 || keep);
	return true;
}
