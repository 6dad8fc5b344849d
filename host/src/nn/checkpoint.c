/*
** checkpoint.c -- parameters and optimiser state to and from a sealed blob
** (layout in daydream/checkpoint.h). Loading reads the whole blob into
** scratch memory and proves it sound -- checksum, every length, name and
** shape -- before a single byte of the parameter set changes.
*/
#include <stdlib.h>
#include <string.h>

#include "daydream/checkpoint.h"
#include "daydream/crc32.h"
#include "optim_internal.h"
#include "paramset_internal.h"

static const char MAGIC[8] = {'D', 'D', 'N', 'N', 'C', 'K', 'P', 'T'};
#define HEADER_BYTES 20 /* magic, version, body length */

static int little_endian(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 1;
}

/* ---- writing -------------------------------------------------------------- */

typedef struct sink {
	dd_writer *w;
	uint32_t crc;
	int failed;
} sink;

static void put(sink *s, const void *p, size_t n)
{
	if (s->failed || n == 0)
		return;
	if (s->w->write(s->w, p, n) != DD_OK) {
		s->failed = 1;
		return;
	}
	s->crc = dd_crc32(s->crc, p, n);
}

static void put_u32(sink *s, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(s, b, 4);
}

static void put_u64(sink *s, uint64_t v)
{
	put_u32(s, (uint32_t)v);
	put_u32(s, (uint32_t)(v >> 32));
}

static void put_f32(sink *s, float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	put_u32(s, v);
}

static void put_floats(sink *s, const float *p, size_t n)
{
	if (little_endian()) {
		put(s, p, n * sizeof(float));
		return;
	}
	for (size_t i = 0; i < n; i++)
		put_f32(s, p[i]);
}

static size_t body_size(const dd_paramset *ps, int moments)
{
	size_t n = 4, total = 0;
	for (int i = 0; i < ps->n; i++) {
		const dd_tensor *t = ps->entries[i].tensor;
		n += 4 + strlen(ps->entries[i].name) + 4 + 4 * (size_t)t->ndim + 4 * t->size;
		total += t->size;
	}
	return n + 4 + 4 + 8 + 4 + (size_t)moments * total * 4;
}

size_t dd_checkpoint_size(const dd_paramset *ps, const dd_optim *opt)
{
	return HEADER_BYTES + body_size(ps, opt ? nn_optim_moments(&opt->cfg) : 0) + 4;
}

int dd_checkpoint_save(dd_paramset *ps, const dd_optim *opt, dd_writer *w)
{
	if (!ps->data)
		return dd_paramset_fail(ps, "checkpoint: the parameter set is not allocated");
	int moments = opt ? nn_optim_moments(&opt->cfg) : 0;
	sink s = {w, 0, 0};
	put(&s, MAGIC, sizeof MAGIC);
	put_u32(&s, DD_CHECKPOINT_VERSION);
	put_u64(&s, body_size(ps, moments));
	put_u32(&s, (uint32_t)ps->n);
	for (int i = 0; i < ps->n; i++) {
		const ps_entry *e = &ps->entries[i];
		uint32_t len = (uint32_t)strlen(e->name);
		put_u32(&s, len);
		put(&s, e->name, len);
		put_u32(&s, (uint32_t)e->tensor->ndim);
		for (int d = 0; d < e->tensor->ndim; d++)
			put_u32(&s, (uint32_t)e->tensor->dims[d]);
		put_floats(&s, e->tensor->data, e->tensor->size);
	}
	put_u32(&s, opt ? (uint32_t)opt->cfg.kind : 0u);
	put_u32(&s, (uint32_t)moments);
	put_u64(&s, opt ? (uint64_t)opt->step : 0u);
	put_f32(&s, opt ? opt->cfg.lr : 0.0f);
	for (int k = 0; k < moments; k++)
		for (int i = 0; i < ps->n; i++)
			put_floats(&s, opt->state + (size_t)k * ps->count + ps->entries[i].offset,
			           ps->entries[i].tensor->size);
	uint32_t crc = s.crc;
	put_u32(&s, crc);
	if (s.failed)
		return dd_paramset_fail(ps, "checkpoint: the writer failed");
	return DD_OK;
}

/* ---- reading -------------------------------------------------------------- */

/* A bounds-checked cursor over the scratch copy of the body. */
typedef struct cursor {
	const uint8_t *p;
	size_t len, pos;
	int bad;
} cursor;

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static const uint8_t *take(cursor *c, size_t n)
{
	if (c->bad || n > c->len - c->pos) {
		c->bad = 1;
		return NULL;
	}
	const uint8_t *p = c->p + c->pos;
	c->pos += n;
	return p;
}

static uint32_t get_u32(cursor *c)
{
	const uint8_t *b = take(c, 4);
	return b ? le32(b) : 0;
}

static void copy_floats(float *dst, const uint8_t *src, size_t n)
{
	if (little_endian()) {
		memcpy(dst, src, n * sizeof(float));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t v = le32(src + 4 * i);
		memcpy(dst + i, &v, 4);
	}
}

int dd_checkpoint_load(dd_paramset *ps, dd_optim *opt, dd_reader *r)
{
	if (!ps->data)
		return dd_paramset_fail(ps, "checkpoint: the parameter set is not allocated");
	if (opt && opt->ps != ps)
		return dd_paramset_fail(ps, "checkpoint: the optimiser belongs to another set");
	uint8_t head[HEADER_BYTES];
	if (r->remaining < HEADER_BYTES + 4 || r->read(r, head, HEADER_BYTES) != DD_OK)
		return dd_paramset_fail(ps, "checkpoint refused: truncated (%zu bytes, the "
		                        "header alone needs %d)", r->remaining, HEADER_BYTES + 4);
	if (memcmp(head, MAGIC, sizeof MAGIC) != 0)
		return dd_paramset_fail(ps, "checkpoint refused: not a Daydream checkpoint "
		                        "(bad magic)");
	uint32_t version = le32(head + 8);
	if (version != DD_CHECKPOINT_VERSION)
		return dd_paramset_fail(ps, "checkpoint refused: format version %u, this "
		                        "build reads %u", version, DD_CHECKPOINT_VERSION);
	uint64_t blen = (uint64_t)le32(head + 12) | (uint64_t)le32(head + 16) << 32;
	if (blen > r->remaining || r->remaining - blen < 4)
		return dd_paramset_fail(ps, "checkpoint refused: truncated (body of %llu bytes "
		                        "and checksum announced, %zu bytes left)",
		                        (unsigned long long)blen, r->remaining);
	size_t bytes = (size_t)blen;
	uint8_t *body = malloc(bytes + 4);
	size_t *where = calloc((size_t)ps->n, sizeof *where); /* body offset of each tensor's values */
	if (!body || !where) {
		free(body);
		free(where);
		return dd_paramset_fail(ps, "checkpoint: out of memory for %zu bytes", bytes);
	}
	int rc = DD_ERR;
	if (r->read(r, body, bytes + 4) != DD_OK) {
		dd_paramset_fail(ps, "checkpoint refused: truncated (reading the body failed)");
		goto done;
	}
	uint32_t crc = dd_crc32(dd_crc32(0, head, HEADER_BYTES), body, bytes);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	crc = le32(body + bytes); /* let the fuzzer reach the parser below */
#endif
	if (crc != le32(body + bytes)) {
		dd_paramset_fail(ps, "checkpoint refused: checksum mismatch (stored %08x, "
		                 "computed %08x): the blob is corrupt", le32(body + bytes), crc);
		goto done;
	}

	cursor c = {body, bytes, 0, 0};
	uint32_t count = get_u32(&c);
	if (!c.bad && count != (uint32_t)ps->n) {
		dd_paramset_fail(ps, "checkpoint refused: %u tensors saved, this parameter "
		                 "set has %d", count, ps->n);
		goto done;
	}
	for (uint32_t t = 0; t < count && !c.bad; t++) {
		uint32_t len = get_u32(&c);
		if (len < 1 || len > DD_PARAM_NAME_MAX) {
			dd_paramset_fail(ps, "checkpoint refused: tensor %u has a name of %u bytes", t, len);
			goto done;
		}
		const uint8_t *name = take(&c, len);
		if (!name)
			break;
		char nm[DD_PARAM_NAME_MAX + 1];
		memcpy(nm, name, len);
		nm[len] = '\0';
		int idx = -1;
		for (int i = 0; i < ps->n; i++)
			if (strcmp(ps->entries[i].name, nm) == 0)
				idx = i;
		if (idx < 0 || strlen(nm) != len) {
			dd_paramset_fail(ps, "checkpoint refused: unknown tensor '%s'", nm);
			goto done;
		}
		if (where[idx]) {
			dd_paramset_fail(ps, "checkpoint refused: tensor '%s' appears twice", nm);
			goto done;
		}
		const dd_tensor *pt = ps->entries[idx].tensor;
		uint32_t ndim = get_u32(&c);
		int same = !c.bad && ndim == (uint32_t)pt->ndim;
		for (uint32_t d = 0; same && d < ndim; d++)
			same = get_u32(&c) == (uint32_t)pt->dims[d] && !c.bad;
		if (c.bad)
			break;
		if (!same) {
			dd_paramset_fail(ps, "checkpoint refused: tensor '%s' has another shape "
			                 "than this parameter set's", nm);
			goto done;
		}
		where[idx] = c.pos;
		if (!take(&c, 4 * pt->size))
			break;
	}
	uint32_t kind = get_u32(&c), moments = get_u32(&c);
	const uint8_t *stepb = take(&c, 8), *lrb = take(&c, 4);
	if (c.bad) {
		dd_paramset_fail(ps, "checkpoint refused: a length runs past the end of the body");
		goto done;
	}
	if (opt && (kind != (uint32_t)opt->cfg.kind ||
	            moments != (uint32_t)nn_optim_moments(&opt->cfg))) {
		dd_paramset_fail(ps, "checkpoint refused: saved optimiser kind %u with %u "
		                 "moments, this one is kind %d with %d", kind, moments,
		                 (int)opt->cfg.kind, nn_optim_moments(&opt->cfg));
		goto done;
	}
	if (kind > DD_OPTIM_ADAM || moments > 2 || (kind == 0 && moments != 0)) {
		dd_paramset_fail(ps, "checkpoint refused: bad optimiser section");
		goto done;
	}
	size_t total = 0;
	for (int i = 0; i < ps->n; i++)
		total += ps->entries[i].tensor->size;
	size_t mom_at = c.pos;
	if (bytes - c.pos != (size_t)moments * total * 4) {
		dd_paramset_fail(ps, "checkpoint refused: %zu bytes of optimiser moments, "
		                 "%zu expected", bytes - c.pos, (size_t)moments * total * 4);
		goto done;
	}

	/* Everything checked: commit. */
	for (int i = 0; i < ps->n; i++)
		copy_floats(ps->entries[i].tensor->data, body + where[i], ps->entries[i].tensor->size);
	if (opt) {
		size_t off = mom_at;
		for (uint32_t k = 0; k < moments; k++)
			for (int i = 0; i < ps->n; i++) {
				size_t n = ps->entries[i].tensor->size;
				copy_floats(opt->state + (size_t)k * ps->count + ps->entries[i].offset,
				            body + off, n);
				off += 4 * n;
			}
		opt->step = (int64_t)((uint64_t)le32(stepb) | (uint64_t)le32(stepb + 4) << 32);
		copy_floats(&opt->cfg.lr, lrb, 1);
	}
	rc = DD_OK;
done:
	free(body);
	free(where);
	return rc;
}
