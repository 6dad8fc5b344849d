/*
** test_features_scenarios.c -- scenarios/features_pca.lua and
** features_kmeans.lua end to end on smaller settings (--set): data through
** dd.rollout into the learners, metrics in the run store, and the filter
** grid stored as a PNG artifact that decodes to the expected size.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "daydream/png.h"

#include "scenario_fixture.h"

static int64_t run(const char *scenario, int n_set, const char **keys, const char **vals)
{
	char path[512];
	int64_t id = 0;
	snprintf(path, sizeof path, "%s/scenarios/%s", DD_SOURCE_DIR, scenario);
	dd_scenario_opts o = {.script = path, .db_path = db, .n_set = n_set, .set_keys = keys,
	                      .set_vals = vals};
	if (dd_scenario_run(&o, registry, &id, err, sizeof err) != DD_EXIT_OK)
		fail_msg("%s: %s", scenario, err);
	return id;
}

static double metric(int64_t id, const char *name)
{
	return tu_sql_num(db, "SELECT value FROM latest_metrics WHERE run_id = %lld AND name = '%s'",
	                  (long long)id, name);
}

/* Decodes the run's artifact and checks its size. */
static void check_png(int64_t id, const char *name, int width, int height)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT media_type, bytes FROM artifacts WHERE run_id = ? "
	                                    "AND name = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "image/png");
	dd_image img;
	assert_int_equal(dd_png_read_mem(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
	                                 name, 1, &img, err, sizeof err), DD_OK);
	assert_int_equal(img.width, width);
	assert_int_equal(img.height, height);
	dd_image_free(&img);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static void test_kmeans_scenario(void **state)
{
	(void)state;
	const char *keys[] = {"samples", "k"}, *vals[] = {"3000", "10"};
	int64_t id = run("features_kmeans.lua", 2, keys, vals);
	assert_true(metric(id, "samples") == 3000);
	assert_true(metric(id, "converged") == 1);
	assert_true(metric(id, "purity") > metric(id, "purity_random") + 0.3);
	/* one row per Lloyd iteration */
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics WHERE run_id = %lld AND name = 'lloyd_objective'",
	                       (long long)id) == metric(id, "iterations"));
	/* 10 tiles of 28 x 28 drawn twice, 4 columns, 2-pixel gaps */
	check_png(id, "kmeans_centres.png", 2 + 4 * (56 + 2), 2 + 3 * (56 + 2));
}

static void test_pca_scenario(void **state)
{
	(void)state;
	const char *keys[] = {"samples", "components", "method"}, *vals[] = {"8000", "16", "online"};
	int64_t id = run("features_pca.lua", 3, keys, vals);
	assert_true(metric(id, "samples") == 8000);
	assert_true(metric(id, "explained_variance") > 0.7);
	assert_true(metric(id, "evr_1") >= metric(id, "evr_2"));
	check_png(id, "pca_components.png", 2 + 4 * (48 + 2), 2 + 4 * (48 + 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmeans_scenario),
		cmocka_unit_test(test_pca_scenario),
	};
	return cmocka_run_group_tests(tests, scenario_setup, scenario_teardown);
}
