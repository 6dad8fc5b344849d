/*
** paramset.c -- named parameters as views into one value buffer and one
** gradient buffer, so every whole-model operation is a single loop.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/param.h"
#include "paramset_internal.h"

#define ALIGN_FLOATS 16 /* each tensor starts on a 64-byte boundary */

dd_paramset *dd_paramset_new(void)
{
	return calloc(1, sizeof(dd_paramset));
}

void dd_paramset_free(dd_paramset *ps)
{
	if (!ps)
		return;
	for (int i = 0; i < ps->n; i++)
		free(ps->entries[i].tensor);
	free(ps->entries);
	free(ps->data);
	free(ps->grad);
	free(ps);
}

int dd_paramset_fail(dd_paramset *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof ps->err, fmt, ap);
	va_end(ap);
	return DD_ERR;
}

const char *dd_paramset_error(const dd_paramset *ps)
{
	return ps->err;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > DD_PARAM_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

dd_tensor *dd_paramset_add(dd_paramset *ps, const char *name, int ndim, const int *dims)
{
	if (ps->data) {
		dd_paramset_fail(ps, "paramset: add '%s' after alloc", name ? name : "");
		return NULL;
	}
	if (!name || !valid_name(name)) {
		dd_paramset_fail(ps, "paramset: bad name '%s' (1..%d of [A-Za-z0-9_.-])",
		                 name ? name : "(null)", DD_PARAM_NAME_MAX);
		return NULL;
	}
	if (dd_paramset_find(ps, name)) {
		dd_paramset_fail(ps, "paramset: duplicate name '%s'", name);
		return NULL;
	}
	size_t count = dd_shape_count(ndim, dims);
	if (count == 0) {
		dd_paramset_fail(ps, "paramset: bad shape for '%s'", name);
		return NULL;
	}
	if (ps->n == ps->cap) {
		int cap = ps->cap ? 2 * ps->cap : 16;
		ps_entry *e = realloc(ps->entries, (size_t)cap * sizeof *e);
		if (!e) {
			dd_paramset_fail(ps, "paramset: out of memory");
			return NULL;
		}
		ps->entries = e;
		ps->cap = cap;
	}
	dd_tensor *t = calloc(1, sizeof *t);
	if (!t) {
		dd_paramset_fail(ps, "paramset: out of memory");
		return NULL;
	}
	t->ndim = ndim;
	for (int i = 0; i < DD_MAX_DIMS; i++)
		t->dims[i] = i < ndim ? dims[i] : 1;
	t->size = count;
	ps_entry *e = &ps->entries[ps->n++];
	memcpy(e->name, name, strlen(name) + 1);
	e->tensor = t;
	e->offset = (ps->count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
	ps->count = e->offset + count;
	return t;
}

static float *alloc_floats(size_t n)
{
	/* aligned_alloc wants a size that is a multiple of the alignment */
	size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
	float *p = aligned_alloc(64, bytes ? bytes : 64);
	if (p)
		memset(p, 0, bytes ? bytes : 64);
	return p;
}

int dd_paramset_alloc(dd_paramset *ps)
{
	if (ps->data)
		return dd_paramset_fail(ps, "paramset: already allocated");
	if (ps->n == 0)
		return dd_paramset_fail(ps, "paramset: no parameters");
	ps->count = (ps->count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
	ps->data = alloc_floats(ps->count);
	ps->grad = alloc_floats(ps->count);
	if (!ps->data || !ps->grad) {
		free(ps->data);
		free(ps->grad);
		ps->data = ps->grad = NULL;
		return dd_paramset_fail(ps, "paramset: out of memory for %zu floats", ps->count);
	}
	for (int i = 0; i < ps->n; i++) {
		ps->entries[i].tensor->data = ps->data + ps->entries[i].offset;
		ps->entries[i].tensor->grad = ps->frozen ? NULL : ps->grad + ps->entries[i].offset;
	}
	return DD_OK;
}

size_t dd_paramset_count(const dd_paramset *ps)
{
	return ps->count;
}

float *dd_paramset_data(dd_paramset *ps)
{
	return ps->data;
}

float *dd_paramset_grad(dd_paramset *ps)
{
	return ps->grad;
}

int dd_paramset_len(const dd_paramset *ps)
{
	return ps->n;
}

dd_tensor *dd_paramset_tensor(dd_paramset *ps, int i)
{
	return i >= 0 && i < ps->n ? ps->entries[i].tensor : NULL;
}

const char *dd_paramset_name(const dd_paramset *ps, int i)
{
	return i >= 0 && i < ps->n ? ps->entries[i].name : NULL;
}

dd_tensor *dd_paramset_find(dd_paramset *ps, const char *name)
{
	for (int i = 0; i < ps->n; i++)
		if (strcmp(ps->entries[i].name, name) == 0)
			return ps->entries[i].tensor;
	return NULL;
}

void dd_paramset_freeze(dd_paramset *ps, int frozen)
{
	ps->frozen = frozen != 0;
	if (!ps->data)
		return;
	for (int i = 0; i < ps->n; i++)
		ps->entries[i].tensor->grad = ps->frozen ? NULL : ps->grad + ps->entries[i].offset;
}

int dd_paramset_frozen(const dd_paramset *ps)
{
	return ps->frozen;
}

void dd_paramset_zero_grad(dd_paramset *ps)
{
	if (ps->grad)
		memset(ps->grad, 0, ps->count * sizeof(float));
}

double dd_paramset_grad_norm(const dd_paramset *ps)
{
	double s = 0.0;
	for (size_t i = 0; ps->grad && i < ps->count; i++)
		s += (double)ps->grad[i] * ps->grad[i];
	return sqrt(s);
}

double dd_paramset_clip_grad_norm(dd_paramset *ps, double max_norm)
{
	double norm = dd_paramset_grad_norm(ps);
	if (norm > max_norm && norm > 0.0) {
		float k = (float)(max_norm / norm);
		for (size_t i = 0; i < ps->count; i++)
			ps->grad[i] *= k;
	}
	return norm;
}
