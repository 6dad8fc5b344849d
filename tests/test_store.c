/*
** test_store.c -- the run store: schema, runs, typed params, buffered
** metrics and episodes, views, checkpoints, clear errors, and the two
** promises that need processes: a SIGKILLed writer leaves whole batches and
** a `crashed` run; four writers at once lose nothing and never fail.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store.h"
#include <daydream/crc32.h>
#include <sqlite3.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

/* A fresh file name in the test directory (one per test). */
static const char *db_path(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "store_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[512];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (remove(p) != 0) { /* a directory made by a test */
			rmdir(p);
		}
	}
	closedir(d);
	rmdir(dir);
	return 0;
}

static dd_store *open_ok(const char *path)
{
	char err[512];
	dd_store *s = NULL;
	int rc = dd_store_open(path, &s, err, sizeof err);
	if (rc != 0)
		fail_msg("open %s: %s", path, err);
	assert_non_null(s);
	return s;
}

/* One integer (or -1 for NULL / no row) from sql on db. */
static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	int64_t v = -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static double q_num(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	double v = NAN;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* One text value of sql, copied into buf ("" for NULL / no row). */
static const char *q_text(sqlite3 *db, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	buf[0] = 0;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* ------------------------------------------------------------------------ */

/* A database of schema 1 (before episodes.info) is migrated forward on open,
** keeping its rows. */
static void test_schema_migrates_forward(void **state)
{
	(void)state;
	const char *path = db_path("old.db");
	dd_store *s = open_ok(path);
	int64_t run;
	assert_int_equal(dd_store_run_begin(s, "old", "x.lua", NULL, 1, &run), 0);
	dd_episode_row e = { "corridor", 0, 1.0, 3, 1, 1, 0, NULL, NULL };
	assert_int_equal(dd_store_episode(s, run, &e), 0);
	assert_int_equal(dd_store_run_end(s, run, "finished", NULL), 0);
	exec_ok(dd_store_db(s), "ALTER TABLE episodes DROP COLUMN learner");
	exec_ok(dd_store_db(s), "ALTER TABLE episodes DROP COLUMN info");
	exec_ok(dd_store_db(s), "DELETE FROM schema_version WHERE version >= 2");
	dd_store_close(s);
	s = open_ok(path);
	sqlite3 *db = dd_store_db(s);
	assert_int_equal(q_int(db, "SELECT max(version) FROM schema_version"), 3);
	assert_int_equal(q_int(db, "SELECT count(*) FROM episodes WHERE info IS NULL"), 1);
	dd_episode_row f = { "corridor", 1, 1.0, 3, 1, 1, 0, "{\"success\":1}", "random" };
	assert_int_equal(dd_store_run_reopen(s, run), 0);
	assert_int_equal(dd_store_episode(s, run, &f), 0);
	assert_int_equal(dd_store_flush(s), 0);
	assert_int_equal(q_int(db, "SELECT json_extract(info, '$.success') FROM episodes WHERE episode = 1"), 1);
	assert_int_equal(q_int(db, "SELECT count(*) FROM episodes WHERE learner = 'random'"), 1);
	dd_store_close(s);
}

static void test_schema_create_and_reopen(void **state)
{
	(void)state;
	const char *path = db_path("schema.db");
	char buf[64];
	for (int round = 0; round < 3; round++) {
		dd_store *s = open_ok(path);
		sqlite3 *db = dd_store_db(s);
		assert_int_equal(q_int(db, "SELECT max(version) FROM schema_version"), 3);
		assert_int_equal(q_int(db, "SELECT count(*) FROM schema_version"), 3);
		assert_string_equal(q_text(db, "PRAGMA journal_mode", buf, sizeof buf),
		                    "wal");
		assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master WHERE"
		                 " type = 'table' AND name IN ('runs', 'params',"
		                 " 'metric_names', 'metric_values', 'metric_latest',"
		                 " 'episodes', 'checkpoints', 'artifacts')"), 8);
		assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master WHERE"
		                 " type = 'view' AND name IN ('metrics', 'latest_metrics',"
		                 " 'run_summary')"), 3);
		assert_string_equal(dd_store_path(s), path);
		dd_store_close(s);
	}
}

static void test_run_lifecycle(void **state)
{
	(void)state;
	const char *path = db_path("runs.db");
	dd_store *s = open_ok(path);
	sqlite3 *db = dd_store_db(s);
	int64_t id = 0, id2 = 0;
	uint64_t big_seed = (UINT64_C(1) << 63) + 5;
	assert_int_equal(dd_store_run_begin(s, "first", "scenarios/a.lua", "abc123",
	                                    big_seed, &id), 0);
	assert_int_equal(dd_store_run_begin(s, NULL, NULL, NULL, 7, &id2), 0);
	assert_true(id > 0 && id2 == id + 1);

	char sql[256], buf[256], host[256];
	snprintf(sql, sizeof sql, "SELECT status FROM runs WHERE id = %lld", (long long)id);
	assert_string_equal(q_text(db, sql, buf, sizeof buf), "running");
	snprintf(sql, sizeof sql, "SELECT pid FROM runs WHERE id = %lld", (long long)id);
	assert_int_equal(q_int(db, sql), getpid());
	gethostname(host, sizeof host);
	snprintf(sql, sizeof sql, "SELECT host FROM runs WHERE id = %lld", (long long)id);
	assert_string_equal(q_text(db, sql, buf, sizeof buf), host);

	dd_run_info info;
	assert_int_equal(dd_store_run_get(s, id, &info), 0);
	assert_int_equal(info.id, id);
	assert_string_equal(info.name, "first");
	assert_string_equal(info.scenario, "scenarios/a.lua");
	assert_string_equal(info.scenario_hash, "abc123");
	assert_string_equal(info.status, "running");
	assert_true(info.seed == big_seed);
	dd_run_info_free(&info);
	assert_int_equal(dd_store_run_get(s, id2, &info), 0);
	assert_string_equal(info.name, "");
	assert_int_equal(info.seed, 7);
	dd_run_info_free(&info);

	assert_int_equal(dd_store_run_end(s, id, "finished", NULL), 0);
	snprintf(sql, sizeof sql, "SELECT status || '/' || (ended_at >= started_at)"
	         " || '/' || (error IS NULL) FROM runs WHERE id = %lld", (long long)id);
	assert_string_equal(q_text(db, sql, buf, sizeof buf), "finished/1/1");

	assert_int_equal(dd_store_run_reopen(s, id), 0);
	snprintf(sql, sizeof sql, "SELECT status || '/' || (ended_at IS NULL)"
	         " FROM runs WHERE id = %lld", (long long)id);
	assert_string_equal(q_text(db, sql, buf, sizeof buf), "running/1");
	assert_int_equal(dd_store_run_end(s, id, "failed", "loss is NaN"), 0);
	snprintf(sql, sizeof sql, "SELECT status || '/' || error FROM runs"
	         " WHERE id = %lld", (long long)id);
	assert_string_equal(q_text(db, sql, buf, sizeof buf), "failed/loss is NaN");
	assert_int_equal(dd_store_run_end(s, id2, "interrupted", NULL), 0);

	/* errors name the file and the run */
	assert_int_equal(dd_store_run_get(s, 999, &info), -1);
	assert_null(info.name);
	assert_non_null(strstr(dd_store_errmsg(s), path));
	assert_non_null(strstr(dd_store_errmsg(s), "no run 999"));
	assert_int_equal(dd_store_run_reopen(s, 999), -1);
	assert_non_null(strstr(dd_store_errmsg(s), "no run 999"));
	assert_int_equal(dd_store_run_end(s, 999, "finished", NULL), -1);
	assert_non_null(strstr(dd_store_errmsg(s), "no run 999"));
	assert_int_equal(dd_store_run_end(s, id, "crashed", NULL), -1);
	assert_non_null(strstr(dd_store_errmsg(s), "'crashed'"));
	assert_int_equal(dd_store_metric(s, 999, "loss", 0, 1.0), -1);
	assert_non_null(strstr(dd_store_errmsg(s), "no run 999"));
	dd_store_close(s);

	/* a reopened file still has both runs, ended */
	s = open_ok(path);
	assert_int_equal(q_int(dd_store_db(s), "SELECT count(*) FROM runs WHERE"
	                 " status IN ('failed', 'interrupted')"), 2);
	dd_store_close(s);
}

struct collected {
	int n;
	char keys[8][32];
	int is_num[8];
	double num[8];
	char text[8][32];
};

static void collect(void *ud, const char *key, int is_num, double num,
                    const char *text)
{
	struct collected *c = ud;
	assert_true(c->n < 8);
	snprintf(c->keys[c->n], 32, "%s", key);
	c->is_num[c->n] = is_num;
	c->num[c->n] = num;
	snprintf(c->text[c->n], 32, "%s", text ? text : "");
	c->n++;
}

static void test_params_typed(void **state)
{
	(void)state;
	dd_store *s = open_ok(db_path("params.db"));
	sqlite3 *db = dd_store_db(s);
	int64_t id;
	assert_int_equal(dd_store_run_begin(s, "p", "x.lua", NULL, 1, &id), 0);
	assert_int_equal(dd_store_param_num(s, id, "lr", 0.001), 0);
	assert_int_equal(dd_store_param_num(s, id, "steps", 3), 0);
	assert_int_equal(dd_store_param_text(s, id, "env", "traffic"), 0);
	assert_int_equal(dd_store_param_text(s, id, "digits", "42"), 0);
	assert_int_equal(dd_store_param_num(s, id, "lr", 0.01), 0); /* replaces */
	char buf[64];
	assert_string_equal(q_text(db, "SELECT typeof(value) FROM params WHERE"
	                    " key = 'steps'", buf, sizeof buf), "real");
	assert_string_equal(q_text(db, "SELECT typeof(value) FROM params WHERE"
	                    " key = 'digits'", buf, sizeof buf), "text");
	assert_string_equal(q_text(db, "SELECT typeof(value) FROM params WHERE"
	                    " key = 'env'", buf, sizeof buf), "text");
	assert_int_equal(q_int(db, "SELECT count(*) FROM params"), 4);
	assert_true(q_num(db, "SELECT value FROM params WHERE key = 'lr'") == 0.01);
	/* numbers compare as numbers in SQL */
	assert_int_equal(q_int(db, "SELECT count(*) FROM params WHERE value > 1"
	                 " AND typeof(value) = 'real'"), 1);

	struct collected c = { 0 };
	assert_int_equal(dd_store_params_each(s, id, collect, &c), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.keys[0], "digits");
	assert_false(c.is_num[0]);
	assert_string_equal(c.text[0], "42");
	assert_string_equal(c.keys[1], "env");
	assert_string_equal(c.text[1], "traffic");
	assert_string_equal(c.keys[2], "lr");
	assert_true(c.is_num[2]);
	assert_true(c.num[2] == 0.01);
	assert_string_equal(c.keys[3], "steps");
	assert_true(c.is_num[3] && c.num[3] == 3.0);
	assert_int_equal(dd_store_param_num(s, 77, "lr", 1), -1);
	assert_non_null(strstr(dd_store_errmsg(s), "no run 77"));
	dd_store_close(s);
}

static void test_metrics_buffered_and_visible(void **state)
{
	(void)state;
	const char *path = db_path("metrics.db");
	dd_store *s = open_ok(path);
	sqlite3 *peer = raw_open(path); /* another reader, like a sqlite3 shell */
	int64_t id;
	assert_int_equal(dd_store_run_begin(s, "m", "x.lua", NULL, 1, &id), 0);
	assert_int_equal(dd_store_set_batch(s, 1000000, 0), 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(dd_store_metric(s, id, "loss", i, 1.0 / (i + 1)), 0);
		assert_int_equal(dd_store_metric(s, id, "acc", i, i * 0.001), 0);
	}
	assert_int_equal(dd_store_metric(s, id, "nan", 0, NAN), 0);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metrics"), 0);
	assert_int_equal(dd_store_flush(s), 0);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metrics"), 2001);

	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(peer, "SELECT step, value FROM metrics"
	                 " WHERE run_id = ? AND name = 'loss' ORDER BY step", -1,
	                 &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_int_equal(sqlite3_column_int64(st, 0), n);
		assert_true(sqlite3_column_double(st, 1) == 1.0 / (n + 1));
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, 1000);
	assert_int_equal(q_int(peer, "SELECT value IS NULL FROM metrics WHERE"
	                 " name = 'nan'"), 1);
	assert_true(q_num(peer, "SELECT max(wall_time) - min(wall_time) FROM metrics") < 60);

	/* the query a person writes goes through the index, not a scan */
	char plan[2048] = "";
	assert_int_equal(sqlite3_prepare_v2(peer, "EXPLAIN QUERY PLAN SELECT step,"
	                 " value FROM metrics WHERE run_id = 3 AND name = 'loss'"
	                 " ORDER BY step", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(plan, (const char *)sqlite3_column_text(st, 3),
		        sizeof plan - strlen(plan) - 2);
		strcat(plan, ";");
	}
	sqlite3_finalize(st);
	assert_non_null(strstr(plan, "metric_values_run_name_step"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	assert_null(strstr(plan, "SCAN v"));

	/* full buffer commits by itself, whole batches only */
	assert_int_equal(dd_store_set_batch(s, 100, 0), 0);
	for (int i = 0; i < 250; i++)
		assert_int_equal(dd_store_metric(s, id, "grad", i, i), 0);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metrics WHERE name = 'grad'"),
	                 200);
	/* so does an old one, on the next log call */
	assert_int_equal(dd_store_set_batch(s, 1000000, 0.05), 0);
	assert_int_equal(dd_store_flush(s), 0);
	assert_int_equal(dd_store_metric(s, id, "slow", 0, 0), 0);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metrics WHERE name = 'slow'"), 0);
	nanosleep(&(struct timespec){ 0, 80 * 1000000 }, NULL);
	assert_int_equal(dd_store_metric(s, id, "slow", 1, 1), 0);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metrics WHERE name = 'slow'"), 2);

	/* run_end commits what is buffered; close too */
	assert_int_equal(dd_store_metric(s, id, "last", 0, 5), 0);
	assert_int_equal(dd_store_run_end(s, id, "finished", NULL), 0);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metrics WHERE name = 'last'"), 1);
	assert_int_equal(dd_store_metric(s, id, "after", 0, 5), 0);
	dd_store_close(s);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metrics WHERE name = 'after'"), 1);
	assert_int_equal(q_int(peer, "SELECT count(*) FROM metric_names"), 7);
	sqlite3_close(peer);
}

static void test_episodes_and_summary(void **state)
{
	(void)state;
	dd_store *s = open_ok(db_path("episodes.db"));
	sqlite3 *db = dd_store_db(s);
	int64_t a, b;
	assert_int_equal(dd_store_run_begin(s, "a", "traffic.lua", NULL, 1, &a), 0);
	assert_int_equal(dd_store_run_begin(s, "b", "blocks.lua", NULL, 2, &b), 0);
	for (int i = 0; i < 150; i++) {
		dd_episode_row e = { "traffic", i, (double)i, 10 + i, i % 3 - 1,
		                     i % 2, 1 - i % 2, NULL, NULL };
		assert_int_equal(dd_store_episode(s, a, &e), 0);
	}
	dd_episode_row e = { "blocks", 0, -4.0, 7, 1, 1, 0, "{\"falls\":1}", NULL };
	assert_int_equal(dd_store_episode(s, b, &e), 0);
	assert_int_equal(dd_store_flush(s), 0);

	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM episodes WHERE run_id = %lld",
	         (long long)a);
	assert_int_equal(q_int(db, sql), 150);
	assert_int_equal(q_int(db, "SELECT count(*) FROM episodes WHERE success IS NULL"), 50);
	assert_int_equal(q_int(db, "SELECT count(*) FROM episodes WHERE info IS NOT NULL"), 1);
	assert_int_equal(q_int(db, "SELECT json_extract(info, '$.falls') FROM episodes WHERE env = 'blocks'"), 1);
	assert_int_equal(q_int(db, "SELECT sum(success) FROM episodes WHERE env = 'traffic'"), 50);
	assert_int_equal(q_int(db, "SELECT sum(terminated) FROM episodes WHERE env = 'traffic'"), 75);
	assert_int_equal(q_int(db, "SELECT sum(truncated) FROM episodes WHERE env = 'traffic'"), 75);
	assert_int_equal(q_int(db, "SELECT length FROM episodes WHERE episode = 149"), 159);
	assert_true(q_num(db, "SELECT sum(return) FROM episodes WHERE env = 'traffic'")
	            == 149.0 * 150 / 2);

	snprintf(sql, sizeof sql, "SELECT episodes FROM run_summary WHERE run_id = %lld",
	         (long long)a);
	assert_int_equal(q_int(db, sql), 150);
	/* the last 100 episodes are 50..149: mean 99.5 */
	snprintf(sql, sizeof sql, "SELECT mean_return_last100 FROM run_summary"
	         " WHERE run_id = %lld", (long long)a);
	assert_true(q_num(db, sql) == 99.5);
	snprintf(sql, sizeof sql, "SELECT mean_return_last100 FROM run_summary"
	         " WHERE run_id = %lld", (long long)b);
	assert_true(q_num(db, sql) == -4.0);

	assert_int_equal(dd_store_run_end(s, b, "finished", NULL), 0);
	char buf[128];
	snprintf(sql, sizeof sql, "SELECT name || '/' || scenario || '/' || status"
	         " FROM run_summary WHERE run_id = %lld", (long long)b);
	assert_string_equal(q_text(db, sql, buf, sizeof buf), "b/blocks.lua/finished");
	/* started is ISO-8601 UTC; duration in seconds, from the stored times */
	snprintf(sql, sizeof sql, "SELECT started FROM run_summary WHERE run_id = %lld",
	         (long long)b);
	q_text(db, sql, buf, sizeof buf);
	assert_int_equal(strlen(buf), 20);
	assert_true(buf[4] == '-' && buf[10] == 'T' && buf[19] == 'Z');
	snprintf(sql, sizeof sql, "SELECT abs(r.duration - (x.ended_at - x.started_at))"
	         " < 1e-9 AND r.duration >= 0 AND r.duration < 60 FROM run_summary r"
	         " JOIN runs x ON x.id = r.run_id WHERE r.run_id = %lld", (long long)b);
	assert_int_equal(q_int(db, sql), 1);
	/* a running run's duration grows with the clock */
	snprintf(sql, sizeof sql, "SELECT duration >= 0 AND duration < 60"
	         " FROM run_summary WHERE run_id = %lld", (long long)a);
	assert_int_equal(q_int(db, sql), 1);
	e.env = "";
	assert_int_equal(dd_store_episode(s, a, &e), -1);
	dd_store_close(s);
}

static void test_latest_metrics(void **state)
{
	(void)state;
	dd_store *s = open_ok(db_path("latest.db"));
	sqlite3 *db = dd_store_db(s);
	int64_t a, b;
	assert_int_equal(dd_store_run_begin(s, "a", "x.lua", NULL, 1, &a), 0);
	assert_int_equal(dd_store_run_begin(s, "b", "x.lua", NULL, 1, &b), 0);
	assert_int_equal(dd_store_set_batch(s, 7, 0), 0); /* pairs span batches */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(dd_store_metric(s, a, "loss", i, 10 - i), 0);
		assert_int_equal(dd_store_metric(s, b, "loss", i, 100 + i), 0);
		assert_int_equal(dd_store_metric(s, a, "acc", i, i), 0);
	}
	assert_int_equal(dd_store_flush(s), 0);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT step * 1000 + value FROM latest_metrics"
	         " WHERE run_id = %lld AND name = 'loss'", (long long)a);
	assert_int_equal(q_int(db, sql), 9 * 1000 + 1);
	snprintf(sql, sizeof sql, "SELECT step * 1000 + value FROM latest_metrics"
	         " WHERE run_id = %lld AND name = 'loss'", (long long)b);
	assert_int_equal(q_int(db, sql), 9 * 1000 + 109);
	snprintf(sql, sizeof sql, "SELECT value FROM latest_metrics"
	         " WHERE run_id = %lld AND name = 'acc'", (long long)a);
	assert_int_equal(q_int(db, sql), 9);
	assert_int_equal(q_int(db, "SELECT count(*) FROM latest_metrics"), 3);
	/* latest_metrics agrees with the last row of every series */
	assert_int_equal(q_int(db, "SELECT count(*) FROM latest_metrics l WHERE"
	                 " l.value = (SELECT m.value FROM metrics m WHERE m.run_id ="
	                 " l.run_id AND m.name = l.name ORDER BY m.step DESC LIMIT 1)"), 3);
	/* a resumed run logs steps again: the last logged value is the latest */
	assert_int_equal(dd_store_metric(s, a, "loss", 5, 42), 0);
	assert_int_equal(dd_store_flush(s), 0);
	snprintf(sql, sizeof sql, "SELECT step * 1000 + value FROM latest_metrics"
	         " WHERE run_id = %lld AND name = 'loss'", (long long)a);
	assert_int_equal(q_int(db, sql), 5 * 1000 + 42);
	dd_store_close(s);
}

static void test_checkpoints(void **state)
{
	(void)state;
	const char *path = db_path("ckpt.db");
	dd_store *s = open_ok(path);
	sqlite3 *db = dd_store_db(s);
	int64_t run, id1, id2, id3;
	assert_int_equal(dd_store_run_begin(s, "c", "x.lua", NULL, 1, &run), 0);
	enum { N = 100000 };
	unsigned char *a = malloc(N), *b = malloc(N), *c = malloc(N);
	for (int i = 0; i < N; i++) {
		a[i] = (unsigned char)i;
		b[i] = (unsigned char)(i * 7 + 1);
		c[i] = (unsigned char)(i * 13 + 5);
	}
	/* a metric logged before the checkpoint lands with it */
	assert_int_equal(dd_store_set_batch(s, 1000000, 0), 0);
	assert_int_equal(dd_store_metric(s, run, "loss", 10, 0.5), 0);
	assert_int_equal(dd_store_checkpoint_put(s, run, "policy", 10, a, N, &id1), 0);
	assert_int_equal(q_int(db, "SELECT count(*) FROM metrics"), 1);
	assert_int_equal(dd_store_checkpoint_put(s, run, "policy", 20, b, N, &id2), 0);
	assert_int_equal(dd_store_checkpoint_put(s, run, "policy", 20, c, N, &id3), 0);
	assert_int_equal(dd_store_checkpoint_put(s, run, "empty", 0, NULL, 0, NULL), 0);
	assert_true(id1 < id2 && id2 < id3);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT crc32 FROM checkpoints WHERE id = %lld",
	         (long long)id1);
	assert_int_equal(q_int(db, sql), dd_crc32(0, a, N));
	snprintf(sql, sizeof sql, "SELECT size FROM checkpoints WHERE id = %lld",
	         (long long)id1);
	assert_int_equal(q_int(db, sql), N);

	void *blob;
	size_t n;
	int64_t step;
	assert_int_equal(dd_store_checkpoint_latest(s, run, "policy", &blob, &n, &step), 1);
	assert_int_equal(n, N);
	assert_int_equal(step, 20);
	assert_memory_equal(blob, c, N); /* same step: the newest wins */
	free(blob);
	assert_int_equal(dd_store_checkpoint_latest(s, run, "empty", &blob, &n, &step), 1);
	assert_int_equal(n, 0);
	free(blob);
	assert_int_equal(dd_store_checkpoint_latest(s, run, "critic", &blob, &n, &step), 0);
	assert_null(blob);

	/* flip one byte of the newest: refused, with run, owner and step named */
	snprintf(sql, sizeof sql, "UPDATE checkpoints SET bytes = CAST(substr(bytes, 1, 499)"
	         " || x'%02x' || substr(bytes, 501) AS BLOB) WHERE id = %lld",
	         c[499] ^ 0x10, (long long)id3);
	exec_ok(db, sql);
	snprintf(sql, sizeof sql, "SELECT length(bytes) FROM checkpoints WHERE id = %lld",
	         (long long)id3);
	assert_int_equal(q_int(db, sql), N);
	assert_int_equal(dd_store_checkpoint_latest(s, run, "policy", &blob, &n, &step), -1);
	assert_null(blob);
	const char *msg = dd_store_errmsg(s);
	char want[64];
	snprintf(want, sizeof want, "run %lld", (long long)run);
	assert_non_null(strstr(msg, want));
	assert_non_null(strstr(msg, "owner 'policy'"));
	assert_non_null(strstr(msg, "step 20"));
	assert_non_null(strstr(msg, "CRC-32"));
	assert_non_null(strstr(msg, path));
	/* a truncated blob too */
	snprintf(sql, sizeof sql, "UPDATE checkpoints SET bytes = substr(bytes, 1, 10)"
	         " WHERE id = %lld", (long long)id3);
	exec_ok(db, sql);
	assert_int_equal(dd_store_checkpoint_latest(s, run, "policy", &blob, &n, &step), -1);
	assert_non_null(strstr(dd_store_errmsg(s), "corrupt"));

	assert_int_equal(dd_store_artifact(s, run, "frame.png", "image/png", a, 1234), 0);
	assert_int_equal(q_int(db, "SELECT size FROM artifacts WHERE name = 'frame.png'"),
	                 1234);
	assert_int_equal(q_int(db, "SELECT length(bytes) = 1234 AND"
	                 " media_type = 'image/png' FROM artifacts"), 1);
	free(a);
	free(b);
	free(c);
	dd_store_close(s);
}

static void test_bad_files(void **state)
{
	(void)state;
	char err[512];
	dd_store *s = (dd_store *)1;

	/* text in a file: refused, and left as it was */
	const char *path = db_path("notes.db");
	FILE *f = fopen(path, "w");
	const char *text = "these are my notes, not a database\n"
	                   "and they are long enough to fill a header line or two.\n";
	fputs(text, f);
	fclose(f);
	assert_int_equal(dd_store_open(path, &s, err, sizeof err), -1);
	assert_null(s);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a database"));
	assert_non_null(strstr(err, "SQLITE_NOTADB"));
	assert_null(strchr(err, '\n'));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, strlen(text));

	/* a directory */
	char sub[256];
	snprintf(sub, sizeof sub, "%s", db_path("adir"));
	assert_int_equal(mkdir(sub, 0700), 0);
	s = (dd_store *)1;
	assert_int_equal(dd_store_open(sub, &s, err, sizeof err), -1);
	assert_null(s);
	assert_non_null(strstr(err, sub));
	assert_non_null(strstr(err, "is a directory"));

	/* a file in a directory that does not exist */
	char missing[256];
	snprintf(missing, sizeof missing, "%s/nowhere/runs.db", dir);
	assert_int_equal(dd_store_open(missing, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, "does not exist"));

	/* an SQLite file of another program: not touched */
	path = db_path("other.db");
	sqlite3 *db = raw_open(path);
	exec_ok(db, "CREATE TABLE photos(id INTEGER PRIMARY KEY, file TEXT)");
	sqlite3_close(db);
	assert_int_equal(dd_store_open(path, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "another program"));
	db = raw_open(path);
	char buf[32];
	assert_string_equal(q_text(db, "PRAGMA journal_mode", buf, sizeof buf), "delete");
	assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master"), 1);

	/* a schema newer than this code */
	sqlite3_close(db);
	path = db_path("future.db");
	dd_store_close(open_ok(path));
	db = raw_open(path);
	exec_ok(db, "INSERT INTO schema_version VALUES(99, 0)");
	sqlite3_close(db);
	assert_int_equal(dd_store_open(path, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "schema version 99"));
	assert_string_equal(dd_store_errmsg(NULL), "no store (it failed to open)");
}

/* ------------------------------------------------------------------------
** Processes. Children report through their exit status (and stderr) only;
** the parent never holds a store across fork().
*/

enum { CRASH_BATCH = 500 };

/* Logs metrics forever, committing every CRASH_BATCH rows exactly. */
static void crash_child(const char *path)
{
	char err[512];
	dd_store *s;
	int64_t run;
	if (dd_store_open(path, &s, err, sizeof err) ||
	    dd_store_run_begin(s, "doomed", "x.lua", NULL, 1, &run) ||
	    dd_store_set_batch(s, 1000000, 0)) {
		fprintf(stderr, "crash child: %s\n", s ? dd_store_errmsg(s) : err);
		_exit(1);
	}
	for (int64_t i = 0;; i++) {
		if (dd_store_metric(s, run, i % 2 ? "loss" : "acc", i, (double)i) ||
		    ((i + 1) % CRASH_BATCH == 0 && dd_store_flush(s))) {
			fprintf(stderr, "crash child: %s\n", dd_store_errmsg(s));
			_exit(1);
		}
	}
}

static void test_crash_leaves_whole_batches(void **state)
{
	(void)state;
	const char *path = db_path("crash.db");
	dd_store_close(open_ok(path)); /* schema first, so the poll below can read */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		crash_child(path);
	/* wait until several batches are in, then kill mid-stream */
	sqlite3 *peer = raw_open(path);
	int64_t n = 0;
	for (int t = 0; t < 2000 && n < 20 * CRASH_BATCH; t++) {
		nanosleep(&(struct timespec){ 0, 5 * 1000000 }, NULL);
		n = q_int(peer, "SELECT count(*) FROM metric_values");
	}
	sqlite3_close(peer);
	assert_true(n >= 20 * CRASH_BATCH);
	nanosleep(&(struct timespec){ 0, 37 * 1000000 }, NULL);
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	dd_store *s = open_ok(path);
	sqlite3 *db = dd_store_db(s);
	char buf[256];
	assert_string_equal(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
	assert_string_equal(q_text(db, "SELECT status FROM runs WHERE name = 'doomed'",
	                    buf, sizeof buf), "crashed");
	assert_int_equal(q_int(db, "SELECT ended_at >= started_at AND ended_at <="
	                 " (julianday('now') - 2440587.5) * 86400.0 + 1 FROM runs"
	                 " WHERE name = 'doomed'"), 1);
	q_text(db, "SELECT error FROM runs WHERE name = 'doomed'", buf, sizeof buf);
	assert_non_null(strstr(buf, "ended without ending the run"));
	int64_t rows = q_int(db, "SELECT count(*) FROM metric_values");
	assert_true(rows >= n);
	assert_int_equal(rows % CRASH_BATCH, 0);
	/* whole batches: steps 0 .. rows-1, none missing or doubled */
	assert_int_equal(q_int(db, "SELECT count(DISTINCT step) FROM metric_values"), rows);
	assert_int_equal(q_int(db, "SELECT max(step) FROM metric_values"), rows - 1);
	/* ended_at is the last committed row's time */
	assert_int_equal(q_int(db, "SELECT r.ended_at = (SELECT max(wall_time) FROM"
	                 " metric_values) FROM runs r WHERE name = 'doomed'"), 1);
	dd_store_close(s);
}

static void test_crash_detection_rules(void **state)
{
	(void)state;
	const char *path = db_path("owners.db");
	dd_store *s = open_ok(path);
	int64_t mine;
	assert_int_equal(dd_store_run_begin(s, "mine", "x.lua", NULL, 1, &mine), 0);
	dd_store_close(s); /* still running: this process is alive */

	/* a pid that no longer exists */
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	assert_int_equal(waitpid(gone, NULL, 0), gone);
	char host[256], sql[1024];
	gethostname(host, sizeof host);
	sqlite3 *db = raw_open(path);
	snprintf(sql, sizeof sql,
	         "INSERT INTO runs(name, status, host, pid, pid_start, started_at)"
	         " VALUES('gone', 'running', '%s', %d, NULL, 1);"
	         "INSERT INTO runs(name, status, host, pid, pid_start, started_at)"
	         " VALUES('reused', 'running', '%s', %d, 1, 1);"
	         "INSERT INTO runs(name, status, host, pid, pid_start, started_at)"
	         " VALUES('elsewhere', 'running', 'some-other-host', %d, 1, 1);",
	         host, (int)gone, host, (int)getpid(), (int)gone);
	exec_ok(db, sql);
	sqlite3_close(db);

	s = open_ok(path);
	db = dd_store_db(s);
	char buf[64];
	assert_string_equal(q_text(db, "SELECT status FROM runs WHERE name = 'mine'",
	                    buf, sizeof buf), "running");
	assert_string_equal(q_text(db, "SELECT status FROM runs WHERE name = 'gone'",
	                    buf, sizeof buf), "crashed");
	/* our pid, but a different start time: the pid was reused */
	assert_string_equal(q_text(db, "SELECT status FROM runs WHERE name = 'reused'",
	                    buf, sizeof buf), "crashed");
	assert_string_equal(q_text(db, "SELECT status FROM runs WHERE name = 'elsewhere'",
	                    buf, sizeof buf), "running");
	/* no rows: ended_at falls back to the start */
	assert_int_equal(q_int(db, "SELECT ended_at FROM runs WHERE name = 'gone'"), 1);
	/* a crashed run can be resumed, by us */
	int64_t gone_id = q_int(db, "SELECT id FROM runs WHERE name = 'gone'");
	assert_int_equal(dd_store_run_reopen(s, gone_id), 0);
	snprintf(sql, sizeof sql, "SELECT status || '/' || pid FROM runs WHERE id = %lld",
	         (long long)gone_id);
	char want[64];
	snprintf(want, sizeof want, "running/%d", (int)getpid());
	assert_string_equal(q_text(db, sql, buf, sizeof buf), want);
	dd_store_close(s);
}

/* Holds the write lock of path for hold_ms, then commits. */
static void lock_holder(const char *path, int ready_fd, int hold_ms)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		_exit(1);
	if (write(ready_fd, "x", 1) != 1)
		_exit(1);
	nanosleep(&(struct timespec){ hold_ms / 1000, (hold_ms % 1000) * 1000000L },
	          NULL);
	_exit(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : 1);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_waits_for_a_held_lock(void **state)
{
	(void)state;
	const char *path = db_path("locked.db");
	dd_store_close(open_ok(path));
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0)
		lock_holder(path, fds[1], 700);
	char c;
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	close(fds[1]);
	dd_store *s = open_ok(path); /* reading needs no lock in WAL */
	double t0 = mono();
	int64_t run;
	assert_int_equal(dd_store_run_begin(s, "patient", "x.lua", NULL, 1, &run), 0);
	double waited = mono() - t0;
	assert_true(waited > 0.3);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(q_int(dd_store_db(s), "SELECT count(*) FROM runs"), 1);
	dd_store_close(s);
}

enum { WRITERS = 4, ROWS_EACH = 20000, EPISODES_EACH = 300 };

/* One of the concurrent writers: opens (maybe creating) the file when the
** parent says go, logs, checkpoints and ends its run. Exit 0 on success. */
static void writer_child(const char *path, int go_fd, int k)
{
	char c, err[512];
	if (read(go_fd, &c, 1) != 0) /* EOF is the start signal */
		_exit(2);
	dd_store *s = NULL;
	int64_t run;
	if (dd_store_open(path, &s, err, sizeof err)) {
		fprintf(stderr, "writer %d: %s\n", k, err);
		_exit(1);
	}
	char name[32];
	snprintf(name, sizeof name, "writer%d", k);
	if (dd_store_run_begin(s, name, "x.lua", NULL, (uint64_t)k, &run) ||
	    dd_store_param_num(s, run, "k", k))
		goto fail;
	for (int i = 0; i < ROWS_EACH; i++) {
		if (dd_store_metric(s, run, i % 2 ? "loss" : "reward", i / 2, i))
			goto fail;
		if (i % (ROWS_EACH / EPISODES_EACH) == 0 && i / (ROWS_EACH / EPISODES_EACH)
		    < EPISODES_EACH) {
			dd_episode_row e = { "traffic", i / (ROWS_EACH / EPISODES_EACH),
			                     1.0, 10, 1, 1, 0, NULL, NULL };
			if (dd_store_episode(s, run, &e))
				goto fail;
		}
		if (i == ROWS_EACH / 2 &&
		    dd_store_checkpoint_put(s, run, "policy", i, name, strlen(name), NULL))
			goto fail;
	}
	if (dd_store_run_end(s, run, "finished", NULL))
		goto fail;
	dd_store_close(s);
	_exit(0);
fail:
	fprintf(stderr, "writer %d: %s\n", k, dd_store_errmsg(s));
	_exit(1);
}

static void test_concurrent_writers(void **state)
{
	(void)state;
	const char *path = db_path("shared.db"); /* created by the writers, racing */
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pids[WRITERS];
	for (int k = 0; k < WRITERS; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			close(go[1]);
			writer_child(path, go[0], k);
		}
	}
	close(go[0]);
	close(go[1]); /* go */
	for (int k = 0; k < WRITERS; k++) {
		int status;
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	dd_store *s = open_ok(path);
	sqlite3 *db = dd_store_db(s);
	char buf[64];
	assert_string_equal(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
	assert_int_equal(q_int(db, "SELECT count(*) FROM metric_values"),
	                 WRITERS * ROWS_EACH);
	assert_int_equal(q_int(db, "SELECT count(*) FROM schema_version"), 3);
	assert_int_equal(q_int(db, "SELECT count(*) FROM runs WHERE status = 'finished'"),
	                 WRITERS);
	assert_int_equal(q_int(db, "SELECT count(*) FROM (SELECT run_id FROM metrics"
	                 " GROUP BY run_id HAVING count(*) = 20000 AND"
	                 " count(DISTINCT step) = 10000)"), WRITERS);
	assert_int_equal(q_int(db, "SELECT count(*) FROM episodes"),
	                 WRITERS * EPISODES_EACH);
	assert_int_equal(q_int(db, "SELECT count(*) FROM checkpoints"), WRITERS);
	assert_int_equal(q_int(db, "SELECT count(*) FROM params"), WRITERS);
	assert_int_equal(q_int(db, "SELECT count(*) FROM metric_names"), 2);
	assert_int_equal(q_int(db, "SELECT count(*) FROM latest_metrics WHERE"
	                 " step = 9999"), 2 * WRITERS);
	assert_int_equal(q_int(db, "SELECT sum(episodes) FROM run_summary"),
	                 WRITERS * EPISODES_EACH);
	dd_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_create_and_reopen),
		cmocka_unit_test(test_schema_migrates_forward),
		cmocka_unit_test(test_run_lifecycle),
		cmocka_unit_test(test_params_typed),
		cmocka_unit_test(test_metrics_buffered_and_visible),
		cmocka_unit_test(test_episodes_and_summary),
		cmocka_unit_test(test_latest_metrics),
		cmocka_unit_test(test_checkpoints),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_crash_leaves_whole_batches),
		cmocka_unit_test(test_crash_detection_rules),
		cmocka_unit_test(test_waits_for_a_held_lock),
		cmocka_unit_test(test_concurrent_writers),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
