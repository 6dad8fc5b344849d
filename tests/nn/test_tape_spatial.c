/*
** test_tape_spatial.c -- the spatial and recurrent ops through the tape
** (op_conv.c, op_pool.c, op_upsample.c, op_lstm.c): every backward against
** central finite differences (gradcheck.h) over several shapes, strides and
** paddings (odd sizes, stride > kernel, batch of 1), weight sharing (one
** conv applied twice, an LSTM unrolled with shared weights), the sequence
** op against unrolled cells, switches for what-where decoding, frozen
** weights and error reporting.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daydream/nn.h"
#include "gradcheck.h"

enum op {
	OP_CONV, OP_CONV_NOBIAS, OP_CONV_TWICE, OP_TCONV, OP_UP_NEAREST, OP_UP_BILINEAR,
	OP_MAXPOOL, OP_UNPOOL, OP_SOFTPOOL, OP_SOFTPOOL_POS, OP_SOFTPOOL_LEARN, OP_L2POOL,
	OP_CELL, OP_CELL_FIRST, OP_CELL_UNROLLED, OP_LSTM_SEQ, OP_LSTM_SEQ_ZERO
};

typedef struct ctx {
	enum op op;
	dd_conv_params cp;
	dd_pool_params pp;
	dd_l2pool_params lp;
	int fh, fw;
	float beta;
} ctx;

static dd_tensor *flat(dd_graph *g, dd_tensor *t)
{
	return t ? dd_reshape(g, t, 2, (int[]){1, (int)t->size}) : NULL;
}

/* Every element of several tensors as one (1, n) row, so that one
** gradient check sees all outputs of a multi-output op. */
static dd_tensor *join(dd_graph *g, dd_tensor **ts, int n)
{
	dd_tensor *f[8];
	for (int i = 0; i < n; i++) {
		f[i] = flat(g, ts[i]);
		if (!f[i])
			return NULL;
	}
	return dd_concat(g, f, n, 1);
}

static dd_lstm_weights lstm_w(dd_tensor **in)
{
	return (dd_lstm_weights){in[0], in[1], in[2], in[3]};
}

static dd_tensor *fwd(dd_graph *g, dd_tensor **in, void *vc)
{
	ctx *c = vc;
	switch (c->op) {
	case OP_CONV: return dd_conv2d(g, in[0], in[1], in[2], &c->cp);
	case OP_CONV_NOBIAS: return dd_conv2d(g, in[0], in[1], NULL, &c->cp);
	case OP_CONV_TWICE: /* the same weights on their own output */
		return dd_conv2d(g, dd_tanh(g, dd_conv2d(g, in[0], in[1], in[2], &c->cp)), in[1],
		                 in[2], &c->cp);
	case OP_TCONV: return dd_conv_transpose2d(g, in[0], in[1], in[2], &c->cp);
	case OP_UP_NEAREST: return dd_upsample_nearest(g, in[0], c->fh, c->fw);
	case OP_UP_BILINEAR: return dd_upsample_bilinear(g, in[0], c->fh, c->fw);
	case OP_MAXPOOL: return dd_maxpool2d(g, in[0], &c->pp, NULL);
	case OP_UNPOOL: {
		/* what-where: the pooled values, shifted by y, put back where they were */
		const dd_pool_switches *sw;
		dd_tensor *p = dd_maxpool2d(g, in[0], &c->pp, &sw);
		return dd_maxunpool2d(g, dd_add(g, p, in[1]), sw);
	}
	case OP_SOFTPOOL: return dd_softpool2d(g, in[0], &c->pp, c->beta, NULL, NULL, NULL);
	case OP_SOFTPOOL_POS:
	case OP_SOFTPOOL_LEARN: {
		dd_tensor *o[3];
		o[0] = dd_softpool2d(g, in[0], &c->pp, c->beta,
		                     c->op == OP_SOFTPOOL_LEARN ? in[1] : NULL, &o[1], &o[2]);
		return o[0] ? join(g, o, 3) : NULL;
	}
	case OP_L2POOL: return dd_l2pool(g, in[0], &c->lp);
	case OP_CELL:
	case OP_CELL_FIRST: {
		/* in: w_ih, w_hh, b_ih, b_hh, x, h, c */
		dd_lstm_weights w = lstm_w(in);
		dd_lstm_state prev = {in[5], in[6]};
		dd_lstm_state s = dd_lstm_cell(g, in[4], c->op == OP_CELL ? &prev : NULL, &w);
		dd_tensor *o[2] = {s.h, s.c};
		return s.h ? join(g, o, 2) : NULL;
	}
	case OP_CELL_UNROLLED: {
		/* in: w_ih, w_hh, b_ih, b_hh, x (T, B, I), h0, c0: every step's h and
		** the last c, all through one set of weights */
		dd_lstm_weights w = lstm_w(in);
		int T = in[4]->dims[0], B = in[4]->dims[1], I = in[4]->dims[2];
		dd_lstm_state s = {in[5], in[6]};
		dd_tensor *o[8];
		for (int t = 0; t < T; t++) {
			dd_tensor *xt = dd_reshape(g, dd_slice(g, in[4], 0, t, 1), 2, (int[]){B, I});
			s = dd_lstm_cell(g, xt, &s, &w);
			o[t] = s.h;
		}
		o[T] = s.c;
		return s.h ? join(g, o, T + 1) : NULL;
	}
	case OP_LSTM_SEQ:
	case OP_LSTM_SEQ_ZERO: {
		dd_lstm_weights w = lstm_w(in);
		dd_lstm_state init = {in[5], in[6]}, last;
		dd_tensor *hs = dd_lstm(g, in[4], c->op == OP_LSTM_SEQ ? &init : NULL, &w, &last);
		dd_tensor *o[3] = {hs, last.h, last.c};
		return hs ? join(g, o, 3) : NULL;
	}
	}
	return NULL;
}

static dd_rng R;

static dd_tensor *T4(int a, int b, int c, int d, int grad)
{
	int dims[4] = {a, b, c, d}, nd = 4;
	while (nd > 1 && dims[nd - 1] == 0)
		nd--;
	dd_tensor *t = dd_tensor_new(nd, dims, grad);
	gc_fill(t, &R, -1.0f, 1.0f, NULL, 0, 0.0f);
	return t;
}

/* Distinct values at least 0.05 apart in random order, so a finite
** difference step of 1e-3 never changes which tap is the maximum. */
static void fill_distinct(dd_tensor *t)
{
	size_t n = t->size;
	for (size_t i = 0; i < n; i++)
		t->data[i] = 0.05f * ((float)i - (float)n / 2);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)dd_rng_below(&R, i + 1);
		float v = t->data[i];
		t->data[i] = t->data[j];
		t->data[j] = v;
	}
}

static void free_all(dd_tensor **t, int n)
{
	for (int i = 0; i < n; i++)
		dd_tensor_free(t[i]);
}

#define EPS 1e-2
#define RTOL 1e-2

static void check(const char *label, ctx *c, dd_tensor **in, int n, double eps)
{
	int bad = gradcheck(label, fwd, in, n, c, eps, RTOL);
	if (bad != 0)
		fail_msg("%s: %d gradient entries wrong", label, bad);
}

/* ---- convolutions ---------------------------------------------------------- */

/* n, c, h, w, co, kh, kw, sh, sw, ph, pw */
static const int conv_cases[][11] = {
	{2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1},   /* same padding */
	{1, 2, 9, 7, 3, 3, 3, 2, 2, 0, 0},   /* stride 2, odd sizes, batch of 1 */
	{2, 2, 7, 8, 2, 2, 2, 3, 3, 0, 0},   /* stride > kernel: pixels skipped */
	{3, 1, 5, 6, 2, 2, 3, 2, 1, 1, 0},   /* rectangular kernel and stride */
	{1, 4, 3, 3, 5, 3, 3, 1, 1, 2, 2},   /* padding larger than the border */
};

static void test_conv2d(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof conv_cases / sizeof conv_cases[0]; k++) {
		const int *q = conv_cases[k];
		ctx c = {.op = OP_CONV, .cp = {q[7], q[8], q[9], q[10], 0, 0}};
		dd_tensor *in[3] = {T4(q[0], q[1], q[2], q[3], 1), T4(q[4], q[1], q[5], q[6], 1),
		                    T4(q[4], 0, 0, 0, 1)};
		char label[64];
		snprintf(label, sizeof label, "conv2d case %zu", k);
		check(label, &c, in, 3, EPS);
		c.op = OP_CONV_NOBIAS;
		check("conv2d without bias", &c, in, 2, EPS);
		free_all(in, 3);
	}
}

/* One conv applied twice to its own (tanh'd) output: w and b get the sum of
** both uses' gradients. */
static void test_conv2d_shared_weights(void **state)
{
	(void)state;
	ctx c = {.op = OP_CONV_TWICE, .cp = {1, 1, 1, 1, 0, 0}};
	dd_tensor *in[3] = {T4(2, 3, 5, 4, 1), T4(3, 3, 3, 3, 1), T4(3, 0, 0, 0, 1)};
	check("conv2d applied twice", &c, in, 3, EPS);
	free_all(in, 3);
}

static void test_conv_transpose2d(void **state)
{
	(void)state;
	/* n, c, h, w, co, kh, kw, sh, sw, ph, pw, oph, opw */
	static const int cases[][13] = {
		{2, 3, 4, 3, 2, 3, 3, 2, 2, 1, 1, 1, 1},  /* a decoder's doubling */
		{1, 2, 3, 5, 3, 4, 4, 2, 2, 1, 1, 0, 0},  /* 4x4 stride 2 */
		{2, 1, 3, 3, 2, 2, 2, 3, 3, 0, 0, 2, 1},  /* stride > kernel, output padding */
		{1, 3, 5, 4, 1, 3, 2, 1, 1, 0, 1, 0, 0},  /* stride 1, batch of 1 */
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const int *q = cases[k];
		ctx c = {.op = OP_TCONV, .cp = {q[7], q[8], q[9], q[10], q[11], q[12]}};
		dd_tensor *in[3] = {T4(q[0], q[1], q[2], q[3], 1), T4(q[1], q[4], q[5], q[6], 1),
		                    T4(q[4], 0, 0, 0, 1)};
		char label[64];
		snprintf(label, sizeof label, "conv_transpose2d case %zu", k);
		check(label, &c, in, 3, EPS);
		free_all(in, 3);
	}
}

/* The output shape follows PyTorch's formulas; a bad config is refused with
** a message that names the op and what to fix. */
static void test_conv_shapes_and_errors(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(1 << 20);
	dd_tensor *x = dd_graph_input(g, 4, (int[]){2, 3, 117, 24}, NULL, 0);
	dd_tensor *w = dd_graph_input(g, 4, (int[]){8, 3, 4, 4}, NULL, 0);
	dd_tensor *y = dd_conv2d(g, x, w, NULL, &(dd_conv_params){2, 2, 1, 1, 0, 0});
	assert_non_null(y);
	assert_int_equal(y->dims[1], 8);
	assert_int_equal(y->dims[2], 58); /* (117 + 2 - 4) / 2 + 1 */
	assert_int_equal(y->dims[3], 12);
	dd_tensor *wt = dd_graph_input(g, 4, (int[]){8, 3, 4, 4}, NULL, 0);
	dd_tensor *z = dd_conv_transpose2d(g, y, wt, NULL, &(dd_conv_params){2, 2, 1, 1, 1, 0});
	assert_non_null(z);
	assert_int_equal(z->dims[2], 117); /* (58 - 1) * 2 - 2 + 4 + 1 */
	assert_int_equal(z->dims[3], 24);
	assert_string_equal(dd_graph_error(g), "");

	assert_null(dd_conv2d(g, x, dd_graph_input(g, 4, (int[]){8, 2, 3, 3}, NULL, 0), NULL,
	                      NULL));
	assert_non_null(strstr(dd_graph_error(g), "conv2d: weight axis 1 has 2 input channels"));
	dd_graph_reset(g);
	x = dd_graph_input(g, 4, (int[]){1, 1, 5, 5}, NULL, 0);
	w = dd_graph_input(g, 4, (int[]){1, 1, 3, 3}, NULL, 0);
	assert_null(dd_conv2d(g, x, w, NULL, &(dd_conv_params){0, 1, 0, 0, 0, 0}));
	assert_non_null(strstr(dd_graph_error(g), "stride (0, 1) must be >= 1"));
	dd_graph_reset(g);
	x = dd_graph_input(g, 4, (int[]){1, 1, 5, 5}, NULL, 0);
	w = dd_graph_input(g, 4, (int[]){1, 1, 3, 3}, NULL, 0);
	assert_null(dd_conv_transpose2d(g, x, w, NULL, &(dd_conv_params){2, 2, 0, 0, 2, 0}));
	assert_non_null(strstr(dd_graph_error(g), "output padding (2, 0) must be in [0, stride"));
	dd_graph_reset(g);
	x = dd_graph_input(g, 4, (int[]){1, 1, 2, 2}, NULL, 0);
	w = dd_graph_input(g, 4, (int[]){1, 1, 3, 3}, NULL, 0);
	assert_null(dd_conv2d(g, x, w, NULL, NULL)); /* 3x3 kernel on a 2x2 input */
	assert_non_null(strstr(dd_graph_error(g), "does not fit"));
	/* NULL in, NULL out, the first message stands */
	assert_null(dd_conv2d(g, NULL, w, NULL, NULL));
	assert_null(dd_upsample_bilinear(g, NULL, 2, 2));
	assert_null(dd_maxpool2d(g, NULL, &(dd_pool_params){2, 2, 2, 2, 0, 0}, NULL));
	assert_null(dd_maxunpool2d(g, x, NULL));
	assert_null(dd_lstm_cell(g, NULL, NULL, &(dd_lstm_weights){w, w, NULL, NULL}).h);
	assert_non_null(strstr(dd_graph_error(g), "does not fit"));
	dd_graph_free(g);
}

/* A frozen conv (grad NULL) still passes the input its gradient, the same
** as the trainable one does, and its weights are never written. */
static void test_conv_frozen_weights(void **state)
{
	(void)state;
	dd_paramset *ps = dd_paramset_new();
	dd_tensor *w = dd_paramset_add(ps, "w", 4, (int[]){4, 2, 3, 3});
	dd_tensor *b = dd_paramset_add(ps, "b", 1, (int[]){4});
	assert_int_equal(dd_paramset_alloc(ps), DD_OK);
	gc_fill(w, &R, -1, 1, NULL, 0, 0);
	gc_fill(b, &R, -1, 1, NULL, 0, 0);
	dd_tensor *x = T4(2, 2, 6, 5, 0);
	float dx[2][120];
	for (int frozen = 0; frozen < 2; frozen++) {
		dd_paramset_freeze(ps, frozen);
		dd_paramset_zero_grad(ps);
		dd_graph *g = dd_graph_new(1 << 20);
		dd_tensor *a = dd_graph_input(g, 4, x->dims, x->data, 1);
		dd_conv_params p = {2, 1, 1, 0, 0, 0};
		dd_tensor *y = dd_conv_transpose2d(g, dd_tanh(g, dd_conv2d(g, a, w, b, &p)),
		                                   dd_paramset_find(ps, "w"), NULL, &p);
		assert_non_null(y);
		assert_int_equal(dd_graph_backward(g, dd_sum_all(g, dd_mul(g, y, y))), DD_OK);
		memcpy(dx[frozen], a->grad, sizeof dx[0]);
		if (frozen) {
			assert_null(w->grad);
			assert_true(dd_paramset_grad_norm(ps) == 0.0);
		} else {
			assert_true(dd_paramset_grad_norm(ps) > 1e-3);
		}
		dd_graph_free(g);
	}
	double norm = 0;
	for (int i = 0; i < 120; i++) {
		assert_float_equal(dx[0][i], dx[1][i], 1e-5f * (1.0f + fabsf(dx[0][i])));
		norm += fabs(dx[1][i]);
	}
	assert_true(norm > 1e-2);
	dd_tensor_free(x);
	dd_paramset_free(ps);
}

/* ---- upsampling ------------------------------------------------------------ */

static void test_upsample(void **state)
{
	(void)state;
	static const int cases[][6] = {{2, 3, 3, 4, 2, 2}, {1, 1, 5, 3, 3, 1}, {2, 2, 1, 4, 2, 3}};
	for (size_t k = 0; k < 3; k++) {
		const int *q = cases[k];
		dd_tensor *x = T4(q[0], q[1], q[2], q[3], 1);
		ctx c = {.op = OP_UP_NEAREST, .fh = q[4], .fw = q[5]};
		check("upsample nearest", &c, &x, 1, EPS);
		c.op = OP_UP_BILINEAR;
		check("upsample bilinear", &c, &x, 1, EPS);
		dd_tensor_free(x);
	}
	/* values: bilinear 2x of [0, 1] along W is 0, .25, .75, 1 (edge-clamped) */
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *x = dd_graph_input(g, 4, (int[]){1, 1, 1, 2}, (float[]){0, 1}, 0);
	dd_tensor *y = dd_upsample_bilinear(g, x, 1, 2);
	float want[4] = {0.0f, 0.25f, 0.75f, 1.0f};
	for (int i = 0; i < 4; i++)
		assert_float_equal(y->data[i], want[i], 1e-6);
	y = dd_upsample_nearest(g, x, 2, 2);
	assert_int_equal(y->dims[2], 2);
	assert_float_equal(y->data[6], 1.0f, 0);
	assert_null(dd_upsample_nearest(g, x, 0, 2));
	assert_non_null(strstr(dd_graph_error(g), "scale factors (0, 2) must be >= 1"));
	dd_graph_free(g);
}

/* ---- pooling --------------------------------------------------------------- */

/* n, c, h, w, kh, kw, sh, sw, ph, pw */
static const int pool_cases[][10] = {
	{2, 2, 6, 6, 2, 2, 2, 2, 0, 0},   /* the classic 2x2 */
	{1, 3, 7, 5, 3, 3, 2, 2, 1, 1},   /* overlapping, padded, odd */
	{2, 1, 8, 7, 2, 2, 3, 3, 0, 0},   /* stride > window */
	{1, 2, 5, 6, 3, 2, 1, 2, 1, 0},   /* rectangular */
};

static void test_maxpool_and_unpool(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof pool_cases / sizeof pool_cases[0]; k++) {
		const int *q = pool_cases[k];
		ctx c = {.op = OP_MAXPOOL, .pp = {q[4], q[5], q[6], q[7], q[8], q[9]}};
		dd_tensor *x = T4(q[0], q[1], q[2], q[3], 1);
		fill_distinct(x);
		check("maxpool2d", &c, &x, 1, 1e-3);
		/* the pooled shape, for y */
		int ho = (q[2] + 2 * q[8] - q[4]) / q[6] + 1, wo = (q[3] + 2 * q[9] - q[5]) / q[7] + 1;
		dd_tensor *in[2] = {x, T4(q[0], q[1], ho, wo, 1)};
		c.op = OP_UNPOOL;
		check("maxunpool2d", &c, in, 2, 1e-3);
		free_all(in, 2);
	}
}

/* The switches are the argmax, readable by the caller, and unpooling puts
** each maximum back exactly there (the what-where decoder's contract). */
static void test_switches_what_where(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(1 << 16);
	float v[16] = {1, 5, 2, 0,
	               3, 4, 9, 8,
	               0, 0, 1, 1,
	               7, 0, 1, 2};
	dd_tensor *x = dd_graph_input(g, 4, (int[]){1, 1, 4, 4}, v, 1);
	const dd_pool_switches *sw = NULL;
	dd_tensor *p = dd_maxpool2d(g, x, &(dd_pool_params){2, 2, 2, 2, 0, 0}, &sw);
	assert_non_null(p);
	assert_non_null(sw);
	int32_t want_idx[4] = {1, 6, 12, 15};
	float want_val[4] = {5, 9, 7, 2};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sw->idx[i], want_idx[i]);
		assert_float_equal(p->data[i], want_val[i], 0);
	}
	assert_int_equal(sw->h, 4);
	assert_int_equal(sw->ho, 2);
	dd_tensor *u = dd_maxunpool2d(g, p, sw);
	assert_non_null(u);
	assert_int_equal(u->dims[2], 4);
	for (int i = 0; i < 16; i++) {
		int at = -1;
		for (int k = 0; k < 4; k++)
			if (want_idx[k] == i)
				at = k;
		assert_float_equal(u->data[i], at >= 0 ? want_val[at] : 0.0f, 0);
	}
	/* gradient of sum(unpool(pool(x))) is 1 exactly at the switches */
	assert_int_equal(dd_graph_backward(g, dd_sum_all(g, u)), DD_OK);
	for (int i = 0; i < 16; i++) {
		int hit = i == 1 || i == 6 || i == 12 || i == 15;
		assert_float_equal(x->grad[i], hit ? 1.0f : 0.0f, 0);
	}
	/* a pooled tensor of another shape is refused */
	dd_tensor *bad = dd_graph_input(g, 4, (int[]){1, 1, 3, 2}, NULL, 0);
	assert_null(dd_maxunpool2d(g, bad, sw));
	assert_non_null(strstr(dd_graph_error(g), "maxunpool2d: input must be the pooled shape"));
	dd_graph_reset(g);
	x = dd_graph_input(g, 4, (int[]){1, 1, 4, 4}, v, 0);
	assert_null(dd_maxpool2d(g, x, &(dd_pool_params){2, 2, 2, 2, 2, 0}, &sw));
	assert_null(sw);
	assert_non_null(strstr(dd_graph_error(g), "padding at most half the window"));
	dd_graph_free(g);
}

static void test_softpool(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof pool_cases / sizeof pool_cases[0]; k++) {
		const int *q = pool_cases[k];
		ctx c = {.op = OP_SOFTPOOL, .pp = {q[4], q[5], q[6], q[7], q[8], q[9]}, .beta = 2.5f};
		dd_tensor *in[2] = {T4(q[0], q[1], q[2], q[3], 1), T4(1, 0, 0, 0, 1)};
		in[1]->data[0] = 1.7f;
		check("softpool2d", &c, in, 1, EPS);
		c.op = OP_SOFTPOOL_POS;
		check("softpool2d with soft-argmax", &c, in, 1, EPS);
		c.op = OP_SOFTPOOL_LEARN;
		check("softpool2d with learnable beta", &c, in, 2, EPS);
		free_all(in, 2);
	}
}

/* beta = 0 averages the real taps; a large beta finds the maximum and puts
** the soft-argmax on it. */
static void test_softpool_limits(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(1 << 16);
	float v[6] = {1, 2, 3,
	              4, 9, 6};
	dd_tensor *x = dd_graph_input(g, 4, (int[]){1, 1, 2, 3}, v, 0);
	dd_pool_params p = {2, 3, 2, 3, 0, 0};
	dd_tensor *px, *py;
	dd_tensor *y = dd_softpool2d(g, x, &p, 0.0f, NULL, &px, &py);
	assert_non_null(y);
	assert_float_equal(y->data[0], 25.0f / 6.0f, 1e-5);
	assert_float_equal(px->data[0], 1.0f, 1e-5);
	assert_float_equal(py->data[0], 0.5f, 1e-5);
	y = dd_softpool2d(g, x, &p, 30.0f, NULL, &px, &py);
	assert_float_equal(y->data[0], 9.0f, 1e-3);
	assert_float_equal(px->data[0], 1.0f, 1e-3);
	assert_float_equal(py->data[0], 1.0f, 1e-3);
	dd_tensor *b2 = dd_graph_input(g, 1, (int[]){2}, NULL, 1);
	assert_null(dd_softpool2d(g, x, &p, 0.0f, b2, NULL, NULL));
	assert_non_null(strstr(dd_graph_error(g), "beta_t must hold one value"));
	dd_graph_free(g);
}

static void test_l2pool(void **state)
{
	(void)state;
	float kink = 0.0f;
	/* topographic: 9 channels on a 3x3 grid, overlapping 2x2 groups */
	dd_tensor *x = T4(2, 9, 3, 2, 1);
	gc_fill(x, &R, -1.0f, 1.0f, &kink, 1, 0.2f);
	ctx c = {.op = OP_L2POOL, .lp = {3, 3, 2, 2, 1, 1, 1e-4f}};
	check("l2pool topographic", &c, &x, 1, EPS);
	dd_tensor_free(x);
	/* plain groups of 3 consecutive features of a code vector (N, C) */
	x = T4(3, 12, 0, 0, 1);
	gc_fill(x, &R, -1.0f, 1.0f, &kink, 1, 0.2f);
	c.lp = (dd_l2pool_params){1, 12, 1, 3, 1, 3, 0.0f};
	check("l2pool groups of a vector", &c, &x, 1, EPS);
	/* values: the group norms */
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *v = dd_graph_input(g, 2, (int[]){1, 4}, (float[]){3, 4, 0, -2}, 0);
	dd_tensor *y = dd_l2pool(g, v, &(dd_l2pool_params){1, 4, 1, 2, 1, 2, 0.0f});
	assert_int_equal(y->ndim, 2);
	assert_int_equal(y->dims[1], 2);
	assert_float_equal(y->data[0], 5.0f, 1e-6);
	assert_float_equal(y->data[1], 2.0f, 1e-6);
	assert_null(dd_l2pool(g, v, &(dd_l2pool_params){2, 3, 1, 1, 1, 1, 0.0f}));
	assert_non_null(strstr(dd_graph_error(g), "grid_h * grid_w = C"));
	dd_graph_free(g);
	dd_tensor_free(x);
}

/* ---- LSTM ------------------------------------------------------------------ */

/* w_ih, w_hh, b_ih, b_hh for I inputs and H hidden units, then x (ndim, xd),
** then h0, c0 (B, H). */
static void lstm_inputs(dd_tensor **in, int I, int H, int B, int xnd, const int *xd)
{
	in[0] = T4(4 * H, I, 0, 0, 1);
	in[1] = T4(4 * H, H, 0, 0, 1);
	in[2] = T4(4 * H, 0, 0, 0, 1);
	in[3] = T4(4 * H, 0, 0, 0, 1);
	in[4] = dd_tensor_new(xnd, xd, 1);
	gc_fill(in[4], &R, -1.0f, 1.0f, NULL, 0, 0.0f);
	in[5] = T4(B, H, 0, 0, 1);
	in[6] = T4(B, H, 0, 0, 1);
}

static void test_lstm_cell(void **state)
{
	(void)state;
	static const int cases[][3] = {{3, 4, 2}, {1, 2, 1}, {5, 3, 3}}; /* I, H, B */
	for (size_t k = 0; k < 3; k++) {
		int I = cases[k][0], H = cases[k][1], B = cases[k][2];
		dd_tensor *in[7];
		lstm_inputs(in, I, H, B, 2, (int[]){B, I});
		ctx c = {.op = OP_CELL};
		check("lstm_cell", &c, in, 7, EPS);
		c.op = OP_CELL_FIRST;
		check("lstm_cell from a zero state", &c, in, 5, EPS);
		free_all(in, 7);
	}
}

/* Five steps of one cell through one set of weights: w gets the sum over
** time, x each step's share, h0 and c0 the gradient through all five. */
static void test_lstm_unrolled_shared(void **state)
{
	(void)state;
	int Tn = 5, B = 2, I = 3, H = 4;
	dd_tensor *in[7];
	lstm_inputs(in, I, H, B, 3, (int[]){Tn, B, I});
	ctx c = {.op = OP_CELL_UNROLLED};
	check("lstm unrolled over 5 steps", &c, in, 7, EPS);
	free_all(in, 7);
}

static void test_lstm_sequence(void **state)
{
	(void)state;
	static const int cases[][4] = {{4, 2, 3, 4}, {1, 1, 2, 3}, {6, 3, 1, 2}}; /* T B I H */
	for (size_t k = 0; k < 3; k++) {
		int Tn = cases[k][0], B = cases[k][1], I = cases[k][2], H = cases[k][3];
		dd_tensor *in[7];
		lstm_inputs(in, I, H, B, 3, (int[]){Tn, B, I});
		ctx c = {.op = OP_LSTM_SEQ};
		check("lstm sequence", &c, in, 7, EPS);
		c.op = OP_LSTM_SEQ_ZERO;
		check("lstm sequence from a zero state", &c, in, 5, EPS);
		free_all(in, 7);
	}
}

/* The sequence op and unrolled cells are the same function: outputs and
** every gradient agree to float rounding. */
static void test_lstm_sequence_equals_cells(void **state)
{
	(void)state;
	int Tn = 7, B = 3, I = 5, H = 6;
	dd_tensor *in[7];
	lstm_inputs(in, I, H, B, 3, (int[]){Tn, B, I});
	float *out[2], *grads[2][7];
	size_t ny = 0;
	for (int way = 0; way < 2; way++) {
		for (int i = 0; i < 7; i++)
			dd_tensor_zero_grad(in[i]);
		dd_graph *g = dd_graph_new(1 << 20);
		ctx c = {.op = way ? OP_LSTM_SEQ : OP_CELL_UNROLLED};
		dd_tensor *y = fwd(g, in, &c);
		assert_non_null(y);
		/* cells give h_1..h_T, c_T; the sequence h_1..h_T, h_T, c_T */
		ny = (size_t)(Tn + 1) * B * H;
		out[way] = malloc(ny * sizeof(float));
		size_t hs = (size_t)Tn * B * H;
		memcpy(out[way], y->data, hs * sizeof(float));
		memcpy(out[way] + hs, y->data + y->size - (size_t)B * H,
		       (size_t)B * H * sizeof(float));
		float *seed = calloc(y->size, sizeof(float));
		for (size_t i = 0; i < hs; i++)
			seed[i] = 0.1f * (float)(i % 7) - 0.3f;
		for (size_t i = 0; i < (size_t)B * H; i++)
			seed[y->size - (size_t)B * H + i] = 0.5f;
		assert_int_equal(dd_graph_backward_seed(g, y, seed), DD_OK);
		for (int i = 0; i < 7; i++) {
			grads[way][i] = malloc(in[i]->size * sizeof(float));
			memcpy(grads[way][i], in[i]->grad, in[i]->size * sizeof(float));
		}
		free(seed);
		dd_graph_free(g);
	}
	for (size_t i = 0; i < ny; i++)
		assert_float_equal(out[0][i], out[1][i], 1e-6);
	for (int k = 0; k < 7; k++) {
		double norm = 0;
		for (size_t i = 0; i < in[k]->size; i++) {
			float a = grads[0][k][i], b = grads[1][k][i];
			if (fabsf(a - b) > 1e-5f * (1.0f + fabsf(a)))
				fail_msg("input %d [%zu]: cells %g, sequence %g", k, i, a, b);
			norm += fabs(a);
		}
		assert_true(norm > 1e-3);
		free(grads[0][k]);
		free(grads[1][k]);
	}
	free(out[0]);
	free(out[1]);
	free_all(in, 7);
}

/* Frozen weights: no weight is written, the planner's inputs (x, h0) still
** get exactly the gradient the trainable net gives them. */
static void test_lstm_frozen_weights(void **state)
{
	(void)state;
	dd_tensor *in[7];
	int Tn = 4, B = 2, I = 3, H = 5;
	lstm_inputs(in, I, H, B, 3, (int[]){Tn, B, I});
	float dx[2][24];
	for (int frozen = 0; frozen < 2; frozen++) {
		dd_tensor *w[4];
		for (int i = 0; i < 4; i++)
			w[i] = frozen ? dd_tensor_from(in[i]->ndim, in[i]->dims, in[i]->data, 0) : in[i];
		for (int i = 0; i < 7; i++)
			dd_tensor_zero_grad(in[i]);
		dd_graph *g = dd_graph_new(1 << 20);
		dd_lstm_weights lw = {w[0], w[1], w[2], w[3]};
		dd_lstm_state init = {in[5], in[6]}, last;
		dd_tensor *hs = dd_lstm(g, in[4], &init, &lw, &last);
		assert_non_null(hs);
		assert_int_equal(dd_graph_backward(g, dd_add(g, dd_sum_all(g, hs),
		                                             dd_sum_all(g, last.c))), DD_OK);
		memcpy(dx[frozen], in[4]->grad, sizeof dx[0]);
		double wn = 0;
		for (size_t i = 0; i < in[0]->size; i++)
			wn += fabs(in[0]->grad[i]);
		if (frozen)
			assert_true(wn == 0.0);
		else
			assert_true(wn > 1e-3);
		dd_graph_free(g);
		if (frozen)
			for (int i = 0; i < 4; i++)
				dd_tensor_free(w[i]);
	}
	for (int i = 0; i < 24; i++)
		assert_float_equal(dx[0][i], dx[1][i], 1e-6);
	free_all(in, 7);
}

static void test_lstm_errors(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *wi = dd_graph_input(g, 2, (int[]){8, 3}, NULL, 0);
	dd_tensor *wh = dd_graph_input(g, 2, (int[]){8, 2}, NULL, 0);
	dd_tensor *x = dd_graph_input(g, 2, (int[]){4, 5}, NULL, 0);
	dd_lstm_weights w = {wi, wh, NULL, NULL};
	assert_null(dd_lstm_cell(g, x, NULL, &w).h);
	assert_non_null(strstr(dd_graph_error(g), "lstm_cell: w_ih takes 3 inputs, x has 5"));
	dd_graph_reset(g);
	wi = dd_graph_input(g, 2, (int[]){8, 3}, NULL, 0);
	wh = dd_graph_input(g, 2, (int[]){8, 3}, NULL, 0);
	dd_tensor *xs = dd_graph_input(g, 3, (int[]){2, 4, 3}, NULL, 0);
	w = (dd_lstm_weights){wi, wh, NULL, NULL};
	assert_null(dd_lstm(g, xs, NULL, &w, NULL));
	assert_non_null(strstr(dd_graph_error(g), "w_hh must be (8, 2)"));
	dd_graph_reset(g);
	wi = dd_graph_input(g, 2, (int[]){8, 3}, NULL, 0);
	wh = dd_graph_input(g, 2, (int[]){8, 2}, NULL, 0);
	xs = dd_graph_input(g, 3, (int[]){2, 4, 3}, NULL, 0);
	dd_tensor *h0 = dd_graph_input(g, 2, (int[]){3, 2}, NULL, 0);
	w = (dd_lstm_weights){wi, wh, NULL, NULL};
	dd_lstm_state init = {h0, h0}, last = {h0, h0};
	assert_null(dd_lstm(g, xs, &init, &w, &last));
	assert_null(last.h);
	assert_non_null(strstr(dd_graph_error(g), "state h must be (B, H) = (4, 2)"));
	dd_graph_free(g);
}

int main(void)
{
	dd_rng_seed(&R, 77, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv2d),
		cmocka_unit_test(test_conv2d_shared_weights),
		cmocka_unit_test(test_conv_transpose2d),
		cmocka_unit_test(test_conv_shapes_and_errors),
		cmocka_unit_test(test_conv_frozen_weights),
		cmocka_unit_test(test_upsample),
		cmocka_unit_test(test_maxpool_and_unpool),
		cmocka_unit_test(test_switches_what_where),
		cmocka_unit_test(test_softpool),
		cmocka_unit_test(test_softpool_limits),
		cmocka_unit_test(test_l2pool),
		cmocka_unit_test(test_lstm_cell),
		cmocka_unit_test(test_lstm_unrolled_shared),
		cmocka_unit_test(test_lstm_sequence),
		cmocka_unit_test(test_lstm_sequence_equals_cells),
		cmocka_unit_test(test_lstm_frozen_weights),
		cmocka_unit_test(test_lstm_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
