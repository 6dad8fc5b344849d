/*
** kmeans.c -- the `kmeans` learner: k centres minimising the energy
** E(y) = min_j |y - c_j|^2 over the observations it watches. Lloyd's
** algorithm on a memory of the stream (a uniform reservoir sample), or
** Sculley's mini-batch steps on the stream itself. This file is the plugin:
** parameters, the memory, metrics, encode, checkpoints; the algorithms are
** in kmeans_fit.c.
*/
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/checkpoint.h>
#include <daydream/nn.h>

#include "kmeans.h"

static const dd_param_spec params[] = {
	{.name = "k", .type = DD_PARAM_INT, .def = 10, .min = 1, .max = 65536,
	 .doc = "clusters (centres)"},
	{.name = "method", .type = DD_PARAM_STRING, .def_str = "lloyd", .choices = "lloyd|minibatch",
	 .doc = "lloyd: full iterations on the memory at each update; minibatch: a step per batch_size samples"},
	{.name = "init", .type = DD_PARAM_STRING, .def_str = "kmeans++", .choices = "kmeans++|first",
	 .doc = "k-means++ seeding (seeded), or the first k samples of the memory"},
	{.name = "iterations", .type = DD_PARAM_INT, .def = 100, .min = 1, .max = 1e6,
	 .doc = "lloyd: iterations per update() at most; stops once no sample changes cluster"},
	{.name = "batch_size", .type = DD_PARAM_INT, .def = 256, .min = 1, .max = 1e6,
	 .doc = "minibatch: samples per step"},
	{.name = "init_size", .type = DD_PARAM_INT, .def = 0, .min = 0, .max = 1e9,
	 .doc = "minibatch: samples in memory before the centres are placed (0: 3 x batch_size, >= k)"},
	{.name = "memory", .type = DD_PARAM_INT, .def = 10000, .min = 1, .max = 1e8,
	 .doc = "samples kept (a uniform sample of the stream): lloyd fits them, metrics are measured on them"},
	{.name = "code", .type = DD_PARAM_STRING, .def_str = "onehot", .choices = "onehot|distances|triangle",
	 .doc = "encode: one-hot nearest centre, squared distances, or Coates' triangle max(0, mean(r) - r_j)"},
	{.name = "label", .type = DD_PARAM_STRING, .def_str = "label",
	 .doc = "info stat holding each sample's class, for the purity metric (none if the env lacks it)"},
	{.name = "threads", .type = DD_PARAM_INT, .def = 0, .min = 0, .max = KM_MAX_THREADS,
	 .doc = "lloyd: parts of an iteration, run on the toolkit's threads (0: one per thread); the result is the same for any count"},
	{.name = "filters_png", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "if set, each update() writes the centres as a PNG grid to this file"},
	{.name = NULL},
};

static void destroy(void *learner)
{
	kmeans *km = learner;
	if (!km)
		return;
	dd_paramset_free(km->ps);
	free(km->counts), free(km->mem), free(km->labels), free(km->xnorm), free(km->assign);
	free(km->upper), free(km->lmin), free(km->lower), free(km->drift), free(km->half), free(km->half_gap);
	free(km->old_centres), free(km->moved), free(km->moved_from), free(km->sums), free(km->sizes);
	free(km->scratch), free(km->cnorm), free(km->cand), free(km->cand_dist);
	free(km->png);
	free(km);
}

static int declare(kmeans *km)
{
	int d = km->d, k = km->k, kd[2] = {k, d}, cd[2] = {km->chunk, d}, st = KS_LEN;
	size_t cap = (size_t)km->cap;
	if (!(km->ps = dd_paramset_new()))
		return DD_ERR;
	km->centres = dd_paramset_add(km->ps, "centres", 2, kd);
	km->counts_hi = dd_paramset_add(km->ps, "counts_hi", 1, &k);
	km->counts_lo = dd_paramset_add(km->ps, "counts_lo", 1, &k);
	km->state = dd_paramset_add(km->ps, "state", 1, &st);
	km->pending = dd_paramset_add(km->ps, "pending", 2, cd);
	if (!km->centres || !km->counts_hi || !km->counts_lo || !km->state || !km->pending ||
	    dd_paramset_alloc(km->ps) != DD_OK)
		return DD_ERR;
	km->counts = calloc((size_t)k, sizeof(double));
	km->mem = malloc(sizeof(float) * cap * (size_t)d);
	km->labels = malloc(sizeof(float) * cap);
	km->xnorm = malloc(sizeof(double) * cap);
	km->assign = malloc(sizeof(int) * cap);
	km->upper = malloc(sizeof(float) * cap);
	km->lmin = malloc(sizeof(float) * cap);
	km->drift = calloc((size_t)k, sizeof(double));
	km->half_gap = malloc(sizeof(double) * (size_t)k);
	km->old_centres = malloc(sizeof(float) * (size_t)k * (size_t)d);
	km->moved = malloc(sizeof(int) * cap);
	km->moved_from = malloc(sizeof(int) * cap);
	km->cand = malloc(sizeof(int) * (size_t)km->threads * (size_t)k);
	km->cand_dist = malloc(sizeof(double) * (size_t)km->threads * (size_t)k);
	int elkan = !km->minibatch && k <= KM_ELKAN_K && cap * (size_t)k <= KM_ELKAN_FLOATS;
	km->lower = elkan ? malloc(sizeof(float) * cap * (size_t)k) : NULL;
	km->half = elkan ? malloc(sizeof(float) * (size_t)k * (size_t)k) : NULL;
	km->sums = malloc(sizeof(double) * (size_t)k * (size_t)d);
	km->sizes = malloc(sizeof(double) * (size_t)k);
	km->scratch = malloc(sizeof(float) * KM_BLOCK * (size_t)k);
	km->cnorm = malloc(sizeof(double) * (size_t)k);
	return km->counts && km->mem && km->labels && km->xnorm && km->assign && km->upper && km->lmin &&
	       km->drift && km->half_gap && km->old_centres && km->moved && km->moved_from &&
	       (km->lower || !elkan) && (km->half || !elkan) && km->sums && km->sizes && km->scratch &&
	       km->cnorm && km->cand && km->cand_dist ? DD_OK : DD_ERR;
}

static void *create(const dd_params *params, dd_host *host, const dd_spaces *env)
{
	kmeans *km = calloc(1, sizeof *km);
	if (!km) {
		host->error(host, "out of memory");
		return NULL;
	}
	km->host = host;
	km->env = env;
	if (feat_shape_of(env, host, &km->shape) != DD_OK) {
		free(km);
		return NULL;
	}
	km->d = km->shape.d;
	km->k = dd_param_int(params, "k");
	km->minibatch = strcmp(dd_param_str(params, "method"), "minibatch") == 0;
	km->init_first = strcmp(dd_param_str(params, "init"), "first") == 0;
	km->iterations = dd_param_int(params, "iterations");
	km->chunk = dd_param_int(params, "batch_size");
	km->cap = dd_param_int(params, "memory");
	km->threads = dd_param_int(params, "threads");
	if (km->threads == 0)
		km->threads = dd_nn_threads();
	if (km->threads > KM_MAX_THREADS)
		km->threads = KM_MAX_THREADS;
	if (km->threads < 1)
		km->threads = 1;
	const char *code = dd_param_str(params, "code");
	km->code = strcmp(code, "distances") == 0 ? 1 : strcmp(code, "triangle") == 0 ? 2 : 0;
	km->label_index = feat_info_index(env, dd_param_str(params, "label"));
	int need = dd_param_int(params, "init_size");
	if (need == 0)
		need = 3 * km->chunk;
	need = need < km->k ? km->k : need;
	km->init_need = need > km->cap ? km->cap : need;
	const char *png = dd_param_str(params, "filters_png");
	km->png = *png ? strdup(png) : NULL;
	dd_rng_seed(&km->rng, host->seed, 0);
	if (km->cap < km->k) {
		host->error(host, "memory = %d cannot hold k = %d samples to start from; raise memory to >= k",
		            km->cap, km->k);
	} else if ((*png && !km->png) || declare(km) != DD_OK) {
		host->error(host, "out of memory for k = %d centres and a memory of %d samples of %d values",
		            km->k, km->cap, km->d);
	} else {
		return km;
	}
	destroy(km);
	return NULL;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	kmeans *km = learner;
	(void)obs;
	feat_neutral_action(km->env, batch, action);
	return DD_OK;
}

/* Vitter's reservoir: after n samples each is in memory with chance cap/n. */
static void remember(kmeans *km, const float *x, float label)
{
	int slot;
	km->seen++;
	if (km->stored < km->cap) {
		slot = km->stored++;
	} else {
		uint64_t j = dd_rng_below(&km->rng, (uint64_t)km->seen);
		if (j >= (uint64_t)km->cap)
			return;
		slot = (int)j;
	}
	float *m = km->mem + (size_t)slot * (size_t)km->d;
	memcpy(m, x, sizeof(float) * (size_t)km->d);
	double s = 0;
	for (int j = 0; j < km->d; j++)
		s += (double)m[j] * m[j];
	km->xnorm[slot] = s;
	km->labels[slot] = label;
	km->assign[slot] = -1;
	km->pass_valid = 0;
	km->converged = 0;
}

/* Mini-batch: the pending samples make one step once the centres exist
** (before that they only fill the memory the centres are drawn from). */
static int flush_pending(kmeans *km)
{
	if (km->n_pending == 0)
		return DD_OK;
	if (!km->initialised && km->stored >= km->init_need && km_init(km) != DD_OK)
		return DD_ERR;
	int rc = km->initialised ? km_minibatch_step(km, km->pending->data, km->n_pending) : DD_OK;
	km->n_pending = 0;
	return rc;
}

static int observe(void *learner, const dd_transitions *t)
{
	kmeans *km = learner;
	int d = km->d;
	for (int i = 0; i < t->batch; i++) {
		const float *x = t->obs[0] + (size_t)i * (size_t)d;
		float label = km->label_index >= 0 && t->info
		              ? t->info[(size_t)i * (size_t)t->n_info + (size_t)km->label_index] : -1.0f;
		remember(km, x, label);
		if (!km->minibatch)
			continue;
		memcpy(km->pending->data + (size_t)km->n_pending * (size_t)d, x, sizeof(float) * (size_t)d);
		if (++km->n_pending == km->chunk && flush_pending(km) != DD_OK)
			return DD_ERR;
	}
	return DD_OK;
}

static int update(void *learner, dd_metrics *m)
{
	kmeans *km = learner;
	m->count = 0;
	dd_metrics_add(m, "samples", km->seen);
	int iters = 0;
	if (km->minibatch) {
		if (flush_pending(km) != DD_OK)
			return DD_ERR;
	} else if (!km->initialised && km->stored >= km->k && km_init(km) != DD_OK) {
		return DD_ERR;
	}
	if (!km->initialised)
		return DD_OK; /* too few samples yet: a later update starts */
	if (!km->minibatch && (iters = km_lloyd(km)) < 0)
		return DD_ERR;
	km_refresh(km);
	dd_metrics_add(m, "objective", km->objective / km->stored);
	if (!km->minibatch) {
		dd_metrics_add(m, "iterations", iters);
		dd_metrics_add(m, "converged", km->converged);
	}
	dd_metrics_add(m, "changed", (double)km->changed);
	dd_metrics_add(m, "relocated", km->relocated);
	double purity, rnd;
	if (km_purity(km, &purity, &rnd)) {
		dd_metrics_add(m, "purity", purity);
		dd_metrics_add(m, "purity_random", rnd);
	}
	if (km->png)
		return feat_grid_png(km->host, km->png, km->centres->data, km->k, &km->shape, 0);
	return DD_OK;
}

static void io(void *learner, dd_learner_io *out)
{
	out->code_dim = ((kmeans *)learner)->k;
}

/* Squared distances of one block by sgemm, then the chosen code. */
static void encode_block(kmeans *km, const float *x, int nb, float *code)
{
	int d = km->d, k = km->k;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, -2.0f, x, d, km->centres->data, d,
	            0.0f, code, k);
	for (int i = 0; i < nb; i++) {
		float *z = code + (size_t)i * (size_t)k;
		float xx = cblas_sdot(d, x + (size_t)i * (size_t)d, 1, x + (size_t)i * (size_t)d, 1);
		int best = 0;
		double mean_r = 0;
		for (int j = 0; j < k; j++) {
			z[j] += xx + km->cnorm[j];
			if (z[j] < 0)
				z[j] = 0;
			if (z[j] < z[best])
				best = j;
			mean_r += sqrt(z[j]);
		}
		mean_r /= k;
		for (int j = 0; j < k; j++) {
			if (km->code == 0)
				z[j] = j == best;
			else if (km->code == 2)
				z[j] = (float)fmax(0.0, mean_r - sqrt(z[j]));
		}
	}
}

static int encode(void *learner, int batch, const float *const *obs, float *code)
{
	kmeans *km = learner;
	int d = km->d, k = km->k;
	if (!km->initialised)
		return km->host->error(km->host, "encode before the centres exist: observe at least k = %d "
		                       "samples and call update() first", km->k);
	km_norms(km);
	for (int r0 = 0; r0 < batch; r0 += KM_BLOCK) {
		int nb = batch - r0 < KM_BLOCK ? batch - r0 : KM_BLOCK;
		encode_block(km, obs[0] + (size_t)r0 * (size_t)d, nb, code + (size_t)r0 * (size_t)k);
	}
	return DD_OK;
}

/* ---- checkpoints: the model blob, then the memory as a second blob ---- */

static void put(float *s, int at, double v)
{
	feat_split(v, &s[at], &s[at + 1]);
}

static double get(const float *s, int at)
{
	return feat_join(s[at], s[at + 1]);
}

static void pack_state(kmeans *km)
{
	float *s = km->state->data;
	put(s, KS_SEEN, km->seen);
	put(s, KS_STORED, km->stored);
	put(s, KS_INIT, km->initialised);
	put(s, KS_PENDING, km->n_pending);
	put(s, KS_CONVERGED, km->converged);
	put(s, KS_ITERS, km->iters_done);
	put(s, KS_RELOCATED, km->relocated);
	for (int i = 0; i < 4; i++)
		feat_u64_put(km->rng.s[i], &s[KS_RNG + 4 * i]);
	for (int j = 0; j < km->k; j++)
		feat_split(km->counts[j], &km->counts_hi->data[j], &km->counts_lo->data[j]);
}

/* A set of two tensors holding rows [0, n) of the memory and their labels
** (one dummy row when n is 0: tensors have no empty shape). */
static dd_paramset *memory_set(kmeans *km, int n, dd_tensor **x, dd_tensor **y)
{
	int rows = n > 0 ? n : 1, xd[2] = {rows, km->d};
	dd_paramset *ps = dd_paramset_new();
	if (!ps)
		return NULL;
	*x = dd_paramset_add(ps, "memory", 2, xd);
	*y = dd_paramset_add(ps, "labels", 1, &rows);
	if (!*x || !*y || dd_paramset_alloc(ps) != DD_OK) {
		dd_paramset_free(ps);
		return NULL;
	}
	return ps;
}

static int save(void *learner, dd_writer *w)
{
	kmeans *km = learner;
	pack_state(km);
	dd_tensor *x, *y;
	dd_paramset *mem = memory_set(km, km->stored, &x, &y);
	if (!mem)
		return km->host->error(km->host, "kmeans: out of memory to save %d samples", km->stored);
	memcpy(x->data, km->mem, sizeof(float) * (size_t)km->stored * (size_t)km->d);
	memcpy(y->data, km->labels, sizeof(float) * (size_t)km->stored);
	int rc = DD_OK;
	if (dd_checkpoint_save(km->ps, NULL, w) != DD_OK)
		rc = km->host->error(km->host, "kmeans: %s", dd_paramset_error(km->ps));
	else if (dd_checkpoint_save(mem, NULL, w) != DD_OK)
		rc = km->host->error(km->host, "kmeans: %s", dd_paramset_error(mem));
	dd_paramset_free(mem);
	return rc;
}

/* Both blobs are read and checked before anything live changes: the model
** set is copied first and put back if the memory blob is refused. */
static int load(void *learner, dd_reader *r)
{
	kmeans *km = learner;
	size_t n = dd_paramset_count(km->ps);
	float *before = malloc(sizeof(float) * n);
	if (!before)
		return km->host->error(km->host, "kmeans: out of memory to load a checkpoint");
	memcpy(before, dd_paramset_data(km->ps), sizeof(float) * n);
	if (dd_checkpoint_load(km->ps, NULL, r) != DD_OK) {
		free(before);
		return km->host->error(km->host, "kmeans: %s", dd_paramset_error(km->ps));
	}
	const float *s = km->state->data;
	double stored = get(s, KS_STORED), pending = get(s, KS_PENDING), seen = get(s, KS_SEEN);
	dd_tensor *x = NULL, *y = NULL;
	dd_paramset *mem = NULL;
	const char *why = NULL;
	if (!(stored >= 0 && stored <= km->cap && stored == floor(stored) && seen >= stored &&
	      pending >= 0 && pending < km->chunk && pending == floor(pending)))
		why = "checkpoint refused: its counts do not fit this learner's memory and batch_size";
	else if (!(mem = memory_set(km, (int)stored, &x, &y)))
		why = "checkpoint refused: out of memory for its samples";
	else if (dd_checkpoint_load(mem, NULL, r) != DD_OK)
		why = dd_paramset_error(mem);
	if (why) {
		int rc = km->host->error(km->host, "kmeans: %s", why);
		memcpy(dd_paramset_data(km->ps), before, sizeof(float) * n);
		free(before);
		dd_paramset_free(mem);
		return rc;
	}
	free(before);
	km->stored = (int)stored;
	km->seen = seen;
	km->n_pending = (int)pending;
	km->initialised = get(s, KS_INIT) != 0;
	km->converged = get(s, KS_CONVERGED) != 0;
	km->iters_done = get(s, KS_ITERS);
	km->relocated = get(s, KS_RELOCATED);
	for (int i = 0; i < 4; i++)
		km->rng.s[i] = feat_u64_get(&s[KS_RNG + 4 * i]);
	for (int j = 0; j < km->k; j++)
		km->counts[j] = feat_join(km->counts_hi->data[j], km->counts_lo->data[j]);
	memcpy(km->mem, x->data, sizeof(float) * (size_t)km->stored * (size_t)km->d);
	memcpy(km->labels, y->data, sizeof(float) * (size_t)km->stored);
	dd_paramset_free(mem);
	for (int i = 0; i < km->stored; i++) {
		const float *v = km->mem + (size_t)i * (size_t)km->d;
		double q = 0;
		for (int j = 0; j < km->d; j++)
			q += (double)v[j] * v[j];
		km->xnorm[i] = q;
		km->assign[i] = -1;
	}
	km->pass_valid = 0;
	return DD_OK;
}

static const dd_learner_vtable vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .observe = observe, .update = update, .io = io,
	.encode = encode, .save = save, .load = load, .destroy = destroy,
};

static const dd_plugin kmeans_plugin = {
	DD_PLUGIN_HEADER,
	.name = "kmeans",
	.kind = DD_KIND_LEARNER,
	.version = "1.0.0",
	.summary = "k-means clustering (k-means++, Lloyd or mini-batch); encode gives one-hot, "
	           "distance or triangle codes",
	.params = params,
	.learner = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&kmeans_plugin, NULL};
	return list;
}
