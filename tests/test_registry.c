/*
** test_registry.c -- loading plugins: good ones are indexed with their
** schemas; each broken file is reported with its name and reason while the
** rest still load.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "registry.h"
#include "testutil.h"

/* The problem mentioning file, or NULL. */
static const char *problem_of(const dd_registry *r, const char *file)
{
	for (int i = 0; i < dd_registry_problem_count(r); i++)
		if (strstr(dd_registry_problem(r, i), file))
			return dd_registry_problem(r, i);
	return NULL;
}

static void test_builtin_plugins_load(void **state)
{
	(void)state;
	dd_registry *r = dd_registry_new();
	dd_registry_scan_dir(r, DD_PLUGIN_BUILD_DIR);
	const dd_plugin_entry *c = dd_registry_find(r, "corridor");
	assert_non_null(c);
	assert_int_equal(c->desc.kind, DD_KIND_ENV);
	assert_int_equal(c->n_params, 3);
	assert_string_equal(c->desc.params[0].name, "length");
	assert_non_null(c->env.cost);
	const dd_plugin_entry *rnd = dd_registry_find(r, "random");
	assert_non_null(rnd);
	assert_int_equal(rnd->desc.kind, DD_KIND_LEARNER);
	assert_null(dd_registry_find(r, "nope"));
	assert_int_equal(dd_registry_problem_count(r), 0);
	dd_registry_free(r);
}

static void test_broken_plugins_are_reported(void **state)
{
	(void)state;
	dd_registry *r = dd_registry_new();
	dd_registry_scan_dir(r, DD_TEST_PLUGIN_DIR);
	const char *p;
	assert_non_null(p = problem_of(r, "bad_abi.so"));
	assert_non_null(strstr(p, "ABI 99.0"));
	assert_non_null(p = problem_of(r, "no_entry.so"));
	assert_non_null(strstr(p, "no symbol dd_plugin_describe"));
	assert_non_null(p = problem_of(r, "bad_schema.so"));
	assert_non_null(strstr(p, "'width'"));
	assert_non_null(strstr(p, "[1, 10]"));
	assert_non_null(p = problem_of(r, "dup_b.so"));
	assert_non_null(strstr(p, "already provided by"));
	assert_non_null(strstr(p, "dup_a.so"));
	assert_non_null(p = problem_of(r, "testkit.so"));
	assert_non_null(strstr(p, "Bad-Name"));
	assert_non_null(p = problem_of(r, "old_minor.so"));
	assert_non_null(strstr(p, "ABI 1.99, newer than this host's"));
	assert_int_equal(dd_registry_problem_count(r), 6);
	/* A plugin of an older minor loads, its newer fields read as NULL. */
	const dd_plugin_entry *old = dd_registry_find(r, "old_learner");
	assert_non_null(old);
	assert_null(old->learner.set);
	assert_non_null(old->learner.act);
	/* The good plugins of the same folder, and of the same file, loaded. */
	const dd_plugin_entry *dup = dd_registry_find(r, "dup");
	assert_non_null(dup);
	assert_string_equal(dup->desc.version, "a");
	assert_non_null(dd_registry_find(r, "counter"));
	assert_non_null(dd_registry_find(r, "failing_env"));
	assert_non_null(dd_registry_find(r, "fail_step"));
	assert_non_null(dd_registry_find(r, "box_env"));
	assert_null(dd_registry_find(r, "from_the_future"));
	assert_int_equal(dd_registry_count(r), 6);
	dd_registry_free(r);
}

static void test_same_file_twice_loads_once(void **state)
{
	(void)state;
	dd_registry *r = dd_registry_new();
	dd_registry_scan_dir(r, DD_PLUGIN_BUILD_DIR);
	int n = dd_registry_count(r);
	dd_registry_scan_dir(r, DD_PLUGIN_BUILD_DIR "/.");
	assert_int_equal(dd_registry_count(r), n);
	assert_int_equal(dd_registry_problem_count(r), 0);
	dd_registry_free(r);
}

static void test_not_a_shared_object(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char *path = tu_write(dir, "junk.so", "this is not an ELF file\n");
	dd_registry *r = dd_registry_new();
	dd_registry_scan_dir(r, dir);
	assert_int_equal(dd_registry_count(r), 0);
	const char *p = problem_of(r, "junk.so");
	assert_non_null(p);
	assert_non_null(strstr(p, "cannot load"));
	dd_registry_free(r);
	unlink(path);
	free(path);
	rmdir(dir);
}

static void test_missing_folder_is_silent(void **state)
{
	(void)state;
	dd_registry *r = dd_registry_new();
	dd_registry_scan_dir(r, "/nonexistent/daydream/plugins");
	assert_int_equal(dd_registry_count(r), 0);
	assert_int_equal(dd_registry_problem_count(r), 0);
	dd_registry_free(r);
}

static void test_plugin_path_variable_comes_first(void **state)
{
	(void)state;
	setenv("DAYDREAM_PLUGIN_PATH", "/nonexistent:" DD_TEST_PLUGIN_DIR, 1);
	dd_registry *r = dd_registry_new();
	dd_registry_scan_default(r);
	assert_non_null(dd_registry_find(r, "counter"));
	assert_non_null(dd_registry_find(r, "corridor")); /* the build's folder too */
	char names[512];
	dd_registry_names(r, DD_KIND_LEARNER, names, sizeof names);
	assert_non_null(strstr(names, "counter"));
	assert_null(strstr(names, "corridor"));
	dd_registry_free(r);
	unsetenv("DAYDREAM_PLUGIN_PATH");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_plugins_load),
		cmocka_unit_test(test_broken_plugins_are_reported),
		cmocka_unit_test(test_same_file_twice_loads_once),
		cmocka_unit_test(test_not_a_shared_object),
		cmocka_unit_test(test_missing_folder_is_silent),
		cmocka_unit_test(test_plugin_path_variable_comes_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
