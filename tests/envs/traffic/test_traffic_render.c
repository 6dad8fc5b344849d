/*
** test_traffic_render.c -- the observation image on constructed scenes (a
** car ahead lands on the pixels its geometry says, with exact coverage at
** its edges; markings and off-road where the road puts them; rotation with
** the ego's heading), and PPUU's costs: their values, and their gradients
** against finite differences.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

#define H 117
#define W 24
#define PPM (24.0 / 14.8)
#define PLANE (H * W)

static const tr_view view = {H, W, PPM};
static const tr_driver base = {.v0 = 30, .T = 1.5, .s0 = 2, .a = 1.0, .b = 1.5,
                               .delta = 4, .politeness = 0.2, .threshold = 0.2,
                               .b_safe = 4};

/* Three 3.7 m lanes; the ego (4.5 x 1.9) in the middle one at x = 100
** with heading h; another car (4.5 x 1.9) at (100 + ahead, y). */
static void scene(tr_sim *s, double h, double ahead, double y)
{
	tr_sim_config c = {.road = {3, 3.7, 100000}, .dt = 0.1, .driver = base,
	                   .lane_change_time = 3, .mobil_period = 1};
	assert_int_equal(tr_sim_init(s, &c, 8), 0);
	tr_sim_clear(s, 1);
	assert_int_equal(tr_sim_add(s, 100, 1, 10, &base, 4.5, 1.9), 0);
	s->v[0].kind = TR_EGO;
	s->v[0].heading = h;
	if (ahead != 0) {
		assert_int_equal(tr_sim_add(s, 100 + ahead, 1, 10, &base, 4.5, 1.9), 0);
		s->v[1].y = y;
	}
	tr_sim_index(s);
}

static float px(const float *img, int ch, int r, int c)
{
	return img[ch * PLANE + r * W + c];
}

static double channel_sum(const float *img, int ch)
{
	double t = 0;
	for (int i = 0; i < PLANE; i++)
		t += img[ch * PLANE + i];
	return t;
}

static void test_car_ahead_pixels(void **state)
{
	(void)state;
	static float img[4 * PLANE];
	tr_sim s;
	scene(&s, 0, 20, 5.55);
	tr_render_obs(&s, &view, s.ego, img);
	/* front 22.25 m ahead, rear 17.75 m: rows 58.5 - d * ppm; sides at
	** columns 12 -+ 0.95 ppm */
	double top = 58.5 - 22.25 * PPM, bottom = 58.5 - 17.75 * PPM;
	double left = 12 - 0.95 * PPM, right = 12 + 0.95 * PPM;
	assert_int_equal((int)floor(top), 22);
	assert_int_equal((int)floor(bottom), 29);
	assert_int_equal((int)floor(left), 10);
	assert_int_equal((int)floor(right), 13);
	for (int r = 23; r <= 28; r++)
		for (int c = 11; c <= 12; c++)
			assert_float_equal(px(img, TR_CH_VEHICLES, r, c), 1.0, 1e-6);
	assert_float_equal(px(img, TR_CH_VEHICLES, 22, 11), 23 - top, 1e-5);
	assert_float_equal(px(img, TR_CH_VEHICLES, 29, 12), bottom - 29, 1e-5);
	assert_float_equal(px(img, TR_CH_VEHICLES, 25, 10), 11 - left, 1e-5);
	assert_float_equal(px(img, TR_CH_VEHICLES, 25, 13), right - 13, 1e-5);
	assert_float_equal(px(img, TR_CH_VEHICLES, 22, 10), (23 - top) * (11 - left), 1e-5);
	assert_float_equal(px(img, TR_CH_VEHICLES, 21, 11), 0, 0);
	assert_float_equal(px(img, TR_CH_VEHICLES, 25, 9), 0, 0);
	assert_float_equal(channel_sum(img, TR_CH_VEHICLES), 4.5 * 1.9 * PPM * PPM, 1e-3);
	/* the ego's footprint at the centre */
	assert_float_equal(channel_sum(img, TR_CH_EGO), 4.5 * 1.9 * PPM * PPM, 1e-3);
	assert_float_equal(px(img, TR_CH_EGO, 58, 12), 1, 1e-6);
	/* markings 1.85 m either side: 3 pixels, centred on column borders
	** 9 and 15 (half a pixel each side); road edges at 9 pixels; off-road
	** beyond them */
	for (int r = 0; r < H; r += 29) {
		assert_float_equal(px(img, TR_CH_LANES, r, 8), 0.5, 1e-5);
		assert_float_equal(px(img, TR_CH_LANES, r, 9), 0.5, 1e-5);
		assert_float_equal(px(img, TR_CH_LANES, r, 14), 0.5, 1e-5);
		assert_float_equal(px(img, TR_CH_LANES, r, 15), 0.5, 1e-5);
		assert_float_equal(px(img, TR_CH_LANES, r, 12), 0, 0);
		assert_float_equal(px(img, TR_CH_LANES, r, 2), 0.5, 1e-5);
		assert_float_equal(px(img, TR_CH_LANES, r, 21), 0.5, 1e-5);
		for (int c = 0; c < W; c++)
			assert_float_equal(px(img, TR_CH_OFF_ROAD, r, c), c < 3 || c >= 21 ? 1 : 0, 1e-5);
	}
	/* a centimetre forward changes the picture */
	static float moved[4 * PLANE];
	s.v[1].x += 0.01;
	tr_render_obs(&s, &view, s.ego, moved);
	double diff = 0;
	for (int i = 0; i < PLANE; i++)
		diff += fabs(moved[TR_CH_VEHICLES * PLANE + i] - img[TR_CH_VEHICLES * PLANE + i]);
	assert_float_equal(diff, 2 * 0.01 * 1.9 * PPM * PPM, 1e-4);
	tr_sim_free(&s);
}

/* Ego heading up: when the ego turns right by h, a car straight ahead on
** the road appears left of the centre, at the rotated position. */
static void test_heading_rotates_view(void **state)
{
	(void)state;
	static float img[4 * PLANE];
	tr_sim s;
	double h = 0.1;
	scene(&s, h, 20, 5.55);
	tr_render_obs(&s, &view, s.ego, img);
	double m = 0, mr = 0, mc = 0;
	for (int r = 0; r < H; r++)
		for (int c = 0; c < W; c++) {
			double a = px(img, TR_CH_VEHICLES, r, c);
			m += a;
			mr += a * (r + 0.5);
			mc += a * (c + 0.5);
		}
	double ahead = 20 * cos(h), right = -20 * sin(h);
	assert_float_equal(m, 4.5 * 1.9 * PPM * PPM, 1e-3);
	assert_float_equal(mr / m, 58.5 - ahead * PPM, 0.05);
	assert_float_equal(mc / m, 12 + right * PPM, 0.05);
	tr_sim_free(&s);
}

static tr_cost_config cost_config(void)
{
	tr_cost_config c = {.view = view, .ego_length = 4.5, .ego_width = 1.9,
	                    .safety_time = 1.5, .safety_margin = 1.0, .lane_margin = 0.5,
	                    .lane_weight = 0.2, .off_road_weight = 1.0};
	return c;
}

static void test_cost_values(void **state)
{
	(void)state;
	static float img[4 * PLANE];
	tr_cost_config cc = cost_config();
	tr_costs k;
	tr_sim s;
	/* a car 15 m ahead: nothing at standstill (safety distance 1 m) ... */
	scene(&s, 0, 15, 5.55);
	tr_render_obs(&s, &view, s.ego, img);
	tr_costs_eval(&cc, img, 0, &k, NULL, NULL);
	assert_float_equal(k.proximity, 0, 0);
	/* ... but at 20 m/s (31 m): the mask ramp at the car's first full row,
	** row 36, whose centre is 22 pixels ahead */
	tr_costs_eval(&cc, img, 20, &k, NULL, NULL);
	double want = 1 - (22 / PPM - 2.25) / (1.5 * 20 + 1);
	assert_float_equal(k.proximity, want, 1e-6);
	/* centred in the lane, no lane or off-road cost */
	assert_float_equal(k.lane, 0, 0);
	assert_float_equal(k.off_road, 0, 0);
	assert_float_equal(k.total, want, 1e-6);
	tr_sim_free(&s);

	/* overlapping the ego: the maximum, a crash (PPUU: > 0.99) */
	scene(&s, 0, 2, 5.55);
	tr_render_obs(&s, &view, s.ego, img);
	tr_costs_eval(&cc, img, 0, &k, NULL, NULL);
	assert_float_equal(k.proximity, 1, 1e-6);
	tr_sim_free(&s);

	/* a car in the next lane: no proximity cost at any speed */
	scene(&s, 0, 1, 5.55 + 3.7);
	tr_render_obs(&s, &view, s.ego, img);
	tr_costs_eval(&cc, img, 30, &k, NULL, NULL);
	assert_float_equal(k.proximity, 0, 0);
	tr_sim_free(&s);

	/* on the marking (centred on column 12): lane cost 1, weighted 0.2 in
	** the total; over the road edge: off-road cost */
	scene(&s, 0, 0, 0);
	s.v[0].y = 3.7 - 0.5 / PPM;
	tr_render_obs(&s, &view, s.ego, img);
	tr_costs_eval(&cc, img, 10, &k, NULL, NULL);
	assert_float_equal(k.lane, 1, 1e-6);
	assert_float_equal(k.off_road, 0, 0);
	assert_float_equal(k.total, 0.2, 1e-6);
	/* straddling two columns, the line's coverage is half in each */
	s.v[0].y = 3.7;
	tr_render_obs(&s, &view, s.ego, img);
	tr_costs_eval(&cc, img, 10, &k, NULL, NULL);
	assert_float_equal(k.lane, 0.5, 1e-6);
	s.v[0].y = 0.3;
	tr_render_obs(&s, &view, s.ego, img);
	tr_costs_eval(&cc, img, 10, &k, NULL, NULL);
	assert_float_equal(k.off_road, 1, 1e-6);
	tr_sim_free(&s);
}

/* A rendered scene plus noise (so that the maxima are unique), then every
** pixel's and the speed's analytic gradient against central differences. */
static void test_cost_gradients(void **state)
{
	(void)state;
	static float img[4 * PLANE], grad[4 * PLANE];
	tr_cost_config cc = cost_config();
	tr_sim s;
	scene(&s, 0.05, 12, 6.2);
	s.v[0].y = 4.9; /* near a marking */
	tr_render_obs(&s, &view, s.ego, img);
	dd_rng rng;
	dd_rng_seed(&rng, 3, 0);
	for (int i = 0; i < 4 * PLANE; i++)
		img[i] = 0.8f * img[i] + 0.1f * dd_rng_uniform(&rng);
	double speed = 12.3, gs;
	tr_costs k;
	tr_costs_eval(&cc, img, speed, &k, grad, &gs);
	assert_true(k.proximity > 0.05 && k.lane > 0.05);
	const float eps = 1e-3f;
	double worst = 0;
	int nonzero = 0;
	for (int i = 0; i < 4 * PLANE; i++) {
		float keep = img[i];
		tr_costs p, m;
		img[i] = keep + eps;
		tr_costs_eval(&cc, img, speed, &p, NULL, NULL);
		img[i] = keep - eps;
		tr_costs_eval(&cc, img, speed, &m, NULL, NULL);
		img[i] = keep;
		double fd = (p.total - m.total) / ((double)(keep + eps) - (double)(keep - eps));
		worst = fmax(worst, fabs(fd - grad[i]));
		nonzero += grad[i] != 0;
	}
	assert_true(worst < 1e-4);
	assert_int_equal(nonzero, 3); /* one pixel per cost term */
	tr_costs p, m;
	tr_costs_eval(&cc, img, speed + 1e-4, &p, NULL, NULL);
	tr_costs_eval(&cc, img, speed - 1e-4, &m, NULL, NULL);
	assert_true(fabs(gs) > 1e-3);
	assert_float_equal(gs, (p.total - m.total) / 2e-4, 1e-6);
	tr_sim_free(&s);
}

/* The mask itself: 1 over the footprint, falling linearly to 0 at the
** safety distance lengthwise and one ego width sideways. */
static void test_proximity_mask(void **state)
{
	(void)state;
	tr_cost_config cc = cost_config();
	assert_float_equal(tr_proximity_row(&cc, 58, 0), 1, 0);
	assert_float_equal(tr_proximity_col(&cc, 12), 1, 0);
	for (int r = 0; r < H; r++) {
		double d = fabs(58.5 - (r + 0.5)) / PPM - 2.25;
		double want = d <= 0 ? 1 : fmax(0, 1 - d / (1.5 * 10 + 1));
		assert_float_equal(tr_proximity_row(&cc, r, 10), want, 1e-12);
	}
	for (int c = 0; c < W; c++) {
		double d = fabs(c + 0.5 - 12) / PPM - 0.95;
		double want = d <= 0 ? 1 : fmax(0, 1 - d / 0.95);
		assert_float_equal(tr_proximity_col(&cc, c), want, 1e-12);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_car_ahead_pixels),
		cmocka_unit_test(test_heading_rotates_view),
		cmocka_unit_test(test_cost_values),
		cmocka_unit_test(test_cost_gradients),
		cmocka_unit_test(test_proximity_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
