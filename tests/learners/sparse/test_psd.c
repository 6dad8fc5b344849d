/*
** test_psd.c -- the psd learner on Fashion-MNIST (through the images env):
** trained without labels on 10,000 training images, its encoder's codes fed
** to a multinomial logistic regression (the toolkit: dd_linear, cross-
** entropy, Adam) classify 2,000 test images better than the same classifier
** on raw pixels; the encoder predicts the optimal codes, so its codes
** reconstruct the images; a checkpoint restores it. (PSD's speed against
** FISTA is measured in bench/bench_fista.c, never here.)
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <daydream/nn.h>

#include "lasso.h"
#include "plugin_kit.h"

enum { D = 784, M = 512, NTRAIN = 10000, NTEST = 2000, EPOCHS = 4, K = 10 };

static float *xtr, *xte, *ytr, *yte;
static const dd_plugin *plugin;
static int have_data; /* without the data every test skips */
static dd_tensor_spec obs_spec = {"image", 3, {1, 28, 28}};
static dd_spaces spaces = {.size = sizeof(dd_spaces), .n_obs = 1, .obs = &obs_spec,
                           .action_kind = DD_ACTION_DISCRETE, .action_dim = 1,
                           .n_actions = 1};

static int setup(void **state)
{
	(void)state;
	int n;
	const char *tr[] = {"source=fashion_mnist", "split=train", "order=sequential", NULL};
	const char *te[] = {"source=fashion_mnist", "split=test", "order=sequential", NULL};
	xtr = malloc(sizeof(float) * (size_t)(NTRAIN + NTEST) * (D + 1));
	xte = xtr + (size_t)NTRAIN * D;
	ytr = xte + (size_t)NTEST * D;
	yte = ytr + NTRAIN;
	plugin = kit_plugin("psd");
	if (!plugin || kit_images(tr, 1, NTRAIN, xtr, ytr, "label", &n) != 0 ||
	    kit_images(te, 1, NTEST, xte, yte, "label", &n) != 0) {
		fprintf(stderr, "no Fashion-MNIST: apt-get install dataset-fashion-mnist\n");
		return 0;
	}
	have_data = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(xtr);
	return 0;
}

/* Multinomial logistic regression on features (rows x dim), Adam, mini-
** batches of 100 for `epochs`, in a fixed order; returns the accuracy on
** the test features. Features are scaled by one constant (their largest
** magnitude in training), so raw pixels and codes get the same treatment. */
static double classify(const float *ftr, const float *fte, int dim, int epochs)
{
	float scale = 1e-12f;
	for (size_t i = 0; i < (size_t)NTRAIN * dim; i++)
		scale = fabsf(ftr[i]) > scale ? fabsf(ftr[i]) : scale;
	dd_paramset *ps = dd_paramset_new();
	int wd[2] = {K, dim}, bd[1] = {K};
	dd_tensor *w = dd_paramset_add(ps, "w", 2, wd), *b = dd_paramset_add(ps, "b", 1, bd);
	assert_int_equal(dd_paramset_alloc(ps), DD_OK);
	dd_optim_config oc = dd_optim_defaults(DD_OPTIM_ADAM);
	oc.lr = 0.01f;
	dd_optim *opt = dd_optim_new(ps, &oc);
	dd_graph *g = dd_graph_new((size_t)16 << 20);
	static float xb[200 * 2048];
	int yb[200], dims[2];
	for (int e = 0; e < epochs; e++)
		for (int s = 0; s < NTRAIN; s += 100) {
			for (int i = 0; i < 100; i++) {
				for (int j = 0; j < dim; j++)
					xb[i * dim + j] = ftr[(size_t)(s + i) * dim + j] / scale;
				yb[i] = (int)ytr[s + i];
			}
			dd_graph_reset(g);
			dd_paramset_zero_grad(ps);
			dims[0] = 100, dims[1] = dim;
			dd_tensor *x = dd_graph_input(g, 2, dims, xb, 0);
			dd_tensor *loss = dd_cross_entropy(g, dd_linear(g, x, w, b), yb);
			assert_int_equal(dd_graph_backward(g, loss), DD_OK);
			dd_optim_step(opt);
		}
	int right = 0;
	for (int s = 0; s < NTEST; s += 200) {
		for (int i = 0; i < 200 * dim; i++)
			xb[i] = fte[(size_t)s * dim + i] / scale;
		dd_graph_reset(g);
		dims[0] = 200, dims[1] = dim;
		dd_tensor *y = dd_linear(g, dd_graph_input(g, 2, dims, xb, 0), w, b);
		for (int i = 0; i < 200; i++) {
			int best = 0;
			for (int k = 1; k < K; k++)
				best = y->data[i * K + k] > y->data[i * K + best] ? k : best;
			right += best == (int)yte[s + i];
		}
	}
	dd_graph_free(g);
	dd_optim_free(opt);
	dd_paramset_free(ps);
	return (double)right / NTEST;
}

static void *new_psd(kit_host *h)
{
	const char *ov[] = {"atoms=512", "lambda=0.5", "batch=250", "iters=25", NULL};
	kit_params kp;
	kit_host_init(h, 9);
	return plugin->learner->create(kit_params_make(&kp, plugin, ov), &h->host, &spaces);
}

static void codes_beat_pixels(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h;
	void *l = new_psd(&h);
	assert_non_null(l);
	dd_metrics m = {0};
	double first_pred = -1;
	for (int e = 0; e < EPOCHS; e++)
		for (int s = 0; s < NTRAIN; s += 250) {
			const float *obs[1] = {xtr + (size_t)s * D};
			dd_transitions t = {.batch = 250, .obs = obs};
			m.count = 0;
			assert_int_equal(plugin->learner->observe(l, &t), DD_OK);
			assert_int_equal(plugin->learner->update(l, &m), DD_OK);
			if (first_pred < 0)
				first_pred = m.value[1];
		}
	assert_string_equal(m.name[1], "prediction_error");
	printf("# PSD: energy %.3f, encoder's relative prediction error %.3f (first update "
	       "%.3f), %.1f active of %d\n", m.value[0], m.value[1], first_pred, m.value[2], M);
	assert_true(m.value[1] < 0.5 * first_pred);
	assert_true(m.value[1] < 0.2);

	float *ctr = malloc(sizeof(float) * (size_t)(NTRAIN + NTEST) * M), *cte = ctr + (size_t)NTRAIN * M;
	const float *otr[1] = {xtr}, *ote[1] = {xte};
	assert_int_equal(plugin->learner->encode(l, NTRAIN, otr, ctr), DD_OK);
	assert_int_equal(plugin->learner->encode(l, NTEST, ote, cte), DD_OK);
	double acc_codes = classify(ctr, cte, M, 10), acc_pixels = classify(xtr, xte, D, 10);
	printf("# logistic regression on 2,000 test images: PSD codes %.1f %%, raw pixels %.1f %%\n",
	       100 * acc_codes, 100 * acc_pixels);
	assert_true(acc_pixels > 0.75); /* the classifier itself works */
	assert_true(acc_codes > acc_pixels + 0.008);

	/* a checkpoint restores the encoder exactly */
	dd_membuf mb = {0};
	dd_writer w;
	dd_membuf_writer(&w, &mb);
	assert_int_equal(plugin->learner->save(l, &w), DD_OK);
	kit_host h2;
	void *l2 = new_psd(&h2);
	dd_membuf rb;
	dd_reader r;
	dd_membuf_reader(&r, &rb, mb.buf, mb.len / 2); /* truncated: refused, untouched */
	assert_int_equal(plugin->learner->load(l2, &r), DD_ERR);
	dd_membuf_reader(&r, &rb, mb.buf, mb.len);
	assert_int_equal(plugin->learner->load(l2, &r), DD_OK);
	static float za[16 * M], zb[16 * M];
	assert_int_equal(plugin->learner->encode(l, 16, ote, za), DD_OK);
	assert_int_equal(plugin->learner->encode(l2, 16, ote, zb), DD_OK);
	assert_memory_equal(za, zb, sizeof zb);
	dd_membuf_free(&mb);
	free(ctr);
	plugin->learner->destroy(l);
	plugin->learner->destroy(l2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(codes_beat_pixels),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
