/*
** lista.c -- the `lista` learner: Learned ISTA (Gregor & LeCun, ICML 2010).
** The encoder  z(1) = h_theta(W_e y),  z(t+1) = h_theta(W_e y + S z(t))
** is ISTA's flow graph unrolled for T steps, with W_e, S and the thresholds
** theta learned by back-propagation through time (the toolkit's tape) to
** predict the optimal codes of a fixed dictionary: the one sparse_coding
** exported (parameter `dictionary`; T is parameter `unroll`), whose codes
** FISTA or coordinate descent (`target_method`) computes to convergence.
** Initialised as ISTA itself (W_e = 2/L W_d, S = I - 2/L W_d
** W_d^T, theta = lambda/L), so training can only improve on it.
**
** Tied (the paper's LISTA), every step shares S and theta; untied, step t
** has its own S_t and theta_t (W_e stays shared), each initialised as ISTA's.
** The setting `depth` (learner:set) runs and trains only the first steps:
** an encoder of depth T can be trained stage-wise, each stage starting from
** the trained shallower one. (Its new steps then add the trained W_e y,
** no longer ISTA's: the codes first get much worse, and training
** recovers. Measured on 400 atoms, T = 5 and 10: a W_e per step, its new
** steps ISTA's or the identity (W_e = 0, S = I, theta = 0, so the deeper
** encoder starts as the shallower one), trains no better; new steps copying
** the last trained one, or made z + W_e (y - W_d z), start worse still.)
**
** With method = "lcod" the steps are coordinate descent's instead
** (Gregor & LeCun's LCoD, lcod.c): each moves one code, tied only, and
** starts as coordinate descent itself; its baseline is coordinate
** descent's error curve (metric cd_error; lcod_T<T>_cd_steps, the steps
** coordinate descent needs to match it).
**
** The first `eval_size` samples observed are held out: each update reports
** the relative code error sum ||z - z*||^2 / sum ||z*||^2 on them
** (lista_T<T>_error), and how many FISTA iterations reach the same error
** (lista_T<T>_fista_iters, and that over T: lista_T<T>_fista_multiple).
** With log_baselines, the ISTA and FISTA error curves on that set are
** logged once (metrics ista_error, fista_error, step = iterations):
** Gregor & LeCun's comparison, in the run store; and optimal_active, the
** mean number of non-zero optimal codes per sample.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/nn.h>

#include "dictionary.h"
#include "feature_kit.h"
#include "lasso.h"
#include "lcod.h"
#include "samples.h"

enum { LISTA_MAX_STEPS = 1000 }; /* LCoD moves one code a step: it needs many */

static const dd_param_spec params[] = {
	{.name = "dictionary", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "dictionary file written by sparse_coding's export_dictionary (required)"},
	{.name = "atoms", .type = DD_PARAM_INT, .def = 128, .min = 1, .max = 8192,
	 .doc = "atoms of that dictionary (the code size)"},
	{.name = "lambda", .type = DD_PARAM_FLOAT, .def = 1.0, .min = 0, .max = 1e6,
	 .doc = "lambda of the codes to predict: argmin ||y - W_d z||^2 + lambda ||z||_1"},
	{.name = "unroll", .type = DD_PARAM_INT, .def = 5, .min = 1, .max = LISTA_MAX_STEPS,
	 .doc = "iterations of the unrolled encoder (lista: shrinkage steps; lcod: "
	        "coordinate-descent steps); learner:set{depth = k} runs only the first k"},
	{.name = "untied", .type = DD_PARAM_BOOL, .def = 0,
	 .doc = "each step its own S and thresholds (W_e shared); false: all steps share them"},
	{.name = "method", .type = DD_PARAM_STRING, .def_str = "lista", .choices = "lista|lcod",
	 .doc = "lista: unrolled ISTA; lcod: unrolled coordinate descent, each step moving one "
	        "code (Gregor & LeCun's LCoD; tied only)"},
	{.name = "lr", .type = DD_PARAM_FLOAT, .def = 1e-3, .min = 0, .max = 10,
	 .doc = "Adam's learning rate"},
	{.name = "batch", .type = DD_PARAM_INT, .def = 64, .min = 1, .max = 65536,
	 .doc = "samples per gradient step"},
	{.name = "steps", .type = DD_PARAM_INT, .def = 20, .min = 1, .max = 1000000,
	 .doc = "gradient steps per update(), on batches drawn from the pool"},
	{.name = "pool", .type = DD_PARAM_INT, .def = 20000, .min = 1, .max = 10000000,
	 .doc = "training samples kept with their optimal codes (the newest)"},
	{.name = "eval_size", .type = DD_PARAM_INT, .def = 1000, .min = 1, .max = 1000000,
	 .doc = "first samples observed, held out to measure the code error"},
	{.name = "target_method", .type = DD_PARAM_STRING, .def_str = "fista", .choices = "fista|cd",
	 .doc = "solver of the optimal codes: FISTA, or coordinate descent (exact, faster on "
	        "large dictionaries)"},
	{.name = "target_iters", .type = DD_PARAM_INT, .def = 3000, .min = 1, .max = 1000000,
	 .doc = "iterations (cd: sweeps) at most for the optimal codes"},
	{.name = "target_tol", .type = DD_PARAM_FLOAT, .def = 1e-6, .min = 0, .max = 1,
	 .doc = "the solver stops earlier when no code moves by more than this"},
	{.name = "baseline_iters", .type = DD_PARAM_INT, .def = 1000, .min = 1, .max = 100000,
	 .doc = "length of the ISTA and FISTA error curves on the held-out set"},
	{.name = "log_baselines", .type = DD_PARAM_BOOL, .def = 0,
	 .doc = "log those curves once (metrics ista_error, fista_error; step = iterations)"},
	{.name = NULL},
};

typedef struct lista {
	dd_host *host;
	const dd_spaces *env;
	int n, m, T, batch, steps, baseline_iters, log_baselines;
	int depth;                 /* steps in use, 1..T (setting `depth`) */
	int lcod;                  /* method = "lcod" */
	int target_iters;
	lasso_method target_method;
	float target_tol;
	float *Wd;                 /* the dictionary, m x n */
	lasso solver;
	dd_paramset *ps;
	dd_tensor *We;
	/* Step t's mutual inhibition (S[0] unused: z(0) = 0) and thresholds;
	** tied, every entry points to the same tensor. */
	dd_tensor **S, **theta;
	dd_optim *opt;
	dd_graph *g;
	dd_rng rng;
	samples eval, pool;
	float *eval_z, *pool_z;    /* optimal codes of each row */
	float *by, *bz;            /* a training batch */
	float *tz;                 /* optimal codes of an observed batch */
	int tz_rows;
	double *ista_err, *fista_err; /* relative error after k = 1.. iterations */
	double *cd_err;            /* LCoD: coordinate descent's, after k = 1.. steps */
	double eval_norm;          /* sum of ||z*||^2 over the held-out set */
	int baselines_done;
	/* Metric names carry T (lista_T5_error...), so the encoders of several
	** depths trained in one run keep their curves apart in the run store. */
	char names[9][40];
} lista;

static void destroy(void *learner)
{
	lista *l = learner;
	if (!l)
		return;
	lasso_free(&l->solver);
	dd_optim_free(l->opt);
	dd_paramset_free(l->ps);
	dd_graph_free(l->g);
	samples_free(&l->eval);
	samples_free(&l->pool);
	free(l->Wd);
	free(l->eval_z);
	free(l->pool_z);
	free(l->by);
	free(l->bz);
	free(l->tz);
	free(l->ista_err);
	free(l->fista_err);
	free(l->cd_err);
	free(l->S);
	free(l->theta);
	free(l);
}

/* W_e, S, theta as ISTA's own: the untrained encoder is ISTA with T steps
** (LCoD: coordinate descent with T steps). */
static void init_as_ista(lista *l)
{
	if (l->lcod) {
		lcod_init_as_cd(l->We->data, l->S[0]->data, l->theta[0]->data, l->Wd, l->solver.G,
		                l->m, l->n, l->solver.lambda);
		return;
	}
	float L = 2.0f * l->solver.sigma2;
	size_t mm = (size_t)l->m * (size_t)l->m;
	for (size_t i = 0; i < (size_t)l->m * (size_t)l->n; i++)
		l->We->data[i] = 2.0f / L * l->Wd[i];
	for (int t = 0; t < l->T; t++) { /* tied: the same tensors again, same values */
		for (int j = 0; j < l->m; j++)
			l->theta[t]->data[j] = l->solver.lambda / L;
		if (!l->S[t])
			continue; /* untied step 1 */
		float *S = l->S[t]->data;
		for (size_t i = 0; i < mm; i++)
			S[i] = -2.0f / L * l->solver.G[i];
		for (int j = 0; j < l->m; j++)
			S[(size_t)j * (size_t)l->m + (size_t)j] += 1.0f;
	}
}

/* Tied: W_e, S, theta. Untied: W_e, then S_t and theta_t for each step
** t = 1..T, but no S_1 (step 1 starts from z = 0). */
static int make_params(lista *l, float lr, int untied)
{
	int we[2] = {l->m, l->n}, s[2] = {l->m, l->m}, th[1] = {l->m};
	l->ps = dd_paramset_new();
	if (!l->ps || !(l->We = dd_paramset_add(l->ps, "W_e", 2, we)))
		return DD_ERR;
	for (int t = 0; t < l->T; t++) {
		if (t > 0 && !untied) {
			l->S[t] = l->S[0];
			l->theta[t] = l->theta[0];
			continue;
		}
		char sn[24] = "S", tn[24] = "theta";
		if (untied) {
			snprintf(sn, sizeof sn, "S_%d", t + 1);
			snprintf(tn, sizeof tn, "theta_%d", t + 1);
		}
		if ((!untied || t > 0) && !(l->S[t] = dd_paramset_add(l->ps, sn, 2, s)))
			return DD_ERR;
		if (!(l->theta[t] = dd_paramset_add(l->ps, tn, 1, th)))
			return DD_ERR;
	}
	if (dd_paramset_alloc(l->ps) != DD_OK)
		return DD_ERR;
	dd_optim_config oc = dd_optim_defaults(DD_OPTIM_ADAM);
	oc.lr = lr;
	l->opt = dd_optim_new(l->ps, &oc);
	return l->opt ? DD_OK : DD_ERR;
}

/* Arena for T steps of `rows` samples, gradients included, with room to spare. */
static size_t arena_bytes(const lista *l, int rows)
{
	if (l->lcod) /* b and z with gradients, and 3 saved numbers a step */
		return (size_t)rows * ((size_t)l->n + 4 * (size_t)l->m + 3 * (size_t)l->T) * sizeof(float) * 2 +
		       ((size_t)1 << 20);
	return (size_t)(l->T + 2) * 10 * (size_t)rows * (size_t)l->m * sizeof(float) +
	       (size_t)rows * (size_t)l->n * sizeof(float) * 2 + ((size_t)1 << 20);
}

static void name_metrics(lista *l)
{
	static const char *const what[9] = {"loss", "error", "ista_error", "fista_error",
	                                    "fista_iters", "fista_multiple", "cd_error",
	                                    "cd_steps", "cd_multiple"};
	for (int i = 0; i < 9; i++)
		snprintf(l->names[i], sizeof l->names[i], "%s_T%d_%s", l->lcod ? "lcod" : "lista",
		         l->depth, what[i]);
}

static void *create(const dd_params *p, dd_host *host, const dd_spaces *env)
{
	lista *l = calloc(1, sizeof *l);
	int h, w;
	if (!l) {
		host->error(host, "out of memory");
		return NULL;
	}
	l->host = host;
	l->env = env;
	if (samples_obs_shape(host, env, "lista", &l->n, &h, &w) != DD_OK)
		goto fail;
	l->m = dd_param_int(p, "atoms");
	l->T = dd_param_int(p, "unroll");
	l->depth = l->T;
	l->lcod = strcmp(dd_param_str(p, "method"), "lcod") == 0;
	if (l->lcod && dd_param_int(p, "untied")) {
		host->error(host, "lista: method = \"lcod\" has tied steps only (untied = false)");
		goto fail;
	}
	l->batch = dd_param_int(p, "batch");
	l->steps = dd_param_int(p, "steps");
	l->target_iters = dd_param_int(p, "target_iters");
	l->target_tol = (float)dd_param_num(p, "target_tol");
	l->target_method = strcmp(dd_param_str(p, "target_method"), "cd") == 0 ? LASSO_CD : LASSO_FISTA;
	l->baseline_iters = dd_param_int(p, "baseline_iters");
	l->log_baselines = dd_param_int(p, "log_baselines");
	int pool = dd_param_int(p, "pool"), eval = dd_param_int(p, "eval_size");
	name_metrics(l);
	const char *path = dd_param_str(p, "dictionary");
	if (!*path) {
		host->error(host, "parameter dictionary is required: a file written by "
		            "sparse_coding's export_dictionary");
		goto fail;
	}
	char err[1024];
	l->Wd = malloc(sizeof(float) * (size_t)l->m * (size_t)l->n);
	if (!l->Wd)
		goto oom;
	if (dict_load_file(l->Wd, l->m, l->n, path, err, sizeof err) != 0) {
		host->error(host, "dictionary: %s", err);
		goto fail;
	}
	dd_rng_seed(&l->rng, host->seed, 0);
	l->eval_z = malloc(sizeof(float) * (size_t)eval * (size_t)l->m);
	l->pool_z = malloc(sizeof(float) * (size_t)pool * (size_t)l->m);
	l->by = malloc(sizeof(float) * (size_t)l->batch * (size_t)l->n);
	l->bz = malloc(sizeof(float) * (size_t)l->batch * (size_t)l->m);
	l->ista_err = calloc((size_t)l->baseline_iters + 1, sizeof(double));
	l->fista_err = calloc((size_t)l->baseline_iters + 1, sizeof(double));
	l->cd_err = calloc((size_t)l->baseline_iters + 1, sizeof(double));
	l->S = calloc((size_t)l->T, sizeof *l->S);
	l->theta = calloc((size_t)l->T, sizeof *l->theta);
	int rows = l->batch > LASSO_BLOCK ? l->batch : LASSO_BLOCK;
	l->g = dd_graph_new(arena_bytes(l, rows));
	if (!l->eval_z || !l->pool_z || !l->by || !l->bz || !l->ista_err || !l->fista_err ||
	    !l->cd_err || !l->S || !l->theta || !l->g || samples_init(&l->eval, l->n, eval) != 0 ||
	    samples_init(&l->pool, l->n, pool) != 0 ||
	    lasso_init(&l->solver, l->Wd, l->m, l->n, (float)dd_param_num(p, "lambda")) != 0 ||
	    make_params(l, (float)dd_param_num(p, "lr"), dd_param_int(p, "untied")) != DD_OK)
		goto oom;
	init_as_ista(l);
	return l;
oom:
	host->error(host, "out of memory (parameters pool, eval_size, batch, atoms)");
fail:
	destroy(l);
	return NULL;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	(void)obs;
	feat_neutral_action(((lista *)learner)->env, batch, action);
	return DD_OK;
}

/* Optimal codes (the solver run to convergence) of k rows. */
static int targets(lista *l, const float *Y, int k, float *Z)
{
	lasso_opts o = {.method = l->target_method, .max_iter = l->target_iters, .tol = l->target_tol};
	if (lasso_solve(&l->solver, Y, k, Z, &o) < 0)
		return l->host->error(l->host, "out of memory for coordinate descent");
	return DD_OK;
}

static int observe(void *learner, const dd_transitions *t)
{
	lista *l = learner;
	const float *y = t->obs[0];
	int k = t->batch;
	while (k > 0 && l->eval.count < l->eval.cap) { /* the held-out set comes first */
		int take = k < l->eval.cap - l->eval.count ? k : l->eval.cap - l->eval.count;
		if (targets(l, y, take, l->eval_z + (size_t)l->eval.count * (size_t)l->m) != DD_OK)
			return DD_ERR;
		samples_push(&l->eval, y, take);
		y += (size_t)take * (size_t)l->n;
		k -= take;
	}
	if (k == 0)
		return DD_OK;
	if (k > l->tz_rows) {
		float *tz = realloc(l->tz, sizeof(float) * (size_t)k * (size_t)l->m);
		if (!tz)
			return l->host->error(l->host, "out of memory for a batch of %d", k);
		l->tz = tz;
		l->tz_rows = k;
	}
	if (targets(l, y, k, l->tz) != DD_OK)
		return DD_ERR;
	for (int i = 0; i < k; i++) { /* row by row: the ring may wrap anywhere */
		memcpy(l->pool_z + (size_t)l->pool.next * (size_t)l->m, l->tz + (size_t)i * (size_t)l->m,
		       sizeof(float) * (size_t)l->m);
		samples_push(&l->pool, y + (size_t)i * (size_t)l->n, 1);
	}
	return DD_OK;
}

/* The unrolled encoder on the tape: codes of rows x n inputs Y. */
static dd_tensor *forward(lista *l, const float *Y, int rows)
{
	int dims[2] = {rows, l->n};
	dd_tensor *y = dd_graph_input(l->g, 2, dims, Y, 0);
	dd_tensor *b = dd_linear(l->g, y, l->We, NULL);
	if (l->lcod)
		return lcod_unroll(l->g, b, l->S[0], l->theta[0], l->depth);
	dd_tensor *z = dd_shrink(l->g, b, l->theta[0]);
	for (int t = 1; t < l->depth; t++)
		z = dd_shrink(l->g, dd_add(l->g, b, dd_linear(l->g, z, l->S[t], NULL)), l->theta[t]);
	return z;
}

/* Sum of ||z - z*||^2 of the encoder over the held-out set (no gradients). */
static int eval_error(lista *l, double *sum)
{
	*sum = 0.0;
	dd_paramset_freeze(l->ps, 1);
	int rc = DD_OK;
	for (int r = 0; r < l->eval.count && rc == DD_OK; r += LASSO_BLOCK) {
		int rows = l->eval.count - r < LASSO_BLOCK ? l->eval.count - r : LASSO_BLOCK;
		dd_graph_reset(l->g);
		dd_tensor *z = forward(l, l->eval.rows + (size_t)r * (size_t)l->n, rows);
		if (!z) {
			rc = l->host->error(l->host, "lista forward: %s", dd_graph_error(l->g));
			break;
		}
		const float *zs = l->eval_z + (size_t)r * (size_t)l->m;
		for (size_t i = 0; i < z->size; i++)
			*sum += ((double)z->data[i] - zs[i]) * ((double)z->data[i] - zs[i]);
	}
	dd_paramset_freeze(l->ps, 0);
	return rc;
}

typedef struct curve_ctx {
	const lista *l;
	double *err;
} curve_ctx;

static void add_error(void *ctx, int k, int row0, int rows, const float *Z)
{
	curve_ctx *c = ctx;
	const float *zs = c->l->eval_z + (size_t)row0 * (size_t)c->l->m;
	double e = 0.0;
	for (size_t i = 0; i < (size_t)rows * (size_t)c->l->m; i++)
		e += ((double)Z[i] - zs[i]) * ((double)Z[i] - zs[i]);
	c->err[k] += e;
}

/* LCoD's baseline: coordinate descent's code error after k = 1..baseline_iters
** steps on the held-out set (sums, not yet relative). */
static int cd_baseline(lista *l)
{
	size_t m = (size_t)l->m, n = (size_t)l->n, rows = (size_t)l->eval.count;
	float *We = malloc(sizeof(float) * (m * n + m * m + m + rows * m));
	if (!We)
		return l->host->error(l->host, "out of memory");
	float *S = We + m * n, *theta = S + m * m, *B = theta + m;
	lcod_init_as_cd(We, S, theta, l->Wd, l->solver.G, l->m, l->n, l->solver.lambda);
	for (size_t r = 0; r < rows; r++) /* B = W_e y, row by row */
		for (size_t i = 0; i < m; i++) {
			const float *y = l->eval.rows + r * n, *w = We + i * n;
			double b = 0.0;
			for (size_t j = 0; j < n; j++)
				b += (double)w[j] * y[j];
			B[r * m + i] = (float)b;
		}
	int rc = lcod_cd_curve(B, S, theta, l->eval_z, l->eval.count, l->m, l->baseline_iters,
	                       l->cd_err);
	free(We);
	return rc == 0 ? DD_OK : l->host->error(l->host, "out of memory");
}

/* ISTA's and FISTA's relative code error after k = 1..baseline_iters
** iterations on the held-out set (LCoD: coordinate descent's too), logged
** once when asked. */
static int baselines(lista *l)
{
	float *z = malloc(sizeof(float) * (size_t)l->eval.count * (size_t)l->m);
	if (!z)
		return l->host->error(l->host, "out of memory");
	l->eval_norm = 0.0;
	size_t active = 0;
	for (size_t i = 0; i < (size_t)l->eval.count * (size_t)l->m; i++) {
		l->eval_norm += (double)l->eval_z[i] * l->eval_z[i];
		active += l->eval_z[i] != 0.0f;
	}
	if (l->log_baselines) /* how sparse the codes to predict are */
		l->host->log_metric(l->host, "optimal_active", (double)active / l->eval.count, 0);
	if (l->eval_norm <= 0.0)
		l->eval_norm = 1.0; /* all-zero optimal codes: report absolute errors */
	static const char *const metric[3] = {"ista_error", "fista_error", "cd_error"};
	double *curve[3] = {l->ista_err, l->fista_err, l->cd_err};
	for (int method = 0; method < (l->lcod ? 3 : 2); method++) {
		double *err = curve[method];
		if (method == 2) {
			if (cd_baseline(l) != DD_OK) {
				free(z);
				return DD_ERR;
			}
		} else {
			curve_ctx c = {l, err};
			lasso_opts o = {.method = (lasso_method)method, .max_iter = l->baseline_iters,
			                .each = add_error, .ctx = &c};
			lasso_solve(&l->solver, l->eval.rows, l->eval.count, z, &o);
		}
		for (int k = 1; k <= l->baseline_iters; k++) {
			err[k] /= l->eval_norm;
			if (l->log_baselines)
				l->host->log_metric(l->host, metric[method], err[k], k);
		}
	}
	free(z);
	l->baselines_done = 1;
	return DD_OK;
}

/* One Adam step on a batch drawn from the pool; returns the loss or -1. */
static double train_step(lista *l)
{
	for (int b = 0; b < l->batch; b++) {
		size_t i = (size_t)dd_rng_below(&l->rng, (uint64_t)l->pool.count);
		memcpy(l->by + (size_t)b * (size_t)l->n, l->pool.rows + i * (size_t)l->n,
		       sizeof(float) * (size_t)l->n);
		memcpy(l->bz + (size_t)b * (size_t)l->m, l->pool_z + i * (size_t)l->m,
		       sizeof(float) * (size_t)l->m);
	}
	dd_graph_reset(l->g);
	dd_paramset_zero_grad(l->ps);
	int dims[2] = {l->batch, l->m};
	dd_tensor *target = dd_graph_input(l->g, 2, dims, l->bz, 0);
	dd_tensor *loss = dd_mse(l->g, forward(l, l->by, l->batch), target);
	if (!loss || dd_graph_backward(l->g, loss) != DD_OK) {
		l->host->error(l->host, "lista training step: %s", dd_graph_error(l->g));
		return -1.0;
	}
	dd_optim_step(l->opt);
	return loss->data[0];
}

/* The first k in 1..iters where curve[k] <= error; iters + 1 when none. */
static int iterations_to_reach(const double *curve, int iters, double error)
{
	int k = 1;
	while (k <= iters && curve[k] > error)
		k++;
	return k;
}

static int update(void *learner, dd_metrics *metrics)
{
	lista *l = learner;
	if (l->pool.count == 0)
		return l->host->error(l->host, "update() before any training sample: the first "
		                      "eval_size = %d observed are held out", l->eval.cap);
	double loss = 0.0;
	for (int s = 0; s < l->steps; s++) {
		double v = train_step(l);
		if (v < 0.0)
			return DD_ERR;
		loss += v;
	}
	dd_metrics_add(metrics, l->names[0], loss / l->steps);
	if (!l->baselines_done && baselines(l) != DD_OK)
		return DD_ERR;
	double sum;
	if (eval_error(l, &sum) != DD_OK)
		return DD_ERR;
	double rel = sum / l->eval_norm;
	int t = l->depth <= l->baseline_iters ? l->depth : l->baseline_iters;
	dd_metrics_add(metrics, l->names[1], rel);              /* relative code error */
	dd_metrics_add(metrics, l->names[2], l->ista_err[t]);   /* ISTA's after T iterations */
	dd_metrics_add(metrics, l->names[3], l->fista_err[t]);  /* FISTA's after T */
	/* FISTA iterations to reach the encoder's error (baseline_iters + 1: not
	** within the curve); LCoD: coordinate descent's steps too */
	int k = iterations_to_reach(l->fista_err, l->baseline_iters, rel);
	dd_metrics_add(metrics, l->names[4], k);
	dd_metrics_add(metrics, l->names[5], (double)k / l->depth);
	if (l->lcod) {
		k = iterations_to_reach(l->cd_err, l->baseline_iters, rel);
		dd_metrics_add(metrics, l->names[6], l->cd_err[t]);
		dd_metrics_add(metrics, l->names[7], k);
		dd_metrics_add(metrics, l->names[8], (double)k / l->depth);
	}
	return DD_OK;
}

static void io(void *learner, dd_learner_io *out)
{
	out->code_dim = ((lista *)learner)->m;
}

static int encode(void *learner, int batch, const float *const *obs, float *code)
{
	lista *l = learner;
	int rc = DD_OK;
	dd_paramset_freeze(l->ps, 1);
	for (int r = 0; r < batch && rc == DD_OK; r += LASSO_BLOCK) {
		int rows = batch - r < LASSO_BLOCK ? batch - r : LASSO_BLOCK;
		dd_graph_reset(l->g);
		dd_tensor *z = forward(l, obs[0] + (size_t)r * (size_t)l->n, rows);
		if (!z)
			rc = l->host->error(l->host, "lista forward: %s", dd_graph_error(l->g));
		else
			memcpy(code + (size_t)r * (size_t)l->m, z->data, sizeof(float) * z->size);
	}
	dd_paramset_freeze(l->ps, 0);
	return rc;
}

/* The encoder and Adam's state; the dictionary stays in its own file. */
static int save(void *learner, dd_writer *w)
{
	lista *l = learner;
	if (dd_checkpoint_save(l->ps, l->opt, w) != DD_OK)
		return l->host->error(l->host, "save: %s", dd_paramset_error(l->ps));
	return DD_OK;
}

static int load(void *learner, dd_reader *r)
{
	lista *l = learner;
	if (dd_checkpoint_load(l->ps, l->opt, r) != DD_OK)
		return l->host->error(l->host, "load: %s", dd_paramset_error(l->ps));
	return DD_OK;
}

/* ABI 1.1: the scenario's learning-rate schedule (learner:set{lr = ...})
** and the steps in use (learner:set{depth = k}, stage-wise training). */
static int set(void *learner, const char *key, double value)
{
	lista *l = learner;
	if (strcmp(key, "depth") == 0) {
		if (!(value >= 1.0 && value <= l->T) || value != (int)value)
			return l->host->error(l->host, "lista: depth = %g is not a whole number in "
			                      "[1, unroll = %d]", value, l->T);
		l->depth = (int)value;
		name_metrics(l);
		return DD_OK;
	}
	if (strcmp(key, "lr") != 0)
		return l->host->error(l->host, "lista: no setting '%s' (settable: lr, depth)", key);
	if (!(value >= 0.0 && value <= 10.0))
		return l->host->error(l->host, "lista: lr = %g is outside [0, 10]", value);
	dd_optim_set_lr(l->opt, (float)value);
	return DD_OK;
}

static const dd_learner_vtable vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .observe = observe, .update = update, .io = io,
	.encode = encode, .save = save, .load = load, .destroy = destroy, .set = set,
};

static const dd_plugin lista_plugin = {
	DD_PLUGIN_HEADER,
	.name = "lista",
	.kind = DD_KIND_LEARNER,
	.version = "1.0.0",
	.summary = "LISTA: ISTA unrolled for T steps and trained to predict optimal sparse codes",
	.params = params,
	.learner = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&lista_plugin, NULL};
	return list;
}
