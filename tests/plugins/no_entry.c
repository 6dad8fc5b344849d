/* A shared object that is not a plugin: it lacks dd_plugin_describe. */
#include <daydream/plugin.h>

DD_EXPORT int not_a_plugin(void)
{
	return 42;
}
