/*
** vec_env.h -- N instances of one environment plugin stepped together into
** contiguous batch buffers (structure of arrays), with Gymnasium autoreset.
**
** Observation tensor k of all instances lives in obs[k], n x size[k] floats,
** so a learner's act() and observe() take the whole batch in one call.
** Instance i's episodes are seeded from (seed, i, episode index): a rollout
** does not depend on how instances are spread over threads or processes.
*/
#ifndef DD_VEC_ENV_H
#define DD_VEC_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "paramvals.h"
#include "registry.h"
#include "run.h"

typedef struct dd_vec_env {
	const dd_plugin_entry *plugin;
	dd_paramvals params;
	int n;                       /* instances */
	void **handles;
	dd_instance_host *hosts;     /* one per instance */
	dd_spaces spaces;            /* host copy of instance 0's spaces */
	size_t *obs_size;            /* floats per sample of each tensor */
	float **obs;                 /* current observation, per tensor */
	float **next_obs;            /* after step(), per tensor */
	float *action;               /* n x action_dim: the last actions */
	float *reward;
	int *terminated, *truncated;
	float *info;                 /* n x n_info: shown with obs */
	float *next_info;            /* n x n_info: shown with next_obs */
	double *ep_return;
	int64_t *ep_length;
	uint64_t *ep_index;          /* episodes begun by each instance */
	float **ptrs;                /* scratch: one instance's tensor pointers */
	uint64_t seed;
	int resets;                  /* 1 once reset_all has run */
} dd_vec_env;

/* Creates n instances of plugin with the validated params (taken over:
** freed by dd_vec_env_free, even on failure). Returns 0, or -1 with a
** one-line cause in err. Caller owns *out. */
int dd_vec_env_new(const dd_plugin_entry *plugin, dd_paramvals *params, int n,
                   dd_run *run, dd_vec_env **out, char *err, size_t err_size);
void dd_vec_env_free(dd_vec_env *v);

/* Resets every instance; instance i's first episode is seeded from
** (seed, i, 0). Fills obs. */
int dd_vec_env_reset_all(dd_vec_env *v, uint64_t seed, char *err, size_t err_size);
/* Resets one instance with an explicit seed (the Lua env:reset{seed=}). */
int dd_vec_env_reset_one(dd_vec_env *v, int i, uint64_t seed, char *err,
                         size_t err_size);

/* Steps every instance with v->action (n x action_dim), filling next_obs,
** reward, terminated, truncated, next_info and the episode counters. Actions are
** checked first: a discrete index out of range or a non-finite value is an
** error naming the instance and the bounds. */
int dd_vec_env_step(dd_vec_env *v, char *err, size_t err_size);

/* After step(): moves next_obs into obs (and next_info into info),
** resetting (autoreset) each instance whose episode ended. For those, calls
** on_episode first (may be NULL) with the finished episode's stats, its last
** info in info. */
typedef void (*dd_episode_fn)(void *ud, dd_vec_env *v, int i);
int dd_vec_env_advance(dd_vec_env *v, dd_episode_fn on_episode, void *ud,
                       char *err, size_t err_size);

/* Checks one action of action_dim floats; writes the cause into err. */
int dd_vec_env_check_action(const dd_vec_env *v, const float *a, int i,
                            char *err, size_t err_size);

/* Pointers to instance i's sample of each tensor of a batch buffer set. */
float *const *dd_vec_env_row(dd_vec_env *v, float **bufs, int i);

/* Moves next_obs and next_info into obs and info (no autoreset). */
void dd_vec_env_swap(dd_vec_env *v);

/* Index of info stat name in spaces, or -1. */
int dd_vec_env_info_index(const dd_vec_env *v, const char *name);

#endif
