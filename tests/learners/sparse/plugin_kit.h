/*
** plugin_kit.h -- the tests of the sparse learners drive the real plugins
** (.so files of the build) through their vtables, as the host does: load a
** plugin by name, fill its parameters from the schema's defaults plus
** overrides, and give it a host whose errors are kept for the messages.
*/
#ifndef DD_TEST_PLUGIN_KIT_H
#define DD_TEST_PLUGIN_KIT_H

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/plugin.h>

typedef struct kit_host {
	dd_host host;
	char error[2048];
} kit_host;

static int kit_error(dd_host *h, const char *fmt, ...)
{
	kit_host *k = (kit_host *)h;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->error, sizeof k->error, fmt, ap);
	va_end(ap);
	return DD_ERR;
}

static void kit_log_metric(dd_host *h, const char *name, double v, int64_t step)
{
	(void)h, (void)name, (void)v, (void)step;
}

static void kit_log_message(dd_host *h, dd_log_level level, const char *msg)
{
	(void)h, (void)level, (void)msg;
}

static inline void kit_host_init(kit_host *k, uint64_t seed)
{
	memset(k, 0, sizeof *k);
	k->host = (dd_host){.size = sizeof(dd_host), .ctx = k, .seed = seed,
	                    .log_metric = kit_log_metric, .log_message = kit_log_message,
	                    .error = kit_error};
}

/* The plugin `name` from the build's plugin folder, or NULL (message on
** stderr). The library stays loaded for the life of the test. */
static inline const dd_plugin *kit_plugin(const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s.so", DD_PLUGIN_BUILD_DIR, name);
	void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "%s\n", dlerror());
		return NULL;
	}
	dd_plugin_describe_fn fn = (dd_plugin_describe_fn)dlsym(so, DD_PLUGIN_ENTRY);
	return fn ? fn()[0] : NULL;
}

/* Parameters: the schema's defaults, then "key=value" overrides (NULL-ended).
** Storage is static per slot: kit_params(p, 0, ...) and (p, 1, ...) coexist. */
#define KIT_MAX_PARAMS 48
typedef struct kit_params {
	dd_params params;
	dd_value values[KIT_MAX_PARAMS];
	char strings[KIT_MAX_PARAMS][512];
} kit_params;

static inline const dd_params *kit_params_make(kit_params *kp, const dd_plugin *p,
                                               const char *const *overrides)
{
	int n = 0;
	while (p->params && p->params[n].name)
		n++;
	for (int i = 0; i < n; i++) {
		const dd_param_spec *s = &p->params[i];
		kp->values[i].num = s->def;
		snprintf(kp->strings[i], sizeof kp->strings[i], "%s", s->def_str ? s->def_str : "");
		kp->values[i].str = kp->strings[i];
	}
	for (int o = 0; overrides && overrides[o]; o++) {
		const char *eq = strchr(overrides[o], '=');
		for (int i = 0; eq && i < n; i++)
			if (strlen(p->params[i].name) == (size_t)(eq - overrides[o]) &&
			    strncmp(p->params[i].name, overrides[o], (size_t)(eq - overrides[o])) == 0) {
				snprintf(kp->strings[i], sizeof kp->strings[i], "%s", eq + 1);
				kp->values[i].num = atof(eq + 1);
			}
	}
	kp->params = (dd_params){.count = n, .spec = p->params, .values = kp->values};
	return &kp->params;
}

/* Draws `count` samples of the images env (source and more in overrides)
** from seed: rows of x (count x sample size), and info stat `stat` of each
** into y when y is not NULL. 0, or -1 with the reason on stderr. *n gets
** the sample size. */
static inline int kit_images(const char *const *overrides, uint64_t seed, int count,
                             float *x, float *y, const char *stat, int *n)
{
	const dd_plugin *p = kit_plugin("images");
	if (!p)
		return -1;
	kit_host h;
	kit_host_init(&h, seed);
	kit_params kp;
	void *env = p->env->create(kit_params_make(&kp, p, overrides), &h.host);
	if (!env) {
		fprintf(stderr, "images: %s\n", h.error);
		return -1;
	}
	const dd_spaces *sp = p->env->spaces(env);
	int size = (int)dd_tensor_spec_count(&sp->obs[0]), k = -1, rc = 0;
	for (int j = 0; stat && j < sp->n_info; j++)
		if (strcmp(sp->info_names[j], stat) == 0)
			k = j;
	float info[16] = {0}, action = 0.0f;
	for (int i = 0; i < count && rc == 0; i++) {
		float *obs[1] = {x + (size_t)i * (size_t)size};
		if (i == 0) {
			rc = p->env->reset(env, seed, obs, info);
		} else {
			dd_step_out out = {.obs = obs, .info = info};
			rc = p->env->step(env, &action, &out);
		}
		if (y)
			y[i] = k >= 0 ? info[k] : 0.0f;
	}
	if (rc != 0)
		fprintf(stderr, "images: %s\n", h.error);
	p->env->destroy(env);
	*n = size;
	return rc == 0 ? 0 : -1;
}

static int kit_null_write(dd_writer *w, const void *d, size_t n)
{
	(void)w, (void)d, (void)n;
	return DD_OK;
}

/* Learns a dictionary with the sparse_coding plugin from `updates` batches
** of 256 rows of X (each rows of n floats, shown as p x p images) and
** exports it to `path` through the plugin's export_dictionary. 0 or -1. */
static inline int kit_train_dictionary(const float *X, int p, int atoms, const char *lambda,
                                       int updates, const char *path)
{
	const dd_plugin *pl = kit_plugin("sparse_coding");
	if (!pl)
		return -1;
	static dd_tensor_spec spec;
	static dd_spaces sp;
	spec = (dd_tensor_spec){"image", 3, {1, p, p}};
	sp = (dd_spaces){.size = sizeof(dd_spaces), .n_obs = 1, .obs = &spec,
	                 .action_kind = DD_ACTION_DISCRETE, .action_dim = 1, .n_actions = 1};
	char a[64], l[64], e[600];
	snprintf(a, sizeof a, "atoms=%d", atoms);
	snprintf(l, sizeof l, "lambda=%s", lambda);
	snprintf(e, sizeof e, "export_dictionary=%s", path);
	const char *ov[] = {a, l, e, "batch=256", NULL};
	kit_host h;
	kit_host_init(&h, 11);
	kit_params kp;
	void *lr = pl->learner->create(kit_params_make(&kp, pl, ov), &h.host, &sp);
	int rc = lr ? 0 : -1;
	for (int u = 0; u < updates && rc == 0; u++) {
		const float *obs[1] = {X + (size_t)u * 256 * (size_t)(p * p)};
		dd_transitions t = {.batch = 256, .obs = obs};
		dd_metrics m = {0};
		rc = pl->learner->observe(lr, &t) == DD_OK && pl->learner->update(lr, &m) == DD_OK ? 0 : -1;
	}
	dd_writer w = {.write = kit_null_write};
	if (rc == 0 && pl->learner->save(lr, &w) != DD_OK)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "sparse_coding: %s\n", h.error);
	if (lr)
		pl->learner->destroy(lr);
	return rc;
}

#endif
