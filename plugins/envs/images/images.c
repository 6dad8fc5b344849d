/*
** images.c -- the `images` environment: a labelled image data set served as
** a stream of observations, one sample per step, so feature learners and
** classifiers train through the same dd.rollout loop as agents.
**
** Source: Fashion-MNIST from the Debian package dataset-fashion-mnist (IDX
** files read by libdaydream's reader). The action is ignored (one discrete
** action), the reward is 0, and an episode is `episode_length` samples.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/idx.h>
#include <daydream/plugin.h>
#include <daydream/rng.h>

typedef struct images {
	dd_host *host;
	dd_idx pixels, labels;
	int count;                 /* samples used (after `limit`) */
	int height, width;
	int episode_length, sequential;
	int position, steps;
	dd_rng rng;
	dd_tensor_spec obs_spec;
	dd_spaces spaces;
} images;

static const dd_param_spec params[] = {
	{.name = "dir", .type = DD_PARAM_STRING, .def_str = "/usr/share/datasets/fashion-mnist",
	 .doc = "folder of the Fashion-MNIST IDX files (apt-get install dataset-fashion-mnist)"},
	{.name = "split", .type = DD_PARAM_STRING, .def_str = "train", .choices = "train|test",
	 .doc = "the 60,000 training or the 10,000 test images"},
	{.name = "limit", .type = DD_PARAM_INT, .def = 0, .min = 0, .max = 1e9,
	 .doc = "use only the first `limit` images (0: all)"},
	{.name = "order", .type = DD_PARAM_STRING, .def_str = "random", .choices = "random|sequential",
	 .doc = "random draws (seeded) or in file order from the first image at each reset"},
	{.name = "episode_length", .type = DD_PARAM_INT, .def = 100, .min = 1, .max = 1e9,
	 .doc = "samples per episode"},
	{.name = NULL},
};

static const char *const info_names[] = {"label", "index"};

static void destroy(void *env)
{
	images *m = env;
	dd_idx_free(&m->pixels);
	dd_idx_free(&m->labels);
	free(m);
}

static void *create(const dd_params *p, dd_host *host)
{
	images *m = calloc(1, sizeof *m);
	char path[4096], err[512];
	if (!m) {
		host->error(host, "out of memory");
		return NULL;
	}
	m->host = host;
	const char *dir = dd_param_str(p, "dir");
	const char *prefix = strcmp(dd_param_str(p, "split"), "train") == 0 ? "train" : "t10k";
	snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
	if (dd_idx_load(&m->pixels, path, (size_t)1 << 30, err, sizeof err) != DD_OK) {
		host->error(host, "%s: %s (parameter dir; install with: apt-get install dataset-fashion-mnist)",
		            path, err);
		destroy(m);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
	if (dd_idx_load(&m->labels, path, (size_t)1 << 26, err, sizeof err) != DD_OK) {
		host->error(host, "%s: %s", path, err);
		destroy(m);
		return NULL;
	}
	if (m->pixels.ndim != 3 || m->labels.ndim != 1 || m->pixels.dims[0] != m->labels.dims[0]) {
		host->error(host, "%s: expected N images of H x W and N labels", dir);
		destroy(m);
		return NULL;
	}
	m->count = m->pixels.dims[0];
	int limit = dd_param_int(p, "limit");
	if (limit > 0 && limit < m->count)
		m->count = limit;
	m->height = m->pixels.dims[1];
	m->width = m->pixels.dims[2];
	m->episode_length = dd_param_int(p, "episode_length");
	m->sequential = strcmp(dd_param_str(p, "order"), "sequential") == 0;
	m->obs_spec = (dd_tensor_spec){.name = "image", .ndim = 3, .dims = {1, m->height, m->width}};
	m->spaces = (dd_spaces){
		.size = sizeof(dd_spaces), .n_obs = 1, .obs = &m->obs_spec,
		.action_kind = DD_ACTION_DISCRETE, .action_dim = 1, .n_actions = 1,
		.n_info = 2, .info_names = info_names,
	};
	return m;
}

static const dd_spaces *spaces(void *env)
{
	return &((images *)env)->spaces;
}

/* Writes sample `position` into obs and info. */
static int emit(images *m, float *const *obs, float *info)
{
	size_t n = (size_t)m->height * (size_t)m->width;
	int label;
	if (dd_idx_to_float(&m->pixels, (size_t)m->position * n, n, 1.0f / 255.0f, obs[0]) != DD_OK ||
	    dd_idx_to_int(&m->labels, (size_t)m->position, 1, &label) != DD_OK)
		return m->host->error(m->host, "sample %d is outside the data", m->position);
	info[0] = (float)label;
	info[1] = (float)m->position;
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
	m->position = -1;
	if (m->sequential)
		m->position = 0;
	else
		advance(m);
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
	.version = "0.1.0",
	.summary = "Fashion-MNIST images streamed one per step, label in the info stats",
	.params = params,
	.env = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&images_plugin, NULL};
	return list;
}
