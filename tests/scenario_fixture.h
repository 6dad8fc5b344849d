/*
** scenario_fixture.h -- the cmocka group fixture of the tests that run Lua
** scenarios against the built plugins: a temporary folder holding the run
** database, and a registry of the build's plugins (plus the test-only ones
** when SCENARIO_WITH_TEST_PLUGINS is defined before including this).
*/
#ifndef DD_SCENARIO_FIXTURE_H
#define DD_SCENARIO_FIXTURE_H

#include "scenario.h"
#include "testutil.h"

static const char *dir;        /* the group's temporary folder */
static dd_registry *registry;
static char db[256];           /* dir/runs.db */
static char err[2048];         /* the last scenario's error */

static int scenario_setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	registry = dd_registry_new();
	if (!dir || !registry)
		return -1;
	dd_registry_scan_dir(registry, DD_PLUGIN_BUILD_DIR);
#ifdef SCENARIO_WITH_TEST_PLUGINS
	dd_registry_scan_dir(registry, DD_TEST_PLUGIN_DIR);
#endif
	snprintf(db, sizeof db, "%s/runs.db", dir);
	return 0;
}

static int scenario_teardown(void **state)
{
	(void)state;
	dd_registry_free(registry);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

#endif
