/*
** blocks_raster.c -- the side view: sky, floor and rotated rectangles,
** anti-aliased by supersampling only the pixels an edge crosses (interior
** and exterior pixels are decided from the distance to the edges).
**
** Blocks touch but never overlap, so coverages add: a pixel shared by two
** blocks shows both colours in proportion, with no background bleeding
** through the seam as painting one over the other would leave.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

#define FLOOR_SHARE 0.1   /* of the view below the floor line */
#define HALF_DIAGONAL 0.70711

static const float sky[3] = {0.92f, 0.94f, 0.97f};
static const float ground[3] = {0.40f, 0.36f, 0.32f};

int blocks_canvas_init(blocks_canvas *c, int width, int height, double view_height,
                       int samples)
{
	c->width = width;
	c->height = height;
	c->samples = samples;
	c->scale = height / view_height;
	c->y_top = (1 - FLOOR_SHARE) * view_height;
	c->x_left = -(width / c->scale) / 2;
	c->acc = malloc(4 * (size_t)width * (size_t)height * sizeof *c->acc);
	return c->acc ? 0 : -1;
}

void blocks_canvas_free(blocks_canvas *c)
{
	free(c->acc);
	c->acc = NULL;
}

/* A quad in pixel units: centre, half sides, rotation. */
typedef struct pquad {
	double cx, cy, hw, hh, ca, sa;
} pquad;

/* Share of pixel (px, py) inside the quad. u, v are the pixel centre's
** coordinates along the quad's own axes; both move linearly with a
** sub-pixel offset. */
static float coverage(const pquad *p, int px, int py, int samples)
{
	double dx = px + 0.5 - p->cx, dy = py + 0.5 - p->cy;
	double u = dx * p->ca - dy * p->sa, v = -dx * p->sa - dy * p->ca;
	double ex = p->hw - fabs(u), ey = p->hh - fabs(v);
	if (ex >= HALF_DIAGONAL && ey >= HALF_DIAGONAL)
		return 1.0f;
	if (ex <= -HALF_DIAGONAL || ey <= -HALF_DIAGONAL)
		return 0.0f;
	int inside = 0;
	for (int j = 0; j < samples; j++) {
		double oy = (j + 0.5) / samples - 0.5;
		for (int i = 0; i < samples; i++) {
			double ox = (i + 0.5) / samples - 0.5;
			double us = u + ox * p->ca - oy * p->sa, vs = v - ox * p->sa - oy * p->ca;
			inside += fabs(us) <= p->hw && fabs(vs) <= p->hh;
		}
	}
	return (float)inside / (float)(samples * samples);
}

/* Adds quad q's coverage and colour into the accumulators and, when mask is
** not NULL, marks the pixels it covers more than half of. */
static void draw_quad(blocks_canvas *c, const blocks_quad *q, float *mask)
{
	pquad p = {
		.cx = (q->x - c->x_left) * c->scale, .cy = (c->y_top - q->y) * c->scale,
		.hw = q->w / 2 * c->scale, .hh = q->h / 2 * c->scale,
		.ca = cos(q->angle), .sa = sin(q->angle),
	};
	double ex = fabs(p.hw * p.ca) + fabs(p.hh * p.sa);
	double ey = fabs(p.hw * p.sa) + fabs(p.hh * p.ca);
	int x0 = (int)fmax(0, floor(p.cx - ex)), x1 = (int)fmin(c->width - 1, ceil(p.cx + ex));
	int y0 = (int)fmax(0, floor(p.cy - ey)), y1 = (int)fmin(c->height - 1, ceil(p.cy + ey));
	for (int y = y0; y <= y1; y++)
		for (int x = x0; x <= x1; x++) {
			float cov = coverage(&p, x, y, c->samples);
			if (cov <= 0)
				continue;
			float *a = c->acc + 4 * ((size_t)y * c->width + x);
			a[0] += cov;
			a[1] += cov * q->rgb[0];
			a[2] += cov * q->rgb[1];
			a[3] += cov * q->rgb[2];
			if (mask && cov > 0.5f)
				mask[(size_t)y * c->width + x] = 1.0f;
		}
}

void blocks_raster(blocks_canvas *c, const blocks_quad *q, int n, float *image,
                   float *masks, int n_masks)
{
	size_t plane = (size_t)c->width * (size_t)c->height;
	memset(c->acc, 0, 4 * plane * sizeof *c->acc);
	if (masks)
		memset(masks, 0, (size_t)n_masks * plane * sizeof *masks);
	for (int i = 0; i < n; i++)
		draw_quad(c, &q[i], masks && i < n_masks ? masks + (size_t)i * plane : NULL);
	double floor_row = c->y_top * c->scale; /* pixel y of the floor line */
	for (int y = 0; y < c->height; y++) {
		/* Share of this row below the floor line: the floor's anti-aliasing. */
		float f = (float)fmin(1, fmax(0, y + 1 - floor_row));
		float bg[3];
		for (int k = 0; k < 3; k++)
			bg[k] = sky[k] + f * (ground[k] - sky[k]);
		for (int x = 0; x < c->width; x++) {
			size_t i = (size_t)y * c->width + x;
			const float *a = c->acc + 4 * i;
			/* Blocks pressed into each other (the solver's slop) may sum
			** past full coverage: normalise their colours then. */
			float cov = a[0] > 1 ? 1 : a[0];
			float norm = a[0] > 0 ? cov / a[0] : 0;
			for (int k = 0; k < 3; k++)
				image[k * plane + i] = bg[k] * (1 - cov) + a[1 + k] * norm;
		}
	}
}

void blocks_raster_rgb8(blocks_canvas *c, const blocks_quad *q, int n, float *scratch,
                        uint8_t *rgb)
{
	size_t plane = (size_t)c->width * (size_t)c->height;
	blocks_raster(c, q, n, scratch, NULL, 0);
	for (int k = 0; k < 3; k++) {
		const float *src = scratch + k * plane;
		for (size_t i = 0; i < plane; i++) {
			float v = src[i] < 0 ? 0 : src[i] > 1 ? 1 : src[i];
			rgb[3 * i + k] = (uint8_t)(v * 255 + 0.5f);
		}
	}
}
