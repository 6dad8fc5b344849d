/*
** blocks_testkit.h -- drives the real blocks plugin (loaded by the registry
** from the build's plugin folder) through its vtable, as the host does:
** parameters as "key=value" strings, observation buffers, one step at a time.
*/
#ifndef BLOCKS_TESTKIT_H
#define BLOCKS_TESTKIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paramvals.h"
#include "registry.h"

typedef struct tk_env {
	const dd_env_vtable *vt;
	void *h;
	const dd_spaces *sp;
	float *obs[3];
	float info[64];   /* 6 stats + x, y of up to 16 slots */
	dd_step_out out;
	dd_paramvals pv;
	dd_host host;
} tk_env;

static char tk_err[1024];
static dd_registry *tk_registry;

static int tk_host_error(dd_host *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tk_err, sizeof tk_err, fmt, ap);
	va_end(ap);
	return DD_ERR;
}

static const dd_plugin_entry *tk_plugin(void)
{
	if (!tk_registry) {
		tk_registry = dd_registry_new();
		dd_registry_scan_dir(tk_registry, DD_PLUGIN_BUILD_DIR);
	}
	return dd_registry_find(tk_registry, "blocks");
}

/* Sets "key=value" pairs (NULL-terminated list). -1 with tk_err on a bad one. */
static int tk_set(dd_paramvals *pv, const char *const *sets)
{
	for (int i = 0; sets && sets[i]; i++) {
		char key[64];
		const char *eq = strchr(sets[i], '=');
		snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
		if (dd_paramvals_set_str(pv, key, eq + 1, tk_err, sizeof tk_err) < 0)
			return -1;
	}
	return 0;
}

/* Creates a blocks env with the given settings; NULL with tk_err on error. */
static tk_env *tk_new(const char *const *sets)
{
	const dd_plugin_entry *p = tk_plugin();
	if (!p) {
		snprintf(tk_err, sizeof tk_err, "blocks plugin not found in %s", DD_PLUGIN_BUILD_DIR);
		return NULL;
	}
	tk_env *e = calloc(1, sizeof *e);
	dd_paramvals_init(&e->pv, "blocks", p->desc.params, p->n_params);
	e->host = (dd_host){.size = sizeof(dd_host), .seed = 1, .error = tk_host_error};
	if (tk_set(&e->pv, sets) < 0 || !(e->h = p->env.create(&e->pv.params, &e->host))) {
		dd_paramvals_free(&e->pv);
		free(e);
		return NULL;
	}
	e->vt = &p->env;
	e->sp = e->vt->spaces(e->h);
	for (int k = 0; k < e->sp->n_obs; k++)
		e->obs[k] = calloc(dd_tensor_spec_count(&e->sp->obs[k]), sizeof(float));
	e->out = (dd_step_out){.obs = e->obs, .info = e->info};
	return e;
}

static void tk_free(tk_env *e)
{
	if (!e)
		return;
	e->vt->destroy(e->h);
	for (int k = 0; k < 3; k++)
		free(e->obs[k]);
	dd_paramvals_free(&e->pv);
	free(e);
}

static int tk_reset(tk_env *e, uint64_t seed)
{
	return e->vt->reset(e->h, seed, e->obs, e->info);
}

static int tk_step(tk_env *e, float a0, float a1)
{
	float a[2] = {a0, a1};
	return e->vt->step(e->h, a, &e->out);
}

/* Index of an info stat by name, -1 when absent. */
static int tk_info(const tk_env *e, const char *name)
{
	for (int j = 0; j < e->sp->n_info; j++)
		if (strcmp(e->sp->info_names[j], name) == 0)
			return j;
	return -1;
}

/* The observation tensor of that name, NULL when absent. */
static float *tk_obs(const tk_env *e, const char *name)
{
	for (int k = 0; k < e->sp->n_obs; k++)
		if (strcmp(e->sp->obs[k].name, name) == 0)
			return e->obs[k];
	return NULL;
}

#endif
