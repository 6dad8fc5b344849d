/*
** learner.h -- one learner plugin instance, with the checks and bookkeeping
** the host adds around its vtable (update counter, checkpoint buffers).
*/
#ifndef DD_LEARNER_H
#define DD_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "paramvals.h"
#include "registry.h"
#include "run.h"

typedef struct dd_learner {
	const dd_plugin_entry *plugin;
	dd_paramvals params;
	void *handle;
	dd_instance_host host;
	dd_spaces env_spaces;     /* of the env it was created for (own copy) */
	void *spaces_block;       /* the memory behind env_spaces */
	int64_t updates;          /* update() calls so far: the metrics' step */
	char label[64];           /* checkpoint owner; the plugin name by default */
} dd_learner;

/* Creates a learner for an environment's spaces; params are taken over
** (freed even on failure). Returns 0, or -1 with a one-line cause in err. */
int dd_learner_new(const dd_plugin_entry *plugin, dd_paramvals *params,
                   const dd_spaces *env_spaces, dd_run *run, dd_learner **out,
                   char *err, size_t err_size);
void dd_learner_free(dd_learner *l);

/* act(): obs[k] holds batch samples; fills batch x action_dim actions. */
int dd_learner_act(dd_learner *l, int batch, const float *const *obs,
                   float *action, char *err, size_t err_size);
int dd_learner_observe(dd_learner *l, const dd_transitions *t, char *err,
                       size_t err_size);
/* update(): fills m and logs each metric into the run at step `updates`. */
int dd_learner_update(dd_learner *l, dd_metrics *m, char *err, size_t err_size);

/* Serialises the whole state; *blob is malloc'd (caller frees). */
int dd_learner_save(dd_learner *l, void **blob, size_t *n, char *err,
                    size_t err_size);
/* Restores from a blob; the plugin leaves itself untouched on failure. */
int dd_learner_load(dd_learner *l, const void *blob, size_t n, char *err,
                    size_t err_size);

#endif
