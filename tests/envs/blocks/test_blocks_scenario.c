/*
** test_blocks_scenario.c -- scenarios/blocks_tower.lua end to end against
** the real plugin: its metrics in the run store, its GIF artifact decoded
** by giflib (frames, size, colours), the same seed giving the same GIF;
** scenarios/blocks_stack.lua's baselines; dd.gif from Lua;
** and a bad env parameter failing the run with a clear message.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include <gif_lib.h>

#include "scenario_fixture.h"

/* Runs a scenario file with --set pairs; returns the exit code. */
static int run_file(const char *script, int n, const char **keys, const char **vals,
                    int64_t *run_id)
{
	dd_scenario_opts o = {.script = script, .db_path = db, .n_set = n,
	                      .set_keys = keys, .set_vals = vals};
	int rc = dd_scenario_run(&o, registry, run_id, err, sizeof err);
	if (rc != 0)
		print_message("%s: %s\n", script, err);
	return rc;
}

/* The bytes of an artifact (malloc'd), NULL when absent. */
static unsigned char *artifact(int64_t run, const char *name, int *n)
{
	sqlite3 *h;
	unsigned char *out = NULL;
	sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(h, "SELECT bytes FROM artifacts WHERE run_id = ?1 AND name = ?2 "
	                      "AND media_type = 'image/gif'", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*n = sqlite3_column_bytes(st, 0);
		out = malloc((size_t)*n);
		memcpy(out, sqlite3_column_blob(st, 0), (size_t)*n);
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

typedef struct source {
	const unsigned char *b;
	int n, pos;
} source;

static int read_mem(GifFileType *g, GifByteType *dst, int n)
{
	source *s = g->UserData;
	int k = s->n - s->pos < n ? s->n - s->pos : n;
	memcpy(dst, s->b + s->pos, (size_t)k);
	s->pos += k;
	return k;
}

static void test_tower_scenario(void **state)
{
	(void)state;
	char script[512];
	snprintf(script, sizeof script, "%s/scenarios/blocks_tower.lua", DD_SOURCE_DIR);
	const char *keys[] = {"towers", "seconds"}, *vals[] = {"40", "2"};
	int64_t run;
	assert_int_equal(run_file(script, 2, keys, vals, &run), 0);
	char *status = tu_sql_text(db, "SELECT status FROM runs WHERE id = %lld", (long long)run);
	assert_string_equal(status, "finished");
	free(status);
	double agreement = tu_sql_num(db, "SELECT value FROM latest_metrics WHERE run_id = %lld "
	                                  "AND name = 'criterion_agreement'", (long long)run);
	double fall_rate = tu_sql_num(db, "SELECT value FROM latest_metrics WHERE run_id = %lld "
	                                  "AND name = 'fall_rate'", (long long)run);
	assert_true(agreement >= 0.95);
	assert_true(fall_rate > 0.2 && fall_rate < 0.8);
	assert_true(tu_sql_num(db, "SELECT value FROM params WHERE run_id = %lld AND key = "
	                           "'blocks.max_steps'", (long long)run) == 60);

	/* The GIF: 60 steps, every 2nd kept, 128 px, sky + floor + blocks. */
	int n;
	unsigned char *bytes = artifact(run, "falling_tower.gif", &n);
	assert_non_null(bytes);
	source s = {bytes, n, 0};
	int e;
	GifFileType *g = DGifOpen(&s, read_mem, &e);
	assert_non_null(g);
	assert_int_equal(DGifSlurp(g), GIF_OK);
	assert_int_equal(g->ImageCount, 30);
	assert_int_equal(g->SWidth, 128);
	assert_int_equal(g->SHeight, 128);
	int used[256] = {0}, distinct = 0;
	for (int i = 0; i < 128 * 128; i++)
		distinct += !used[g->SavedImages[0].RasterBits[i]]++;
	assert_true(distinct >= 4);
	/* The tower falls: the last frame differs from the first. */
	assert_memory_not_equal(g->SavedImages[0].RasterBits, g->SavedImages[29].RasterBits,
	                        128 * 128);
	DGifCloseFile(g, NULL);

	/* Same seed, same GIF. */
	int64_t again;
	assert_int_equal(run_file(script, 2, keys, vals, &again), 0);
	int n2;
	unsigned char *bytes2 = artifact(again, "falling_tower.gif", &n2);
	assert_non_null(bytes2);
	assert_int_equal(n, n2);
	assert_memory_equal(bytes, bytes2, (size_t)n);
	free(bytes);
	free(bytes2);
}

/* Stack mode through dd.rollout (random drops, recorded episodes) and a
** Lua loop (centred drops): centred towers use the whole budget and grow
** taller than random ones. */
static void test_stack_scenario(void **state)
{
	(void)state;
	char script[512];
	snprintf(script, sizeof script, "%s/scenarios/blocks_stack.lua", DD_SOURCE_DIR);
	const char *keys[] = {"episodes", "blocks"}, *vals[] = {"20", "4"};
	int64_t run;
	assert_int_equal(run_file(script, 2, keys, vals, &run), 0);
	long long id = (long long)run;
	/* dd.rollout records exactly the episodes asked for, even when several
	** of its 4 instances finish in the last batch step. */
	double n = tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld", id);
	assert_true(n == 20);
	assert_true(tu_sql_num(db, "SELECT max(length) FROM episodes WHERE run_id = %lld", id) <= 4);
	double random_h = tu_sql_num(db, "SELECT value FROM latest_metrics WHERE run_id = %lld "
	                                 "AND name = 'random_mean_height'", id);
	double centred_h = tu_sql_num(db, "SELECT value FROM latest_metrics WHERE run_id = %lld "
	                                  "AND name = 'centred_mean_height'", id);
	assert_true(tu_sql_num(db, "SELECT value FROM latest_metrics WHERE run_id = %lld "
	                           "AND name = 'centred_mean_blocks'", id) == 4);
	/* 4 blocks of 0.5..0.9 m: between 2 and 3.6 m when all stand. */
	assert_true(centred_h > 2 && centred_h < 3.6);
	assert_true(centred_h > random_h + 0.5);
	assert_true(fabs(random_h - tu_sql_num(db, "SELECT avg(return) FROM episodes WHERE "
	                                          "run_id = %lld", id)) < 1e-3);
}

/* The cube colour the writers give an RGB value (6 x 7 x 6 levels). */
/* dd.gif from Lua: two 200x100 frames of 216 distinct colours each (a busy
** pattern: thousands of LZW codes, the table restarts), read back by giflib
** pixel for pixel; a frame of the wrong size is refused. */
static void test_lua_gif(void **state)
{
	(void)state;
	const char *text =
		"local frames = {}\n"
		"for f = 0, 1 do\n"
		"  local t = {}\n"
		"  for y = 0, 99 do for x = 0, 199 do\n"
		"    t[#t + 1] = string.char(51 * ((x + f) % 6), 51 * ((x * y) % 6), 51 * ((y + x // 7) % 6))\n"
		"  end end\n"
		"  frames[#frames + 1] = table.concat(t)\n"
		"end\n"
		"run:artifact('busy.gif', 'image/gif', dd.gif(frames, 200, 100, 5))\n"
		"local ok, msg = pcall(dd.gif, {frames[1]}, 100, 100)\n"
		"assert(not ok and msg:find('frame 1 is not 100x100 RGB bytes'), msg)\n";
	char *path = tu_write(dir, "luagif.lua", text);
	int64_t run;
	assert_int_equal(run_file(path, 0, NULL, NULL, &run), 0);
	free(path);
	int n;
	unsigned char *bytes = artifact(run, "busy.gif", &n);
	assert_non_null(bytes);
	source s = {bytes, n, 0};
	int e;
	GifFileType *g = DGifOpen(&s, read_mem, &e);
	assert_non_null(g);
	assert_int_equal(DGifSlurp(g), GIF_OK);
	assert_int_equal(g->ImageCount, 2);
	for (int f = 0; f < 2; f++) {
		const SavedImage *im = &g->SavedImages[f];
		const ColorMapObject *map = im->ImageDesc.ColorMap ? im->ImageDesc.ColorMap : g->SColorMap;
		for (int y = 0; y < 100; y++)
			for (int x = 0; x < 200; x++) {
				const GifColorType *c = &map->Colors[im->RasterBits[y * 200 + x]];
				assert_int_equal(c->Red, 51 * ((x + f) % 6));
				assert_int_equal(c->Green, 51 * ((x * y) % 6));
				assert_int_equal(c->Blue, 51 * ((y + x / 7) % 6));
			}
	}
	DGifCloseFile(g, NULL);
	free(bytes);
}

static void test_bad_parameter_fails_the_run(void **state)
{
	(void)state;
	char *path = tu_write(dir, "bad.lua",
		"local env <close> = dd.env('blocks', {min_blocks = 6, max_blocks = 3})\n");
	int64_t run;
	assert_int_equal(run_file(path, 0, NULL, NULL, &run), 1);
	assert_non_null(strstr(err, "min_blocks (6) is larger than max_blocks (3)"));
	free(path);
	path = tu_write(dir, "bad2.lua", "local env <close> = dd.env('blocks', {mode = 'pile'})\n");
	assert_int_equal(run_file(path, 0, NULL, NULL, &run), 1);
	assert_non_null(strstr(err, "tower|stack"));
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tower_scenario),
		cmocka_unit_test(test_stack_scenario),
		cmocka_unit_test(test_lua_gif),
		cmocka_unit_test(test_bad_parameter_fails_the_run),
	};
	return cmocka_run_group_tests(tests, scenario_setup, scenario_teardown);
}
