/*
** activation.c -- pointwise nonlinearities and soft-threshold shrinkage.
**
** Where the derivative is a function of the output (relu, tanh, sigmoid,
** shrink's active set), backward reads the output instead of saving a mask.
*/
#include <math.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "nn_internal.h"

static dd_tensor *unary(dd_graph *g, dd_tensor *x, dd_tensor **y)
{
	*y = nn_like(g, x, &x, 1);
	return *y;
}

/* y = x > 0 ? x : 0 and gx += y > 0 ? gy : 0, four floats at a time where
** SSE2 is there: MAXPS(x, 0) is exactly x > 0 ? x : 0 (NaN and -0 give +0)
** and these big memory-bound loops stay scalar otherwise at -O2. */
static void relu_fwd(float *y, const float *x, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128 z = _mm_setzero_ps();
	for (; i + 4 <= n; i += 4)
		_mm_storeu_ps(y + i, _mm_max_ps(_mm_loadu_ps(x + i), z));
#endif
	for (; i < n; i++)
		y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void relu_bwd(float *gx, const float *y, const float *gy, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128 z = _mm_setzero_ps();
	for (; i + 4 <= n; i += 4) {
		__m128 keep = _mm_cmpgt_ps(_mm_loadu_ps(y + i), z);
		__m128 d = _mm_and_ps(keep, _mm_loadu_ps(gy + i));
		_mm_storeu_ps(gx + i, _mm_add_ps(_mm_loadu_ps(gx + i), d));
	}
#endif
	for (; i < n; i++)
		gx[i] += y[i] > 0.0f ? gy[i] : 0.0f;
}

/* Big activations (the first conv layer's output is millions of floats)
** are passed over on the toolkit's threads, a range each. */
typedef struct relu_job {
	float *out;
	const float *a, *b;
} relu_job;

static void relu_fwd_range(void *ctx, size_t i, size_t e)
{
	const relu_job *j = ctx;
	relu_fwd(j->out + i, j->a + i, e - i);
}

static void relu_bwd_range(void *ctx, size_t i, size_t e)
{
	const relu_job *j = ctx;
	relu_bwd(j->out + i, j->a + i, j->b + i, e - i);
}

static int relu_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	if (x->grad) {
		relu_job j = {x->grad, y->data, y->grad};
		nn_parallel_range(relu_bwd_range, &j, y->size, NN_RANGE_MIN);
	}
	return DD_OK;
}

dd_tensor *dd_relu(dd_graph *g, dd_tensor *x)
{
	dd_tensor *y;
	NN_NEED(x && unary(g, x, &y));
	relu_job j = {y->data, x->data, NULL};
	nn_parallel_range(relu_fwd_range, &j, x->size, NN_RANGE_MIN);
	return nn_record(g, relu_backward, y, &x, 1, NULL);
}

static int leaky_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	float slope = *(const float *)n->saved;
	if (x->grad)
		for (size_t i = 0; i < y->size; i++)
			x->grad[i] += x->data[i] > 0.0f ? y->grad[i] : slope * y->grad[i];
	return DD_OK;
}

dd_tensor *dd_leaky_relu(dd_graph *g, dd_tensor *x, float slope)
{
	dd_tensor *y;
	NN_NEED(x && unary(g, x, &y));
	for (size_t i = 0; i < x->size; i++)
		y->data[i] = x->data[i] > 0.0f ? x->data[i] : slope * x->data[i];
	if (!y->grad)
		return y;
	float *s = dd_graph_alloc(g, sizeof *s);
	NN_NEED(s);
	*s = slope;
	return nn_record(g, leaky_backward, y, &x, 1, s);
}

static int tanh_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	if (x->grad)
		for (size_t i = 0; i < y->size; i++)
			x->grad[i] += (1.0f - y->data[i] * y->data[i]) * y->grad[i];
	return DD_OK;
}

dd_tensor *dd_tanh(dd_graph *g, dd_tensor *x)
{
	dd_tensor *y;
	NN_NEED(x && unary(g, x, &y));
	for (size_t i = 0; i < x->size; i++)
		y->data[i] = dd_tanhf(x->data[i]);
	return nn_record(g, tanh_backward, y, &x, 1, NULL);
}

static inline float sigm(float v)
{
	/* Both branches stay in (0, 1] for exp's argument: no overflow. */
	if (v >= 0.0f)
		return 1.0f / (1.0f + expf(-v));
	float e = expf(v);
	return e / (1.0f + e);
}

static int sigmoid_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	if (x->grad)
		for (size_t i = 0; i < y->size; i++)
			x->grad[i] += y->data[i] * (1.0f - y->data[i]) * y->grad[i];
	return DD_OK;
}

dd_tensor *dd_sigmoid(dd_graph *g, dd_tensor *x)
{
	dd_tensor *y;
	NN_NEED(x && unary(g, x, &y));
	for (size_t i = 0; i < x->size; i++)
		y->data[i] = sigm(x->data[i]);
	return nn_record(g, sigmoid_backward, y, &x, 1, NULL);
}

static int softplus_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	if (x->grad)
		for (size_t i = 0; i < y->size; i++)
			x->grad[i] += sigm(x->data[i]) * y->grad[i];
	return DD_OK;
}

dd_tensor *dd_softplus(dd_graph *g, dd_tensor *x)
{
	dd_tensor *y;
	NN_NEED(x && unary(g, x, &y));
	for (size_t i = 0; i < x->size; i++) {
		float v = x->data[i];
		y->data[i] = (v > 0.0f ? v : 0.0f) + log1pf(expf(-fabsf(v)));
	}
	return nn_record(g, softplus_backward, y, &x, 1, NULL);
}

/* The active set |x| > theta is exactly where the output is not zero, so
** backward reads it from the output. */
static int shrink_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *th = n->in[1], *y = n->out;
	size_t F = (size_t)x->dims[1], inner = nn_inner(x, 2), outer = (size_t)x->dims[0];
	for (size_t o = 0; o < outer; o++)
		for (size_t f = 0; f < F; f++) {
			size_t base = (o * F + f) * inner;
			double dth = 0.0;
			for (size_t k = base; k < base + inner; k++) {
				float yk = y->data[k];
				if (yk == 0.0f)
					continue;
				if (x->grad)
					x->grad[k] += y->grad[k];
				dth += yk > 0.0f ? -y->grad[k] : y->grad[k];
			}
			if (th->grad)
				th->grad[f] += (float)dth;
		}
	return DD_OK;
}

dd_tensor *dd_shrink(dd_graph *g, dd_tensor *x, dd_tensor *theta)
{
	NN_NEED(x && theta);
	if (x->ndim < 2 || theta->size != (size_t)x->dims[1])
		NN_FAIL(g, "shrink: theta needs one entry per feature (axis 1 of a "
		        "2-D or larger input)");
	dd_tensor *ins[2] = {x, theta};
	dd_tensor *y = nn_like(g, x, ins, 2);
	NN_NEED(y);
	size_t F = (size_t)x->dims[1], inner = nn_inner(x, 2), outer = (size_t)x->dims[0];
	for (size_t o = 0; o < outer; o++)
		for (size_t f = 0; f < F; f++) {
			float t = theta->data[f];
			size_t base = (o * F + f) * inner;
			for (size_t k = base; k < base + inner; k++) {
				float v = x->data[k];
				y->data[k] = v > t ? v - t : (v < -t ? v + t : 0.0f);
			}
		}
	return nn_record(g, shrink_backward, y, ins, 2, NULL);
}
