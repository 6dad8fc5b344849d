/*
** registry.h -- finding, loading and checking plugins.
**
** The registry dlopens every .so in its folders, asks each for its
** descriptors, and keeps those that pass the ABI and schema checks. A plugin
** that fails is recorded as a problem naming its file and the reason; the
** others still load.
*/
#ifndef DD_REGISTRY_H
#define DD_REGISTRY_H

#include <stddef.h>

#include "daydream/plugin.h"

/* One accepted plugin. desc, env and learner are the host's own copies,
** zero-extended to the host's struct sizes, so fields a plugin built against
** an older minor ABI does not know read as NULL/0. */
typedef struct dd_plugin_entry {
	dd_plugin desc;
	dd_env_vtable env;
	dd_learner_vtable learner;
	int n_params;
	const char *path;   /* the .so it came from */
} dd_plugin_entry;

typedef struct dd_registry dd_registry;

/* An empty registry; NULL on out of memory. */
dd_registry *dd_registry_new(void);
/* Unloads every plugin; entries and their handles become invalid. */
void dd_registry_free(dd_registry *r);

/* Loads every *.so in dir (not recursive), in name order. A folder that does
** not exist is skipped silently; one that cannot be read is a problem. */
void dd_registry_scan_dir(dd_registry *r, const char *dir);
/* Loads one file. Returns the number of plugins accepted from it, or -1
** (the reason is added to the problems). */
int dd_registry_load_file(dd_registry *r, const char *path);
/* Scans, in this order, so the first found of a name wins: every folder on
** DAYDREAM_PLUGIN_PATH (':'-separated), ./plugins, then the build's plugin
** folder when the host runs from its build tree, else the installed one. */
void dd_registry_scan_default(dd_registry *r);

int dd_registry_count(const dd_registry *r);
const dd_plugin_entry *dd_registry_at(const dd_registry *r, int i);
/* NULL when no plugin has that name. */
const dd_plugin_entry *dd_registry_find(const dd_registry *r, const char *name);
/* Writes "a, b, c" (names of the given kind, 0 for all) into buf. */
void dd_registry_names(const dd_registry *r, int kind, char *buf, size_t size);

/* Problems met while loading, each "FILE: reason". */
int dd_registry_problem_count(const dd_registry *r);
const char *dd_registry_problem(const dd_registry *r, int i);

const char *dd_kind_name(dd_kind kind);

/* 1 when this executable lives in the build tree: it then takes plugins and
** Lua modules from the build and the sources, not from an older install. */
int dd_running_from_build_tree(void);

/* Writes "<prefix>/<rel>" into buf, where prefix is the folder above the one
** holding this executable (an installed host finds its plugins and Lua
** modules next to itself, wherever the prefix was moved). */
void dd_install_path(const char *rel, char *buf, size_t size);

#endif
