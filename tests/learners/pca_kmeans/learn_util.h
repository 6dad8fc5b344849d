/*
** learn_util.h -- what the pca and kmeans tests share: real data drawn
** through the `images` env plugin, learner instances driven through their
** plugin vtable with a test-owned host (so the seed and the metric log are
** ours), and a double-precision Jacobi eigen-solver as the reference.
*/
#ifndef DD_LEARN_UTIL_H
#define DD_LEARN_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/checkpoint.h"
#include "registry.h"
#include "run.h"
#include "vec_env.h"

/* ---- data ---- */

typedef struct lu_data {
	int n, d;
	float *x;          /* n x d */
	float *info;       /* n x n_info */
	int n_info;
	dd_spaces spaces;  /* valid while env lives */
	dd_vec_env *env;
} lu_data;

/* Draws n samples from the images env with the given string parameters
** ("key=value" pairs, numbers spelled as text). Fails the test on error. */
static inline int lu_collect(dd_registry *reg, lu_data *out, int n, int n_kv, const char **kv,
                             char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	const dd_plugin_entry *p = dd_registry_find(reg, "images");
	if (!p) {
		snprintf(err, err_size, "the images plugin is not built");
		return -1;
	}
	dd_paramvals pv;
	if (dd_paramvals_init(&pv, "images", p->desc.params, p->n_params) < 0)
		return -1;
	for (int i = 0; i < n_kv; i++) {
		char key[64];
		const char *eq = strchr(kv[i], '=');
		snprintf(key, sizeof key, "%.*s", (int)(eq - kv[i]), kv[i]);
		if (dd_paramvals_set_str(&pv, key, eq + 1, err, err_size) < 0) {
			dd_paramvals_free(&pv);
			return -1;
		}
	}
	if (dd_vec_env_new(p, &pv, 1, NULL, &out->env, err, err_size) < 0)
		return -1;
	dd_vec_env *v = out->env;
	out->spaces = v->spaces;
	out->n = n;
	out->d = (int)v->obs_size[0];
	out->n_info = v->spaces.n_info;
	out->x = malloc(sizeof(float) * (size_t)n * (size_t)out->d);
	out->info = malloc(sizeof(float) * (size_t)n * (size_t)(out->n_info ? out->n_info : 1));
	if (dd_vec_env_reset_all(v, 1, err, err_size) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		memcpy(out->x + (size_t)i * (size_t)out->d, v->obs[0], sizeof(float) * (size_t)out->d);
		memcpy(out->info + (size_t)i * (size_t)out->n_info, v->info, sizeof(float) * (size_t)out->n_info);
		v->action[0] = 0;
		if (dd_vec_env_step(v, err, err_size) < 0 || dd_vec_env_advance(v, NULL, NULL, err, err_size) < 0)
			return -1;
	}
	return 0;
}

static inline void lu_data_free(lu_data *d)
{
	free(d->x);
	free(d->info);
	dd_vec_env_free(d->env);
	memset(d, 0, sizeof *d);
}

/* ---- learners through their vtable ---- */

#define LU_MAX_LOG 4096

typedef struct lu_learner {
	const dd_plugin_entry *plugin;
	const dd_learner_vtable *vt;
	dd_paramvals pv;
	dd_instance_host host;
	void *h;
	/* what the plugin logged through host->log_metric */
	int n_log;
	char log_name[LU_MAX_LOG][32];
	double log_value[LU_MAX_LOG];
} lu_learner;

static void lu_capture(dd_host *h, const char *name, double value, int64_t step)
{
	lu_learner *l = (lu_learner *)((char *)h - offsetof(lu_learner, host));
	(void)step;
	if (l->n_log < LU_MAX_LOG) {
		snprintf(l->log_name[l->n_log], sizeof l->log_name[0], "%s", name);
		l->log_value[l->n_log++] = value;
	}
}

/* Creates learner `name` for spaces with "key=value" parameters and the
** given seed; NULL with the plugin's message in err. Caller frees with
** lu_learner_free. */
static inline lu_learner *lu_learner_new(dd_registry *reg, const char *name, const dd_spaces *spaces,
                                         uint64_t seed, int n_kv, const char **kv, char *err,
                                         size_t err_size)
{
	const dd_plugin_entry *p = dd_registry_find(reg, name);
	if (!p) {
		snprintf(err, err_size, "plugin %s is not built", name);
		return NULL;
	}
	lu_learner *l = calloc(1, sizeof *l);
	l->plugin = p;
	l->vt = &p->learner;
	dd_paramvals_init(&l->pv, name, p->desc.params, p->n_params);
	for (int i = 0; i < n_kv; i++) {
		char key[64];
		const char *eq = strchr(kv[i], '=');
		snprintf(key, sizeof key, "%.*s", (int)(eq - kv[i]), kv[i]);
		if (dd_paramvals_set_str(&l->pv, key, eq + 1, err, err_size) < 0) {
			dd_paramvals_free(&l->pv);
			free(l);
			return NULL;
		}
	}
	dd_instance_host_init(&l->host, NULL, name, seed);
	l->host.host.log_metric = lu_capture;
	l->h = l->vt->create(&l->pv.params, &l->host.host, spaces);
	if (!l->h) {
		snprintf(err, err_size, "%s", l->host.error);
		dd_paramvals_free(&l->pv);
		free(l);
		return NULL;
	}
	return l;
}

static inline void lu_learner_free(lu_learner *l)
{
	if (!l)
		return;
	l->vt->destroy(l->h);
	dd_paramvals_free(&l->pv);
	free(l);
}

/* Feeds samples [first, first + n) of data in batches of `batch`, as
** dd.rollout would (obs with their info). Returns the first failure. */
static inline int lu_feed(lu_learner *l, const lu_data *data, int first, int n, int batch)
{
	for (int i = first; i < first + n; i += batch) {
		int b = first + n - i < batch ? first + n - i : batch;
		const float *obs[1] = {data->x + (size_t)i * (size_t)data->d};
		float reward[4096] = {0};
		int flags[4096] = {0};
		float action[4096] = {0};
		if (b > 4096)
			return DD_ERR;
		dd_transitions t = {
			.batch = b, .obs = obs, .action = action, .reward = reward, .next_obs = obs,
			.terminated = flags, .truncated = flags, .n_info = data->n_info,
			.info = data->info + (size_t)i * (size_t)data->n_info,
			.next_info = data->info + (size_t)i * (size_t)data->n_info,
		};
		if (l->vt->observe(l->h, &t) != DD_OK)
			return DD_ERR;
	}
	return DD_OK;
}

/* The value of metric `name` in m, or NAN. */
static inline double lu_metric(const dd_metrics *m, const char *name)
{
	for (int i = 0; i < m->count; i++)
		if (strcmp(m->name[i], name) == 0)
			return m->value[i];
	return NAN;
}

/* Saves the learner's whole state into a heap blob (caller frees buf). */
static inline int lu_save(lu_learner *l, dd_membuf *mb)
{
	memset(mb, 0, sizeof *mb);
	dd_writer w;
	dd_membuf_writer(&w, mb);
	return l->vt->save(l->h, &w);
}

static inline int lu_load(lu_learner *l, const void *bytes, size_t n)
{
	dd_membuf m = {0};
	dd_reader r;
	dd_membuf_reader(&r, &m, bytes, n);
	return l->vt->load(l->h, &r);
}

/* ---- the reference eigen-solver ---- */

/* Cyclic Jacobi on the symmetric n x n matrix a (destroyed): eigenvalues
** into w, eigenvectors as rows of v, both in decreasing order. Slow
** (O(n^3) per sweep) and simple: a reference, not a tool. */
static inline void lu_jacobi(double *a, int n, double *w, double *v)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			v[(size_t)i * (size_t)n + (size_t)j] = i == j; /* columns become eigenvectors */
	for (int sweep = 0; sweep < 100; sweep++) {
		double off = 0, diag = 0;
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				if (i != j)
					off += a[(size_t)i * (size_t)n + (size_t)j] * a[(size_t)i * (size_t)n + (size_t)j];
				else
					diag += a[(size_t)i * (size_t)n + (size_t)j] * a[(size_t)i * (size_t)n + (size_t)j];
		if (off <= 1e-30 * diag)
			break;
		for (int p = 0; p < n - 1; p++)
			for (int q = p + 1; q < n; q++) {
				double apq = a[(size_t)p * (size_t)n + (size_t)q];
				if (fabs(apq) < 1e-300)
					continue;
				double app = a[(size_t)p * (size_t)n + (size_t)p], aqq = a[(size_t)q * (size_t)n + (size_t)q];
				double theta = (aqq - app) / (2 * apq);
				double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
				double c = 1 / sqrt(t * t + 1), s = t * c;
				for (int k = 0; k < n; k++) { /* columns p, q */
					double akp = a[(size_t)k * (size_t)n + (size_t)p], akq = a[(size_t)k * (size_t)n + (size_t)q];
					a[(size_t)k * (size_t)n + (size_t)p] = c * akp - s * akq;
					a[(size_t)k * (size_t)n + (size_t)q] = s * akp + c * akq;
				}
				for (int k = 0; k < n; k++) { /* rows p, q */
					double apk = a[(size_t)p * (size_t)n + (size_t)k], aqk = a[(size_t)q * (size_t)n + (size_t)k];
					a[(size_t)p * (size_t)n + (size_t)k] = c * apk - s * aqk;
					a[(size_t)q * (size_t)n + (size_t)k] = s * apk + c * aqk;
				}
				for (int k = 0; k < n; k++) {
					double vkp = v[(size_t)k * (size_t)n + (size_t)p], vkq = v[(size_t)k * (size_t)n + (size_t)q];
					v[(size_t)k * (size_t)n + (size_t)p] = c * vkp - s * vkq;
					v[(size_t)k * (size_t)n + (size_t)q] = s * vkp + c * vkq;
				}
			}
	}
	/* Sort by decreasing eigenvalue; transpose the vectors into rows. */
	int *order = malloc(sizeof(int) * (size_t)n);
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && a[(size_t)order[j] * (size_t)(n + 1)] > a[(size_t)order[j - 1] * (size_t)(n + 1)]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	double *vt = malloc(sizeof(double) * (size_t)n * (size_t)n);
	for (int i = 0; i < n; i++) {
		w[i] = a[(size_t)order[i] * (size_t)(n + 1)];
		for (int k = 0; k < n; k++)
			vt[(size_t)i * (size_t)n + (size_t)k] = v[(size_t)k * (size_t)n + (size_t)order[i]];
	}
	memcpy(v, vt, sizeof(double) * (size_t)n * (size_t)n);
	free(vt);
	free(order);
}

/* The covariance (divided by n) of data in double, two-pass. mean gets d. */
static inline void lu_covariance(const float *x, int n, int d, double *mean, double *cov)
{
	for (int j = 0; j < d; j++)
		mean[j] = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			mean[j] += x[(size_t)i * (size_t)d + (size_t)j];
	for (int j = 0; j < d; j++)
		mean[j] /= n;
	memset(cov, 0, sizeof(double) * (size_t)d * (size_t)d);
	double *y = malloc(sizeof(double) * (size_t)d);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < d; j++)
			y[j] = x[(size_t)i * (size_t)d + (size_t)j] - mean[j];
		for (int a = 0; a < d; a++)
			for (int b = a; b < d; b++)
				cov[(size_t)a * (size_t)d + (size_t)b] += y[a] * y[b];
	}
	for (int a = 0; a < d; a++)
		for (int b = a; b < d; b++)
			cov[(size_t)b * (size_t)d + (size_t)a] = cov[(size_t)a * (size_t)d + (size_t)b] /= n;
	free(y);
}

#endif
