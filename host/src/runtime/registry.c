/*
** registry.c -- dlopen plugins, check their descriptors, index them by name.
*/
#include <dirent.h>
#include <stddef.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paramvals.h"
#include "registry.h"

/* The smallest descriptor and vtables a plugin may hand us: the sizes at ABI
** 1.0. When a minor version appends fields, these stay as they are, and the
** host's zero-extended copy reads the newer fields as NULL. */
#define MIN_PLUGIN_SIZE sizeof(dd_plugin)
#define MIN_ENV_VTABLE_SIZE sizeof(dd_env_vtable)
#define MIN_LEARNER_VTABLE_SIZE offsetof(dd_learner_vtable, set) /* 1.1 added set */

struct dd_registry {
	dd_plugin_entry **entries;
	int n_entries, cap_entries;
	void **handles;
	int n_handles, cap_handles;
	char **problems;
	int n_problems, cap_problems;
	char **paths;       /* realpaths already loaded, to skip repeats */
	int n_paths, cap_paths;
};

/* Appends p to a growable array; returns 0 or -1. */
static int push(void ***arr, int *n, int *cap, void *p)
{
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 16;
		void **na = realloc(*arr, (size_t)nc * sizeof *na);
		if (!na)
			return -1;
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = p;
	return 0;
}

static void problem(dd_registry *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *copy = strdup(buf);
	if (copy && push((void ***)&r->problems, &r->n_problems, &r->cap_problems, copy) < 0)
		free(copy);
}

dd_registry *dd_registry_new(void)
{
	return calloc(1, sizeof(dd_registry));
}

void dd_registry_free(dd_registry *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n_entries; i++) {
		free((char *)r->entries[i]->path);
		free(r->entries[i]);
	}
	for (int i = 0; i < r->n_handles; i++)
		dlclose(r->handles[i]);
	for (int i = 0; i < r->n_problems; i++)
		free(r->problems[i]);
	for (int i = 0; i < r->n_paths; i++)
		free(r->paths[i]);
	free(r->entries);
	free(r->handles);
	free(r->problems);
	free(r->paths);
	free(r);
}

const char *dd_kind_name(dd_kind kind)
{
	return kind == DD_KIND_ENV ? "env" : kind == DD_KIND_LEARNER ? "learner" : "?";
}

/* Checks one descriptor and copies it into a host-sized entry. Returns the
** entry, or NULL with the reason in why. */
static dd_plugin_entry *check(const dd_plugin *d, const char *path, char *why, size_t n)
{
	if (d->abi_major != DD_ABI_MAJOR) {
		snprintf(why, n, "built for plugin ABI %u.%u, this host speaks %d.%d: rebuild it against this SDK",
		         d->abi_major, d->abi_minor, DD_ABI_MAJOR, DD_ABI_MINOR);
		return NULL;
	}
	if (d->abi_minor > DD_ABI_MINOR) {
		snprintf(why, n, "built for plugin ABI %u.%u, newer than this host's %d.%d: update the host",
		         d->abi_major, d->abi_minor, DD_ABI_MAJOR, DD_ABI_MINOR);
		return NULL;
	}
	if (d->size < MIN_PLUGIN_SIZE || d->sizeof_float != sizeof(float) ||
	    d->sizeof_pointer != sizeof(void *)) {
		snprintf(why, n, "descriptor sizes do not match this host (size %u, float %u, pointer %u bytes)",
		         d->size, d->sizeof_float, d->sizeof_pointer);
		return NULL;
	}
	if (!d->name || !dd_name_valid(d->name, 1)) {
		snprintf(why, n, "plugin name '%s' is not of the form [a-z][a-z0-9_]* (optionally -vN)",
		         d->name ? d->name : "(null)");
		return NULL;
	}
	if (!d->version || !d->summary) {
		snprintf(why, n, "plugin '%s' has no %s", d->name, d->version ? "summary" : "version");
		return NULL;
	}
	dd_plugin_entry *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	memcpy(&e->desc, d, d->size < sizeof(dd_plugin) ? d->size : sizeof(dd_plugin));
	char err[512];
	e->n_params = dd_schema_check(d->params, err, sizeof err);
	if (e->n_params < 0) {
		snprintf(why, n, "plugin '%s': %s", d->name, err);
		free(e);
		return NULL;
	}
	if (d->kind == DD_KIND_ENV) {
		const dd_env_vtable *v = d->env;
		if (!v || v->size < MIN_ENV_VTABLE_SIZE || !v->create || !v->spaces ||
		    !v->reset || !v->step || !v->destroy) {
			snprintf(why, n, "env plugin '%s' lacks its vtable or one of create, spaces, reset, step, destroy", d->name);
			free(e);
			return NULL;
		}
		memcpy(&e->env, v, v->size < sizeof e->env ? v->size : sizeof e->env);
	} else if (d->kind == DD_KIND_LEARNER) {
		const dd_learner_vtable *v = d->learner;
		if (!v || v->size < MIN_LEARNER_VTABLE_SIZE || !v->create || !v->act ||
		    !v->destroy) {
			snprintf(why, n, "learner plugin '%s' lacks its vtable or one of create, act, destroy", d->name);
			free(e);
			return NULL;
		}
		memcpy(&e->learner, v, v->size < sizeof e->learner ? v->size : sizeof e->learner);
	} else {
		snprintf(why, n, "plugin '%s' has an unknown kind %d", d->name, (int)d->kind);
		free(e);
		return NULL;
	}
	e->path = strdup(path);
	if (!e->path) {
		snprintf(why, n, "out of memory");
		free(e);
		return NULL;
	}
	return e;
}

int dd_registry_load_file(dd_registry *r, const char *path)
{
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		problem(r, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < r->n_paths; i++)
		if (strcmp(r->paths[i], real) == 0)
			return 0; /* the same file reached through two folders */
	char *copy = strdup(real);
	if (!copy || push((void ***)&r->paths, &r->n_paths, &r->cap_paths, copy) < 0) {
		free(copy);
		return -1;
	}
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		problem(r, "%s: cannot load: %s", path, dlerror());
		return -1;
	}
	dd_plugin_describe_fn describe;
	*(void **)&describe = dlsym(h, DD_PLUGIN_ENTRY);
	if (!describe) {
		problem(r, "%s: no symbol %s: not a Daydream plugin (export it with DD_EXPORT)",
		        path, DD_PLUGIN_ENTRY);
		dlclose(h);
		return -1;
	}
	const dd_plugin *const *list = describe();
	int accepted = 0;
	for (int i = 0; list && list[i] && i < 1024; i++) {
		char why[768];
		dd_plugin_entry *e = check(list[i], path, why, sizeof why);
		if (!e) {
			problem(r, "%s: %s", path, why);
			continue;
		}
		const dd_plugin_entry *other = dd_registry_find(r, e->desc.name);
		if (other) {
			problem(r, "%s: plugin '%s' is already provided by %s; this one is ignored",
			        path, e->desc.name, other->path);
			free((char *)e->path);
			free(e);
			continue;
		}
		if (push((void ***)&r->entries, &r->n_entries, &r->cap_entries, e) < 0) {
			free((char *)e->path);
			free(e);
			continue;
		}
		accepted++;
	}
	if (!list)
		problem(r, "%s: %s returned no plugin list", path, DD_PLUGIN_ENTRY);
	if (accepted == 0) {
		dlclose(h);
		return list ? 0 : -1;
	}
	push(&r->handles, &r->n_handles, &r->cap_handles, h);
	return accepted;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void dd_registry_scan_dir(dd_registry *r, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR)
			problem(r, "%s: cannot read plugin folder: %s", dir, strerror(errno));
		return;
	}
	char **names = NULL;
	int n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 3 && strcmp(de->d_name + len - 3, ".so") == 0) {
			char *c = strdup(de->d_name);
			if (c && push((void ***)&names, &n, &cap, c) < 0)
				free(c);
		}
	}
	closedir(d);
	if (n > 1)
		qsort(names, (size_t)n, sizeof *names, by_name);
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		dd_registry_load_file(r, path);
		free(names[i]);
	}
	free(names);
}

int dd_running_from_build_tree(void)
{
#ifdef DD_PLUGIN_BUILD_DIR
	char exe[PATH_MAX], build[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (!realpath(DD_PLUGIN_BUILD_DIR "/..", build))
		return 0;
	size_t len = strlen(build);
	return strncmp(exe, build, len) == 0 && exe[len] == '/';
#else
	return 0;
#endif
}

void dd_install_path(const char *rel, char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(buf, size, "/usr/local/%s", rel);
		return;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';   /* the bin folder */
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';   /* the prefix */
	snprintf(buf, size, "%s/%s", exe, rel);
}

void dd_registry_scan_default(dd_registry *r)
{
	const char *env = getenv("DAYDREAM_PLUGIN_PATH");
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
		     dir = strtok_r(NULL, ":", &save))
			dd_registry_scan_dir(r, dir);
		free(copy);
	}
	dd_registry_scan_dir(r, "plugins");
#if defined(DD_PLUGIN_BUILD_DIR) && defined(DD_PLUGIN_INSTALL_DIR)
	if (dd_running_from_build_tree()) {
		dd_registry_scan_dir(r, DD_PLUGIN_BUILD_DIR);
	} else {
		char dir[PATH_MAX];
		dd_install_path(DD_PLUGIN_INSTALL_DIR, dir, sizeof dir);
		dd_registry_scan_dir(r, dir);
	}
#endif
}

int dd_registry_count(const dd_registry *r) { return r->n_entries; }

const dd_plugin_entry *dd_registry_at(const dd_registry *r, int i)
{
	return i >= 0 && i < r->n_entries ? r->entries[i] : NULL;
}

const dd_plugin_entry *dd_registry_find(const dd_registry *r, const char *name)
{
	for (int i = 0; i < r->n_entries; i++)
		if (strcmp(r->entries[i]->desc.name, name) == 0)
			return r->entries[i];
	return NULL;
}

void dd_registry_names(const dd_registry *r, int kind, char *buf, size_t size)
{
	size_t used = 0;
	int any = 0;
	buf[0] = '\0';
	for (int i = 0; i < r->n_entries && used < size; i++) {
		if (kind && (int)r->entries[i]->desc.kind != kind)
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%s", any ? ", " : "",
		                         r->entries[i]->desc.name);
		any = 1;
	}
	if (!any)
		snprintf(buf, size, "(none found)");
}

int dd_registry_problem_count(const dd_registry *r) { return r->n_problems; }

const char *dd_registry_problem(const dd_registry *r, int i)
{
	return i >= 0 && i < r->n_problems ? r->problems[i] : NULL;
}
