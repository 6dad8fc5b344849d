/* A plugin whose parameter default lies outside its own bounds. */
#include <stdlib.h>

#include <daydream/plugin.h>

static void *create(const dd_params *p, dd_host *h) { (void)p; (void)h; return NULL; }
static const dd_spaces *spaces(void *e) { (void)e; return NULL; }
static int reset(void *e, uint64_t s, float *const *o, float *i) { (void)e; (void)s; (void)o; (void)i; return DD_ERR; }
static int step(void *e, const float *a, dd_step_out *o) { (void)e; (void)a; (void)o; return DD_ERR; }
static void destroy(void *e) { free(e); }

static const dd_param_spec params[] = {
	{.name = "width", .type = DD_PARAM_INT, .def = 50, .min = 1, .max = 10, .doc = "bad"},
	{.name = NULL},
};
static const dd_env_vtable vt = {
	.size = sizeof(dd_env_vtable), .create = create, .spaces = spaces,
	.reset = reset, .step = step, .destroy = destroy,
};
static const dd_plugin p = {
	DD_PLUGIN_HEADER, .name = "bad_schema", .kind = DD_KIND_ENV, .version = "1",
	.summary = "default out of bounds", .params = params, .env = &vt,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&p, NULL};
	return list;
}
