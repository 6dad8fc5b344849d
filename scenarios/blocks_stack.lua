-- blocks_stack.lua: build a tower that stands (the `blocks` env in stack
-- mode). Each step drops the next block at an x the agent picks; the reward
-- is the gain in standing height, and a collapse ends the episode. Two
-- baselines: uniform random drops (the `random` learner, episodes run in C
-- by dd.rollout and recorded in `episodes`) and always dropping at the
-- centre (a Lua loop). A learner for this task is a later issue.
--
--   daydream run scenarios/blocks_stack.lua --set episodes=200
--   daydream query "SELECT avg(return), avg(length) FROM episodes WHERE run_id = 1"

local cfg = dd.config{
  episodes = 100,     -- episodes of each baseline
  blocks = 6,         -- blocks per episode (the budget)
  place_range = 1.5,  -- action -1..1 drops at x = -1.5..1.5 m
  num_envs = 4,       -- env instances stepped as one batch by dd.rollout
}

local params = {mode = "stack", obs = "state", max_blocks = cfg.blocks,
                place_range = cfg.place_range}
local env <close> = dd.env("blocks", params, {num = cfg.num_envs})
local agent <close> = dd.learner("random", {}, env)
local r = dd.rollout(env, agent, {episodes = cfg.episodes})
run:log("random_mean_height", r.mean_return, cfg.episodes)
run:log("random_mean_blocks", r.mean_length, cfg.episodes)

-- The centred baseline: one instance, stepped from Lua.
local one <close> = dd.env("blocks", params)
local height, placed = 0, 0
for i = 1, cfg.episodes do
  one:reset{seed = run.seed * 100003 + i}
  repeat
    local _, reward, terminated, truncated = one:step(0)
    height, placed = height + reward, placed + 1
  until terminated or truncated
end
run:log("centred_mean_height", height / cfg.episodes, cfg.episodes)
run:log("centred_mean_blocks", placed / cfg.episodes, cfg.episodes)

print(string.format("run %d: random drops reach %.2f m (%.1f blocks), centred drops %.2f m "
  .. "(%.1f blocks) of %d", run.id, r.mean_return, r.mean_length, height / cfg.episodes,
  placed / cfg.episodes, cfg.blocks))
