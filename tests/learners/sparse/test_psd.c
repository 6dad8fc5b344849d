/*
** test_psd.c -- the psd learner on Fashion-MNIST (through the images env):
** trained without labels on 10,000 training images, its encoder's codes fed
** to a multinomial logistic regression (the toolkit: dd_linear, cross-
** entropy, Adam) classify 2,000 test images better than the same classifier
** on raw pixels; the encoder predicts the optimal codes, so its codes
** reconstruct the images; a checkpoint restores it; fine-tuned on its own
** codes' energy (encoder_energy, dictionary frozen), its codes still beat
** the pixels. The paper's encoder g tanh(W_e y + b) learns, on natural-image
** patches with a fixed dictionary, to predict the optimal codes better than
** it did untrained; encoder_energy makes the encoder descend its own codes'
** energy; dict_lr = 0 freezes the dictionary; set() drives the learning
** rates. (PSD's speed against FISTA is measured in bench/bench_psd.c,
** never here.)
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <daydream/nn.h>

#include "dictionary.h"
#include "lasso.h"
#include "plugin_kit.h"

enum { D = 784, M = 512, NTRAIN = 10000, NTEST = 2000, EPOCHS = 4, K = 10 };
/* the tanh encoder's patches: 8 x 8, a dictionary of PM atoms learnt by
** sparse_coding from PDICT batches of 256, then PTRAIN to train on and
** PEVAL held out */
enum { PP = 8, PN = PP * PP, PM = 64, PDICT = 40, PTRAIN = 10000, PEVAL = 1000 };
#define DICT_FILE "psd_test_dict.bin"

static float *xtr, *xte, *ytr, *yte;
static float *patches, pW[PM * PN];
static int have_patches;
static const dd_plugin *plugin;
static int have_data; /* without the data every test skips */
static dd_tensor_spec obs_spec = {"image", 3, {1, 28, 28}};
static dd_spaces spaces = {.size = sizeof(dd_spaces), .n_obs = 1, .obs = &obs_spec,
                           .action_kind = DD_ACTION_DISCRETE, .action_dim = 1,
                           .n_actions = 1};
static dd_tensor_spec patch_spec = {"image", 3, {1, PP, PP}};
static dd_spaces patch_spaces = {.size = sizeof(dd_spaces), .n_obs = 1, .obs = &patch_spec,
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
	const char *po[] = {"source=patches", "patch=8", "normalize=standardize", NULL};
	char err[512];
	patches = malloc(sizeof(float) * (size_t)(PDICT * 256 + PTRAIN + PEVAL) * PN);
	if (patches && kit_images(po, 3, PDICT * 256 + PTRAIN + PEVAL, patches, NULL, NULL, &n) == 0 &&
	    kit_train_dictionary(patches, PP, PM, "1", PDICT, DICT_FILE) == 0 &&
	    dict_load_file(pW, PM, PN, DICT_FILE, err, sizeof err) == 0)
		have_patches = 1;
	else
		fprintf(stderr, "no natural-image patches (scripts/fetch-test-data.sh)\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(xtr);
	free(patches);
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

/* The learner's checkpoint, in memory (dd_membuf_free it). */
static dd_membuf saved(void *l)
{
	dd_membuf mb = {0};
	dd_writer w;
	dd_membuf_writer(&w, &mb);
	assert_int_equal(plugin->learner->save(l, &w), DD_OK);
	return mb;
}

/* Loads the first len bytes of a checkpoint into l. */
static int load(void *l, const dd_membuf *mb, size_t len)
{
	dd_membuf rb;
	dd_reader r;
	dd_membuf_reader(&r, &rb, mb->buf, len);
	return plugin->learner->load(l, &r);
}

/* Updates l on batches of 250 of the count rows of x (dim floats each)
** for `epochs`; m holds the last update's metrics. Returns the encoder's
** prediction error at the first update. */
static double train(void *l, const float *x, int count, int dim, int epochs, dd_metrics *m)
{
	double first = -1;
	for (int e = 0; e < epochs; e++)
		for (int s = 0; s < count; s += 250) {
			const float *obs[1] = {x + (size_t)s * (size_t)dim};
			dd_transitions t = {.batch = 250, .obs = obs};
			m->count = 0;
			assert_int_equal(plugin->learner->observe(l, &t), DD_OK);
			assert_int_equal(plugin->learner->update(l, m), DD_OK);
			first = first < 0 ? m->value[1] : first;
		}
	assert_string_equal(m->name[1], "prediction_error");
	return first;
}

/* bench_psd's fine-tuning schedule: updates l on the training images for
** `epochs` >= 2, its encoder's learning rate warming up to lr over the
** first epoch, then decaying (cosine) to 0; energy[0] and [1] get the
** means, over the first and the last epoch, of the encoder's energy (the
** metric, per image, on each batch before its update). */
static void tune(void *l, int epochs, double lr, double energy[2])
{
	int per_epoch = NTRAIN / 250;
	energy[0] = energy[1] = 0;
	for (int e = 0; e < epochs; e++)
		for (int u = 0; u < per_epoch; u++) {
			dd_metrics m = {0};
			int t = e * per_epoch + u;
			double f = fmin(1.0, (t + 1.0) / per_epoch) *
			           0.5 * (1.0 + cos(M_PI * t / (epochs * per_epoch)));
			assert_int_equal(plugin->learner->set(l, "encoder_lr", lr * f), DD_OK);
			train(l, xtr + (size_t)u * 250 * D, 250, D, 1, &m);
			assert_string_equal(m.name[5], "encoder_energy");
			if (e == 0 || e == epochs - 1)
				energy[e > 0] += m.value[5] / per_epoch;
		}
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
	double first_pred = train(l, xtr, NTRAIN, D, EPOCHS, &m);
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
	dd_membuf mb = saved(l);
	kit_host h2;
	void *l2 = new_psd(&h2);
	assert_int_equal(load(l2, &mb, mb.len / 2), DD_ERR); /* truncated: refused, untouched */
	assert_int_equal(load(l2, &mb, mb.len), DD_OK);
	static float za[16 * M], zb[16 * M];
	assert_int_equal(plugin->learner->encode(l, 16, ote, za), DD_OK);
	assert_int_equal(plugin->learner->encode(l2, 16, ote, zb), DD_OK);
	assert_memory_equal(za, zb, sizeof zb);
	dd_membuf_free(&mb);

	/* bench_psd's fine-tuning phase, shorter: W_d frozen, encoder_energy
	** 10; the codes still beat the pixels */
	double energy[2];
	assert_int_equal(plugin->learner->set(l, "dict_lr", 0.0), DD_OK);
	assert_int_equal(plugin->learner->set(l, "encoder_energy", 10.0), DD_OK);
	tune(l, 2, 3e-4, energy);
	assert_int_equal(plugin->learner->encode(l, NTRAIN, otr, ctr), DD_OK);
	assert_int_equal(plugin->learner->encode(l, NTEST, ote, cte), DD_OK);
	double acc_tuned = classify(ctr, cte, M, 10);
	printf("# fine-tuned 2 epochs with encoder_energy 10: the energy of the encoder's codes "
	       "%.2f in the first epoch, %.2f in the second; logistic regression on them %.1f %%\n",
	       energy[0], energy[1], 100 * acc_tuned);
	assert_true(energy[1] < energy[0]);
	assert_true(acc_tuned > acc_pixels + 0.008);
	free(ctr);
	plugin->learner->destroy(l);
	plugin->learner->destroy(l2);
}

/* A psd learner on the patches with the dictionary of DICT_FILE kept
** fixed (no learning rate, no re-drawn atoms): only its encoder learns. */
static void *new_patch_psd(kit_host *h, const char *encoder)
{
	const char *ov[] = {"dictionary=" DICT_FILE, "atoms=64", "lambda=1", "batch=250",
	                    "dict_lr=0", "resample=0", encoder, NULL};
	kit_params kp;
	kit_host_init(h, 4);
	return plugin->learner->create(kit_params_make(&kp, plugin, ov), &h->host, &patch_spaces);
}

/* The PTRAIN patches to train on (after the dictionary's). */
static const float *patch_train(void)
{
	return patches + (size_t)PDICT * 256 * PN;
}

/* sum ||a - b||^2 / sum ||b||^2 over PEVAL x PM codes */
static double code_error(const float *a, const float *b)
{
	double e = 0, n = 0;
	for (int i = 0; i < PEVAL * PM; i++) {
		e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		n += (double)b[i] * b[i];
	}
	return e / n;
}

/* The tanh encoder learns: its prediction error during training falls;
** on held-out patches its codes are nearer the optimal ones (FISTA run to
** convergence on the same dictionary) and reconstruct the patches nearly
** as well as those, much better than the same encoder untrained; a checkpoint restores
** its weights and gains exactly, and a shrinkage learner refuses them. */
static void tanh_encoder_learns(void **state)
{
	(void)state;
	if (!have_patches)
		skip();
	kit_host h, hu;
	void *l = new_patch_psd(&h, "encoder=tanh"), *untrained = new_patch_psd(&hu, "encoder=tanh");
	assert_non_null(l);
	assert_non_null(untrained);
	const float *ptrain = patch_train(), *eval = ptrain + (size_t)PTRAIN * PN;
	dd_metrics m = {0};
	double first = train(l, ptrain, PTRAIN, PN, 3, &m);

	static float zt[PEVAL * PM], zu[PEVAL * PM], zopt[PEVAL * PM];
	const float *obs[1] = {eval};
	assert_int_equal(plugin->learner->encode(l, PEVAL, obs, zt), DD_OK);
	assert_int_equal(plugin->learner->encode(untrained, PEVAL, obs, zu), DD_OK);
	lasso s;
	assert_int_equal(lasso_init(&s, pW, PM, PN, 1.0f), 0);
	lasso_opts o = {.method = LASSO_FISTA, .max_iter = 1000, .tol = 1e-6f};
	lasso_solve(&s, eval, PEVAL, zopt, &o);
	lasso_free(&s);
	double et = code_error(zt, zopt), eu = code_error(zu, zopt);
	double rt = lasso_sq_error(pW, PM, PN, eval, zt, PEVAL),
	       ru = lasso_sq_error(pW, PM, PN, eval, zu, PEVAL),
	       ro = lasso_sq_error(pW, PM, PN, eval, zopt, PEVAL);
	printf("# tanh encoder: prediction error %.3f at the first update, %.3f after 3 epochs; "
	       "held out, relative code error %.3f (untrained %.3f), reconstruction error %.1f "
	       "(untrained %.1f, optimal codes %.1f)\n", first, m.value[1], et, eu, rt, ru, ro);
	/* tanh never gives an exact zero: the optimal codes (a few active of
	** 64) stay out of its reach, and the margins are modest; but training
	** takes its reconstructions most of the way to the optimal codes'. */
	assert_true(m.value[1] < 0.75 * first);
	assert_true(et < 0.85 * eu);
	assert_true(rt < 0.75 * ru);
	assert_true(rt < 1.25 * ro && ru > 1.5 * ro);

	dd_membuf mb = saved(l);
	assert_int_equal(load(untrained, &mb, mb.len), DD_OK);
	static float zl[PEVAL * PM];
	assert_int_equal(plugin->learner->encode(untrained, PEVAL, obs, zl), DD_OK);
	assert_memory_equal(zt, zl, sizeof zl);
	kit_host hs;
	void *shrink = new_patch_psd(&hs, "encoder=shrink");
	assert_non_null(shrink);
	assert_int_equal(load(shrink, &mb, mb.len), DD_ERR);
	dd_membuf_free(&mb);
	plugin->learner->destroy(l);
	plugin->learner->destroy(untrained);
	plugin->learner->destroy(shrink);
}

/* encoder_energy puts PSD's energy at the encoder's own codes into the
** encoder's loss. From one checkpoint (an encoder trained 1 epoch on the
** patches, dictionary fixed), one update with a fresh Adam, whose first
** step is -lr sign(gradient) on every weight, lowers the energy of that
** batch's codes by about lr sum |dE/dweight| when encoder_energy dominates
** the loss (1e4), and by less with encoder_energy 0, where the step
** follows the prediction loss's signs instead (to first order, the
** triangle inequality). The energies are the encoder_energy metric, taken
** by update() before its step, at the next update on the same batch. */
static void encoder_energy_descends(void **state)
{
	(void)state;
	if (!have_patches)
		skip();
	kit_host h;
	void *l = new_patch_psd(&h, "encoder=shrink");
	assert_non_null(l);
	dd_metrics m = {0};
	train(l, patch_train(), PTRAIN, PN, 1, &m);
	dd_membuf mb = saved(l);
	double drop[2];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(load(l, &mb, mb.len), DD_OK);
		/* a fresh Adam for both: set to 1, then to the value wanted */
		assert_int_equal(plugin->learner->set(l, "encoder_energy", 1.0), DD_OK);
		assert_int_equal(plugin->learner->set(l, "encoder_energy", i ? 1e4 : 0.0), DD_OK);
		assert_int_equal(plugin->learner->set(l, "encoder_lr", 1e-5), DD_OK);
		double e[2];
		for (int k = 0; k < 2; k++) {
			train(l, patch_train(), 250, PN, 1, &m);
			assert_string_equal(m.name[5], "encoder_energy");
			e[k] = m.value[5];
		}
		drop[i] = e[0] - e[1];
		printf("# one step at encoder_energy %g: the batch's energy %.5f -> %.5f\n",
		       i ? 1e4 : 0.0, e[0], e[1]);
	}
	assert_true(drop[1] > 0 && drop[1] > 1.2 * drop[0]);
	dd_membuf_free(&mb);
	plugin->learner->destroy(l);
}

/* dict_lr = 0 freezes the dictionary, re-drawing of idle atoms included:
** with resample = 1 (re-draw an atom idle for one update) and lambda large
** enough that many are idle, a learner re-draws atoms while dict_lr > 0
** and none once it is 0. */
static void frozen_dictionary(void **state)
{
	(void)state;
	if (!have_patches)
		skip();
	const char *ov[] = {"dictionary=" DICT_FILE, "atoms=64", "lambda=8", "batch=250",
	                    "resample=1", NULL};
	kit_params kp;
	kit_host h;
	kit_host_init(&h, 4);
	void *l = plugin->learner->create(kit_params_make(&kp, plugin, ov), &h.host, &patch_spaces);
	assert_non_null(l);
	double redrawn[2] = {0, 0};
	for (int phase = 0; phase < 2; phase++) {
		assert_int_equal(plugin->learner->set(l, "dict_lr", phase ? 0.0 : 0.01), DD_OK);
		for (int u = 0; u < 8; u++) {
			dd_metrics m = {0};
			train(l, patch_train() + (size_t)u * 250 * PN, 250, PN, 1, &m);
			assert_string_equal(m.name[4], "redrawn");
			redrawn[phase] += m.value[4];
		}
	}
	printf("# atoms re-drawn in 8 updates: %.0f with dict_lr 0.01, %.0f with 0\n", redrawn[0],
	       redrawn[1]);
	assert_true(redrawn[0] > 0);
	assert_true(redrawn[1] == 0);
	plugin->learner->destroy(l);
}

/* set() drives the learning rates: with encoder_lr 0 an update leaves the
** encoder as it was; unknown keys and values out of bounds are refused. */
static void set_learning_rates(void **state)
{
	(void)state;
	if (!have_patches)
		skip();
	kit_host h;
	void *l = new_patch_psd(&h, "encoder=shrink");
	assert_non_null(l);
	const float *obs[1] = {patch_train()};
	static float za[32 * PM], zb[32 * PM];
	dd_metrics m = {0};
	assert_int_equal(plugin->learner->encode(l, 32, obs, za), DD_OK);
	assert_int_equal(plugin->learner->set(l, "encoder_lr", 0.0), DD_OK);
	train(l, obs[0], 250, PN, 1, &m);
	assert_int_equal(plugin->learner->encode(l, 32, obs, zb), DD_OK);
	assert_memory_equal(za, zb, sizeof za);
	assert_int_equal(plugin->learner->set(l, "encoder_lr", 0.003), DD_OK);
	train(l, obs[0], 250, PN, 1, &m);
	assert_int_equal(plugin->learner->encode(l, 32, obs, zb), DD_OK);
	assert_true(memcmp(za, zb, sizeof za) != 0);
	assert_int_equal(plugin->learner->set(l, "dict_lr", 0.001), DD_OK);
	assert_int_equal(plugin->learner->set(l, "lr", 0.001), DD_ERR);
	assert_non_null(strstr(h.error, "settable: encoder_lr, dict_lr"));
	assert_int_equal(plugin->learner->set(l, "dict_lr", -1.0), DD_ERR);
	assert_int_equal(plugin->learner->set(l, "encoder_energy", -1.0), DD_ERR);
	plugin->learner->destroy(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(codes_beat_pixels),
		cmocka_unit_test(tanh_encoder_learns),
		cmocka_unit_test(encoder_energy_descends),
		cmocka_unit_test(frozen_dictionary),
		cmocka_unit_test(set_learning_rates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
