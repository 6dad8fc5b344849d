/* bench_psd.c -- PSD's fast inference against FISTA at the same reconstruction
 * error (Kavukcuoglu, Ranzato & LeCun 2008): a psd learner (512 atoms, lambda
 * 0.5, as in tests/learners/sparse/test_psd.c) is trained here on 10,000
 * Fashion-MNIST images; then, on 1,000 test images, its encoder's codes give a
 * reconstruction error sum ||y - W_d^T z||^2 / sum ||y||^2, and our FISTA
 * (plugins/learners/sparse_coding/lasso.c, same W_d and lambda, from zero) is
 * run for the fewest iterations whose codes reconstruct as well. Both are timed
 * on the same batch (medians of repeats after warm-up) and the ratio printed.
 * The plugins are driven through their vtables as the tests do. Needs the
 * dataset-fashion-mnist package. Usage: bench_psd [epochs of PSD training, 4] */
#include <dlfcn.h>
#include <math.h>

#include <daydream/checkpoint.h>
#include <daydream/nn.h>

#include "bench_util.h"
#include "lasso.h"
#include "plugin_kit.h"

enum { D = 784, M = 512, NTRAIN = 10000, NTEST = 1000, REPS = 21,
       MAX_ITERS = 500 };
#define LAMBDA 0.5f

static dd_tensor_spec obs_spec = {"image", 3, {1, 28, 28}};
static dd_spaces spaces = {.size = sizeof(dd_spaces), .n_obs = 1, .obs = &obs_spec,
                           .action_kind = DD_ACTION_DISCRETE, .action_dim = 1,
                           .n_actions = 1};

/* Relative reconstruction error of FISTA's codes after each iteration k:
** summed over the blocks by the solver's callback. */
typedef struct curve {
	const float *W, *Y;
	double *sq; /* MAX_ITERS + 1 */
} curve;

static void add_sq(void *ctx, int k, int row0, int rows, const float *Z)
{
	curve *c = ctx;
	c->sq[k] += lasso_sq_error(c->W, M, D, c->Y + (size_t)row0 * D, Z, rows);
}

/* Trains the psd learner as test_psd does; NULL with a message on failure. */
static void *train_psd(const dd_plugin *p, kit_host *h, const float *x, int epochs)
{
	const char *ov[] = {"atoms=512", "lambda=0.5", "batch=250", "iters=25", NULL};
	kit_params kp;
	kit_host_init(h, 9);
	void *l = p->learner->create(kit_params_make(&kp, p, ov), &h->host, &spaces);
	for (int e = 0; l && e < epochs; e++)
		for (int s = 0; s < NTRAIN; s += 250) {
			const float *obs[1] = {x + (size_t)s * D};
			dd_transitions t = {.batch = 250, .obs = obs};
			dd_metrics m = {0};
			if (p->learner->observe(l, &t) != DD_OK || p->learner->update(l, &m) != DD_OK) {
				fprintf(stderr, "psd: %s\n", h->error);
				p->learner->destroy(l);
				return NULL;
			}
		}
	if (!l)
		fprintf(stderr, "psd: %s\n", h->error);
	return l;
}

/* W_d out of the learner's checkpoint (its first blob: W_d, idle, Adam). */
static int decoder_of(const dd_plugin *p, void *l, float *W)
{
	dd_membuf mb = {0};
	dd_writer w;
	dd_membuf_writer(&w, &mb);
	int wd[2] = {M, D}, vec[1] = {M}, rc = -1;
	dd_paramset *ps = dd_paramset_new();
	dd_tensor *t = dd_paramset_add(ps, "W_d", 2, wd);
	dd_paramset_add(ps, "idle", 1, vec);
	dd_optim_config oc = dd_optim_defaults(DD_OPTIM_ADAM);
	dd_optim *opt = dd_paramset_alloc(ps) == DD_OK ? dd_optim_new(ps, &oc) : NULL;
	if (opt && p->learner->save(l, &w) == DD_OK) {
		dd_membuf rb;
		dd_reader r;
		dd_membuf_reader(&r, &rb, mb.buf, mb.len);
		if (dd_checkpoint_load(ps, opt, &r) == DD_OK) {
			memcpy(W, t->data, sizeof(float) * (size_t)M * D);
			rc = 0;
		} else {
			fprintf(stderr, "W_d: %s\n", dd_paramset_error(ps));
		}
	}
	dd_optim_free(opt);
	dd_paramset_free(ps);
	dd_membuf_free(&mb);
	return rc;
}

static double sum_sq(const float *y, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)y[i] * y[i];
	return s;
}

int main(int argc, char **argv)
{
	int epochs = argc > 1 ? atoi(argv[1]) : 4;
	if (epochs < 1) {
		fprintf(stderr, "usage: bench_psd [epochs >= 1]\n");
		return 1;
	}
	bu_print_machine();
	int n;
	float *xtr = malloc(sizeof(float) * (size_t)(NTRAIN + NTEST) * D), *xte = xtr + (size_t)NTRAIN * D;
	const char *tr[] = {"source=fashion_mnist", "split=train", "order=sequential", NULL};
	const char *te[] = {"source=fashion_mnist", "split=test", "order=sequential", NULL};
	const dd_plugin *p = kit_plugin("psd");
	if (!xtr || !p || kit_images(tr, 1, NTRAIN, xtr, NULL, NULL, &n) != 0 ||
	    kit_images(te, 1, NTEST, xte, NULL, NULL, &n) != 0) {
		fprintf(stderr, "no Fashion-MNIST (apt-get install dataset-fashion-mnist) or no "
		        "plugins (build psd and images first)\n");
		return 1;
	}
	double t0 = bu_now();
	kit_host h;
	void *l = train_psd(p, &h, xtr, epochs);
	static float W[M * D];
	if (!l || decoder_of(p, l, W) != 0)
		return 1;
	printf("PSD (%d atoms, lambda %.2f) trained on %d Fashion-MNIST images x %d epochs in "
	       "%.1f s; inference on %d test images\n", M, LAMBDA, NTRAIN, epochs, bu_now() - t0,
	       NTEST);

	float *ze = malloc(sizeof(float) * (size_t)NTEST * M), *zf = malloc(sizeof(float) * (size_t)NTEST * M);
	double *sq = calloc(MAX_ITERS + 1, sizeof(double));
	const float *obs[1] = {xte};
	double norm = sum_sq(xte, (size_t)NTEST * D), t[REPS];
	if (!ze || !zf || !sq || p->learner->encode(l, NTEST, obs, ze) != DD_OK)
		return 1;
	double enc_err = lasso_sq_error(W, M, D, xte, ze, NTEST) / norm;

	/* FISTA's reconstruction error after k = 1 .. MAX_ITERS iterations */
	lasso s;
	if (lasso_init(&s, W, M, D, LAMBDA) != 0)
		return 1;
	curve c = {W, xte, sq};
	lasso_opts o = {.method = LASSO_FISTA, .max_iter = MAX_ITERS, .each = add_sq, .ctx = &c};
	lasso_solve(&s, xte, NTEST, zf, &o);
	int k = 1;
	while (k <= MAX_ITERS && sq[k] / norm > enc_err)
		k++;
	printf("relative reconstruction error: PSD encoder %.4f; FISTA %.4f after 1, %.4f after "
	       "10, %.4f after %d iterations\n", enc_err, sq[1] / norm, sq[10] / norm,
	       sq[MAX_ITERS] / norm, MAX_ITERS);
	if (k > MAX_ITERS) {
		printf("FISTA does not reach the encoder's error within %d iterations: ratio not "
		       "measured\n", MAX_ITERS);
		return 0;
	}
	printf("FISTA needs %d iterations to reconstruct as well (%.4f)\n", k, sq[k] / norm);

	/* timings, each after one warm-up call */
	o = (lasso_opts){.method = LASSO_FISTA, .max_iter = k};
	p->learner->encode(l, NTEST, obs, ze);
	for (int r = 0; r < REPS; r++) {
		double a = bu_now();
		p->learner->encode(l, NTEST, obs, ze);
		t[r] = bu_now() - a;
	}
	bu_stats enc = bu_summarise(t, REPS);
	lasso_solve(&s, xte, NTEST, zf, &o);
	for (int r = 0; r < REPS; r++) {
		double a = bu_now();
		lasso_solve(&s, xte, NTEST, zf, &o);
		t[r] = bu_now() - a;
	}
	bu_stats fis = bu_summarise(t, REPS);
	printf("  PSD encoder (encode)       median %8.3f ms (min %.3f, max %.3f)\n", 1e3 * enc.med,
	       1e3 * enc.min, 1e3 * enc.max);
	printf("  FISTA, %3d iterations      median %8.3f ms (min %.3f, max %.3f)\n", k,
	       1e3 * fis.med, 1e3 * fis.min, 1e3 * fis.max);
	printf("PSD encoder is %.1fx faster than FISTA at the same reconstruction error "
	       "(target >= 20x)\n", fis.med / enc.med);
	lasso_free(&s);
	p->learner->destroy(l);
	free(ze);
	free(zf);
	free(sq);
	free(xtr);
	return 0;
}
