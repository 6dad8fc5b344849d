-- traffic_baselines.lua: the traffic env's baselines on the same episodes.
-- `idm_driver` drives the ego as the env drives every other car (IDM + MOBIL,
-- from the kinematics observation), `no_action` keeps speed and heading,
-- `random` picks uniform actions. Each logs success, collision and off-road
-- rates and the mean distance covered, as metrics named <learner>.<figure>.
--
-- Fairness: each learner's dd.rollout is given the run's seed, so episode i
-- of every learner starts from the same seed; a reset rebuilds the whole road
-- from its seed, so every learner meets the same traffic in episode i. The
-- episodes land in the run store with the learner's label.
--
--   daydream run scenarios/traffic_baselines.lua --set episodes=200
--   daydream query "SELECT name, value FROM latest_metrics WHERE run_id = 1"
--   daydream query "SELECT learner, avg(json_extract(info, '$.collision')) FROM episodes
--                   WHERE run_id = 1 GROUP BY learner"

local cfg = dd.config{
  episodes = 100,          -- episodes per learner
  lanes = 3,
  lane_width = 3.7,        -- m
  density = 25,            -- vehicles per km per lane
  length = 400,            -- road length (m): reaching it is a success
  max_steps = 600,         -- 60 s at dt = 0.1
  kinematics_count = 8,    -- vehicles the ego sees (MOBIL needs 6 around it)
  learners = "idm_driver,no_action,random",
}

-- The road and driver settings the env and the idm_driver share: the driver
-- knows the env only through them, so they must be the same values.
local road = {lanes = cfg.lanes, lane_width = cfg.lane_width}

local env_params = {observation = "kinematics", kinematics_count = cfg.kinematics_count,
                    density = cfg.density, length = cfg.length, max_steps = cfg.max_steps}
for k, v in pairs(road) do env_params[k] = v end
local env <close> = dd.env("traffic", env_params)

local learner_params = {idm_driver = road, no_action = {}, random = {}}

local results = {}
for name in cfg.learners:gmatch("[^,%s]+") do
  local agent <close> = dd.learner(name, learner_params[name] or {}, env)
  local r = dd.rollout(env, agent, {episodes = cfg.episodes, seed = run.seed, train = false})
  run:log(name .. ".success_rate", r.info.success, cfg.episodes)
  run:log(name .. ".collision_rate", r.info.collision, cfg.episodes)
  run:log(name .. ".off_road_rate", r.info.off_road, cfg.episodes)
  run:log(name .. ".mean_distance", r.info.distance, cfg.episodes)
  run:log(name .. ".mean_steps", r.mean_length, cfg.episodes)
  results[#results + 1] = string.format("%-10s %7.1f %% %7.1f %% %7.1f %% %7.1f m %6.0f",
    name, 100 * r.info.success, 100 * r.info.collision, 100 * r.info.off_road,
    r.info.distance, r.mean_length)
end

print(string.format("run %d: %d seeded episodes per learner (%d lanes, %g veh/km/lane, %g m)",
  run.id, cfg.episodes, cfg.lanes, cfg.density, cfg.length))
print(string.format("%-10s %9s %9s %9s %9s %6s", "learner", "success", "collision",
  "off-road", "distance", "steps"))
for _, line in ipairs(results) do print(line) end
