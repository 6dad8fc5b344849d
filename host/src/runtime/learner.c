/*
** learner.c -- the host side of a learner plugin instance.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/checkpoint.h"
#include "daydream/rng.h"
#include "learner.h"

/* Deep-copies spaces into one allocation, so a learner outlives its env.
** Returns the block to free, or NULL. */
static void *clone_spaces(const dd_spaces *src, dd_spaces *dst)
{
	size_t n = sizeof(dd_tensor_spec) * (size_t)src->n_obs +
	           sizeof(float) * 2 * (size_t)src->action_dim +
	           sizeof(char *) * (size_t)src->n_info;
	for (int k = 0; k < src->n_obs; k++)
		n += strlen(src->obs[k].name) + 1;
	for (int j = 0; j < src->n_info; j++)
		n += strlen(src->info_names[j]) + 1;
	char *block = malloc(n), *p = block;
	if (!block)
		return NULL;
	*dst = *src;
	dd_tensor_spec *obs = (dd_tensor_spec *)p;
	p += sizeof(dd_tensor_spec) * (size_t)src->n_obs;
	float *bounds = (float *)p;
	p += sizeof(float) * 2 * (size_t)src->action_dim;
	const char **info = (const char **)p;
	p += sizeof(char *) * (size_t)src->n_info;
	for (int k = 0; k < src->n_obs; k++) {
		obs[k] = src->obs[k];
		obs[k].name = strcpy(p, src->obs[k].name);
		p += strlen(p) + 1;
	}
	for (int j = 0; j < src->n_info; j++) {
		info[j] = strcpy(p, src->info_names[j]);
		p += strlen(p) + 1;
	}
	dst->obs = obs;
	dst->info_names = info;
	dst->action_low = dst->action_high = NULL;
	if (src->action_kind == DD_ACTION_BOX) {
		memcpy(bounds, src->action_low, sizeof(float) * (size_t)src->action_dim);
		memcpy(bounds + src->action_dim, src->action_high, sizeof(float) * (size_t)src->action_dim);
		dst->action_low = bounds;
		dst->action_high = bounds + src->action_dim;
	}
	return block;
}

int dd_learner_new(const dd_plugin_entry *plugin, dd_paramvals *params,
                   const dd_spaces *env_spaces, dd_run *run, dd_learner **out,
                   char *err, size_t err_size)
{
	*out = NULL;
	dd_learner *l = calloc(1, sizeof *l);
	if (!l) {
		dd_paramvals_free(params);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	l->plugin = plugin;
	l->params = *params;
	memset(params, 0, sizeof *params);
	if (!(l->spaces_block = clone_spaces(env_spaces, &l->env_spaces))) {
		dd_learner_free(l);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	snprintf(l->label, sizeof l->label, "%s", plugin->desc.name);
	/* Learners draw from a stream apart from every env instance's. */
	uint64_t seed = dd_rng_derive(run ? run->seed : 0, 0x1ea4e4ULL);
	dd_instance_host_init(&l->host, run, plugin->desc.name, seed);
	l->handle = plugin->learner.create(&l->params.params, &l->host.host, &l->env_spaces);
	if (!l->handle) {
		dd_instance_error(&l->host, "create()", err, err_size);
		dd_learner_free(l);
		return -1;
	}
	*out = l;
	return 0;
}

void dd_learner_free(dd_learner *l)
{
	if (!l)
		return;
	if (l->handle)
		l->plugin->learner.destroy(l->handle);
	dd_paramvals_free(&l->params);
	free(l->spaces_block);
	free(l);
}

int dd_learner_act(dd_learner *l, int batch, const float *const *obs,
                   float *action, char *err, size_t err_size)
{
	l->host.error[0] = '\0';
	if (l->plugin->learner.act(l->handle, batch, obs, action) != DD_OK) {
		dd_instance_error(&l->host, "act()", err, err_size);
		return -1;
	}
	return 0;
}

int dd_learner_observe(dd_learner *l, const dd_transitions *t, char *err,
                       size_t err_size)
{
	if (!l->plugin->learner.observe)
		return 0; /* a learner that needs no data, e.g. random */
	l->host.error[0] = '\0';
	if (l->plugin->learner.observe(l->handle, t) != DD_OK) {
		dd_instance_error(&l->host, "observe()", err, err_size);
		return -1;
	}
	return 0;
}

int dd_learner_update(dd_learner *l, dd_metrics *m, char *err, size_t err_size)
{
	memset(m, 0, sizeof *m);
	if (!l->plugin->learner.update)
		return 0;
	l->host.error[0] = '\0';
	if (l->plugin->learner.update(l->handle, m) != DD_OK) {
		dd_instance_error(&l->host, "update()", err, err_size);
		return -1;
	}
	if (m->count < 0 || m->count > DD_MAX_METRICS)
		m->count = 0;
	dd_run *run = l->host.run;
	for (int i = 0; i < m->count; i++)
		if (run && run->store && m->name[i])
			dd_store_metric(run->store, run->id, m->name[i], l->updates, m->value[i]);
	l->updates++;
	return 0;
}

int dd_learner_save(dd_learner *l, void **blob, size_t *n, char *err,
                    size_t err_size)
{
	*blob = NULL;
	*n = 0;
	if (!l->plugin->learner.save) {
		snprintf(err, err_size, "%s: this learner cannot save its state (no save())", l->label);
		return -1;
	}
	dd_membuf b = {0};
	dd_writer w;
	dd_membuf_writer(&w, &b);
	l->host.error[0] = '\0';
	if (l->plugin->learner.save(l->handle, &w) != DD_OK) {
		dd_membuf_free(&b);
		dd_instance_error(&l->host, "save()", err, err_size);
		return -1;
	}
	*blob = b.buf ? (void *)b.buf : malloc(1); /* the buffer is handed over */
	*n = b.len;
	return *blob ? 0 : -1;
}

int dd_learner_load(dd_learner *l, const void *blob, size_t n, char *err,
                    size_t err_size)
{
	if (!l->plugin->learner.load) {
		snprintf(err, err_size, "%s: this learner cannot load a state (no load())", l->label);
		return -1;
	}
	dd_membuf src;
	dd_reader r;
	dd_membuf_reader(&r, &src, blob, n);
	l->host.error[0] = '\0';
	if (l->plugin->learner.load(l->handle, &r) != DD_OK) {
		dd_instance_error(&l->host, "load()", err, err_size);
		return -1;
	}
	return 0;
}
