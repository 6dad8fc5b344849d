/*
** tensor.c -- heap tensors, shape arithmetic and reshape views.
*/
#include <stdlib.h>
#include <string.h>

#include "daydream/tensor.h"

size_t dd_shape_count(int ndim, const int *dims)
{
	if (ndim < 1 || ndim > DD_MAX_DIMS || !dims)
		return 0;
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if (dims[i] < 1)
			return 0;
		if (n > ((size_t)-1 / 4) / (size_t)dims[i]) /* bytes must fit size_t */
			return 0;
		n *= (size_t)dims[i];
	}
	return n;
}

static void set_shape(dd_tensor *t, int ndim, const int *dims, size_t size)
{
	t->ndim = ndim;
	for (int i = 0; i < DD_MAX_DIMS; i++)
		t->dims[i] = i < ndim ? dims[i] : 1;
	t->size = size;
}

dd_tensor *dd_tensor_new(int ndim, const int *dims, int want_grad)
{
	size_t n = dd_shape_count(ndim, dims);
	if (n == 0)
		return NULL;
	dd_tensor *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	set_shape(t, ndim, dims, n);
	t->flags = DD_TENSOR_OWNS;
	t->data = calloc(n, sizeof(float));
	if (want_grad)
		t->grad = calloc(n, sizeof(float));
	if (!t->data || (want_grad && !t->grad)) {
		dd_tensor_free(t);
		return NULL;
	}
	return t;
}

dd_tensor *dd_tensor_from(int ndim, const int *dims, const float *src, int want_grad)
{
	dd_tensor *t = dd_tensor_new(ndim, dims, want_grad);
	if (t && src)
		memcpy(t->data, src, t->size * sizeof(float));
	return t;
}

void dd_tensor_free(dd_tensor *t)
{
	if (!t)
		return;
	if (t->flags & DD_TENSOR_OWNS) {
		free(t->data);
		free(t->grad);
		free(t);
	}
}

int dd_tensor_view(dd_tensor *view, const dd_tensor *t, int ndim, const int *dims)
{
	size_t n = dd_shape_count(ndim, dims);
	if (!view || !t || n == 0 || n != t->size)
		return DD_ERR;
	dd_tensor v = {0};
	set_shape(&v, ndim, dims, n);
	v.data = t->data;
	v.grad = t->grad;
	v.flags = 0;
	*view = v;
	return DD_OK;
}

int dd_tensor_set(dd_tensor *t, const float *src, size_t n)
{
	if (!t || !src || n != t->size)
		return DD_ERR;
	memcpy(t->data, src, n * sizeof(float));
	return DD_OK;
}

int dd_tensor_get(const dd_tensor *t, float *dst, size_t n)
{
	if (!t || !dst || n != t->size)
		return DD_ERR;
	memcpy(dst, t->data, n * sizeof(float));
	return DD_OK;
}

void dd_tensor_zero_grad(dd_tensor *t)
{
	if (t && t->grad)
		memset(t->grad, 0, t->size * sizeof(float));
}

int dd_tensor_same_shape(const dd_tensor *a, const dd_tensor *b)
{
	if (!a || !b || a->ndim != b->ndim)
		return 0;
	for (int i = 0; i < a->ndim; i++)
		if (a->dims[i] != b->dims[i])
			return 0;
	return 1;
}
