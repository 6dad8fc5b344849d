/*
** op_conv.c -- conv2d and transposed conv2d as tape ops over the im2col +
** sgemm kernels of conv.c. The im2col scratch is carved from the arena once
** per op in forward and reused by its backward, so a step stays heap-free.
*/
#include "conv.h"
#include "nn_internal.h"

typedef struct conv_saved {
	dd_conv2d_shape s;
	float *scratch;
} conv_saved;

typedef struct tconv_saved {
	dd_conv_transpose2d_shape s;
	float *scratch;
} tconv_saved;

static const dd_conv_params conv_default = {1, 1, 0, 0, 0, 0};

/* Shared checks of both ops: x (N, C, H, W), w 4-D whose input-channel
** axis (wc_axis) matches C, b NULL or with Co entries, sane params. Returns
** 0 or fails g with a message naming the op. */
static int check_args(dd_graph *g, const char *op, const dd_tensor *x, const dd_tensor *w,
                      const dd_tensor *b, const dd_conv_params *p, int wc_axis, int co)
{
	if (x->ndim != 4)
		return dd_graph_fail(g, "%s: input must be (N, C, H, W), got %d-D", op, x->ndim);
	if (w->ndim != 4)
		return dd_graph_fail(g, "%s: weight must be 4-D, got %d-D", op, w->ndim);
	if (w->dims[wc_axis] != x->dims[1])
		return dd_graph_fail(g, "%s: weight axis %d has %d input channels, input has %d",
		                     op, wc_axis, w->dims[wc_axis], x->dims[1]);
	if (b && b->size != (size_t)co)
		return dd_graph_fail(g, "%s: bias has %zu entries, need %d (output channels)", op,
		                     b->size, co);
	if (p->sh < 1 || p->sw < 1 || p->ph < 0 || p->pw < 0)
		return dd_graph_fail(g, "%s: stride (%d, %d) must be >= 1 and padding (%d, %d) >= 0",
		                     op, p->sh, p->sw, p->ph, p->pw);
	return DD_OK;
}

static int conv_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const conv_saved *sv = n->saved;
	dd_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
	dd_conv2d_backward(&sv->s, x->grad, w->grad, b ? b->grad : NULL, n->out->grad, x->data,
	                   w->data, sv->scratch);
	return DD_OK;
}

dd_tensor *dd_conv2d(dd_graph *g, dd_tensor *x, dd_tensor *w, dd_tensor *b,
                     const dd_conv_params *p)
{
	NN_NEED(x && w);
	if (!p)
		p = &conv_default;
	if (check_args(g, "conv2d", x, w, b, p, 1, w->ndim == 4 ? w->dims[0] : 0) != DD_OK)
		return NULL;
	if (p->oph || p->opw)
		NN_FAIL(g, "conv2d: output padding (%d, %d) applies to conv_transpose2d only; "
		        "set oph = opw = 0", p->oph, p->opw);
	dd_conv2d_shape s = {x->dims[0], x->dims[1], x->dims[2], x->dims[3], w->dims[0],
	                     w->dims[2], w->dims[3], p->sh, p->sw, p->ph, p->pw};
	if (dd_conv2d_check(&s) != 0)
		NN_FAIL(g, "conv2d: kernel %dx%d does not fit the %dx%d input padded by (%d, %d)",
		        s.kh, s.kw, s.h_in, s.w_in, s.ph, s.pw);
	dd_tensor *ins[3] = {x, w, b};
	int dims[4] = {s.n, s.c_out, dd_conv2d_out_h(&s), dd_conv2d_out_w(&s)};
	dd_tensor *y = dd_graph_tensor(g, 4, dims, dd_any_grad(ins, 3));
	conv_saved *sv = dd_graph_alloc(g, sizeof *sv);
	float *scratch = dd_graph_alloc(g, dd_conv2d_scratch_floats(&s) * sizeof(float));
	NN_NEED(y && sv && scratch);
	sv->s = s;
	sv->scratch = scratch;
	dd_conv2d_forward(&s, y->data, x->data, w->data, b ? b->data : NULL, scratch);
	return nn_record(g, conv_backward, y, ins, 3, sv);
}

static int tconv_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const tconv_saved *sv = n->saved;
	dd_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
	dd_conv_transpose2d_backward(&sv->s, x->grad, w->grad, b ? b->grad : NULL, n->out->grad,
	                             x->data, w->data, sv->scratch);
	return DD_OK;
}

dd_tensor *dd_conv_transpose2d(dd_graph *g, dd_tensor *x, dd_tensor *w, dd_tensor *b,
                               const dd_conv_params *p)
{
	NN_NEED(x && w);
	if (!p)
		p = &conv_default;
	if (check_args(g, "conv_transpose2d", x, w, b, p, 0, w->ndim == 4 ? w->dims[1] : 0) !=
	    DD_OK)
		return NULL;
	dd_conv_transpose2d_shape s = {x->dims[0], x->dims[1], x->dims[2], x->dims[3],
	                               w->dims[1], w->dims[2], w->dims[3], p->sh, p->sw,
	                               p->ph, p->pw, p->oph, p->opw};
	if (dd_conv_transpose2d_check(&s) != 0)
		NN_FAIL(g, "conv_transpose2d: output padding (%d, %d) must be in [0, stride (%d, %d)) "
		        "and the output (%d x %d) non-empty", s.oph, s.opw, s.sh, s.sw,
		        dd_conv_transpose2d_out_h(&s), dd_conv_transpose2d_out_w(&s));
	dd_tensor *ins[3] = {x, w, b};
	int dims[4] = {s.n, s.c_out, dd_conv_transpose2d_out_h(&s),
	               dd_conv_transpose2d_out_w(&s)};
	dd_tensor *y = dd_graph_tensor(g, 4, dims, dd_any_grad(ins, 3));
	tconv_saved *sv = dd_graph_alloc(g, sizeof *sv);
	float *scratch =
		dd_graph_alloc(g, dd_conv_transpose2d_scratch_floats(&s) * sizeof(float));
	NN_NEED(y && sv && scratch);
	sv->s = s;
	sv->scratch = scratch;
	dd_conv_transpose2d_forward(&s, y->data, x->data, w->data, b ? b->data : NULL, scratch);
	return nn_record(g, tconv_backward, y, ins, 3, sv);
}
