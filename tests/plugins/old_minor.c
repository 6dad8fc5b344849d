/* A learner built against ABI 1.0, before set() existed: its vtable is
** shorter, and the host must accept it and read set as NULL. A second
** descriptor claims a newer minor than the host's and must be refused. */
#include <stddef.h>
#include <stdlib.h>

#include <daydream/plugin.h>

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
	.size = offsetof(dd_learner_vtable, set), /* as a 1.0 build saw it */
	.create = create, .act = act, .destroy = destroy,
	.set = (int (*)(void *, const char *, double))1, /* beyond its size: never read */
};
static const dd_plugin old = {
	.abi_major = 1, .abi_minor = 0, .size = sizeof(dd_plugin),
	.sizeof_float = sizeof(float), .sizeof_pointer = sizeof(void *),
	.name = "old_learner", .kind = DD_KIND_LEARNER, .version = "1",
	.summary = "built against ABI 1.0", .learner = &vt,
};
static const dd_plugin newer = {
	.abi_major = 1, .abi_minor = 99, .size = sizeof(dd_plugin),
	.sizeof_float = sizeof(float), .sizeof_pointer = sizeof(void *),
	.name = "newer_learner", .kind = DD_KIND_LEARNER, .version = "1",
	.summary = "built against ABI 1.99", .learner = &vt,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&old, &newer, NULL};
	return list;
}
