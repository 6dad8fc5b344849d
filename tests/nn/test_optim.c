/*
** test_optim.c -- each optimiser against steps computed by hand (with
** torch.optim's formulas, in double, to 1e-6), on a convex objective, and
** the whole-buffer operations: clipping, zeroing, learning-rate changes.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daydream/nn.h"

typedef struct setup {
	dd_paramset *ps;
	dd_tensor *w, *z;
	dd_optim *opt;
} setup;

/* w = [1, -2] gets the gradients below; z (after an alignment gap) gets none. */
static const float G0[3] = {0.5f, -0.2f, 0.3f}, G1[3] = {-1.5f, 0.25f, 0.125f};

static void make(setup *s, const dd_optim_config *cfg)
{
	s->ps = dd_paramset_new();
	s->w = dd_paramset_add(s->ps, "w", 1, (int[]){2});
	s->z = dd_paramset_add(s->ps, "z", 1, (int[]){3});
	assert_int_equal(dd_paramset_alloc(s->ps), DD_OK);
	s->w->data[0] = 1.0f;
	s->w->data[1] = -2.0f;
	dd_init_constant(s->z, 0.5f);
	s->opt = dd_optim_new(s->ps, cfg);
	assert_non_null(s->opt);
}

static void run(setup *s, const double *want0, const double *want1)
{
	for (int t = 0; t < 3; t++) {
		dd_paramset_zero_grad(s->ps);
		s->w->grad[0] = G0[t];
		s->w->grad[1] = G1[t];
		assert_int_equal(dd_optim_step(s->opt), DD_OK);
		assert_float_equal(s->w->data[0], want0[t], 1e-6);
		if (want1)
			assert_float_equal(s->w->data[1], want1[t], 1e-6);
		/* no gradient, no decay: z must not move */
		for (int i = 0; i < 3 && dd_optim_get_config(s->opt)->weight_decay == 0.0f; i++)
			assert_true(s->z->data[i] == 0.5f);
	}
	assert_int_equal(dd_optim_steps(s->opt), 3);
	dd_optim_free(s->opt);
	dd_paramset_free(s->ps);
}

static void test_sgd_by_hand(void **state)
{
	(void)state;
	setup s;
	dd_optim_config c = dd_optim_defaults(DD_OPTIM_SGD);
	c.lr = 0.1f;
	make(&s, &c); /* plain: p -= lr g */
	run(&s, (double[]){0.95, 0.97, 0.94}, (double[]){-1.85, -1.875, -1.8875});
	c.momentum = 0.9f; /* buf = 0.9 buf + g; p -= lr buf */
	make(&s, &c);
	run(&s, (double[]){0.95, 0.925, 0.8725}, NULL);
	c.nesterov = 1; /* p -= lr (g + 0.9 buf) */
	make(&s, &c);
	run(&s, (double[]){0.905, 0.9025, 0.82525}, NULL);
	c = dd_optim_defaults(DD_OPTIM_SGD);
	c.lr = 0.1f;
	c.weight_decay = 0.1f; /* g += 0.1 p */
	make(&s, &c);
	run(&s, (double[]){0.94, 0.9506, 0.911094}, NULL);
}

static void test_rmsprop_by_hand(void **state)
{
	(void)state;
	setup s;
	dd_optim_config c = dd_optim_defaults(DD_OPTIM_RMSPROP);
	make(&s, &c);
	run(&s, (double[]){0.900000020, 0.937300205, 0.888285905}, NULL);
	c.momentum = 0.9f;
	make(&s, &c);
	run(&s, (double[]){0.900000020, 0.847300223, 0.750856106}, NULL);
}

static void test_adam_by_hand(void **state)
{
	(void)state;
	setup s;
	dd_optim_config c = dd_optim_defaults(DD_OPTIM_ADAM);
	c.lr = 0.1f;
	make(&s, &c);
	run(&s, (double[]){0.900000002, 0.865439418, 0.810995384},
	    (double[]){-1.900000001, -1.846146246, -1.809895841});
	c.weight_decay = 0.1f; /* L2 in the gradient */
	make(&s, &c);
	run(&s, (double[]){0.900000002, 0.847519063, 0.779112161}, NULL);
	c.decoupled = 1; /* AdamW: p *= 1 - lr wd first */
	make(&s, &c);
	/* run() checks that z stays put, but decoupled decay shrinks z too */
	for (int t = 0; t < 3; t++) {
		dd_paramset_zero_grad(s.ps);
		s.w->grad[0] = G0[t];
		dd_optim_step(s.opt);
	}
	assert_float_equal(s.w->data[0], 0.783629989, 1e-6);
	assert_float_equal(s.z->data[0], 0.5 * pow(0.99, 3), 1e-7);
	dd_optim_free(s.opt);
	dd_paramset_free(s.ps);
}

/* Each optimiser drives an ill-conditioned quadratic sum a_i (p_i - c_i)^2,
** written as a graph, to near its minimum. */
static void test_convex_objective(void **state)
{
	(void)state;
	dd_optim_config cfgs[5];
	cfgs[0] = dd_optim_defaults(DD_OPTIM_SGD);
	cfgs[0].lr = 0.02f;
	cfgs[1] = cfgs[0];
	cfgs[1].momentum = 0.9f;
	cfgs[2] = cfgs[1];
	cfgs[2].nesterov = 1;
	cfgs[3] = dd_optim_defaults(DD_OPTIM_RMSPROP);
	cfgs[4] = dd_optim_defaults(DD_OPTIM_ADAM);
	cfgs[4].lr = 0.05f;
	enum { N = 7 };
	float a[N], c[N];
	for (int i = 0; i < N; i++) {
		a[i] = 0.5f + (float)i;
		c[i] = (float)i * 0.3f - 1.0f;
	}
	for (int k = 0; k < 5; k++) {
		dd_paramset *ps = dd_paramset_new();
		dd_tensor *p = dd_paramset_add(ps, "p", 2, (int[]){1, N});
		assert_int_equal(dd_paramset_alloc(ps), DD_OK);
		dd_init_constant(p, 2.0f);
		dd_optim *opt = dd_optim_new(ps, &cfgs[k]);
		dd_graph *g = dd_graph_new(1 << 16);
		float first = 0, last = 0;
		for (int t = 0; t < 500; t++) {
			dd_graph_reset(g);
			dd_paramset_zero_grad(ps);
			dd_tensor *ct = dd_graph_input(g, 2, (int[]){1, N}, c, 0);
			dd_tensor *at = dd_graph_input(g, 2, (int[]){1, N}, a, 0);
			dd_tensor *d = dd_sub(g, p, ct);
			dd_tensor *loss = dd_sum_all(g, dd_mul(g, at, dd_mul(g, d, d)));
			assert_int_equal(dd_graph_backward(g, loss), DD_OK);
			dd_optim_step(opt);
			if (t == 0)
				first = loss->data[0];
			last = loss->data[0];
		}
		if (!(last < 1e-3f * first))
			fail_msg("optimiser %d: loss %g -> %g", k, (double)first, (double)last);
		dd_graph_free(g);
		dd_optim_free(opt);
		dd_paramset_free(ps);
	}
}

static void test_clip_zero_lr(void **state)
{
	(void)state;
	setup s;
	dd_optim_config c = dd_optim_defaults(DD_OPTIM_SGD);
	c.lr = 1.0f;
	make(&s, &c);
	s.w->grad[0] = 3.0f;
	s.w->grad[1] = 4.0f;
	assert_float_equal(dd_paramset_grad_norm(s.ps), 5.0, 1e-9);
	assert_float_equal(dd_paramset_clip_grad_norm(s.ps, 1.0), 5.0, 1e-9);
	assert_float_equal(s.w->grad[0], 0.6f, 1e-7);
	assert_float_equal(s.w->grad[1], 0.8f, 1e-7);
	assert_float_equal(dd_paramset_clip_grad_norm(s.ps, 10.0), 1.0, 1e-6);
	assert_float_equal(s.w->grad[1], 0.8f, 1e-7); /* under the limit: untouched */
	dd_optim_set_lr(s.opt, 0.0f);
	dd_optim_step(s.opt);
	assert_float_equal(s.w->data[0], 1.0f, 0);
	dd_optim_set_lr(s.opt, 0.5f);
	assert_float_equal(dd_optim_lr(s.opt), 0.5f, 0);
	dd_optim_step(s.opt);
	assert_float_equal(s.w->data[0], 0.7f, 1e-7);
	dd_paramset_zero_grad(s.ps);
	assert_true(dd_paramset_grad_norm(s.ps) == 0.0);
	/* a frozen set does not move */
	s.w->grad[0] = 1.0f;
	dd_paramset_freeze(s.ps, 1);
	dd_optim_step(s.opt);
	assert_float_equal(s.w->data[0], 0.7f, 1e-7);
	dd_optim_free(s.opt);
	dd_paramset_free(s.ps);
}

static void test_bad_config(void **state)
{
	(void)state;
	dd_paramset *ps = dd_paramset_new();
	dd_paramset_add(ps, "w", 1, (int[]){2});
	dd_optim_config c = dd_optim_defaults(DD_OPTIM_ADAM);
	assert_null(dd_optim_new(ps, &c));
	assert_non_null(strstr(dd_paramset_error(ps), "not allocated"));
	dd_paramset_alloc(ps);
	c.beta1 = 1.5f;
	assert_null(dd_optim_new(ps, &c));
	assert_non_null(strstr(dd_paramset_error(ps), "bad hyperparameters"));
	c = dd_optim_defaults(DD_OPTIM_ADAM);
	c.nesterov = 1;
	assert_null(dd_optim_new(ps, &c));
	assert_null(dd_paramset_add(ps, "v", 1, (int[]){2}));
	assert_non_null(strstr(dd_paramset_error(ps), "after alloc"));
	dd_paramset_free(ps);
	ps = dd_paramset_new();
	assert_non_null(dd_paramset_add(ps, "a.b", 1, (int[]){2}));
	assert_null(dd_paramset_add(ps, "a.b", 1, (int[]){2}));
	assert_non_null(strstr(dd_paramset_error(ps), "duplicate"));
	assert_null(dd_paramset_add(ps, "bad name", 1, (int[]){2}));
	assert_null(dd_paramset_add(ps, "zero", 1, (int[]){0}));
	dd_paramset_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgd_by_hand),
		cmocka_unit_test(test_rmsprop_by_hand),
		cmocka_unit_test(test_adam_by_hand),
		cmocka_unit_test(test_convex_objective),
		cmocka_unit_test(test_clip_zero_lr),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
