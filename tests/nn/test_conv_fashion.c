/*
** test_conv_fashion.c -- learning on real data: a small conv net
** (conv 5x5 C1 + ReLU + max-pool 2, conv 5x5 C2 + ReLU + max-pool 2, linear
** to 10; Adam) trained on a subset of Fashion-MNIST must reach >= 85 % on
** held-out test images, where the same net untrained sits near chance.
** Figures are in the comment at the sizes below. Data: Debian package
** dataset-fashion-mnist (or the folder in DD_FASHION_MNIST_DIR); without
** it the test skips.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "daydream/nn.h"
#include "fashion_data.h"

/* 10k training images, 5 epochs of batches of 50, Adam lr 3e-3 decayed by
** 0.7 per epoch, one BLAS thread. Measured on the 2-core EPYC machine:
** 88.0 % on the first 2000 test images (untrained 12.0 %), about 9.5 s of
** training; seeds 1 and 2 give 88.0 % and 87.3 %. */
enum { NTRAIN = 10000, NTEST = 2000, S = 28, D = S * S, C1 = 8, C2 = 16, K = 10, B = 50,
       EPOCHS = 5 };
#define MIN_ACCURACY 0.85

typedef fashion_set data;

typedef struct net {
	dd_paramset *ps;
	dd_tensor *w1, *b1, *w2, *b2, *w3, *b3;
} net;

static dd_tensor *forward(net *m, dd_graph *g, const float *x, int n)
{
	dd_conv_params same = {1, 1, 2, 2, 0, 0};
	dd_pool_params pool = {2, 2, 2, 2, 0, 0};
	dd_tensor *in = dd_graph_input(g, 4, (int[]){n, 1, S, S}, x, 0);
	dd_tensor *h = dd_maxpool2d(g, dd_relu(g, dd_conv2d(g, in, m->w1, m->b1, &same)), &pool,
	                            NULL);
	h = dd_maxpool2d(g, dd_relu(g, dd_conv2d(g, h, m->w2, m->b2, &same)), &pool, NULL);
	h = dd_reshape(g, h, 2, (int[]){n, C2 * (S / 4) * (S / 4)});
	return dd_linear(g, h, m->w3, m->b3);
}

static double accuracy(net *m, dd_graph *g, const data *d)
{
	int right = 0;
	dd_graph_set_training(g, 0);
	for (int s = 0; s < d->n; s += 250) {
		int n = d->n - s < 250 ? d->n - s : 250;
		dd_graph_reset(g);
		dd_tensor *lg = forward(m, g, d->x + (size_t)s * D, n);
		if (!lg)
			fail_msg("forward failed: %s", dd_graph_error(g));
		right += fashion_correct(lg->data, d->y + s, n);
	}
	dd_graph_set_training(g, 1);
	return (double)right / d->n;
}

static void test_conv_net_learns_fashion_mnist(void **state)
{
	(void)state;
	/* The first NTEST images of the official test set: never trained on. */
	data tr, te;
	if (fashion_load(&tr, NTRAIN, &te, NTEST) < 0)
		skip();
	/* One thread: the sgemms here are small (little to gain from a second
	** core, which ctest's parallel runs use anyway) and the result is then
	** the same bit for bit on any machine. */
	dd_nn_set_threads(1);
	net m;
	m.ps = dd_paramset_new();
	m.w1 = dd_paramset_add(m.ps, "c1.w", 4, (int[]){C1, 1, 5, 5});
	m.b1 = dd_paramset_add(m.ps, "c1.b", 1, (int[]){C1});
	m.w2 = dd_paramset_add(m.ps, "c2.w", 4, (int[]){C2, C1, 5, 5});
	m.b2 = dd_paramset_add(m.ps, "c2.b", 1, (int[]){C2});
	m.w3 = dd_paramset_add(m.ps, "fc.w", 2, (int[]){K, C2 * (S / 4) * (S / 4)});
	m.b3 = dd_paramset_add(m.ps, "fc.b", 1, (int[]){K});
	assert_int_equal(dd_paramset_alloc(m.ps), DD_OK);
	dd_rng rng;
	dd_rng_seed(&rng, 2024, 0);
	dd_init_he(m.w1, &rng);
	dd_init_he(m.w2, &rng);
	dd_init_xavier(m.w3, &rng, 1.0f);
	dd_optim_config cfg = dd_optim_defaults(DD_OPTIM_ADAM);
	cfg.lr = 3e-3f;
	dd_optim *opt = dd_optim_new(m.ps, &cfg);
	dd_graph *g = dd_graph_new((size_t)64 << 20);
	assert_non_null(opt);
	assert_non_null(g);

	double acc0 = accuracy(&m, g, &te);
	int *order = malloc(NTRAIN * sizeof *order);
	float *xb = malloc((size_t)B * D * sizeof *xb);
	int yb[B];
	for (int i = 0; i < NTRAIN; i++)
		order[i] = i;
	double first_loss = 0, last_loss = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int e = 0; e < EPOCHS; e++) {
		for (int i = NTRAIN - 1; i > 0; i--) { /* Fisher-Yates */
			int j = (int)dd_rng_below(&rng, (uint64_t)i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		double sum = 0;
		int batches = 0;
		for (int s = 0; s + B <= NTRAIN; s += B) {
			for (int i = 0; i < B; i++) {
				memcpy(xb + (size_t)i * D, tr.x + (size_t)order[s + i] * D, D * sizeof(float));
				yb[i] = tr.y[order[s + i]];
			}
			dd_graph_reset(g);
			dd_paramset_zero_grad(m.ps);
			dd_tensor *loss = dd_cross_entropy(g, forward(&m, g, xb, B), yb);
			if (!loss || dd_graph_backward(g, loss) != DD_OK)
				fail_msg("step failed: %s", dd_graph_error(g));
			dd_optim_step(opt);
			sum += loss->data[0];
			batches++;
		}
		if (e == 0)
			first_loss = sum / batches;
		last_loss = sum / batches;
		dd_optim_set_lr(opt, dd_optim_lr(opt) * 0.7f);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	double acc = accuracy(&m, g, &te);
	fprintf(stderr, "fashion-mnist conv net %d-%d: untrained %.1f %%, trained %.2f %% on %d "
	        "test images; mean loss epoch 1 %.3f, epoch %d %.3f; arena peak %.1f MB; "
	        "training %.1f s wall\n", C1, C2, 100 * acc0, 100 * acc, NTEST, first_loss,
	        EPOCHS, last_loss, (double)dd_graph_arena_peak(g) / (1 << 20), secs);
	assert_true(acc0 < 0.3);
	assert_true(last_loss < 0.8 * first_loss);
	if (acc < MIN_ACCURACY)
		fail_msg("test accuracy %.4f < %.2f", acc, MIN_ACCURACY);
	free(order);
	free(xb);
	fashion_free(&tr, &te);
	dd_graph_free(g);
	dd_optim_free(opt);
	dd_paramset_free(m.ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv_net_learns_fashion_mnist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
