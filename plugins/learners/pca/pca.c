/*
** pca.c -- the `pca` learner: principal components of the observations it
** watches, i.e. the k x d matrix W with orthonormal rows minimising the
** energy E(y) = |W'W(y - m) - (y - m)|^2 on average (m: the data's mean).
** The fits live in pca_fit.c; this file is the plugin: parameters, the
** buffer of observed samples, metrics, encode, checkpoints.
*/
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/checkpoint.h>

#include "pca.h"

#define MAX_BATCH_DIM 4096 /* the batch fit holds ~24 d^2 bytes */

static const dd_param_spec params[] = {
	{.name = "n_components", .type = DD_PARAM_INT, .def = 16, .min = 1, .max = 4096,
	 .doc = "principal components kept (at most the observation's size)"},
	{.name = "method", .type = DD_PARAM_STRING, .def_str = "batch", .choices = "batch|online",
	 .doc = "batch: exact eigen-decomposition of the covariance; online: incremental PCA, memory O(k d)"},
	{.name = "whiten", .type = DD_PARAM_BOOL, .def = 0,
	 .doc = "encode divides each projection by the square root of its variance"},
	{.name = "whiten_eps", .type = DD_PARAM_FLOAT, .def = 1e-6, .min = 0, .max = 1e6,
	 .doc = "added to each variance before whitening divides by its square root"},
	{.name = "oversample", .type = DD_PARAM_INT, .def = 10, .min = 0, .max = 4096,
	 .doc = "online: directions tracked beyond n_components, which keeps the first ones accurate"},
	{.name = "batch_size", .type = DD_PARAM_INT, .def = 256, .min = 1, .max = 65536,
	 .doc = "samples gathered before they are folded in (one dsyrk, or one online step of >= n_components)"},
	{.name = "filters_png", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "if set, each update() writes the components as a PNG grid to this file"},
	{.name = NULL},
};

/* Metric names must be static strings. */
static const char *const evr_names[] = {
	"evr_1", "evr_2", "evr_3", "evr_4", "evr_5", "evr_6", "evr_7", "evr_8",
	"evr_9", "evr_10", "evr_11", "evr_12", "evr_13", "evr_14", "evr_15", "evr_16",
};

static void dvec_free(pca_dvec *v)
{
	free(v->x);
	v->x = NULL;
}

static void destroy(void *learner)
{
	pca *p = learner;
	if (!p)
		return;
	dd_paramset_free(p->ps);
	dvec_free(&p->sum);
	dvec_free(&p->sq);
	dvec_free(&p->run_mean);
	dvec_free(&p->sing);
	free(p->png);
	free(p);
}

/* Declares name_hi and name_lo tensors for a double array. */
static int dvec_add(pca *p, pca_dvec *v, const char *name, int ndim, const int *dims)
{
	char buf[DD_PARAM_NAME_MAX + 1];
	snprintf(buf, sizeof buf, "%s_hi", name);
	v->hi = dd_paramset_add(p->ps, buf, ndim, dims);
	snprintf(buf, sizeof buf, "%s_lo", name);
	v->lo = dd_paramset_add(p->ps, buf, ndim, dims);
	v->n = dd_shape_count(ndim, dims);
	v->x = calloc(v->n, sizeof(double));
	return v->hi && v->lo && v->x ? DD_OK : DD_ERR;
}

static void dvec_pack(pca_dvec *v)
{
	if (v->x)
		for (size_t i = 0; i < v->n; i++)
			feat_split(v->x[i], &v->hi->data[i], &v->lo->data[i]);
}

static void dvec_unpack(pca_dvec *v)
{
	if (v->x)
		for (size_t i = 0; i < v->n; i++)
			v->x[i] = feat_join(v->hi->data[i], v->lo->data[i]);
}

static int declare(pca *p)
{
	int d = p->d, k = p->k;
	int kd[2] = {k, d}, dd[2] = {d, d}, cd[2] = {p->chunk, d}, st = ST_LEN;
	if (!(p->ps = dd_paramset_new()))
		return DD_ERR;
	p->mean = dd_paramset_add(p->ps, "mean", 1, &d);
	p->comp = dd_paramset_add(p->ps, "components", 2, kd);
	p->var = dd_paramset_add(p->ps, "variance", 1, &k);
	p->state = dd_paramset_add(p->ps, "state", 1, &st);
	p->pending = dd_paramset_add(p->ps, "pending", 2, cd);
	if (!p->mean || !p->comp || !p->var || !p->state || !p->pending)
		return DD_ERR;
	if (p->online) {
		int rd[2] = {p->r, d};
		if (!(p->basis = dd_paramset_add(p->ps, "basis", 2, rd)) ||
		    dvec_add(p, &p->run_mean, "run_mean", 1, &d) || dvec_add(p, &p->sing, "singular", 1, &p->r))
			return DD_ERR;
	} else {
		if (!(p->shift = dd_paramset_add(p->ps, "shift", 1, &d)) ||
		    dvec_add(p, &p->sum, "sum", 1, &d) || dvec_add(p, &p->sq, "sq", 2, dd))
			return DD_ERR;
	}
	return dd_paramset_alloc(p->ps);
}

static void *create(const dd_params *params, dd_host *host, const dd_spaces *env)
{
	pca *p = calloc(1, sizeof *p);
	if (!p) {
		host->error(host, "out of memory");
		return NULL;
	}
	p->host = host;
	p->env = env;
	if (feat_shape_of(env, host, &p->shape) != DD_OK) {
		free(p);
		return NULL;
	}
	p->d = p->shape.d;
	p->k = dd_param_int(params, "n_components");
	p->online = strcmp(dd_param_str(params, "method"), "online") == 0;
	p->whiten = dd_param_int(params, "whiten");
	p->eps = dd_param_num(params, "whiten_eps");
	p->chunk = dd_param_int(params, "batch_size");
	p->r = p->online ? p->k + dd_param_int(params, "oversample") : p->k;
	if (p->r > p->d)
		p->r = p->d;
	const char *png = dd_param_str(params, "filters_png");
	p->png = *png ? strdup(png) : NULL;
	if (p->k > p->d) {
		host->error(host, "n_components = %d exceeds the observation's size %d; choose n_components <= %d",
		            p->k, p->d, p->d);
	} else if (!p->online && p->d > MAX_BATCH_DIM) {
		host->error(host, "method = 'batch' on observations of %d values needs a %d x %d covariance; "
		            "use method = 'online' (or observations of at most %d values)",
		            p->d, p->d, p->d, MAX_BATCH_DIM);
	} else if (p->online && p->chunk < p->k) {
		host->error(host, "method = 'online' needs batch_size >= n_components (%d < %d)", p->chunk, p->k);
	} else if ((*png && !p->png) || declare(p) != DD_OK) {
		host->error(host, "out of memory for %d components of %d values%s", p->k, p->d,
		            p->ps && *dd_paramset_error(p->ps) ? dd_paramset_error(p->ps) : "");
	} else {
		return p;
	}
	destroy(p);
	return NULL;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	pca *p = learner;
	(void)obs;
	feat_neutral_action(p->env, batch, action);
	return DD_OK;
}

static int observe(void *learner, const dd_transitions *t)
{
	pca *p = learner;
	const float *x = t->obs[0];
	for (int i = 0; i < t->batch; i++) {
		memcpy(p->pending->data + (size_t)p->n_pending * (size_t)p->d,
		       x + (size_t)i * (size_t)p->d, sizeof(float) * (size_t)p->d);
		if (++p->n_pending == p->chunk && pca_fold(p) != DD_OK)
			return DD_ERR;
	}
	return DD_OK;
}

static int update(void *learner, dd_metrics *m)
{
	pca *p = learner;
	m->count = 0;
	if (pca_fold(p) != DD_OK)
		return DD_ERR;
	dd_metrics_add(m, "samples", p->count + p->n_pending);
	if (p->count < 2)
		return DD_OK; /* nothing to fit yet: the next update will */
	if (pca_fit(p) != DD_OK)
		return DD_ERR;
	double kept = 0;
	for (int c = 0; c < p->k; c++)
		kept += p->var->data[c];
	double total = p->total > 0 ? p->total : 1;
	dd_metrics_add(m, "explained_variance", kept / total);
	/* The energy |W'W(y - m) - (y - m)|^2 averaged over the data: the
	** variance the components leave out. */
	dd_metrics_add(m, "recon_error", fmax(p->total - kept, 0.0));
	dd_metrics_add(m, "total_variance", p->total);
	for (int c = 0; c < p->k && c < (int)(sizeof evr_names / sizeof *evr_names); c++)
		dd_metrics_add(m, evr_names[c], p->var->data[c] / total);
	if (p->png)
		return feat_grid_png(p->host, p->png, p->comp->data, p->k, &p->shape, 1);
	return DD_OK;
}

static void io(void *learner, dd_learner_io *out)
{
	out->code_dim = ((pca *)learner)->k;
}

/* code = W (y - m), each divided by sqrt(variance + eps) when whitening. */
static int encode(void *learner, int batch, const float *const *obs, float *code)
{
	pca *p = learner;
	int d = p->d, k = p->k;
	if (!p->fitted)
		return p->host->error(p->host, "encode before the first fit: observe data and call update() first");
	float *y = malloc(sizeof(float) * (size_t)batch * (size_t)d);
	if (!y)
		return p->host->error(p->host, "out of memory for a batch of %d samples", batch);
	for (int i = 0; i < batch; i++)
		for (int j = 0; j < d; j++)
			y[(size_t)i * (size_t)d + (size_t)j] = obs[0][(size_t)i * (size_t)d + (size_t)j] - p->mean->data[j];
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, k, d, 1.0f, y, d, p->comp->data, d,
	            0.0f, code, k);
	free(y);
	if (p->whiten)
		for (int c = 0; c < k; c++) {
			float s = (float)(1.0 / sqrt((double)p->var->data[c] + p->eps));
			for (int i = 0; i < batch; i++)
				code[(size_t)i * (size_t)k + (size_t)c] *= s;
		}
	return DD_OK;
}

static void pack_state(pca *p)
{
	float *s = p->state->data;
	feat_split(p->count, &s[ST_COUNT], &s[ST_COUNT + 1]);
	feat_split(p->fitted, &s[ST_FITTED], &s[ST_FITTED + 1]);
	feat_split(p->n_pending, &s[ST_PENDING], &s[ST_PENDING + 1]);
	feat_split(p->total, &s[ST_TOTAL], &s[ST_TOTAL + 1]);
	feat_split(p->m2, &s[ST_M2], &s[ST_M2 + 1]);
	dvec_pack(&p->sum);
	dvec_pack(&p->sq);
	dvec_pack(&p->run_mean);
	dvec_pack(&p->sing);
}

static int save(void *learner, dd_writer *w)
{
	pca *p = learner;
	pack_state(p);
	if (dd_checkpoint_save(p->ps, NULL, w) != DD_OK)
		return p->host->error(p->host, "pca: %s", dd_paramset_error(p->ps));
	return DD_OK;
}

/* The checkpoint validates names, shapes and the CRC before touching the
** set; the scalars are checked after, so the set is copied first and put
** back when they are wrong (load must leave the learner as it was). */
static int load(void *learner, dd_reader *r)
{
	pca *p = learner;
	size_t n = dd_paramset_count(p->ps);
	float *before = malloc(sizeof(float) * n);
	if (!before)
		return p->host->error(p->host, "pca: out of memory to load a checkpoint");
	memcpy(before, dd_paramset_data(p->ps), sizeof(float) * n);
	if (dd_checkpoint_load(p->ps, NULL, r) != DD_OK) {
		free(before);
		return p->host->error(p->host, "pca: %s", dd_paramset_error(p->ps));
	}
	const float *s = p->state->data;
	double pending = feat_join(s[ST_PENDING], s[ST_PENDING + 1]);
	double count = feat_join(s[ST_COUNT], s[ST_COUNT + 1]);
	if (!(pending >= 0 && pending < p->chunk && pending == floor(pending) && count >= 0)) {
		memcpy(dd_paramset_data(p->ps), before, sizeof(float) * n);
		free(before);
		return p->host->error(p->host, "pca: the checkpoint holds %g samples and %g pending for a "
		                      "batch_size of %d: not a state of this learner", count, pending, p->chunk);
	}
	free(before);
	p->count = feat_join(s[ST_COUNT], s[ST_COUNT + 1]);
	p->fitted = feat_join(s[ST_FITTED], s[ST_FITTED + 1]) != 0;
	p->n_pending = (int)pending;
	p->total = feat_join(s[ST_TOTAL], s[ST_TOTAL + 1]);
	p->m2 = feat_join(s[ST_M2], s[ST_M2 + 1]);
	dvec_unpack(&p->sum);
	dvec_unpack(&p->sq);
	dvec_unpack(&p->run_mean);
	dvec_unpack(&p->sing);
	return DD_OK;
}

static const dd_learner_vtable vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .observe = observe, .update = update, .io = io,
	.encode = encode, .save = save, .load = load, .destroy = destroy,
};

static const dd_plugin pca_plugin = {
	DD_PLUGIN_HEADER,
	.name = "pca",
	.kind = DD_KIND_LEARNER,
	.version = "1.0.0",
	.summary = "principal components (batch eigen-decomposition or online incremental PCA); "
	           "encode gives the projections",
	.params = params,
	.learner = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&pca_plugin, NULL};
	return list;
}
