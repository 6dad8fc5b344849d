/*
** psd.c -- the `psd` learner: Predictive Sparse Decomposition (Kavukcuoglu,
** Ranzato & LeCun 2008). Sparse coding whose code is also predicted by a
** fast encoder F(y) = h_theta(W_e y + b) (a shrinkage encoder), trained
** jointly on the energy
**     ||y - W_d z||^2 + lambda ||z||_1 + alpha ||z - F(y)||^2.
** Each update: infer z* by FISTA started from F(y) (the prediction term
** keeps the code near what the encoder can produce), one projected
** gradient step on the unit-norm atoms of W_d, and one Adam step of the
** encoder towards z* on the tape. encode() runs the encoder alone, off
** the tape: one matrix product and a pointwise function instead of an
** iterative solver.
**
** Predicting z* is all the paper asks of the encoder, but encode() is
** judged by what its own code gives: with encoder_energy = beta > 0 the
** encoder's loss also holds PSD's energy at z = F(y), beta (||y -
** W_d F(y)||^2 + lambda ||F(y)||_1). A final phase with the dictionary
** frozen (dict_lr = 0) and beta > 0 lowers the reconstruction error of the
** encoder's codes at unchanged cost (bench/bench_psd.c). The metric
** encoder_energy reports that energy, per sample, before each update.
*/
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/nn.h>

#include "dictionary.h"
#include "feature_kit.h"
#include "lasso.h"
#include "samples.h"

static const dd_param_spec params[] = {
	{.name = "atoms", .type = DD_PARAM_INT, .def = 256, .min = 1, .max = 8192,
	 .doc = "atoms of W_d and units of the encoder (the code size)"},
	{.name = "lambda", .type = DD_PARAM_FLOAT, .def = 0.5, .min = 0, .max = 1e6,
	 .doc = "weight of ||z||_1"},
	{.name = "alpha", .type = DD_PARAM_FLOAT, .def = 1.0, .min = 0, .max = 1e6,
	 .doc = "weight of the prediction term ||z - F(y)||^2"},
	{.name = "iters", .type = DD_PARAM_INT, .def = 50, .min = 1, .max = 100000,
	 .doc = "FISTA iterations at most for z* in each update"},
	{.name = "tol", .type = DD_PARAM_FLOAT, .def = 1e-5, .min = 0, .max = 1,
	 .doc = "inference stops when no code moves by more than this in an iteration"},
	{.name = "batch", .type = DD_PARAM_INT, .def = 256, .min = 1, .max = 65536,
	 .doc = "samples per update at most (the latest observed since the last update)"},
	{.name = "dict_lr", .type = DD_PARAM_FLOAT, .def = 0.01, .min = 0, .max = 100,
	 .doc = "Adam's learning rate for W_d (each step followed by unit-norm projection); "
	        "0 freezes W_d (no atom re-drawn either)"},
	{.name = "encoder_lr", .type = DD_PARAM_FLOAT, .def = 0.003, .min = 0, .max = 100,
	 .doc = "Adam's learning rate for the encoder W_e, b, and theta or g"},
	{.name = "encoder", .type = DD_PARAM_STRING, .def_str = "shrink", .choices = "shrink|tanh",
	 .doc = "F(y): shrink h_theta(W_e y + b), or tanh g tanh(W_e y + b) as in the paper"},
	{.name = "encoder_steps", .type = DD_PARAM_INT, .def = 1, .min = 1, .max = 1000,
	 .doc = "Adam steps of the encoder towards each batch's codes z*"},
	{.name = "encoder_energy", .type = DD_PARAM_FLOAT, .def = 0, .min = 0, .max = 1e6,
	 .doc = "weight beta of the energy at the encoder's own code in its loss, "
	        "||z* - F(y)||^2 + beta (||y - W_d F(y)||^2 + lambda ||F(y)||_1): "
	        "the encoder then learns to reconstruct, not only to predict z*"},
	{.name = "resample", .type = DD_PARAM_INT, .def = 50, .min = 0, .max = 1000000,
	 .doc = "re-draw an atom unused for this many updates from a badly explained sample (0: never)"},
	{.name = "dictionary", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "optional: start W_d from a file of sparse_coding's export_dictionary"},
	{.name = "export_png", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "PNG file written at each save (run:checkpoint): the atoms of W_d as a grid"},
	{.name = NULL},
};

typedef struct psd {
	dd_host *host;
	const dd_spaces *env;
	int n, m, h, w, iters, resample, ready, tanh, encoder_steps;
	char *export_png;
	float alpha, tol, encoder_energy;
	dd_paramset *dec, *enc;     /* W_d and its atoms' idle counts; W_e, b, unit */
	dd_tensor *W, *idle, *We, *b;
	dd_tensor *unit;            /* per code unit: theta (shrink) or g (tanh) */
	dd_optim *dec_opt, *enc_opt;
	lasso solver;
	dd_graph *g;
	dd_rng rng;
	samples pending;
	float *Z, *R;               /* batch x m codes, batch x n residuals */
} psd;

static void destroy(void *learner)
{
	psd *s = learner;
	if (!s)
		return;
	lasso_free(&s->solver);
	dd_optim_free(s->dec_opt);
	dd_optim_free(s->enc_opt);
	dd_paramset_free(s->dec);
	dd_paramset_free(s->enc);
	dd_graph_free(s->g);
	samples_free(&s->pending);
	free(s->Z);
	free(s->R);
	free(s->export_png);
	free(s);
}

static dd_optim *adam(dd_paramset *ps, float lr)
{
	dd_optim_config oc = dd_optim_defaults(DD_OPTIM_ADAM);
	oc.lr = lr;
	return dd_optim_new(ps, &oc);
}

static int make_params(psd *s, const dd_params *p)
{
	int wd[2] = {s->m, s->n}, vec[1] = {s->m};
	s->dec = dd_paramset_new();
	s->enc = dd_paramset_new();
	if (!s->dec || !s->enc || !(s->W = dd_paramset_add(s->dec, "W_d", 2, wd)) ||
	    !(s->idle = dd_paramset_add(s->dec, "idle", 1, vec)) ||
	    !(s->We = dd_paramset_add(s->enc, "W_e", 2, wd)) ||
	    !(s->b = dd_paramset_add(s->enc, "b", 1, vec)) ||
	    !(s->unit = dd_paramset_add(s->enc, s->tanh ? "gain" : "theta", 1, vec)) ||
	    dd_paramset_alloc(s->dec) != DD_OK || dd_paramset_alloc(s->enc) != DD_OK)
		return DD_ERR;
	s->dec_opt = adam(s->dec, (float)dd_param_num(p, "dict_lr"));
	s->enc_opt = adam(s->enc, (float)dd_param_num(p, "encoder_lr"));
	if (!s->dec_opt || !s->enc_opt)
		return DD_ERR;
	return lasso_init(&s->solver, s->W->data, s->m, s->n, (float)dd_param_num(p, "lambda")) == 0
	       ? DD_OK : DD_ERR;
}

/* The shrinkage encoder starts as ISTA's first step on the current
** dictionary; the tanh encoder as that step's linear part, with unit gain
** (tanh is the identity near 0, where these small inputs fall). */
static void init_encoder(psd *s)
{
	float L = 2.0f * s->solver.sigma2;
	for (size_t i = 0; i < s->W->size; i++)
		s->We->data[i] = 2.0f / L * s->W->data[i];
	for (int j = 0; j < s->m; j++)
		s->unit->data[j] = s->tanh ? 1.0f : s->solver.lambda / L;
}

static void *create(const dd_params *p, dd_host *host, const dd_spaces *env)
{
	psd *s = calloc(1, sizeof *s);
	if (!s) {
		host->error(host, "out of memory");
		return NULL;
	}
	s->host = host;
	s->env = env;
	if (samples_obs_shape(host, env, "psd", &s->n, &s->h, &s->w) != DD_OK)
		goto fail;
	s->m = dd_param_int(p, "atoms");
	s->iters = dd_param_int(p, "iters");
	s->resample = dd_param_int(p, "resample");
	s->alpha = (float)dd_param_num(p, "alpha");
	s->tol = (float)dd_param_num(p, "tol");
	s->tanh = strcmp(dd_param_str(p, "encoder"), "tanh") == 0;
	s->encoder_steps = dd_param_int(p, "encoder_steps");
	s->encoder_energy = (float)dd_param_num(p, "encoder_energy");
	int batch = dd_param_int(p, "batch");
	dd_rng_seed(&s->rng, host->seed, 0);
	s->Z = malloc(sizeof(float) * (size_t)batch * (size_t)s->m);
	s->R = malloc(sizeof(float) * (size_t)batch * (size_t)s->n);
	s->g = dd_graph_new(((size_t)batch * (size_t)(s->m * 14 + s->n * 6) +
	                     (size_t)s->m * (size_t)s->n) * sizeof(float) + ((size_t)1 << 20));
	s->export_png = strdup(dd_param_str(p, "export_png"));
	if (!s->Z || !s->R || !s->g || !s->export_png || samples_init(&s->pending, s->n, batch) != 0 ||
	    make_params(s, p) != DD_OK) {
		host->error(host, "out of memory for %d atoms of %d values (parameters atoms, batch)",
		            s->m, s->n);
		goto fail;
	}
	const char *path = dd_param_str(p, "dictionary");
	if (*path) {
		char err[1024];
		if (dict_load_file(s->W->data, s->m, s->n, path, err, sizeof err) != 0) {
			host->error(host, "dictionary: %s", err);
			goto fail;
		}
		lasso_refresh(&s->solver);
		init_encoder(s);
		s->ready = 1;
	}
	return s;
fail:
	destroy(s);
	return NULL;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	(void)obs;
	feat_neutral_action(((psd *)learner)->env, batch, action);
	return DD_OK;
}

static int observe(void *learner, const dd_transitions *t)
{
	psd *s = learner;
	samples_push(&s->pending, t->obs[0], t->batch);
	return DD_OK;
}

/* F(y) on the tape for rows x n inputs. The gain g multiplies each row of
** tanh's output: broadcast over the rows as the product of a column of
** ones and g as a row, so that its gradient sums over them. */
static dd_tensor *encoder(psd *s, const float *Y, int rows)
{
	dd_graph *g = s->g;
	int dims[2] = {rows, s->n};
	dd_tensor *u = dd_add_bias(g, dd_linear(g, dd_graph_input(g, 2, dims, Y, 0), s->We, NULL),
	                           s->b);
	if (!s->tanh)
		return dd_shrink(g, u, s->unit);
	int col[2] = {rows, 1}, row[2] = {1, s->m};
	dd_tensor *ones = dd_graph_tensor(g, 2, col, 0);
	if (!ones)
		return NULL;
	for (int r = 0; r < rows; r++)
		ones->data[r] = 1.0f;
	dd_tensor *gain = dd_matmul(g, ones, dd_reshape(g, s->unit, 2, row));
	return dd_mul(g, dd_tanh(g, u), gain);
}

/* The encoder's loss on the tape, per sample
**     ||z* - F(y)||^2 + beta (||y - W_d F(y)||^2 + lambda ||F(y)||_1)
** divided by the code size: with beta = encoder_energy > 0 the encoder is
** also judged by what its own code reconstructs (PSD's energy at z = F(y)),
** which its prediction of z* alone does not give it. W_d enters as a
** constant: the decoder learns from z* only. */
static dd_tensor *encoder_loss(psd *s, dd_tensor *pred, const float *Y, int rows)
{
	dd_graph *g = s->g;
	int codes[2] = {rows, s->m}, inputs[2] = {rows, s->n}, wd[2] = {s->m, s->n};
	dd_tensor *loss = dd_mse(g, pred, dd_graph_input(g, 2, codes, s->Z, 0));
	float beta = s->encoder_energy;
	if (beta == 0.0f)
		return loss;
	dd_tensor *recon = dd_matmul(g, pred, dd_graph_input(g, 2, wd, s->W->data, 0));
	dd_tensor *sq = dd_mse(g, recon, dd_graph_input(g, 2, inputs, Y, 0));
	dd_tensor *l1 = dd_l1(g, pred, dd_graph_input(g, 2, codes, NULL, 0));
	return dd_add(g, loss, dd_add(g, dd_scale(g, sq, beta * (float)s->n / (float)s->m),
	                              dd_scale(g, l1, beta * s->solver.lambda)));
}

/* PSD's energy ||y - W_d F(y)||^2 + lambda ||F(y)||_1 at the encoder's
** codes Z, summed over the batch: what encode() would give. One sgemm into
** the residuals R. */
static double encoder_energy(psd *s, const float *Y, const float *Z, int rows)
{
	size_t nr = (size_t)rows * (size_t)s->n, mr = (size_t)rows * (size_t)s->m;
	memcpy(s->R, Y, sizeof(float) * nr);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, s->n, s->m, -1.0f, Z, s->m,
	            s->W->data, s->n, 1.0f, s->R, s->n);
	double sq = 0.0, l1 = 0.0;
	for (size_t i = 0; i < nr; i++)
		sq += (double)s->R[i] * s->R[i];
	for (size_t i = 0; i < mr; i++)
		l1 += fabsf(Z[i]);
	return sq + s->solver.lambda * l1;
}

static int update(void *learner, dd_metrics *metrics)
{
	psd *s = learner;
	int rows = s->pending.count;
	if (rows == 0)
		return s->host->error(s->host, "update() before any observation: run it from "
		                      "dd.rollout, or call observe() first");
	const float *Y = s->pending.rows;
	if (!s->ready) {
		dict_init(s->W->data, s->m, s->n, Y, 0, &s->rng);
		lasso_refresh(&s->solver);
		init_encoder(s);
		s->ready = 1;
	}
	dd_graph_reset(s->g);
	dd_paramset_zero_grad(s->enc);
	dd_tensor *pred = encoder(s, Y, rows);
	if (!pred)
		return s->host->error(s->host, "psd encoder: %s", dd_graph_error(s->g));
	double enc_energy = encoder_energy(s, Y, pred->data, rows);
	/* z*: the sparse code that also stays close to the prediction */
	memcpy(s->Z, pred->data, sizeof(float) * pred->size);
	lasso_opts o = {.method = LASSO_FISTA, .max_iter = s->iters, .tol = s->tol,
	                .prior = pred->data, .alpha = s->alpha, .warm = 1};
	int used = lasso_solve(&s->solver, Y, rows, s->Z, &o);
	double pe = 0.0, zn = 0.0, active = 0.0, l1 = 0.0;
	for (size_t i = 0; i < pred->size; i++) {
		pe += ((double)pred->data[i] - s->Z[i]) * ((double)pred->data[i] - s->Z[i]);
		zn += (double)s->Z[i] * s->Z[i];
		active += s->Z[i] != 0.0f;
		l1 += fabsf(s->Z[i]);
	}
	/* the encoder learns to predict z* (and, with encoder_energy, to lower
	** its own code's energy): the first step on the tape already recorded,
	** further ones each on a fresh forward pass */
	for (int k = 0; k < s->encoder_steps; k++) {
		if (k > 0) {
			dd_graph_reset(s->g);
			dd_paramset_zero_grad(s->enc);
			pred = encoder(s, Y, rows);
		}
		dd_tensor *loss = encoder_loss(s, pred, Y, rows);
		if (!loss || dd_graph_backward(s->g, loss) != DD_OK)
			return s->host->error(s->host, "psd encoder step: %s", dd_graph_error(s->g));
		dd_optim_step(s->enc_opt);
		if (!s->tanh) /* a threshold is not negative (predict() relies on it) */
			for (int j = 0; j < s->m; j++)
				s->unit->data[j] = fmaxf(s->unit->data[j], 0.0f);
	}
	/* the decoder: one projected gradient step, unless dict_lr = 0 freezes
	** it (no step, no atom re-drawn) */
	dd_paramset_zero_grad(s->dec);
	dict_grad(s->W->data, s->m, s->n, Y, s->Z, rows, s->R, s->W->grad);
	double sq = 0.0; /* the residuals of z* under W before the step */
	for (size_t i = 0; i < (size_t)rows * (size_t)s->n; i++)
		sq += (double)s->R[i] * s->R[i];
	int redrawn = 0;
	if (dd_optim_lr(s->dec_opt) > 0.0f) {
		dd_optim_step(s->dec_opt);
		dict_normalize(s->W->data, s->m, s->n, &s->rng);
		redrawn = dict_resample(s->W->data, s->m, s->n, s->Z, s->R, rows, s->idle->data,
		                        s->resample, &s->rng);
		lasso_refresh(&s->solver);
	}
	dd_metrics_add(metrics, "energy", (sq + s->solver.lambda * l1) / rows);
	dd_metrics_add(metrics, "prediction_error", zn > 0 ? pe / zn : pe);
	dd_metrics_add(metrics, "active", active / rows);
	dd_metrics_add(metrics, "iterations", used);
	dd_metrics_add(metrics, "redrawn", redrawn);
	dd_metrics_add(metrics, "encoder_energy", enc_energy / rows);
	samples_clear(&s->pending);
	return DD_OK;
}

static void io(void *learner, dd_learner_io *out)
{
	out->code_dim = ((psd *)learner)->m;
}

/* F(y) off the tape, for encode(): Z (rows x m) = Y W_e^T in one sgemm,
** then b added and the pointwise function applied in one pass, in the
** tape's order of operations. */
static void predict(const psd *s, const float *Y, int rows, float *Z)
{
	const int m = s->m;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, m, s->n, 1.0f, Y, s->n,
	            s->We->data, s->n, 0.0f, Z, m);
	const float *restrict b = s->b->data, *restrict u = s->unit->data;
	for (int r = 0; r < rows; r++) {
		float *restrict z = Z + (size_t)r * (size_t)m;
		if (s->tanh)
			for (int j = 0; j < m; j++)
				z[j] = dd_tanhf(z[j] + b[j]) * u[j];
		else /* v minus v clamped to [-theta, theta]: dd_shrink for theta >= 0,
		      ** as selects that vectorise (a branch per code costs 20x more) */
			for (int j = 0; j < m; j++) {
				float v = z[j] + b[j], lo = v < -u[j] ? -u[j] : v;
				z[j] = v - (lo > u[j] ? u[j] : lo);
			}
	}
}

/* The fast path: the encoder alone. */
static int encode(void *learner, int batch, const float *const *obs, float *code)
{
	predict(learner, obs[0], batch, code);
	return DD_OK;
}

/* Two blobs: the decoder, then the encoder, each with its optimiser. */
static int save(void *learner, dd_writer *w)
{
	psd *s = learner;
	if (dd_checkpoint_save(s->dec, s->dec_opt, w) != DD_OK)
		return s->host->error(s->host, "save: %s", dd_paramset_error(s->dec));
	if (dd_checkpoint_save(s->enc, s->enc_opt, w) != DD_OK)
		return s->host->error(s->host, "save: %s", dd_paramset_error(s->enc));
	char err[1024];
	if (*s->export_png && s->ready &&
	    dict_save_png(s->W->data, s->m, s->h, s->w, 2, s->export_png, err, sizeof err) != 0)
		return s->host->error(s->host, "export_png: %s", err);
	return DD_OK;
}

static int load(void *learner, dd_reader *r)
{
	psd *s = learner;
	/* Keep the decoder as it was, to put it back if the encoder's blob fails. */
	dd_membuf backup = {0};
	dd_writer bw;
	dd_membuf_writer(&bw, &backup);
	if (dd_checkpoint_save(s->dec, s->dec_opt, &bw) != DD_OK) {
		dd_membuf_free(&backup);
		return s->host->error(s->host, "load: out of memory");
	}
	int rc = DD_OK;
	if (dd_checkpoint_load(s->dec, s->dec_opt, r) != DD_OK) {
		rc = s->host->error(s->host, "load (decoder): %s", dd_paramset_error(s->dec));
	} else if (dd_checkpoint_load(s->enc, s->enc_opt, r) != DD_OK) {
		rc = s->host->error(s->host, "load (encoder): %s", dd_paramset_error(s->enc));
		dd_membuf mb;
		dd_reader br;
		dd_membuf_reader(&br, &mb, backup.buf, backup.len);
		dd_checkpoint_load(s->dec, s->dec_opt, &br);
	}
	dd_membuf_free(&backup);
	if (rc != DD_OK)
		return rc;
	s->ready = dict_is_drawn(s->W->data, s->W->size);
	lasso_refresh(&s->solver);
	return DD_OK;
}

/* Schedules driven by the scenario: the learning rates encoder_lr and
** dict_lr, and encoder_energy (say, 0 while the dictionary learns, then a
** final phase where the encoder fine-tunes on its own code's energy). */
static int set(void *learner, const char *key, double value)
{
	psd *s = learner;
	int energy = strcmp(key, "encoder_energy") == 0;
	dd_optim *opt = strcmp(key, "encoder_lr") == 0 ? s->enc_opt
	              : strcmp(key, "dict_lr") == 0 ? s->dec_opt : NULL;
	if (!opt && !energy)
		return s->host->error(s->host, "psd: no setting '%s' (settable: encoder_lr, dict_lr, "
		                      "encoder_energy)", key);
	double top = energy ? 1e6 : 100.0;
	if (!(value >= 0.0 && value <= top))
		return s->host->error(s->host, "psd: %s = %g is outside [0, %g]", key, value, top);
	if (!energy) {
		dd_optim_set_lr(opt, (float)value);
		return DD_OK;
	}
	/* Another loss: Adam's moments, of the old one, would scale the first
	** steps of the new one wildly (by up to the ratio of their gradients),
	** so the encoder's optimiser starts afresh. */
	if ((float)value != s->encoder_energy) {
		dd_optim *fresh = adam(s->enc, dd_optim_lr(s->enc_opt));
		if (!fresh)
			return s->host->error(s->host, "psd: out of memory");
		dd_optim_free(s->enc_opt);
		s->enc_opt = fresh;
		s->encoder_energy = (float)value;
	}
	return DD_OK;
}

static const dd_learner_vtable vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .observe = observe, .update = update, .io = io,
	.encode = encode, .save = save, .load = load, .destroy = destroy, .set = set,
};

static const dd_plugin psd_plugin = {
	DD_PLUGIN_HEADER,
	.name = "psd",
	.kind = DD_KIND_LEARNER,
	.version = "1.2.0",
	.summary = "predictive sparse decomposition: sparse coding with a fast encoder trained jointly",
	.params = params,
	.learner = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&psd_plugin, NULL};
	return list;
}
