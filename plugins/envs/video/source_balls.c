/*
** source_balls.c -- bouncing balls, the classic video-prediction benchmark:
** equal balls in a box with elastic collisions against the walls and each
** other, drawn as anti-aliased disks (white, or one colour each in RGB).
** Info: the centre of every ball ("x0", "y0", ...), in pixels.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/rng.h"
#include "video.h"

typedef struct ball { double x, y, vx, vy; } ball;

typedef struct balls {
	int w, h, c, n;
	double r, speed;
	int substeps;          /* per frame, so that no ball moves more than r/4 */
	int t;
	ball *b;
	const char **names;
} balls;

/* Distinct bright colours for RGB frames (cycled past eight balls). */
static const float palette[8][3] = {
	{1, 0.2f, 0.2f}, {0.2f, 1, 0.2f}, {0.3f, 0.4f, 1}, {1, 1, 0.2f},
	{1, 0.2f, 1}, {0.2f, 1, 1}, {1, 0.6f, 0.2f}, {1, 1, 1},
};

/* Random non-overlapping centres; DD_ERR when 1000 tries per ball fail. */
static int place(balls *s, dd_rng *rng)
{
	for (int i = 0; i < s->n; i++) {
		int tries = 0;
		for (;;) {
			double x = s->r + dd_rng_uniform_double(rng) * (s->w - 2 * s->r);
			double y = s->r + dd_rng_uniform_double(rng) * (s->h - 2 * s->r);
			int ok = 1;
			for (int j = 0; j < i && ok; j++)
				ok = hypot(x - s->b[j].x, y - s->b[j].y) >= 2 * s->r;
			if (ok) {
				double a = 2 * M_PI * dd_rng_uniform_double(rng);
				s->b[i] = (ball){x, y, s->speed * cos(a), s->speed * sin(a)};
				break;
			}
			if (++tries == 1000)
				return DD_ERR;
		}
	}
	return DD_OK;
}

/* Mirror a coordinate back inside [lo, hi] and point its velocity inward. */
static void wall(double *p, double *v, double lo, double hi)
{
	if (*p < lo) {
		*p = 2 * lo - *p;
		*v = fabs(*v);
	}
	if (*p > hi) {
		*p = 2 * hi - *p;
		*v = -fabs(*v);
	}
	if (*p < lo || *p > hi) /* only when the box is barely wider than a ball */
		*p = *p < lo ? lo : hi;
}

/* Equal masses: an elastic collision swaps the velocity components along
** the line of centres, which keeps momentum and kinetic energy. */
static void collide(balls *s, ball *a, ball *b)
{
	double dx = b->x - a->x, dy = b->y - a->y, d = hypot(dx, dy);
	if (d >= 2 * s->r || d == 0)
		return;
	double nx = dx / d, ny = dy / d;
	double approach = (a->vx - b->vx) * nx + (a->vy - b->vy) * ny;
	if (approach > 0) {
		a->vx -= approach * nx;
		a->vy -= approach * ny;
		b->vx += approach * nx;
		b->vy += approach * ny;
	}
	/* Push them apart so they do not stick; walls clamp afterwards. */
	double push = (2 * s->r - d) / 2;
	a->x -= push * nx;
	a->y -= push * ny;
	b->x += push * nx;
	b->y += push * ny;
}

static void advance(balls *s)
{
	double dt = 1.0 / s->substeps;
	for (int k = 0; k < s->substeps; k++) {
		for (int i = 0; i < s->n; i++) {
			s->b[i].x += s->b[i].vx * dt;
			s->b[i].y += s->b[i].vy * dt;
		}
		for (int i = 0; i < s->n; i++)
			for (int j = i + 1; j < s->n; j++)
				collide(s, &s->b[i], &s->b[j]);
		for (int i = 0; i < s->n; i++) {
			wall(&s->b[i].x, &s->b[i].vx, s->r, s->w - s->r);
			wall(&s->b[i].y, &s->b[i].vy, s->r, s->h - s->r);
		}
	}
}

/* Coverage of a pixel centre at distance d from a ball's centre: a one-pixel
** linear ramp across the rim, so edges are anti-aliased. */
static void draw(const balls *s, float *frame)
{
	size_t hw = (size_t)s->w * s->h;
	memset(frame, 0, sizeof(float) * hw * s->c);
	for (int i = 0; i < s->n; i++) {
		const ball *b = &s->b[i];
		int x0 = (int)floor(b->x - s->r - 1), x1 = (int)ceil(b->x + s->r + 1);
		int y0 = (int)floor(b->y - s->r - 1), y1 = (int)ceil(b->y + s->r + 1);
		x0 = x0 < 0 ? 0 : x0;
		y0 = y0 < 0 ? 0 : y0;
		x1 = x1 > s->w ? s->w : x1;
		y1 = y1 > s->h ? s->h : y1;
		for (int y = y0; y < y1; y++)
			for (int x = x0; x < x1; x++) {
				double d = hypot(x + 0.5 - b->x, y + 0.5 - b->y);
				double cov = s->r + 0.5 - d;
				if (cov <= 0)
					continue;
				float v = cov >= 1 ? 1.0f : (float)cov;
				for (int ch = 0; ch < s->c; ch++) {
					float col = s->c == 1 ? v : v * palette[i % 8][ch];
					float *p = frame + ch * hw + (size_t)y * s->w + x;
					if (col > *p)
						*p = col;
				}
			}
	}
}

static int begin(void *self, uint64_t seed, char *err, size_t errlen)
{
	balls *s = self;
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	s->t = 0;
	if (place(s, &rng) != DD_OK) {
		snprintf(err, errlen, "cannot place %d balls of radius %g apart in %dx%d frames "
		         "(seed %llu); use fewer or smaller balls or larger frames",
		         s->n, s->r, s->w, s->h, (unsigned long long)seed);
		return DD_ERR;
	}
	return DD_OK;
}

static int next(void *self, float *frame, float *info, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	balls *s = self;
	if (s->t++ > 0)
		advance(s);
	draw(s, frame);
	for (int i = 0; i < s->n; i++) {
		info[2 * i] = (float)s->b[i].x;
		info[2 * i + 1] = (float)s->b[i].y;
	}
	return DD_OK;
}

static void destroy(void *self)
{
	balls *s = self;
	if (!s)
		return;
	names_free(s->names, 2 * s->n);
	free(s->b);
	free(s);
}

int balls_state(const vsource *src, double *out, int max)
{
	const balls *s = src->self;
	int n = s->n < max ? s->n : max;
	for (int i = 0; i < n; i++) {
		out[4 * i] = s->b[i].x;
		out[4 * i + 1] = s->b[i].y;
		out[4 * i + 2] = s->b[i].vx;
		out[4 * i + 3] = s->b[i].vy;
	}
	return n;
}

int balls_open(const vconfig *cfg, vsource *out, char *err, size_t errlen)
{
	if (cfg->width < 1 || cfg->height < 1) {
		snprintf(err, errlen, "width and height must be at least 1 for source 'balls', "
		         "got %dx%d (0 means the file's own size, which only files have)",
		         cfg->width, cfg->height);
		return DD_ERR;
	}
	if (2 * cfg->radius > cfg->width || 2 * cfg->radius > cfg->height) {
		snprintf(err, errlen, "radius %g does not fit in %dx%d frames "
		         "(need 2 * radius <= width and height)", cfg->radius, cfg->width, cfg->height);
		return DD_ERR;
	}
	/* Random packing stalls well before the densest packing; refuse early
	** rather than fail on some seed later. */
	double fill = cfg->balls * M_PI * cfg->radius * cfg->radius /
	              ((double)cfg->width * cfg->height);
	if (fill > 0.4) {
		snprintf(err, errlen, "%d balls of radius %g cover %.0f%% of %dx%d frames; "
		         "at most 40%% can be placed reliably: use fewer or smaller balls",
		         cfg->balls, cfg->radius, 100 * fill, cfg->width, cfg->height);
		return DD_ERR;
	}
	balls *s = calloc(1, sizeof *s);
	if (!s || !(s->b = calloc((size_t)cfg->balls, sizeof *s->b)) ||
	    !(s->names = names_new(2 * cfg->balls))) {
		destroy(s);
		snprintf(err, errlen, "out of memory");
		return DD_ERR;
	}
	s->w = cfg->width;
	s->h = cfg->height;
	s->c = cfg->channels;
	s->n = cfg->balls;
	s->r = cfg->radius;
	s->speed = cfg->speed;
	s->substeps = (int)ceil(cfg->speed / (0.25 * cfg->radius));
	if (s->substeps < 1)
		s->substeps = 1;
	for (int i = 0; i < s->n; i++)
		if (names_set(s->names, 2 * i, "x%d", i) || names_set(s->names, 2 * i + 1, "y%d", i)) {
			destroy(s);
			snprintf(err, errlen, "out of memory");
			return DD_ERR;
		}
	*out = (vsource){.self = s, .width = s->w, .height = s->h, .channels = s->c,
	                 .n_info = 2 * s->n, .info_names = s->names,
	                 .begin = begin, .next = next, .destroy = destroy};
	return DD_OK;
}
