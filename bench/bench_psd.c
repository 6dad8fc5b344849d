/* bench_psd.c -- PSD's fast inference against FISTA at the same reconstruction
 * error (Kavukcuoglu, Ranzato & LeCun 2008): a psd learner (512 atoms, lambda
 * 0.5, as in tests/learners/sparse/test_psd.c) is trained here on the 60,000
 * Fashion-MNIST training images, the dictionary's learning rate decaying to 0
 * (cosine) while the encoder's stays; then, on 1,000 test images, its encoder's
 * codes are compared with FISTA's (plugins/learners/sparse_coding/lasso.c,
 * the same W_d and lambda, from z = 0) after the fewest iterations k whose
 * reconstruction error ||y - W_d^T z||^2, summed over the images, is no
 * larger than the encoder's, and after the fewest whose energy
 * ||y - W_d^T z||^2 + lambda ||z||_1 is no larger. Each side's codes are
 * described (error, L1 norm, non-zeros, energy), and both are timed on the
 * same batch, on 1 and on 2 BLAS threads (the same for both), each at its
 * best: the encoder (encode()) as one sgemm and a pointwise function; FISTA
 * in its Gram form, one sgemm for W_d y and one (rows x m x m) per
 * iteration. FISTA's dictionary-only set-up (the Gram matrix W_d W_d^T and
 * the step 1/L from its largest eigenvalue) is computed once, outside the
 * timings, as the encoder's training is. Timings alternate between the
 * sides, REPS times after a warm-up; medians with min and max. The plugins
 * are driven through their vtables as the tests do. Needs the
 * dataset-fashion-mnist package.
 * Usage: bench_psd [epochs of PSD training, 8] [psd parameter=value ...] */
#include <dlfcn.h>
#include <math.h>

#include <daydream/checkpoint.h>
#include <daydream/nn.h>

#include "bench_util.h"
#include "lasso.h"
#include "plugin_kit.h"

/* Not declared by every cblas.h. */
extern void openblas_set_num_threads(int n);

enum { D = 784, M = 512, NTRAIN = 60000, NTEST = 1000, REPS = 21,
       MAX_ITERS = 500, MAX_OVERRIDES = 16 };
#define LAMBDA 0.5f

static dd_tensor_spec obs_spec = {"image", 3, {1, 28, 28}};
static dd_spaces spaces = {.size = sizeof(dd_spaces), .n_obs = 1, .obs = &obs_spec,
                           .action_kind = DD_ACTION_DISCRETE, .action_dim = 1,
                           .n_actions = 1};

/* What a batch of codes is like, summed over its rows. */
typedef struct codes {
	double sq, l1, nonzero;
} codes;

static codes describe(const float *W, const float *Y, const float *Z, int rows)
{
	codes c = {lasso_sq_error(W, M, D, Y, Z, rows), 0, 0};
	for (size_t i = 0; i < (size_t)rows * M; i++) {
		c.l1 += fabsf(Z[i]);
		c.nonzero += Z[i] != 0.0f;
	}
	return c;
}

static void add_codes(codes *a, codes b)
{
	a->sq += b.sq, a->l1 += b.l1, a->nonzero += b.nonzero;
}

static double energy(codes c)
{
	return c.sq + LAMBDA * c.l1;
}

/* FISTA's codes after each iteration k, summed over the solver's blocks by
** its callback. */
typedef struct curve {
	const float *W, *Y;
	codes *at; /* MAX_ITERS + 1 */
} curve;

static void add_curve(void *ctx, int k, int row0, int rows, const float *Z)
{
	curve *c = ctx;
	add_codes(&c->at[k], describe(c->W, c->Y + (size_t)row0 * D, Z, rows));
}

static double param_of(const kit_params *kp, const char *name)
{
	for (int i = 0; i < kp->params.count; i++)
		if (strcmp(kp->params.spec[i].name, name) == 0)
			return kp->values[i].num;
	return 0;
}

/* Trains the psd learner with test_psd's parameters, then the overrides
** `extra` (NULL-ended), on batches of its `batch` rows, the dictionary's
** learning rate decaying from dict_lr to 0; NULL with a message on
** failure. */
static void *train_psd(const dd_plugin *p, kit_host *h, const float *x, int epochs,
                       char *const *extra)
{
	const char *ov[MAX_OVERRIDES + 5] = {"atoms=512", "lambda=0.5", "batch=250", "iters=25"};
	for (int i = 0; extra[i] && i < MAX_OVERRIDES; i++)
		ov[4 + i] = extra[i];
	kit_params kp;
	kit_host_init(h, 9);
	void *l = p->learner->create(kit_params_make(&kp, p, ov), &h->host, &spaces);
	int batch = (int)param_of(&kp, "batch"), per_epoch = NTRAIN / batch;
	double lr = param_of(&kp, "dict_lr");
	for (int u = 0; l && u < epochs * per_epoch; u++) {
		const float *obs[1] = {x + (size_t)(u % per_epoch) * (size_t)batch * D};
		dd_transitions t = {.batch = batch, .obs = obs};
		dd_metrics m = {0};
		/* the dictionary settles (cosine decay to 0) and the encoder, whose
		** rate stays, catches up with it */
		double f = 0.5 * (1.0 + cos(M_PI * u / (epochs * per_epoch)));
		if (p->learner->set(l, "dict_lr", lr * f) != DD_OK ||
		    p->learner->observe(l, &t) != DD_OK || p->learner->update(l, &m) != DD_OK) {
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

static void print_codes(const char *who, codes c, double norm)
{
	printf("  %-28s %8.4f %9.2f %9.1f %9.2f\n", who, c.sq / norm, c.l1 / NTEST,
	       c.nonzero / NTEST, energy(c) / NTEST);
}

/* The fewest iterations whose codes are at most the encoder's by `value`. */
static int iterations_to(const codes *at, codes enc, double (*value)(codes))
{
	int k = 1;
	while (k <= MAX_ITERS && value(at[k]) > value(enc))
		k++;
	return k;
}

static double sq_error(codes c)
{
	return c.sq;
}

static void print_time(const char *who, bu_stats t)
{
	printf("  %-28s median %8.3f ms (min %.3f, max %.3f)\n", who, 1e3 * t.med, 1e3 * t.min,
	       1e3 * t.max);
}

int main(int argc, char **argv)
{
	int epochs = argc > 1 ? atoi(argv[1]) : 8;
	if (epochs < 1 || argc - 2 > MAX_OVERRIDES) {
		fprintf(stderr, "usage: bench_psd [epochs >= 1] [psd parameter=value ...]\n");
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
	void *l = train_psd(p, &h, xtr, epochs, argv + (argc > 1 ? 2 : 1));
	static float W[M * D];
	if (!l || decoder_of(p, l, W) != 0)
		return 1;
	printf("PSD (%d atoms, lambda %.2f", M, LAMBDA);
	for (int i = 2; i < argc; i++)
		printf(", %s", argv[i]);
	printf(") trained on %d Fashion-MNIST images x %d epochs in %.1f s; inference on %d "
	       "test images\n", NTRAIN, epochs, bu_now() - t0, NTEST);

	float *ze = malloc(sizeof(float) * (size_t)NTEST * M), *zf = malloc(sizeof(float) * (size_t)NTEST * M);
	codes *at = calloc(MAX_ITERS + 1, sizeof(codes));
	const float *obs[1] = {xte};
	double norm = sum_sq(xte, (size_t)NTEST * D);
	if (!ze || !zf || !at || p->learner->encode(l, NTEST, obs, ze) != DD_OK)
		return 1;
	codes enc = describe(W, xte, ze, NTEST);

	/* FISTA's codes after k = 1 .. MAX_ITERS iterations */
	lasso s;
	if (lasso_init(&s, W, M, D, LAMBDA) != 0)
		return 1;
	curve c = {W, xte, at};
	lasso_opts o = {.method = LASSO_FISTA, .max_iter = MAX_ITERS, .each = add_curve, .ctx = &c};
	lasso_solve(&s, xte, NTEST, zf, &o);
	int k[2] = {iterations_to(at, enc, sq_error), iterations_to(at, enc, energy)};
	printf("codes of the %d test images (per image; error relative to sum ||y||^2):\n"
	       "  %-28s %8s %9s %9s %9s\n", NTEST, "", "error", "L1", "nonzero", "energy");
	print_codes("PSD encoder", enc, norm);
	char who[64];
	for (int i = 0; i < 2; i++) {
		if (k[i] > MAX_ITERS) {
			printf("FISTA does not reach the encoder's %s within %d iterations: ratio not "
			       "measured\n", i ? "energy" : "error", MAX_ITERS);
			return 0;
		}
		snprintf(who, sizeof who, "FISTA, %d iterations (%s)", k[i], i ? "energy" : "error");
		print_codes(who, at[k[i]], norm);
	}
	snprintf(who, sizeof who, "FISTA, %d iterations", MAX_ITERS);
	print_codes(who, at[MAX_ITERS], norm);

	/* timings, on 1 and on 2 threads for both sides: the three alternate,
	** after one warm-up call each */
	double peak_best, peak = bu_sgemm_peak(5, &peak_best);
	printf("times for the %d images (%d repeats; sgemm peak on %d threads %.0f GFLOP/s, "
	       "best %.0f):\n", NTEST, REPS, openblas_get_num_threads(), peak, peak_best);
	for (int threads = 1; threads <= 2; threads++) {
		openblas_set_num_threads(threads);
		double t[3][REPS];
		for (int r = -1; r < REPS; r++)
			for (int i = 0; i < 3; i++) {
				o = (lasso_opts){.method = LASSO_FISTA, .max_iter = i ? k[i - 1] : 0};
				double a = bu_now();
				if (i == 0)
					p->learner->encode(l, NTEST, obs, ze);
				else
					lasso_solve(&s, xte, NTEST, zf, &o);
				if (r >= 0)
					t[i][r] = bu_now() - a;
			}
		bu_stats enc_t = bu_summarise(t[0], REPS), err_t = bu_summarise(t[1], REPS),
		         en_t = bu_summarise(t[2], REPS);
		printf(" %d thread%s\n", threads, threads > 1 ? "s:" : ":");
		print_time("PSD encoder (encode)", enc_t);
		snprintf(who, sizeof who, "FISTA, %d iterations", k[0]);
		print_time(who, err_t);
		snprintf(who, sizeof who, "FISTA, %d iterations", k[1]);
		print_time(who, en_t);
		printf("  PSD encoder is %.1fx faster than FISTA at the same reconstruction error "
		       "(target >= 20x), %.1fx at the same energy (the encoder: %.0f GFLOP/s)\n",
		       err_t.med / enc_t.med, en_t.med / enc_t.med, 2e-9 * NTEST * D * M / enc_t.med);
	}
	lasso_free(&s);
	p->learner->destroy(l);
	free(ze);
	free(zf);
	free(at);
	free(xtr);
	return 0;
}
