/*
** sparse_coding.c -- the `sparse_coding` learner (Olshausen & Field): a
** dictionary W_d of unit-norm atoms learned so that each input y is
** explained by a sparse code, energy ||y - W_d z||^2 + lambda ||z||_1.
** Each update infers the codes of the samples observed since the last one
** (FISTA, ISTA or coordinate descent, lasso.c), then takes one projected
** gradient step on W_d.
** encode() gives the codes of new inputs.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/checkpoint.h>
#include <daydream/optim.h>
#include <daydream/param.h>

#include "dictionary.h"
#include "feature_kit.h"
#include "lasso.h"
#include "samples.h"

static const dd_param_spec params[] = {
	{.name = "atoms", .type = DD_PARAM_INT, .def = 128, .min = 1, .max = 8192,
	 .doc = "atoms of the dictionary W_d (the code size)"},
	{.name = "lambda", .type = DD_PARAM_FLOAT, .def = 1.0, .min = 0, .max = 1e6,
	 .doc = "weight of ||z||_1 in ||y - W_d z||^2 + lambda ||z||_1"},
	{.name = "method", .type = DD_PARAM_STRING, .def_str = "fista", .choices = "fista|ista|cd",
	 .doc = "inference: FISTA (Beck & Teboulle), plain ISTA, or coordinate descent with "
	        "active-set Newton steps (exact minimum, fastest for inference on its own)"},
	{.name = "iters", .type = DD_PARAM_INT, .def = 50, .min = 1, .max = 100000,
	 .doc = "inference iterations (cd: sweeps per sample) at most during learning"},
	{.name = "encode_iters", .type = DD_PARAM_INT, .def = 1000, .min = 1, .max = 1000000,
	 .doc = "inference iterations (cd: sweeps per sample) at most in encode()"},
	{.name = "tol", .type = DD_PARAM_FLOAT, .def = 1e-5, .min = 0, .max = 1,
	 .doc = "inference stops when no code moves by more than this in an iteration (cd: a sweep)"},
	{.name = "batch", .type = DD_PARAM_INT, .def = 256, .min = 1, .max = 1000000,
	 .doc = "samples per update at most (the latest observed since the last update)"},
	{.name = "init", .type = DD_PARAM_STRING, .def_str = "random", .choices = "random|data",
	 .doc = "first atoms: Gaussian, or noisy copies of the first batch's samples"},
	{.name = "optimizer", .type = DD_PARAM_STRING, .def_str = "adam", .choices = "sgd|adam",
	 .doc = "the gradient step on W_d (each followed by the projection onto unit-norm atoms)"},
	{.name = "lr", .type = DD_PARAM_FLOAT, .def = 0.01, .min = 0, .max = 100,
	 .doc = "learning rate of the gradient step on W_d"},
	{.name = "momentum", .type = DD_PARAM_FLOAT, .def = 0.9, .min = 0, .max = 0.999,
	 .doc = "momentum of that step (SGD's momentum or Adam's beta1, PyTorch's definitions)"},
	{.name = "resample", .type = DD_PARAM_INT, .def = 50, .min = 0, .max = 1000000,
	 .doc = "re-draw an atom unused for this many updates from a badly explained sample (0: never)"},
	{.name = "export_dictionary", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "file written at each save (run:checkpoint): W_d for lista and psd's `dictionary`"},
	{.name = "export_png", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "PNG file written at each save: the atoms as a grid of images"},
	{.name = NULL},
};

typedef struct sc {
	dd_host *host;
	const dd_spaces *env;
	int n, m, h, w;
	int batch, iters, encode_iters, resample;
	float tol;
	lasso_method method;
	char *export_dict, *export_png;
	dd_paramset *ps;
	dd_tensor *W, *idle;   /* the dictionary; updates since each atom was used */
	dd_optim *opt;
	lasso solver;
	dd_rng rng;
	samples pending;       /* observed since the last update */
	float *Z, *R;          /* batch x m codes, batch x n residuals */
	int ready;             /* the dictionary has been drawn */
	int init_data;         /* ... from the first batch rather than a Gaussian */
} sc;

static void destroy(void *learner)
{
	sc *s = learner;
	if (!s)
		return;
	lasso_free(&s->solver);
	dd_optim_free(s->opt);
	dd_paramset_free(s->ps);
	samples_free(&s->pending);
	free(s->Z);
	free(s->R);
	free(s->export_dict);
	free(s->export_png);
	free(s);
}

static int make_params(sc *s, const dd_params *p)
{
	int wd[2] = {s->m, s->n}, id[1] = {s->m};
	s->ps = dd_paramset_new();
	if (!s->ps || !(s->W = dd_paramset_add(s->ps, "W_d", 2, wd)) ||
	    !(s->idle = dd_paramset_add(s->ps, "idle", 1, id)) || dd_paramset_alloc(s->ps) != DD_OK)
		return DD_ERR;
	int adam = strcmp(dd_param_str(p, "optimizer"), "adam") == 0;
	dd_optim_config oc = dd_optim_defaults(adam ? DD_OPTIM_ADAM : DD_OPTIM_SGD);
	oc.lr = (float)dd_param_num(p, "lr");
	if (adam)
		oc.beta1 = (float)dd_param_num(p, "momentum");
	else
		oc.momentum = (float)dd_param_num(p, "momentum");
	s->opt = dd_optim_new(s->ps, &oc);
	if (!s->opt)
		return DD_ERR;
	/* "idle" is bookkeeping kept in the checkpoint: its gradient stays 0, so
	** the SGD step never moves it. */
	return lasso_init(&s->solver, s->W->data, s->m, s->n, (float)dd_param_num(p, "lambda")) == 0
	       ? DD_OK : DD_ERR;
}

static void *create(const dd_params *p, dd_host *host, const dd_spaces *env)
{
	sc *s = calloc(1, sizeof *s);
	if (!s) {
		host->error(host, "out of memory");
		return NULL;
	}
	s->host = host;
	s->env = env;
	if (samples_obs_shape(host, env, "sparse_coding", &s->n, &s->h, &s->w) != DD_OK) {
		destroy(s);
		return NULL;
	}
	s->m = dd_param_int(p, "atoms");
	s->batch = dd_param_int(p, "batch");
	s->iters = dd_param_int(p, "iters");
	s->encode_iters = dd_param_int(p, "encode_iters");
	s->resample = dd_param_int(p, "resample");
	s->tol = (float)dd_param_num(p, "tol");
	const char *method = dd_param_str(p, "method");
	s->method = !strcmp(method, "ista") ? LASSO_ISTA : !strcmp(method, "cd") ? LASSO_CD : LASSO_FISTA;
	s->init_data = strcmp(dd_param_str(p, "init"), "data") == 0;
	s->export_dict = strdup(dd_param_str(p, "export_dictionary"));
	s->export_png = strdup(dd_param_str(p, "export_png"));
	dd_rng_seed(&s->rng, host->seed, 0);
	s->Z = malloc(sizeof(float) * (size_t)s->batch * (size_t)s->m);
	s->R = malloc(sizeof(float) * (size_t)s->batch * (size_t)s->n);
	if (!s->Z || !s->R || !s->export_dict || !s->export_png ||
	    samples_init(&s->pending, s->n, s->batch) != 0 || make_params(s, p) != DD_OK) {
		host->error(host, "out of memory for %d atoms of %d values (parameter atoms)", s->m, s->n);
		destroy(s);
		return NULL;
	}
	return s;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	(void)obs;
	feat_neutral_action(((sc *)learner)->env, batch, action);
	return DD_OK;
}

static int observe(void *learner, const dd_transitions *t)
{
	sc *s = learner;
	samples_push(&s->pending, t->obs[0], t->batch);
	return DD_OK;
}

/* Codes of `rows` inputs Y into Z, from zero; returns the iterations used,
** or -1 when coordinate descent's workspace could not be allocated. */
static int infer(sc *s, const float *Y, int rows, float *Z, int iters)
{
	lasso_opts o = {.method = s->method, .max_iter = iters, .tol = s->tol};
	return lasso_solve(&s->solver, Y, rows, Z, &o);
}

static int update(void *learner, dd_metrics *metrics)
{
	sc *s = learner;
	int rows = s->pending.count;
	if (rows == 0)
		return s->host->error(s->host, "update() before any observation: run it from "
		                      "dd.rollout, or call observe() first");
	const float *Y = s->pending.rows;
	if (!s->ready) {
		dict_init(s->W->data, s->m, s->n, Y, s->init_data ? rows : 0, &s->rng);
		lasso_refresh(&s->solver);
		s->ready = 1;
	}
	int used = infer(s, Y, rows, s->Z, s->iters);
	if (used < 0)
		return s->host->error(s->host, "out of memory for inference on %d atoms (method=cd)", s->m);
	double active = 0.0, l1 = 0.0;
	for (size_t i = 0; i < (size_t)rows * (size_t)s->m; i++) {
		active += s->Z[i] != 0.0f;
		l1 += fabsf(s->Z[i]);
	}
	dd_paramset_zero_grad(s->ps);
	dict_grad(s->W->data, s->m, s->n, Y, s->Z, rows, s->R, s->W->grad);
	double sq = 0.0; /* the residuals of the codes under W before the step */
	for (size_t i = 0; i < (size_t)rows * (size_t)s->n; i++)
		sq += (double)s->R[i] * s->R[i];
	dd_optim_step(s->opt);
	dict_normalize(s->W->data, s->m, s->n, &s->rng);
	int redrawn = dict_resample(s->W->data, s->m, s->n, s->Z, s->R, rows, s->idle->data,
	                            s->resample, &s->rng);
	lasso_refresh(&s->solver);
	dd_metrics_add(metrics, "energy", (sq + s->solver.lambda * l1) / rows);
	dd_metrics_add(metrics, "sq_error", sq / rows);
	dd_metrics_add(metrics, "active", active / rows);
	dd_metrics_add(metrics, "iterations", used);
	dd_metrics_add(metrics, "redrawn", redrawn);
	samples_clear(&s->pending);
	return DD_OK;
}

static void io(void *learner, dd_learner_io *out)
{
	out->code_dim = ((sc *)learner)->m;
}

static int encode(void *learner, int batch, const float *const *obs, float *code)
{
	sc *s = learner;
	if (!s->ready)
		return s->host->error(s->host, "encode() before the dictionary was learned or loaded");
	if (infer(s, obs[0], batch, code, s->encode_iters) < 0)
		return s->host->error(s->host, "out of memory for inference on %d atoms (method=cd)", s->m);
	return DD_OK;
}

static int exports(sc *s)
{
	char err[1024];
	if (*s->export_dict &&
	    dict_save_file(s->W->data, s->m, s->n, s->export_dict, err, sizeof err) != 0)
		return s->host->error(s->host, "export_dictionary: %s", err);
	if (*s->export_png &&
	    dict_save_png(s->W->data, s->m, s->h, s->w, 2, s->export_png, err, sizeof err) != 0)
		return s->host->error(s->host, "export_png: %s", err);
	return DD_OK;
}

static int save(void *learner, dd_writer *w)
{
	sc *s = learner;
	if (dd_checkpoint_save(s->ps, s->opt, w) != DD_OK)
		return s->host->error(s->host, "save: %s", dd_paramset_error(s->ps));
	return s->ready ? exports(s) : DD_OK;
}

static int load(void *learner, dd_reader *r)
{
	sc *s = learner;
	if (dd_checkpoint_load(s->ps, s->opt, r) != DD_OK)
		return s->host->error(s->host, "load: %s", dd_paramset_error(s->ps));
	s->ready = dict_is_drawn(s->W->data, s->W->size);
	lasso_refresh(&s->solver);
	return DD_OK;
}

static const dd_learner_vtable vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .observe = observe, .update = update, .io = io,
	.encode = encode, .save = save, .load = load, .destroy = destroy,
};

static const dd_plugin sparse_coding_plugin = {
	DD_PLUGIN_HEADER,
	.name = "sparse_coding",
	.kind = DD_KIND_LEARNER,
	.version = "1.0.0",
	.summary = "sparse coding: a dictionary learned with ISTA/FISTA/CD inference (Olshausen & Field)",
	.params = params,
	.learner = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&sparse_coding_plugin, NULL};
	return list;
}
