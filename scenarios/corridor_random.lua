-- corridor_random.lua: the first end-to-end loop of Daydream.
-- A random walker in the `corridor` env: episodes run in C (dd.rollout) and
-- land in the run store; a checkpoint is written after every chunk, so
-- `daydream run --resume RUN` continues where an interrupted run stopped.
--
--   daydream run scenarios/corridor_random.lua --set episodes=1000
--   daydream query "SELECT step, value FROM metrics WHERE run_id = 1 AND name = 'success_rate'"

local report = require("report")

local cfg = dd.config{
  episodes = 500,         -- episodes in all
  chunk = 100,            -- episodes between checkpoints
  length = 10,            -- corridor length (cells)
  slip = 0.1,             -- chance that a move goes the other way
  num_envs = 4,           -- env instances stepped as one batch
}

local env <close> = dd.env("corridor", {length = cfg.length, slip = cfg.slip},
                           {num = cfg.num_envs})
local agent <close> = dd.learner("random", {}, env)

local done = run:restore(agent) or 0   -- episodes done before a --resume
while done < cfg.episodes do
  local n = math.min(cfg.chunk, cfg.episodes - done)
  local r = dd.rollout(env, agent, {episodes = n})
  done = done + n
  run:log("mean_return", r.mean_return, done)
  run:log("success_rate", r.success_rate, done)
  run:log("steps_per_second", r.steps_per_second, done)
  run:checkpoint(agent, done)
end

report.summary(run, cfg.episodes)
