/*
** blocks_layout.c -- what an episode is made of: random block kinds (size,
** mass, colour), random straight towers aiming at a share of stable ones,
** and the analytic static-stability margin that labels them.
*/
#include <math.h>

#include "blocks.h"

#define TOWER_ATTEMPTS 256

static double between(dd_rng *rng, double lo, double hi)
{
	return lo + (hi - lo) * dd_rng_uniform_double(rng);
}

/* HSV (all in [0, 1]) to RGB. */
static void hsv(double h, double s, double v, float rgb[3])
{
	double h6 = 6.0 * (h - floor(h));
	int sector = (int)h6 % 6;
	double f = h6 - floor(h6);
	double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
	double r[6] = {v, q, p, p, t, v}, g[6] = {t, v, v, q, p, p}, b[6] = {p, p, t, v, v, q};
	rgb[0] = (float)r[sector];
	rgb[1] = (float)g[sector];
	rgb[2] = (float)b[sector];
}

void blocks_draw_kinds(dd_rng *rng, const blocks_cfg *cfg, blocks_block *b, int n)
{
	/* Hues a golden-ratio step apart stay far apart for any n, so every
	** block of an episode has its own colour; saturated colours also stand
	** out from the grey sky and floor. */
	double hue0 = dd_rng_uniform_double(rng);
	for (int i = 0; i < n; i++) {
		b[i].w = between(rng, cfg->width_min, cfg->width_max);
		b[i].h = between(rng, cfg->height_min, cfg->height_max);
		b[i].mass = between(rng, cfg->density_min, cfg->density_max) * b[i].w * b[i].h;
		b[i].x = b[i].y = b[i].angle = 0;
		hsv(hue0 + 0.6180339887 * i, 0.75, 0.9, b[i].rgb);
	}
}

/* Stacks blocks [0, n) straight, each shifted from the one below by up to
** max_offset times their mean width. */
static void place(dd_rng *rng, const blocks_cfg *cfg, blocks_block *b, int n)
{
	b[0].x = 0;
	b[0].y = b[0].h / 2;
	for (int i = 1; i < n; i++) {
		double span = cfg->max_offset * (b[i - 1].w + b[i].w) / 2;
		b[i].x = b[i - 1].x + between(rng, -span, span);
		b[i].y = b[i - 1].y + (b[i - 1].h + b[i].h) / 2;
	}
}

int blocks_draw_tower(dd_rng *rng, const blocks_cfg *cfg, blocks_block *b)
{
	int n = cfg->min_blocks + (int)dd_rng_below(rng, (uint64_t)(cfg->max_blocks - cfg->min_blocks + 1));
	blocks_draw_kinds(rng, cfg, b, n);
	int want_stable = dd_rng_uniform_double(rng) < cfg->stable_share;
	for (int attempt = 0; attempt < TOWER_ATTEMPTS; attempt++) {
		place(rng, cfg, b, n);
		if ((blocks_margin(b, n) > 0) == want_stable)
			break;
	}
	return n;
}

double blocks_margin(const blocks_block *b, int n)
{
	double margin = INFINITY;
	double mass = 0, moment = 0;  /* of blocks [i, n), accumulated top down */
	for (int i = n - 1; i >= 0; i--) {
		mass += b[i].mass;
		moment += b[i].mass * b[i].x;
		double com = moment / mass;
		double lo = b[i].x - b[i].w / 2, hi = b[i].x + b[i].w / 2;
		if (i > 0) {
			lo = fmax(lo, b[i - 1].x - b[i - 1].w / 2);
			hi = fmin(hi, b[i - 1].x + b[i - 1].w / 2);
		}
		/* With no overlap (lo > hi) one term is negative: it falls. */
		margin = fmin(margin, fmin(com - lo, hi - com));
	}
	return n > 0 ? margin : 0;
}
