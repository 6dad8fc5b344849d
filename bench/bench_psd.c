/* bench_psd.c -- PSD's fast inference against FISTA at the same reconstruction
 * error (Kavukcuoglu, Ranzato & LeCun 2008). Two psd learners (512 atoms,
 * lambda 0.5, as in tests/learners/sparse/test_psd.c), one per encoder
 * (shrink h_theta(W_e y + b), and the paper's g tanh(W_e y + b)), are trained
 * here on the 60,000 Fashion-MNIST training images, the dictionary's learning
 * rate decaying to 0 (cosine) while the encoder's stays; each is then
 * fine-tuned for a few more epochs with its dictionary frozen (dict_lr = 0)
 * and the energy at the encoder's own code in the encoder's loss
 * (encoder_energy), its learning rate warming up over an epoch, then
 * decaying to 0 (tune_psd). After each phase, on
 * 1,000 test images, the encoder's codes are compared with FISTA's
 * (plugins/learners/sparse_coding/lasso.c, the same W_d and lambda, from
 * z = 0) after the fewest iterations k whose reconstruction error
 * ||y - W_d^T z||^2, summed over the images, is no larger than the
 * encoder's, and after the fewest whose energy ||y - W_d^T z||^2 +
 * lambda ||z||_1 is no larger. Each side's codes are described (error, L1
 * norm, non-zeros, energy), and both are timed on the same batch, on 1 and
 * on 2 BLAS threads (the same for both), each at its best: the encoder
 * (encode()) as one sgemm and a pointwise function; FISTA in its Gram form,
 * one sgemm for W_d y and one (rows x m x m) per iteration. FISTA's
 * dictionary-only set-up (the Gram matrix W_d W_d^T and the step 1/L from
 * its largest eigenvalue) is computed once, outside the timings, as the
 * encoder's training is. Timings alternate between the sides, REPS times
 * after a warm-up; medians with min and max. The plugins are driven through
 * their vtables as the tests do. Needs the dataset-fashion-mnist package.
 * Usage: bench_psd [epochs, 8] [fine-tuning epochs, 4] [encoder_energy while
 *        fine-tuning, 10] [psd parameter=value ...] */
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
       MAX_ITERS = 500, MAX_OVERRIDES = 16, MAX_ROWS = 4 };
#define LAMBDA 0.5f
#define TUNE_LR 3e-4 /* the encoder's learning rate as fine-tuning starts */

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

/* One update of l on rows [batch * i, batch * (i + 1)) of x. */
static int step(const dd_plugin *p, void *l, const float *x, int batch, int i)
{
	const float *obs[1] = {x + (size_t)i * (size_t)batch * D};
	dd_transitions t = {.batch = batch, .obs = obs};
	dd_metrics m = {0};
	if (p->learner->observe(l, &t) != DD_OK)
		return DD_ERR;
	return p->learner->update(l, &m);
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
                       const char *encoder, char *const *extra)
{
	const char *ov[MAX_OVERRIDES + 6] = {"atoms=512", "lambda=0.5", "batch=250", "iters=25",
	                                     encoder};
	for (int i = 0; extra[i] && i < MAX_OVERRIDES; i++)
		ov[5 + i] = extra[i];
	kit_params kp;
	kit_host_init(h, 9);
	void *l = p->learner->create(kit_params_make(&kp, p, ov), &h->host, &spaces);
	int batch = (int)param_of(&kp, "batch"), per_epoch = NTRAIN / batch;
	double lr = param_of(&kp, "dict_lr");
	for (int u = 0; l && u < epochs * per_epoch; u++) {
		/* the dictionary settles (cosine decay to 0) and the encoder, whose
		** rate stays, catches up with it */
		double f = 0.5 * (1.0 + cos(M_PI * u / (epochs * per_epoch)));
		if (p->learner->set(l, "dict_lr", lr * f) != DD_OK ||
		    step(p, l, x, batch, u % per_epoch) != DD_OK) {
			fprintf(stderr, "psd: %s\n", h->error);
			p->learner->destroy(l);
			return NULL;
		}
	}
	if (!l)
		fprintf(stderr, "psd: %s\n", h->error);
	return l;
}

/* The fine-tuning phase: W_d frozen, the encoder's loss given the energy at
** its own code with weight `energy`, its learning rate warming up to
** TUNE_LR over the first epoch (setting encoder_energy restarts its Adam,
** whose first steps would otherwise move every weight by the full rate),
** and decaying (cosine) to 0. */
static int tune_psd(const dd_plugin *p, void *l, kit_host *h, const float *x, int epochs,
                    double energy)
{
	int batch = 250, per_epoch = NTRAIN / batch;
	if (p->learner->set(l, "dict_lr", 0.0) != DD_OK ||
	    p->learner->set(l, "encoder_energy", energy) != DD_OK)
		goto fail;
	for (int u = 0; u < epochs * per_epoch; u++) {
		double f = fmin(1.0, (u + 1.0) / per_epoch) *
		           0.5 * (1.0 + cos(M_PI * u / (epochs * per_epoch)));
		if (p->learner->set(l, "encoder_lr", TUNE_LR * f) != DD_OK ||
		    step(p, l, x, batch, u % per_epoch) != DD_OK)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "psd: %s\n", h->error);
	return -1;
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
	printf("  %-30s %8.4f %9.2f %9.1f %9.2f\n", who, c.sq / norm, c.l1 / NTEST,
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
	printf("  %-30s median %8.3f ms (min %.3f, max %.3f)\n", who, 1e3 * t.med, 1e3 * t.min,
	       1e3 * t.max);
}

/* What one encoder is measured to be: its codes, FISTA's iterations to
** match their error and their energy, FISTA's codes there, and the
** speed-ups on 1 and 2 threads. */
typedef struct row {
	char label[64];
	codes enc, fista[2];
	int k[2];
	double speedup[2][2]; /* [threads - 1][error, energy] */
} row;

/* Measures the encoder of l against FISTA on the test images xte, into r;
** -1 when FISTA does not reach the encoder's error or energy. */
static int measure(const dd_plugin *p, void *l, const float *xte, row *r)
{
	static float W[M * D], ze[NTEST * M], zf[NTEST * M];
	static codes at[MAX_ITERS + 1];
	const float *obs[1] = {xte};
	if (decoder_of(p, l, W) != 0 || p->learner->encode(l, NTEST, obs, ze) != DD_OK)
		return -1;
	r->enc = describe(W, xte, ze, NTEST);

	/* FISTA's codes after k = 1 .. MAX_ITERS iterations */
	lasso s;
	if (lasso_init(&s, W, M, D, LAMBDA) != 0)
		return -1;
	memset(at, 0, sizeof at);
	curve c = {W, xte, at};
	lasso_opts o = {.method = LASSO_FISTA, .max_iter = MAX_ITERS, .each = add_curve, .ctx = &c};
	lasso_solve(&s, xte, NTEST, zf, &o);
	r->k[0] = iterations_to(at, r->enc, sq_error);
	r->k[1] = iterations_to(at, r->enc, energy);
	double norm = sum_sq(xte, (size_t)NTEST * D);
	printf("%s: codes of the %d test images (per image; error relative to sum ||y||^2):\n"
	       "  %-30s %8s %9s %9s %9s\n", r->label, NTEST, "", "error", "L1", "nonzero", "energy");
	print_codes("PSD encoder", r->enc, norm);
	char who[64];
	for (int i = 0; i < 2; i++) {
		if (r->k[i] > MAX_ITERS) {
			printf("FISTA does not reach the encoder's %s within %d iterations: ratio not "
			       "measured\n", i ? "energy" : "error", MAX_ITERS);
			lasso_free(&s);
			return -1;
		}
		r->fista[i] = at[r->k[i]];
		snprintf(who, sizeof who, "FISTA, %d iterations (%s)", r->k[i], i ? "energy" : "error");
		print_codes(who, at[r->k[i]], norm);
	}
	snprintf(who, sizeof who, "FISTA, %d iterations", MAX_ITERS);
	print_codes(who, at[MAX_ITERS], norm);

	/* timings, on 1 and on 2 threads for both sides: the three alternate,
	** after one warm-up call each */
	for (int threads = 1; threads <= 2; threads++) {
		openblas_set_num_threads(threads);
		double t[3][REPS];
		for (int rep = -1; rep < REPS; rep++)
			for (int i = 0; i < 3; i++) {
				o = (lasso_opts){.method = LASSO_FISTA, .max_iter = i ? r->k[i - 1] : 0};
				double a = bu_now();
				if (i == 0)
					p->learner->encode(l, NTEST, obs, ze);
				else
					lasso_solve(&s, xte, NTEST, zf, &o);
				if (rep >= 0)
					t[i][rep] = bu_now() - a;
			}
		bu_stats enc_t = bu_summarise(t[0], REPS), err_t = bu_summarise(t[1], REPS),
		         en_t = bu_summarise(t[2], REPS);
		printf(" %d thread%s\n", threads, threads > 1 ? "s:" : ":");
		print_time("PSD encoder (encode)", enc_t);
		snprintf(who, sizeof who, "FISTA, %d iterations", r->k[0]);
		print_time(who, err_t);
		snprintf(who, sizeof who, "FISTA, %d iterations", r->k[1]);
		print_time(who, en_t);
		r->speedup[threads - 1][0] = err_t.med / enc_t.med;
		r->speedup[threads - 1][1] = en_t.med / enc_t.med;
		printf("  PSD encoder is %.1fx faster than FISTA at the same reconstruction error, "
		       "%.1fx at the same energy (the encoder: %.0f GFLOP/s)\n",
		       r->speedup[threads - 1][0], r->speedup[threads - 1][1],
		       2e-9 * NTEST * D * M / enc_t.med);
	}
	lasso_free(&s);
	return 0;
}

int main(int argc, char **argv)
{
	int epochs = argc > 1 ? atoi(argv[1]) : 8, tune = argc > 2 ? atoi(argv[2]) : 4;
	double tune_energy = argc > 3 ? atof(argv[3]) : 10.0;
	int first_extra = argc > 3 ? 4 : argc;
	if (epochs < 1 || tune < 0 || !(tune_energy >= 0) || argc - first_extra > MAX_OVERRIDES) {
		fprintf(stderr, "usage: bench_psd [epochs >= 1, 8] [fine-tuning epochs >= 0, 4] "
		        "[encoder_energy >= 0 while fine-tuning, 10] [psd parameter=value ...]\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* a long run: show its progress */
	bu_print_machine();
	double peak_best, peak = bu_sgemm_peak(5, &peak_best);
	printf("sgemm peak on %d threads %.0f GFLOP/s (best %.0f)\n", openblas_get_num_threads(),
	       peak, peak_best);
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
	static const char *const encoders[] = {"shrink", "tanh"};
	row rows[MAX_ROWS];
	int nrows = 0;
	for (int e = 0; e < 2; e++) {
		char encoder[32];
		snprintf(encoder, sizeof encoder, "encoder=%s", encoders[e]);
		double t0 = bu_now();
		kit_host h;
		void *l = train_psd(p, &h, xtr, epochs, encoder, argv + first_extra);
		if (!l)
			return 1;
		printf("\nPSD (%d atoms, lambda %.2f, %s", M, LAMBDA, encoder);
		for (int i = first_extra; i < argc; i++)
			printf(", %s", argv[i]);
		printf(") trained on %d Fashion-MNIST images x %d epochs in %.1f s\n", NTRAIN, epochs,
		       bu_now() - t0);
		row *r = &rows[nrows];
		snprintf(r->label, sizeof r->label, "%s, trained", encoders[e]);
		nrows += measure(p, l, xte, r) == 0;
		if (tune > 0) {
			t0 = bu_now();
			if (tune_psd(p, l, &h, xtr, tune, tune_energy) != 0)
				return 1;
			printf("\nfine-tuned %d epochs, W_d frozen, encoder_energy %g, in %.1f s\n", tune,
			       tune_energy, bu_now() - t0);
			r = &rows[nrows];
			snprintf(r->label, sizeof r->label, "%s, fine-tuned", encoders[e]);
			nrows += measure(p, l, xte, r) == 0;
		}
		p->learner->destroy(l);
	}
	printf("\nsummary (%d test images; per image; speed-up = FISTA's median time / the "
	       "encoder's; target >= 20x at the same error):\n"
	       "  %-20s %7s %6s %7s %7s | %-22s | %-22s\n"
	       "  %-20s %7s %6s %7s %7s | %5s %7s %8s | %5s %7s %8s\n",
	       NTEST, "encoder", "", "", "", "", "FISTA at equal error", "FISTA at equal energy",
	       "", "error", "active", "L1", "energy", "iters", "1 thr", "2 thr", "iters", "1 thr",
	       "2 thr");
	double norm = sum_sq(xte, (size_t)NTEST * D);
	for (int i = 0; i < nrows; i++) {
		row *r = &rows[i];
		printf("  %-20s %7.4f %6.1f %7.2f %7.2f | %5d %6.1fx %7.1fx | %5d %6.1fx %7.1fx\n",
		       r->label, r->enc.sq / norm, r->enc.nonzero / NTEST, r->enc.l1 / NTEST,
		       energy(r->enc) / NTEST, r->k[0], r->speedup[0][0], r->speedup[1][0], r->k[1],
		       r->speedup[0][1], r->speedup[1][1]);
	}
	free(xtr);
	return 0;
}
