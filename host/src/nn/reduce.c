/*
** reduce.c -- sums and means over one axis or over everything.
**
** Accumulation is in double: a mean over a large batch in float loses
** digits that gradient checks (and losses) notice.
*/
#include "nn_internal.h"

typedef struct reduce_saved {
	int axis;
	float scale; /* 1 for a sum, 1/n for a mean */
} reduce_saved;

static int reduce_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	const reduce_saved *s = n->saved;
	if (!x->grad)
		return DD_OK;
	size_t outer = nn_outer(x, s->axis), len = (size_t)x->dims[s->axis];
	size_t inner = nn_inner(x, s->axis + 1);
	for (size_t o = 0; o < outer; o++)
		for (size_t k = 0; k < len; k++) {
			float *dx = x->grad + (o * len + k) * inner;
			const float *dy = y->grad + o * inner;
			for (size_t i = 0; i < inner; i++)
				dx[i] += s->scale * dy[i];
		}
	return DD_OK;
}

static dd_tensor *reduce(dd_graph *g, dd_tensor *x, int axis, int mean)
{
	NN_NEED(x);
	if (axis < 0 || axis >= x->ndim)
		NN_FAIL(g, "%s: axis %d out of range for a %d-D tensor", mean ? "mean" : "sum",
		        axis, x->ndim);
	int dims[DD_MAX_DIMS], nd = 0;
	for (int i = 0; i < x->ndim; i++)
		if (i != axis)
			dims[nd++] = x->dims[i];
	if (nd == 0)
		dims[nd++] = 1;
	dd_tensor *y = dd_graph_tensor(g, nd, dims, x->grad != NULL);
	NN_NEED(y);
	size_t outer = nn_outer(x, axis), len = (size_t)x->dims[axis];
	size_t inner = nn_inner(x, axis + 1);
	float scale = mean ? 1.0f / (float)len : 1.0f;
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			double acc = 0.0;
			for (size_t k = 0; k < len; k++)
				acc += x->data[(o * len + k) * inner + i];
			y->data[o * inner + i] = (float)(acc * scale);
		}
	if (!y->grad)
		return y;
	reduce_saved *s = dd_graph_alloc(g, sizeof *s);
	NN_NEED(s);
	s->axis = axis;
	s->scale = scale;
	return nn_record(g, reduce_backward, y, &x, 1, s);
}

dd_tensor *dd_sum(dd_graph *g, dd_tensor *x, int axis)
{
	return reduce(g, x, axis, 0);
}

dd_tensor *dd_mean(dd_graph *g, dd_tensor *x, int axis)
{
	return reduce(g, x, axis, 1);
}

static dd_tensor *reduce_all(dd_graph *g, dd_tensor *x, int mean)
{
	NN_NEED(x);
	dd_tensor flat;
	int n = (int)x->size;
	if ((size_t)n != x->size || dd_tensor_view(&flat, x, 1, &n) != DD_OK)
		NN_FAIL(g, "sum_all: tensor too large");
	/* The flat view lives on this stack frame: copy it to the arena so
	** the tape can point to it. */
	dd_tensor *fx = dd_graph_alloc(g, sizeof *fx);
	NN_NEED(fx);
	*fx = flat;
	return reduce(g, fx, 0, mean);
}

dd_tensor *dd_sum_all(dd_graph *g, dd_tensor *x)
{
	return reduce_all(g, x, 0);
}

dd_tensor *dd_mean_all(dd_graph *g, dd_tensor *x)
{
	return reduce_all(g, x, 1);
}
