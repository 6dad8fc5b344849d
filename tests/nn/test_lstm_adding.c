/*
** test_lstm_adding.c -- a classic long-memory task for the LSTM ops: the
** adding problem (Hochreiter & Schmidhuber 1997). Each sequence of T = 40
** steps carries a value in [0, 1) and a marker; exactly two steps are
** marked, one in each half, and the target is the sum of their values.
** Predicting the mean (1) scores a mean squared error of 1/6 = 0.167; the
** trained dd_lstm must score below 0.005 on fresh sequences, which needs
** memory across up to T steps. The untrained net is checked to fail too.
** Measured: 0.00026 after 1500 Adam steps of batch 64 (seeds 8 and 9 of the
** weights: 0.00019, 0.00039), about 4 s on one core.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daydream/nn.h"

enum { T = 40, B = 64, HID = 32, STEPS = 1500, TEST_BATCHES = 8 };
#define MAX_MSE 0.005

typedef struct net {
	dd_paramset *ps;
	dd_lstm_weights lw;
	dd_tensor *ow, *ob;
} net;

/* One batch, time-major as dd_lstm wants it: x (T, B, 2), targets (B). */
static void make_batch(dd_rng *rng, float *x, float *y)
{
	memset(x, 0, sizeof(float) * T * B * 2);
	for (int b = 0; b < B; b++) {
		for (int t = 0; t < T; t++)
			x[(t * B + b) * 2] = dd_rng_uniform(rng);
		int i = (int)dd_rng_below(rng, T / 2), j = T / 2 + (int)dd_rng_below(rng, T / 2);
		x[(i * B + b) * 2 + 1] = 1.0f;
		x[(j * B + b) * 2 + 1] = 1.0f;
		y[b] = x[(i * B + b) * 2] + x[(j * B + b) * 2];
	}
}

static dd_tensor *predict(net *m, dd_graph *g, const float *x)
{
	dd_lstm_state last;
	dd_tensor *hs = dd_lstm(g, dd_graph_input(g, 3, (int[]){T, B, 2}, x, 0), NULL, &m->lw,
	                        &last);
	return hs ? dd_linear(g, last.h, m->ow, m->ob) : NULL;
}

/* Mean squared error of the net, and of always answering 1, on fresh data. */
static void evaluate(net *m, dd_graph *g, uint64_t seed, double *mse, double *mse_mean)
{
	static float x[T * B * 2], y[B];
	dd_rng rng;
	dd_rng_seed(&rng, seed, 1);
	double se = 0, se0 = 0;
	for (int k = 0; k < TEST_BATCHES; k++) {
		make_batch(&rng, x, y);
		dd_graph_reset(g);
		dd_tensor *p = predict(m, g, x);
		if (!p)
			fail_msg("forward failed: %s", dd_graph_error(g));
		for (int b = 0; b < B; b++) {
			se += (double)(p->data[b] - y[b]) * (p->data[b] - y[b]);
			se0 += (double)(1.0f - y[b]) * (1.0f - y[b]);
		}
	}
	*mse = se / (TEST_BATCHES * B);
	*mse_mean = se0 / (TEST_BATCHES * B);
}

static void test_lstm_solves_adding_problem(void **state)
{
	(void)state;
	dd_nn_set_threads(1);
	net m;
	m.ps = dd_paramset_new();
	m.lw.w_ih = dd_paramset_add(m.ps, "lstm.w_ih", 2, (int[]){4 * HID, 2});
	m.lw.w_hh = dd_paramset_add(m.ps, "lstm.w_hh", 2, (int[]){4 * HID, HID});
	m.lw.b_ih = dd_paramset_add(m.ps, "lstm.b_ih", 1, (int[]){4 * HID});
	m.lw.b_hh = NULL;
	m.ow = dd_paramset_add(m.ps, "out.w", 2, (int[]){1, HID});
	m.ob = dd_paramset_add(m.ps, "out.b", 1, (int[]){1});
	assert_int_equal(dd_paramset_alloc(m.ps), DD_OK);
	dd_rng rng;
	dd_rng_seed(&rng, 7, 0);
	dd_init_xavier(m.lw.w_ih, &rng, 1.0f);
	dd_init_orthogonal(m.lw.w_hh, &rng, 1.0f);
	dd_init_xavier(m.ow, &rng, 1.0f);
	for (int k = HID; k < 2 * HID; k++) /* forget gates open: remember by default */
		m.lw.b_ih->data[k] = 1.0f;
	dd_optim_config cfg = dd_optim_defaults(DD_OPTIM_ADAM);
	cfg.lr = 1e-2f;
	dd_optim *opt = dd_optim_new(m.ps, &cfg);
	dd_graph *g = dd_graph_new((size_t)8 << 20);
	assert_non_null(opt);
	assert_non_null(g);

	double mse0, base;
	evaluate(&m, g, 99, &mse0, &base);
	static float x[T * B * 2], y[B];
	for (int s = 0; s < STEPS; s++) {
		make_batch(&rng, x, y);
		dd_graph_reset(g);
		dd_paramset_zero_grad(m.ps);
		dd_tensor *p = predict(&m, g, x);
		dd_tensor *loss = dd_mse(g, p, dd_graph_input(g, 2, (int[]){B, 1}, y, 0));
		if (!loss || dd_graph_backward(g, loss) != DD_OK)
			fail_msg("step %d failed: %s", s, dd_graph_error(g));
		dd_paramset_clip_grad_norm(m.ps, 1.0);
		dd_optim_step(opt);
	}
	double mse, base2;
	evaluate(&m, g, 99, &mse, &base2);
	fprintf(stderr, "adding problem T=%d, LSTM %d units, %d steps of batch %d: test MSE "
	        "untrained %.4f, trained %.5f; predicting the mean %.4f\n", T, HID, STEPS, B, mse0,
	        mse, base);
	assert_true(base > 0.12 && base < 0.22); /* the task is what it says */
	assert_true(mse0 > 0.1);
	if (mse > MAX_MSE)
		fail_msg("test MSE %.5f > %.3f", mse, MAX_MSE);
	dd_graph_free(g);
	dd_optim_free(opt);
	dd_paramset_free(m.ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lstm_solves_adding_problem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
