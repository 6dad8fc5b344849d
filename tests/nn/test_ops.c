/*
** test_ops.c -- every op's and loss's backward against central finite
** differences (tests/nn/gradcheck.h), over several shapes including odd
** sizes and a batch of 1, with gradients w.r.t. every input; plus the
** behaviours around the tape: accumulation when a tensor feeds two ops,
** frozen parameters, reshape views, sticky errors.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daydream/nn.h"
#include "gradcheck.h"

enum op {
	OP_MATMUL, OP_LINEAR, OP_LINEAR_NOBIAS, OP_RELU, OP_LEAKY, OP_TANH, OP_SIGMOID,
	OP_SOFTPLUS, OP_SHRINK, OP_ADD, OP_SUB, OP_MUL, OP_SCALE, OP_BIAS, OP_SUM, OP_MEAN,
	OP_SUM_ALL, OP_MEAN_ALL, OP_CONCAT, OP_SLICE, OP_SOFTMAX, OP_LOG_SOFTMAX,
	OP_DROPOUT, OP_GAUSS, OP_MSE, OP_L1, OP_GDL, OP_BCE, OP_CE, OP_KL_NORMAL, OP_KL_GAUSS,
	OP_HINGE, OP_SHARED, OP_RESHAPE_CHAIN
};

typedef struct ctx {
	enum op op;
	int axis, start, len, n;
	float s;
	const int *targets;
	uint64_t seed;
} ctx;

static dd_tensor *fwd(dd_graph *g, dd_tensor **in, void *vc)
{
	ctx *c = vc;
	dd_rng rng;
	dd_rng_seed(&rng, c->seed, 0); /* the same noise on every call */
	switch (c->op) {
	case OP_MATMUL: return dd_matmul(g, in[0], in[1]);
	case OP_LINEAR: return dd_linear(g, in[0], in[1], in[2]);
	case OP_LINEAR_NOBIAS: return dd_linear(g, in[0], in[1], NULL);
	case OP_RELU: return dd_relu(g, in[0]);
	case OP_LEAKY: return dd_leaky_relu(g, in[0], c->s);
	case OP_TANH: return dd_tanh(g, in[0]);
	case OP_SIGMOID: return dd_sigmoid(g, in[0]);
	case OP_SOFTPLUS: return dd_softplus(g, in[0]);
	case OP_SHRINK: return dd_shrink(g, in[0], in[1]);
	case OP_ADD: return dd_add(g, in[0], in[1]);
	case OP_SUB: return dd_sub(g, in[0], in[1]);
	case OP_MUL: return dd_mul(g, in[0], in[1]);
	case OP_SCALE: return dd_scale(g, in[0], c->s);
	case OP_BIAS: return dd_add_bias(g, in[0], in[1]);
	case OP_SUM: return dd_sum(g, in[0], c->axis);
	case OP_MEAN: return dd_mean(g, in[0], c->axis);
	case OP_SUM_ALL: return dd_sum_all(g, in[0]);
	case OP_MEAN_ALL: return dd_mean_all(g, in[0]);
	case OP_CONCAT: return dd_concat(g, in, c->n, c->axis);
	case OP_SLICE: return dd_slice(g, in[0], c->axis, c->start, c->len);
	case OP_SOFTMAX: return dd_softmax(g, in[0]);
	case OP_LOG_SOFTMAX: return dd_log_softmax(g, in[0]);
	case OP_DROPOUT: return dd_dropout(g, in[0], c->s, DD_DROPOUT_TRAIN, &rng);
	case OP_GAUSS: return dd_gaussian_sample(g, in[0], in[1], &rng);
	case OP_MSE: return dd_mse(g, in[0], in[1]);
	case OP_L1: return dd_l1(g, in[0], in[1]);
	case OP_GDL: return dd_gdl(g, in[0], in[1], c->s);
	case OP_BCE: return dd_bce_logits(g, in[0], in[1]);
	case OP_CE: return dd_cross_entropy(g, in[0], c->targets);
	case OP_KL_NORMAL: return dd_kl_normal(g, in[0], in[1]);
	case OP_KL_GAUSS: return dd_kl_gauss(g, in[0], in[1], in[2], in[3]);
	case OP_HINGE: return dd_hinge(g, in[0], c->s);
	case OP_SHARED: {
		/* x feeds three ops and w two: y = tanh(x W^T) * x W^T + x */
		dd_tensor *h = dd_linear(g, in[0], in[1], NULL);
		dd_tensor *y = dd_mul(g, dd_tanh(g, h), h);
		dd_tensor *z = dd_linear(g, in[0], in[1], NULL);
		return dd_add(g, dd_add(g, y, z), dd_linear(g, in[0], in[2], NULL));
	}
	case OP_RESHAPE_CHAIN: {
		/* (2,3,4) -> (6,4) linear -> (2,3,5) softmax over axis 1 */
		dd_tensor *f = dd_reshape(g, in[0], 2, (int[]){6, 4});
		dd_tensor *h = dd_linear(g, f, in[1], NULL);
		return dd_softmax(g, dd_reshape(g, h, 3, (int[]){2, 3, 5}));
	}
	}
	return NULL;
}

static dd_rng R;

static dd_tensor *T(int ndim, const int *dims, int grad)
{
	dd_tensor *t = dd_tensor_new(ndim, dims, grad);
	gc_fill(t, &R, -2.0f, 2.0f, NULL, 0, 0.0f);
	return t;
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

/* ---- the checker itself ---------------------------------------------------- */

/* y = 2x recorded with a backward that forgets the factor 2 and one that
** overwrites instead of adding: the checker must flag both. */
static int wrong_factor(dd_graph *g, const dd_node *n)
{
	(void)g;
	for (size_t i = 0; i < n->out->size; i++)
		n->in[0]->grad[i] += n->out->grad[i];
	return DD_OK;
}

static int overwrites(dd_graph *g, const dd_node *n)
{
	(void)g;
	for (size_t i = 0; i < n->out->size; i++)
		n->in[0]->grad[i] = 2.0f * n->out->grad[i];
	return DD_OK;
}

static dd_backward_fn broken;

static dd_tensor *fwd_broken(dd_graph *g, dd_tensor **in, void *c)
{
	(void)c;
	dd_tensor *y = dd_graph_tensor(g, in[0]->ndim, in[0]->dims, 1);
	for (size_t i = 0; i < y->size; i++)
		y->data[i] = 2.0f * in[0]->data[i];
	dd_graph_record(g, broken, y, in, 1, NULL);
	return y;
}

static void test_checker_catches_bugs(void **state)
{
	(void)state;
	dd_tensor *x = T(2, (int[]){3, 4}, 1);
	broken = wrong_factor;
	assert_int_equal(gradcheck("wrong factor (expected)", fwd_broken, &x, 1, NULL, EPS, RTOL), 12);
	broken = overwrites;
	assert_int_equal(gradcheck("overwrites (expected)", fwd_broken, &x, 1, NULL, EPS, RTOL), 12);
	dd_tensor_free(x);
}

/* ---- dense ----------------------------------------------------------------- */

static void test_matmul(void **state)
{
	(void)state;
	int shapes[][3] = {{1, 1, 1}, {1, 5, 3}, {4, 3, 2}, {7, 5, 9}};
	for (size_t s = 0; s < 4; s++) {
		int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
		dd_tensor *in[2] = {T(2, (int[]){M, K}, 1), T(2, (int[]){K, N}, 1)};
		ctx c = {.op = OP_MATMUL};
		check("matmul", &c, in, 2, EPS);
		free_all(in, 2);
	}
}

static void test_linear(void **state)
{
	(void)state;
	/* x dims, then out */
	int cases[][5] = {{2, 1, 3, 0, 5}, {2, 4, 7, 0, 2}, {3, 2, 3, 5, 4}, {2, 5, 1, 0, 1}};
	for (size_t s = 0; s < 4; s++) {
		int nd = cases[s][0], *xd = &cases[s][1], O = cases[s][4];
		int IN = xd[nd - 1];
		dd_tensor *in[3] = {T(nd, xd, 1), T(2, (int[]){O, IN}, 1), T(1, &O, 1)};
		ctx c = {.op = OP_LINEAR};
		check("linear", &c, in, 3, EPS);
		c.op = OP_LINEAR_NOBIAS;
		check("linear without bias", &c, in, 2, EPS);
		free_all(in, 3);
	}
}

/* A frozen weight gets no gradient and costs no dW work (its grad stays
** NULL, so backward cannot write it), while the input still gets its own. */
static void test_frozen_params(void **state)
{
	(void)state;
	dd_paramset *ps = dd_paramset_new();
	dd_tensor *w = dd_paramset_add(ps, "w", 2, (int[]){3, 4});
	dd_tensor *b = dd_paramset_add(ps, "b", 1, (int[]){3});
	assert_int_equal(dd_paramset_alloc(ps), DD_OK);
	gc_fill(w, &R, -1, 1, NULL, 0, 0);
	gc_fill(b, &R, -1, 1, NULL, 0, 0);
	dd_paramset_freeze(ps, 1);
	assert_null(w->grad);
	dd_tensor *x = T(2, (int[]){2, 4}, 1);
	dd_tensor *in[3] = {x, w, b};
	ctx c = {.op = OP_LINEAR};
	check("linear, frozen weights", &c, in, 3, EPS);
	for (size_t i = 0; i < dd_paramset_count(ps); i++)
		assert_true(dd_paramset_grad(ps)[i] == 0.0f);

	/* With nothing wanting a gradient the graph records nothing. */
	dd_graph *g = dd_graph_new(1 << 20);
	dd_tensor *xi = dd_graph_input(g, 2, (int[]){2, 4}, x->data, 0);
	dd_tensor *y = dd_relu(g, dd_linear(g, xi, w, b));
	assert_non_null(y);
	assert_null(y->grad);
	assert_int_equal(dd_graph_backward_seed(g, y, y->data), DD_OK);
	dd_paramset_freeze(ps, 0);
	assert_ptr_equal(w->grad, dd_paramset_grad(ps));
	dd_graph_free(g);
	dd_tensor_free(x);
	dd_paramset_free(ps);
}

/* ---- activations ------------------------------------------------------------ */

static const int SHAPES[][5] = {{1, 1}, {2, 1, 7}, {2, 4, 3}, {4, 2, 3, 2, 3}, {3, 1, 5, 3}};
#define NSHAPES 5

static void unary_all(enum op op, const char *label, float s, const float *kinks, int nk)
{
	for (int k = 0; k < NSHAPES; k++) {
		dd_tensor *x = dd_tensor_new(SHAPES[k][0], &SHAPES[k][1], 1);
		gc_fill(x, &R, -3.0f, 3.0f, kinks, nk, 0.1f);
		ctx c = {.op = op, .s = s};
		check(label, &c, &x, 1, EPS);
		dd_tensor_free(x);
	}
}

static void test_activations(void **state)
{
	(void)state;
	const float zero = 0.0f;
	unary_all(OP_RELU, "relu", 0, &zero, 1);
	unary_all(OP_LEAKY, "leaky relu", 0.1f, &zero, 1);
	unary_all(OP_TANH, "tanh", 0, NULL, 0);
	unary_all(OP_SIGMOID, "sigmoid", 0, NULL, 0);
	unary_all(OP_SOFTPLUS, "softplus", 0, NULL, 0);
	unary_all(OP_SCALE, "scale", -1.7f, NULL, 0);
}

static void test_activation_values(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(1 << 16);
	float xs[] = {-100.0f, -1.0f, 0.0f, 2.0f, 100.0f};
	dd_tensor *x = dd_graph_input(g, 1, (int[]){5}, xs, 0);
	dd_tensor *sp = dd_softplus(g, x), *sg = dd_sigmoid(g, x), *lr = dd_leaky_relu(g, x, 0.2f);
	assert_non_null(sp);
	assert_float_equal(sp->data[0], 0.0f, 1e-30);
	assert_float_equal(sp->data[1], 0.31326169f, 1e-6);
	assert_float_equal(sp->data[4], 100.0f, 1e-5);
	assert_float_equal(sg->data[0], 0.0f, 1e-30);
	assert_float_equal(sg->data[3], 0.88079708f, 1e-6);
	assert_float_equal(lr->data[1], -0.2f, 1e-7);
	dd_graph_free(g);
}

static void test_shrink(void **state)
{
	(void)state;
	for (int k = 1; k < NSHAPES; k++) {
		const int *d = &SHAPES[k][1];
		int F = d[1];
		dd_tensor *th = dd_tensor_new(1, &F, 1);
		gc_fill(th, &R, 0.3f, 1.0f, NULL, 0, 0);
		dd_tensor *x = dd_tensor_new(SHAPES[k][0], d, 1);
		/* keep |x| away from its feature's theta */
		size_t inner = x->size / ((size_t)d[0] * F);
		for (size_t i = 0; i < x->size; i++) {
			float t = th->data[(i / inner) % F], v;
			do
				v = -3.0f + 6.0f * dd_rng_uniform(&R);
			while (fabsf(fabsf(v) - t) < 0.1f);
			x->data[i] = v;
		}
		dd_tensor *in[2] = {x, th};
		ctx c = {.op = OP_SHRINK};
		check("shrink", &c, in, 2, EPS);
		free_all(in, 2);
	}
	/* values: theta 0.5 */
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *x = dd_graph_input(g, 2, (int[]){1, 4}, (float[]){-2, -0.3f, 0.4f, 1}, 0);
	dd_tensor *th = dd_graph_input(g, 1, (int[]){4}, (float[]){0.5f, 0.5f, 0.5f, 0.5f}, 0);
	dd_tensor *y = dd_shrink(g, x, th);
	float want[] = {-1.5f, 0, 0, 0.5f};
	for (int i = 0; i < 4; i++)
		assert_float_equal(y->data[i], want[i], 1e-7);
	dd_graph_free(g);
}

/* ---- elementwise, reductions, shapes ---------------------------------------- */

static void test_elementwise(void **state)
{
	(void)state;
	enum op ops[] = {OP_ADD, OP_SUB, OP_MUL};
	const char *names[] = {"add", "sub", "mul"};
	for (int o = 0; o < 3; o++)
		for (int k = 0; k < NSHAPES; k++) {
			dd_tensor *in[2] = {T(SHAPES[k][0], &SHAPES[k][1], 1),
			                    T(SHAPES[k][0], &SHAPES[k][1], 1)};
			ctx c = {.op = ops[o]};
			check(names[o], &c, in, 2, EPS);
			free_all(in, 2);
		}
	for (int k = 1; k < NSHAPES; k++) {
		int F = SHAPES[k][2];
		dd_tensor *in[2] = {T(SHAPES[k][0], &SHAPES[k][1], 1), T(1, &F, 1)};
		ctx c = {.op = OP_BIAS};
		check("add_bias", &c, in, 2, EPS);
		free_all(in, 2);
	}
}

static void test_reductions(void **state)
{
	(void)state;
	for (int k = 0; k < NSHAPES; k++)
		for (int axis = 0; axis < SHAPES[k][0]; axis++) {
			dd_tensor *x = T(SHAPES[k][0], &SHAPES[k][1], 1);
			ctx c = {.op = OP_SUM, .axis = axis};
			check("sum", &c, &x, 1, EPS);
			c.op = OP_MEAN;
			check("mean", &c, &x, 1, EPS);
			c.op = OP_SUM_ALL;
			check("sum_all", &c, &x, 1, EPS);
			c.op = OP_MEAN_ALL;
			check("mean_all", &c, &x, 1, EPS);
			dd_tensor_free(x);
		}
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *x = dd_graph_input(g, 3, (int[]){2, 3, 2},
	                              (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0);
	dd_tensor *s1 = dd_sum(g, x, 1), *m0 = dd_mean(g, x, 0);
	assert_int_equal(s1->ndim, 2);
	assert_int_equal(s1->dims[0], 2);
	assert_int_equal(s1->dims[1], 2);
	float w1[] = {9, 12, 27, 30}, w0[] = {4, 5, 6, 7, 8, 9};
	for (int i = 0; i < 4; i++)
		assert_float_equal(s1->data[i], w1[i], 1e-6);
	for (int i = 0; i < 6; i++)
		assert_float_equal(m0->data[i], w0[i], 1e-6);
	assert_float_equal(dd_mean_all(g, x)->data[0], 6.5f, 1e-6);
	dd_graph_free(g);
}

static void test_concat_slice(void **state)
{
	(void)state;
	for (int k = 0; k < NSHAPES; k++)
		for (int axis = 0; axis < SHAPES[k][0]; axis++) {
			int d2[DD_MAX_DIMS], d3[DD_MAX_DIMS];
			memcpy(d2, &SHAPES[k][1], sizeof d2);
			memcpy(d3, &SHAPES[k][1], sizeof d3);
			d2[axis] = 2;
			d3[axis] = 3;
			dd_tensor *in[3] = {T(SHAPES[k][0], &SHAPES[k][1], 1), T(SHAPES[k][0], d2, 1),
			                    T(SHAPES[k][0], d3, 0)};
			ctx c = {.op = OP_CONCAT, .axis = axis, .n = 3};
			check("concat", &c, in, 3, EPS);
			int len = SHAPES[k][1 + axis];
			c = (ctx){.op = OP_SLICE, .axis = axis, .start = len > 1 ? 1 : 0,
			          .len = len > 2 ? len - 2 : 1};
			check("slice", &c, in, 1, EPS);
			free_all(in, 3);
		}
	/* concat then slice gives back the pieces */
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *a = dd_graph_input(g, 2, (int[]){2, 2}, (float[]){1, 2, 3, 4}, 0);
	dd_tensor *b = dd_graph_input(g, 2, (int[]){2, 1}, (float[]){5, 6}, 0);
	dd_tensor *ab = dd_concat(g, (dd_tensor *[]){a, b}, 2, 1);
	float want[] = {1, 2, 5, 3, 4, 6};
	for (int i = 0; i < 6; i++)
		assert_float_equal(ab->data[i], want[i], 0);
	dd_tensor *s = dd_slice(g, ab, 1, 1, 2);
	float ws[] = {2, 5, 4, 6};
	for (int i = 0; i < 4; i++)
		assert_float_equal(s->data[i], ws[i], 0);
	assert_null(dd_slice(g, ab, 1, 2, 2));
	assert_non_null(strstr(dd_graph_error(g), "outside axis 1"));
	dd_graph_free(g);
}

static void test_reshape(void **state)
{
	(void)state;
	dd_tensor *in[2] = {T(3, (int[]){2, 3, 4}, 1), T(2, (int[]){5, 4}, 1)};
	ctx c = {.op = OP_RESHAPE_CHAIN};
	check("reshape chain", &c, in, 2, EPS);
	free_all(in, 2);
	dd_tensor *t = dd_tensor_new(2, (int[]){3, 4}, 1), v;
	assert_int_equal(dd_tensor_view(&v, t, 3, (int[]){2, 2, 3}), DD_OK);
	assert_ptr_equal(v.data, t->data);
	assert_ptr_equal(v.grad, t->grad);
	assert_int_equal(dd_tensor_view(&v, t, 2, (int[]){5, 2}), DD_ERR);
	dd_tensor_free(t);
}

/* x and w each feed several ops; their gradients must be the sums. */
static void test_accumulation(void **state)
{
	(void)state;
	int shapes[][3] = {{1, 3, 3}, {4, 5, 5}, {3, 6, 6}};
	for (int s = 0; s < 3; s++) {
		dd_tensor *in[3] = {T(2, (int[]){shapes[s][0], shapes[s][1]}, 1),
		                    T(2, (int[]){shapes[s][2], shapes[s][1]}, 1),
		                    T(2, (int[]){shapes[s][2], shapes[s][1]}, 1)};
		ctx c = {.op = OP_SHARED};
		check("shared tensors", &c, in, 3, EPS);
		free_all(in, 3);
	}
	/* And plainly: d(x + x + x*x)/dx = 2 + 2x. */
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *x = dd_graph_input(g, 1, (int[]){3}, (float[]){1, -2, 0.5f}, 1);
	dd_tensor *y = dd_sum_all(g, dd_add(g, dd_add(g, x, x), dd_mul(g, x, x)));
	assert_int_equal(dd_graph_backward(g, y), DD_OK);
	assert_float_equal(x->grad[0], 4.0f, 1e-6);
	assert_float_equal(x->grad[1], -2.0f, 1e-6);
	assert_float_equal(x->grad[2], 3.0f, 1e-6);
	dd_graph_free(g);
}

/* ---- softmax ------------------------------------------------------------------ */

static void test_softmax(void **state)
{
	(void)state;
	for (int k = 1; k < NSHAPES; k++) {
		dd_tensor *x = T(SHAPES[k][0], &SHAPES[k][1], 1);
		ctx c = {.op = OP_SOFTMAX};
		check("softmax", &c, &x, 1, EPS);
		c.op = OP_LOG_SOFTMAX;
		check("log_softmax", &c, &x, 1, EPS);
		dd_tensor_free(x);
	}
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *x = dd_graph_input(g, 2, (int[]){1, 3}, (float[]){1000, 1001, 1002}, 0);
	dd_tensor *p = dd_softmax(g, x), *lp = dd_log_softmax(g, x);
	assert_float_equal(p->data[0], 0.09003057f, 1e-6);
	assert_float_equal(p->data[2], 0.66524096f, 1e-6);
	assert_float_equal(lp->data[1], -1.40760596f, 1e-5);
	dd_graph_free(g);
}

/* ---- noise -------------------------------------------------------------------- */

static void test_dropout(void **state)
{
	(void)state;
	for (int k = 0; k < NSHAPES; k++) {
		dd_tensor *x = T(SHAPES[k][0], &SHAPES[k][1], 1);
		ctx c = {.op = OP_DROPOUT, .s = 0.4f, .seed = 7};
		check("dropout", &c, &x, 1, EPS);
		dd_tensor_free(x);
	}
	/* Rate, scaling, and the three modes. */
	dd_graph *g = dd_graph_new(1 << 20);
	dd_rng rng;
	dd_rng_seed(&rng, 3, 0);
	int n = 10000;
	dd_tensor *x = dd_graph_input(g, 1, &n, NULL, 0);
	dd_init_constant(x, 1.0f);
	dd_tensor *y = dd_dropout(g, x, 0.25f, DD_DROPOUT_TRAIN, &rng);
	int zeros = 0;
	for (int i = 0; i < n; i++) {
		if (y->data[i] == 0.0f)
			zeros++;
		else
			assert_float_equal(y->data[i], 1.0f / 0.75f, 1e-6);
	}
	assert_in_range(zeros, 2300, 2700);
	dd_graph_set_training(g, 0);
	assert_ptr_equal(dd_dropout(g, x, 0.25f, DD_DROPOUT_TRAIN, &rng), x);
	dd_tensor *z = dd_dropout(g, x, 0.25f, DD_DROPOUT_ALWAYS, &rng);
	assert_ptr_not_equal(z, x);
	zeros = 0;
	for (int i = 0; i < n; i++)
		zeros += z->data[i] == 0.0f;
	assert_in_range(zeros, 2300, 2700);
	dd_graph_free(g);
}

static void test_gaussian_sample(void **state)
{
	(void)state;
	for (int k = 0; k < NSHAPES; k++) {
		dd_tensor *in[2] = {T(SHAPES[k][0], &SHAPES[k][1], 1), T(SHAPES[k][0], &SHAPES[k][1], 1)};
		ctx c = {.op = OP_GAUSS, .seed = 11};
		check("gaussian sample", &c, in, 2, EPS);
		free_all(in, 2);
	}
	/* Moments: mu 1, logvar log 4 -> mean 1, std 2. */
	dd_graph *g = dd_graph_new(1 << 20);
	dd_rng rng;
	dd_rng_seed(&rng, 5, 0);
	int n = 20000;
	dd_tensor *mu = dd_graph_input(g, 1, &n, NULL, 0), *lv = dd_graph_input(g, 1, &n, NULL, 0);
	dd_init_constant(mu, 1.0f);
	dd_init_constant(lv, logf(4.0f));
	dd_tensor *z = dd_gaussian_sample(g, mu, lv, &rng);
	double s = 0, s2 = 0;
	for (int i = 0; i < n; i++) {
		s += z->data[i];
		s2 += (double)z->data[i] * z->data[i];
	}
	double mean = s / n, var = s2 / n - mean * mean;
	assert_float_equal(mean, 1.0, 0.05);
	assert_float_equal(sqrt(var), 2.0, 0.05);
	dd_graph_free(g);
}

/* ---- losses ------------------------------------------------------------------- */

static void test_mse_l1_bce_hinge(void **state)
{
	(void)state;
	for (int k = 0; k < NSHAPES; k++) {
		const int *d = &SHAPES[k][1];
		int nd = SHAPES[k][0];
		dd_tensor *in[2] = {T(nd, d, 1), T(nd, d, 1)};
		ctx c = {.op = OP_MSE};
		check("mse", &c, in, 2, EPS);
		/* L1: keep p - t away from 0 */
		for (size_t i = 0; i < in[0]->size; i++)
			if (fabsf(in[0]->data[i] - in[1]->data[i]) < 0.1f)
				in[0]->data[i] += 0.3f;
		c.op = OP_L1;
		check("l1", &c, in, 2, EPS);
		gc_fill(in[1], &R, 0.0f, 1.0f, NULL, 0, 0);
		c.op = OP_BCE;
		check("bce", &c, in, 2, EPS);
		const float m = 0.5f;
		gc_fill(in[0], &R, -2.0f, 2.0f, &m, 1, 0.1f);
		c = (ctx){.op = OP_HINGE, .s = m};
		check("hinge", &c, in, 1, EPS);
		free_all(in, 2);
	}
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *p = dd_graph_input(g, 2, (int[]){2, 2}, (float[]){1, 2, 3, 4}, 0);
	dd_tensor *t = dd_graph_input(g, 2, (int[]){2, 2}, (float[]){0, 2, 5, 4}, 0);
	assert_float_equal(dd_mse(g, p, t)->data[0], 1.25f, 1e-6);
	assert_float_equal(dd_l1(g, p, t)->data[0], 0.75f, 1e-6);
	assert_float_equal(dd_hinge(g, p, 2.5f)->data[0], (1.5f + 0.5f) / 4, 1e-6);
	dd_tensor *lg = dd_graph_input(g, 1, (int[]){3}, (float[]){0, 200, -200}, 0);
	dd_tensor *tg = dd_graph_input(g, 1, (int[]){3}, (float[]){1, 1, 0}, 0);
	assert_float_equal(dd_bce_logits(g, lg, tg)->data[0], logf(2.0f) / 3, 1e-6);
	dd_graph_free(g);
}

/* Fills p and t so no neighbour difference nor difference of magnitudes is
** near a kink at eps scale. */
static void gdl_inputs(dd_tensor *p, dd_tensor *t, int H, int W)
{
	for (int tries = 0; tries < 1000; tries++) {
		gc_fill(p, &R, -2, 2, NULL, 0, 0);
		gc_fill(t, &R, -2, 2, NULL, 0, 0);
		int ok = 1;
		for (size_t c = 0; c < p->size / (size_t)(H * W); c++)
			for (int h = 0; h < H; h++)
				for (int w = 0; w < W; w++) {
					size_t i = c * H * W + (size_t)h * W + w;
					size_t nb[2] = {i + (size_t)W, i + 1};
					int has[2] = {h + 1 < H, w + 1 < W};
					for (int k = 0; k < 2; k++) {
						if (!has[k])
							continue;
						float dp = p->data[nb[k]] - p->data[i], dt = t->data[nb[k]] - t->data[i];
						if (fabsf(dp) < 0.05f || fabsf(dt) < 0.05f ||
						    fabsf(fabsf(dp) - fabsf(dt)) < 0.05f)
							ok = 0;
					}
				}
		if (ok)
			return;
	}
	fail_msg("could not draw kink-free GDL inputs");
}

static void test_gdl(void **state)
{
	(void)state;
	int shapes[][4] = {{1, 1, 2, 3}, {2, 2, 3, 3}, {1, 3, 4, 1}, {2, 1, 1, 4}};
	float alphas[] = {1.0f, 2.0f, 1.5f};
	for (int s = 0; s < 4; s++)
		for (int a = 0; a < 3; a++) {
			dd_tensor *in[2] = {dd_tensor_new(4, shapes[s], 1), dd_tensor_new(4, shapes[s], 1)};
			gdl_inputs(in[0], in[1], shapes[s][2], shapes[s][3]);
			ctx c = {.op = OP_GDL, .s = alphas[a]};
			check("gdl", &c, in, 2, 1e-3);
			free_all(in, 2);
		}
	/* 1x1x2x2 image: p = [0 1; 0 0], t = 0: |grad p| pairs: (down) 0,1  (right) 1,0. */
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *p = dd_graph_input(g, 4, (int[]){1, 1, 2, 2}, (float[]){0, 1, 0, 0}, 0);
	dd_tensor *t = dd_graph_input(g, 4, (int[]){1, 1, 2, 2}, NULL, 0);
	assert_float_equal(dd_gdl(g, p, t, 1.0f)->data[0], 2.0f / 4, 1e-6);
	assert_float_equal(dd_gdl(g, p, t, 2.0f)->data[0], 2.0f / 4, 1e-6);
	p->data[1] = 3.0f;
	assert_float_equal(dd_gdl(g, p, t, 2.0f)->data[0], 18.0f / 4, 1e-6);
	dd_graph_free(g);
}

static void test_cross_entropy(void **state)
{
	(void)state;
	int shapes[][5] = {{2, 1, 3}, {2, 5, 10}, {4, 2, 3, 2, 2}, {3, 3, 4, 5}};
	int targets[64];
	for (int s = 0; s < 4; s++) {
		dd_tensor *x = T(shapes[s][0], &shapes[s][1], 1);
		size_t m = x->size / (size_t)x->dims[1];
		for (size_t i = 0; i < m; i++)
			targets[i] = (int)dd_rng_below(&R, (uint64_t)x->dims[1]);
		ctx c = {.op = OP_CE, .targets = targets};
		check("cross entropy", &c, &x, 1, EPS);
		dd_tensor_free(x);
	}
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *x = dd_graph_input(g, 2, (int[]){2, 3}, (float[]){1, 2, 3, 0, 0, 0}, 0);
	/* -log softmax: row 0 class 2: 0.40760596; row 1 any: log 3 */
	dd_tensor *l = dd_cross_entropy(g, x, (int[]){2, 1});
	assert_float_equal(l->data[0], (0.40760596f + logf(3.0f)) / 2, 1e-6);
	assert_null(dd_cross_entropy(g, x, (int[]){3, 0}));
	assert_non_null(strstr(dd_graph_error(g), "not in [0, 3)"));
	dd_graph_free(g);
}

static void test_kl(void **state)
{
	(void)state;
	for (int k = 0; k < NSHAPES; k++) {
		const int *d = &SHAPES[k][1];
		int nd = SHAPES[k][0];
		dd_tensor *in[4] = {T(nd, d, 1), T(nd, d, 1), T(nd, d, 1), T(nd, d, 1)};
		ctx c = {.op = OP_KL_NORMAL};
		check("kl to N(0,1)", &c, in, 2, EPS);
		c.op = OP_KL_GAUSS;
		check("kl of gaussians", &c, in, 4, EPS);
		free_all(in, 4);
	}
	dd_graph *g = dd_graph_new(1 << 16);
	/* batch 2 of 1-D: KL(N(1, 1) || N(0,1)) = 0.5; KL(N(0, e^2)||N(0,1)) = (e^2 - 1 - 2)/2 */
	dd_tensor *mu = dd_graph_input(g, 2, (int[]){2, 1}, (float[]){1, 0}, 0);
	dd_tensor *lv = dd_graph_input(g, 2, (int[]){2, 1}, (float[]){0, 2}, 0);
	float want = (0.5f + (expf(2.0f) - 3.0f) / 2) / 2;
	assert_float_equal(dd_kl_normal(g, mu, lv)->data[0], want, 1e-5);
	dd_tensor *z = dd_graph_input(g, 2, (int[]){2, 1}, NULL, 0);
	assert_float_equal(dd_kl_gauss(g, mu, lv, z, z)->data[0], want, 1e-5);
	assert_float_equal(dd_kl_gauss(g, mu, lv, mu, lv)->data[0], 0.0f, 1e-7);
	dd_graph_free(g);
}

/* ---- errors ------------------------------------------------------------------- */

static void test_sticky_errors(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(1 << 16);
	dd_tensor *a = dd_graph_input(g, 2, (int[]){2, 3}, NULL, 1);
	dd_tensor *b = dd_graph_input(g, 2, (int[]){4, 5}, NULL, 1);
	dd_tensor *y = dd_relu(g, dd_add(g, dd_matmul(g, a, b), a));
	assert_null(y);
	assert_non_null(strstr(dd_graph_error(g), "matmul"));
	assert_int_equal(dd_graph_backward(g, y), DD_ERR);
	assert_non_null(strstr(dd_graph_error(g), "matmul")); /* the first error stays */
	dd_graph_reset(g);
	assert_string_equal(dd_graph_error(g), "");
	a = dd_graph_input(g, 2, (int[]){2, 3}, NULL, 1);
	assert_int_equal(dd_graph_backward(g, dd_relu(g, a)), DD_ERR);
	assert_non_null(strstr(dd_graph_error(g), "not 1"));
	dd_graph_free(g);
}

int main(void)
{
	dd_rng_seed(&R, 42, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_catches_bugs),
		cmocka_unit_test(test_matmul),
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_frozen_params),
		cmocka_unit_test(test_activations),
		cmocka_unit_test(test_activation_values),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_elementwise),
		cmocka_unit_test(test_reductions),
		cmocka_unit_test(test_concat_slice),
		cmocka_unit_test(test_reshape),
		cmocka_unit_test(test_accumulation),
		cmocka_unit_test(test_softmax),
		cmocka_unit_test(test_dropout),
		cmocka_unit_test(test_gaussian_sample),
		cmocka_unit_test(test_mse_l1_bce_hinge),
		cmocka_unit_test(test_gdl),
		cmocka_unit_test(test_cross_entropy),
		cmocka_unit_test(test_kl),
		cmocka_unit_test(test_sticky_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
