/*
** test_graph.c -- the arena and the tape: overflow is an error and never an
** abort, reset reuses the memory, and a steady-state training step (forward,
** backward, clipping, Adam) makes no heap allocation at all -- counted by
** interposing malloc and friends for the whole process, OpenBLAS included.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daydream/nn.h"

#include "alloc_count.h"

typedef struct mlp {
	dd_paramset *ps;
	dd_tensor *w1, *b1, *w2, *b2, *th;
} mlp;

static void mlp_make(mlp *m, uint64_t seed)
{
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	m->ps = dd_paramset_new();
	m->w1 = dd_paramset_add(m->ps, "w1", 2, (int[]){32, 20});
	m->b1 = dd_paramset_add(m->ps, "b1", 1, (int[]){32});
	m->th = dd_paramset_add(m->ps, "theta", 1, (int[]){32});
	m->w2 = dd_paramset_add(m->ps, "w2", 2, (int[]){5, 32});
	m->b2 = dd_paramset_add(m->ps, "b2", 1, (int[]){5});
	assert_int_equal(dd_paramset_alloc(m->ps), DD_OK);
	dd_init_he(m->w1, &rng);
	dd_init_xavier(m->w2, &rng, 1.0f);
	dd_init_constant(m->th, 0.05f);
}

/* One training step over a mix of ops; returns the loss. */
static float step(mlp *m, dd_graph *g, dd_optim *opt, dd_rng *rng, const float *x,
                  const int *y, int batch)
{
	dd_graph_reset(g);
	dd_paramset_zero_grad(m->ps);
	dd_tensor *in = dd_graph_input(g, 2, (int[]){batch, 20}, x, 0);
	dd_tensor *h = dd_shrink(g, dd_relu(g, dd_linear(g, in, m->w1, m->b1)), m->th);
	h = dd_dropout(g, h, 0.2f, DD_DROPOUT_TRAIN, rng);
	dd_tensor *logits = dd_linear(g, h, m->w2, m->b2);
	dd_tensor *loss = dd_add(g, dd_cross_entropy(g, logits, y),
	                         dd_scale(g, dd_mean_all(g, dd_softmax(g, logits)), 0.0f));
	assert_non_null(loss);
	assert_int_equal(dd_graph_backward(g, loss), DD_OK);
	dd_paramset_clip_grad_norm(m->ps, 5.0);
	assert_int_equal(dd_optim_step(opt), DD_OK);
	return loss->data[0];
}

static void test_no_alloc_in_steady_state(void **state)
{
	(void)state;
	dd_nn_set_threads(0); /* every core: OpenBLAS's threads must not allocate either */
	mlp m;
	mlp_make(&m, 1);
	dd_optim_config cfg = dd_optim_defaults(DD_OPTIM_ADAM);
	dd_optim *opt = dd_optim_new(m.ps, &cfg);
	dd_graph *g = dd_graph_new(1 << 20);
	dd_rng rng;
	dd_rng_seed(&rng, 2, 0);
	enum { B = 64 };
	static float x[B * 20];
	static int y[B];
	for (int i = 0; i < B * 20; i++)
		x[i] = dd_rng_normal(&rng);
	for (int i = 0; i < B; i++)
		y[i] = (int)dd_rng_below(&rng, 5);
	for (int i = 0; i < 3; i++) /* warm-up: OpenBLAS sets up its buffers */
		step(&m, g, opt, &rng, x, y, B);
	long before = n_allocs;
	float first = step(&m, g, opt, &rng, x, y, B), last = first;
	for (int i = 0; i < 50; i++)
		last = step(&m, g, opt, &rng, x, y, B);
	long during = n_allocs - before;
	assert_true(last < first); /* and it trained */
	long b2 = n_allocs;
	dd_tensor *extra = dd_tensor_new(1, (int[]){4}, 0);
	long counted = n_allocs - b2;
	dd_tensor_free(extra);
	dd_graph_free(g);
	dd_optim_free(opt);
	dd_paramset_free(m.ps);
	if (!COUNTING) /* under ASan the counter is not wired in */
		skip();
	assert_true(counted > 0); /* the counter does count */
	assert_int_equal(during, 0);
}

static void test_arena_overflow_is_an_error(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(4096);
	assert_non_null(g);
	dd_tensor *a = dd_graph_input(g, 2, (int[]){4, 100}, NULL, 1);
	assert_non_null(a);
	dd_tensor *y = dd_tanh(g, dd_relu(g, dd_tanh(g, a)));
	assert_null(y);
	assert_non_null(strstr(dd_graph_error(g), "arena overflow"));
	assert_true(dd_graph_arena_peak(g) > dd_graph_arena_capacity(g));
	assert_int_equal(dd_graph_backward(g, y), DD_ERR);
	/* After a reset the same graph works again within its size. */
	dd_graph_reset(g);
	assert_int_equal(dd_graph_arena_used(g), 0);
	assert_string_equal(dd_graph_error(g), "");
	a = dd_graph_input(g, 2, (int[]){2, 10}, NULL, 1);
	assert_non_null(dd_sum_all(g, dd_tanh(g, a)));
	/* A huge request fails cleanly, without wrapping around. */
	assert_null(dd_graph_alloc(g, (size_t)-1 - 8));
	assert_null(dd_graph_tensor(g, 2, (int[]){1 << 30, 1 << 30}, 0));
	dd_graph_free(g);
}

static void test_reset_reuses_memory(void **state)
{
	(void)state;
	dd_graph *g = dd_graph_new(1 << 16);
	float *first = NULL;
	for (int i = 0; i < 5; i++) {
		dd_graph_reset(g);
		dd_tensor *a = dd_graph_input(g, 1, (int[]){8}, NULL, 1);
		if (i == 0)
			first = a->data;
		assert_ptr_equal(a->data, first);
		assert_int_equal((uintptr_t)a->data % 64, 0);
	}
	dd_graph_free(g);
}

/* Gradients reach an input that asks for them through a frozen net: the
** planner's case. Without a frozen set, the same step also fills dW. */
static void test_input_gradient_through_frozen_net(void **state)
{
	(void)state;
	mlp m;
	mlp_make(&m, 3);
	dd_paramset_freeze(m.ps, 1);
	dd_graph *g = dd_graph_new(1 << 20);
	float x[20];
	for (int i = 0; i < 20; i++)
		x[i] = (float)i / 10.0f - 1.0f;
	dd_tensor *a = dd_graph_input(g, 2, (int[]){1, 20}, x, 1);
	dd_tensor *out = dd_sum_all(g, dd_linear(g, dd_tanh(g, dd_linear(g, a, m.w1, m.b1)),
	                                         m.w2, m.b2));
	assert_int_equal(dd_graph_backward(g, out), DD_OK);
	double norm = 0;
	for (int i = 0; i < 20; i++)
		norm += fabs(a->grad[i]);
	assert_true(norm > 1e-3);
	assert_true(dd_paramset_grad_norm(m.ps) == 0.0);
	dd_graph_free(g);
	dd_paramset_free(m.ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_alloc_in_steady_state),
		cmocka_unit_test(test_arena_overflow_is_an_error),
		cmocka_unit_test(test_reset_reuses_memory),
		cmocka_unit_test(test_input_gradient_through_frozen_net),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
