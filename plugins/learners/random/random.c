/*
** random.c -- the `random` learner: uniform random actions within the env's
** action space. The baseline every other learner must beat.
*/
#include <stdlib.h>
#include <string.h>

#include <daydream/plugin.h>
#include <daydream/rng.h>

typedef struct random_learner {
	dd_host *host;
	dd_spaces env;
	dd_rng rng;
} random_learner;

#define STATE_MAGIC 0x444e4152u /* "RAND" */

static void *create(const dd_params *p, dd_host *host, const dd_spaces *env)
{
	(void)p;
	random_learner *r = calloc(1, sizeof *r);
	if (!r) {
		host->error(host, "out of memory");
		return NULL;
	}
	r->host = host;
	r->env = *env;
	dd_rng_seed(&r->rng, host->seed, 0);
	return r;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	random_learner *r = learner;
	const dd_spaces *s = &r->env;
	(void)obs;
	for (int b = 0; b < batch; b++) {
		float *a = action + (size_t)b * (size_t)s->action_dim;
		if (s->action_kind == DD_ACTION_DISCRETE) {
			a[0] = (float)dd_rng_below(&r->rng, (uint64_t)s->n_actions);
			continue;
		}
		for (int j = 0; j < s->action_dim; j++)
			a[j] = s->action_low[j] +
			       dd_rng_uniform(&r->rng) * (s->action_high[j] - s->action_low[j]);
	}
	return DD_OK;
}

/* The state is the random stream: a restored learner continues it. */
static int save(void *learner, dd_writer *w)
{
	random_learner *r = learner;
	uint32_t magic = STATE_MAGIC;
	if (w->write(w, &magic, sizeof magic) != DD_OK ||
	    w->write(w, r->rng.s, sizeof r->rng.s) != DD_OK)
		return r->host->error(r->host, "cannot write the state");
	return DD_OK;
}

static int load(void *learner, dd_reader *rd)
{
	random_learner *r = learner;
	uint32_t magic;
	uint64_t s[4];
	if (rd->remaining != sizeof magic + sizeof s)
		return r->host->error(r->host, "state of %zu bytes, expected %zu",
		                      rd->remaining, sizeof magic + sizeof s);
	if (rd->read(rd, &magic, sizeof magic) != DD_OK || magic != STATE_MAGIC ||
	    rd->read(rd, s, sizeof s) != DD_OK)
		return r->host->error(r->host, "not a random-learner state");
	memcpy(r->rng.s, s, sizeof s);
	return DD_OK;
}

static void destroy(void *learner)
{
	free(learner);
}

static const dd_learner_vtable vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .save = save, .load = load, .destroy = destroy,
};

static const dd_plugin random_plugin = {
	DD_PLUGIN_HEADER,
	.name = "random",
	.kind = DD_KIND_LEARNER,
	.version = "1.0.0",
	.summary = "uniform random actions within the env's action space (a baseline)",
	.learner = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&random_plugin, NULL};
	return list;
}
