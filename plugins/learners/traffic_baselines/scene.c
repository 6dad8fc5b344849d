/*
** scene.c -- the idm_driver's perception: one `kinematics` + `state`
** observation of the traffic env read as lanes with leaders and followers,
** the gaps between vehicles, and the IDM accelerations MOBIL weighs.
*/
#include <math.h>
#include <stdio.h>

#include "baselines.h"

/* Lanes a lateral extent [lo, hi] reaches into, by the env's own rule
** (road.c: more than a small tolerance), so the driver sees a car in a lane
** exactly when the car's followers there do. */
static void lanes_of(const tr_road *r, double lo, double hi, int *first, int *last)
{
	if (!tr_lanes_touched(r, 0.5 * (lo + hi), 0.5 * (hi - lo), first, last)) {
		*first = 0;
		*last = -1;
	}
}

/* A car moving sideways is counted in the lanes it reaches within the
** anticipation time too: it is changing lanes, and the gap it moves into is
** not free for the ego. */
static void place_car(const tb_config *c, tb_car *o)
{
	double half = 0.5 * c->other_width, reach = o->vy * c->anticipation;
	double lo = o->y - half + fmin(reach, 0), hi = o->y + half + fmax(reach, 0);
	lanes_of(&c->road, lo, hi, &o->first_lane, &o->last_lane);
}

int tb_scene_read(const tb_config *c, const float *kin, int k, const float *state,
                  tb_scene *s, char *err, size_t err_size)
{
	double width = tr_road_width(&c->road), slack = 0.5 * c->road.lane_width;
	s->y = state[1];
	s->vx = state[2];
	s->vy = state[3];
	s->heading = state[4];
	s->v = hypot(s->vx, s->vy);
	if (s->y < -slack || s->y > width + slack) {
		snprintf(err, err_size, "the ego is at y = %.2f m, off a road of %d lanes of %g m: "
		         "set lanes and lane_width as the env's", s->y, c->road.lanes,
		         c->road.lane_width);
		return -1;
	}
	s->lane = tr_lane_of(&c->road, s->y);
	/* the footprint's sideways extent, heading included (as the env's) */
	double h = s->heading;
	double half = 0.5 * (c->ego_length * fabs(sin(h)) + c->ego_width * fabs(cos(h)));
	lanes_of(&c->road, s->y - half, s->y + half, &s->first_lane, &s->last_lane);
	s->n = 0;
	for (int r = 0; r < k && s->n < TB_MAX_CARS; r++) {
		const float *row = kin + (size_t)r * TR_KIN_FEATURES;
		if (row[0] < 0.5f)
			continue;
		tb_car *o = &s->car[s->n++];
		o->dx = row[1];
		o->y = s->y + row[2];
		o->vx = s->vx + row[3];
		o->vy = s->vy + row[4];
		if (o->y < -slack || o->y > width + slack) {
			snprintf(err, err_size, "a vehicle is at y = %.2f m, off a road of %d lanes of "
			         "%g m: set lanes and lane_width as the env's", o->y, c->road.lanes,
			         c->road.lane_width);
			return -1;
		}
		place_car(c, o);
	}
	return 0;
}

static int occupies(const tb_car *o, int lane)
{
	return lane >= o->first_lane && lane <= o->last_lane;
}

int tb_scene_leader(const tb_scene *s, int lane)
{
	int best = -1;
	for (int i = 0; i < s->n; i++)
		if (s->car[i].dx > 0 && occupies(&s->car[i], lane) &&
		    (best < 0 || s->car[i].dx < s->car[best].dx))
			best = i;
	return best;
}

int tb_scene_follower(const tb_scene *s, int lane)
{
	int best = -1;
	for (int i = 0; i < s->n; i++)
		if (s->car[i].dx <= 0 && occupies(&s->car[i], lane) &&
		    (best < 0 || s->car[i].dx > s->car[best].dx))
			best = i;
	return best;
}

static double dx_of(const tb_scene *s, int i)
{
	return i < 0 ? 0.0 : s->car[i].dx;
}

static double length_of(const tb_config *c, int i)
{
	return i < 0 ? c->ego_length : c->other_length;
}

double tb_scene_gap(const tb_config *c, const tb_scene *s, int f, int l)
{
	return dx_of(s, l) - dx_of(s, f) - 0.5 * (length_of(c, f) + length_of(c, l));
}

double tb_scene_idm(const tb_config *c, const tb_scene *s, int f, int l)
{
	/* the others' speed along the road: the env's IDM cars keep vx = v */
	double v = f < 0 ? s->v : s->car[f].vx;
	if (l == -2)
		return tr_idm_accel(&c->driver, v, INFINITY, 0);
	double vl = l < 0 ? s->vx : s->car[l].vx;
	return tr_idm_accel(&c->driver, v, tb_scene_gap(c, s, f, l), v - vl);
}
