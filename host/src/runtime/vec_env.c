/*
** vec_env.c -- batched stepping of environment instances.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/rng.h"
#include "vec_env.h"

#define MAX_OBS_TENSORS 16
#define MAX_TENSOR_FLOATS (1u << 28)

/* Checks what a plugin's spaces() returned, so the host never trusts a
** malformed shape with a buffer size. */
static int check_spaces(const dd_spaces *s, const char *name, char *err, size_t n)
{
	if (!s) {
		snprintf(err, n, "%s: spaces() returned nothing", name);
		return -1;
	}
	if (s->n_obs < 1 || s->n_obs > MAX_OBS_TENSORS || !s->obs) {
		snprintf(err, n, "%s: spaces() declares %d observation tensors (1..%d allowed)",
		         name, s->n_obs, MAX_OBS_TENSORS);
		return -1;
	}
	for (int k = 0; k < s->n_obs; k++) {
		const dd_tensor_spec *t = &s->obs[k];
		size_t count = 1;
		if (!t->name || t->ndim < 1 || t->ndim > DD_MAX_DIMS) {
			snprintf(err, n, "%s: observation tensor %d has no name or %d dims (1..4 allowed)",
			         name, k, t->ndim);
			return -1;
		}
		for (int d = 0; d < t->ndim; d++) {
			if (t->dims[d] < 1 || count * (size_t)t->dims[d] > MAX_TENSOR_FLOATS) {
				snprintf(err, n, "%s: observation '%s' has a bad shape", name, t->name);
				return -1;
			}
			count *= (size_t)t->dims[d];
		}
	}
	if (s->action_kind == DD_ACTION_DISCRETE) {
		if (s->n_actions < 1) {
			snprintf(err, n, "%s: discrete action space with %d actions", name, s->n_actions);
			return -1;
		}
	} else if (s->action_kind == DD_ACTION_BOX) {
		if (s->action_dim < 1 || s->action_dim > 4096 || !s->action_low || !s->action_high) {
			snprintf(err, n, "%s: box action space needs 1..4096 dims and bounds", name);
			return -1;
		}
		for (int j = 0; j < s->action_dim; j++)
			if (!(s->action_low[j] <= s->action_high[j])) {
				snprintf(err, n, "%s: action bound %d has low > high", name, j);
				return -1;
			}
	} else {
		snprintf(err, n, "%s: unknown action kind %d", name, (int)s->action_kind);
		return -1;
	}
	if (s->n_info < 0 || s->n_info > 256 || (s->n_info > 0 && !s->info_names)) {
		snprintf(err, n, "%s: bad info stats declaration", name);
		return -1;
	}
	for (int j = 0; j < s->n_info; j++)
		if (!s->info_names[j]) {
			snprintf(err, n, "%s: info stat %d has no name", name, j);
			return -1;
		}
	return 0;
}

void dd_vec_env_free(dd_vec_env *v)
{
	if (!v)
		return;
	for (int i = 0; v->handles && i < v->n; i++)
		if (v->handles[i])
			v->plugin->env.destroy(v->handles[i]);
	for (int k = 0; k < v->spaces.n_obs; k++) {
		if (v->obs)
			free(v->obs[k]);
		if (v->next_obs)
			free(v->next_obs[k]);
	}
	free(v->obs);
	free(v->next_obs);
	free(v->obs_size);
	free(v->handles);
	free(v->hosts);
	free(v->action);
	free(v->reward);
	free(v->terminated);
	free(v->truncated);
	free(v->info);
	free(v->next_info);
	free(v->ep_return);
	free(v->ep_length);
	free(v->ep_index);
	free(v->ptrs);
	dd_paramvals_free(&v->params);
	free(v);
}

/* Normalises a plugin's spaces into the host's full-size copy. */
static void copy_spaces(dd_spaces *dst, const dd_spaces *src)
{
	memset(dst, 0, sizeof *dst);
	size_t n = src->size && src->size < sizeof *dst ? src->size : sizeof *dst;
	memcpy(dst, src, n);
	if (dst->action_kind == DD_ACTION_DISCRETE)
		dst->action_dim = 1;
}

static int same_spaces(const dd_spaces *a, const dd_spaces *b)
{
	if (a->n_obs != b->n_obs || a->action_kind != b->action_kind ||
	    a->action_dim != b->action_dim || a->n_actions != b->n_actions ||
	    a->n_info != b->n_info)
		return 0;
	for (int k = 0; k < a->n_obs; k++)
		if (dd_tensor_spec_count(&a->obs[k]) != dd_tensor_spec_count(&b->obs[k]))
			return 0;
	return 1;
}

int dd_vec_env_new(const dd_plugin_entry *plugin, dd_paramvals *params, int n,
                   dd_run *run, dd_vec_env **out, char *err, size_t err_size)
{
	*out = NULL;
	dd_vec_env *v = calloc(1, sizeof *v);
	if (!v) {
		dd_paramvals_free(params);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	v->plugin = plugin;
	v->params = *params;
	v->params.params.values = v->params.values;
	memset(params, 0, sizeof *params);
	v->n = n;
	v->seed = run ? run->seed : 0;
	v->handles = calloc((size_t)n, sizeof *v->handles);
	v->hosts = calloc((size_t)n, sizeof *v->hosts);
	if (!v->handles || !v->hosts)
		goto oom;
	for (int i = 0; i < n; i++) {
		dd_instance_host_init(&v->hosts[i], run, plugin->desc.name,
		                      dd_rng_derive(v->seed, (uint64_t)i));
		v->handles[i] = plugin->env.create(&v->params.params, &v->hosts[i].host);
		if (!v->handles[i]) {
			dd_instance_error(&v->hosts[i], "create()", err, err_size);
			dd_vec_env_free(v);
			return -1;
		}
		const dd_spaces *s = plugin->env.spaces(v->handles[i]);
		if (check_spaces(s, plugin->desc.name, err, err_size) < 0) {
			dd_vec_env_free(v);
			return -1;
		}
		if (i == 0) {
			copy_spaces(&v->spaces, s);
		} else {
			dd_spaces si;
			copy_spaces(&si, s);
			if (!same_spaces(&v->spaces, &si)) {
				snprintf(err, err_size, "%s: instances with equal parameters declare different spaces",
				         plugin->desc.name);
				dd_vec_env_free(v);
				return -1;
			}
		}
	}
	int K = v->spaces.n_obs;
	v->obs_size = calloc((size_t)K, sizeof *v->obs_size);
	v->obs = calloc((size_t)K, sizeof *v->obs);
	v->next_obs = calloc((size_t)K, sizeof *v->next_obs);
	v->ptrs = calloc((size_t)K, sizeof *v->ptrs);
	if (!v->obs_size || !v->obs || !v->next_obs || !v->ptrs)
		goto oom;
	for (int k = 0; k < K; k++) {
		v->obs_size[k] = dd_tensor_spec_count(&v->spaces.obs[k]);
		v->obs[k] = calloc((size_t)n * v->obs_size[k], sizeof(float));
		v->next_obs[k] = calloc((size_t)n * v->obs_size[k], sizeof(float));
		if (!v->obs[k] || !v->next_obs[k])
			goto oom;
	}
	size_t info_n = v->spaces.n_info > 0 ? (size_t)v->spaces.n_info : 1;
	v->action = calloc((size_t)n * (size_t)v->spaces.action_dim, sizeof(float));
	v->reward = calloc((size_t)n, sizeof(float));
	v->terminated = calloc((size_t)n, sizeof(int));
	v->truncated = calloc((size_t)n, sizeof(int));
	v->info = calloc((size_t)n * info_n, sizeof(float));
	v->next_info = calloc((size_t)n * info_n, sizeof(float));
	v->ep_return = calloc((size_t)n, sizeof(double));
	v->ep_length = calloc((size_t)n, sizeof(int64_t));
	v->ep_index = calloc((size_t)n, sizeof(uint64_t));
	if (!v->action || !v->reward || !v->terminated || !v->truncated || !v->info ||
	    !v->next_info ||
	    !v->ep_return || !v->ep_length || !v->ep_index)
		goto oom;
	*out = v;
	return 0;
oom:
	snprintf(err, err_size, "%s: out of memory creating %d instances", plugin->desc.name, n);
	dd_vec_env_free(v);
	return -1;
}

float *const *dd_vec_env_row(dd_vec_env *v, float **bufs, int i)
{
	for (int k = 0; k < v->spaces.n_obs; k++)
		v->ptrs[k] = bufs[k] + (size_t)i * v->obs_size[k];
	return v->ptrs;
}

static float *info_row(dd_vec_env *v, float *info, int i)
{
	return info + (size_t)i * (size_t)(v->spaces.n_info > 0 ? v->spaces.n_info : 1);
}

int dd_vec_env_reset_one(dd_vec_env *v, int i, uint64_t seed, char *err,
                         size_t err_size)
{
	dd_instance_host *h = &v->hosts[i];
	h->error[0] = '\0';
	if (v->plugin->env.reset(v->handles[i], seed, dd_vec_env_row(v, v->obs, i),
	                         info_row(v, v->info, i)) != DD_OK) {
		dd_instance_error(h, "reset()", err, err_size);
		return -1;
	}
	v->ep_return[i] = 0;
	v->ep_length[i] = 0;
	return 0;
}

/* The seed of instance i's episode e: independent of how many instances run. */
static uint64_t episode_seed(uint64_t seed, int i, uint64_t e)
{
	return dd_rng_derive(dd_rng_derive(seed, (uint64_t)i), e);
}

int dd_vec_env_reset_all(dd_vec_env *v, uint64_t seed, char *err, size_t err_size)
{
	v->seed = seed;
	for (int i = 0; i < v->n; i++) {
		v->ep_index[i] = 0;
		if (dd_vec_env_reset_one(v, i, episode_seed(seed, i, 0), err, err_size) < 0)
			return -1;
	}
	v->resets = 1;
	return 0;
}

int dd_vec_env_check_action(const dd_vec_env *v, const float *a, int i,
                            char *err, size_t err_size)
{
	const dd_spaces *s = &v->spaces;
	if (s->action_kind == DD_ACTION_DISCRETE) {
		float x = a[0];
		if (!(x >= 0 && x < (float)s->n_actions) || x != floorf(x)) {
			snprintf(err, err_size, "%s (instance %d): action %g is not an index in 0..%d",
			         v->plugin->desc.name, i, (double)x, s->n_actions - 1);
			return -1;
		}
		return 0;
	}
	for (int j = 0; j < s->action_dim; j++)
		if (!isfinite(a[j])) {
			snprintf(err, err_size, "%s (instance %d): action component %d is %g",
			         v->plugin->desc.name, i, j + 1, (double)a[j]);
			return -1;
		}
	return 0;
}

int dd_vec_env_step(dd_vec_env *v, char *err, size_t err_size)
{
	int adim = v->spaces.action_dim;
	for (int i = 0; i < v->n; i++) {
		const float *a = v->action + (size_t)i * (size_t)adim;
		if (dd_vec_env_check_action(v, a, i, err, err_size) < 0)
			return -1;
		dd_step_out out = {
			.obs = dd_vec_env_row(v, v->next_obs, i),
			.info = info_row(v, v->next_info, i),
		};
		v->hosts[i].error[0] = '\0';
		if (v->plugin->env.step(v->handles[i], a, &out) != DD_OK) {
			dd_instance_error(&v->hosts[i], "step()", err, err_size);
			return -1;
		}
		v->reward[i] = out.reward;
		v->terminated[i] = out.terminated != 0;
		v->truncated[i] = out.truncated != 0;
		v->ep_return[i] += out.reward;
		v->ep_length[i]++;
	}
	return 0;
}

int dd_vec_env_advance(dd_vec_env *v, dd_episode_fn on_episode, void *ud,
                       char *err, size_t err_size)
{
	/* Swapping the buffer sets moves every instance at once; the instances
	** whose episodes ended then get their reset observation on top. */
	dd_vec_env_swap(v);
	for (int i = 0; i < v->n; i++) {
		if (!v->terminated[i] && !v->truncated[i])
			continue;
		if (on_episode)
			on_episode(ud, v, i);
		v->ep_index[i]++;
		if (dd_vec_env_reset_one(v, i, episode_seed(v->seed, i, v->ep_index[i]),
		                         err, err_size) < 0)
			return -1;
	}
	return 0;
}

void dd_vec_env_swap(dd_vec_env *v)
{
	float **t = v->obs;
	v->obs = v->next_obs;
	v->next_obs = t;
	float *i = v->info;
	v->info = v->next_info;
	v->next_info = i;
}

int dd_vec_env_info_index(const dd_vec_env *v, const char *name)
{
	for (int j = 0; j < v->spaces.n_info; j++)
		if (strcmp(v->spaces.info_names[j], name) == 0)
			return j;
	return -1;
}
