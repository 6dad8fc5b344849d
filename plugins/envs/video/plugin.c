/*
** plugin.c -- the `video` environment: frames of synthetic or real video,
** one clip of clip_length frames per episode, for video prediction and
** feature learning from temporal structure. The env is passive: it declares
** a 1-D box action in [-1, 1] (the ABI wants one) and ignores it.
** Observation "frame": C x H x W floats in [0, 1]. Info: "frame" (the
** position in the clip), then the source's own stats (see each source_*.c).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video.h"

#define DEFAULT_SPRITES "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

static const dd_param_spec params[] = {
	{.name = "source", .type = DD_PARAM_STRING, .def_str = "balls",
	 .choices = "balls|digits|objects|file",
	 .doc = "what the frames show: bouncing balls, moving digits, rotating objects, a video file"},
	{.name = "width", .type = DD_PARAM_INT, .def = 64, .min = 0, .max = VIDEO_MAX_SIDE,
	 .doc = "frame width in pixels; 0 = the file's own (file source only)"},
	{.name = "height", .type = DD_PARAM_INT, .def = 64, .min = 0, .max = VIDEO_MAX_SIDE,
	 .doc = "frame height in pixels; 0 = the file's own (file source only)"},
	{.name = "color", .type = DD_PARAM_STRING, .def_str = "gray", .choices = "gray|rgb",
	 .doc = "1 channel (gray) or 3 (RGB)"},
	{.name = "clip_length", .type = DD_PARAM_INT, .def = 20, .min = 2, .max = 1e6,
	 .doc = "frames per episode (T): reset gives frame 0, T-1 steps the rest"},
	{.name = "balls", .type = DD_PARAM_INT, .def = 3, .min = 1, .max = 64,
	 .doc = "balls: how many"},
	{.name = "radius", .type = DD_PARAM_FLOAT, .def = 6, .min = 0.5, .max = 2048,
	 .doc = "balls: radius in pixels"},
	{.name = "speed", .type = DD_PARAM_FLOAT, .def = 2, .min = 0, .max = 1000,
	 .doc = "balls and digits: pixels moved per frame"},
	{.name = "digits", .type = DD_PARAM_INT, .def = 2, .min = 1, .max = 16,
	 .doc = "digits: sprites per clip"},
	{.name = "sprites", .type = DD_PARAM_STRING, .def_str = DEFAULT_SPRITES,
	 .doc = "digits: an IDX file of 8-bit images (Fashion-MNIST, MNIST) or sklearn's digits.csv[.gz]"},
	{.name = "sprite_scale", .type = DD_PARAM_INT, .def = 1, .min = 1, .max = 16,
	 .doc = "digits: each sprite pixel drawn as an NxN block"},
	{.name = "shape", .type = DD_PARAM_STRING, .def_str = "any",
	 .choices = "any|cube|pyramid|sphere",
	 .doc = "objects: the shape, or any (drawn per clip)"},
	{.name = "spin", .type = DD_PARAM_FLOAT, .def = 0.1, .min = -3.14159, .max = 3.14159,
	 .doc = "objects: rotation per frame in radians"},
	{.name = "path", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "file: a video file (any format FFmpeg reads), a .y4m file or a folder of PNG frames"},
	{.name = "max_frames", .type = DD_PARAM_INT, .def = 0, .min = 0, .max = 1e9,
	 .doc = "file: use only the first N frames (0 = all); bounds the decode at create"},
	{.name = "cache_mb", .type = DD_PARAM_FLOAT, .def = 256, .min = 0.001, .max = 1e6,
	 .doc = "file: MiB of decoded frames kept, shared by instances reading the same file"},
	{.name = NULL},
};

typedef struct video_env {
	dd_host *host;
	vsource src;
	int clip_length, t;
	size_t frame_floats;
	float *frame;              /* the current frame, for render() */
	float *info;               /* the source's stats */
	const char **info_names;   /* "frame" then the source's */
	dd_tensor_spec obs;
	float low, high;
	dd_spaces spaces;
} video_env;

static int shape_of(const char *name)
{
	static const char *names[] = {"cube", "pyramid", "sphere"};
	for (int i = 0; i < OBJ_COUNT; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static void config(const dd_params *p, vconfig *c)
{
	*c = (vconfig){
		.width = dd_param_int(p, "width"), .height = dd_param_int(p, "height"),
		.channels = strcmp(dd_param_str(p, "color"), "rgb") == 0 ? 3 : 1,
		.clip_length = dd_param_int(p, "clip_length"),
		.balls = dd_param_int(p, "balls"), .radius = dd_param_num(p, "radius"),
		.speed = dd_param_num(p, "speed"),
		.digits = dd_param_int(p, "digits"), .sprites = dd_param_str(p, "sprites"),
		.sprite_scale = dd_param_int(p, "sprite_scale"),
		.shape = shape_of(dd_param_str(p, "shape")), .spin = dd_param_num(p, "spin"),
		.path = dd_param_str(p, "path"), .max_frames = dd_param_int(p, "max_frames"),
		.cache_mb = dd_param_num(p, "cache_mb"),
	};
}

static int open_source(const char *source, const vconfig *c, vsource *src, char *err,
                       size_t errlen)
{
	if (strcmp(source, "balls") == 0)
		return balls_open(c, src, err, errlen);
	if (strcmp(source, "digits") == 0)
		return digits_open(c, src, err, errlen);
	if (strcmp(source, "objects") == 0)
		return objects_open(c, src, err, errlen);
	return files_open(c, src, err, errlen);
}

static void destroy(void *env)
{
	video_env *v = env;
	if (!v)
		return;
	if (v->src.destroy)
		v->src.destroy(v->src.self);
	free(v->frame);
	free(v->info);
	free(v->info_names);
	free(v);
}

static void *create(const dd_params *p, dd_host *host)
{
	vconfig c;
	config(p, &c);
	char err[1024];
	video_env *v = calloc(1, sizeof *v);
	if (!v) {
		host->error(host, "out of memory");
		return NULL;
	}
	v->host = host;
	if (open_source(dd_param_str(p, "source"), &c, &v->src, err, sizeof err) != DD_OK) {
		host->error(host, "%s", err);
		destroy(v);
		return NULL;
	}
	v->clip_length = c.clip_length;
	v->obs = (dd_tensor_spec){.name = "frame", .ndim = 3,
	                          .dims = {v->src.channels, v->src.height, v->src.width}};
	v->frame_floats = dd_tensor_spec_count(&v->obs);
	v->frame = calloc(v->frame_floats, sizeof(float)); /* render() before reset() shows black */
	v->info = calloc((size_t)v->src.n_info + 1, sizeof(float));
	v->info_names = calloc((size_t)v->src.n_info + 1, sizeof(const char *));
	if (!v->frame || !v->info || !v->info_names) {
		host->error(host, "out of memory for %dx%d frames", v->src.width, v->src.height);
		destroy(v);
		return NULL;
	}
	v->info_names[0] = "frame";
	for (int i = 0; i < v->src.n_info; i++)
		v->info_names[i + 1] = v->src.info_names[i];
	v->low = -1;
	v->high = 1;
	v->spaces = (dd_spaces){
		.size = sizeof(dd_spaces),
		.n_obs = 1, .obs = &v->obs,
		.action_kind = DD_ACTION_BOX, .action_dim = 1,
		.action_low = &v->low, .action_high = &v->high,
		.n_info = v->src.n_info + 1, .info_names = v->info_names,
		.render_width = v->src.width, .render_height = v->src.height,
	};
	return v;
}

static const dd_spaces *spaces(void *env)
{
	return &((video_env *)env)->spaces;
}

/* The next frame of the clip into obs and info. */
static int emit(video_env *v, float *const *obs, float *info)
{
	char err[1024];
	if (v->src.next(v->src.self, v->frame, v->info, err, sizeof err) != DD_OK)
		return v->host->error(v->host, "%s", err);
	memcpy(obs[0], v->frame, sizeof(float) * v->frame_floats);
	info[0] = (float)v->t;
	memcpy(info + 1, v->info, sizeof(float) * (size_t)v->src.n_info);
	return DD_OK;
}

static int reset(void *env, uint64_t seed, float *const *obs, float *info)
{
	video_env *v = env;
	char err[1024];
	if (v->src.begin(v->src.self, seed, err, sizeof err) != DD_OK)
		return v->host->error(v->host, "%s", err);
	v->t = 0;
	return emit(v, obs, info);
}

/* The action is ignored: the frames do not depend on it. */
static int step(void *env, const float *action, dd_step_out *out)
{
	(void)action;
	video_env *v = env;
	if (v->t + 1 >= v->clip_length)
		return v->host->error(v->host, "step() after the last frame of the clip "
		                      "(clip_length = %d): call reset()", v->clip_length);
	v->t++;
	out->reward = 0;
	out->terminated = 0;
	out->truncated = v->t == v->clip_length - 1; /* the clip ends: a time limit */
	return emit(v, out->obs, out->info);
}

static int render(void *env, uint8_t *rgb)
{
	video_env *v = env;
	int c = v->src.channels;
	size_t hw = (size_t)v->src.width * v->src.height;
	for (size_t i = 0; i < hw; i++)
		for (int k = 0; k < 3; k++) {
			float x = v->frame[(c == 3 ? (size_t)k * hw : 0) + i];
			rgb[3 * i + k] = (uint8_t)(x <= 0 ? 0 : x >= 1 ? 255 : x * 255.0f + 0.5f);
		}
	return DD_OK;
}

static const dd_env_vtable vtable = {
	.size = sizeof(dd_env_vtable),
	.create = create, .spaces = spaces, .reset = reset, .step = step,
	.render = render, .cost = NULL, .destroy = destroy,
};

static const dd_plugin video_plugin = {
	DD_PLUGIN_HEADER,
	.name = "video",
	.kind = DD_KIND_ENV,
	.version = "1.0.0",
	.summary = "video clips frame by frame: bouncing balls, moving digits, rotating objects, files",
	.params = params,
	.env = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&video_plugin, NULL};
	return list;
}
