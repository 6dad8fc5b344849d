/*
** sprites.c -- the image sets moving digits are cut from: IDX files
** (Fashion-MNIST, MNIST; read by libdaydream's IDX reader) or the 8x8
** digits of scikit-learn (digits.csv[.gz], read here). A set is loaded once
** per process and shared by the env instances that use the same file.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "daydream/idx.h"
#include "video.h"

#define MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct shared_set {
	sprite_set set;
	char *path;
	int refs;
	struct shared_set *next;
} shared_set;

/* Sets in use; the list and the counts are guarded by the lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static shared_set *loaded;

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Parses one number of a CSV field; *p moves past it and its comma. */
static int csv_number(const char **p, const char *end, double *v)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\r'))
		s++;
	char buf[32];
	size_t k = 0;
	while (s < end && *s != ',' && *s != '\n' && k + 1 < sizeof buf)
		buf[k++] = *s++;
	buf[k] = '\0';
	char *stop;
	*v = strtod(buf, &stop);
	if (k == 0 || (*stop != '\0' && *stop != '\r' && *stop != ' '))
		return DD_ERR;
	if (s < end && *s == ',')
		s++;
	*p = s;
	return DD_OK;
}

int sprites_parse_csv(const char *text, size_t n, const char *name, sprite_set *out,
                      char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	size_t lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += text[i] == '\n';
	lines += n > 0 && text[n - 1] != '\n';
	uint8_t *px = malloc(lines * 64 + 1);
	if (!px) {
		snprintf(err, errlen, "%s: out of memory", name);
		return DD_ERR;
	}
	const char *p = text, *end = text + n;
	int count = 0, line = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		line++;
		if (eol == p || (eol == p + 1 && *p == '\r')) { /* blank line */
			p = eol + 1;
			continue;
		}
		for (int k = 0; k < 65; k++) {
			double v;
			if (csv_number(&p, eol, &v) != DD_OK || (k < 64 && (v < 0 || v > 16))) {
				snprintf(err, errlen, "%s:%d: value %d is not a number in 0..16 "
				         "(expected 64 pixels and a label per line, as sklearn's digits.csv)",
				         name, line, k + 1);
				free(px);
				return DD_ERR;
			}
			if (k < 64)
				px[(size_t)count * 64 + k] = (uint8_t)(v + 0.5);
		}
		while (p < eol && (*p == ' ' || *p == '\r'))
			p++;
		if (p != eol) {
			snprintf(err, errlen, "%s:%d: more than 65 values on the line", name, line);
			free(px);
			return DD_ERR;
		}
		count++;
		p = eol + 1;
	}
	if (count == 0) {
		snprintf(err, errlen, "%s: no sprites in the file", name);
		free(px);
		return DD_ERR;
	}
	*out = (sprite_set){.n = count, .h = 8, .w = 8, .scale = 1.0f / 16, .pixels = px};
	return DD_OK;
}

/* Reads a whole file, gunzipping when needed (zlib reads plain files too). */
static int read_all(const char *path, char **text, size_t *n, char *err, size_t errlen)
{
	gzFile f = gzopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return DD_ERR;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int got;
	while (buf && (got = gzread(f, buf + len, (unsigned)(cap - len))) > 0) {
		len += (size_t)got;
		if (len == cap) {
			char *nb = cap < MAX_FILE_BYTES ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int zerr = 0;
	const char *why = buf ? gzerror(f, &zerr) : "out of memory or larger than 1 GiB";
	if (!buf || zerr < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, why);
		free(buf);
		gzclose(f);
		return DD_ERR;
	}
	gzclose(f);
	*text = buf;
	*n = len;
	return DD_OK;
}

static int load_csv(const char *path, sprite_set *out, char *err, size_t errlen)
{
	char *text;
	size_t n;
	if (read_all(path, &text, &n, err, errlen) != DD_OK)
		return DD_ERR;
	int rc = sprites_parse_csv(text, n, path, out, err, errlen);
	free(text);
	return rc;
}

static int load_idx(const char *path, sprite_set *out, char *err, size_t errlen)
{
	dd_idx x;
	char why[256];
	if (dd_idx_load(&x, path, MAX_FILE_BYTES, why, sizeof why) != DD_OK) {
		snprintf(err, errlen, "sprites: %s%s", why,
		         strstr(path, "fashion-mnist") ? " (install the Debian package dataset-fashion-mnist)" : "");
		return DD_ERR;
	}
	if (x.type != DD_IDX_U8 || x.ndim != 3 || x.dims[1] < 1 || x.dims[2] < 1) {
		snprintf(err, errlen, "%s: expected 8-bit images (an IDX file of type 0x08 with 3 "
		         "dimensions: count, height, width), got type 0x%02x with %d dimensions",
		         path, (unsigned)x.type, x.ndim);
		dd_idx_free(&x);
		return DD_ERR;
	}
	uint8_t *px = malloc(x.count);
	if (!px) {
		dd_idx_free(&x);
		snprintf(err, errlen, "%s: out of memory", path);
		return DD_ERR;
	}
	memcpy(px, x.values, x.count); /* u8 values need no byte swapping */
	*out = (sprite_set){.n = x.dims[0], .h = x.dims[1], .w = x.dims[2],
	                    .scale = 1.0f / 255, .pixels = px};
	dd_idx_free(&x);
	return DD_OK;
}

int sprites_acquire(const char *path, const sprite_set **out, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	for (shared_set *s = loaded; s; s = s->next)
		if (strcmp(s->path, path) == 0) {
			s->refs++;
			*out = &s->set;
			pthread_mutex_unlock(&lock);
			return DD_OK;
		}
	shared_set *s = calloc(1, sizeof *s);
	int rc = DD_ERR;
	if (!s || !(s->path = strdup(path)))
		snprintf(err, errlen, "out of memory");
	else if (ends_with(path, ".csv") || ends_with(path, ".csv.gz"))
		rc = load_csv(path, &s->set, err, errlen);
	else
		rc = load_idx(path, &s->set, err, errlen);
	if (rc != DD_OK) {
		if (s)
			free(s->path);
		free(s);
	} else {
		s->refs = 1;
		s->next = loaded;
		loaded = s;
		*out = &s->set;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void sprites_release(const sprite_set *set)
{
	if (!set)
		return;
	pthread_mutex_lock(&lock);
	for (shared_set **p = &loaded; *p; p = &(*p)->next)
		if (&(*p)->set == set) {
			shared_set *s = *p;
			if (--s->refs == 0) {
				*p = s->next;
				free(s->set.pixels);
				free(s->path);
				free(s);
			}
			break;
		}
	pthread_mutex_unlock(&lock);
}
