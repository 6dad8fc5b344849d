/*
** plugin.c -- the traffic baselines' one shared object: the descriptors of
** its two learners, `idm_driver` (idm_driver.c) and `no_action`
** (no_action.c).
*/
#include <daydream/plugin.h>

extern const dd_param_spec tb_idm_driver_params[];
extern const dd_learner_vtable tb_idm_driver_vtable, tb_no_action_vtable;

static const dd_plugin idm_driver = {
	DD_PLUGIN_HEADER,
	.name = "idm_driver",
	.kind = DD_KIND_LEARNER,
	.version = "1.0.0",
	.summary = "traffic baseline: drives the ego by IDM + MOBIL from the kinematics "
	           "observation (parameters must match the env's)",
	.params = tb_idm_driver_params,
	.learner = &tb_idm_driver_vtable,
};

static const dd_plugin no_action = {
	DD_PLUGIN_HEADER,
	.name = "no_action",
	.kind = DD_KIND_LEARNER,
	.version = "1.0.0",
	.summary = "every action component 0: in traffic, constant speed straight on (a baseline)",
	.learner = &tb_no_action_vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&idm_driver, &no_action, NULL};
	return list;
}
