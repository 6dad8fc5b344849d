/*
** test_video_scenario.c -- the video env from Lua, end to end: the shipped
** scenarios (scenarios/video_baselines.lua, video_stream.lua) run against
** the real plugin and the run store is checked with SQL; dd.psnr, dd.ssim
** and dd.sharpness from Lua; vectorised clips through dd.rollout.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "daydream/png.h"
#include "video_testkit.h"

#include "scenario_fixture.h"

static int64_t run_id;

/* Runs a script file with "k=v" settings (NULL-terminated). */
static int run_file(const char *script, const char *const *sets)
{
	const char *keys[16], *vals[16];
	char buf[16][600];
	int n = 0;
	for (; sets && sets[n]; n++) {
		snprintf(buf[n], sizeof buf[n], "%s", sets[n]);
		char *eq = strchr(buf[n], '=');
		*eq = '\0';
		keys[n] = buf[n];
		vals[n] = eq + 1;
	}
	dd_scenario_opts o = {.script = script, .db_path = db, .n_set = n, .set_keys = keys,
	                      .set_vals = vals};
	return dd_scenario_run(&o, registry, &run_id, err, sizeof err);
}

static int run_text(const char *text)
{
	char path[400];
	snprintf(path, sizeof path, "%s/inline.lua", dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return run_file(path, NULL);
}

static double metric_mean(int64_t id, const char *name)
{
	return tu_sql_num(db, "SELECT avg(value) FROM metrics WHERE run_id = %lld AND name = '%s'",
	                  (long long)id, name);
}

static void test_baselines_scenario(void **state)
{
	(void)state;
	const char *balls[] = {"source=balls", "clips=4", "clip_length=6", NULL};
	if (run_file(DD_SOURCE_DIR "/scenarios/video_baselines.lua", balls) != 0)
		fail_msg("%s", err);
	int64_t a = run_id;
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics WHERE run_id = %lld AND "
	                           "name = 'copy_last_psnr'", (long long)a) == 4);
	double psnr = metric_mean(a, "copy_last_psnr"), ssim = metric_mean(a, "copy_last_ssim");
	double sharp = metric_mean(a, "copy_last_sharpness");
	print_message("balls, copy last frame: PSNR %.2f dB, SSIM %.3f, sharpness %.2f dB\n", psnr,
	              ssim, sharp);
	/* Moving balls: the copy is wrong only around them, so PSNR is high but
	** finite, SSIM well below 1. */
	assert_true(psnr > 12 && psnr < 40);
	assert_true(ssim > 0.3 && ssim < 0.99);
	assert_true(sharp > 5 && sharp < 40);
	/* The first frame is stored as a 64 x 64 PNG. */
	sqlite3 *h;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT media_type, bytes FROM artifacts WHERE run_id = ?",
	                                    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, a);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "image/png");
	dd_image im;
	char why[256];
	assert_int_equal(dd_png_read_mem(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
	                                 "first_frame.png", 0, &im, why, sizeof why), DD_OK);
	assert_int_equal(im.width, 64);
	assert_int_equal(im.height, 64);
	dd_image_free(&im);
	sqlite3_finalize(st);
	sqlite3_close(h);
	/* Same seed, same clips, same numbers. */
	if (run_file(DD_SOURCE_DIR "/scenarios/video_baselines.lua", balls) != 0)
		fail_msg("%s", err);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics x JOIN metrics y ON x.name = y.name "
	                           "AND x.step = y.step WHERE x.run_id = %lld AND y.run_id = %lld AND "
	                           "x.value = y.value", (long long)a, (long long)run_id) == 12);
	/* Objects turn slowly: copying the last frame scores higher SSIM. */
	const char *objects[] = {"source=objects", "clips=3", "clip_length=5", NULL};
	if (run_file(DD_SOURCE_DIR "/scenarios/video_baselines.lua", objects) != 0)
		fail_msg("%s", err);
	assert_true(metric_mean(run_id, "copy_last_ssim") > 0.5);
}

static void test_stream_scenario(void **state)
{
	(void)state;
	const char *sets[] = {"source=digits", "clips=24", "clip_length=8", "num_envs=4", NULL};
	if (run_file(DD_SOURCE_DIR "/scenarios/video_stream.lua", sets) != 0)
		fail_msg("%s", err);
	/* every clip is an episode of clip_length - 1 steps, cut by the time limit */
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld",
	                       (long long)run_id) == 24);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld AND length = 7 "
	                           "AND truncated = 1 AND terminated = 0 AND return = 0",
	                       (long long)run_id) == 24);
	assert_true(metric_mean(run_id, "frames_per_second") > 0);
	const char *vtest = vt_data("opencv/vtest.avi");
	if (!vtest) {
		print_message("opencv/vtest.avi not found: run scripts/fetch-test-data.sh "
		              "(file streaming not run)\n");
		return;
	}
	char path[1100];
	snprintf(path, sizeof path, "path=%s", vtest);
	const char *file[] = {"source=file", path, "clips=16", "clip_length=8", "num_envs=4",
	                      "size=32", NULL};
	if (run_file(DD_SOURCE_DIR "/scenarios/video_stream.lua", file) != 0)
		fail_msg("%s", err);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld AND length = 7",
	                       (long long)run_id) == 16);
	char *stored = tu_sql_text(db, "SELECT value FROM params WHERE run_id = %lld AND "
	                              "key = 'video.path'", (long long)run_id);
	assert_string_equal(stored, vtest);
	free(stored);
}

static void test_metrics_from_lua(void **state)
{
	(void)state;
	int rc = run_text(
		"local a, b = {}, {}\n"
		"for i = 1, 2 * 3 * 16 * 16 do a[i] = 0; b[i] = i <= 768 and 0.1 or 0.5 end\n"
		"local mean, each = dd.psnr(a, b, {2, 3, 16, 16})\n"
		"assert(#each == 2 and math.abs(each[1] - 20) < 1e-4, each[1])\n"
		"assert(math.abs(each[2] - 10 * math.log(4, 10)) < 1e-4 and\n"
		"       math.abs(mean - (each[1] + each[2]) / 2) < 1e-9)\n"
		"local s = dd.ssim(a, a, {2, 3, 16, 16})\n"
		"assert(math.abs(s - 1) < 1e-9)\n"
		"local c = {} for i = 1, 16 do c[i] = (i % 4 >= 2) and 1 or 0 end\n"
		"local z = {} for i = 1, 16 do z[i] = 0 end\n"
		"assert(math.abs(dd.sharpness(c, z, {1, 4, 4}) - 10 * math.log(2, 10)) < 1e-9)\n"
		"assert(dd.psnr(a, a, {2, 3, 16, 16}) == math.huge)\n"
		"run:log('ok', 1, 1)\n");
	if (rc != 0)
		fail_msg("%s", err);
	/* Mistakes are errors that say what is wrong, with the line. */
	assert_int_equal(run_text("dd.ssim({0, 0, 0, 0}, {0, 0, 0, 0}, {1, 2, 2})\n"), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "inline.lua:1:"));
	assert_non_null(strstr(err, "dd.ssim: frames must be at least 11x11"));
	assert_int_equal(run_text("dd.psnr({0, 0, 0}, {0, 0, 0, 0}, {1, 2, 2})\n"), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "dd.psnr: a has 3 values but the shape needs 4"));
	assert_int_equal(run_text("dd.psnr({0, 0}, {0, 0}, {2})\n"), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "shape must be {c, h, w} or {n, c, h, w}"));
	assert_int_equal(run_text("dd.psnr({0, 'x'}, {0, 0}, {1, 1, 2})\n"), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "a[2] is not a number"));
	assert_int_equal(run_text("dd.png('abc', 2, 2)\n"), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "dd.png: 3 bytes of pixels, but 2x2 with 3 channels needs 12"));
}

/* Passive env: whatever the actions, the same seed gives the same frames;
** the action space is the declared 1-D box. */
static void test_actions_are_ignored(void **state)
{
	(void)state;
	int rc = run_text(
		"local env <close> = dd.env('video', {source = 'balls', clip_length = 4, width = 24, height = 20, radius = 3})\n"
		"local s = env:spaces()\n"
		"assert(s.action.kind == 'box' and s.action.dim == 1)\n"
		"assert(s.action.low[1] == -1 and s.action.high[1] == 1)\n"
		"assert(s.obs[1].name == 'frame' and s.obs[1].shape[1] == 1 and s.obs[1].shape[2] == 20)\n"
		"local function clip(a)\n"
		"  local frames = {env:reset{seed = 9}.frame}\n"
		"  for t = 1, 3 do frames[#frames + 1] = env:step(a).frame end\n"
		"  return frames\n"
		"end\n"
		"local x, y = clip(-1), clip(0.75)\n"
		"for t = 1, 4 do for i = 1, 480 do assert(x[t][i] == y[t][i]) end end\n");
	if (rc != 0)
		fail_msg("%s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baselines_scenario),
		cmocka_unit_test(test_stream_scenario),
		cmocka_unit_test(test_metrics_from_lua),
		cmocka_unit_test(test_actions_are_ignored),
	};
	return cmocka_run_group_tests(tests, scenario_setup, scenario_teardown);
}
