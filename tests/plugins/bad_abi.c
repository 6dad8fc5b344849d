/* A plugin built for a future ABI major: the loader must refuse it. */
#include <daydream/plugin.h>

static const dd_env_vtable vt = {.size = sizeof(dd_env_vtable)};
static const dd_plugin p = {
	.abi_major = 99, .abi_minor = 0, .size = sizeof(dd_plugin),
	.sizeof_float = sizeof(float), .sizeof_pointer = sizeof(void *),
	.name = "from_the_future", .kind = DD_KIND_ENV, .version = "1", .summary = "x",
	.env = &vt,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&p, NULL};
	return list;
}
