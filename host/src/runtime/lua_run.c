/*
** lua_run.c -- the run a scenario records into (the global `run`, also
** dd.run) and dd.config, which merges a scenario's defaults with the values
** of a resumed run and the --set overrides of the command line.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_dd.h"

static dd_run *check_run(lua_State *L)
{
	dd_run *run = dd_lua_ctx_get(L)->run;
	if (!run || !run->store)
		luaL_error(L, "no run store is open");
	return run;
}

/* Raises the store's last error as a Lua error. */
static int store_error(lua_State *L, dd_run *run)
{
	return luaL_error(L, "%s", dd_store_errmsg(run->store));
}

/* run:log(name, value [, step]). Without a step, one more than the last
** step logged under that name by this scenario. */
static int l_log(lua_State *L)
{
	dd_run *run = check_run(L);
	const char *name = luaL_checkstring(L, 2);
	double value = luaL_checknumber(L, 3);
	lua_Integer step;
	lua_getfield(L, lua_upvalueindex(1), name);
	lua_Integer last = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
	lua_pop(L, 1);
	step = lua_isnoneornil(L, 4) ? last + 1 : luaL_checkinteger(L, 4);
	lua_pushinteger(L, step);
	lua_setfield(L, lua_upvalueindex(1), name);
	if (dd_store_metric(run->store, run->id, name, step, value) < 0)
		return store_error(L, run);
	return 0;
}

/* run:checkpoint(learner [, step]) -> checkpoint id */
static int l_checkpoint(lua_State *L)
{
	dd_run *run = check_run(L);
	dd_learner *l = dd_lua_check_learner(L, 2);
	lua_Integer step = luaL_optinteger(L, 3, l->updates);
	void *blob;
	size_t n;
	char err[1200];
	if (dd_learner_save(l, &blob, &n, err, sizeof err) < 0)
		return luaL_error(L, "%s", err);
	int64_t id = 0;
	int rc = dd_store_checkpoint_put(run->store, run->id, l->label, step, blob, n, &id);
	free(blob);
	if (rc < 0)
		return store_error(L, run);
	lua_pushinteger(L, id);
	return 1;
}

/* run:restore(learner) -> step of the latest checkpoint of this learner's
** label in this run, or nil when there is none. A corrupt checkpoint is an
** error and leaves the learner as it was. */
static int l_restore(lua_State *L)
{
	dd_run *run = check_run(L);
	dd_learner *l = dd_lua_check_learner(L, 2);
	void *blob = NULL;
	size_t n = 0;
	int64_t step = 0;
	int found = dd_store_checkpoint_latest(run->store, run->id, l->label, &blob, &n, &step);
	if (found < 0)
		return store_error(L, run);
	if (found == 0) {
		lua_pushnil(L);
		return 1;
	}
	char err[1200];
	int rc = dd_learner_load(l, blob, n, err, sizeof err);
	free(blob);
	if (rc < 0)
		return luaL_error(L, "checkpoint of '%s' at step %d refused: %s", l->label, (int)step, err);
	l->updates = step;
	lua_pushinteger(L, step);
	return 1;
}

/* run:artifact(name, media_type, bytes) */
static int l_artifact(lua_State *L)
{
	dd_run *run = check_run(L);
	const char *name = luaL_checkstring(L, 2);
	const char *type = luaL_checkstring(L, 3);
	size_t n;
	const char *data = luaL_checklstring(L, 4, &n);
	if (dd_store_artifact(run->store, run->id, name, type, data, n) < 0)
		return store_error(L, run);
	return 0;
}

/* run:flush(): commits what is buffered now. */
static int l_flush(lua_State *L)
{
	dd_run *run = check_run(L);
	if (dd_store_flush(run->store) < 0)
		return store_error(L, run);
	return 0;
}

/* ---- dd.config ---- */

static void collect_param(void *ud, const char *key, int is_num, double num,
                          const char *text)
{
	lua_State *L = ud;
	if (is_num)
		lua_pushnumber(L, num);
	else
		lua_pushstring(L, text);
	lua_setfield(L, -2, key);
}

/* Converts the --set text v to the type of the default at the top of the
** stack and pushes it; raises an error naming the key on a mismatch. */
static void push_override(lua_State *L, const char *key, const char *v)
{
	switch (lua_type(L, -1)) {
	case LUA_TNUMBER: {
		char *end;
		double d = strtod(v, &end);
		if (end == v || *end)
			luaL_error(L, "--set %s=%s: '%s' is a number in this scenario", key, v, key);
		if (lua_isinteger(L, -1) && d == (double)(lua_Integer)d)
			lua_pushinteger(L, (lua_Integer)d);
		else
			lua_pushnumber(L, d);
		break;
	}
	case LUA_TBOOLEAN:
		if (strcmp(v, "true") && strcmp(v, "false"))
			luaL_error(L, "--set %s=%s: '%s' is true or false in this scenario", key, v, key);
		lua_pushboolean(L, strcmp(v, "true") == 0);
		break;
	default:
		lua_pushstring(L, v);
	}
}

/* The typed value of a stored param (number or text), converted back to
** the default's type at the top of the stack. */
static void push_stored(lua_State *L, int stored_idx)
{
	if (lua_type(L, -1) == LUA_TBOOLEAN) {
		lua_pushboolean(L, lua_tonumber(L, stored_idx) != 0);
	} else if (lua_isinteger(L, -1) && lua_type(L, stored_idx) == LUA_TNUMBER) {
		lua_Number d = lua_tonumber(L, stored_idx);
		if (d == (lua_Number)(lua_Integer)d)
			lua_pushinteger(L, (lua_Integer)d);
		else
			lua_pushnumber(L, d);
	} else {
		lua_pushvalue(L, stored_idx);
	}
}

static void keys_of(lua_State *L, int t, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	lua_pushnil(L);
	while (lua_next(L, t)) {
		if (lua_type(L, -2) == LUA_TSTRING && used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
			                         lua_tostring(L, -2));
		lua_pop(L, 1);
	}
}

/* dd.config{key = default, ...} -> the config table this run uses */
static int l_config(lua_State *L)
{
	dd_lua_ctx *ctx = dd_lua_ctx_get(L);
	dd_run *run = ctx->run;
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_newtable(L); /* 2: the result */
	lua_newtable(L); /* 3: stored params of a resumed run */
	if (ctx->resumed && run && run->store)
		dd_store_params_each(run->store, run->id, collect_param, L);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "dd.config: keys must be names");
		int t = lua_type(L, -1);
		if (t != LUA_TNUMBER && t != LUA_TBOOLEAN && t != LUA_TSTRING)
			luaL_error(L, "dd.config: '%s' must be a number, boolean or string, not a %s",
			           lua_tostring(L, -2), luaL_typename(L, -1));
		const char *key = lua_tostring(L, -2);
		int value = lua_gettop(L);
		if (lua_getfield(L, 3, key) != LUA_TNIL) {
			lua_pushvalue(L, value);
			push_stored(L, value + 1);
			lua_replace(L, value);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		for (int i = 0; i < ctx->n_set; i++)
			if (strcmp(ctx->set_keys[i], key) == 0) {
				push_override(L, key, ctx->set_vals[i]);
				lua_replace(L, value);
				ctx->set_used[i] = 1;
			}
		lua_pushvalue(L, -2);
		lua_pushvalue(L, value);
		lua_settable(L, 2);
		if (run && run->store) {
			int rc;
			if (lua_type(L, value) == LUA_TSTRING)
				rc = dd_store_param_text(run->store, run->id, key, lua_tostring(L, value));
			else if (lua_type(L, value) == LUA_TBOOLEAN)
				rc = dd_store_param_num(run->store, run->id, key, lua_toboolean(L, value));
			else
				rc = dd_store_param_num(run->store, run->id, key, lua_tonumber(L, value));
			if (rc < 0)
				store_error(L, run);
		}
		lua_pop(L, 1);
	}
	for (int i = 0; i < ctx->n_set; i++)
		if (!ctx->set_used[i]) {
			lua_getfield(L, 1, ctx->set_keys[i]);
			if (lua_isnil(L, -1)) {
				char keys[1024];
				keys_of(L, 1, keys, sizeof keys);
				luaL_error(L, "--set %s: this scenario has no config key '%s'; its keys are: %s",
				           ctx->set_keys[i], ctx->set_keys[i], keys);
			}
			lua_pop(L, 1);
		}
	ctx->config_called = 1;
	lua_settop(L, 2);
	return 1;
}

static const luaL_Reg run_methods[] = {
	{"log", l_log}, {"checkpoint", l_checkpoint}, {"restore", l_restore},
	{"artifact", l_artifact}, {"flush", l_flush}, {NULL, NULL},
};

void dd_lua_run_register(lua_State *L)
{
	dd_lua_ctx *ctx = dd_lua_ctx_get(L);
	lua_pushcfunction(L, l_config);
	lua_setfield(L, -2, "config");
	lua_createtable(L, 0, 8);
	lua_newtable(L); /* upvalue: last step logged per metric name */
	luaL_setfuncs(L, run_methods, 1);
	if (ctx->run) {
		lua_pushinteger(L, ctx->run->id);
		lua_setfield(L, -2, "id");
		lua_pushinteger(L, (lua_Integer)ctx->run->seed);
		lua_setfield(L, -2, "seed");
	}
	lua_pushboolean(L, ctx->resumed);
	lua_setfield(L, -2, "resumed");
	lua_setfield(L, -2, "run");
}
