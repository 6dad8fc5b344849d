/*
** testkit.c -- several test-only plugins in one .so (which is itself a
** test: one file, many plugins), including one with a bad name that must be
** refused while its siblings load.
**   failing_env  create() fails with a message
**   fail_step    env whose step() fails after `fail_at` steps
**   counter      learner counting update() calls; its state is the count
**   box_env      env with a 3-D box action; reward = -|action|^2
*/
#include <stdlib.h>
#include <string.h>

#include <daydream/plugin.h>

/* ---- failing_env ---- */

static void *failing_create(const dd_params *p, dd_host *h)
{
	(void)p;
	h->error(h, "boom: this env always fails to start");
	return NULL;
}
static const dd_spaces *no_spaces(void *e) { (void)e; return NULL; }
static int no_reset(void *e, uint64_t s, float *const *o, float *i)
{
	(void)e; (void)s; (void)o; (void)i;
	return DD_ERR;
}
static int no_step(void *e, const float *a, dd_step_out *o) { (void)e; (void)a; (void)o; return DD_ERR; }
static void free_it(void *p) { free(p); }

static const dd_env_vtable failing_vt = {
	.size = sizeof(dd_env_vtable), .create = failing_create, .spaces = no_spaces,
	.reset = no_reset, .step = no_step, .destroy = free_it,
};
static const dd_plugin failing_env = {
	DD_PLUGIN_HEADER, .name = "failing_env", .kind = DD_KIND_ENV, .version = "1",
	.summary = "create() fails", .env = &failing_vt,
};

/* ---- fail_step and box_env: one implementation, two action spaces ---- */

typedef struct simple_env {
	dd_host *host;
	int fail_at, steps, total, box;   /* total: steps over all episodes */
	dd_spaces spaces;
} simple_env;

static const dd_tensor_spec simple_obs[] = {{.name = "t", .ndim = 1, .dims = {1}}};
static const float box_low[3] = {-1, -1, -1}, box_high[3] = {1, 1, 1};
static const char *const simple_info[] = {"t"};

static void *simple_create(const dd_params *p, dd_host *h, int box)
{
	simple_env *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->host = h;
	e->box = box;
	e->fail_at = box ? 1 << 30 : dd_param_int(p, "fail_at");
	e->spaces = (dd_spaces){
		.size = sizeof(dd_spaces), .n_obs = 1, .obs = simple_obs,
		.action_kind = box ? DD_ACTION_BOX : DD_ACTION_DISCRETE,
		.action_dim = box ? 3 : 1, .n_actions = 2,
		.action_low = box_low, .action_high = box_high,
		.n_info = 1, .info_names = simple_info,
	};
	return e;
}
static void *fail_step_create(const dd_params *p, dd_host *h) { return simple_create(p, h, 0); }
static void *box_create(const dd_params *p, dd_host *h) { return simple_create(p, h, 1); }
static const dd_spaces *simple_spaces(void *env) { return &((simple_env *)env)->spaces; }

static int simple_reset(void *env, uint64_t seed, float *const *obs, float *info)
{
	simple_env *e = env;
	(void)seed;
	e->steps = 0;
	obs[0][0] = 0;
	info[0] = 0;
	return DD_OK;
}

static int simple_step(void *env, const float *a, dd_step_out *out)
{
	simple_env *e = env;
	e->steps++;
	if (++e->total > e->fail_at)
		return e->host->error(e->host, "step %d: the track ends here", e->total);
	out->obs[0][0] = (float)e->steps;
	out->reward = 0;
	if (e->box)
		for (int j = 0; j < 3; j++)
			out->reward -= a[j] * a[j];
	out->truncated = e->steps % 10 == 0;
	out->info[0] = (float)e->steps;
	return DD_OK;
}

static const dd_param_spec fail_step_params[] = {
	{.name = "fail_at", .type = DD_PARAM_INT, .def = 5, .min = 0, .max = 1000000,
	 .doc = "steps that succeed before step() fails"},
	{.name = NULL},
};
static const dd_env_vtable fail_step_vt = {
	.size = sizeof(dd_env_vtable), .create = fail_step_create, .spaces = simple_spaces,
	.reset = simple_reset, .step = simple_step, .destroy = free_it,
};
static const dd_plugin fail_step = {
	DD_PLUGIN_HEADER, .name = "fail_step", .kind = DD_KIND_ENV, .version = "1",
	.summary = "step() fails after fail_at steps", .params = fail_step_params,
	.env = &fail_step_vt,
};
static const dd_env_vtable box_vt = {
	.size = sizeof(dd_env_vtable), .create = box_create, .spaces = simple_spaces,
	.reset = simple_reset, .step = simple_step, .destroy = free_it,
};
static const dd_plugin box_env = {
	DD_PLUGIN_HEADER, .name = "box_env", .kind = DD_KIND_ENV, .version = "1",
	.summary = "3-D box actions; reward -|a|^2; 10-step episodes", .env = &box_vt,
};

/* ---- counter ---- */

typedef struct counter {
	dd_host *host;
	int action_dim;
	double count;
	double info_sum, next_info_sum;
	double lr;
} counter;

static void *counter_create(const dd_params *p, dd_host *h, const dd_spaces *s)
{
	(void)p;
	counter *c = calloc(1, sizeof *c);
	if (c) {
		c->host = h;
		c->action_dim = s->action_dim;
	}
	return c;
}
static int counter_act(void *l, int batch, const float *const *obs, float *a)
{
	counter *c = l;
	(void)obs;
	memset(a, 0, sizeof(float) * (size_t)batch * (size_t)c->action_dim);
	return DD_OK;
}
static int counter_observe(void *l, const dd_transitions *t)
{
	counter *c = l;
	for (int b = 0; b < t->batch && t->n_info > 0; b++) {
		if (t->info)
			c->info_sum += t->info[(size_t)b * (size_t)t->n_info];
		if (t->next_info)
			c->next_info_sum += t->next_info[(size_t)b * (size_t)t->n_info];
	}
	return DD_OK;
}

static int counter_update(void *l, dd_metrics *m)
{
	counter *c = l;
	c->count++;
	dd_metrics_add(m, "count", c->count);
	dd_metrics_add(m, "info_sum", c->info_sum);
	dd_metrics_add(m, "next_info_sum", c->next_info_sum);
	dd_metrics_add(m, "lr", c->lr);
	return DD_OK;
}

static int counter_set(void *l, const char *key, double value)
{
	counter *c = l;
	if (strcmp(key, "lr") != 0)
		return c->host->error(c->host, "no setting '%s' (settable: lr)", key);
	c->lr = value;
	return DD_OK;
}
static int counter_save(void *l, dd_writer *w)
{
	counter *c = l;
	return w->write(w, "CNT1", 4) == DD_OK ? w->write(w, &c->count, sizeof c->count) : DD_ERR;
}
static int counter_load(void *l, dd_reader *r)
{
	counter *c = l;
	char magic[4];
	double v;
	if (r->remaining != 4 + sizeof v || r->read(r, magic, 4) != DD_OK ||
	    memcmp(magic, "CNT1", 4) != 0 || r->read(r, &v, sizeof v) != DD_OK)
		return c->host->error(c->host, "not a counter state");
	c->count = v;
	return DD_OK;
}
static const dd_learner_vtable counter_vt = {
	.size = sizeof(dd_learner_vtable), .create = counter_create, .act = counter_act,
	.observe = counter_observe, .update = counter_update, .save = counter_save,
	.load = counter_load, .destroy = free_it, .set = counter_set,
};
static const dd_plugin counter_plugin = {
	DD_PLUGIN_HEADER, .name = "counter", .kind = DD_KIND_LEARNER, .version = "1",
	.summary = "counts update() calls", .learner = &counter_vt,
};

/* ---- a descriptor the loader must refuse ---- */

static const dd_plugin bad_name = {
	DD_PLUGIN_HEADER, .name = "Bad-Name", .kind = DD_KIND_LEARNER, .version = "1",
	.summary = "invalid name", .learner = &counter_vt,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {
		&failing_env, &fail_step, &box_env, &counter_plugin, &bad_name, NULL,
	};
	return list;
}
