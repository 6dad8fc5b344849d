/*
** test_traffic_models.c -- the traffic env's driver and vehicle models: IDM
** against its formula and its steady state, MOBIL's criteria and the lane
** changes they cause, the kinematic bicycle, and the simulator's traffic
** (no overlaps over long runs, density kept, determinism per seed).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "traffic.h"

static const tr_driver base = {.v0 = 30, .T = 1.5, .s0 = 2, .a = 1.0, .b = 1.5,
                               .delta = 4, .politeness = 0.2, .threshold = 0.2,
                               .b_safe = 4};

static tr_sim_config config(int lanes, double length, double density)
{
	tr_sim_config c = {
		.road = {lanes, 3.7, length}, .dt = 0.1, .density = density,
		.driver = base, .variation = 0.1, .lane_change_time = 3, .mobil_period = 1,
		.length_min = 4.2, .length_max = 5.0, .width_min = 1.7, .width_max = 2.0,
	};
	return c;
}

/* A sim with no entering traffic, for hand-built scenes. */
static void empty_sim(tr_sim *s, int lanes)
{
	tr_sim_config c = config(lanes, 100000, 0);
	assert_int_equal(tr_sim_init(s, &c, 64), 0);
	tr_sim_clear(s, 1);
	s->spawn = 0;
}

static tr_vehicle *find(tr_sim *s, int id)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i].id == id)
			return &s->v[i];
	fail_msg("vehicle %d is gone", id);
	return NULL;
}

static void test_idm_formula(void **state)
{
	(void)state;
	/* a (1 - (v / v0)^4 - (s_star / s)^2), s_star = s0 + v T + v dv / (2 sqrt(a b)) */
	double v = 20, s = 30, dv = 2;
	double star = 2 + 20 * 1.5 + 20 * 2 / (2 * sqrt(1.0 * 1.5));
	double want = 1.0 * (1 - pow(20 / 30.0, 4) - (star / s) * (star / s));
	assert_float_equal(tr_idm_accel(&base, v, s, dv), want, 1e-12);
	assert_float_equal(tr_idm_accel(&base, 10, INFINITY, 0), 1 - pow(1 / 3.0, 4), 1e-12);
	/* a fast approach never shrinks s* below s0 */
	assert_float_equal(tr_idm_accel(&base, 10, 50, -100), 1 - pow(1 / 3.0, 4) - pow(2 / 50.0, 2),
	                   1e-12);

	/* the same through the simulator: a follower 30 m behind its leader */
	tr_sim s_;
	empty_sim(&s_, 1);
	tr_driver slow = base;
	slow.v0 = 18;
	assert_int_equal(tr_sim_add(&s_, 100, 0, 18, &slow, 4.5, 1.8), 0);            /* id 1 */
	assert_int_equal(tr_sim_add(&s_, 100 - 30 - 4.5, 0, 20, &base, 4.5, 1.8), 0);  /* id 2 */
	tr_sim_index(&s_);
	tr_sim_advance(&s_);
	assert_float_equal(find(&s_, 2)->acc, want, 1e-12);
	assert_float_equal(find(&s_, 1)->acc, 0.0, 1e-12); /* at its desired speed */
	tr_sim_free(&s_);
}

static void test_idm_equilibrium(void **state)
{
	(void)state;
	for (double v = 1; v < 29; v += 3.7) {
		double g = tr_idm_equilibrium_gap(&base, v);
		assert_float_equal(tr_idm_accel(&base, v, g, 0), 0.0, 1e-9);
		assert_float_equal(tr_idm_equilibrium_speed(&base, g), v, 1e-9);
	}
	assert_true(isinf(tr_idm_equilibrium_gap(&base, 30)));
	assert_float_equal(tr_idm_equilibrium_speed(&base, 1.5), 0.0, 0);

	/* car following: a follower catching up with a leader at 15 m/s settles
	** at the equilibrium gap of 15 m/s */
	tr_sim s;
	empty_sim(&s, 1);
	tr_driver lead = base;
	lead.v0 = 15;
	assert_int_equal(tr_sim_add(&s, 200, 0, 15, &lead, 4.5, 1.8), 0);
	assert_int_equal(tr_sim_add(&s, 100, 0, 25, &base, 4.5, 1.8), 0);
	tr_sim_index(&s);
	double min_gap = INFINITY;
	for (int i = 0; i < 3000; i++) {
		tr_sim_step(&s);
		min_gap = fmin(min_gap, tr_sim_gap(find(&s, 2), find(&s, 1)));
	}
	double g = tr_sim_gap(find(&s, 2), find(&s, 1));
	double want = tr_idm_equilibrium_gap(&base, 15);
	assert_float_equal(find(&s, 2)->v, 15.0, 0.01);
	assert_float_equal(g, want, 0.01 * want);
	assert_true(min_gap > base.s0); /* it never came closer than s0 */
	tr_sim_free(&s);
}

static void test_mobil_criteria(void **state)
{
	(void)state;
	tr_driver d = base;
	d.politeness = 0.5;
	tr_mobil_case c = {.acc_self = -1, .acc_self_new = 0.5,
	                   .has_new_follower = 1, .acc_new_follower = 0, .acc_new_follower_new = -0.4,
	                   .has_old_follower = 1, .acc_old_follower = -0.2, .acc_old_follower_new = 0.3};
	assert_float_equal(tr_mobil_incentive(&d, &c), 1.5 + 0.5 * (-0.4 + 0.5) - 0.2, 1e-12);
	assert_true(tr_mobil_safe(&d, &c));
	c.acc_new_follower_new = -4.5; /* the new follower would brake beyond b_safe */
	assert_false(tr_mobil_safe(&d, &c));
	c.has_new_follower = 0;
	assert_true(tr_mobil_safe(&d, &c));
	/* a gain below the threshold is no reason to move */
	tr_mobil_case small = {.acc_self = 0, .acc_self_new = 0.15};
	assert_true(tr_mobil_incentive(&d, &small) < 0);
}

/* A fast car (25 m/s) 25 m behind a slow one (10 m/s) in lane 0 of two; a
** car in lane 1 at `other_x` (or none). Returns the fast car's lane after
** `steps`. */
static int fast_car_lane(double other_x, double other_v, int steps, double *y_out)
{
	tr_sim s;
	empty_sim(&s, 2);
	tr_driver slow = base;
	slow.v0 = 10;
	assert_int_equal(tr_sim_add(&s, 1000, 0, 10, &slow, 4.5, 1.8), 0);        /* id 1 */
	assert_int_equal(tr_sim_add(&s, 1000 - 29.5, 0, 25, &base, 4.5, 1.8), 0);  /* id 2 */
	if (other_x > 0)
		assert_int_equal(tr_sim_add(&s, other_x, 1, other_v, &base, 4.5, 1.8), 0);
	/* drivers decide when (id + step) is a multiple of 10: the fast car at
	** step 0, the others never within these tests */
	s.v[0].id = 1;
	s.v[1].id = 10;
	if (other_x > 0)
		s.v[2].id = 3;
	tr_sim_index(&s);
	for (int i = 0; i < steps; i++)
		tr_sim_step(&s);
	tr_vehicle *w = find(&s, 10);
	int lane = w->lane;
	*y_out = w->y;
	tr_sim_free(&s);
	return lane;
}

static void test_mobil_lane_change(void **state)
{
	(void)state;
	double y;
	/* free lane beside: it overtakes, and 3 s later sits in its centre */
	assert_int_equal(fast_car_lane(0, 0, 10, &y), 1);
	assert_int_equal(fast_car_lane(0, 0, 45, &y), 1);
	assert_float_equal(y, 1.5 * 3.7, 1e-9);
	/* a fast car right behind in lane 1 would have to brake too hard:
	** the change is unsafe and does not happen */
	assert_int_equal(fast_car_lane(1000 - 36, 30, 1, &y), 0);
	assert_float_equal(y, 0.5 * 3.7, 1e-9);
	/* a slower car alongside in lane 1 makes the gap physically taken */
	assert_int_equal(fast_car_lane(1000 - 29.5, 10, 1, &y), 0);
}

static void test_bicycle(void **state)
{
	(void)state;
	double vx, vy;
	tr_bicycle b = {0, 0, 0, 10};
	tr_bicycle_step(&b, 2.7, 2, 0, 0.1, &vx, &vy);
	assert_float_equal(b.v, 10.2, 1e-12);
	assert_float_equal(b.x, 1.01, 1e-12);   /* v t + a t^2 / 2 */
	assert_float_equal(b.y, 0, 0);
	assert_float_equal(vx, 10.2, 1e-12);
	/* braking stops, never reverses */
	tr_bicycle_step(&b, 2.7, -200, 0, 0.1, &vx, &vy);
	assert_float_equal(b.v, 0, 0);
	/* constant steering at constant speed: a circle of radius lr / sin(beta)
	** about the centre; positive steering turns right (+y) */
	double steer = 0.1, lr = 1.35, beta = atan(0.5 * tan(steer));
	double R = lr / sin(beta);
	tr_bicycle c = {0, 0, 0, 10};
	tr_bicycle_step(&c, 2.7, 0, steer, 0.1, &vx, &vy);
	assert_float_equal(c.heading, 10 / lr * sin(beta) * 0.1, 1e-12);
	assert_true(c.y > 0);
	c = (tr_bicycle){0, 0, 0, 10};
	double dt = 0.001, period = 2 * M_PI * R / 10;
	int n = (int)lround(period / dt);
	double maxdist = 0;
	for (int i = 0; i < n; i++) {
		tr_bicycle_step(&c, 2.7, 0, steer, dt, &vx, &vy);
		maxdist = fmax(maxdist, hypot(c.x, c.y));
	}
	assert_float_equal(maxdist, 2 * R, 1e-3 * R);        /* the far side of the circle */
	assert_float_equal(hypot(c.x, c.y), 0, 0.01); /* back to the start, within 1 cm */
	assert_float_equal(c.heading, 2 * M_PI, 1e-2);
}

/* Long runs of dense traffic: no two vehicles ever overlap, lane changes
** happen, and vehicles enter and leave. */
static void test_no_collisions_long_run(void **state)
{
	(void)state;
	tr_sim_config c = config(3, 1000, 30);
	c.variation = 0.2; /* drivers unlike each other overtake more */
	tr_sim s;
	assert_int_equal(tr_sim_init(&s, &c, tr_sim_capacity(&c)), 0);
	tr_sim_clear(&s, 42);
	tr_sim_populate(&s);
	int first_id = s.next_id, changes = 0;
	static int lane_of_id[100000];
	for (int t = 0; t < 3000; t++) { /* 5 minutes */
		for (int i = 0; i < s.n; i++)
			lane_of_id[s.v[i].id] = s.v[i].lane;
		int before = s.next_id;
		tr_sim_step(&s);
		assert_true(s.next_id < 100000);
		for (int i = 0; i < s.n; i++) {
			if (tr_sim_collides(&s, i))
				fail_msg("step %d: vehicle %d overlaps another", t, s.v[i].id);
			changes += s.v[i].id < before && s.v[i].lane != lane_of_id[s.v[i].id];
		}
	}
	print_message("%d lane changes\n", changes);
	assert_true(changes > 50);
	assert_true(s.next_id - first_id > 100);   /* vehicles entered ... */
	int old = 0;
	for (int i = 0; i < s.n; i++)
		old += s.v[i].id < first_id;
	assert_int_equal(old, 0);                  /* ... and the first ones left */
	tr_sim_free(&s);
}

static void test_density_kept(void **state)
{
	(void)state;
	tr_sim_config c = config(2, 2000, 20);
	tr_sim s;
	assert_int_equal(tr_sim_init(&s, &c, tr_sim_capacity(&c)), 0);
	tr_sim_clear(&s, 5);
	tr_sim_populate(&s);
	int at_start = s.n;
	assert_true(fabs(at_start - 80.0) < 16); /* 2 lanes x 2 km x 20 / km */
	for (int t = 0; t < 2000; t++)
		tr_sim_step(&s);
	int on_road = 0;
	for (int i = 0; i < s.n; i++)
		on_road += s.v[i].x >= 0 && s.v[i].x <= c.road.length;
	assert_true(fabs(on_road - 80.0) < 24);
	tr_sim_free(&s);
}

static void run_sim(uint64_t seed, int steps, tr_sim *s)
{
	tr_sim_config c = config(3, 600, 30);
	assert_int_equal(tr_sim_init(s, &c, tr_sim_capacity(&c)), 0);
	tr_sim_clear(s, seed);
	tr_sim_populate(s);
	for (int t = 0; t < steps; t++)
		tr_sim_step(s);
}

static void test_determinism(void **state)
{
	(void)state;
	tr_sim a, b, c;
	run_sim(9, 500, &a);
	run_sim(9, 500, &b);
	run_sim(10, 500, &c);
	assert_int_equal(a.n, b.n);
	for (int i = 0; i < a.n; i++) {
		assert_int_equal(a.v[i].id, b.v[i].id);
		assert_true(a.v[i].x == b.v[i].x && a.v[i].y == b.v[i].y && a.v[i].v == b.v[i].v);
	}
	int same = a.n == c.n;
	for (int i = 0; same && i < a.n; i++)
		same = a.v[i].x == c.v[i].x;
	assert_false(same);
	tr_sim_free(&a);
	tr_sim_free(&b);
	tr_sim_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idm_formula),
		cmocka_unit_test(test_idm_equilibrium),
		cmocka_unit_test(test_mobil_criteria),
		cmocka_unit_test(test_mobil_lane_change),
		cmocka_unit_test(test_bicycle),
		cmocka_unit_test(test_no_collisions_long_run),
		cmocka_unit_test(test_density_kept),
		cmocka_unit_test(test_determinism),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
