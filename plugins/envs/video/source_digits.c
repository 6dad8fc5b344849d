/*
** source_digits.c -- moving digits (Moving-MNIST style): sprites of a real
** image set move at constant speed and bounce off the borders; where they
** overlap the brighter pixel wins (the max, as in Srivastava et al. 2015).
** Sprites sit at whole-pixel positions, so every drawn pixel is a pixel of
** the data set (scaled up by repetition when sprite_scale > 1).
** Info per sprite k: its index in the data set ("sprite<k>") and its
** top-left corner ("x<k>", "y<k>").
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/rng.h"
#include "video.h"

typedef struct mover { int index; double x, y, vx, vy; } mover;

typedef struct digits {
	int w, h, c, n, scale;
	int side_w, side_h;          /* sprite size on the frame */
	double speed;
	int t;
	const sprite_set *set;
	mover *m;
	const char **names;
} digits;

static void bounce(double *p, double *v, double hi)
{
	if (*p < 0) {
		*p = -*p;
		*v = -*v;
	}
	if (*p > hi) {
		*p = 2 * hi - *p;
		*v = -*v;
	}
	if (*p < 0 || *p > hi) /* speed larger than the free space */
		*p = *p < 0 ? 0 : hi;
}

static int begin(void *self, uint64_t seed, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	digits *s = self;
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	s->t = 0;
	for (int k = 0; k < s->n; k++) {
		mover *m = &s->m[k];
		m->index = (int)dd_rng_below(&rng, (uint64_t)s->set->n);
		m->x = dd_rng_uniform_double(&rng) * (s->w - s->side_w);
		m->y = dd_rng_uniform_double(&rng) * (s->h - s->side_h);
		double a = 2 * M_PI * dd_rng_uniform_double(&rng);
		m->vx = s->speed * cos(a);
		m->vy = s->speed * sin(a);
	}
	return DD_OK;
}

static void draw_sprite(const digits *s, const mover *m, float *frame)
{
	const sprite_set *set = s->set;
	const uint8_t *src = set->pixels + (size_t)m->index * set->h * set->w;
	int x0 = (int)lround(m->x), y0 = (int)lround(m->y);
	size_t hw = (size_t)s->w * s->h;
	for (int y = 0; y < s->side_h; y++)
		for (int x = 0; x < s->side_w; x++) {
			float v = src[(y / s->scale) * set->w + x / s->scale] * set->scale;
			float *p = frame + (size_t)(y0 + y) * s->w + (x0 + x);
			for (int ch = 0; ch < s->c; ch++)
				if (v > p[ch * hw])
					p[ch * hw] = v;
		}
}

static int next(void *self, float *frame, float *info, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	digits *s = self;
	if (s->t++ > 0)
		for (int k = 0; k < s->n; k++) {
			mover *m = &s->m[k];
			m->x += m->vx;
			m->y += m->vy;
			bounce(&m->x, &m->vx, s->w - s->side_w);
			bounce(&m->y, &m->vy, s->h - s->side_h);
		}
	memset(frame, 0, sizeof(float) * (size_t)s->c * s->w * s->h);
	for (int k = 0; k < s->n; k++) {
		draw_sprite(s, &s->m[k], frame);
		info[3 * k] = (float)s->m[k].index;
		info[3 * k + 1] = (float)lround(s->m[k].x);
		info[3 * k + 2] = (float)lround(s->m[k].y);
	}
	return DD_OK;
}

static void destroy(void *self)
{
	digits *s = self;
	if (!s)
		return;
	sprites_release(s->set);
	names_free(s->names, 3 * s->n);
	free(s->m);
	free(s);
}

int digits_open(const vconfig *cfg, vsource *out, char *err, size_t errlen)
{
	if (cfg->width < 1 || cfg->height < 1) {
		snprintf(err, errlen, "width and height must be at least 1 for source 'digits', "
		         "got %dx%d (0 means the file's own size, which only files have)",
		         cfg->width, cfg->height);
		return DD_ERR;
	}
	const sprite_set *set;
	if (sprites_acquire(cfg->sprites, &set, err, errlen) != DD_OK)
		return DD_ERR;
	int sw = set->w * cfg->sprite_scale, sh = set->h * cfg->sprite_scale;
	if (sw > cfg->width || sh > cfg->height) {
		snprintf(err, errlen, "the %dx%d sprites of %s (times sprite_scale %d) do not fit "
		         "in %dx%d frames: use larger frames or a smaller sprite_scale",
		         set->w, set->h, cfg->sprites, cfg->sprite_scale, cfg->width, cfg->height);
		sprites_release(set);
		return DD_ERR;
	}
	digits *s = calloc(1, sizeof *s);
	if (!s || !(s->m = calloc((size_t)cfg->digits, sizeof *s->m)) ||
	    !(s->names = names_new(3 * cfg->digits))) {
		if (s)
			free(s->m);
		free(s);
		sprites_release(set);
		snprintf(err, errlen, "out of memory");
		return DD_ERR;
	}
	*s = (digits){.w = cfg->width, .h = cfg->height, .c = cfg->channels, .n = cfg->digits,
	              .scale = cfg->sprite_scale, .side_w = sw, .side_h = sh,
	              .speed = cfg->speed, .set = set, .m = s->m, .names = s->names};
	for (int k = 0; k < s->n; k++)
		if (names_set(s->names, 3 * k, "sprite%d", k) ||
		    names_set(s->names, 3 * k + 1, "x%d", k) ||
		    names_set(s->names, 3 * k + 2, "y%d", k)) {
			destroy(s);
			snprintf(err, errlen, "out of memory");
			return DD_ERR;
		}
	*out = (vsource){.self = s, .width = s->w, .height = s->h, .channels = s->c,
	                 .n_info = 3 * s->n, .info_names = s->names,
	                 .begin = begin, .next = next, .destroy = destroy};
	return DD_OK;
}
