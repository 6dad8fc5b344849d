/*
** test_scenario.c -- the Lua bindings and the scenario runner end to end:
** scripts written to a temporary folder run against the real plugins, and
** the run store is checked with SQL. Every bad input of the list
** must give a clear error and keep what was logged.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#define SCENARIO_WITH_TEST_PLUGINS
#include "scenario_fixture.h"

static int64_t run_id;

/* Runs a scenario given as text, with optional --set pairs "k=v". */
static int run_text(const char *name, const char *text, int n_set, const char **sets)
{
	char *path = tu_write(dir, name, text);
	const char *keys[8], *vals[8];
	char buf[8][128];
	for (int i = 0; i < n_set; i++) {
		snprintf(buf[i], sizeof buf[i], "%s", sets[i]);
		char *eq = strchr(buf[i], '=');
		*eq = '\0';
		keys[i] = buf[i];
		vals[i] = eq + 1;
	}
	dd_scenario_opts o = {.script = path, .db_path = db, .n_set = n_set,
	                      .set_keys = keys, .set_vals = vals};
	int rc = dd_scenario_run(&o, registry, &run_id, err, sizeof err);
	free(path);
	return rc;
}

static char *run_status(int64_t id)
{
	return tu_sql_text(db, "SELECT status FROM runs WHERE id = %lld", (long long)id);
}

static void assert_status(int64_t id, const char *want)
{
	char *s = run_status(id);
	assert_string_equal(s, want);
	free(s);
}

static void test_rollout_logs_every_episode(void **state)
{
	(void)state;
	int rc = run_text("ok.lua",
		"local env <close> = dd.env('corridor', {length = 5}, {num = 3})\n"
		"local agent <close> = dd.learner('random', {}, env)\n"
		"local r = dd.rollout(env, agent, {episodes = 40})\n"
		"assert(r.episodes == 40 and r.steps > 0)\n"
		"run:log('mean_return', r.mean_return, 1)\n", 0, NULL);
	assert_int_equal(rc, 0);
	assert_status(run_id, "finished");
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld", (long long)run_id) == 40);
	assert_true(tu_sql_num(db, "SELECT count(DISTINCT episode) FROM episodes WHERE run_id = %lld", (long long)run_id) == 40);
	/* Returns are consistent with the corridor: +1 at the goal, -0.01 a step. */
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld AND success = 1 "
	                           "AND abs(return - (1 - 0.01 * (length - 1))) > 1e-4", (long long)run_id) == 0);
	/* The last info stats of each episode, as JSON. */
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld "
	                           "AND json_extract(info, '$.success') = success "
	                           "AND json_extract(info, '$.position') = (CASE success WHEN 1 THEN 5 ELSE "
	                           "json_extract(info, '$.position') END)", (long long)run_id) == 40);
	assert_true(tu_sql_num(db, "SELECT value FROM params WHERE run_id = %lld AND key = 'corridor.length'",
	                       (long long)run_id) == 5);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics WHERE run_id = %lld AND name = 'mean_return'",
	                       (long long)run_id) == 1);
}

static void test_same_seed_same_episodes(void **state)
{
	(void)state;
	const char *text =
		"local env <close> = dd.env('corridor', {slip = 0.3}, {num = 2})\n"
		"local agent <close> = dd.learner('random', {}, env)\n"
		"dd.rollout(env, agent, {episodes = 20})\n";
	assert_int_equal(run_text("seed.lua", text, 0, NULL), 0);
	int64_t a = run_id;
	assert_int_equal(run_text("seed.lua", text, 0, NULL), 0);
	int64_t b = run_id;
	assert_true(tu_sql_num(db,
		"SELECT count(*) FROM episodes x JOIN episodes y ON x.episode = y.episode "
		"WHERE x.run_id = %lld AND y.run_id = %lld AND x.return = y.return AND x.length = y.length",
		(long long)a, (long long)b) == 20);
}

/* rollout{seed = S}: every learner meets the same episodes; episodes record
** the learner's label; info means come back in the result. */
static void test_seeded_rollouts_compare_learners(void **state)
{
	(void)state;
	int rc = run_text("compare.lua",
		"local e = dd.env('corridor', {slip = 0.3}, {num = 2})\n"
		"local a = dd.learner('random', {}, e, {label = 'a'})\n"
		"local r1 = dd.rollout(e, a, {episodes = 10, seed = 42})\n"
		"local b = dd.learner('random', {}, e, {label = 'b'})\n"
		"local r2 = dd.rollout(e, b, {episodes = 10, seed = 42})\n"
		"assert(r1.mean_return == r2.mean_return, 'same seed, same learner stream, same episodes')\n"
		"assert(r1.info.success == r1.success_rate)\n"
		"local r3 = dd.rollout(e, b, {episodes = 10, seed = 43})\n"
		"assert(r3.mean_return ~= r2.mean_return)\n", 0, NULL);
	if (rc)
		fail_msg("%s", err);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld AND learner = 'a'",
	                       (long long)run_id) == 10);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld AND learner = 'b'",
	                       (long long)run_id) == 20);
	assert_true(tu_sql_num(db, "SELECT abs((SELECT sum(return) FROM episodes WHERE run_id = %lld AND learner = 'a') - "
	                           "(SELECT sum(return) FROM (SELECT return FROM episodes WHERE run_id = %lld "
	                           "AND learner = 'b' ORDER BY episode LIMIT 10)))",
	                       (long long)run_id, (long long)run_id) < 1e-9);
}

static void test_step_by_step_from_lua(void **state)
{
	(void)state;
	int rc = run_text("steps.lua",
		"local env <close> = dd.env('corridor', {length = 3, slip = 0})\n"
		"local obs = env:reset{seed = 7}\n"
		"assert(#obs.state == 2 and obs.state[1] == 0)\n"
		"local total, term = 0, false\n"
		"for i = 1, 3 do\n"
		"  local o, r, te, tr, info = env:step(1)\n"
		"  total = total + r; term = te; obs = o\n"
		"end\n"
		"assert(term, 'reached the goal')\n"
		"assert(math.abs(total - 0.98) < 1e-6, total)\n"
		"local c, g = env:cost(obs)\n"
		"assert(c == 0 and g.state[1] == 0)\n"
		"local s = env:spaces()\n"
		"assert(s.action.kind == 'discrete' and s.action.n == 2 and s.obs[1].name == 'state')\n"
		"local rgb, w, h = env:render()\n"
		"assert(#rgb == w * h * 3 and h == 8)\n", 0, NULL);
	if (rc)
		fail_msg("%s", err);
}

static void test_syntax_error_names_file_and_line(void **state)
{
	(void)state;
	int rc = run_text("syntax.lua", "local x = 1\nlocal y = = 2\n", 0, NULL);
	assert_int_equal(rc, DD_EXIT_FAILED);
	assert_non_null(strstr(err, "syntax.lua:2:"));
	assert_status(run_id, "failed");
	char *e = tu_sql_text(db, "SELECT error FROM runs WHERE id = %lld", (long long)run_id);
	assert_non_null(strstr(e, "syntax.lua:2:"));
	free(e);
}

static void test_runtime_error_keeps_logged_data(void **state)
{
	(void)state;
	int rc = run_text("boom.lua",
		"for i = 1, 10 do run:log('loss', 1 / i, i) end\n"
		"error('the model diverged')\n", 0, NULL);
	assert_int_equal(rc, DD_EXIT_FAILED);
	assert_non_null(strstr(err, "boom.lua:2: the model diverged"));
	assert_status(run_id, "failed");
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics WHERE run_id = %lld AND name = 'loss'",
	                       (long long)run_id) == 10);
}

static void test_unknown_plugin_lists_available(void **state)
{
	(void)state;
	assert_int_equal(run_text("unk.lua", "dd.env('highway', {})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "unk.lua:1:"));
	assert_non_null(strstr(err, "no env plugin named 'highway'"));
	assert_non_null(strstr(err, "corridor"));
	assert_null(strstr(err, "random")); /* only envs are offered */
	assert_int_equal(run_text("kind.lua", "dd.env('random', {})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "'random' is a learner plugin, not an env one"));
}

static void test_bad_parameters(void **state)
{
	(void)state;
	assert_int_equal(run_text("p1.lua", "dd.env('corridor', {lenght = 4})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "unknown parameter 'lenght'; valid keys are: length, max_steps, slip"));
	assert_int_equal(run_text("p2.lua", "dd.env('corridor', {slip = 2})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "'slip' must be a number in [0, 1], got 2"));
	assert_int_equal(run_text("p3.lua", "dd.env('corridor', {length = 'long'})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "'length' must be an integer in [2, 100000], got 'long'"));
	assert_int_equal(run_text("p4.lua", "dd.env('corridor', {length = {}})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "cannot be a table"));
	assert_int_equal(run_text("p5.lua", "dd.env('failing_env')\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "failing_env: boom: this env always fails to start"));
}

static void test_bad_actions(void **state)
{
	(void)state;
	assert_int_equal(run_text("a1.lua",
		"local e = dd.env('corridor')\ne:reset{}\ne:step({1, 0, 1})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "a1.lua:3: action must be one index in 0..1, got 3 numbers"));
	assert_int_equal(run_text("a2.lua",
		"local e = dd.env('corridor')\ne:reset{}\ne:step(2)\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "action 2 is not an index in 0..1"));
	assert_int_equal(run_text("a3.lua",
		"local e = dd.env('box_env')\ne:reset{}\ne:step({0.5, 0.5})\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "action must be 3 numbers (a box), got 2 numbers"));
	assert_int_equal(run_text("a4.lua",
		"local e = dd.env('box_env')\ne:reset{}\nlocal o, r = e:step({0.5, 0.5, 1})\n"
		"assert(math.abs(r + 1.5) < 1e-6)\n", 0, NULL), 0);
	assert_int_equal(run_text("a5.lua", "local e = dd.env('corridor')\ne:step(1)\n", 0, NULL), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "step before reset"));
}

static void test_plugin_error_mid_rollout(void **state)
{
	(void)state;
	int rc = run_text("flaky.lua",
		"local e = dd.env('fail_step', {fail_at = 25})\n"
		"local l = dd.learner('counter', {}, e)\n"
		"dd.rollout(e, l, {steps = 100})\n", 0, NULL);
	assert_int_equal(rc, DD_EXIT_FAILED);
	assert_non_null(strstr(err, "fail_step: step 26: the track ends here"));
	/* The two 10-step episodes before the failure were kept. */
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld", (long long)run_id) == 2);
	assert_true(tu_sql_num(db, "SELECT max(value) FROM metrics WHERE run_id = %lld AND name = 'count'",
	                       (long long)run_id) == 25);
}

/* observe() sees the info shown with obs and with next_obs, across
** autoresets: box_env's "t" counts 0..9 before a step and 1..10 after. */
static void test_info_reaches_observe(void **state)
{
	(void)state;
	int rc = run_text("info.lua",
		"local e = dd.env('box_env', {}, {num = 2})\n"
		"local l = dd.learner('counter', {}, e)\n"
		"local r = dd.rollout(e, l, {episodes = 4})\n"
		"assert(r.episodes == 4)\n"
		"assert(r.metrics.info_sum == 4 * 45, r.metrics.info_sum)\n"
		"local r3 = dd.rollout(e, l, {episodes = 3})\n"
		"assert(r3.episodes == 3, 'exactly the episodes asked for')\n"
		"assert(r.metrics.next_info_sum == 4 * 55, r.metrics.next_info_sum)\n"
		"local one = dd.env('box_env')\n"
		"local m = dd.learner('counter', {}, one)\n"
		"m:observe({t = {0}}, {0, 0, 0}, 0, {t = {1}}, false, false, {t = 3}, {t = 4})\n"
		"local u = m:update()\n"
		"assert(u.info_sum == 3 and u.next_info_sum == 4)\n", 0, NULL);
	if (rc)
		fail_msg("%s", err);
}

/* A learning-rate schedule from Lua: learner:set between updates. */
static void test_learner_settings(void **state)
{
	(void)state;
	int rc = run_text("lr.lua",
		"local schedules = require('schedules')\n"
		"local lr = schedules.cosine(0.1, 0.0, 4)\n"
		"local e = dd.env('box_env')\n"
		"local l = dd.learner('counter', {}, e)\n"
		"for t = 0, 4 do l:set{lr = lr(t)}; assert(math.abs(l:update().lr - lr(t)) < 1e-12) end\n"
		"local ok, msg = pcall(l.set, l, {momentum = 0.9})\n"
		"assert(not ok and msg:find('no setting .momentum. %(settable: lr%)'), msg)\n"
		"local r = dd.learner('random', {}, e)\n"
		"ok, msg = pcall(r.set, r, {lr = 1})\n"
		"assert(not ok and msg:find('no settings to change'), msg)\n", 0, NULL);
	if (rc)
		fail_msg("%s", err);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics WHERE run_id = %lld AND name = 'set.lr'",
	                       (long long)run_id) == 5);
	assert_true(tu_sql_num(db, "SELECT value FROM metrics WHERE run_id = %lld AND name = 'set.lr' AND step = 4",
	                       (long long)run_id) == 0.0);
}

static void test_config_and_typed_set(void **state)
{
	(void)state;
	const char *text =
		"local cfg = dd.config{episodes = 10, lr = 0.5, name = 'x', fast = false}\n"
		"assert(math.type(cfg.episodes) == 'integer', 'integers stay integers')\n"
		"run:log('lr', cfg.lr, 0)\n"
		"assert(cfg.fast == true and cfg.name == 'y')\n";
	const char *sets[] = {"episodes=20", "lr=1e-3", "name=y", "fast=true"};
	assert_int_equal(run_text("cfg.lua", text, 4, sets), 0);
	assert_true(tu_sql_num(db, "SELECT value FROM params WHERE run_id = %lld AND key = 'episodes'",
	                       (long long)run_id) == 20);
	char *t = tu_sql_text(db, "SELECT typeof(value) FROM params WHERE run_id = %lld AND key = 'lr'",
	                      (long long)run_id);
	assert_string_equal(t, "real");
	free(t);
	const char *bad_key[] = {"epochs=3"};
	assert_int_equal(run_text("cfg.lua", text, 1, bad_key), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "no config key 'epochs'"));
	assert_non_null(strstr(err, "episodes"));
	const char *bad_type[] = {"lr=fast"};
	assert_int_equal(run_text("cfg.lua", text, 1, bad_type), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "--set lr=fast: 'lr' is a number in this scenario"));
	const char *unread[] = {"lr=1"};
	assert_int_equal(run_text("noconfig.lua", "local x = 1\n", 1, unread), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "never calls dd.config"));
}

static void test_checkpoint_restore_and_corruption(void **state)
{
	(void)state;
	int rc = run_text("ckpt.lua",
		"local e = dd.env('box_env')\n"
		"local l = dd.learner('counter', {}, e)\n"
		"for i = 1, 7 do l:update() end\n"
		"run:checkpoint(l)\n"
		"local m = dd.learner('counter', {}, e)\n"
		"assert(run:restore(m) == 7)\n"
		"assert(m:update().count == 8, 'restored state continues')\n", 0, NULL);
	if (rc)
		fail_msg("%s", err);
	int64_t id = run_id;
	/* Corrupt the stored blob: restore must refuse it and leave the learner as it was. */
	sqlite3 *h;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE checkpoints SET bytes = zeroblob(length(bytes)) WHERE run_id = %lld",
	         (long long)id);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	char *path = tu_write(dir, "corrupt.lua",
		"local e = dd.env('box_env')\n"
		"local l = dd.learner('counter', {}, e)\n"
		"l:update(); l:update()\n"
		"local ok, msg = pcall(run.restore, run, l)\n"
		"assert(not ok and msg:find('corrupt'), msg)\n"
		"assert(l:update().count == 3, 'learner untouched by the refused checkpoint')\n");
	dd_scenario_opts o = {.script = path, .db_path = db, .resume = id};
	rc = dd_scenario_run(&o, registry, &run_id, err, sizeof err);
	free(path);
	if (rc)
		fail_msg("%s", err);
}

static void test_resume_continues_a_failed_run(void **state)
{
	(void)state;
	/* Fails at the third chunk the first time; a resume finishes the job. */
	const char *text =
		"local cfg = dd.config{episodes = 50, chunk = 10, fail_at = 30}\n"
		"local env <close> = dd.env('corridor', {length = 4})\n"
		"local agent <close> = dd.learner('random', {}, env)\n"
		"local done = run:restore(agent) or 0\n"
		"while done < cfg.episodes do\n"
		"  if done == cfg.fail_at and not run.resumed then error('power cut') end\n"
		"  dd.rollout(env, agent, {episodes = cfg.chunk})\n"
		"  done = done + cfg.chunk\n"
		"  run:checkpoint(agent, done)\n"
		"end\n";
	assert_int_equal(run_text("resume.lua", text, 0, NULL), DD_EXIT_FAILED);
	int64_t id = run_id;
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld", (long long)id) == 30);
	dd_scenario_opts o = {.db_path = db, .resume = id};
	int rc = dd_scenario_run(&o, registry, &run_id, err, sizeof err);
	if (rc)
		fail_msg("%s", err);
	assert_int_equal(run_id, id);
	assert_status(id, "finished");
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld", (long long)id) == 50);
	assert_true(tu_sql_num(db, "SELECT count(DISTINCT episode) FROM episodes WHERE run_id = %lld", (long long)id) == 50);
	assert_true(tu_sql_num(db, "SELECT max(step) FROM checkpoints WHERE run_id = %lld", (long long)id) == 50);
	dd_scenario_opts unknown = {.db_path = db, .resume = 9999};
	assert_int_equal(dd_scenario_run(&unknown, registry, &run_id, err, sizeof err), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "9999"));
}

static void test_bad_database(void **state)
{
	(void)state;
	char *junk = tu_write(dir, "notes.db", "these are my notes, not a database\n");
	char *path = tu_write(dir, "fine.lua", "local x = 1\n");
	dd_scenario_opts o = {.script = path, .db_path = junk};
	assert_int_equal(dd_scenario_run(&o, registry, &run_id, err, sizeof err), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "notes.db"));
	assert_int_equal(run_id, 0);
	o.db_path = "/nonexistent/folder/runs.db";
	assert_int_equal(dd_scenario_run(&o, registry, &run_id, err, sizeof err), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "/nonexistent/folder/runs.db"));
	o.db_path = db;
	o.script = "/nonexistent/scenario.lua";
	assert_int_equal(dd_scenario_run(&o, registry, &run_id, err, sizeof err), DD_EXIT_FAILED);
	assert_non_null(strstr(err, "/nonexistent/scenario.lua: cannot read the scenario"));
	free(junk);
	free(path);
}

static void test_use_after_close_and_require(void **state)
{
	(void)state;
	int rc = run_text("close.lua",
		"local s = require('schedules')\n"
		"assert(s.linear(1, 0, 10)(5) == 0.5)\n"
		"local e = dd.env('corridor')\n"
		"do local l <close> = dd.learner('random', {}, e) end\n"
		"e:close()\n"
		"local ok, msg = pcall(e.reset, e, {})\n"
		"assert(not ok and msg:find('env used after close'), msg)\n"
		"assert(tostring(e) == 'dd.env(closed)')\n", 0, NULL);
	if (rc)
		fail_msg("%s", err);
}

static void test_learner_outlives_env(void **state)
{
	(void)state;
	int rc = run_text("outlive.lua",
		"local e = dd.env('corridor')\n"
		"local l = dd.learner('random', {}, e)\n"
		"local obs = e:reset{}\n"
		"e:close(); e = nil; collectgarbage()\n"
		"local a = l:act(obs)\n"
		"assert(a == 0 or a == 1)\n", 0, NULL);
	if (rc)
		fail_msg("%s", err);
}

/* SIGINT mid-run: the run ends `interrupted`, with its data, exit 130. */
static void test_interrupt(void **state)
{
	(void)state;
	char *path = tu_write(dir, "forever.lua",
		"local i = 0\nwhile true do i = i + 1; run:log('tick', i, i) end\n");
	pid_t pid = fork();
	if (pid == 0) {
		dd_scenario_opts o = {.script = path, .db_path = db, .name = "forever"};
		_exit(dd_scenario_run(&o, registry, &run_id, err, sizeof err));
	}
	usleep(500 * 1000);
	kill(pid, SIGINT);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), DD_EXIT_INTERRUPTED);
	char *s = tu_sql_text(db, "SELECT status FROM runs WHERE name = 'forever'");
	assert_string_equal(s, "interrupted");
	free(s);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id "
	                           "WHERE r.name = 'forever'") > 0);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollout_logs_every_episode),
		cmocka_unit_test(test_same_seed_same_episodes),
		cmocka_unit_test(test_seeded_rollouts_compare_learners),
		cmocka_unit_test(test_step_by_step_from_lua),
		cmocka_unit_test(test_syntax_error_names_file_and_line),
		cmocka_unit_test(test_runtime_error_keeps_logged_data),
		cmocka_unit_test(test_unknown_plugin_lists_available),
		cmocka_unit_test(test_bad_parameters),
		cmocka_unit_test(test_bad_actions),
		cmocka_unit_test(test_plugin_error_mid_rollout),
		cmocka_unit_test(test_info_reaches_observe),
		cmocka_unit_test(test_learner_settings),
		cmocka_unit_test(test_config_and_typed_set),
		cmocka_unit_test(test_checkpoint_restore_and_corruption),
		cmocka_unit_test(test_resume_continues_a_failed_run),
		cmocka_unit_test(test_bad_database),
		cmocka_unit_test(test_use_after_close_and_require),
		cmocka_unit_test(test_learner_outlives_env),
		cmocka_unit_test(test_interrupt),
	};
	return cmocka_run_group_tests(tests, scenario_setup, scenario_teardown);
}
