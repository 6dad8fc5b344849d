/*
** idx.c -- reader of IDX files (LeCun's MNIST format), gzipped or not.
** Sizes come from the file, so each is checked against the bytes present
** before anything is indexed; a fuzz target (tests/nn/fuzz_idx.c) holds it
** to that.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "daydream/idx.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return DD_ERR;
}

static size_t type_size(int type)
{
	switch (type) {
	case DD_IDX_U8: case DD_IDX_I8: return 1;
	case DD_IDX_I16: return 2;
	case DD_IDX_I32: case DD_IDX_F32: return 4;
	case DD_IDX_F64: return 8;
	}
	return 0;
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int dd_idx_parse(dd_idx *out, const void *bytes, size_t n, char *err, size_t errlen)
{
	const uint8_t *b = bytes;
	memset(out, 0, sizeof *out);
	if (!b || n < 4)
		return fail(err, errlen, "idx: %zu bytes, too short for a header", n);
	if (b[0] != 0 || b[1] != 0)
		return fail(err, errlen, "idx: bad magic (first two bytes must be zero)");
	size_t es = type_size(b[2]);
	if (es == 0)
		return fail(err, errlen, "idx: unknown type code 0x%02x", b[2]);
	int nd = b[3];
	if (nd < 1 || nd > DD_MAX_DIMS)
		return fail(err, errlen, "idx: %d dimensions (1..%d supported)", nd, DD_MAX_DIMS);
	if (n < 4 + 4 * (size_t)nd)
		return fail(err, errlen, "idx: truncated in the dimensions");
	size_t count = 1;
	for (int i = 0; i < nd; i++) {
		uint32_t d = be32(b + 4 + 4 * i);
		if (d < 1 || d > 0x7fffffffu)
			return fail(err, errlen, "idx: dimension %d is %u", i, d);
		if (count > (n / es) / d) /* more values than the file can hold */
			return fail(err, errlen, "idx: truncated (dimensions need more "
			            "values than the %zu bytes hold)", n);
		count *= d;
		out->dims[i] = (int)d;
	}
	size_t head = 4 + 4 * (size_t)nd;
	if (n - head != count * es)
		return fail(err, errlen, "idx: %zu bytes of values, the dimensions say %zu",
		            n - head, count * es);
	for (int i = nd; i < DD_MAX_DIMS; i++)
		out->dims[i] = 1;
	out->type = (dd_idx_type)b[2];
	out->ndim = nd;
	out->count = count;
	out->values = b + head;
	return DD_OK;
}

int dd_idx_load(dd_idx *out, const char *path, size_t max_bytes, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	gzFile f = gzopen(path, "rb");
	if (!f)
		return fail(err, errlen, "idx: cannot open %s", path);
	size_t cap = max_bytes < (1 << 16) ? max_bytes + 1 : 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	int rc = DD_ERR;
	if (!buf) {
		fail(err, errlen, "idx: out of memory");
		goto done;
	}
	for (;;) {
		if (len == cap) {
			if (cap > max_bytes) { /* cap = max_bytes + 1 holds one byte too many */
				fail(err, errlen, "idx: %s is larger than %zu bytes", path, max_bytes);
				goto done;
			}
			size_t ncap = cap * 2 <= max_bytes ? cap * 2 : max_bytes + 1;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb) {
				fail(err, errlen, "idx: out of memory");
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		size_t want = cap - len;
		int got = gzread(f, buf + len, (unsigned)(want > (1u << 30) ? 1u << 30 : want));
		if (got < 0) {
			int code;
			fail(err, errlen, "idx: reading %s: %s", path, gzerror(f, &code));
			goto done;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (dd_idx_parse(out, buf, len, err, errlen) != DD_OK)
		goto done;
	out->owned = buf;
	buf = NULL;
	rc = DD_OK;
	if (err && errlen)
		err[0] = '\0';
done:
	free(buf);
	gzclose(f);
	return rc;
}

void dd_idx_free(dd_idx *idx)
{
	free(idx->owned);
	memset(idx, 0, sizeof *idx);
}

static double value(const dd_idx *x, size_t i)
{
	const uint8_t *p = x->values + i * type_size(x->type);
	switch (x->type) {
	case DD_IDX_U8: return p[0];
	case DD_IDX_I8: return (int8_t)p[0];
	case DD_IDX_I16: return (int16_t)(uint16_t)((uint16_t)p[0] << 8 | p[1]);
	case DD_IDX_I32: return (int32_t)be32(p);
	case DD_IDX_F32: {
		uint32_t v = be32(p);
		float f;
		memcpy(&f, &v, 4);
		return f;
	}
	case DD_IDX_F64: {
		uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
		double d;
		memcpy(&d, &v, 8);
		return d;
	}
	}
	return 0.0;
}

int dd_idx_to_float(const dd_idx *idx, size_t first, size_t n, float scale, float *dst)
{
	if (!idx->values || first > idx->count || n > idx->count - first)
		return DD_ERR;
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)value(idx, first + i) * scale;
	return DD_OK;
}

int dd_idx_to_int(const dd_idx *idx, size_t first, size_t n, int *dst)
{
	if (!idx->values || first > idx->count || n > idx->count - first)
		return DD_ERR;
	for (size_t i = 0; i < n; i++) {
		double v = value(idx, first + i);
		dst[i] = v != v || v > 2147483647.0 || v < -2147483648.0 ? 0 : (int)v;
	}
	return DD_OK;
}
