/*
** op_pool.c -- pooling as tape ops over the kernels of pool.c: max-pooling
** whose switches the caller may keep for unpooling (what-where), soft-max
** pooling with soft-argmax and a learnable temperature (phase pooling), and
** L2 pooling over channel groups (group sparsity).
*/
#include <math.h>

#include "nn_internal.h"
#include "pool.h"

/* A pool shape from an input (N, C, H, W) and params; fails g naming op. */
static int pool_shape(dd_graph *g, const char *op, const dd_tensor *x, const dd_pool_params *p,
                      dd_pool2d_shape *s)
{
	if (x->ndim != 4)
		return dd_graph_fail(g, "%s: input must be (N, C, H, W), got %d-D", op, x->ndim);
	if (!p)
		return dd_graph_fail(g, "%s: no pooling params (window kh, kw is required)", op);
	*s = (dd_pool2d_shape){x->dims[0], x->dims[1], x->dims[2], x->dims[3],
	                       p->kh, p->kw, p->sh, p->sw, p->ph, p->pw};
	if (dd_pool2d_check(s) != 0)
		return dd_graph_fail(g, "%s: window %dx%d, stride (%d, %d), padding (%d, %d) do not "
		                     "fit a %dx%d input (need window and stride >= 1, padding at "
		                     "most half the window, window within the padded input)",
		                     op, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, s->h, s->w);
	return DD_OK;
}

/* An arena tensor borrowing base's buffers from float offset off on. */
static dd_tensor *view_at(dd_graph *g, const dd_tensor *base, size_t off, int ndim,
                          const int *dims)
{
	dd_tensor *v = dd_graph_alloc(g, sizeof *v);
	if (!v)
		return NULL;
	*v = (dd_tensor){0};
	v->ndim = ndim;
	for (int i = 0; i < DD_MAX_DIMS; i++)
		v->dims[i] = i < ndim ? dims[i] : 1;
	v->size = dd_shape_count(ndim, dims);
	v->data = base->data + off;
	v->grad = base->grad ? base->grad + off : NULL;
	return v;
}

/* ---- max-pooling and unpooling ----------------------------------------- */

typedef struct max_saved {
	dd_pool2d_shape s;
	dd_pool_switches sw;
} max_saved;

static int maxpool_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const max_saved *sv = n->saved;
	if (n->in[0]->grad)
		dd_maxpool2d_backward(&sv->s, n->in[0]->grad, n->out->grad, sv->sw.idx);
	return DD_OK;
}

dd_tensor *dd_maxpool2d(dd_graph *g, dd_tensor *x, const dd_pool_params *p,
                        const dd_pool_switches **sw)
{
	if (sw)
		*sw = NULL;
	NN_NEED(x);
	dd_pool2d_shape s;
	if (pool_shape(g, "maxpool2d", x, p, &s) != DD_OK)
		return NULL;
	int ho = dd_pool2d_out_h(&s), wo = dd_pool2d_out_w(&s);
	int dims[4] = {s.n, s.c, ho, wo};
	dd_tensor *y = dd_graph_tensor(g, 4, dims, x->grad != NULL);
	max_saved *sv = dd_graph_alloc(g, sizeof *sv);
	NN_NEED(y && sv);
	int32_t *idx = dd_graph_alloc(g, y->size * sizeof *idx);
	NN_NEED(idx);
	sv->s = s;
	sv->sw = (dd_pool_switches){idx, s.n, s.c, s.h, s.w, ho, wo, *p};
	dd_maxpool2d_forward(&s, y->data, idx, x->data);
	if (sw)
		*sw = &sv->sw;
	return nn_record(g, maxpool_backward, y, &x, 1, sv);
}

static int unpool_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const max_saved *sv = n->saved;
	if (n->in[0]->grad)
		dd_maxunpool2d_backward(&sv->s, n->in[0]->grad, n->out->grad, sv->sw.idx);
	return DD_OK;
}

dd_tensor *dd_maxunpool2d(dd_graph *g, dd_tensor *y, const dd_pool_switches *sw)
{
	NN_NEED(y && sw);
	if (y->ndim != 4 || y->dims[0] != sw->n || y->dims[1] != sw->c || y->dims[2] != sw->ho ||
	    y->dims[3] != sw->wo)
		NN_FAIL(g, "maxunpool2d: input must be the pooled shape (%d, %d, %d, %d) of its "
		        "switches, got %d-D (%d, %d, %d, %d)", sw->n, sw->c, sw->ho, sw->wo, y->ndim,
		        y->dims[0], y->dims[1], y->dims[2], y->dims[3]);
	/* A copy, so the node does not depend on where the caller keeps sw. */
	max_saved *sv = dd_graph_alloc(g, sizeof *sv);
	int dims[4] = {sw->n, sw->c, sw->h, sw->w};
	dd_tensor *x = dd_graph_tensor(g, 4, dims, y->grad != NULL);
	NN_NEED(x && sv);
	const dd_pool_params *p = &sw->p;
	sv->s = (dd_pool2d_shape){sw->n, sw->c, sw->h, sw->w, p->kh, p->kw, p->sh, p->sw,
	                          p->ph, p->pw};
	sv->sw = *sw;
	dd_maxunpool2d_forward(&sv->s, x->data, y->data, sw->idx);
	return nn_record(g, unpool_backward, x, &y, 1, sv);
}

/* ---- soft-max pooling and soft-argmax ---------------------------------- */

typedef struct soft_saved {
	dd_pool2d_shape s;
	float beta;
	float *weights;     /* the softmax of every window */
	size_t plane;       /* floats of one output: the offsets of pos_x, pos_y */
	int with_pos;
} soft_saved;

static int softpool_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const soft_saved *sv = n->saved;
	dd_tensor *x = n->in[0], *bt = n->in[1];
	const float *dy = n->out->grad;
	dd_softpool2d_backward(&sv->s, sv->beta, x->grad, bt ? bt->grad : NULL, dy,
	                       sv->with_pos ? dy + sv->plane : NULL,
	                       sv->with_pos ? dy + 2 * sv->plane : NULL, x->data, sv->weights);
	return DD_OK;
}

dd_tensor *dd_softpool2d(dd_graph *g, dd_tensor *x, const dd_pool_params *p, float beta,
                         dd_tensor *beta_t, dd_tensor **pos_x, dd_tensor **pos_y)
{
	if (pos_x)
		*pos_x = NULL;
	if (pos_y)
		*pos_y = NULL;
	NN_NEED(x);
	dd_pool2d_shape s;
	if (pool_shape(g, "softpool2d", x, p, &s) != DD_OK)
		return NULL;
	if (beta_t && beta_t->size != 1)
		NN_FAIL(g, "softpool2d: beta_t must hold one value, has %zu", beta_t->size);
	if (beta_t)
		beta = beta_t->data[0];
	if (!isfinite(beta))
		NN_FAIL(g, "softpool2d: temperature beta = %g is not finite", (double)beta);
	int with_pos = pos_x || pos_y;
	int dims[4] = {s.n, s.c, dd_pool2d_out_h(&s), dd_pool2d_out_w(&s)};
	size_t plane = dd_shape_count(4, dims);
	if (with_pos && plane > (size_t)0x7fffffff / 3)
		NN_FAIL(g, "softpool2d: %zu outputs with positions do not fit one tensor", plane);
	dd_tensor *ins[2] = {x, beta_t};
	int want = dd_any_grad(ins, 2);
	/* With positions the node's output is one block [out | pos_x | pos_y]
	** and the caller gets three views of it: backward then sees all three
	** gradients at once, as the kernel wants. */
	dd_tensor *all = with_pos ? dd_graph_tensor(g, 1, (int[]){(int)(3 * plane)}, want)
	                          : dd_graph_tensor(g, 4, dims, want);
	soft_saved *sv = dd_graph_alloc(g, sizeof *sv);
	float *wts = dd_graph_alloc(g, dd_softpool2d_saved_floats(&s) * sizeof(float));
	NN_NEED(all && sv && wts);
	*sv = (soft_saved){s, beta, wts, plane, with_pos};
	dd_tensor *y = with_pos ? view_at(g, all, 0, 4, dims) : all;
	dd_tensor *px = with_pos ? view_at(g, all, plane, 4, dims) : NULL;
	dd_tensor *py = with_pos ? view_at(g, all, 2 * plane, 4, dims) : NULL;
	NN_NEED(y && (!with_pos || (px && py)));
	dd_softpool2d_forward(&s, beta, y->data, px ? px->data : NULL, py ? py->data : NULL, wts,
	                      x->data);
	if (!nn_record(g, softpool_backward, all, ins, 2, sv))
		return NULL;
	if (pos_x)
		*pos_x = px;
	if (pos_y)
		*pos_y = py;
	return y;
}

/* ---- L2 pooling over channel groups ------------------------------------ */

typedef struct l2_saved {
	dd_l2pool_shape s;
} l2_saved;

static int l2pool_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const l2_saved *sv = n->saved;
	dd_tensor *x = n->in[0], *y = n->out;
	if (x->grad)
		dd_l2pool_backward(&sv->s, x->grad, y->grad, x->data, y->data);
	return DD_OK;
}

dd_tensor *dd_l2pool(dd_graph *g, dd_tensor *x, const dd_l2pool_params *p)
{
	NN_NEED(x);
	if (x->ndim != 2 && x->ndim != 4)
		NN_FAIL(g, "l2pool: input must be (N, C) or (N, C, H, W), got %d-D", x->ndim);
	if (!p)
		NN_FAIL(g, "l2pool: no group params");
	dd_l2pool_shape s = {x->dims[0], x->dims[1], x->dims[2], x->dims[3], p->grid_h,
	                     p->grid_w, p->gh, p->gw, p->sh, p->sw, p->eps};
	if (dd_l2pool_check(&s) != 0)
		NN_FAIL(g, "l2pool: grid %dx%d, groups %dx%d every (%d, %d), eps %g do not fit %d "
		        "channels (need grid_h * grid_w = C, groups within the grid, sizes and "
		        "strides >= 1, eps >= 0)", p->grid_h, p->grid_w, p->gh, p->gw, p->sh, p->sw,
		        (double)p->eps, s.c);
	int dims[4] = {s.n, dd_l2pool_groups(&s), s.h, s.w};
	dd_tensor *y = dd_graph_tensor(g, x->ndim, dims, x->grad != NULL);
	l2_saved *sv = dd_graph_alloc(g, sizeof *sv);
	NN_NEED(y && sv);
	sv->s = s;
	dd_l2pool_forward(&s, y->data, x->data);
	return nn_record(g, l2pool_backward, y, &x, 1, sv);
}
