/*
** video_testkit.h -- shared by the video tests: finding the real test data
** (scripts/fetch-test-data.sh puts it in a cache folder), temporary
** folders, and the real `video` plugin driven through its vtable as the
** host drives it (loaded by the registry, parameters as "key=value").
*/
#ifndef VIDEO_TESTKIT_H
#define VIDEO_TESTKIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daydream/plugin.h"

/* Path of a file of the test-data cache (e.g. "opencv/vtest.avi"), or NULL
** when absent: $DAYDREAM_DATA, else $XDG_CACHE_HOME/daydream, else
** ~/.cache/daydream -- where scripts/fetch-test-data.sh writes. */
static inline const char *vt_data(const char *rel)
{
	static char path[4][1024];
	static int next;
	char *out = path[next++ % 4];
	const char *env = getenv("DAYDREAM_DATA"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (env && *env)
		snprintf(out, sizeof path[0], "%s/%s", env, rel);
	else if (xdg && *xdg)
		snprintf(out, sizeof path[0], "%s/daydream/%s", xdg, rel);
	else
		snprintf(out, sizeof path[0], "%s/.cache/daydream/%s", home ? home : ".", rel);
	return access(out, R_OK) == 0 ? out : NULL;
}

/* In a cmocka test: the data path, or a skip that says how to get it. */
#define VT_DATA_OR_SKIP(var, rel)                                                    \
	const char *var = vt_data(rel);                                                  \
	if (!var) {                                                                      \
		print_message("[  SKIP    ] %s not found: run scripts/fetch-test-data.sh\n", \
		              rel);                                                          \
		skip();                                                                      \
	}

/* A fresh folder under /tmp (malloc'd path); vt_rmdir removes it. */
static inline char *vt_tmpdir(void)
{
	char *d = strdup("/tmp/ddvideo.XXXXXX");
	return mkdtemp(d) ? d : NULL;
}

static inline void vt_rmdir(char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

#ifdef VT_WITH_PLUGIN
#include "paramvals.h"
#include "registry.h"

typedef struct vt_env {
	const dd_env_vtable *vt;
	void *h;
	const dd_spaces *sp;
	float *obs[1];
	float info[256];
	dd_step_out out;
	dd_paramvals pv;
	dd_host host;
	size_t n;            /* floats per frame */
} vt_env;

static char vt_err[2048];
static dd_registry *vt_registry;

static inline int vt_host_error(dd_host *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vt_err, sizeof vt_err, fmt, ap);
	va_end(ap);
	return DD_ERR;
}

static inline const dd_plugin_entry *vt_plugin(void)
{
	if (!vt_registry) {
		vt_registry = dd_registry_new();
		dd_registry_scan_dir(vt_registry, DD_PLUGIN_BUILD_DIR);
	}
	return dd_registry_find(vt_registry, "video");
}

/* A video env with "key=value" settings (NULL-terminated); NULL with
** vt_err on error. */
static inline vt_env *vt_new(const char *const *sets)
{
	const dd_plugin_entry *p = vt_plugin();
	vt_err[0] = '\0';
	if (!p) {
		snprintf(vt_err, sizeof vt_err, "video plugin not found in %s", DD_PLUGIN_BUILD_DIR);
		return NULL;
	}
	vt_env *e = calloc(1, sizeof *e);
	dd_paramvals_init(&e->pv, "video", p->desc.params, p->n_params);
	e->host = (dd_host){.size = sizeof(dd_host), .seed = 1, .error = vt_host_error};
	for (int i = 0; sets && sets[i]; i++) {
		char key[64];
		const char *eq = strchr(sets[i], '=');
		snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
		if (dd_paramvals_set_str(&e->pv, key, eq + 1, vt_err, sizeof vt_err) < 0)
			goto fail;
	}
	if (!(e->h = p->env.create(&e->pv.params, &e->host)))
		goto fail;
	e->vt = &p->env;
	e->sp = e->vt->spaces(e->h);
	e->n = dd_tensor_spec_count(&e->sp->obs[0]);
	e->obs[0] = calloc(e->n, sizeof(float));
	e->out = (dd_step_out){.obs = e->obs, .info = e->info};
	return e;
fail:
	dd_paramvals_free(&e->pv);
	free(e);
	return NULL;
}

static inline void vt_free(vt_env *e)
{
	if (!e)
		return;
	e->vt->destroy(e->h);
	free(e->obs[0]);
	dd_paramvals_free(&e->pv);
	free(e);
}

static inline int vt_reset(vt_env *e, uint64_t seed)
{
	return e->vt->reset(e->h, seed, e->obs, e->info);
}

static inline int vt_step(vt_env *e)
{
	float a = 0.5f;
	return e->vt->step(e->h, &a, &e->out);
}

/* Index of an info stat, or -1. */
static inline int vt_info(const vt_env *e, const char *name)
{
	for (int i = 0; i < e->sp->n_info; i++)
		if (strcmp(e->sp->info_names[i], name) == 0)
			return i;
	return -1;
}

/* All frames of one clip (clip_length x n floats, malloc'd). */
static inline float *vt_clip(vt_env *e, uint64_t seed, int len)
{
	float *all = malloc(sizeof(float) * e->n * (size_t)len);
	if (vt_reset(e, seed) != DD_OK) {
		free(all);
		return NULL;
	}
	memcpy(all, e->obs[0], sizeof(float) * e->n);
	for (int t = 1; t < len; t++) {
		if (vt_step(e) != DD_OK) {
			free(all);
			return NULL;
		}
		memcpy(all + (size_t)t * e->n, e->obs[0], sizeof(float) * e->n);
	}
	return all;
}
#endif

#endif
