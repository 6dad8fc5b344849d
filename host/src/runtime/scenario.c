/*
** scenario.c -- one scenario, one run: store, Lua state, signals, status.
*/
#include <errno.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "daydream/crc32.h"
#include "lua_dd.h"
#include "scenario.h"
#include "store.h"

static void on_signal(int sig)
{
	dd_interrupted = 1;
	signal(sig, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

/* Every ~1000 VM instructions: turn a pending interrupt into a Lua error, so
** the script unwinds and every object is released. */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (dd_interrupted)
		luaL_error(L, "interrupted");
}

/* Reads a whole file; returns 0 or -1 with errno's reason in err. */
static int read_file(const char *path, char **data, size_t *n, char *err, size_t err_size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, err_size, "%s: cannot read the scenario: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		char *nb = realloc(buf, cap *= 2);
		if (!nb)
			free(buf);
		buf = nb;
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		free(buf);
		snprintf(err, err_size, "%s: cannot read the scenario", path);
		return -1;
	}
	*data = buf;
	*n = len;
	return 0;
}

static const char *base_name(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	snprintf(buf, n, "%s", slash ? slash + 1 : path);
	char *dot = strrchr(buf, '.');
	if (dot && dot != buf)
		*dot = '\0';
	return buf;
}

/* package.path: the scenario's folder, then the project's lua/ folder. */
static void set_lua_path(lua_State *L, const char *script)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", script);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	char lua_dir[4096];
	if (dd_running_from_build_tree())
		snprintf(lua_dir, sizeof lua_dir, "%s", DD_LUA_SOURCE_DIR);
	else
		dd_install_path(DD_LUA_INSTALL_DIR, lua_dir, sizeof lua_dir);
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/?.lua;%s/?.lua;%s/?/init.lua;./lua/?.lua;", dir, lua_dir, lua_dir);
	lua_getfield(L, -2, "path");
	lua_concat(L, 2);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
}

static int run_script(lua_State *L, const char *script, char *err, size_t err_size)
{
	int rc = luaL_loadfile(L, script);
	if (rc == LUA_OK)
		rc = lua_pcall(L, 0, 0, 0);
	if (rc == LUA_OK)
		return 0;
	const char *msg = lua_tostring(L, -1);
	snprintf(err, err_size, "%s", msg ? msg : "(the error is not a string)");
	lua_pop(L, 1);
	return -1;
}

/* Begins or reopens the run; fills run and the script to execute. */
static int begin_run(const dd_scenario_opts *o, dd_store *store, dd_run *run,
                     char **script, char *err, size_t err_size)
{
	char name[256];
	if (o->resume) {
		dd_run_info info;
		if (dd_store_run_get(store, o->resume, &info) < 0) {
			snprintf(err, err_size, "--resume %lld: %s", (long long)o->resume,
			         dd_store_errmsg(store));
			return -1;
		}
		*script = strdup(o->script ? o->script : info.scenario);
		run->seed = info.seed;
		dd_run_info_free(&info);
		if (!*script)
			return -1;
		if (dd_store_run_reopen(store, o->resume) < 0) {
			snprintf(err, err_size, "%s", dd_store_errmsg(store));
			return -1;
		}
		run->id = o->resume;
		sqlite3_stmt *st; /* continue episode numbering where the run stopped */
		if (sqlite3_prepare_v2(dd_store_db(store),
		                       "SELECT COALESCE(MAX(episode) + 1, 0) FROM episodes WHERE run_id = ?",
		                       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, run->id);
			if (sqlite3_step(st) == SQLITE_ROW)
				run->next_episode = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		return 0;
	}
	char *text;
	size_t n;
	if (read_file(o->script, &text, &n, err, err_size) < 0)
		return -1;
	char hash[16];
	snprintf(hash, sizeof hash, "%08x", dd_crc32(0, text, n));
	free(text);
	run->seed = o->has_seed ? o->seed : 1;
	const char *run_name = o->name ? o->name : base_name(o->script, name, sizeof name);
	if (dd_store_run_begin(store, run_name, o->script, hash, run->seed, &run->id) < 0) {
		snprintf(err, err_size, "%s", dd_store_errmsg(store));
		return -1;
	}
	*script = strdup(o->script);
	return *script ? 0 : -1;
}

int dd_scenario_run(const dd_scenario_opts *o, dd_registry *registry,
                    int64_t *run_id, char *err, size_t err_size)
{
	*run_id = 0;
	err[0] = '\0';
	if (!o->script && !o->resume) {
		snprintf(err, err_size, "no scenario given");
		return DD_EXIT_FAILED;
	}
	dd_store *store;
	if (dd_store_open(o->db_path ? o->db_path : "runs.db", &store, err, err_size) < 0)
		return DD_EXIT_FAILED;
	dd_run run = {.store = store, .progress = o->progress, .started = dd_now()};
	char *script = NULL;
	if (begin_run(o, store, &run, &script, err, err_size) < 0) {
		if (!err[0])
			snprintf(err, err_size, "out of memory");
		dd_store_close(store);
		return DD_EXIT_FAILED;
	}
	*run_id = run.id;
	dd_store_param_num(store, run.id, "seed", (double)run.seed);

	int *used = calloc((size_t)o->n_set + 1, sizeof *used);
	dd_lua_ctx ctx = {
		.registry = registry, .run = &run, .resumed = o->resume != 0,
		.n_set = o->n_set, .set_keys = o->set_keys, .set_vals = o->set_vals,
		.set_used = used,
	};
	dd_interrupted = 0;
	struct sigaction sa = {0}, old_int, old_term;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	int rc = -1;
	lua_State *L = used ? luaL_newstate() : NULL;
	if (!L) {
		snprintf(err, err_size, "out of memory");
	} else {
		luaL_openlibs(L);
		set_lua_path(L, script);
		dd_lua_open(L, &ctx);
		lua_sethook(L, interrupt_hook, LUA_MASKCOUNT, 1000);
		rc = run_script(L, script, err, err_size);
		if (rc == 0 && o->n_set > 0 && !ctx.config_called) {
			snprintf(err, err_size, "%s: --set %s=... given, but the scenario reads no config (it never calls dd.config)",
			         script, o->set_keys[0]);
			rc = -1;
		}
		lua_close(L); /* releases every env and learner before the store ends the run */
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);

	int status = rc == 0 ? DD_EXIT_OK : dd_interrupted ? DD_EXIT_INTERRUPTED : DD_EXIT_FAILED;
	const char *status_name = status == DD_EXIT_OK ? "finished"
	                          : status == DD_EXIT_INTERRUPTED ? "interrupted" : "failed";
	if (status == DD_EXIT_INTERRUPTED)
		snprintf(err, err_size, "interrupted: run %lld kept what it logged; continue it with --resume %lld",
		         (long long)run.id, (long long)run.id);
	if (dd_store_run_end(store, run.id, status_name, rc == 0 ? NULL : err) < 0 && status == DD_EXIT_OK) {
		snprintf(err, err_size, "%s", dd_store_errmsg(store));
		status = DD_EXIT_FAILED;
	}
	dd_store_close(store);
	free(used);
	free(script);
	return status;
}
