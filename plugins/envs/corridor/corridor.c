/*
** corridor.c -- a complete Daydream environment plugin in one file, and the
** SDK tutorial: a walker on a 1-D corridor of `length` cells must reach the
** goal at the right end. Each step it moves left or right (and with
** probability `slip` the other way). Reward -0.01 per step, +1 at the goal.
**
** Build it outside this repository against the installed SDK:
**   cc -shared -fPIC corridor.c -o corridor.so $(pkg-config --cflags daydream)
** and drop corridor.so into ./plugins or a folder on DAYDREAM_PLUGIN_PATH.
*/
#include <stdlib.h>

#include <daydream/plugin.h>

typedef struct corridor {
	dd_host *host;
	int length, max_steps;
	double slip;
	int position, steps;
	uint64_t rng;          /* a tiny xorshift: the ABI alone, no library */
	dd_spaces spaces;
} corridor;

static const dd_param_spec params[] = {
	{.name = "length", .type = DD_PARAM_INT, .def = 10, .min = 2, .max = 100000,
	 .doc = "cells from the start (0) to the goal"},
	{.name = "max_steps", .type = DD_PARAM_INT, .def = 200, .min = 1, .max = 1e9,
	 .doc = "steps before the episode is truncated"},
	{.name = "slip", .type = DD_PARAM_FLOAT, .def = 0.1, .min = 0, .max = 1,
	 .doc = "probability that a move goes the other way"},
	{.name = NULL},
};

/* Observation: position / length, and the share of the step budget used. */
static const dd_tensor_spec obs_spec[] = {{.name = "state", .ndim = 1, .dims = {2}}};
static const char *const info_names[] = {"success", "position"};

static double uniform(corridor *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return (double)(c->rng >> 11) * 0x1.0p-53;
}

static void *create(const dd_params *p, dd_host *host)
{
	corridor *c = calloc(1, sizeof *c);
	if (!c) {
		host->error(host, "out of memory");
		return NULL;
	}
	c->host = host;
	c->length = dd_param_int(p, "length");
	c->max_steps = dd_param_int(p, "max_steps");
	c->slip = dd_param_num(p, "slip");
	c->spaces = (dd_spaces){
		.size = sizeof(dd_spaces),
		.n_obs = 1, .obs = obs_spec,
		.action_kind = DD_ACTION_DISCRETE, .action_dim = 1, .n_actions = 2,
		.n_info = 2, .info_names = info_names,
		.render_width = 8 * (c->length + 1), .render_height = 8,
	};
	return c;
}

static const dd_spaces *spaces(void *env)
{
	return &((corridor *)env)->spaces;
}

static void observe(corridor *c, float *const *obs, float *info)
{
	obs[0][0] = (float)c->position / (float)c->length;
	obs[0][1] = (float)c->steps / (float)c->max_steps;
	info[0] = c->position == c->length;
	info[1] = (float)c->position;
}

static int reset(void *env, uint64_t seed, float *const *obs, float *info)
{
	corridor *c = env;
	c->rng = seed * 0x9e3779b97f4a7c15ULL + 1; /* never 0: xorshift's fixed point */
	c->position = 0;
	c->steps = 0;
	observe(c, obs, info);
	return DD_OK;
}

/* action[0] is 0 (left) or 1 (right); the host has checked the range. */
static int step(void *env, const float *action, dd_step_out *out)
{
	corridor *c = env;
	int move = action[0] > 0.5f ? 1 : -1;
	if (uniform(c) < c->slip)
		move = -move;
	c->position += move;
	if (c->position < 0)
		c->position = 0;
	c->steps++;
	out->terminated = c->position == c->length;
	out->truncated = !out->terminated && c->steps >= c->max_steps;
	out->reward = out->terminated ? 1.0f : -0.01f;
	observe(c, out->obs, out->info);
	return DD_OK;
}

/* A gray strip with the walker in white and the goal in green. */
static int render(void *env, uint8_t *rgb)
{
	corridor *c = env;
	int w = c->spaces.render_width;
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *px = rgb + 3 * (y * w + x);
			int cell = x / 8;
			px[0] = px[1] = px[2] = 64;
			if (cell == c->length)
				px[1] = 200;
			if (cell == c->position)
				px[0] = px[1] = px[2] = 255;
		}
	return DD_OK;
}

/* Differentiable cost of observations: the squared distance left to the
** goal, (1 - x)^2 with x = position / length, and its gradient. */
static int cost(void *env, int batch, const float *const *obs, float *cost,
                float *const *grad)
{
	(void)env;
	for (int b = 0; b < batch; b++) {
		float x = obs[0][2 * b];
		cost[b] = (1 - x) * (1 - x);
		if (grad) {
			grad[0][2 * b] = -2 * (1 - x);
			grad[0][2 * b + 1] = 0;
		}
	}
	return DD_OK;
}

static void destroy(void *env)
{
	free(env);
}

static const dd_env_vtable vtable = {
	.size = sizeof(dd_env_vtable),
	.create = create, .spaces = spaces, .reset = reset, .step = step,
	.render = render, .cost = cost, .destroy = destroy,
};

static const dd_plugin corridor_plugin = {
	DD_PLUGIN_HEADER,
	.name = "corridor",
	.kind = DD_KIND_ENV,
	.version = "1.0.0",
	.summary = "1-D walk to a goal: the SDK's example environment",
	.params = params,
	.env = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&corridor_plugin, NULL};
	return list;
}
