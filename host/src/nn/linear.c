/*
** linear.c -- matrix products (dd_sgemm, gemm.h): matmul and the affine layer.
**
** Row-major throughout; weights are (out, in) as in PyTorch, so y = x W^T + b
** is one sgemm with W transposed, and backward is two more, each skipped
** when nobody wants that gradient (a frozen net costs no dW work).
*/
#include "gemm.h"

#include "nn_internal.h"

static int matmul_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
	int M = a->dims[0], K = a->dims[1], N = b->dims[1];
	if (a->grad) /* da += dy b^T */
		dd_sgemm(CblasNoTrans, CblasTrans, M, K, N, 1.0f,
		         y->grad, N, b->data, N, 1.0f, a->grad, K);
	if (b->grad) /* db += a^T dy */
		dd_sgemm(CblasTrans, CblasNoTrans, K, N, M, 1.0f,
		         a->data, K, y->grad, N, 1.0f, b->grad, N);
	return DD_OK;
}

dd_tensor *dd_matmul(dd_graph *g, dd_tensor *a, dd_tensor *b)
{
	NN_NEED(a && b);
	if (a->ndim != 2 || b->ndim != 2 || a->dims[1] != b->dims[0])
		NN_FAIL(g, "matmul: need (M,K) x (K,N), got %dx%d x %dx%d",
		        a->dims[0], a->dims[1], b->dims[0], b->dims[1]);
	int M = a->dims[0], K = a->dims[1], N = b->dims[1];
	dd_tensor *ins[2] = {a, b};
	dd_tensor *y = dd_graph_tensor(g, 2, (int[]){M, N}, dd_any_grad(ins, 2));
	NN_NEED(y);
	dd_sgemm(CblasNoTrans, CblasNoTrans, M, N, K, 1.0f,
	         a->data, K, b->data, N, 0.0f, y->data, N);
	return nn_record(g, matmul_backward, y, ins, 2, NULL);
}

static int linear_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
	int O = w->dims[0], IN = w->dims[1];
	int R = (int)(x->size / (size_t)IN);
	if (x->grad) /* dx += dy W */
		dd_sgemm(CblasNoTrans, CblasNoTrans, R, IN, O, 1.0f,
		         y->grad, O, w->data, IN, 1.0f, x->grad, IN);
	if (w->grad) /* dW += dy^T x */
		dd_sgemm(CblasTrans, CblasNoTrans, O, IN, R, 1.0f,
		         y->grad, O, x->data, IN, 1.0f, w->grad, IN);
	if (b && b->grad)
		for (int r = 0; r < R; r++) {
			const float *dy = y->grad + (size_t)r * O;
			for (int o = 0; o < O; o++)
				b->grad[o] += dy[o];
		}
	return DD_OK;
}

dd_tensor *dd_linear(dd_graph *g, dd_tensor *x, dd_tensor *w, dd_tensor *b)
{
	NN_NEED(x && w);
	if (w->ndim != 2)
		NN_FAIL(g, "linear: weight must be (out, in), got %d-D", w->ndim);
	int O = w->dims[0], IN = w->dims[1];
	if (x->dims[x->ndim - 1] != IN)
		NN_FAIL(g, "linear: input's last axis has %d entries, weight takes %d",
		        x->dims[x->ndim - 1], IN);
	if (b && (b->size != (size_t)O))
		NN_FAIL(g, "linear: bias has %zu entries, weight has %d outputs", b->size, O);
	int R = (int)(x->size / (size_t)IN);
	int dims[DD_MAX_DIMS];
	for (int i = 0; i < x->ndim; i++)
		dims[i] = x->dims[i];
	dims[x->ndim - 1] = O;
	dd_tensor *ins[3] = {x, w, b};
	dd_tensor *y = dd_graph_tensor(g, x->ndim, dims, dd_any_grad(ins, 3));
	NN_NEED(y);
	float beta = 0.0f;
	if (b) { /* start from the bias and let sgemm add into it */
		for (int r = 0; r < R; r++)
			for (int o = 0; o < O; o++)
				y->data[(size_t)r * O + o] = b->data[o];
		beta = 1.0f;
	}
	dd_sgemm(CblasNoTrans, CblasTrans, R, O, IN, 1.0f,
	         x->data, IN, w->data, IN, beta, y->data, O);
	return nn_record(g, linear_backward, y, ins, 3, NULL);
}
