/*
** test_tape_alloc.c -- a steady-state training step of a conv net that uses
** every spatial and recurrent op (conv, transposed conv, max-pooling with
** its switches and unpooling, soft pooling with a learnable temperature, L2
** pooling, both upsamplings, an LSTM cell and sequence) with Adam makes no
** heap allocation at all: malloc and friends are counted for the whole
** process, OpenBLAS included, as in test_graph.c.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daydream/nn.h"

#include "alloc_count.h"

enum { B = 16, S = 16, K = 10, T = 3, HID = 12 };

typedef struct net {
	dd_paramset *ps;
	dd_tensor *c1w, *c1b, *c2w, *c2b, *beta, *dw, *db, *uw, *fw, *fb;
	dd_lstm_weights lw;
	dd_tensor *ow;
} net;

static dd_tensor *add(net *m, const char *name, int nd, const int *d)
{
	return dd_paramset_add(m->ps, name, nd, d);
}

static void net_make(net *m, uint64_t seed)
{
	m->ps = dd_paramset_new();
	m->c1w = add(m, "c1.w", 4, (int[]){8, 1, 3, 3});
	m->c1b = add(m, "c1.b", 1, (int[]){8});
	m->c2w = add(m, "c2.w", 4, (int[]){8, 8, 3, 3});
	m->c2b = add(m, "c2.b", 1, (int[]){8});
	m->beta = add(m, "beta", 1, (int[]){1});
	m->dw = add(m, "dec.w", 4, (int[]){8, 1, 3, 3});
	m->db = add(m, "dec.b", 1, (int[]){1});
	m->uw = add(m, "up.w", 4, (int[]){1, 8, 1, 1});
	m->fw = add(m, "fc.w", 2, (int[]){K, 48});
	m->fb = add(m, "fc.b", 1, (int[]){K});
	m->lw.w_ih = add(m, "lstm.w_ih", 2, (int[]){4 * HID, 32});
	m->lw.w_hh = add(m, "lstm.w_hh", 2, (int[]){4 * HID, HID});
	m->lw.b_ih = add(m, "lstm.b_ih", 1, (int[]){4 * HID});
	m->lw.b_hh = NULL;
	m->ow = add(m, "out.w", 2, (int[]){K, HID});
	assert_int_equal(dd_paramset_alloc(m->ps), DD_OK);
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	for (int i = 0; i < dd_paramset_len(m->ps); i++) {
		dd_tensor *t = dd_paramset_tensor(m->ps, i);
		if (t->ndim > 1)
			dd_init_xavier(t, &rng, 1.0f);
	}
	dd_init_constant(m->beta, 2.0f);
}

/* Classification (softpool + L2 pool + LSTM features) plus two decoders
** (what-where unpooling + transposed conv, and upsampling), one loss. */
static float step(net *m, dd_graph *g, dd_optim *opt, const float *x, const int *y)
{
	dd_graph_reset(g);
	dd_paramset_zero_grad(m->ps);
	dd_tensor *in = dd_graph_input(g, 4, (int[]){B, 1, S, S}, x, 0);
	dd_conv_params same = {1, 1, 1, 1, 0, 0}, down = {2, 2, 1, 1, 0, 0};
	dd_pool_params p2 = {2, 2, 2, 2, 0, 0};
	const dd_pool_switches *sw;
	dd_tensor *h1 = dd_maxpool2d(g, dd_relu(g, dd_conv2d(g, in, m->c1w, m->c1b, &same)), &p2,
	                             &sw);                                   /* B 8 8 8 */
	dd_tensor *h2 = dd_tanh(g, dd_conv2d(g, h1, m->c2w, m->c2b, &down)); /* B 8 4 4 */
	dd_tensor *px, *py;
	dd_tensor *sp = dd_softpool2d(g, h2, &p2, 0.0f, m->beta, &px, &py);  /* B 8 2 2 */
	dd_tensor *l2 = dd_l2pool(g, sp, &(dd_l2pool_params){1, 8, 1, 2, 1, 2, 1e-4f}); /* B 4 2 2 */
	dd_tensor *feats[3] = {dd_reshape(g, sp, 2, (int[]){B, 32}),
	                       dd_reshape(g, l2, 2, (int[]){B, 16}),
	                       NULL};
	dd_tensor *logits = dd_linear(g, dd_concat(g, feats, 2, 1), m->fw, m->fb);
	/* the soft-argmax as an LSTM's input over T steps */
	dd_tensor *pos = dd_reshape(g, dd_add(g, px, py), 3, (int[]){1, B, 32});
	dd_tensor *seq_in[T] = {pos, pos, pos};
	dd_lstm_state last;
	dd_lstm(g, dd_concat(g, seq_in, T, 0), NULL, &m->lw, &last);
	dd_lstm_state s = dd_lstm_cell(g, dd_reshape(g, sp, 2, (int[]){B, 32}), &last, &m->lw);
	logits = dd_add(g, logits, dd_linear(g, s.h, m->ow, NULL));
	dd_tensor *rec = dd_conv_transpose2d(g, dd_upsample_nearest(g, dd_maxunpool2d(g, h1, sw),
	                                                             1, 1),
	                                     m->dw, m->db, &same);           /* B 1 16 16 */
	dd_tensor *rec2 = dd_conv2d(g, dd_upsample_bilinear(g, h2, 4, 4), m->uw, NULL, NULL);
	dd_tensor *loss = dd_add(g, dd_cross_entropy(g, logits, y),
	                         dd_add(g, dd_mse(g, rec, in), dd_mse(g, rec2, in)));
	if (!loss)
		fail_msg("step failed: %s", dd_graph_error(g));
	assert_int_equal(dd_graph_backward(g, loss), DD_OK);
	dd_paramset_clip_grad_norm(m->ps, 5.0);
	assert_int_equal(dd_optim_step(opt), DD_OK);
	return loss->data[0];
}

static void test_no_alloc_in_conv_step(void **state)
{
	(void)state;
	dd_nn_set_threads(0); /* every core: OpenBLAS's threads must not allocate either */
	net m;
	net_make(&m, 5);
	dd_optim_config cfg = dd_optim_defaults(DD_OPTIM_ADAM);
	dd_optim *opt = dd_optim_new(m.ps, &cfg);
	dd_graph *g = dd_graph_new((size_t)8 << 20);
	assert_non_null(opt);
	assert_non_null(g);
	dd_rng rng;
	dd_rng_seed(&rng, 6, 0);
	static float x[B * S * S];
	static int y[B];
	for (int i = 0; i < B; i++) { /* a bright square whose corner is the class */
		y[i] = (int)dd_rng_below(&rng, K);
		for (int p = 0; p < S * S; p++) {
			int r = p / S, c = p % S;
			int on = r >= y[i] && r < y[i] + 5 && c >= y[i] && c < y[i] + 5;
			x[i * S * S + p] = (on ? 1.0f : 0.0f) + 0.1f * dd_rng_normal(&rng);
		}
	}
	for (int i = 0; i < 3; i++) /* warm-up: OpenBLAS sets up its buffers */
		step(&m, g, opt, x, y);
	long before = n_allocs;
	float first = step(&m, g, opt, x, y), last = first;
	for (int i = 0; i < 150; i++)
		last = step(&m, g, opt, x, y);
	long during = n_allocs - before;
	fprintf(stderr, "loss %g -> %g\n", first, last);
	assert_true(last < 0.5f * first); /* and it trained */
	assert_true(m.beta->data[0] != 2.0f); /* the temperature learned too */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_alloc_in_conv_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
