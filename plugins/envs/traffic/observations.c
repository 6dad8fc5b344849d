/*
** observations.c -- what the ego sees besides the image: its state vector,
** and the two observation types users of highway-env expect (Leurent 2018):
** `kinematics`, the K nearest vehicles as rows, and `occupancy`, a coarse
** grid around the ego.
*/
#include <math.h>
#include <string.h>

#include "traffic.h"

void tr_obs_state(const tr_sim *s, int ego, float *out)
{
	const tr_vehicle *e = &s->v[ego];
	out[0] = (float)e->x;
	out[1] = (float)e->y;
	out[2] = (float)e->vx;
	out[3] = (float)e->vy;
	out[4] = (float)e->heading;
}

/* Vehicles are sorted by x, so the nearest ones lie on either side of the
** ego in the array: merge outwards, keeping the k nearest by distance. */
void tr_obs_kinematics(const tr_sim *s, int ego, int k, float *out)
{
	const tr_vehicle *e = &s->v[ego];
	memset(out, 0, (size_t)k * TR_KIN_FEATURES * sizeof *out);
	int idx[64];
	double dist[64];
	int m = 0;
	int lo = ego - 1, hi = ego + 1;
	while ((lo >= 0 || hi < s->n)) {
		/* the next candidate lengthwise; once its lengthwise distance
		** alone exceeds the k-th best, no later one can do better */
		double dlo = lo >= 0 ? e->x - s->v[lo].x : INFINITY;
		double dhi = hi < s->n ? s->v[hi].x - e->x : INFINITY;
		int j = dlo <= dhi ? lo-- : hi++;
		double dx = fmin(dlo, dhi);
		if (m == k && dx >= dist[m - 1])
			break;
		double d = hypot(s->v[j].x - e->x, s->v[j].y - e->y);
		if (m == k && d >= dist[m - 1])
			continue;
		int p = m < k ? m++ : m - 1;
		while (p > 0 && dist[p - 1] > d) {
			dist[p] = dist[p - 1];
			idx[p] = idx[p - 1];
			p--;
		}
		dist[p] = d;
		idx[p] = j;
	}
	for (int r = 0; r < m; r++) {
		const tr_vehicle *o = &s->v[idx[r]];
		float *row = out + (size_t)r * TR_KIN_FEATURES;
		row[0] = 1;
		row[1] = (float)(o->x - e->x);
		row[2] = (float)(o->y - e->y);
		row[3] = (float)(o->vx - e->vx);
		row[4] = (float)(o->vy - e->vy);
	}
}

void tr_obs_occupancy(const tr_sim *s, int ego, int rows, int cols,
                      double cell_length, float *out)
{
	const tr_vehicle *e = &s->v[ego];
	size_t plane = (size_t)rows * (size_t)cols;
	memset(out, 0, 3 * plane * sizeof *out);
	double lane = s->cfg.road.lane_width;
	for (int i = 0; i < s->n; i++) {
		if (i == ego)
			continue;
		const tr_vehicle *o = &s->v[i];
		/* row 0 is the furthest ahead, as in the image */
		double r = 0.5 * rows - (o->x - e->x) / cell_length;
		double c = 0.5 * cols + (o->y - e->y) / lane;
		if (r < 0 || c < 0 || r >= rows || c >= cols)
			continue;
		size_t cell = (size_t)r * (size_t)cols + (size_t)c;
		out[cell] = 1;
		out[plane + cell] = (float)(o->vx - e->vx);
		out[2 * plane + cell] = (float)(o->vy - e->vy);
	}
}
