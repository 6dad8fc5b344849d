/*
** lua_dd.h -- the `dd` Lua module that scenarios use, split by object:
** lua_dd.c (module, dd.rollout, dd.plugins), lua_env.c (env objects),
** lua_learner.c (learner objects), lua_run.c (the run object, dd.config).
**
** Every C resource a Lua call creates is owned by a userdata (with __gc and
** __close) before anything can raise a Lua error, as Lua's own liolib does.
*/
#ifndef DD_LUA_DD_H
#define DD_LUA_DD_H

#include <lauxlib.h>
#include <lua.h>

#include "learner.h"
#include "registry.h"
#include "run.h"
#include "vec_env.h"

/* What the module needs from its host program. */
typedef struct dd_lua_ctx {
	dd_registry *registry;
	dd_run *run;
	int resumed;                 /* 1 under --resume */
	int n_set;                   /* --set key=value overrides */
	const char **set_keys, **set_vals;
	int *set_used;               /* n_set flags: consumed by dd.config */
	int config_called;
} dd_lua_ctx;

#define DD_ENV_MT "dd.env"
#define DD_LEARNER_MT "dd.learner"

typedef struct lua_env { dd_vec_env *v; } lua_env;
typedef struct lua_learner { dd_learner *l; } lua_learner;

/* Opens the module: sets the globals `dd` and `run` and returns 0. ctx must
** outlive the state. */
int dd_lua_open(lua_State *L, dd_lua_ctx *ctx);

dd_lua_ctx *dd_lua_ctx_get(lua_State *L);

/* Each file registers its metatable and functions on the `dd` table at the
** top of the stack. */
void dd_lua_env_register(lua_State *L);
void dd_lua_learner_register(lua_State *L);
void dd_lua_run_register(lua_State *L);
void dd_lua_media_register(lua_State *L);

/* Checks argument arg is an open env / learner ("used after close" when it
** was closed). */
dd_vec_env *dd_lua_check_env(lua_State *L, int arg);
dd_learner *dd_lua_check_learner(lua_State *L, int arg);

/* Builds validated plugin parameters from the config table at idx (may be
** nil). Raises a Lua error naming the bad key and the valid ones. */
void dd_lua_params(lua_State *L, int idx, const dd_plugin_entry *p,
                   dd_paramvals *pv);
/* Finds a plugin of the given kind by name, or raises an error listing the
** available ones. */
const dd_plugin_entry *dd_lua_plugin(lua_State *L, const char *name, dd_kind kind);
/* Records every parameter of an instance into the run as "label.key". */
void dd_lua_record_params(lua_State *L, const char *label, const dd_paramvals *pv);

/* Observations between Lua tables {name = {floats}} and flat buffers. */
void dd_lua_push_obs(lua_State *L, const dd_spaces *s, float *const *obs);
void dd_lua_read_obs(lua_State *L, int idx, const dd_spaces *s, float *const *obs);
/* Actions: a number (discrete, or a 1-D box) or an array of numbers. */
void dd_lua_push_action(lua_State *L, const dd_spaces *s, const float *a);
void dd_lua_read_action(lua_State *L, int idx, const dd_spaces *s, float *a);
void dd_lua_push_metrics(lua_State *L, const dd_metrics *m);

#endif
