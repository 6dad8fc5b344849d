/*
** render.c -- the top-down pictures: PPUU's ego-centred observation image
** (lane markings, other vehicles, off-road area, ego footprint; ego heading
** up) and a wider RGB view for people. Every shape is a convex polygon drawn
** with its exact area coverage per pixel, so a car moving by a centimetre
** changes the image.
*/
#include <math.h>
#include <string.h>

#include "traffic.h"

#define MAXV 16  /* a quadrilateral clipped by 8 lines has at most 12 corners */

static void add_clamped(float *px, double a)
{
	double v = *px + a;
	*px = v > 1.0 ? 1.0f : (float)v;
}

/* Draws one row strip [r, r+1) of an image-clipped polygon. Columns that
** the strip covers from top to bottom are whole (coverage 1); for a convex
** polygon they lie between the strip's edges at its top and bottom. */
static void raster_row(float *row, int W, const tr_pt *p, int n, int r)
{
	double xmin = INFINITY, xmax = -INFINITY;
	double top_lo = INFINITY, top_hi = -INFINITY, bot_lo = INFINITY, bot_hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		xmin = fmin(xmin, p[i].x);
		xmax = fmax(xmax, p[i].x);
		if (p[i].y == r) {
			top_lo = fmin(top_lo, p[i].x);
			top_hi = fmax(top_hi, p[i].x);
		}
		if (p[i].y == r + 1) {
			bot_lo = fmin(bot_lo, p[i].x);
			bot_hi = fmax(bot_hi, p[i].x);
		}
	}
	double full_lo = fmax(top_lo, bot_lo), full_hi = fmin(top_hi, bot_hi);
	int c0 = (int)floor(xmin), c1 = (int)ceil(xmax);
	if (c0 < 0)
		c0 = 0;
	if (c1 > W)
		c1 = W;
	for (int c = c0; c < c1; c++) {
		if (c >= full_lo && c + 1 <= full_hi) {
			add_clamped(&row[c], 1.0);
			continue;
		}
		tr_pt a[MAXV], b[MAXV];
		int m = tr_clip(p, n, 0, c, 1, a);
		m = tr_clip(a, m, 0, c + 1, -1, b);
		if (m >= 3)
			add_clamped(&row[c], tr_polygon_area(b, m));
	}
}

void tr_raster_polygon(float *chan, int H, int W, const tr_pt *poly, int n)
{
	tr_pt a[MAXV], b[MAXV];
	int m = tr_clip(poly, n, 0, 0, 1, a);
	m = tr_clip(a, m, 0, W, -1, b);
	m = tr_clip(b, m, 1, 0, 1, a);
	m = tr_clip(a, m, 1, H, -1, b);
	if (m < 3)
		return;
	double ymin = INFINITY, ymax = -INFINITY;
	for (int i = 0; i < m; i++) {
		ymin = fmin(ymin, b[i].y);
		ymax = fmax(ymax, b[i].y);
	}
	int r0 = (int)floor(ymin), r1 = (int)ceil(ymax);
	if (r1 > H)
		r1 = H;
	for (int r = r0 < 0 ? 0 : r0; r < r1; r++) {
		tr_pt s[MAXV], t[MAXV];
		int k = tr_clip(b, m, 1, r, 1, s);
		k = tr_clip(s, k, 1, r + 1, -1, t);
		if (k >= 3)
			raster_row(chan + (size_t)r * (size_t)W, W, t, k, r);
	}
}

/* Road frame to image pixels: the ego at the centre, its heading up. */
typedef struct frame {
	double ex, ey, c, s, ppm, cx, cy;
	int H, W;
} frame;

static tr_pt to_pixels(const frame *f, double x, double y)
{
	double dx = x - f->ex, dy = y - f->ey;
	double ahead = dx * f->c + dy * f->s;
	double right = -dx * f->s + dy * f->c;
	return (tr_pt){f->cx + right * f->ppm, f->cy - ahead * f->ppm};
}

/* An axis-aligned box of the road frame, drawn into one channel. */
static void draw_box(const frame *f, float *chan, double x0, double x1, double y0,
                     double y1)
{
	tr_pt q[4] = {to_pixels(f, x0, y0), to_pixels(f, x1, y0), to_pixels(f, x1, y1),
	              to_pixels(f, x0, y1)};
	tr_raster_polygon(chan, f->H, f->W, q, 4);
}

static void draw_vehicle(const frame *f, float *chan, const tr_vehicle *w)
{
	tr_pt c[4];
	tr_rect_corners(w->x, w->y, w->heading, w->length, w->width, c);
	for (int i = 0; i < 4; i++)
		c[i] = to_pixels(f, c[i].x, c[i].y);
	tr_raster_polygon(chan, f->H, f->W, c, 4);
}

void tr_render_obs(const tr_sim *s, const tr_view *view, int ego, float *img)
{
	const tr_vehicle *e = &s->v[ego];
	const tr_road *road = &s->cfg.road;
	size_t plane = (size_t)view->H * (size_t)view->W;
	memset(img, 0, TR_CHANNELS * plane * sizeof *img);
	frame f = {e->x, e->y, cos(e->heading), sin(e->heading), view->ppm,
	           0.5 * view->W, 0.5 * view->H, view->H, view->W};
	/* far enough to cover the image's diagonal at any heading */
	double reach = (view->H + view->W) / view->ppm;
	double x0 = e->x - reach, x1 = e->x + reach;
	/* markings one pixel wide: a line's coverage sums to 1 across a row */
	double half = 0.5 / view->ppm;
	for (int k = 0; k <= road->lanes; k++) {
		double y = k * road->lane_width;
		if (fabs(y - e->y) < reach)
			draw_box(&f, img + TR_CH_LANES * plane, x0, x1, y - half, y + half);
	}
	double w = tr_road_width(road);
	if (e->y - reach < 0)
		draw_box(&f, img + TR_CH_OFF_ROAD * plane, x0, x1, e->y - reach, 0);
	if (e->y + reach > w)
		draw_box(&f, img + TR_CH_OFF_ROAD * plane, x0, x1, w, e->y + reach);
	for (int i = 0; i < s->n; i++) {
		const tr_vehicle *o = &s->v[i];
		if (i != ego && fabs(o->x - e->x) < reach && fabs(o->y - e->y) < reach)
			draw_vehicle(&f, img + TR_CH_VEHICLES * plane, o);
	}
	draw_vehicle(&f, img + TR_CH_EGO * plane, e);
}

/* ---- the RGB view ------------------------------------------------------ */

static void blend(uint8_t *px, const uint8_t col[3], float a)
{
	for (int k = 0; k < 3; k++)
		px[k] = (uint8_t)lrintf((1 - a) * px[k] + a * col[k]);
}

void tr_render_rgb(const tr_sim *s, int ego, int w, int h, double ppm, uint8_t *rgb,
                   float *scratch)
{
	static const uint8_t grass[3] = {62, 92, 58}, asphalt[3] = {72, 72, 78},
	                     paint[3] = {235, 235, 235}, car[3] = {90, 150, 235},
	                     ego_col[3] = {235, 64, 52};
	const tr_road *road = &s->cfg.road;
	size_t plane = (size_t)w * (size_t)h;
	/* not rotated: the road runs left to right with the ego a third of the
	** way in; y grows downwards, so the driver's right is down */
	double margin = 0.5 * (h / ppm - tr_road_width(road));
	double left = (ego >= 0 ? s->v[ego].x : 0.5 * road->length) - w / (3.0 * ppm);
	for (int r = 0; r < h; r++) {
		double y = (r + 0.5) / ppm - margin;
		const uint8_t *base = tr_on_road(road, y) ? asphalt : grass;
		for (int c = 0; c < w; c++)
			memcpy(rgb + 3 * ((size_t)r * (size_t)w + (size_t)c), base, 3);
	}
	memset(scratch, 0, 3 * plane * sizeof *scratch);
	for (int k = 0; k <= road->lanes; k++) {
		double y = (k * road->lane_width + margin) * ppm;
		tr_pt q[4] = {{0, y - 0.75}, {w, y - 0.75}, {w, y + 0.75}, {0, y + 0.75}};
		tr_raster_polygon(scratch, h, w, q, 4);
	}
	for (int i = 0; i < s->n; i++) {
		const tr_vehicle *o = &s->v[i];
		if (o->x < left - 10 || o->x > left + w / ppm + 10)
			continue;
		tr_pt c[4];
		tr_rect_corners(o->x, o->y, o->heading, o->length, o->width, c);
		for (int j = 0; j < 4; j++)
			c[j] = (tr_pt){(c[j].x - left) * ppm, (c[j].y + margin) * ppm};
		tr_raster_polygon(scratch + (i == ego ? 2 : 1) * plane, h, w, c, 4);
	}
	for (size_t i = 0; i < plane; i++) {
		uint8_t *px = rgb + 3 * i;
		blend(px, paint, scratch[i]);
		blend(px, car, scratch[plane + i]);
		blend(px, ego_col, scratch[2 * plane + i]);
	}
}
