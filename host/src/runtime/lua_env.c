/*
** lua_env.c -- env objects of the dd module: dd.env(name, config, options)
** and the methods a scenario steps them with, one step at a time (for
** prototyping; dd.rollout runs whole batches in C).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_dd.h"

dd_vec_env *dd_lua_check_env(lua_State *L, int arg)
{
	lua_env *e = luaL_checkudata(L, arg, DD_ENV_MT);
	if (!e->v)
		luaL_error(L, "env used after close");
	return e->v;
}

/* Lua stepping drives instance 0 only: batches belong in dd.rollout. */
static dd_vec_env *check_single(lua_State *L, int arg)
{
	dd_vec_env *v = dd_lua_check_env(L, arg);
	if (v->n != 1)
		luaL_error(L, "env '%s' has %d instances: step them with dd.rollout, or create it with {num = 1}",
		           v->plugin->desc.name, v->n);
	return v;
}

static void push_info(lua_State *L, dd_vec_env *v)
{
	lua_createtable(L, 0, v->spaces.n_info);
	for (int j = 0; j < v->spaces.n_info; j++) {
		lua_pushnumber(L, v->info[j]);
		lua_setfield(L, -2, v->spaces.info_names[j]);
	}
}

/* dd.env(name, config, {num = 1}) */
static int l_env(lua_State *L)
{
	lua_settop(L, 3); /* fixed slots: the new userdata goes above them */
	const char *name = luaL_checkstring(L, 1);
	const dd_plugin_entry *p = dd_lua_plugin(L, name, DD_KIND_ENV);
	int num = 1;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if (lua_getfield(L, 3, "num") != LUA_TNIL) {
			int ok;
			lua_Integer n = lua_tointegerx(L, -1, &ok);
			if (!ok || n < 1 || n > 65536)
				luaL_error(L, "dd.env option num must be a whole number in [1, 65536]");
			num = (int)n;
		}
		lua_pop(L, 1);
	}
	lua_env *e = lua_newuserdatauv(L, sizeof *e, 0);
	e->v = NULL;
	luaL_setmetatable(L, DD_ENV_MT);
	dd_paramvals pv;
	dd_lua_params(L, 2, p, &pv);
	char err[1200];
	if (dd_vec_env_new(p, &pv, num, dd_lua_ctx_get(L)->run, &e->v, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	dd_lua_record_params(L, p->desc.name, &e->v->params);
	return 1;
}

/* env:reset{seed = N} -> obs, info. Without a seed, the run's seed. */
static int l_reset(lua_State *L)
{
	dd_vec_env *v = check_single(L, 1);
	uint64_t seed = v->seed;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		if (lua_getfield(L, 2, "seed") != LUA_TNIL) {
			int ok;
			seed = (uint64_t)lua_tointegerx(L, -1, &ok);
			if (!ok)
				luaL_error(L, "reset: seed must be an integer");
		}
		lua_pop(L, 1);
	}
	char err[1200];
	if (dd_vec_env_reset_one(v, 0, seed, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	v->resets = 1;
	dd_lua_push_obs(L, &v->spaces, dd_vec_env_row(v, v->obs, 0));
	push_info(L, v);
	return 2;
}

/* env:step(action) -> obs, reward, terminated, truncated, info */
static int l_step(lua_State *L)
{
	dd_vec_env *v = check_single(L, 1);
	if (!v->resets)
		luaL_error(L, "env '%s': step before reset; call env:reset{seed = ...} first",
		           v->plugin->desc.name);
	dd_lua_read_action(L, 2, &v->spaces, v->action);
	char err[1200];
	if (dd_vec_env_step(v, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	dd_vec_env_swap(v); /* obs stays current for a later dd.rollout; no autoreset */
	dd_lua_push_obs(L, &v->spaces, dd_vec_env_row(v, v->obs, 0));
	lua_pushnumber(L, v->reward[0]);
	lua_pushboolean(L, v->terminated[0]);
	lua_pushboolean(L, v->truncated[0]);
	push_info(L, v);
	return 5;
}

/* env:spaces() -> {obs = {{name, shape}...}, action = {kind, n | dim, low, high}, info = {...}} */
static int l_spaces(lua_State *L)
{
	dd_vec_env *v = dd_lua_check_env(L, 1);
	const dd_spaces *s = &v->spaces;
	lua_createtable(L, 0, 4);
	lua_createtable(L, s->n_obs, 0);
	for (int k = 0; k < s->n_obs; k++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, s->obs[k].name);
		lua_setfield(L, -2, "name");
		lua_createtable(L, s->obs[k].ndim, 0);
		for (int d = 0; d < s->obs[k].ndim; d++) {
			lua_pushinteger(L, s->obs[k].dims[d]);
			lua_rawseti(L, -2, d + 1);
		}
		lua_setfield(L, -2, "shape");
		lua_rawseti(L, -2, k + 1);
	}
	lua_setfield(L, -2, "obs");
	lua_createtable(L, 0, 4);
	if (s->action_kind == DD_ACTION_DISCRETE) {
		lua_pushstring(L, "discrete");
		lua_setfield(L, -2, "kind");
		lua_pushinteger(L, s->n_actions);
		lua_setfield(L, -2, "n");
	} else {
		lua_pushstring(L, "box");
		lua_setfield(L, -2, "kind");
		lua_pushinteger(L, s->action_dim);
		lua_setfield(L, -2, "dim");
		dd_lua_push_action(L, s, s->action_low);
		lua_setfield(L, -2, "low");
		dd_lua_push_action(L, s, s->action_high);
		lua_setfield(L, -2, "high");
	}
	lua_setfield(L, -2, "action");
	lua_createtable(L, s->n_info, 0);
	for (int j = 0; j < s->n_info; j++) {
		lua_pushstring(L, s->info_names[j]);
		lua_rawseti(L, -2, j + 1);
	}
	lua_setfield(L, -2, "info");
	lua_pushinteger(L, v->n);
	lua_setfield(L, -2, "num");
	return 1;
}

/* env:render() -> rgb bytes (string), width, height */
static int l_render(lua_State *L)
{
	dd_vec_env *v = check_single(L, 1);
	const dd_spaces *s = &v->spaces;
	if (!v->plugin->env.render || s->render_width <= 0 || s->render_height <= 0)
		luaL_error(L, "env '%s' does not render", v->plugin->desc.name);
	size_t n = (size_t)s->render_width * (size_t)s->render_height * 3;
	luaL_Buffer b;
	uint8_t *rgb = (uint8_t *)luaL_buffinitsize(L, &b, n);
	v->hosts[0].error[0] = '\0';
	if (v->plugin->env.render(v->handles[0], rgb) != DD_OK) {
		char err[1200];
		dd_instance_error(&v->hosts[0], "render()", err, sizeof err);
		luaL_error(L, "%s", err);
	}
	luaL_pushresultsize(&b, n);
	lua_pushinteger(L, s->render_width);
	lua_pushinteger(L, s->render_height);
	return 3;
}

/* env:cost(obs) -> cost, grad: the differentiable cost of one observation
** and its gradient (a table like obs). */
static int l_cost(lua_State *L)
{
	dd_vec_env *v = dd_lua_check_env(L, 1);
	if (!v->plugin->env.cost)
		luaL_error(L, "env '%s' has no differentiable cost", v->plugin->desc.name);
	/* Scratch for the observation and its gradient, owned by Lua. */
	size_t total = 0;
	for (int k = 0; k < v->spaces.n_obs; k++)
		total += v->obs_size[k];
	float *scratch = lua_newuserdatauv(L, 2 * total * sizeof(float), 0);
	float *obs_ptrs[16], *grad_ptrs[16];
	for (int k = 0, off = 0; k < v->spaces.n_obs; off += (int)v->obs_size[k], k++) {
		obs_ptrs[k] = scratch + off;
		grad_ptrs[k] = scratch + total + off;
	}
	dd_lua_read_obs(L, 2, &v->spaces, obs_ptrs);
	float cost = 0;
	v->hosts[0].error[0] = '\0';
	if (v->plugin->env.cost(v->handles[0], 1, (const float *const *)obs_ptrs, &cost, grad_ptrs) != DD_OK) {
		char err[1200];
		dd_instance_error(&v->hosts[0], "cost()", err, sizeof err);
		luaL_error(L, "%s", err);
	}
	lua_pushnumber(L, cost);
	dd_lua_push_obs(L, &v->spaces, grad_ptrs);
	return 2;
}

static int l_close(lua_State *L)
{
	lua_env *e = luaL_checkudata(L, 1, DD_ENV_MT);
	dd_vec_env_free(e->v);
	e->v = NULL;
	return 0;
}

static int l_tostring(lua_State *L)
{
	lua_env *e = luaL_checkudata(L, 1, DD_ENV_MT);
	if (e->v)
		lua_pushfstring(L, "dd.env(%s, %d instance%s)", e->v->plugin->desc.name, e->v->n,
		                e->v->n > 1 ? "s" : "");
	else
		lua_pushliteral(L, "dd.env(closed)");
	return 1;
}

static int l_index(lua_State *L)
{
	lua_env *e = luaL_checkudata(L, 1, DD_ENV_MT);
	const char *key = luaL_checkstring(L, 2);
	if (strcmp(key, "name") == 0 && e->v) {
		lua_pushstring(L, e->v->plugin->desc.name);
		return 1;
	}
	if (strcmp(key, "num") == 0 && e->v) {
		lua_pushinteger(L, e->v->n);
		return 1;
	}
	luaL_getmetatable(L, DD_ENV_MT);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, key);
	return 1;
}

static const luaL_Reg methods[] = {
	{"reset", l_reset}, {"step", l_step}, {"spaces", l_spaces},
	{"render", l_render}, {"cost", l_cost}, {"close", l_close},
	{NULL, NULL},
};

static const luaL_Reg meta[] = {
	{"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring},
	{"__index", l_index}, {NULL, NULL},
};

void dd_lua_env_register(lua_State *L)
{
	luaL_newmetatable(L, DD_ENV_MT);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_env);
	lua_setfield(L, -2, "env");
}
