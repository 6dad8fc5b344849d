/*
** test_blocks_physics.c -- the blocks env's parts on hand-made cases: the
** analytic margin on towers worked out on paper, Chipmunk towers built
** block by block (a centre of mass past its support falls, a counterweight
** saves it), and the rasteriser's coverage.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "blocks.h"

static blocks_cfg cfg(void)
{
	return (blocks_cfg){.gravity = 9.81, .friction = 0.8, .restitution = 0, .dt = 1.0 / 240,
	                    .iterations = 10, .substeps = 8};
}

/* Unit blocks (1 x 0.5 m, mass 1) stacked straight at the given x. */
static int stack(blocks_block *b, const double *x, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (blocks_block){.w = 1, .h = 0.5, .mass = 1, .x = x[i], .y = 0.25 + 0.5 * i};
	return n;
}

static void test_margin_by_hand(void **state)
{
	(void)state;
	blocks_block b[3];
	/* Top block 0.3 off: its centre is 0.2 inside block 0's edge at 0.5;
	** the pair's centre of mass (0.15) is 0.35 inside the floor support. */
	stack(b, (double[]){0, 0.3}, 2);
	assert_true(fabs(blocks_margin(b, 2) - 0.2) < 1e-12);
	/* 0.6 off: 0.1 past the edge. */
	stack(b, (double[]){0, 0.6}, 2);
	assert_true(fabs(blocks_margin(b, 2) + 0.1) < 1e-12);
	/* A counterweight at 0.2 on it: the upper pair's centre (0.4) lies 0.1
	** inside the contact [0.1, 0.5]; the top block's 0.2 is 0.1 inside
	** [0.1, 0.7]; the whole tower's 0.267 is 0.233 inside the floor's. */
	stack(b, (double[]){0, 0.6, 0.2}, 3);
	assert_true(fabs(blocks_margin(b, 3) - 0.1) < 1e-12);
	/* Masses weigh in: the upper pair at 0.45 and 0.9 has its centre at
	** 0.675, past block 0's edge; a middle block ten times heavier pulls it
	** back to 5.4 / 11, just inside. */
	stack(b, (double[]){0, 0.45, 0.9}, 3);
	assert_true(fabs(blocks_margin(b, 3) + 0.175) < 1e-12);
	b[1].mass = 10;
	assert_true(fabs(blocks_margin(b, 3) - (0.5 - 5.4 / 11)) < 1e-12);
	/* No overlap at all. */
	stack(b, (double[]){0, 1.2}, 2);
	assert_true(blocks_margin(b, 2) < -0.5);
	/* One block on the floor: half its width. */
	assert_true(fabs(blocks_margin(b, 1) - 0.5) < 1e-12);
}

/* Builds the tower in a fresh world, runs `seconds` and returns how far
** the furthest block moved. */
static double simulate(const blocks_block *b, int n, double seconds, double gravity)
{
	blocks_cfg c = cfg();
	c.gravity = gravity;
	blocks_world *w = blocks_world_new(&c);
	assert_non_null(w);
	for (int i = 0; i < n; i++)
		assert_int_equal(blocks_world_add(w, &b[i]), i);
	blocks_world_step(w, (int)(seconds / c.dt));
	double moved = 0;
	for (int i = 0; i < n; i++) {
		double p[6];
		blocks_world_pose(w, i, p);
		moved = fmax(moved, hypot(p[0] - b[i].x, p[1] - b[i].y));
	}
	blocks_world_free(w);
	return moved;
}

static void test_centre_of_mass_past_support_falls(void **state)
{
	(void)state;
	blocks_block b[3];
	stack(b, (double[]){0, 0.45}, 2);        /* 0.05 inside the edge */
	assert_true(simulate(b, 2, 3, 9.81) < 5e-3);
	stack(b, (double[]){0, 0.55}, 2);        /* 0.05 past it */
	assert_true(simulate(b, 2, 3, 9.81) > 0.25);
	/* Without gravity nothing falls. */
	assert_true(simulate(b, 2, 3, 0) < 1e-6);
	/* The counterweighted overhang stands; without its counterweight the
	** middle block's centre is past the edge and it falls. */
	stack(b, (double[]){0, 0.6, 0.2}, 3);
	assert_true(simulate(b, 3, 3, 9.81) < 5e-3);
	assert_true(simulate(b, 2, 3, 9.81) > 0.25);
}

/* A block dropped 1 m: without restitution it lies on the floor 0.25 s
** after the impact; with 0.8 it is still in the air, bounced up by about
** 0.8 x 4.4 m/s (0.58 m up at that time). */
static void test_restitution(void **state)
{
	(void)state;
	double y[2];
	for (int k = 0; k < 2; k++) {
		blocks_cfg c = cfg();
		c.restitution = k ? 0.8 : 0;
		blocks_world *w = blocks_world_new(&c);
		blocks_block b = {.w = 1, .h = 0.5, .mass = 1, .y = 1.25};
		blocks_world_add(w, &b);
		blocks_world_step(w, (int)((sqrt(2 / 9.81) + 0.25) * 240));
		double p[6];
		blocks_world_pose(w, 0, p);
		y[k] = p[1];
		blocks_world_free(w);
	}
	assert_true(fabs(y[0] - 0.25) < 0.01);
	assert_true(y[1] - 0.25 > 0.4 && y[1] - 0.25 < 0.7);
}

/* The same blocks give the same poses, step for step. */
static void test_world_is_deterministic(void **state)
{
	(void)state;
	blocks_block b[3];
	stack(b, (double[]){0, 0.5, 0.9}, 3);
	blocks_cfg c = cfg();
	double pose[2][6];
	for (int run = 0; run < 2; run++) {
		blocks_world *w = blocks_world_new(&c);
		for (int i = 0; i < 3; i++)
			blocks_world_add(w, &b[i]);
		blocks_world_step(w, 500);
		blocks_world_pose(w, 2, pose[run]);
		blocks_world_free(w);
	}
	assert_memory_equal(pose[0], pose[1], sizeof pose[0]);
	assert_true(pose[0][1] < 1.0); /* it did fall */
}

/* A canvas of 10 px per metre: 100 x 100 px showing 10 m. */
static void canvas(blocks_canvas *c, int samples)
{
	assert_int_equal(blocks_canvas_init(c, 100, 100, 10, samples), 0);
	assert_true(fabs(c->scale - 10) < 1e-12);
}

static void test_raster_coverage(void **state)
{
	(void)state;
	blocks_canvas c;
	canvas(&c, 4);
	float *img = malloc(3 * 100 * 100 * sizeof *img), *mask = malloc(100 * 100 * sizeof *mask);
	size_t plane = 100 * 100;
	/* A 2 x 1 m red block whose edges fall on pixel boundaries: x in
	** [-1, 1] is pixels 40..59, y in [1, 2] is rows 70..79 (floor at 90). */
	blocks_quad q = {.x = 0, .y = 1.5, .w = 2, .h = 1, .rgb = {1, 0, 0}};
	blocks_raster(&c, &q, 1, img, mask, 1);
	double count = 0;
	for (int y = 0; y < 100; y++)
		for (int x = 0; x < 100; x++) {
			int in = x >= 40 && x < 60 && y >= 70 && y < 80;
			assert_true(mask[y * 100 + x] == in);
			if (in)
				assert_true(img[y * 100 + x] == 1 && img[plane + y * 100 + x] == 0);
			count += mask[y * 100 + x];
		}
	assert_true(count == 200);
	/* Shifted by half a pixel, the edge columns are half red, half sky. */
	q.x = 0.05;
	blocks_raster(&c, &q, 1, img, mask, 1);
	float sky_g = img[plane];   /* top-left corner: sky */
	assert_true(fabsf(img[plane + 75 * 100 + 40] - sky_g / 2) < 1e-6f);
	assert_true(fabsf(img[plane + 75 * 100 + 60] - sky_g / 2) < 1e-6f);
	/* A square turned 45 degrees: the coverage adds up to its area. */
	blocks_quad d = {.x = 0.3, .y = 4, .w = 2, .h = 2, .angle = M_PI / 4, .rgb = {0, 0, 1}};
	blocks_raster(&c, &d, 1, img, mask, 1);
	double cover = 0;
	for (size_t i = 0; i < 90 * 100; i++)   /* the sky part, above the floor */
		cover += 1 - img[i] / img[0];   /* red goes from sky's to 0 with coverage */
	assert_true(fabs(cover - 400) < 4);
	/* The floor: rows at and below 90 are floor-coloured, above sky. */
	assert_true(img[89 * 100] > 0.9f && img[90 * 100] < 0.5f);
	blocks_canvas_free(&c);
	free(img);
	free(mask);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_margin_by_hand),
		cmocka_unit_test(test_centre_of_mass_past_support_falls),
		cmocka_unit_test(test_restitution),
		cmocka_unit_test(test_world_is_deterministic),
		cmocka_unit_test(test_raster_coverage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
