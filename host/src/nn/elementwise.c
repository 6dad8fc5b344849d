/*
** elementwise.c -- add, sub, mul, scale, and a bias broadcast along axis 1.
*/
#include "nn_internal.h"

static dd_tensor *binary_out(dd_graph *g, const char *op, dd_tensor *a, dd_tensor *b)
{
	if (!a || !b)
		return NULL;
	if (a->size != b->size || !dd_tensor_same_shape(a, b))
		NN_FAIL(g, "%s: shapes differ (%zu and %zu elements)", op, a->size, b->size);
	dd_tensor *ins[2] = {a, b};
	return nn_like(g, a, ins, 2);
}

static int add_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
	float sb = *(const float *)n->saved; /* +1 for add, -1 for sub */
	for (size_t i = 0; i < y->size; i++) {
		if (a->grad)
			a->grad[i] += y->grad[i];
		if (b->grad)
			b->grad[i] += sb * y->grad[i];
	}
	return DD_OK;
}

static dd_tensor *add_or_sub(dd_graph *g, dd_tensor *a, dd_tensor *b, float sign)
{
	dd_tensor *y = binary_out(g, sign > 0 ? "add" : "sub", a, b);
	NN_NEED(y);
	for (size_t i = 0; i < y->size; i++)
		y->data[i] = a->data[i] + sign * b->data[i];
	if (!y->grad)
		return y;
	float *s = dd_graph_alloc(g, sizeof *s);
	NN_NEED(s);
	*s = sign;
	dd_tensor *ins[2] = {a, b};
	return nn_record(g, add_backward, y, ins, 2, s);
}

dd_tensor *dd_add(dd_graph *g, dd_tensor *a, dd_tensor *b)
{
	return add_or_sub(g, a, b, 1.0f);
}

dd_tensor *dd_sub(dd_graph *g, dd_tensor *a, dd_tensor *b)
{
	return add_or_sub(g, a, b, -1.0f);
}

static int mul_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
	/* a * a: both branches read data, which backward never changes. */
	for (size_t i = 0; i < y->size; i++) {
		if (a->grad)
			a->grad[i] += b->data[i] * y->grad[i];
		if (b->grad)
			b->grad[i] += a->data[i] * y->grad[i];
	}
	return DD_OK;
}

dd_tensor *dd_mul(dd_graph *g, dd_tensor *a, dd_tensor *b)
{
	dd_tensor *y = binary_out(g, "mul", a, b);
	NN_NEED(y);
	for (size_t i = 0; i < y->size; i++)
		y->data[i] = a->data[i] * b->data[i];
	dd_tensor *ins[2] = {a, b};
	return nn_record(g, mul_backward, y, ins, 2, NULL);
}

static int scale_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	float s = *(const float *)n->saved;
	if (x->grad)
		for (size_t i = 0; i < y->size; i++)
			x->grad[i] += s * y->grad[i];
	return DD_OK;
}

dd_tensor *dd_scale(dd_graph *g, dd_tensor *x, float s)
{
	NN_NEED(x);
	dd_tensor *y = nn_like(g, x, &x, 1);
	NN_NEED(y);
	for (size_t i = 0; i < x->size; i++)
		y->data[i] = s * x->data[i];
	if (!y->grad)
		return y;
	float *sv = dd_graph_alloc(g, sizeof *sv);
	NN_NEED(sv);
	*sv = s;
	return nn_record(g, scale_backward, y, &x, 1, sv);
}

static int bias_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *b = n->in[1], *y = n->out;
	size_t F = (size_t)x->dims[1], inner = nn_inner(x, 2), outer = (size_t)x->dims[0];
	if (x->grad)
		for (size_t i = 0; i < y->size; i++)
			x->grad[i] += y->grad[i];
	if (b->grad)
		for (size_t o = 0; o < outer; o++)
			for (size_t f = 0; f < F; f++) {
				const float *dy = y->grad + (o * F + f) * inner;
				double s = 0.0;
				for (size_t k = 0; k < inner; k++)
					s += dy[k];
				b->grad[f] += (float)s;
			}
	return DD_OK;
}

dd_tensor *dd_add_bias(dd_graph *g, dd_tensor *x, dd_tensor *b)
{
	NN_NEED(x && b);
	if (x->ndim < 2 || b->size != (size_t)x->dims[1])
		NN_FAIL(g, "add_bias: bias needs one entry per feature (axis 1)");
	dd_tensor *ins[2] = {x, b};
	dd_tensor *y = nn_like(g, x, ins, 2);
	NN_NEED(y);
	size_t F = (size_t)x->dims[1], inner = nn_inner(x, 2), outer = (size_t)x->dims[0];
	for (size_t o = 0; o < outer; o++)
		for (size_t f = 0; f < F; f++) {
			size_t base = (o * F + f) * inner;
			for (size_t k = base; k < base + inner; k++)
				y->data[k] = x->data[k] + b->data[f];
		}
	return nn_record(g, bias_backward, y, ins, 2, NULL);
}
