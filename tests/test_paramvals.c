/*
** test_paramvals.c -- parameter schemas and validated values: each bad
** value is refused with a message naming the key and the valid range.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "paramvals.h"

static const dd_param_spec spec[] = {
	{.name = "lanes", .type = DD_PARAM_INT, .def = 3, .min = 1, .max = 8, .doc = "lanes"},
	{.name = "dt", .type = DD_PARAM_FLOAT, .def = 0.1, .min = 0.001, .max = 1, .doc = "step"},
	{.name = "render", .type = DD_PARAM_BOOL, .def = 1, .doc = "draw"},
	{.name = "obs", .type = DD_PARAM_STRING, .def_str = "image", .choices = "image|kinematics",
	 .doc = "observation"},
	{.name = NULL},
};

static void test_names(void **state)
{
	(void)state;
	assert_true(dd_name_valid("traffic", 0));
	assert_true(dd_name_valid("ppuu_model2", 0));
	assert_false(dd_name_valid("Traffic", 0));
	assert_false(dd_name_valid("2cars", 0));
	assert_false(dd_name_valid("", 0));
	assert_false(dd_name_valid("traffic-v2", 0));
	assert_true(dd_name_valid("traffic-v2", 1));
	assert_false(dd_name_valid("traffic-v", 1));
	assert_false(dd_name_valid("traffic-x2", 1));
}

static void test_defaults_and_sets(void **state)
{
	(void)state;
	char err[512];
	assert_int_equal(dd_schema_check(spec, err, sizeof err), 4);
	dd_paramvals pv;
	assert_int_equal(dd_paramvals_init(&pv, "traffic", spec, 4), 0);
	assert_int_equal(dd_param_int(&pv.params, "lanes"), 3);
	assert_string_equal(dd_param_str(&pv.params, "obs"), "image");
	assert_int_equal(dd_paramvals_set_num(&pv, "lanes", 5, err, sizeof err), 0);
	assert_int_equal(dd_paramvals_set_str(&pv, "dt", "0.05", err, sizeof err), 0);
	assert_int_equal(dd_paramvals_set_str(&pv, "render", "false", err, sizeof err), 0);
	assert_int_equal(dd_paramvals_set_str(&pv, "obs", "kinematics", err, sizeof err), 0);
	assert_int_equal(dd_param_int(&pv.params, "lanes"), 5);
	assert_true(dd_param_num(&pv.params, "dt") == 0.05);
	assert_true(dd_param_num(&pv.params, "render") == 0);
	assert_string_equal(dd_param_str(&pv.params, "obs"), "kinematics");
	dd_paramvals_free(&pv);
}

static void test_bad_values(void **state)
{
	(void)state;
	char err[512];
	dd_paramvals pv;
	assert_int_equal(dd_paramvals_init(&pv, "traffic", spec, 4), 0);
	assert_int_equal(dd_paramvals_set_num(&pv, "lane", 2, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown parameter 'lane'"));
	assert_non_null(strstr(err, "lanes, dt, render, obs"));
	assert_int_equal(dd_paramvals_set_num(&pv, "lanes", 9, err, sizeof err), -1);
	assert_non_null(strstr(err, "'lanes' must be an integer in [1, 8], got 9"));
	assert_int_equal(dd_paramvals_set_num(&pv, "lanes", 2.5, err, sizeof err), -1);
	assert_int_equal(dd_paramvals_set_str(&pv, "dt", "fast", err, sizeof err), -1);
	assert_non_null(strstr(err, "'dt' must be a number in [0.001, 1], got 'fast'"));
	assert_int_equal(dd_paramvals_set_num(&pv, "render", 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "boolean"));
	assert_int_equal(dd_paramvals_set_str(&pv, "obs", "pixels", err, sizeof err), -1);
	assert_non_null(strstr(err, "one of image|kinematics"));
	assert_int_equal(dd_paramvals_set_num(&pv, "obs", 1, err, sizeof err), -1);
	/* Nothing was changed by the refused sets. */
	assert_int_equal(dd_param_int(&pv.params, "lanes"), 3);
	assert_string_equal(dd_param_str(&pv.params, "obs"), "image");
	dd_paramvals_free(&pv);
}

static void test_bad_schemas(void **state)
{
	(void)state;
	char err[512];
	dd_param_spec dup[] = {
		{.name = "a", .type = DD_PARAM_INT, .max = 1},
		{.name = "a", .type = DD_PARAM_INT, .max = 1},
		{.name = NULL},
	};
	assert_int_equal(dd_schema_check(dup, err, sizeof err), -1);
	assert_non_null(strstr(err, "declared twice"));
	dd_param_spec reversed[] = {{.name = "a", .type = DD_PARAM_FLOAT, .min = 2, .max = 1}, {.name = NULL}};
	assert_int_equal(dd_schema_check(reversed, err, sizeof err), -1);
	assert_non_null(strstr(err, "reversed"));
	dd_param_spec badname[] = {{.name = "Width", .type = DD_PARAM_INT, .max = 1}, {.name = NULL}};
	assert_int_equal(dd_schema_check(badname, err, sizeof err), -1);
	dd_param_spec nodef[] = {{.name = "s", .type = DD_PARAM_STRING}, {.name = NULL}};
	assert_int_equal(dd_schema_check(nodef, err, sizeof err), -1);
	dd_param_spec badchoice[] = {{.name = "s", .type = DD_PARAM_STRING, .def_str = "c", .choices = "a|b"}, {.name = NULL}};
	assert_int_equal(dd_schema_check(badchoice, err, sizeof err), -1);
	dd_param_spec badtype[] = {{.name = "s", .type = (dd_param_type)9}, {.name = NULL}};
	assert_int_equal(dd_schema_check(badtype, err, sizeof err), -1);
	assert_int_equal(dd_schema_check(NULL, err, sizeof err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_defaults_and_sets),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_schemas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
