/*
** no_action.c -- the `no_action` learner: every action component 0. In the
** traffic env that is no acceleration and no steering, so the ego keeps its
** speed and goes straight on: PPUU's lowest baseline.
*/
#include <stdlib.h>
#include <string.h>

#include <daydream/plugin.h>

/* The learner keeps nothing but the action's width. */
typedef struct no_action {
	int dim;
} no_action;

static void *create(const dd_params *p, dd_host *host, const dd_spaces *env)
{
	(void)p;
	if (env->action_kind != DD_ACTION_BOX) {
		host->error(host, "needs a continuous (box) action; this env's action is "
		            "discrete: use the `random` learner there");
		return NULL;
	}
	for (int j = 0; j < env->action_dim; j++)
		if (env->action_low[j] > 0 || env->action_high[j] < 0) {
			host->error(host, "writes 0, but the env's action component %d lies "
			            "in [%g, %g]", j + 1, (double)env->action_low[j],
			            (double)env->action_high[j]);
			return NULL;
		}
	no_action *n = malloc(sizeof *n);
	if (!n) {
		host->error(host, "out of memory");
		return NULL;
	}
	n->dim = env->action_dim;
	return n;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	(void)obs;
	no_action *n = learner;
	memset(action, 0, (size_t)batch * (size_t)n->dim * sizeof *action);
	return DD_OK;
}

const dd_learner_vtable tb_no_action_vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .destroy = free,
};
