/*
 * A reader for the static part of ACPI Machine Language (ACPI 6.5 chapter
 * 20). See aml.h; resource templates (6.4) are read by aml_resources.c.
 *
 * AML is a byte code: a definition block is a TermList, a sequence of
 * objects, each starting with an opcode. Many objects that contain other
 * objects (Scope, Device, Method, If, Buffer, Package, Field, ...) carry a
 * PkgLength (20.2.4) right after the opcode: the number of bytes the object
 * occupies from the PkgLength on. That is what makes a partial reader
 * possible: whatever we do not understand inside such an object can be
 * skipped as a whole, without knowing its grammar.
 *
 * What it handles:
 *  - DefScope, DefDevice: walked recursively, tracking the absolute path;
 *  - DefName whose value is a constant: Zero/One/Ones, Byte/Word/DWord/
 *    QWord integers, String, Buffer (the bytes are handed out for _CRS),
 *    Package (skipped by the device walk; aml_find_name() hands one out by
 *    its path and aml_parse_package() decodes its integer elements);
 *  - objects skipped by their PkgLength: Method, If/Else/While, Field,
 *    IndexField, BankField, Processor, PowerResource, ThermalZone;
 *  - objects skipped by their fixed shape: OperationRegion with constant
 *    offset and length, Mutex, Event, Alias, External.
 *
 * What it does not handle (by design: nothing here evaluates code):
 *  - control methods: a Method _HID, _CRS or _STA is not run. A device
 *    whose _CRS is a Method reports no resources; a Method _STA counts as
 *    "present" (has_sta stays false);
 *  - objects declared conditionally (inside If/Else) or by code at all
 *    (Load, LoadTable): they are skipped unseen;
 *  - any other opcode in a TermList (CreateField, DataRegion, a method call
 *    at table level, ...): the rest of the enclosing Scope/Device is
 *    skipped with a warning, and the walk goes on after it;
 *  - devices inside Processor/PowerResource/ThermalZone: skipped;
 *  - Scope() opening an existing device by name: its contents are reported
 *    as a separate device only if it contains a Device() itself;
 *  - _CID given as a Package of ids: only a single string/EISA id is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/acpi/aml.h"
#include "kernel/lib/byteorder.h"
#include "kernel/lib/log.h"

/* Opcodes (20.3 "AML Byte Stream Byte Values"). */
#define AML_ZERO_OP	  0x00
#define AML_ONE_OP	  0x01
#define AML_ALIAS_OP	  0x06
#define AML_NAME_OP	  0x08
#define AML_BYTE_PREFIX	  0x0a
#define AML_WORD_PREFIX	  0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX  0x0e
#define AML_SCOPE_OP	  0x10
#define AML_BUFFER_OP	  0x11
#define AML_PACKAGE_OP	  0x12
#define AML_VARPACKAGE_OP 0x13
#define AML_METHOD_OP	  0x14
#define AML_EXTERNAL_OP	  0x15
#define AML_DUAL_NAME	  0x2e
#define AML_MULTI_NAME	  0x2f
#define AML_EXT_PREFIX	  0x5b
#define AML_ROOT_CHAR	  0x5c /* '\' */
#define AML_PARENT_PREFIX 0x5e /* '^' */
#define AML_IF_OP	  0xa0
#define AML_ELSE_OP	  0xa1
#define AML_WHILE_OP	  0xa2
#define AML_ONES_OP	  0xff
/* After AML_EXT_PREFIX. */
#define AML_MUTEX_OP	   0x01
#define AML_EVENT_OP	   0x02
#define AML_OPREGION_OP	   0x80
#define AML_FIELD_OP	   0x81
#define AML_DEVICE_OP	   0x82
#define AML_PROCESSOR_OP   0x83
#define AML_POWERRES_OP	   0x84
#define AML_THERMALZONE_OP 0x85
#define AML_INDEXFIELD_OP  0x86
#define AML_BANKFIELD_OP   0x87

/* Scopes nest a few levels in real tables; the bound only protects the
 * stack from a hostile table. */
#define MAX_DEPTH 16

struct walker {
	const uint8_t *aml; /* start of the block, for offsets in messages */
	aml_device_fn fn;   /* NULL when only looking for a name */
	void *ctx;
	int ndevices;
	int stop;	    /* the callback's non-zero return, or 1 once `want` was found */
	const char *want;   /* aml_find_name(): the path looked for */
	const uint8_t *obj; /* ... and where its value starts and ends */
	const uint8_t *obj_end;
	bool quiet; /* no warnings: a name lookup is not the place to report them */
};

/* A constant value of a Name(). */
struct value {
	enum { V_NONE, V_INT, V_STRING, V_BUFFER } type;
	uint64_t integer;
	const uint8_t *bytes; /* string (not NUL terminated here) or buffer */
	size_t len;
};

static size_t offset_of(const struct walker *w, const uint8_t *p)
{
	return (size_t)(p - w->aml);
}

/*
 * PkgLength (20.2.4): bits 6-7 of the lead byte count the bytes that
 * follow (0-3). With none, bits 0-5 are the length; otherwise bits 0-3 are
 * the low nibble and each following byte adds 8 more bits. The length
 * counts the PkgLength bytes themselves. Returns the end of the object.
 */
static const uint8_t *pkg_end(const uint8_t *p, const uint8_t *end, const uint8_t **body)
{
	unsigned extra, i;
	size_t len;

	if (p >= end)
		return NULL;
	extra = p[0] >> 6;
	if ((size_t)(end - p) < 1 + extra)
		return NULL;
	if (extra == 0) {
		len = p[0] & 0x3f;
	} else {
		if (p[0] & 0x30) /* bits 4-5 must be zero in the multi-byte form */
			return NULL;
		len = p[0] & 0x0f;
		for (i = 0; i < extra; i++)
			len |= (size_t)p[1 + i] << (4 + 8 * i);
	}
	if (len < 1 + extra || len > (size_t)(end - p))
		return NULL;
	*body = p + 1 + extra;
	return p + len;
}

static bool lead_name_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(uint8_t c)
{
	return lead_name_char(c) || (c >= '0' && c <= '9');
}

/* Drops the last ".XXXX" of a path; the root stays the root. */
static void path_up(char *path)
{
	char *dot = strrchr(path, '.');

	if (dot)
		*dot = '\0';
	else
		strcpy(path, "\\");
}

static void path_append(char *path, const uint8_t seg[4])
{
	size_t n = strlen(path);

	if (n + 6 > AML_PATH_MAX)
		return; /* a path this deep is shortened, not overrun */
	if (strcmp(path, "\\") != 0)
		path[n++] = '.';
	memcpy(path + n, seg, 4);
	path[n + 4] = '\0';
}

/*
 * NameString (20.2.2): an optional root '\' or parent prefixes '^', then
 * a NullName, one NameSeg, a DualNamePath or a MultiNamePath of 4-char
 * segments. Resolves it against `scope` into `out` (may be NULL to only
 * skip it). Returns the position after it, or NULL if malformed.
 */
static const uint8_t *name_string(const uint8_t *p, const uint8_t *end, const char *scope,
				  char *out)
{
	char path[AML_PATH_MAX];
	unsigned nseg, i;

	strcpy(path, scope);
	if (p < end && *p == AML_ROOT_CHAR) {
		strcpy(path, "\\");
		p++;
	} else {
		while (p < end && *p == AML_PARENT_PREFIX) {
			path_up(path);
			p++;
		}
	}
	if (p >= end)
		return NULL;
	if (*p == AML_ZERO_OP) {
		nseg = 0;
		p++;
	} else if (*p == AML_DUAL_NAME) {
		nseg = 2;
		p++;
	} else if (*p == AML_MULTI_NAME) {
		if (end - p < 2)
			return NULL;
		nseg = p[1];
		p += 2;
	} else {
		nseg = 1;
	}
	if ((size_t)(end - p) < 4 * (size_t)nseg)
		return NULL;
	for (i = 0; i < nseg; i++, p += 4) {
		if (!lead_name_char(p[0]) || !name_char(p[1]) || !name_char(p[2]) ||
		    !name_char(p[3]))
			return NULL;
		path_append(path, p);
	}
	if (out)
		strcpy(out, path);
	return p;
}

/* The last segment of a resolved path ("_HID" of "\_SB_.VR00._HID"). */
static const char *last_seg(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? dot + 1 : path + 1;
}

/* ComputationalData integers (20.2.3): Zero, One, Ones, and the prefixed
 * forms. Returns the position after it, or NULL if `p` is not one. */
static const uint8_t *integer(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	unsigned n, i;

	if (p >= end)
		return NULL;
	switch (*p) {
	case AML_ZERO_OP:
		*v = 0;
		return p + 1;
	case AML_ONE_OP:
		*v = 1;
		return p + 1;
	case AML_ONES_OP:
		*v = ~0ull;
		return p + 1;
	case AML_BYTE_PREFIX:
		n = 1;
		break;
	case AML_WORD_PREFIX:
		n = 2;
		break;
	case AML_DWORD_PREFIX:
		n = 4;
		break;
	case AML_QWORD_PREFIX:
		n = 8;
		break;
	default:
		return NULL;
	}
	if ((size_t)(end - p) < 1 + n)
		return NULL;
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return p + 1 + n;
}

/* DataRefObject of a Name() (20.2.3), constants only. Returns the position
 * after it, or NULL for something this reader cannot size. */
static const uint8_t *data_object(const uint8_t *p, const uint8_t *end, struct value *v)
{
	const uint8_t *q, *body, *oend;
	uint64_t size;

	v->type = V_NONE;
	if (p >= end)
		return NULL;
	q = integer(p, end, &v->integer);
	if (q) {
		v->type = V_INT;
		return q;
	}
	switch (*p) {
	case AML_STRING_PREFIX:
		q = memchr(p + 1, 0, (size_t)(end - p - 1));
		if (!q)
			return NULL;
		v->type = V_STRING;
		v->bytes = p + 1;
		v->len = (size_t)(q - (p + 1));
		return q + 1;
	case AML_BUFFER_OP:
		/* Buffer: PkgLength, BufferSize (an integer here), bytes. A
		 * declared size larger than the initializer is zero padding
		 * we do not need; a smaller one truncates. */
		oend = pkg_end(p + 1, end, &body);
		if (!oend)
			return NULL;
		q = integer(body, oend, &size);
		if (!q)
			return NULL;
		v->type = V_BUFFER;
		v->bytes = q;
		v->len = (size_t)(oend - q) < size ? (size_t)(oend - q) : (size_t)size;
		return oend;
	case AML_PACKAGE_OP:
	case AML_VARPACKAGE_OP:
		return pkg_end(p + 1, end, &body);
	}
	return NULL;
}

/* Copies an id (_HID/_CID) from a string or an EISA id integer. */
static void set_id(char out[AML_ID_MAX], const struct value *v)
{
	if (v->type == V_STRING) {
		size_t n = v->len < AML_ID_MAX - 1 ? v->len : AML_ID_MAX - 1;
		memcpy(out, v->bytes, n);
		out[n] = '\0';
	} else if (v->type == V_INT && v->integer <= 0xffffffffu) {
		aml_eisaid_to_str((uint32_t)v->integer, out);
	}
}

void aml_eisaid_to_str(uint32_t id, char out[8])
{
	static const char hex[] = "0123456789ABCDEF";
	/* Stored big-endian in a little-endian DWord: three 5-bit letters
	 * ('A' is 1), then four hex digits of product id. */
	uint32_t v = ((id & 0xff) << 24) | ((id & 0xff00) << 8) | ((id >> 8) & 0xff00) | (id >> 24);

	out[0] = (char)('@' + ((v >> 26) & 0x1f));
	out[1] = (char)('@' + ((v >> 21) & 0x1f));
	out[2] = (char)('@' + ((v >> 16) & 0x1f));
	out[3] = hex[(v >> 12) & 0xf];
	out[4] = hex[(v >> 8) & 0xf];
	out[5] = hex[(v >> 4) & 0xf];
	out[6] = hex[v & 0xf];
	out[7] = '\0';
}

static void name_in_device(struct aml_device *dev, const char *name, const struct value *v)
{
	if (strcmp(name, "_HID") == 0) {
		set_id(dev->hid, v);
	} else if (strcmp(name, "_CID") == 0) {
		set_id(dev->cid, v);
	} else if (strcmp(name, "_UID") == 0 && v->type == V_INT) {
		dev->has_uid = true;
		dev->uid = v->integer;
	} else if (strcmp(name, "_STA") == 0 && v->type == V_INT) {
		dev->has_sta = true;
		dev->sta = v->integer;
	} else if (strcmp(name, "_CRS") == 0 && v->type == V_BUFFER) {
		dev->crs = v->bytes;
		dev->crs_len = v->len;
	}
}

static void term_list(struct walker *w, const uint8_t *p, const uint8_t *end, const char *scope,
		      struct aml_device *dev, unsigned depth);

static void unsupported(struct walker *w, const uint8_t *p, const char *scope, const char *what)
{
	if (w->quiet)
		return;
	pr_warn("aml: %s at offset %#zx (opcode 0x%02x) in %s: not handled, skipping the rest "
		"of that scope\n",
		what, offset_of(w, p), *p, scope);
}

/* DefDevice: ExtOpPrefix 0x82 PkgLength NameString TermList. */
static const uint8_t *device(struct walker *w, const uint8_t *p, const uint8_t *end,
			     const char *scope, unsigned depth)
{
	struct aml_device dev;
	const uint8_t *body, *dend, *q;

	dend = pkg_end(p, end, &body);
	if (!dend)
		return NULL;
	memset(&dev, 0, sizeof dev);
	q = name_string(body, dend, scope, dev.path);
	if (!q)
		return NULL;
	term_list(w, q, dend, dev.path, &dev, depth + 1);
	if (!w->stop) {
		w->ndevices++;
		if (w->fn)
			w->stop = w->fn(&dev, w->ctx);
	}
	return dend;
}

/*
 * One TermList. `dev` is the device whose body this is (NULL outside
 * devices): constant names in it describe the device. On anything it
 * cannot size it warns, marks the device incomplete and returns; the
 * caller continues after the enclosing object.
 */
static void term_list(struct walker *w, const uint8_t *p, const uint8_t *end, const char *scope,
		      struct aml_device *dev, unsigned depth)
{
	char path[AML_PATH_MAX];
	const uint8_t *body, *q;
	struct value v;
	uint64_t n;

	if (depth > MAX_DEPTH) {
		unsupported(w, p, scope, "scopes nested too deep");
		goto fail;
	}
	while (p < end && !w->stop) {
		const uint8_t *op = p;

		switch (*p) {
		case AML_SCOPE_OP:
			q = pkg_end(p + 1, end, &body);
			if (!q || !(body = name_string(body, q, scope, path)))
				goto bad;
			term_list(w, body, q, path, NULL, depth + 1);
			p = q;
			break;
		case AML_NAME_OP:
			body = name_string(p + 1, end, scope, path);
			if (!body)
				goto bad;
			q = data_object(body, end, &v);
			if (w->want && strcmp(path, w->want) == 0) {
				/* Found: hand out the value even if this reader
				 * cannot size it (obj_end NULL), so the caller
				 * can say what it is. */
				w->obj = body;
				w->obj_end = q;
				w->stop = 1;
				return;
			}
			if (!q) {
				unsupported(w, op, scope, "Name() with a non-constant value");
				goto fail;
			}
			if (dev)
				name_in_device(dev, last_seg(path), &v);
			p = q;
			break;
		case AML_METHOD_OP:
		case AML_IF_OP:
		case AML_ELSE_OP:
		case AML_WHILE_OP:
		case AML_BUFFER_OP:
		case AML_PACKAGE_OP:
		case AML_VARPACKAGE_OP:
			q = pkg_end(p + 1, end, &body);
			if (!q)
				goto bad;
			p = q;
			break;
		case AML_ALIAS_OP:
			q = name_string(p + 1, end, scope, NULL);
			q = q ? name_string(q, end, scope, NULL) : NULL;
			if (!q)
				goto bad;
			p = q;
			break;
		case AML_EXTERNAL_OP:
			q = name_string(p + 1, end, scope, NULL);
			if (!q || end - q < 2)
				goto bad;
			p = q + 2; /* ObjectType, ArgumentCount */
			break;
		case AML_EXT_PREFIX:
			if (end - p < 2)
				goto bad;
			switch (p[1]) {
			case AML_DEVICE_OP:
				q = device(w, p + 2, end, scope, depth);
				if (!q)
					goto bad;
				p = q;
				break;
			case AML_FIELD_OP:
			case AML_INDEXFIELD_OP:
			case AML_BANKFIELD_OP:
			case AML_PROCESSOR_OP:
			case AML_POWERRES_OP:
			case AML_THERMALZONE_OP:
				q = pkg_end(p + 2, end, &body);
				if (!q)
					goto bad;
				p = q;
				break;
			case AML_OPREGION_OP:
				/* NameString, RegionSpace byte, then offset and
				 * length as TermArgs: constants only. */
				q = name_string(p + 2, end, scope, NULL);
				if (!q || q >= end)
					goto bad;
				q = integer(q + 1, end, &n);
				q = q ? integer(q, end, &n) : NULL;
				if (!q) {
					unsupported(
						w, op, scope,
						"OperationRegion with a computed offset or length");
					goto fail;
				}
				p = q;
				break;
			case AML_MUTEX_OP:
				q = name_string(p + 2, end, scope, NULL);
				if (!q || q >= end)
					goto bad;
				p = q + 1; /* SyncFlags */
				break;
			case AML_EVENT_OP:
				q = name_string(p + 2, end, scope, NULL);
				if (!q)
					goto bad;
				p = q;
				break;
			default:
				unsupported(w, op, scope, "extended opcode");
				goto fail;
			}
			break;
		default:
			unsupported(w, op, scope, "opcode");
			goto fail;
		}
	}
	return;
bad:
	unsupported(w, p, scope, "truncated or malformed object");
fail:
	if (dev)
		dev->incomplete = true;
}

int aml_walk_devices(const uint8_t *aml, size_t len, aml_device_fn fn, void *ctx)
{
	struct walker w = {.aml = aml, .fn = fn, .ctx = ctx};

	if (!aml || !fn)
		return -EINVAL;
	term_list(&w, aml, aml + len, "\\", NULL, 0);
	return w.stop ? w.stop : w.ndevices;
}

int aml_find_name(const uint8_t *aml, size_t len, const char *path, const uint8_t **obj,
		  size_t *obj_len)
{
	struct walker w = {.aml = aml, .want = path, .quiet = true};

	if (!aml || !path || path[0] != '\\' || !obj || !obj_len)
		return -EINVAL;
	term_list(&w, aml, aml + len, "\\", NULL, 0);
	if (!w.obj)
		return -ENOENT;
	*obj = w.obj;
	/* A value the reader cannot size: what is left of the block, so the
	 * caller can look at its opcode but never reads past the end. */
	*obj_len = (size_t)((w.obj_end ? w.obj_end : aml + len) - w.obj);
	return w.obj_end ? 0 : -EINVAL;
}

/*
 * DefPackage (20.2.5.4): PackageOp PkgLength NumElements PackageElementList,
 * NumElements a ByteData; DefVarPackage: VarPackageOp PkgLength
 * VarNumElements (a TermArg: here only an integer constant) and the list.
 * Each element is a DataRefObject or a NameString (20.2.5.4); constants are
 * decoded, strings, buffers, packages and names are skipped by their size.
 */
int aml_parse_package(const uint8_t *obj, size_t len, struct aml_package *pkg)
{
	const uint8_t *end = obj + len, *body, *pend, *p, *q;
	uint64_t declared;
	struct value v;

	memset(pkg, 0, sizeof *pkg);
	if (!obj || len == 0)
		return -EINVAL;
	if (obj[0] != AML_PACKAGE_OP && obj[0] != AML_VARPACKAGE_OP)
		return -EINVAL;
	pend = pkg_end(obj + 1, end, &body);
	if (!pend || body >= pend)
		return -EINVAL;
	if (obj[0] == AML_PACKAGE_OP) {
		declared = body[0];
		p = body + 1;
	} else {
		p = integer(body, pend, &declared);
		if (!p)
			return -EINVAL;
	}
	pkg->declared = declared > 255 ? 255 : (unsigned)declared;
	/* The initializer may list fewer elements than declared (the rest
	 * are uninitialized); more than declared is malformed (ACPICA
	 * truncates, we stop at the declared count). */
	while (p < pend && pkg->nelems < pkg->declared && pkg->nelems < AML_PKG_MAX) {
		struct aml_pkg_elem *e = &pkg->elem[pkg->nelems];

		e->opcode = *p;
		q = data_object(p, pend, &v);
		if (!q && (*p == AML_ROOT_CHAR || *p == AML_PARENT_PREFIX || *p == AML_DUAL_NAME ||
			   *p == AML_MULTI_NAME || lead_name_char(*p)))
			q = name_string(p, pend, "\\", NULL);
		if (!q) {
			/* Kept (is_int false, its opcode) so the caller can
			 * say what it saw; nothing after it is read. */
			pkg->nelems++;
			pkg->unreadable = true;
			break;
		}
		e->is_int = v.type == V_INT;
		e->value = e->is_int ? v.integer : 0;
		pkg->nelems++;
		p = q;
	}
	return 0;
}
