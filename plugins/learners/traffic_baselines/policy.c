/*
** policy.c -- the idm_driver's decisions: MOBIL picks the target lane, IDM
** the acceleration behind the leader, and a cascaded lateral controller
** (offset -> heading -> steering, inverted through the kinematic bicycle)
** the steering angle that brings the ego to the target lane's centre.
*/
#include <math.h>
#include <string.h>

#include "baselines.h"

/* Off its lane's centre by more than this (m) and moving further away, the
** ego is in the middle of a lane change: it goes on while the change stays
** safe. Below it, lane keeping's small wobbles never look like a change. */
#define COMMIT_OFFSET 0.3
/* A neighbour moving sideways faster than this (m/s) is changing lanes;
** like the env's drivers, the ego does not change next to it. */
#define CHANGING_SPEED 0.1

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static int changing(const tb_scene *s, int i)
{
	return fabs(s->car[i].vy) > CHANGING_SPEED;
}

/* -2 (free road) for a missing vehicle, as tb_scene_idm wants. */
static int or_free(int i)
{
	return i >= 0 ? i : -2;
}

/* MOBIL's view of the ego moving to lane k, as the env builds it for its own
** drivers (traffic_sim.c). Returns 0 when the target gap is taken or a
** neighbour there is changing lanes. */
static int mobil_case(const tb_config *c, const tb_scene *s, int k, tr_mobil_case *m)
{
	int nl = tb_scene_leader(s, k), nf = tb_scene_follower(s, k);
	if ((nl >= 0 && (tb_scene_gap(c, s, -1, nl) <= 0 || changing(s, nl))) ||
	    (nf >= 0 && (tb_scene_gap(c, s, nf, -1) <= 0 || changing(s, nf))))
		return 0;
	int ol = tb_scene_leader(s, s->lane), of = tb_scene_follower(s, s->lane);
	memset(m, 0, sizeof *m);
	m->acc_self = tb_scene_idm(c, s, -1, or_free(ol));
	m->acc_self_new = tb_scene_idm(c, s, -1, or_free(nl));
	if (nf >= 0) {
		m->has_new_follower = 1;
		m->acc_new_follower = tb_scene_idm(c, s, nf, or_free(nl));
		m->acc_new_follower_new = tb_scene_idm(c, s, nf, -1);
	}
	if (of >= 0) {
		m->has_old_follower = 1;
		m->acc_old_follower = tb_scene_idm(c, s, of, -1);
		m->acc_old_follower_new = tb_scene_idm(c, s, of, or_free(ol));
	}
	return 1;
}

static int valid_lane(const tb_config *c, int k)
{
	return k >= 0 && k < c->road.lanes;
}

int tb_target_lane(const tb_config *c, const tb_scene *s)
{
	tr_mobil_case m;
	double off = s->y - tr_lane_centre(&c->road, s->lane);
	if (fabs(off) > COMMIT_OFFSET && off * s->vy > 0) {
		int k = s->lane + (off > 0 ? 1 : -1);
		if (valid_lane(c, k) && mobil_case(c, s, k, &m) && tr_mobil_safe(&c->driver, &m))
			return k;
		return s->lane;  /* abort: back to the middle of its lane */
	}
	int best = s->lane;
	double best_incentive = 0;
	for (int d = -1; d <= 1; d += 2) {
		int k = s->lane + d;
		if (!valid_lane(c, k) || !mobil_case(c, s, k, &m) || !tr_mobil_safe(&c->driver, &m))
			continue;
		double incentive = tr_mobil_incentive(&c->driver, &m);
		if (incentive > best_incentive) {
			best = k;
			best_incentive = incentive;
		}
	}
	return best;
}

double tb_accel(const tb_config *c, const tb_scene *s, int target)
{
	/* the leader is the nearest car ahead in any lane the ego reaches into
	** (as the env's drivers see theirs) or in the lane it is heading for */
	int lead = -2;
	double best = INFINITY;
	for (int k = s->first_lane; k <= s->last_lane + 1; k++) {
		int lane = k <= s->last_lane ? k : target;
		int l = tb_scene_leader(s, lane);
		if (l >= 0 && tb_scene_gap(c, s, -1, l) < best) {
			best = tb_scene_gap(c, s, -1, l);
			lead = l;
		}
	}
	return tb_scene_idm(c, s, -1, lead);
}

/* Cascade: the lateral offset e sets a lateral speed -e / lateral_time
** (capped at the others' lane-change speed), hence a heading; the heading
** error sets a yaw rate (1 / heading_time); the bicycle's yaw rate
** (v / lr) sin(beta), beta = atan(tan(delta) / 2), gives the steering angle.
** Linearised, tau_h y'' + y' + y / tau_y = 0: damping
** sqrt(tau_y / tau_h) / 2, 0.91 on the defaults, so no overshoot to speak of. */
double tb_steer(const tb_config *c, const tb_scene *s, int target)
{
	if (s->v < 0.1)
		return 0;  /* a standing car cannot turn */
	double e = s->y - tr_lane_centre(&c->road, target);
	double vy_max = fmin(c->road.lane_width / c->lane_change_time, 0.3 * s->v);
	double vy = clamp(-e / c->lateral_time, -vy_max, vy_max);
	double heading = asin(vy / s->v);
	double yaw_rate = (heading - s->heading) / c->heading_time;
	double lr = 0.5 * c->wheelbase;
	double beta = asin(clamp(yaw_rate * lr / s->v, -0.99, 0.99));
	return atan(2.0 * tan(beta));
}

void tb_policy_act(const tb_config *c, const tb_scene *s, float action[2])
{
	int target = tb_target_lane(c, s);
	double a = clamp(tb_accel(c, s, target), -c->max_brake, c->max_accel);
	action[0] = (float)(a >= 0 ? a / c->max_accel : a / c->max_brake);
	action[1] = (float)clamp(tb_steer(c, s, target) / c->max_steer, -1, 1);
}
