/*
** test_blocks_env.c -- the blocks env as the host sees it: spaces,
** determinism, the falls label against the analytic static-stability
** criterion, masks against the rendered pixels, stack mode's rewards and
** endings, render(), and the errors bad parameters get.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>

#include "blocks_testkit.h"

enum { X, Y, ANGLE, VX, VY, OMEGA, WIDTH, HEIGHT, MASS, PRESENT, ROW };

/* Towers whose margin is within this of an edge are too close to call. */
#define HAIR 0.02

static void test_spaces(void **state)
{
	(void)state;
	tk_env *e = tk_new(NULL);
	assert_non_null(e);
	assert_int_equal(e->sp->n_obs, 3);
	assert_string_equal(e->sp->obs[0].name, "image");
	assert_int_equal(e->sp->obs[0].dims[0], 3);
	assert_int_equal(e->sp->obs[0].dims[1], 64);
	assert_int_equal(e->sp->obs[0].dims[2], 64);
	assert_string_equal(e->sp->obs[1].name, "masks");
	assert_int_equal(e->sp->obs[1].dims[0], 4);
	assert_string_equal(e->sp->obs[2].name, "state");
	assert_int_equal(e->sp->obs[2].dims[0], 4);
	assert_int_equal(e->sp->obs[2].dims[1], ROW);
	assert_int_equal(e->sp->action_kind, DD_ACTION_BOX);
	assert_int_equal(e->sp->action_dim, 1);
	assert_int_equal(e->sp->render_width, 256);
	assert_int_equal(e->sp->render_height, 256);
	assert_true(tk_info(e, "falls") >= 0 && tk_info(e, "moved_max") >= 0 &&
	            tk_info(e, "top_drop") >= 0 && tk_info(e, "margin") >= 0);
	tk_free(e);

	const char *state_only[] = {"obs=state", "max_blocks=6", "mode=stack", "rotate=true", NULL};
	e = tk_new(state_only);
	assert_non_null(e);
	assert_int_equal(e->sp->n_obs, 1);
	assert_string_equal(e->sp->obs[0].name, "state");
	assert_int_equal(e->sp->obs[0].dims[0], 6);
	assert_int_equal(e->sp->action_dim, 2);
	tk_free(e);
}

/* Same seed, same trajectory (every tensor, bit for bit, from two separate
** instances); another seed, another tower. */
static void test_determinism(void **state)
{
	(void)state;
	const char *sets[] = {"max_steps=40", NULL};
	tk_env *a = tk_new(sets), *b = tk_new(sets);
	assert_non_null(a);
	assert_non_null(b);
	size_t n[3];
	for (int k = 0; k < 3; k++)
		n[k] = dd_tensor_spec_count(&a->sp->obs[k]) * sizeof(float);
	for (uint64_t seed = 11; seed < 14; seed++) {
		assert_int_equal(tk_reset(a, seed), DD_OK);
		tk_step(a, 0, 0); /* leave a in mid-episode: reset must start afresh */
		assert_int_equal(tk_reset(a, seed), DD_OK);
		assert_int_equal(tk_reset(b, seed), DD_OK);
		for (int t = 0; t < 40; t++) {
			for (int k = 0; k < 3; k++)
				assert_memory_equal(a->obs[k], b->obs[k], n[k]);
			assert_memory_equal(a->info, b->info, sizeof a->info);
			assert_int_equal(tk_step(a, 0.3f, 0), DD_OK);
			assert_int_equal(tk_step(b, -0.7f, 0), DD_OK); /* ignored in tower mode */
		}
	}
	tk_reset(a, 1);
	tk_reset(b, 2);
	assert_memory_not_equal(a->obs[2], b->obs[2], n[2]);
	tk_free(a);
	tk_free(b);
}

static void test_single_block_stays(void **state)
{
	(void)state;
	const char *sets[] = {"min_blocks=1", "max_blocks=1", "max_steps=150", NULL};
	tk_env *e = tk_new(sets);
	assert_non_null(e);
	for (uint64_t seed = 1; seed <= 3; seed++) {
		tk_reset(e, seed);
		float *s = tk_obs(e, "state");
		float x0 = s[X], y0 = s[Y], h = s[HEIGHT];
		assert_true(fabsf(y0 - h / 2) < 1e-6f);
		do
			assert_int_equal(tk_step(e, 0, 0), DD_OK);
		while (!e->out.truncated);
		assert_true(fabsf(s[X] - x0) < 1e-4f);
		assert_true(fabsf(s[Y] - y0) < 5e-3f);   /* settles within the contact slop */
		assert_true(fabsf(s[ANGLE]) < 1e-4f);
		assert_true(fabsf(s[VX]) + fabsf(s[VY]) < 1e-3f);
		assert_true(e->info[tk_info(e, "falls")] == 0);
		assert_true(e->info[tk_info(e, "margin")] > 0);
		/* Where the block ended up is an info stat too. */
		assert_true(e->info[tk_info(e, "x0")] == s[X] && e->info[tk_info(e, "y0")] == s[Y]);
	}
	tk_free(e);
}

/* The criterion, written independently of the plugin: for each contact k
** (k = 0 the floor), the centre of mass of blocks k.. must lie within the
** overlap of block k and the one below. */
static double analytic_margin(const float *s, int n)
{
	double margin = 1e9;
	for (int k = 0; k < n; k++) {
		double m = 0, mx = 0;
		for (int j = k; j < n; j++) {
			m += s[j * ROW + MASS];
			mx += s[j * ROW + MASS] * s[j * ROW + X];
		}
		const float *b = s + k * ROW;
		double lo = b[X] - b[WIDTH] / 2, hi = b[X] + b[WIDTH] / 2;
		if (k > 0) {
			const float *under = b - ROW;
			if (under[X] - under[WIDTH] / 2 > lo)
				lo = under[X] - under[WIDTH] / 2;
			if (under[X] + under[WIDTH] / 2 < hi)
				hi = under[X] + under[WIDTH] / 2;
		}
		double com = mx / m;
		double d = com - lo < hi - com ? com - lo : hi - com;
		if (d < margin)
			margin = d;
	}
	return margin;
}

/* The falls label of random straight towers against the criterion, on
** towers clear of the edge by HAIR: >= 98 % must agree. */
static void test_falls_matches_static_stability(void **state)
{
	(void)state;
	const char *sets[] = {"obs=state", NULL};
	tk_env *e = tk_new(sets);
	assert_non_null(e);
	int i_falls = tk_info(e, "falls"), i_margin = tk_info(e, "margin"), i_blocks = tk_info(e, "blocks");
	int agree = 0, judged = 0, stable = 0, close = 0;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		tk_reset(e, seed);
		int n = (int)e->info[i_blocks];
		assert_true(n >= 2 && n <= 4);
		const float *s = tk_obs(e, "state");
		double margin = analytic_margin(s, n);
		assert_true(fabs(margin - e->info[i_margin]) < 1e-5);
		for (int k = 0; k < n; k++)
			assert_true(s[k * ROW + ANGLE] == 0 && s[k * ROW + PRESENT] == 1);
		do
			tk_step(e, 0, 0);
		while (!e->out.truncated && !e->out.terminated);
		if (fabs(margin) < HAIR) {
			close++;
			continue;
		}
		int falls = e->info[i_falls] > 0.5f;
		judged++;
		stable += margin > 0;
		agree += falls == (margin < 0);
	}
	print_message("falls vs criterion: %d of %d agree (%.1f %%), %d stable, %d too close\n",
	              agree, judged, 100.0 * agree / judged, stable, close);
	assert_true(judged >= 250);
	assert_true(stable > judged / 4 && stable < 3 * judged / 4); /* both kinds drawn */
	assert_true(agree >= 0.98 * judged);
	tk_free(e);
}

/* Distance between two colours (squared). */
static float dist2(const float *image, size_t plane, size_t i, const float c[3])
{
	float d = 0;
	for (int k = 0; k < 3; k++)
		d += (image[k * plane + i] - c[k]) * (image[k * plane + i] - c[k]);
	return d;
}

/* Without anti-aliasing every pixel is one block's colour or background,
** and each mask is exactly the pixels of its block's colour. With it, a
** mask pixel is nearer its block's colour than the sky's, and the mask's
** area is the block's area in pixels to within its outline. */
static void test_masks_cover_rendered_pixels(void **state)
{
	(void)state;
	for (int aa = 1; aa <= 4; aa += 3) {
		char aa_set[32];
		snprintf(aa_set, sizeof aa_set, "antialias=%d", aa);
		const char *sets[] = {aa_set, "min_blocks=4", "max_blocks=4", "stable_share=1", NULL};
		tk_env *e = tk_new(sets);
		assert_non_null(e);
		tk_reset(e, 5);
		for (int t = 0; t < 10; t++)
			tk_step(e, 0, 0);
		const float *image = tk_obs(e, "image"), *masks = tk_obs(e, "masks"),
		            *s = tk_obs(e, "state");
		size_t plane = 64 * 64;
		/* Each block's colour: the pixel at its centre. */
		float col[4][3], sky[3] = {image[0], image[plane], image[2 * plane]};
		double px_per_m = 64 / (4 * 0.9 / 0.75);
		for (int b = 0; b < 4; b++) {
			int cx = (int)floor(32 + s[b * ROW + X] * px_per_m);
			int cy = (int)floor(64 * 0.9 - s[b * ROW + Y] * px_per_m);
			for (int k = 0; k < 3; k++)
				col[b][k] = image[k * plane + (size_t)cy * 64 + cx];
			assert_true(masks[b * plane + (size_t)cy * 64 + cx] == 1);
			double area = s[b * ROW + WIDTH] * s[b * ROW + HEIGHT] * px_per_m * px_per_m;
			double outline = (s[b * ROW + WIDTH] + s[b * ROW + HEIGHT]) * px_per_m;
			double count = 0;
			for (size_t i = 0; i < plane; i++)
				count += masks[b * plane + i];
			assert_true(fabs(count - area) <= outline + 2);
		}
		int bad = 0, marked = 0;
		for (size_t i = 0; i < plane; i++) {
			int owner = -1, owners = 0;
			for (int b = 0; b < 4; b++)
				if (masks[b * plane + i] == 1) {
					owner = b;
					owners++;
				} else {
					assert_true(masks[b * plane + i] == 0);
				}
			assert_true(owners <= 1);
			marked += owners;
			if (aa == 1) {
				/* Exact: a block's colour where its mask is, else not. */
				for (int b = 0; b < 4; b++)
					bad += (dist2(image, plane, i, col[b]) == 0) != (owner == b);
			} else if (owner >= 0) {
				bad += dist2(image, plane, i, col[owner]) >= dist2(image, plane, i, sky);
			}
		}
		assert_true(marked > 100);
		assert_int_equal(bad, 0);
		tk_free(e);
	}
}

/* Image values are in [0, 1], and the anti-aliased image has in-between
** shades at block edges that the aliased one lacks. */
static void test_image_range_and_antialiasing(void **state)
{
	(void)state;
	int shades[2];
	for (int v = 0; v < 2; v++) {
		const char *sets[] = {v ? "antialias=4" : "antialias=1", "min_blocks=3", NULL};
		tk_env *e = tk_new(sets);
		assert_non_null(e);
		tk_reset(e, 9);
		const float *image = tk_obs(e, "image");
		/* Count distinct red values: flat colours plus edge blends. */
		float seen[4096];
		int n = 0;
		for (size_t i = 0; i < 64 * 64; i++) {
			assert_true(image[i] >= 0 && image[i] <= 1);
			int found = 0;
			for (int j = 0; j < n && !found; j++)
				found = seen[j] == image[i];
			if (!found && n < 4096)
				seen[n++] = image[i];
		}
		shades[v] = n;
		tk_free(e);
	}
	assert_true(shades[0] <= 8);
	assert_true(shades[1] > 3 * shades[0]);
}

static void test_render(void **state)
{
	(void)state;
	tk_env *e = tk_new(NULL);
	assert_non_null(e);
	uint8_t *rgb = malloc(256 * 256 * 3);
	assert_int_equal(e->vt->render(e->h, rgb), DD_ERR);
	assert_non_null(strstr(tk_err, "before the first reset"));
	tk_reset(e, 3);
	assert_int_equal(e->vt->render(e->h, rgb), DD_OK);
	/* The render is the observation at 4x: the sky's corner pixel agrees. */
	const float *image = tk_obs(e, "image");
	for (int k = 0; k < 3; k++)
		assert_true(abs(rgb[k] - (int)(image[k * 64 * 64] * 255 + 0.5f)) <= 1);
	/* The bottom row is floor (darker than the sky's top row). */
	assert_true(rgb[3 * (255 * 256)] < rgb[0] - 50);
	free(rgb);
	tk_free(e);
}

/* Stack mode: a centred drop gains about the block's height and the
** episode goes on; a drop far off the tower's edge ends it. Dropping every
** block centred truncates at the budget. */
static void test_stack(void **state)
{
	(void)state;
	const char *sets[] = {"mode=stack", "max_blocks=3", "obs=state", NULL};
	tk_env *e = tk_new(sets);
	assert_non_null(e);
	tk_reset(e, 4);
	float *s = tk_obs(e, "state");
	assert_true(s[PRESENT] == 0 && s[WIDTH] > 0);   /* the next block's size is shown */
	assert_true(e->info[tk_info(e, "height")] == 0);
	float total = 0;
	for (int i = 0; i < 3; i++) {
		float h = s[i * ROW + HEIGHT];
		assert_int_equal(tk_step(e, 0, 0), DD_OK);
		assert_true(fabsf(e->out.reward - h) < 0.02f);
		assert_true(s[i * ROW + PRESENT] == 1);
		assert_false(e->out.terminated);
		assert_int_equal(e->out.truncated, i == 2);
		total += e->out.reward;
	}
	assert_true(fabsf(e->info[tk_info(e, "height")] - total) < 0.02f);
	assert_int_equal(tk_step(e, 0, 0), DD_ERR);       /* past the budget */
	assert_non_null(strstr(tk_err, "reset"));

	/* The second block's centre a quarter of its width past the first's
	** edge: it tips over, and the standing height does not grow. */
	tk_reset(e, 4);
	tk_step(e, 0, 0);
	float w0 = s[WIDTH], w1 = s[ROW + WIDTH];
	float off = (w0 / 2 + 0.25f * w1) / 2;             /* x = off * place_range (2 m) */
	tk_step(e, off, 0);
	assert_true(e->out.terminated);
	assert_true(e->info[tk_info(e, "falls")] == 1);
	assert_true(e->out.reward < 0.01f);
	tk_free(e);
}

static void test_bad_parameters(void **state)
{
	(void)state;
	const char *order[] = {"min_blocks=5", "max_blocks=3", NULL};
	assert_null(tk_new(order));
	assert_non_null(strstr(tk_err, "min_blocks (5) is larger than max_blocks (3)"));
	const char *widths[] = {"width_min=2", "width_max=1", NULL};
	assert_null(tk_new(widths));
	assert_non_null(strstr(tk_err, "width_min"));
	const char *big[] = {"image_width=1024", "render_scale=8", NULL};
	assert_null(tk_new(big));
	assert_non_null(strstr(tk_err, "render_scale"));
	const char *mode[] = {"mode=pile", NULL};
	assert_null(tk_new(mode));
	assert_non_null(strstr(tk_err, "mode"));
	const char *range[] = {"max_blocks=17", NULL};
	assert_null(tk_new(range));
	assert_non_null(strstr(tk_err, "max_blocks"));
	tk_env *e = tk_new(NULL);
	assert_int_equal(tk_step(e, 0, 0), DD_ERR);
	assert_non_null(strstr(tk_err, "before the first reset"));
	tk_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spaces),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_single_block_stays),
		cmocka_unit_test(test_falls_matches_static_stability),
		cmocka_unit_test(test_masks_cover_rendered_pixels),
		cmocka_unit_test(test_image_range_and_antialiasing),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_bad_parameters),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_registry_free(tk_registry);
	return rc;
}
