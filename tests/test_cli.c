/*
** test_cli.c -- the daydream program as a user runs it: the README's main
** scenario, then the rows it left, read back with query, runs and show;
** plugins --json; and the one-line errors of bad input with their exit
** statuses.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>

#include "testutil.h"

static const char *dir;
static char out[1 << 16], errtext[1 << 14];

/* Runs `daydream ARGS` in the test folder; captures stdout and stderr. */
static int cli(const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "cd %s && %s %s >out.txt 2>err.txt </dev/null", dir, DD_CLI, args);
	int status = system(cmd);
	char path[512];
	FILE *f;
	snprintf(path, sizeof path, "%s/out.txt", dir);
	out[0] = errtext[0] = '\0';
	if ((f = fopen(path, "r"))) {
		out[fread(out, 1, sizeof out - 1, f)] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/err.txt", dir);
	if ((f = fopen(path, "r"))) {
		errtext[fread(errtext, 1, sizeof errtext - 1, f)] = '\0';
		fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	unsetenv("DAYDREAM_PLUGIN_PATH");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static void test_main_scenario_and_its_rows(void **state)
{
	(void)state;
	int rc = cli("run %s/scenarios/corridor_random.lua --set episodes=200 --seed 3", DD_SOURCE_DIR);
	if (rc)
		fail_msg("exit %d: %s", rc, errtext);
	assert_string_equal(errtext, "");   /* quiet when stdout is not a terminal */
	assert_null(strstr(out, "\r"));
	char db[300];
	snprintf(db, sizeof db, "%s/runs.db", dir);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = 1") == 200);
	assert_true(tu_sql_num(db, "SELECT seed FROM runs WHERE id = 1") == 3);
	assert_true(tu_sql_num(db, "SELECT value FROM params WHERE run_id = 1 AND key = 'episodes'") == 200);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM checkpoints WHERE run_id = 1") == 2);
	/* The README's example queries work as written. */
	assert_int_equal(cli("query \"SELECT step, value FROM metrics WHERE run_id = 1 AND name = 'success_rate' ORDER BY step\""), 0);
	assert_non_null(strstr(out, "step  value"));
	assert_non_null(strstr(out, "200"));
	assert_int_equal(cli("query --csv \"SELECT run_id, avg(return) AS mean_return FROM "
	                     "(SELECT run_id, return, row_number() OVER (PARTITION BY run_id ORDER BY episode DESC) AS k "
	                     "FROM episodes) WHERE k <= 100 GROUP BY run_id\""), 0);
	assert_non_null(strstr(out, "run_id,mean_return\n1,"));
	assert_int_equal(cli("runs"), 0);
	assert_non_null(strstr(out, "corridor_random"));
	assert_non_null(strstr(out, "finished"));
	assert_int_equal(cli("show 1"), 0);
	assert_non_null(strstr(out, "== params =="));
	assert_non_null(strstr(out, "corridor.length"));
	assert_non_null(strstr(out, "== checkpoints =="));
	assert_non_null(strstr(out, "random"));
}

static void test_plugins_json(void **state)
{
	(void)state;
	assert_int_equal(cli("plugins --json"), 0);
	assert_int_equal(out[0], '[');
	assert_non_null(strstr(out, "\"name\": \"corridor\", \"kind\": \"env\", \"version\": \"1.0.0\""));
	assert_non_null(strstr(out, "{\"name\": \"length\", \"type\": \"int\", \"default\": 10, \"min\": 2, \"max\": 100000, \"doc\": "));
	assert_non_null(strstr(out, "\"name\": \"random\", \"kind\": \"learner\""));
	/* Valid JSON, by Lua-free means: balanced brackets, and sqlite's json(). */
	sqlite3 *db;
	sqlite3_open(":memory:", &db);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_valid(?1), json_array_length(?1)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_true(sqlite3_column_int(st, 1) >= 2);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(cli("plugins"), 0);
	assert_non_null(strstr(out, "corridor (env 1.0.0)"));
	assert_non_null(strstr(out, "slip             float  = 0.1 in [0, 1]"));
}

static void test_errors_are_one_line(void **state)
{
	(void)state;
	char *junk = tu_write(dir, "notes.db", "not a database at all, just some text\n");
	free(junk);
	assert_int_equal(cli("run %s/scenarios/corridor_random.lua --db notes.db", DD_SOURCE_DIR), 1);
	assert_non_null(strstr(errtext, "notes.db"));
	assert_int_equal(cli("query --db notes.db \"SELECT 1\""), 1);
	assert_non_null(strstr(errtext, "notes.db"));
	assert_int_equal(cli("query --db missing.db \"SELECT 1\""), 1);
	assert_non_null(strstr(errtext, "missing.db: no such run database"));
	assert_int_equal(cli("run --resume 999 --db runs.db"), 1);
	assert_non_null(strstr(errtext, "999"));
	assert_int_equal(cli("run nothing_here.lua --db runs.db"), 1);
	assert_non_null(strstr(errtext, "nothing_here.lua: cannot read the scenario"));
	assert_int_equal(cli("run %s/scenarios/corridor_random.lua --set episodes", DD_SOURCE_DIR), 2);
	assert_non_null(strstr(errtext, "--set takes key=value"));
	assert_int_equal(cli("run %s/scenarios/corridor_random.lua --set epsiodes=3", DD_SOURCE_DIR), 1);
	assert_non_null(strstr(errtext, "no config key 'epsiodes'"));
	assert_int_equal(cli("query \"SELEC 1\""), 1);
	assert_non_null(strstr(errtext, "syntax error"));
	assert_int_equal(cli("frobnicate"), 2);
	assert_int_equal(cli("show 424242"), 1);
	/* Each error is one line. */
	assert_int_equal(cli("run nothing_here.lua"), 1);
	assert_non_null(strchr(errtext, '\n'));
	assert_true(strchr(errtext, '\n') == errtext + strlen(errtext) - 1);
}

static void test_lua_error_marks_run_failed(void **state)
{
	(void)state;
	char *script = tu_write(dir, "bad.lua", "run:log('loss', 1.5, 0)\nlocal t = nil\nprint(t.x)\n");
	free(script);
	assert_int_equal(cli("run bad.lua --db bad.db"), 1);
	assert_non_null(strstr(errtext, "bad.lua:3: attempt to index a nil value"));
	char db[300];
	snprintf(db, sizeof db, "%s/bad.db", dir);
	char *status = tu_sql_text(db, "SELECT status FROM runs WHERE id = 1");
	assert_string_equal(status, "failed");
	free(status);
	assert_true(tu_sql_num(db, "SELECT value FROM metrics WHERE run_id = 1 AND name = 'loss'") == 1.5);
}

/* A run whose process is killed outright shows as `crashed`, with what it
** had committed, at the next open; the database passes integrity_check. */
static void test_killed_run_is_marked_crashed(void **state)
{
	(void)state;
	char *script = tu_write(dir, "forever.lua",
		"local i = 0\nwhile true do i = i + 1; run:log('tick', i, i) end\n");
	char db[300];
	snprintf(db, sizeof db, "%s/kill.db", dir);
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execl(DD_CLI, DD_CLI, "run", script, "--db", db, (char *)NULL);
		_exit(127);
	}
	usleep(700 * 1000);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(cli("runs --db kill.db"), 0);
	assert_non_null(strstr(out, "crashed"));
	char *ok = tu_sql_text(db, "PRAGMA integrity_check");
	assert_string_equal(ok, "ok");
	free(ok);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics WHERE run_id = 1") > 0);
	free(script);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_scenario_and_its_rows),
		cmocka_unit_test(test_plugins_json),
		cmocka_unit_test(test_errors_are_one_line),
		cmocka_unit_test(test_lua_error_marks_run_failed),
		cmocka_unit_test(test_killed_run_is_marked_crashed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
