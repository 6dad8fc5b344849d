/*
** lua_dd.c -- the `dd` module: plugin lookup and parameters shared by the
** object files, observation/action conversion, dd.rollout and dd.plugins.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/rng.h"
#include "lua_dd.h"
#include "rollout.h"

static const char CTX_KEY = 'c'; /* its address keys the context in the registry */

dd_lua_ctx *dd_lua_ctx_get(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
	dd_lua_ctx *ctx = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return ctx;
}

const dd_plugin_entry *dd_lua_plugin(lua_State *L, const char *name, dd_kind kind)
{
	dd_lua_ctx *ctx = dd_lua_ctx_get(L);
	const dd_plugin_entry *p = dd_registry_find(ctx->registry, name);
	char names[1024];
	if (!p) {
		dd_registry_names(ctx->registry, kind, names, sizeof names);
		luaL_error(L, "no %s plugin named '%s'; available: %s (see `daydream plugins`)",
		           dd_kind_name(kind), name, names);
	}
	if (p->desc.kind != kind) {
		dd_registry_names(ctx->registry, kind, names, sizeof names);
		luaL_error(L, "'%s' is %s plugin, not %s one; %s plugins: %s", name,
		           p->desc.kind == DD_KIND_ENV ? "an env" : "a learner",
		           kind == DD_KIND_ENV ? "an env" : "a learner", dd_kind_name(kind), names);
	}
	return p;
}

void dd_lua_params(lua_State *L, int idx, const dd_plugin_entry *p, dd_paramvals *pv)
{
	char err[1400] = "";
	idx = lua_absindex(L, idx);
	if (!lua_isnoneornil(L, idx))
		luaL_checktype(L, idx, LUA_TTABLE);
	if (dd_paramvals_init(pv, p->desc.name, p->desc.params, p->n_params) < 0)
		luaL_error(L, "out of memory");
	if (lua_isnoneornil(L, idx))
		return;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int rc = 0;
		if (lua_type(L, -2) != LUA_TSTRING) {
			snprintf(err, sizeof err, "%s: parameter keys must be names, got a %s",
			         p->desc.name, luaL_typename(L, -2));
			rc = -1;
		} else {
			const char *key = lua_tostring(L, -2);
			switch (lua_type(L, -1)) {
			case LUA_TNUMBER:
				rc = dd_paramvals_set_num(pv, key, lua_tonumber(L, -1), err, sizeof err);
				break;
			case LUA_TBOOLEAN:
				rc = dd_paramvals_set_bool(pv, key, lua_toboolean(L, -1), err, sizeof err);
				break;
			case LUA_TSTRING:
				rc = dd_paramvals_set_str(pv, key, lua_tostring(L, -1), err, sizeof err);
				break;
			default:
				/* Reuse the typed message: set a string that cannot match. */
				snprintf(err, sizeof err, "%s: parameter '%s' cannot be a %s", p->desc.name,
				         key, luaL_typename(L, -1));
				rc = -1;
			}
		}
		lua_pop(L, 1);
		if (rc < 0) {
			lua_pop(L, 1);
			dd_paramvals_free(pv);
			luaL_error(L, "%s", err);
		}
	}
}

void dd_lua_record_params(lua_State *L, const char *label, const dd_paramvals *pv)
{
	dd_run *run = dd_lua_ctx_get(L)->run;
	if (!run || !run->store)
		return;
	for (int i = 0; i < pv->count; i++) {
		char key[200];
		const dd_param_spec *s = &pv->params.spec[i];
		snprintf(key, sizeof key, "%s.%s", label, s->name);
		if (s->type == DD_PARAM_STRING)
			dd_store_param_text(run->store, run->id, key, pv->values[i].str);
		else
			dd_store_param_num(run->store, run->id, key, pv->values[i].num);
	}
}

/* ---- observations and actions ---- */

void dd_lua_push_obs(lua_State *L, const dd_spaces *s, float *const *obs)
{
	lua_createtable(L, 0, s->n_obs);
	for (int k = 0; k < s->n_obs; k++) {
		size_t n = dd_tensor_spec_count(&s->obs[k]);
		lua_createtable(L, (int)n, 0);
		for (size_t j = 0; j < n; j++) {
			lua_pushnumber(L, obs[k][j]);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_setfield(L, -2, s->obs[k].name);
	}
}

void dd_lua_read_obs(lua_State *L, int idx, const dd_spaces *s, float *const *obs)
{
	idx = lua_absindex(L, idx);
	luaL_checktype(L, idx, LUA_TTABLE);
	for (int k = 0; k < s->n_obs; k++) {
		size_t n = dd_tensor_spec_count(&s->obs[k]);
		if (lua_getfield(L, idx, s->obs[k].name) != LUA_TTABLE)
			luaL_error(L, "observation table has no array '%s'", s->obs[k].name);
		if (lua_rawlen(L, -1) != n)
			luaL_error(L, "observation '%s' needs %d values, got %d", s->obs[k].name,
			           (int)n, (int)lua_rawlen(L, -1));
		for (size_t j = 0; j < n; j++) {
			lua_rawgeti(L, -1, (lua_Integer)j + 1);
			obs[k][j] = (float)luaL_checknumber(L, -1);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
}

void dd_lua_push_action(lua_State *L, const dd_spaces *s, const float *a)
{
	if (s->action_kind == DD_ACTION_DISCRETE) {
		lua_pushinteger(L, (lua_Integer)a[0]);
		return;
	}
	lua_createtable(L, s->action_dim, 0);
	for (int j = 0; j < s->action_dim; j++) {
		lua_pushnumber(L, a[j]);
		lua_rawseti(L, -2, j + 1);
	}
}

static const char *action_shape(const dd_spaces *s, char *buf, size_t n)
{
	if (s->action_kind == DD_ACTION_DISCRETE)
		snprintf(buf, n, "one index in 0..%d", s->n_actions - 1);
	else
		snprintf(buf, n, "%d number%s (a box)", s->action_dim, s->action_dim > 1 ? "s" : "");
	return buf;
}

void dd_lua_read_action(lua_State *L, int idx, const dd_spaces *s, float *a)
{
	char shape[64];
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TNUMBER) {
		if (s->action_dim != 1)
			luaL_error(L, "action must be %s, got 1 number",
			           action_shape(s, shape, sizeof shape));
		a[0] = (float)lua_tonumber(L, idx);
		return;
	}
	if (lua_type(L, idx) != LUA_TTABLE)
		luaL_error(L, "action must be %s, got a %s", action_shape(s, shape, sizeof shape),
		           luaL_typename(L, idx));
	size_t n = lua_rawlen(L, idx);
	if (n != (size_t)s->action_dim)
		luaL_error(L, "action must be %s, got %d numbers",
		           action_shape(s, shape, sizeof shape), (int)n);
	for (size_t j = 0; j < n; j++) {
		lua_rawgeti(L, idx, (lua_Integer)j + 1);
		if (!lua_isnumber(L, -1))
			luaL_error(L, "action component %d is not a number", (int)j + 1);
		a[j] = (float)lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
}

void dd_lua_push_metrics(lua_State *L, const dd_metrics *m)
{
	lua_createtable(L, 0, m->count);
	for (int i = 0; i < m->count; i++) {
		if (!m->name[i])
			continue;
		lua_pushnumber(L, m->value[i]);
		lua_setfield(L, -2, m->name[i]);
	}
}

/* ---- dd.rollout ---- */

static int64_t opt_int(lua_State *L, int t, const char *key, int64_t def)
{
	int ty = lua_getfield(L, t, key);
	int64_t v = def;
	if (ty != LUA_TNIL) {
		int ok;
		v = (int64_t)lua_tointegerx(L, -1, &ok);
		if (!ok || v < 0)
			luaL_error(L, "rollout option '%s' must be a whole number >= 0", key);
	}
	lua_pop(L, 1);
	return v;
}

static int opt_bool(lua_State *L, int t, const char *key, int def)
{
	int ty = lua_getfield(L, t, key);
	int v = ty == LUA_TNIL ? def : lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* dd.rollout(env, learner, {episodes=, steps=, train=true, update_every=1,
** log=true, seed=}) -> {episodes, steps, updates, mean_return, success_rate,
** mean_length, seconds, steps_per_second, metrics, info}; info holds the mean
** of each info stat's last value over the finished episodes. With seed, every
** instance is reset first and its episodes seeded from (seed, instance,
** episode): the same episodes for every learner given the same seed. */
static int l_rollout(lua_State *L)
{
	dd_vec_env *v = dd_lua_check_env(L, 1);
	dd_learner *l = dd_lua_check_learner(L, 2);
	luaL_checktype(L, 3, LUA_TTABLE);
	static const char *const known[] = {"episodes", "steps", "train", "update_every", "log",
	                                    "seed", NULL};
	lua_pushnil(L);
	while (lua_next(L, 3)) {
		int ok = 0;
		for (int i = 0; known[i]; i++)
			if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), known[i]) == 0)
				ok = 1;
		if (!ok)
			luaL_error(L, "unknown rollout option '%s'; valid: episodes, steps, train, update_every, log, seed",
			           lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
		lua_pop(L, 1);
	}
	dd_rollout_opts o = {
		.episodes = opt_int(L, 3, "episodes", 0),
		.steps = opt_int(L, 3, "steps", 0),
		.train = opt_bool(L, 3, "train", 1),
		.update_every = (int)opt_int(L, 3, "update_every", 1),
		.log_episodes = opt_bool(L, 3, "log", 1),
	};
	if (lua_getfield(L, 3, "seed") != LUA_TNIL) {
		int ok;
		o.seed = (uint64_t)lua_tointegerx(L, -1, &ok);
		if (!ok)
			luaL_error(L, "rollout option 'seed' must be an integer");
		o.has_seed = 1;
	}
	lua_pop(L, 1);
	if (o.episodes == 0 && o.steps == 0)
		luaL_error(L, "dd.rollout needs a limit: {episodes = N} or {steps = N}");
	dd_run *run = dd_lua_ctx_get(L)->run;
	dd_rollout_stats s;
	char err[1200];
	/* A resumed run continues with fresh episodes, not a replay of its first. */
	if (!o.has_seed && !v->resets && dd_vec_env_reset_all(v, dd_rng_derive(run ? run->seed : 0,
	                                                      run ? (uint64_t)run->next_episode : 0),
	                                       err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	if (dd_rollout(v, l, run, &o, &s, err, sizeof err) < 0)
		luaL_error(L, "%s", err);
	lua_createtable(L, 0, 10);
	lua_pushinteger(L, s.episodes);
	lua_setfield(L, -2, "episodes");
	lua_pushinteger(L, s.steps);
	lua_setfield(L, -2, "steps");
	lua_pushinteger(L, s.updates);
	lua_setfield(L, -2, "updates");
	lua_pushnumber(L, s.episodes ? s.return_sum / (double)s.episodes : NAN);
	lua_setfield(L, -2, "mean_return");
	lua_pushnumber(L, s.success_known ? (double)s.successes / (double)s.success_known : NAN);
	lua_setfield(L, -2, "success_rate");
	lua_pushnumber(L, s.episodes ? (double)s.length_sum / (double)s.episodes : NAN);
	lua_setfield(L, -2, "mean_length");
	lua_pushnumber(L, s.seconds);
	lua_setfield(L, -2, "seconds");
	lua_pushnumber(L, s.seconds > 0 ? (double)s.steps / s.seconds : 0);
	lua_setfield(L, -2, "steps_per_second");
	dd_lua_push_metrics(L, &s.metrics);
	lua_setfield(L, -2, "metrics");
	lua_createtable(L, 0, v->spaces.n_info);
	for (int j = 0; j < v->spaces.n_info && s.episodes > 0; j++) {
		lua_pushnumber(L, s.info_sum[j] / (double)s.episodes);
		lua_setfield(L, -2, v->spaces.info_names[j]);
	}
	lua_setfield(L, -2, "info");
	return 1;
}

/* dd.plugins() -> array of {name, kind, version, summary, path} */
static int l_plugins(lua_State *L)
{
	dd_registry *r = dd_lua_ctx_get(L)->registry;
	int n = dd_registry_count(r);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		const dd_plugin_entry *p = dd_registry_at(r, i);
		lua_createtable(L, 0, 5);
		lua_pushstring(L, p->desc.name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, dd_kind_name(p->desc.kind));
		lua_setfield(L, -2, "kind");
		lua_pushstring(L, p->desc.version);
		lua_setfield(L, -2, "version");
		lua_pushstring(L, p->desc.summary);
		lua_setfield(L, -2, "summary");
		lua_pushstring(L, p->path);
		lua_setfield(L, -2, "path");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static const luaL_Reg dd_funcs[] = {
	{"rollout", l_rollout},
	{"plugins", l_plugins},
	{NULL, NULL},
};

static int open_dd(lua_State *L)
{
	luaL_newlib(L, dd_funcs);
	dd_lua_env_register(L);
	dd_lua_learner_register(L);
	dd_lua_run_register(L);
	dd_lua_media_register(L);
	lua_pushstring(L, DD_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}

int dd_lua_open(lua_State *L, dd_lua_ctx *ctx)
{
	lua_pushlightuserdata(L, ctx);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
	luaL_requiref(L, "dd", open_dd, 1);
	lua_getfield(L, -1, "run");
	lua_setglobal(L, "run");
	lua_pop(L, 1);
	return 0;
}
