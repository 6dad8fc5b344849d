/*
** daydream/plugin.h -- the plugin ABI.
**
** A plugin is a shared object that exports one C symbol, dd_plugin_describe,
** returning a NULL-terminated array of static descriptors (one .so may provide
** several plugins). The host checks each descriptor (ABI version, sizes, name,
** parameter schema) before it calls anything else in it.
**
** Rules every plugin keeps: it never prints to stdout and never exits; every
** failure returns DD_ERR after describing itself through host->error().
** This header is self-contained: a plugin that uses only the ABI needs no
** library at link time.
*/
#ifndef DAYDREAM_PLUGIN_H
#define DAYDREAM_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A plugin is accepted when its major equals the host's and its minor is not
** newer. Add fields only at the end of a struct and bump the minor; anything
** else bumps the major. */
#define DD_ABI_MAJOR 1
#define DD_ABI_MINOR 1  /* 1.1: learner set(); transitions carry info */

#define DD_OK 0
#define DD_ERR (-1)

#define DD_MAX_DIMS 4        /* tensors are at most 4-D: N, C, H, W */
#define DD_MAX_METRICS 32    /* named metrics one update() may return */

#if defined(_WIN32)
#define DD_EXPORT __declspec(dllexport)
#else
#define DD_EXPORT __attribute__((visibility("default")))
#endif

/* ---- parameters ------------------------------------------------------- */

typedef enum dd_param_type {
	DD_PARAM_INT = 1,    /* a whole number within [min, max] */
	DD_PARAM_FLOAT = 2,  /* a real number within [min, max] */
	DD_PARAM_BOOL = 3,   /* true or false; default 0 or 1 */
	DD_PARAM_STRING = 4  /* text; if choices is set, one of "a|b|c" */
} dd_param_type;

/* One entry of a plugin's parameter schema. The schema is an array ended by
** an entry whose name is NULL. Names follow [a-z][a-z0-9_]*. */
typedef struct dd_param_spec {
	const char *name;
	dd_param_type type;
	double def;          /* default of INT, FLOAT, BOOL */
	double min, max;     /* bounds of INT, FLOAT (inclusive) */
	const char *def_str; /* default of STRING */
	const char *choices; /* STRING: allowed values "a|b|c", or NULL for any */
	const char *doc;     /* one line for `daydream plugins` */
} dd_param_spec;

/* A value the host validated against the schema. */
typedef struct dd_value {
	double num;          /* INT, FLOAT, BOOL */
	const char *str;     /* STRING; owned by the host, valid until destroy */
} dd_value;

/* The validated parameters handed to create(): values[i] belongs to
** spec[i], every key of the schema is present (defaults filled in). */
typedef struct dd_params {
	int count;
	const dd_param_spec *spec;
	const dd_value *values;
} dd_params;

/* Looks a parameter up by name. The host has already refused unknown keys,
** so a miss is a bug in the plugin: it gets 0 / "" rather than a crash. */
static inline const dd_value *dd_param(const dd_params *p, const char *name)
{
	static const dd_value none = {0.0, ""};
	for (int i = 0; i < p->count; i++)
		if (strcmp(p->spec[i].name, name) == 0)
			return &p->values[i];
	return &none;
}
static inline double dd_param_num(const dd_params *p, const char *name)
{
	return dd_param(p, name)->num;
}
static inline int dd_param_int(const dd_params *p, const char *name)
{
	return (int)dd_param(p, name)->num;
}
static inline const char *dd_param_str(const dd_params *p, const char *name)
{
	return dd_param(p, name)->str;
}

/* ---- host services ---------------------------------------------------- */

typedef enum dd_log_level {
	DD_LOG_DEBUG = 0, DD_LOG_INFO = 1, DD_LOG_WARN = 2, DD_LOG_ERROR = 3
} dd_log_level;

/* Each plugin instance gets its own dd_host, valid until its destroy().
** error() records a message for this instance and returns DD_ERR, so a
** plugin writes `return host->error(host, "lanes must be ...");`. */
typedef struct dd_host dd_host;
struct dd_host {
	uint32_t size;   /* sizeof(dd_host) as the host was built */
	void *ctx;       /* the host's; plugins leave it alone */
	uint64_t seed;   /* this instance's seed, derived from the run seed */
	void (*log_metric)(dd_host *h, const char *name, double value, int64_t step);
	void (*log_message)(dd_host *h, dd_log_level level, const char *message);
	int (*error)(dd_host *h, const char *fmt, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 2, 3)))
#endif
		;
};

/* Checkpoint byte streams. A writer appends bytes; a reader hands them back
** and fails (DD_ERR) on reading past the end. Both return DD_OK or DD_ERR. */
typedef struct dd_writer dd_writer;
struct dd_writer {
	void *ctx;
	int (*write)(dd_writer *w, const void *data, size_t n);
};
typedef struct dd_reader dd_reader;
struct dd_reader {
	void *ctx;
	size_t remaining;  /* bytes left to read */
	int (*read)(dd_reader *r, void *data, size_t n);
};

/* ---- spaces ----------------------------------------------------------- */

/* A named float32 tensor of one sample (no batch axis). */
typedef struct dd_tensor_spec {
	const char *name;
	int ndim;
	int dims[DD_MAX_DIMS];
} dd_tensor_spec;

static inline size_t dd_tensor_spec_count(const dd_tensor_spec *t)
{
	size_t n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= (size_t)t->dims[i];
	return n;
}

typedef enum dd_action_kind {
	DD_ACTION_BOX = 1,      /* action_dim floats within [low, high] */
	DD_ACTION_DISCRETE = 2  /* one float holding an index in [0, n_actions) */
} dd_action_kind;

/* What an environment shows and takes. Everything is owned by the plugin and
** stays valid until destroy(). Observations are passed as one buffer per
** tensor of obs[], in that order; info as n_info floats named by info_names. */
typedef struct dd_spaces {
	uint32_t size;                   /* sizeof(dd_spaces) as the plugin built it */
	int n_obs;
	const dd_tensor_spec *obs;
	dd_action_kind action_kind;
	int action_dim;                  /* BOX: floats per action; DISCRETE: 1 */
	int n_actions;                   /* DISCRETE: how many */
	const float *action_low;         /* BOX: action_dim bounds each */
	const float *action_high;
	int n_info;
	const char *const *info_names;   /* episode stats, e.g. "success" */
	int render_width, render_height; /* 0 when render is not provided */
} dd_spaces;

/* ---- environments (Gymnasium semantics) ------------------------------- */

/* What one step produces. The caller owns every buffer. */
typedef struct dd_step_out {
	float *const *obs;   /* n_obs buffers to fill */
	float *info;         /* n_info floats to fill */
	float reward;
	int terminated;      /* the episode ended inside the MDP (goal, crash) */
	int truncated;       /* it was cut short from outside (time limit) */
} dd_step_out;

typedef struct dd_env_vtable {
	uint32_t size;  /* sizeof(dd_env_vtable) */
	/* Returns a handle, or NULL after host->error(). */
	void *(*create)(const dd_params *params, dd_host *host);
	const dd_spaces *(*spaces)(void *env);
	/* Starts an episode: the same seed gives the same trajectory for the
	** same actions. Writes the first observation and zeroed info. */
	int (*reset)(void *env, uint64_t seed, float *const *obs, float *info);
	int (*step)(void *env, const float *action, dd_step_out *out);
	/* Optional (NULL): an RGB frame of render_width x render_height. */
	int (*render)(void *env, uint8_t *rgb);
	/* Optional (NULL): a differentiable cost of a batch of observations,
	** real or predicted. obs[k] holds batch samples of tensor k; cost gets
	** batch values; grad (may be NULL) gets d(sum of cost)/d(obs[k]). */
	int (*cost)(void *env, int batch, const float *const *obs, float *cost,
	            float *const *grad);
	void (*destroy)(void *env);
} dd_env_vtable;

/* ---- learners --------------------------------------------------------- */

/* A batch of transitions, each tensor batch-major: obs[k] and next_obs[k]
** hold batch samples of observation tensor k. */
typedef struct dd_transitions {
	int batch;
	const float *const *obs;
	const float *action;       /* batch x action_dim */
	const float *reward;       /* batch */
	const float *const *next_obs;
	const int *terminated;     /* batch */
	const int *truncated;      /* batch */
	int n_info;                /* the env's info stats per sample */
	const float *info;         /* batch x n_info: stats shown with obs (labels
	                           ** of a data set live here), or NULL */
	const float *next_info;    /* batch x n_info: shown with next_obs, or NULL */
} dd_transitions;

/* Named scalars an update reports; the host logs them. */
typedef struct dd_metrics {
	int count;
	const char *name[DD_MAX_METRICS];  /* static strings of the plugin */
	double value[DD_MAX_METRICS];
} dd_metrics;

static inline void dd_metrics_add(dd_metrics *m, const char *name, double v)
{
	if (m->count < DD_MAX_METRICS) {
		m->name[m->count] = name;
		m->value[m->count] = v;
		m->count++;
	}
}

/* A world model's one-step prediction for a batch:
**   next_obs = g(history of n_cond observations, action, latent).
** obs[k] holds batch x n_cond samples of tensor k, oldest first. latent may
** be NULL (sample it from the prior). stochastic keeps dropout on at
** inference, for uncertainty estimates. */
typedef struct dd_predict_args {
	uint32_t size;  /* sizeof(dd_predict_args) */
	int batch;
	int n_cond;
	const float *const *obs;
	const float *action;       /* batch x action_dim */
	const float *latent;       /* batch x latent_dim, or NULL */
	float *const *next_obs;    /* out: batch samples of each tensor */
	int stochastic;
} dd_predict_args;

/* Gradients of a scalar with respect to the inputs of the last predict():
** given d/d(next_obs), adds into d/d(obs), d/d(action), d/d(latent) (any of
** them may be NULL when not wanted). Parameters are not touched. */
typedef struct dd_predict_grad {
	uint32_t size;
	const float *const *grad_next_obs;
	float *const *grad_obs;
	float *grad_action;
	float *grad_latent;
} dd_predict_grad;

/* Sizes of a learner's optional inputs and outputs, which depend on its
** parameters. */
typedef struct dd_learner_io {
	int code_dim;    /* encode(): floats of code per sample, or 0 */
	int latent_dim;  /* predict(): floats of latent per sample, or 0 */
	int n_cond;      /* predict(): observations of history it conditions on */
} dd_learner_io;

typedef struct dd_learner_vtable {
	uint32_t size;  /* sizeof(dd_learner_vtable) */
	/* env is the spaces of the environment it will act in or learn from. */
	void *(*create)(const dd_params *params, dd_host *host, const dd_spaces *env);
	/* obs[k] holds batch samples; writes batch x action_dim actions. */
	int (*act)(void *learner, int batch, const float *const *obs, float *action);
	/* Optional: learners that learn from experience. */
	int (*observe)(void *learner, const dd_transitions *t);
	/* Optional: one or more optimisation steps; fills named metrics. */
	int (*update)(void *learner, dd_metrics *metrics);
	/* Optional: sizes for encode() and predict(); all 0 when NULL. */
	void (*io)(void *learner, dd_learner_io *io);
	/* Optional: world models. */
	int (*predict)(void *learner, const dd_predict_args *args);
	int (*predict_grad)(void *learner, const dd_predict_grad *args);
	/* Optional: feature learners. obs[k] holds batch samples of the env's
	** observation tensors; code gets batch x code_dim floats. */
	int (*encode)(void *learner, int batch, const float *const *obs, float *code);
	/* Whole state (parameters and optimiser). load() must leave the learner
	** untouched when it returns DD_ERR. */
	int (*save)(void *learner, dd_writer *w);
	int (*load)(void *learner, dd_reader *r);
	void (*destroy)(void *learner);
	/* ---- ABI 1.1 ---- */
	/* Optional: changes a setting between updates, e.g. ("lr", 1e-3) for a
	** learning-rate schedule driven by the scenario. DD_ERR (with a message
	** naming the settable keys) for a key it does not know. */
	int (*set)(void *learner, const char *key, double value);
} dd_learner_vtable;

/* ---- the descriptor --------------------------------------------------- */

typedef enum dd_kind { DD_KIND_ENV = 1, DD_KIND_LEARNER = 2 } dd_kind;

typedef struct dd_plugin {
	uint32_t abi_major, abi_minor;
	uint32_t size;            /* sizeof(dd_plugin) as the plugin was built */
	uint16_t sizeof_float;    /* checks that host and plugin agree */
	uint16_t sizeof_pointer;
	const char *name;         /* [a-z][a-z0-9_]*, optionally -vN */
	dd_kind kind;
	const char *version;      /* the plugin's own, e.g. "1.2.0" */
	const char *summary;      /* one line */
	const dd_param_spec *params;  /* ends with a NULL name; may be NULL */
	const dd_env_vtable *env;         /* when kind is DD_KIND_ENV */
	const dd_learner_vtable *learner; /* when kind is DD_KIND_LEARNER */
} dd_plugin;

/* Fills the version and size checks of a descriptor:
**   static const dd_plugin corridor = { DD_PLUGIN_HEADER, .name = ... }; */
#define DD_PLUGIN_HEADER                                              \
	.abi_major = DD_ABI_MAJOR, .abi_minor = DD_ABI_MINOR,             \
	.size = sizeof(dd_plugin), .sizeof_float = sizeof(float),         \
	.sizeof_pointer = sizeof(void *)

/* The one symbol a plugin exports. */
#define DD_PLUGIN_ENTRY "dd_plugin_describe"
typedef const dd_plugin *const *(*dd_plugin_describe_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
