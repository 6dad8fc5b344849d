/*
** traffic_sim.c -- the highway simulator: vehicles enter at the start at a
** set density, drive by IDM and change lanes by MOBIL, and leave at the end.
** Each step costs O(n): vehicles stay sorted by position (insertion sort on
** an almost sorted array) and each lane keeps its own sorted list.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

/* Vehicles further apart than this lengthwise cannot touch (m). */
#define MAX_REACH 25.0

int tr_sim_capacity(const tr_sim_config *cfg)
{
	/* the densest spacing: shortest car at the smallest spawn gap (2 m),
	** over the road plus the entrance stretch behind it */
	double spacing = cfg->length_min + 2.0;
	return cfg->road.lanes * (int)ceil((cfg->road.length + 50.0) / spacing) + 8;
}

int tr_sim_init(tr_sim *s, const tr_sim_config *cfg, int cap)
{
	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	s->cap = cap;
	s->v = calloc((size_t)cap, sizeof *s->v);
	s->lane_list = calloc((size_t)cap * (size_t)cfg->road.lanes, sizeof *s->lane_list);
	s->spawn = 1;
	s->ego = -1;
	if (!s->v || !s->lane_list) {
		tr_sim_free(s);
		return -1;
	}
	return 0;
}

void tr_sim_free(tr_sim *s)
{
	free(s->v);
	free(s->lane_list);
	s->v = NULL;
	s->lane_list = NULL;
}

static double mean_gap(const tr_sim_config *c)
{
	return 1000.0 / c->density - 0.5 * (c->length_min + c->length_max);
}

/* The speed at which the mean driver keeps the density's mean gap: the
** homogeneous steady state the road starts in and the entrance feeds. */
static double steady_speed(const tr_sim_config *c)
{
	return tr_idm_equilibrium_speed(&c->driver, mean_gap(c));
}

/* Gaps between vehicles placed at the start: spread around the mean gap of
** the density so that lanes are not metronomes. */
static double draw_gap(tr_sim *s)
{
	double g = mean_gap(&s->cfg) * (0.5 + dd_rng_uniform_double(&s->rng));
	return g > 2.0 ? g : 2.0;
}

/* Seconds to the next vehicle entering a lane: the flow of the steady
** state, density x speed, with the same spread. */
static double draw_interval(tr_sim *s)
{
	double v = steady_speed(&s->cfg);
	if (s->cfg.density <= 0 || v <= 0)
		return INFINITY;
	return 1000.0 / (s->cfg.density * v) * (0.5 + dd_rng_uniform_double(&s->rng));
}

void tr_sim_clear(tr_sim *s, uint64_t seed)
{
	s->n = 0;
	s->ego = -1;
	s->next_id = 1;
	s->steps = 0;
	memset(s->lane_count, 0, sizeof s->lane_count);
	dd_rng_seed(&s->rng, seed, 0);
	for (int k = 0; k < s->cfg.road.lanes; k++)
		s->spawn_time[k] = draw_interval(s);
}

int tr_sim_add(tr_sim *s, double x, int lane, double v, const tr_driver *d,
               double length, double width)
{
	if (s->n >= s->cap)
		return -1;
	tr_vehicle *w = &s->v[s->n++];
	memset(w, 0, sizeof *w);
	w->id = s->next_id++;
	w->kind = TR_IDM;
	w->x = x;
	w->y = tr_lane_centre(&s->cfg.road, lane);
	w->v = w->vx = v;
	w->length = length;
	w->width = width;
	w->lane = lane;
	w->leader = -1;
	w->slot = -1;
	w->drv = *d;
	return 0;
}

static double uniform(tr_sim *s, double lo, double hi)
{
	return lo + (hi - lo) * dd_rng_uniform_double(&s->rng);
}

/* A new driver and car with its front at `front`, `gap` behind its leader:
** at the steady speed, but never faster than the gap allows. */
static int add_drawn(tr_sim *s, double front, int lane, double gap, double leader_v)
{
	tr_driver d = tr_driver_draw(&s->cfg.driver, s->cfg.variation, &s->rng);
	double len = uniform(s, s->cfg.length_min, s->cfg.length_max);
	double wid = uniform(s, s->cfg.width_min, s->cfg.width_max);
	double v = fmin(fmin(d.v0, steady_speed(&s->cfg)), tr_idm_equilibrium_speed(&d, gap));
	if (v > leader_v)
		v = leader_v;
	if (tr_sim_add(s, front - 0.5 * len, lane, v, &d, len, wid) < 0)
		return -1;
	return 0;
}

void tr_sim_populate(tr_sim *s)
{
	if (s->cfg.density <= 0)
		return;
	for (int k = 0; k < s->cfg.road.lanes; k++) {
		double front = s->cfg.road.length - mean_gap(&s->cfg) * dd_rng_uniform_double(&s->rng);
		double leader_rear = INFINITY;
		while (front > 0) {
			if (add_drawn(s, front, k, leader_rear - front, INFINITY) < 0)
				break;
			tr_vehicle *w = &s->v[s->n - 1];
			leader_rear = w->x - 0.5 * w->length;
			front = leader_rear - draw_gap(s);
		}
	}
	tr_sim_index(s);
}

double tr_sim_gap(const tr_vehicle *f, const tr_vehicle *l)
{
	return (l->x - 0.5 * l->length) - (f->x + 0.5 * f->length);
}

/* Half of a vehicle's sideways extent, heading included. */
static double half_extent(const tr_vehicle *w)
{
	return 0.5 * (fabs(w->length * sin(w->heading)) + fabs(w->width * cos(w->heading)));
}

static void sort_by_x(tr_sim *s)
{
	for (int i = 1; i < s->n; i++) {
		if (s->v[i - 1].x <= s->v[i].x)
			continue;
		tr_vehicle t = s->v[i];
		int j = i;
		while (j > 0 && s->v[j - 1].x > t.x) {
			s->v[j] = s->v[j - 1];
			j--;
		}
		s->v[j] = t;
	}
}

/* Leaving vehicles: IDM drivers whose rear has passed the end. */
static void remove_gone(tr_sim *s)
{
	int m = 0;
	for (int i = 0; i < s->n; i++) {
		tr_vehicle *w = &s->v[i];
		if (w->kind == TR_IDM && w->x - 0.5 * w->length > s->cfg.road.length)
			continue;
		if (m != i)
			s->v[m] = *w;
		m++;
	}
	s->n = m;
}

static int *lane_list(tr_sim *s, int k)
{
	return s->lane_list + (size_t)k * (size_t)s->cap;
}

void tr_sim_index(tr_sim *s)
{
	remove_gone(s);
	sort_by_x(s);
	s->ego = -1;
	memset(s->lane_count, 0, sizeof s->lane_count);
	for (int i = 0; i < s->n; i++) {
		tr_vehicle *w = &s->v[i];
		if (w->kind == TR_EGO)
			s->ego = i;
		if (w->kind != TR_IDM)
			w->lane = tr_lane_of(&s->cfg.road, w->y);
		w->leader = -1;
		w->slot = -1;
		int first, last;
		if (!tr_lanes_touched(&s->cfg.road, w->y, half_extent(w), &first, &last))
			continue;
		for (int k = first; k <= last; k++) {
			if (k == w->lane)
				w->slot = s->lane_count[k];
			lane_list(s, k)[s->lane_count[k]++] = i;
		}
	}
	/* the leader is the nearest vehicle ahead in any lane the car touches */
	for (int k = 0; k < s->cfg.road.lanes; k++) {
		int *list = lane_list(s, k);
		for (int j = 0; j + 1 < s->lane_count[k]; j++) {
			tr_vehicle *f = &s->v[list[j]];
			int l = list[j + 1];
			if (f->leader < 0 || tr_sim_gap(f, &s->v[l]) < tr_sim_gap(f, &s->v[f->leader]))
				f->leader = l;
		}
	}
}

/* IDM acceleration of f behind l (NULL: free road). */
static double accel_behind(const tr_vehicle *f, const tr_vehicle *l)
{
	if (!l)
		return tr_idm_accel(&f->drv, f->v, INFINITY, 0);
	return tr_idm_accel(&f->drv, f->v, tr_sim_gap(f, l), f->v - l->vx);
}

/* First index in lane k's list whose vehicle is ahead of x. */
static int first_ahead(tr_sim *s, int k, double x)
{
	int *list = lane_list(s, k);
	int lo = 0, hi = s->lane_count[k];
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (s->v[list[mid]].x > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* MOBIL's view of vehicle i moving to lane k. Returns 0 when the target
** gap is physically taken, or when a neighbour is itself changing lanes
** (it touches two lanes and would be counted in both). */
static int mobil_case(tr_sim *s, int i, int k, tr_mobil_case *c)
{
	tr_vehicle *w = &s->v[i];
	int *list = lane_list(s, k);
	int a = first_ahead(s, k, w->x);
	tr_vehicle *nl = a < s->lane_count[k] ? &s->v[list[a]] : NULL;
	tr_vehicle *nf = a > 0 ? &s->v[list[a - 1]] : NULL;
	if ((nl && (tr_sim_gap(w, nl) <= 0 || nl->changing)) ||
	    (nf && (tr_sim_gap(nf, w) <= 0 || nf->changing)))
		return 0;
	memset(c, 0, sizeof *c);
	c->acc_self = w->acc;
	c->acc_self_new = accel_behind(w, nl);
	if (nf) {
		c->has_new_follower = 1;
		c->acc_new_follower = nf->acc;
		c->acc_new_follower_new = accel_behind(nf, w);
	}
	int *own = lane_list(s, w->lane);
	if (w->slot > 0) {
		tr_vehicle *of = &s->v[own[w->slot - 1]];
		tr_vehicle *ol = w->slot + 1 < s->lane_count[w->lane] ? &s->v[own[w->slot + 1]] : NULL;
		if (of->changing)
			return 0;
		c->has_old_follower = 1;
		c->acc_old_follower = of->acc;
		c->acc_old_follower_new = accel_behind(of, ol);
	}
	return 1;
}

/* Picks the better of the two neighbouring lanes when MOBIL approves. */
static void decide_lane(tr_sim *s, int i)
{
	tr_vehicle *w = &s->v[i];
	int best = -1;
	double best_incentive = 0;
	for (int d = -1; d <= 1; d += 2) {
		int k = w->lane + d;
		tr_mobil_case c;
		if (k < 0 || k >= s->cfg.road.lanes || !mobil_case(s, i, k, &c))
			continue;
		double inc = tr_mobil_incentive(&w->drv, &c);
		if (tr_mobil_safe(&w->drv, &c) && inc > best_incentive) {
			best = k;
			best_incentive = inc;
		}
	}
	if (best >= 0) {
		w->lane = best;
		w->changing = 1;
	}
}

/* Ballistic update (Treiber & Kanagaraj 2015): exact for constant
** acceleration, stopping at zero speed rather than reversing. */
static void move_lengthwise(tr_vehicle *w, double dt)
{
	double v1 = w->v + w->acc * dt;
	if (v1 < 0) {
		w->x += w->acc < 0 ? -0.5 * w->v * w->v / w->acc : 0;
		v1 = 0;
	} else {
		w->x += w->v * dt + 0.5 * w->acc * dt * dt;
	}
	w->v = w->vx = v1;
}

/* Sideways at a constant speed toward the lane's centre; a slow car
** changes lanes slowly (never faster than 0.3 of its speed). */
static void move_sideways(tr_sim *s, tr_vehicle *w)
{
	double dt = s->cfg.dt;
	double target = tr_lane_centre(&s->cfg.road, w->lane);
	double dy = target - w->y;
	double speed = fmin(s->cfg.road.lane_width / s->cfg.lane_change_time, 0.3 * w->v);
	if (fabs(dy) <= speed * dt) {
		w->y = target;
		w->vy = dy / dt;
		w->changing = 0;
	} else {
		w->vy = dy > 0 ? speed : -speed;
		w->y += w->vy * dt;
	}
	w->heading = w->v > 0 ? atan2(w->vy, w->v) : 0;
	if (!w->changing && fabs(w->vy) < 1e-12)
		w->heading = 0;
}

/* New vehicles at the entrance of each lane at the steady state's flow. An
** arrival waits until its lane's last vehicle is an equilibrium gap away:
** entering slower would make the entrance a bottleneck. */
static void spawn(tr_sim *s)
{
	double t = s->steps * s->cfg.dt;
	for (int k = 0; k < s->cfg.road.lanes; k++) {
		if (t < s->spawn_time[k])
			continue;
		double rear = INFINITY, v = INFINITY;
		if (s->lane_count[k] > 0) {
			const tr_vehicle *l = &s->v[lane_list(s, k)[0]];
			rear = l->x - 0.5 * l->length;
			v = l->vx;
		}
		double v_in = fmin(steady_speed(&s->cfg), v);
		if (rear < tr_idm_equilibrium_gap(&s->cfg.driver, v_in))
			continue;
		if (add_drawn(s, 0.0, k, rear, v) < 0)
			return;
		s->spawn_time[k] += draw_interval(s);
	}
}

void tr_sim_advance(tr_sim *s)
{
	int period = (int)lround(s->cfg.mobil_period / s->cfg.dt);
	if (period < 1)
		period = 1;
	for (int i = 0; i < s->n; i++) {
		tr_vehicle *w = &s->v[i];
		if (w->kind == TR_IDM)
			w->acc = accel_behind(w, w->leader >= 0 ? &s->v[w->leader] : NULL);
	}
	/* drivers decide in turn, once per period each, staggered by id */
	for (int i = 0; i < s->n; i++) {
		tr_vehicle *w = &s->v[i];
		if (w->kind == TR_IDM && !w->changing && w->slot >= 0 &&
		    (w->id + s->steps) % period == 0)
			decide_lane(s, i);
	}
	for (int i = 0; i < s->n; i++) {
		tr_vehicle *w = &s->v[i];
		if (w->kind != TR_IDM)
			continue;
		move_lengthwise(w, s->cfg.dt);
		move_sideways(s, w);
	}
	if (s->spawn)
		spawn(s);
	s->steps++;
}

void tr_sim_step(tr_sim *s)
{
	tr_sim_advance(s);
	tr_sim_index(s);
}

int tr_sim_take_over(tr_sim *s, double x, int lane, double length, double width)
{
	int best = -1;
	int *list = lane_list(s, lane);
	for (int j = 0; j < s->lane_count[lane]; j++) {
		tr_vehicle *w = &s->v[list[j]];
		if (w->kind != TR_IDM || w->changing || w->lane != lane)
			continue;
		if (best < 0 || fabs(w->x - x) < fabs(s->v[best].x - x))
			best = list[j];
	}
	if (best < 0)
		return -1;
	tr_vehicle *e = &s->v[best];
	e->kind = TR_EGO;
	e->length = length;
	e->width = width;
	e->heading = 0;
	e->vy = 0;
	e->vx = e->v;
	e->y = tr_lane_centre(&s->cfg.road, lane);
	tr_sim_index(s);
	return s->ego;
}

int tr_sim_collides(const tr_sim *s, int i)
{
	const tr_vehicle *a = &s->v[i];
	tr_pt pa[4], pb[4];
	tr_rect_corners(a->x, a->y, a->heading, a->length, a->width, pa);
	for (int dir = -1; dir <= 1; dir += 2)
		for (int j = i + dir; j >= 0 && j < s->n; j += dir) {
			const tr_vehicle *b = &s->v[j];
			if (fabs(b->x - a->x) > MAX_REACH)
				break;
			tr_rect_corners(b->x, b->y, b->heading, b->length, b->width, pb);
			if (tr_quads_overlap(pa, pb))
				return 1;
		}
	return 0;
}
