/* dup_a.so and dup_b.so both provide a learner named "dup": the first one
** loaded (in name order) wins, the second is reported. */
#include <stdlib.h>

#include <daydream/plugin.h>

#ifndef DUP_VERSION
#define DUP_VERSION "a"
#endif

static void *create(const dd_params *p, dd_host *h, const dd_spaces *s)
{
	(void)p; (void)h; (void)s;
	return calloc(1, 1);
}
static int act(void *l, int b, const float *const *o, float *a)
{
	(void)l; (void)o;
	for (int i = 0; i < b; i++)
		a[i] = 0;
	return DD_OK;
}
static void destroy(void *l) { free(l); }

static const dd_learner_vtable vt = {
	.size = sizeof(dd_learner_vtable), .create = create, .act = act, .destroy = destroy,
};
static const dd_plugin p = {
	DD_PLUGIN_HEADER, .name = "dup", .kind = DD_KIND_LEARNER, .version = DUP_VERSION,
	.summary = "always action 0", .learner = &vt,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&p, NULL};
	return list;
}
