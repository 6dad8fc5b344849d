/*
** lua_learner.c -- learner objects of the dd module:
** dd.learner(name, config, env, {label = ...}) and its methods.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/plugin.h"
#include "lua_dd.h"

dd_learner *dd_lua_check_learner(lua_State *L, int arg)
{
	lua_learner *o = luaL_checkudata(L, arg, DD_LEARNER_MT);
	if (!o->l)
		luaL_error(L, "learner used after close");
	return o->l;
}

/* Lua-owned scratch of one sample of every observation tensor of s. */
static float **obs_scratch(lua_State *L, const dd_spaces *s, float **ptrs)
{
	size_t total = 0;
	for (int k = 0; k < s->n_obs; k++)
		total += dd_tensor_spec_count(&s->obs[k]);
	float *buf = lua_newuserdatauv(L, total * sizeof(float), 0);
	for (int k = 0; k < s->n_obs; k++) {
		ptrs[k] = buf;
		buf += dd_tensor_spec_count(&s->obs[k]);
	}
	return ptrs;
}

/* dd.learner(name, config, env, {label = name}) */
static int l_learner(lua_State *L)
{
	lua_settop(L, 4); /* fixed slots: the new userdata goes above them */
	const char *name = luaL_checkstring(L, 1);
	const dd_plugin_entry *p = dd_lua_plugin(L, name, DD_KIND_LEARNER);
	if (lua_isnoneornil(L, 3))
		luaL_error(L, "dd.learner('%s', config, env): the env it acts in is missing", name);
	dd_vec_env *v = dd_lua_check_env(L, 3);
	const char *label = name;
	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		if (lua_getfield(L, 4, "label") != LUA_TNIL)
			label = luaL_checkstring(L, -1);
		lua_pop(L, 1);
	}
	lua_learner *o = lua_newuserdatauv(L, sizeof *o, 0);
	o->l = NULL;
	luaL_setmetatable(L, DD_LEARNER_MT);
	dd_paramvals pv;
	dd_lua_params(L, 2, p, &pv);
	char err[1200];
	if (dd_learner_new(p, &pv, &v->spaces, dd_lua_ctx_get(L)->run, &o->l, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	snprintf(o->l->label, sizeof o->l->label, "%s", label);
	dd_lua_record_params(L, o->l->label, &o->l->params);
	return 1;
}

/* learner:act(obs) -> action */
static int l_act(lua_State *L)
{
	dd_learner *l = dd_lua_check_learner(L, 1);
	const dd_spaces *s = &l->env_spaces;
	float *obs[16];
	obs_scratch(L, s, obs);
	dd_lua_read_obs(L, 2, s, obs);
	float *action = lua_newuserdatauv(L, (size_t)s->action_dim * sizeof(float), 0);
	char err[1200];
	if (dd_learner_act(l, 1, (const float *const *)obs, action, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	dd_lua_push_action(L, s, action);
	return 1;
}

/* Reads an info table {stat = value} (missing stats are 0) into info. */
static float *read_info(lua_State *L, int idx, const dd_spaces *s)
{
	if (lua_isnoneornil(L, idx) || s->n_info == 0)
		return NULL;
	luaL_checktype(L, idx, LUA_TTABLE);
	float *info = lua_newuserdatauv(L, (size_t)s->n_info * sizeof(float), 0);
	for (int j = 0; j < s->n_info; j++) {
		lua_getfield(L, idx, s->info_names[j]);
		info[j] = (float)luaL_optnumber(L, -1, 0);
		lua_pop(L, 1);
	}
	return info;
}

/* learner:observe(obs, action, reward, next_obs, terminated, truncated
**                 [, info [, next_info]]) */
static int l_observe(lua_State *L)
{
	dd_learner *l = dd_lua_check_learner(L, 1);
	const dd_spaces *s = &l->env_spaces;
	float *obs[16], *next[16];
	obs_scratch(L, s, obs);
	obs_scratch(L, s, next);
	dd_lua_read_obs(L, 2, s, obs);
	float *action = lua_newuserdatauv(L, (size_t)s->action_dim * sizeof(float), 0);
	dd_lua_read_action(L, 3, s, action);
	float reward = (float)luaL_checknumber(L, 4);
	dd_lua_read_obs(L, 5, s, next);
	int terminated = lua_toboolean(L, 6), truncated = lua_toboolean(L, 7);
	const float *info = read_info(L, 8, s), *next_info = read_info(L, 9, s);
	dd_transitions t = {
		.batch = 1,
		.obs = (const float *const *)obs,
		.action = action,
		.reward = &reward,
		.next_obs = (const float *const *)next,
		.terminated = &terminated,
		.truncated = &truncated,
		.n_info = s->n_info,
		.info = info,
		.next_info = next_info,
	};
	char err[1200];
	if (dd_learner_observe(l, &t, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	return 0;
}

/* learner:update() -> {metric = value, ...}, also logged to the run */
static int l_update(lua_State *L)
{
	dd_learner *l = dd_lua_check_learner(L, 1);
	dd_metrics m;
	char err[1200];
	if (dd_learner_update(l, &m, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	dd_lua_push_metrics(L, &m);
	return 1;
}

/* learner:encode(obs) -> code array */
static int l_encode(lua_State *L)
{
	dd_learner *l = dd_lua_check_learner(L, 1);
	const dd_learner_vtable *vt = &l->plugin->learner;
	dd_learner_io io = {0};
	if (vt->io)
		vt->io(l->handle, &io);
	if (!vt->encode || io.code_dim <= 0)
		luaL_error(L, "learner '%s' does not encode", l->label);
	const dd_spaces *s = &l->env_spaces;
	float *obs[16];
	obs_scratch(L, s, obs);
	dd_lua_read_obs(L, 2, s, obs);
	float *code = lua_newuserdatauv(L, (size_t)io.code_dim * sizeof(float), 0);
	l->host.error[0] = '\0';
	if (vt->encode(l->handle, 1, (const float *const *)obs, code) != DD_OK) {
		char err[1200];
		dd_instance_error(&l->host, "encode()", err, sizeof err);
		luaL_error(L, "%s", err);
	}
	lua_createtable(L, io.code_dim, 0);
	for (int j = 0; j < io.code_dim; j++) {
		lua_pushnumber(L, code[j]);
		lua_rawseti(L, -2, j + 1);
	}
	return 1;
}

/* learner:set{lr = 1e-3, ...}: settings changed between updates (a
** learning-rate schedule); each is also logged as a metric "set.<key>". */
static int l_set(lua_State *L)
{
	dd_learner *l = dd_lua_check_learner(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	if (!l->plugin->learner.set)
		return luaL_error(L, "learner '%s' has no settings to change (no set())", l->label);
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (!key || !lua_isnumber(L, -1))
			return luaL_error(L, "learner:set takes {name = number, ...}");
		double v = lua_tonumber(L, -1);
		l->host.error[0] = '\0';
		if (l->plugin->learner.set(l->handle, key, v) != DD_OK) {
			char err[1200];
			dd_instance_error(&l->host, "set()", err, sizeof err);
			return luaL_error(L, "%s", err);
		}
		dd_run *run = l->host.run;
		if (run && run->store) {
			char name[128];
			snprintf(name, sizeof name, "set.%s", key);
			dd_store_metric(run->store, run->id, name, l->updates, v);
		}
		lua_pop(L, 1);
	}
	return 0;
}

static int l_close(lua_State *L)
{
	lua_learner *o = luaL_checkudata(L, 1, DD_LEARNER_MT);
	dd_learner_free(o->l);
	o->l = NULL;
	return 0;
}

static int l_tostring(lua_State *L)
{
	lua_learner *o = luaL_checkudata(L, 1, DD_LEARNER_MT);
	if (o->l)
		lua_pushfstring(L, "dd.learner(%s, label %s)", o->l->plugin->desc.name, o->l->label);
	else
		lua_pushliteral(L, "dd.learner(closed)");
	return 1;
}

static int l_index(lua_State *L)
{
	lua_learner *o = luaL_checkudata(L, 1, DD_LEARNER_MT);
	const char *key = luaL_checkstring(L, 2);
	if (o->l && strcmp(key, "label") == 0) {
		lua_pushstring(L, o->l->label);
		return 1;
	}
	if (o->l && strcmp(key, "name") == 0) {
		lua_pushstring(L, o->l->plugin->desc.name);
		return 1;
	}
	if (o->l && strcmp(key, "updates") == 0) {
		lua_pushinteger(L, o->l->updates);
		return 1;
	}
	luaL_getmetatable(L, DD_LEARNER_MT);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, key);
	return 1;
}

static const luaL_Reg methods[] = {
	{"act", l_act}, {"observe", l_observe}, {"update", l_update},
	{"encode", l_encode}, {"set", l_set}, {"close", l_close}, {NULL, NULL},
};

static const luaL_Reg meta[] = {
	{"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring},
	{"__index", l_index}, {NULL, NULL},
};

void dd_lua_learner_register(lua_State *L)
{
	luaL_newmetatable(L, DD_LEARNER_MT);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_learner);
	lua_setfield(L, -2, "learner");
}
