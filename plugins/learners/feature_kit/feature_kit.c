/*
** feature_kit.c -- helpers shared by the feature learners (see feature_kit.h):
** sample shape, neutral action, exact scalars in float checkpoints, and the
** PNG grid of learned filters that scenarios store as run artifacts.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/png.h>

#include "feature_kit.h"

int feat_shape_of(const dd_spaces *env, dd_host *host, feat_shape *s)
{
	if (!env || env->n_obs < 1)
		return host->error(host, "the env shows no observation tensor to learn features from");
	const dd_tensor_spec *t = &env->obs[0];
	s->d = (int)dd_tensor_spec_count(t);
	s->c = 1;
	s->h = 1;
	s->w = s->d;
	if (t->ndim == 2) {
		s->h = t->dims[0];
		s->w = t->dims[1];
	} else if (t->ndim >= 3) {
		s->c = t->dims[t->ndim - 3];
		s->h = t->dims[t->ndim - 2];
		s->w = t->dims[t->ndim - 1];
		s->c = s->d / (s->h * s->w); /* a leading axis folds into the planes */
	}
	return DD_OK;
}

void feat_neutral_action(const dd_spaces *env, int batch, float *action)
{
	for (int b = 0; b < batch; b++) {
		float *a = action + (size_t)b * (size_t)env->action_dim;
		for (int j = 0; j < env->action_dim; j++) {
			float v = 0;
			if (env->action_kind == DD_ACTION_BOX) {
				if (v < env->action_low[j])
					v = env->action_low[j];
				if (v > env->action_high[j])
					v = env->action_high[j];
			}
			a[j] = v;
		}
	}
}

int feat_info_index(const dd_spaces *env, const char *name)
{
	for (int j = 0; j < env->n_info; j++)
		if (strcmp(env->info_names[j], name) == 0)
			return j;
	return -1;
}

void feat_split(double x, float *hi, float *lo)
{
	*hi = (float)x;
	*lo = (float)(x - (double)*hi);
}

double feat_join(float hi, float lo)
{
	return (double)hi + (double)lo;
}

void feat_u64_put(uint64_t x, float *f)
{
	for (int i = 0; i < 4; i++)
		f[i] = (float)((x >> (16 * i)) & 0xffffu);
}

uint64_t feat_u64_get(const float *f)
{
	uint64_t x = 0;
	for (int i = 0; i < 4; i++)
		x |= (uint64_t)f[i] << (16 * i);
	return x;
}

/* Maps one tile's values to bytes; returns the pixel of a value. */
typedef struct tile_scale {
	float offset, gain;
} tile_scale;

static tile_scale scale_of(const float *f, int d, int symmetric)
{
	float lo = f[0], hi = f[0], m = 0;
	for (int i = 0; i < d; i++) {
		lo = fminf(lo, f[i]);
		hi = fmaxf(hi, f[i]);
		m = fmaxf(m, fabsf(f[i]));
	}
	if (symmetric)
		return (tile_scale){127.5f, m > 0 ? 127.5f / m : 0};
	return (tile_scale){-lo * (hi > lo ? 255.0f / (hi - lo) : 0), hi > lo ? 255.0f / (hi - lo) : 0};
}

static uint8_t to_byte(float v, tile_scale s)
{
	float p = s.offset + s.gain * v;
	return (uint8_t)(p < 0 ? 0 : p > 255 ? 255 : p + 0.5f);
}

int feat_grid_png(dd_host *host, const char *path, const float *filters, int n,
                  const feat_shape *s, int symmetric)
{
	int colour = s->c == 3, ch = colour ? 3 : 1;
	int th = colour ? s->h : s->c * s->h, tw = s->w;
	int big = th > tw ? th : tw;
	int zoom = big >= 48 ? 1 : (48 + big - 1) / big; /* tiles of about 48 px */
	int pad = zoom > 1 ? 2 : 1;
	int cols = (int)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
	int width = pad + cols * (tw * zoom + pad), height = pad + rows * (th * zoom + pad);
	uint8_t *img = malloc((size_t)width * (size_t)height * (size_t)ch);
	if (!img)
		return host->error(host, "filters_png: out of memory for a %d x %d image", width, height);
	memset(img, 255, (size_t)width * (size_t)height * (size_t)ch);
	for (int t = 0; t < n; t++) {
		const float *f = filters + (size_t)t * (size_t)s->d;
		tile_scale sc = scale_of(f, s->d, symmetric);
		int x0 = pad + (t % cols) * (tw * zoom + pad), y0 = pad + (t / cols) * (th * zoom + pad);
		for (int y = 0; y < th * zoom; y++)
			for (int x = 0; x < tw * zoom; x++)
				for (int k = 0; k < ch; k++) {
					/* colour: planes are channels; gray: planes stack vertically */
					size_t src = colour ? (size_t)k * (size_t)(s->h * s->w) +
					                      (size_t)(y / zoom) * (size_t)tw + (size_t)(x / zoom)
					                    : (size_t)(y / zoom) * (size_t)tw + (size_t)(x / zoom);
					size_t dst = ((size_t)(y0 + y) * (size_t)width + (size_t)(x0 + x)) * (size_t)ch +
					             (size_t)k;
					img[dst] = to_byte(f[src], sc);
				}
	}
	char err[1024];
	int rc = dd_png_write_file(path, img, width, height, ch, err, sizeof err);
	free(img);
	if (rc != DD_OK)
		return host->error(host, "filters_png: %s", err);
	return DD_OK;
}
