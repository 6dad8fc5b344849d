/*
** shape.c -- reshape (a free view), concat and slice along an axis.
*/
#include <string.h>

#include "nn_internal.h"

dd_tensor *dd_reshape(dd_graph *g, dd_tensor *x, int ndim, const int *dims)
{
	NN_NEED(x);
	dd_tensor *v = dd_graph_alloc(g, sizeof *v);
	NN_NEED(v);
	if (dd_tensor_view(v, x, ndim, dims) != DD_OK)
		NN_FAIL(g, "reshape: %zu elements do not fit the new shape", x->size);
	return v;
}

/* Both ops copy blocks of `inner` contiguous floats: for each outer index,
** a tensor contributes dims[axis] * inner(axis+1) floats in a row. */
typedef struct concat_saved {
	int axis;
} concat_saved;

static int concat_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const concat_saved *s = n->saved;
	dd_tensor *y = n->out;
	size_t outer = nn_outer(y, s->axis), row = y->size / outer, off = 0;
	for (int t = 0; t < n->n_in; t++) {
		dd_tensor *x = n->in[t];
		size_t w = x->size / outer;
		if (x->grad)
			for (size_t o = 0; o < outer; o++) {
				float *dx = x->grad + o * w;
				const float *dy = y->grad + o * row + off;
				for (size_t i = 0; i < w; i++)
					dx[i] += dy[i];
			}
		off += w;
	}
	return DD_OK;
}

dd_tensor *dd_concat(dd_graph *g, dd_tensor *const *xs, int n, int axis)
{
	if (!xs || n < 1)
		NN_FAIL(g, "concat: no tensors");
	for (int t = 0; t < n; t++)
		NN_NEED(xs[t]);
	const dd_tensor *x0 = xs[0];
	if (axis < 0 || axis >= x0->ndim)
		NN_FAIL(g, "concat: axis %d out of range for a %d-D tensor", axis, x0->ndim);
	int dims[DD_MAX_DIMS];
	memcpy(dims, x0->dims, sizeof dims);
	dims[axis] = 0;
	for (int t = 0; t < n; t++) {
		if (xs[t]->ndim != x0->ndim)
			NN_FAIL(g, "concat: tensor %d is %d-D, tensor 0 is %d-D", t, xs[t]->ndim,
			        x0->ndim);
		for (int i = 0; i < x0->ndim; i++)
			if (i != axis && xs[t]->dims[i] != x0->dims[i])
				NN_FAIL(g, "concat: tensor %d differs on axis %d", t, i);
		dims[axis] += xs[t]->dims[axis];
	}
	dd_tensor *y = dd_graph_tensor(g, x0->ndim, dims, dd_any_grad(xs, n));
	NN_NEED(y);
	size_t outer = nn_outer(y, axis), row = y->size / outer, off = 0;
	for (int t = 0; t < n; t++) {
		size_t w = xs[t]->size / outer;
		for (size_t o = 0; o < outer; o++)
			memcpy(y->data + o * row + off, xs[t]->data + o * w, w * sizeof(float));
		off += w;
	}
	if (!y->grad)
		return y;
	concat_saved *s = dd_graph_alloc(g, sizeof *s);
	NN_NEED(s);
	s->axis = axis;
	return nn_record(g, concat_backward, y, xs, n, s);
}

typedef struct slice_saved {
	int axis, start;
} slice_saved;

static int slice_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const slice_saved *s = n->saved;
	dd_tensor *x = n->in[0], *y = n->out;
	if (!x->grad)
		return DD_OK;
	size_t outer = nn_outer(x, s->axis), inner = nn_inner(x, s->axis + 1);
	size_t row = x->size / outer, w = y->size / outer, off = (size_t)s->start * inner;
	for (size_t o = 0; o < outer; o++) {
		float *dx = x->grad + o * row + off;
		const float *dy = y->grad + o * w;
		for (size_t i = 0; i < w; i++)
			dx[i] += dy[i];
	}
	return DD_OK;
}

dd_tensor *dd_slice(dd_graph *g, dd_tensor *x, int axis, int start, int len)
{
	NN_NEED(x);
	if (axis < 0 || axis >= x->ndim)
		NN_FAIL(g, "slice: axis %d out of range for a %d-D tensor", axis, x->ndim);
	if (start < 0 || len < 1 || start > x->dims[axis] - len)
		NN_FAIL(g, "slice: [%d, %d+%d) is outside axis %d of length %d", start, start,
		        len, axis, x->dims[axis]);
	int dims[DD_MAX_DIMS];
	memcpy(dims, x->dims, sizeof dims);
	dims[axis] = len;
	dd_tensor *y = dd_graph_tensor(g, x->ndim, dims, x->grad != NULL);
	NN_NEED(y);
	size_t outer = nn_outer(x, axis), inner = nn_inner(x, axis + 1);
	size_t row = x->size / outer, w = y->size / outer, off = (size_t)start * inner;
	for (size_t o = 0; o < outer; o++)
		memcpy(y->data + o * w, x->data + o * row + off, w * sizeof(float));
	if (!y->grad)
		return y;
	slice_saved *s = dd_graph_alloc(g, sizeof *s);
	NN_NEED(s);
	s->axis = axis;
	s->start = start;
	return nn_record(g, slice_backward, y, &x, 1, s);
}
