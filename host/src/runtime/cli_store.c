/*
** cli_store.c -- `daydream query`, `daydream runs` and `daydream show`:
** reading the run store from the command line.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"

int dd_cli_open_existing(const char *path, dd_store **store)
{
	char err[1024];
	if (access(path, F_OK) != 0) {
		fprintf(stderr, "daydream: %s: no such run database (run a scenario first, or give --db PATH)\n", path);
		return -1;
	}
	if (dd_store_open(path, store, err, sizeof err) < 0) {
		fprintf(stderr, "daydream: %s\n", err);
		return -1;
	}
	return 0;
}

/* Runs sql against the store and prints it; 0 or 1 (the exit status). */
static int print(dd_store *s, const char *sql, int has_param, long long param, int csv)
{
	char err[1024];
	if (dd_print_query(dd_store_db(s), sql, has_param, param, csv, stdout, err, sizeof err) < 0) {
		fprintf(stderr, "daydream: %s: %s\n", dd_store_path(s), err);
		return 1;
	}
	return 0;
}

int dd_cli_query(int argc, char **argv)
{
	const char *db = "runs.db", *sql = NULL;
	int csv = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strcmp(argv[i], "--csv") == 0)
			csv = 1;
		else if (argv[i][0] != '-' && !sql)
			sql = argv[i];
		else {
			fprintf(stderr, "daydream query: unexpected '%s'\nusage: daydream query [--db PATH] [--csv] \"SQL\"\n", argv[i]);
			return 2;
		}
	}
	if (!sql) {
		fprintf(stderr, "usage: daydream query [--db PATH] [--csv] \"SQL\"\n"
		        "e.g.   daydream query \"SELECT step, value FROM metrics WHERE run_id = 1 AND name = 'loss'\"\n");
		return 2;
	}
	dd_store *s;
	if (dd_cli_open_existing(db, &s) < 0)
		return 1;
	int rc = print(s, sql, 0, 0, csv);
	dd_store_close(s);
	return rc;
}

static const char RUNS_SQL[] =
	"SELECT r.run_id AS id, r.name, r.scenario, r.status, r.started, "
	"       printf('%.1f s', r.duration) AS duration, r.episodes, "
	"       printf('%.4g', r.mean_return_last100) AS 'return(last100)', "
	"       (SELECT group_concat(name || '=' || printf('%.4g', value), ' ') "
	"          FROM (SELECT name, value FROM latest_metrics m "
	"                 WHERE m.run_id = r.run_id ORDER BY name LIMIT 3)) AS metrics "
	"  FROM run_summary r ORDER BY r.run_id";

int dd_cli_runs(int argc, char **argv)
{
	const char *db = "runs.db";
	int csv = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strcmp(argv[i], "--csv") == 0)
			csv = 1;
		else {
			fprintf(stderr, "usage: daydream runs [--db PATH] [--csv]\n");
			return 2;
		}
	}
	dd_store *s;
	if (dd_cli_open_existing(db, &s) < 0)
		return 1;
	int rc = print(s, RUNS_SQL, 0, 0, csv);
	dd_store_close(s);
	return rc;
}

int dd_cli_show(int argc, char **argv)
{
	const char *db = "runs.db";
	long long run = 0;
	for (int i = 0; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			db = argv[++i];
		} else if (!run && (run = strtoll(argv[i], &end, 10)) > 0 && !*end) {
			continue;
		} else {
			fprintf(stderr, "usage: daydream show RUN [--db PATH]\n");
			return 2;
		}
	}
	if (run <= 0) {
		fprintf(stderr, "usage: daydream show RUN [--db PATH]   (run ids: daydream runs)\n");
		return 2;
	}
	dd_store *s;
	if (dd_cli_open_existing(db, &s) < 0)
		return 1;
	dd_run_info info;
	if (dd_store_run_get(s, run, &info) < 0) {
		fprintf(stderr, "daydream: %s\n", dd_store_errmsg(s));
		dd_store_close(s);
		return 1;
	}
	dd_run_info_free(&info);
	static const struct { const char *title, *sql; } parts[] = {
		{"run", "SELECT r.run_id AS id, r.name, r.scenario, r.status, x.seed, x.host, r.started, "
		        "printf('%.1f s', r.duration) AS duration, x.error "
		        "FROM run_summary r JOIN runs x ON x.id = r.run_id WHERE r.run_id = ?1"},
		{"params", "SELECT key, value FROM params WHERE run_id = ?1 ORDER BY key"},
		{"latest metrics", "SELECT name, step, value FROM latest_metrics WHERE run_id = ?1 ORDER BY name"},
		{"episodes", "SELECT count(*) AS episodes, avg(return) AS mean_return, "
		             "(SELECT avg(return) FROM (SELECT return FROM episodes WHERE run_id = ?1 "
		             "  ORDER BY episode DESC LIMIT 100)) AS mean_return_last100, "
		             "avg(length) AS mean_length, avg(CASE WHEN success >= 0 THEN success END) AS success_rate "
		             "FROM episodes WHERE run_id = ?1"},
		{"checkpoints", "SELECT id, owner, step, size, printf('%08x', crc32) AS crc32, "
		                "strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch') AS created "
		                "FROM checkpoints WHERE run_id = ?1 ORDER BY id"},
		{"artifacts", "SELECT id, name, media_type, size FROM artifacts WHERE run_id = ?1 ORDER BY id"},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0] && rc == 0; i++) {
		printf("%s== %s ==\n", i ? "\n" : "", parts[i].title);
		rc = print(s, parts[i].sql, 1, run, 0);
	}
	dd_store_close(s);
	return rc;
}
