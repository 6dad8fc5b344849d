/*
** op_upsample.c -- nearest and bilinear upsampling by integer factors as
** tape ops over the kernels of upsample.c (decoders of world models).
*/
#include "nn_internal.h"
#include "upsample.h"

typedef void (*up_bwd_fn)(const dd_upsample_shape *s, float *din, const float *dout);
typedef void (*up_fwd_fn)(const dd_upsample_shape *s, float *out, const float *in);

typedef struct up_saved {
	dd_upsample_shape s;
	up_bwd_fn bwd;
} up_saved;

static int up_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const up_saved *sv = n->saved;
	if (n->in[0]->grad)
		sv->bwd(&sv->s, n->in[0]->grad, n->out->grad);
	return DD_OK;
}

static dd_tensor *upsample(dd_graph *g, const char *op, dd_tensor *x, int fh, int fw,
                           up_fwd_fn fwd, up_bwd_fn bwd)
{
	NN_NEED(x);
	if (x->ndim != 4)
		NN_FAIL(g, "%s: input must be (N, C, H, W), got %d-D", op, x->ndim);
	dd_upsample_shape s = {x->dims[0], x->dims[1], x->dims[2], x->dims[3], fh, fw};
	if (dd_upsample_check(&s) != 0)
		NN_FAIL(g, "%s: scale factors (%d, %d) must be >= 1", op, fh, fw);
	if ((long long)s.h * fh > 1 << 30 || (long long)s.w * fw > 1 << 30)
		NN_FAIL(g, "%s: factors (%d, %d) make an output too large", op, fh, fw);
	int dims[4] = {s.n, s.c, s.h * fh, s.w * fw};
	dd_tensor *y = dd_graph_tensor(g, 4, dims, x->grad != NULL);
	up_saved *sv = dd_graph_alloc(g, sizeof *sv);
	NN_NEED(y && sv);
	sv->s = s;
	sv->bwd = bwd;
	fwd(&s, y->data, x->data);
	return nn_record(g, up_backward, y, &x, 1, sv);
}

dd_tensor *dd_upsample_nearest(dd_graph *g, dd_tensor *x, int fh, int fw)
{
	return upsample(g, "upsample_nearest", x, fh, fw, dd_upsample_nearest_forward,
	                dd_upsample_nearest_backward);
}

dd_tensor *dd_upsample_bilinear(dd_graph *g, dd_tensor *x, int fh, int fw)
{
	return upsample(g, "upsample_bilinear", x, fh, fw, dd_upsample_bilinear_forward,
	                dd_upsample_bilinear_backward);
}
