/*
** images.c -- the `images` environment: an image data set served as a
** stream of observations, one sample per step, so that feature learners and
** classifiers train through the same dd.rollout loop as agents do.
**
** Sources: Fashion-MNIST (fashion.c) and patches of natural images
** (patches.c). The action is ignored (one discrete action), the reward is 0,
** and an episode is `episode_length` samples. Labels and positions are info
** stats, which reach a learner's observe() with each transition.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

typedef struct images {
	dd_host *host;
	images_source *src;
	int count;                 /* samples used (after `limit`) */
	int episode_length, sequential;
	int position, steps;
	dd_rng rng;
	dd_tensor_spec obs_spec;
	dd_spaces spaces;
} images;

static const dd_param_spec params[] = {
	{.name = "source", .type = DD_PARAM_STRING, .def_str = "fashion_mnist",
	 .choices = "fashion_mnist|patches",
	 .doc = "Fashion-MNIST images, or patches of natural images"},
	{.name = "dir", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "data folder; empty: /usr/share/datasets/fashion-mnist, or for patches "
	        "skimage's photos as fetched by scripts/fetch-test-data.sh"},
	{.name = "split", .type = DD_PARAM_STRING, .def_str = "train", .choices = "train|test",
	 .doc = "fashion_mnist: the 60,000 training or the 10,000 test images"},
	{.name = "limit", .type = DD_PARAM_INT, .def = 0, .min = 0, .max = 1e9,
	 .doc = "fashion_mnist: use only the first `limit` images (0: all)"},
	{.name = "patch", .type = DD_PARAM_INT, .def = 12, .min = 2, .max = 256,
	 .doc = "patches: side of the square patches in pixels"},
	{.name = "normalize", .type = DD_PARAM_STRING, .def_str = "centre",
	 .choices = "none|centre|standardize",
	 .doc = "patches: keep, remove each patch's mean, or also divide by its deviation"},
	{.name = "order", .type = DD_PARAM_STRING, .def_str = "random", .choices = "random|sequential",
	 .doc = "random draws (seeded), or in order from the first sample at each reset"},
	{.name = "episode_length", .type = DD_PARAM_INT, .def = 100, .min = 1, .max = 1e9,
	 .doc = "samples per episode"},
	{.name = NULL},
};

static void destroy(void *env)
{
	images *m = env;
	if (m->src)
		m->src->free(m->src);
	free(m);
}

static void *create(const dd_params *p, dd_host *host)
{
	images *m = calloc(1, sizeof *m);
	char err[2048];
	if (!m) {
		host->error(host, "out of memory");
		return NULL;
	}
	m->host = host;
	int patches = strcmp(dd_param_str(p, "source"), "patches") == 0;
	m->src = patches ? patches_open(p, err, sizeof err) : fashion_open(p, err, sizeof err);
	if (!m->src) {
		host->error(host, "%s", err);
		free(m);
		return NULL;
	}
	m->count = m->src->count;
	int limit = dd_param_int(p, "limit");
	if (!patches && limit > 0 && limit < m->count)
		m->count = limit;
	m->episode_length = dd_param_int(p, "episode_length");
	m->sequential = strcmp(dd_param_str(p, "order"), "sequential") == 0;
	m->obs_spec = (dd_tensor_spec){
		.name = "image", .ndim = 3, .dims = {m->src->c, m->src->h, m->src->w},
	};
	m->spaces = (dd_spaces){
		.size = sizeof(dd_spaces), .n_obs = 1, .obs = &m->obs_spec,
		.action_kind = DD_ACTION_DISCRETE, .action_dim = 1, .n_actions = 1,
		.n_info = m->src->n_info, .info_names = m->src->info_names,
	};
	return m;
}

static const dd_spaces *spaces(void *env)
{
	return &((images *)env)->spaces;
}

static int emit(images *m, float *const *obs, float *info)
{
	if (m->src->sample(m->src, m->position, &m->rng, obs[0], info) != DD_OK)
		return m->host->error(m->host, "%s", m->src->error);
	return DD_OK;
}

static void advance(images *m)
{
	if (m->sequential)
		m->position = (m->position + 1) % m->count;
	else
		m->position = (int)dd_rng_below(&m->rng, (uint64_t)m->count);
}

static int reset(void *env, uint64_t seed, float *const *obs, float *info)
{
	images *m = env;
	dd_rng_seed(&m->rng, seed, 0);
	m->steps = 0;
	m->position = m->sequential ? 0 : (int)dd_rng_below(&m->rng, (uint64_t)m->count);
	return emit(m, obs, info);
}

static int step(void *env, const float *action, dd_step_out *out)
{
	images *m = env;
	(void)action;
	m->steps++;
	advance(m);
	out->reward = 0;
	out->terminated = 0;
	out->truncated = m->steps >= m->episode_length;
	return emit(m, out->obs, out->info);
}

static const dd_env_vtable vtable = {
	.size = sizeof(dd_env_vtable),
	.create = create, .spaces = spaces, .reset = reset, .step = step, .destroy = destroy,
};

static const dd_plugin images_plugin = {
	DD_PLUGIN_HEADER,
	.name = "images",
	.kind = DD_KIND_ENV,
	.version = "0.2.0",
	.summary = "image data sets (Fashion-MNIST, natural-image patches) streamed one sample per step",
	.params = params,
	.env = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&images_plugin, NULL};
	return list;
}
