/*
** softmax.c -- softmax and log-softmax over axis 1 (classes), per sample and
** per pixel. The max is subtracted first so exp never overflows.
*/
#include <math.h>

#include "nn_internal.h"

/* For every (sample, pixel): y over the C classes strided by inner. */
static void forward(const dd_tensor *x, dd_tensor *y, int logspace)
{
	size_t C = (size_t)x->dims[1], inner = nn_inner(x, 2), outer = (size_t)x->dims[0];
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			const float *xs = x->data + o * C * inner + i;
			float *ys = y->data + o * C * inner + i;
			float mx = xs[0];
			for (size_t c = 1; c < C; c++)
				if (xs[c * inner] > mx)
					mx = xs[c * inner];
			double sum = 0.0;
			for (size_t c = 0; c < C; c++)
				sum += exp((double)(xs[c * inner] - mx));
			float lse = (float)log(sum);
			for (size_t c = 0; c < C; c++) {
				float l = xs[c * inner] - mx - lse;
				ys[c * inner] = logspace ? l : expf(l);
			}
		}
}

static int backward(const dd_node *n, int logspace)
{
	dd_tensor *x = n->in[0], *y = n->out;
	if (!x->grad)
		return DD_OK;
	size_t C = (size_t)x->dims[1], inner = nn_inner(x, 2), outer = (size_t)x->dims[0];
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			const float *ys = y->data + o * C * inner + i;
			const float *dy = y->grad + o * C * inner + i;
			float *dx = x->grad + o * C * inner + i;
			double dot = 0.0;
			if (logspace) { /* dx = dy - softmax * sum(dy) */
				for (size_t c = 0; c < C; c++)
					dot += dy[c * inner];
				for (size_t c = 0; c < C; c++)
					dx[c * inner] += dy[c * inner] - expf(ys[c * inner]) * (float)dot;
			} else { /* dx = y * (dy - sum(dy * y)) */
				for (size_t c = 0; c < C; c++)
					dot += (double)dy[c * inner] * ys[c * inner];
				for (size_t c = 0; c < C; c++)
					dx[c * inner] += ys[c * inner] * (dy[c * inner] - (float)dot);
			}
		}
	return DD_OK;
}

static int softmax_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	return backward(n, 0);
}

static int log_softmax_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	return backward(n, 1);
}

static dd_tensor *softmax_op(dd_graph *g, dd_tensor *x, int logspace)
{
	NN_NEED(x);
	if (x->ndim < 2)
		NN_FAIL(g, "softmax: need (N, C, ...), got a 1-D tensor");
	dd_tensor *y = nn_like(g, x, &x, 1);
	NN_NEED(y);
	forward(x, y, logspace);
	return nn_record(g, logspace ? log_softmax_backward : softmax_backward, y, &x, 1, NULL);
}

dd_tensor *dd_softmax(dd_graph *g, dd_tensor *x)
{
	return softmax_op(g, x, 0);
}

dd_tensor *dd_log_softmax(dd_graph *g, dd_tensor *x)
{
	return softmax_op(g, x, 1);
}
