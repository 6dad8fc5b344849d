-- traffic_random.lua: a random driver on a busy three-lane highway.
-- The ego (a kinematic bicycle) takes over one car among IDM/MOBIL traffic;
-- the `random` learner picks (acceleration, steering) uniformly. Episodes
-- end on a collision, off the road, at the end of the road (success) or at
-- the step limit. Each episode's last info stats (distance, collision,
-- off_road, success, costs) are kept in episodes.info as JSON.
--
--   daydream run scenarios/traffic_random.lua --set episodes=200
--   daydream query "SELECT avg(json_extract(info, '$.collision')) AS collision,
--                   avg(json_extract(info, '$.distance')) AS distance
--                   FROM episodes WHERE run_id = 1"

local cfg = dd.config{
  episodes = 100,       -- episodes in all
  num_envs = 4,         -- env instances stepped as one batch
  lanes = 3,
  density = 25,         -- vehicles per km per lane
  length = 400,         -- road length (m): reaching it is a success
  max_steps = 600,      -- 60 s at dt = 0.1
  learner = "random",   -- any learner for a 2-D box action
}

local env <close> = dd.env("traffic", {
  lanes = cfg.lanes, density = cfg.density, length = cfg.length,
  max_steps = cfg.max_steps,
}, {num = cfg.num_envs})
local agent <close> = dd.learner(cfg.learner, {}, env)

local r = dd.rollout(env, agent, {episodes = cfg.episodes})
run:log("mean_return", r.mean_return, cfg.episodes)
run:log("success_rate", r.success_rate, cfg.episodes)
run:log("mean_length", r.mean_length, cfg.episodes)
run:log("steps_per_second", r.steps_per_second, cfg.episodes)

print(string.format(
  "run %d: %d episodes of %s driving, mean return %.2f, success %.0f%%, "
  .. "%.0f steps per episode (%.1f s), %.0f env steps/s",
  run.id, r.episodes, cfg.learner, r.mean_return, 100 * r.success_rate,
  r.mean_length, 0.1 * r.mean_length, r.steps_per_second))
print(string.format("collision and off-road rates, distance: daydream query "
  .. "\"SELECT avg(json_extract(info, '$.collision')) AS collision, "
  .. "avg(json_extract(info, '$.off_road')) AS off_road, "
  .. "avg(json_extract(info, '$.distance')) AS distance FROM episodes WHERE run_id = %d\"",
  run.id))
