-- traffic_gif.lua: one episode of the idm_driver among traffic, as an
-- animated GIF artifact (env:render() frames, the ego in red). It looks
-- through seeded episodes for one in which the ego ends in another lane than
-- it began in, so the picture shows MOBIL at work, then replays that seed
-- while rendering.
--
--   daydream run scenarios/traffic_gif.lua --set gif_path=docs/traffic_episode.gif
--   daydream query "SELECT name, media_type, size FROM artifacts WHERE run_id = 1"

local cfg = dd.config{
  lanes = 3,
  lane_width = 3.7,      -- m
  density = 25,          -- vehicles per km per lane
  length = 400,          -- road length (m)
  max_steps = 600,
  search = 200,          -- seeds tried for an episode that changes lanes
  every = 2,             -- keep every n-th step (dt 0.1 s)
  max_frames = 120,      -- at most this many frames in the GIF
  gif_path = "",         -- also write the GIF to this file when set
}

-- shared by the env and the driver, which must be told the env's road
local road = {lanes = cfg.lanes, lane_width = cfg.lane_width}
local env_params = {observation = "kinematics", kinematics_count = 8, density = cfg.density,
                    length = cfg.length, max_steps = cfg.max_steps}
for k, v in pairs(road) do env_params[k] = v end
local env <close> = dd.env("traffic", env_params)
local agent <close> = dd.learner("idm_driver", road, env)

-- Runs one episode; returns its last info, how many lane changes it made and
-- whether it ended in another lane than it began in. frames (when given)
-- collects every cfg.every-th rendered frame.
local function drive(seed, frames)
  local obs, info = env:reset{seed = seed}
  local lane, changes, t = math.floor(obs.state[2] / road.lane_width), 0, 0
  local first = lane
  repeat
    local terminated, truncated
    obs, _, terminated, truncated, info = env:step(agent:act(obs))
    t = t + 1
    local l = math.floor(obs.state[2] / road.lane_width)
    if l ~= lane then changes, lane = changes + 1, l end
    if frames and t % cfg.every == 0 and #frames < cfg.max_frames then
      frames[#frames + 1] = env:render()
    end
  until terminated or truncated
  return info, changes, lane ~= first
end

local chosen = run.seed * 100003 + 1
for i = 1, cfg.search do
  local seed = run.seed * 100003 + i
  local info, _, moved = drive(seed)
  if moved and info.success > 0.5 then chosen = seed break end
end

local frames = {}
local info, changes = drive(chosen, frames)
local _, w, h = env:render()
local bytes = dd.gif(frames, w, h, 10 * cfg.every)   -- real time: 0.1 s per step
run:artifact("traffic_episode.gif", "image/gif", bytes)
if cfg.gif_path ~= "" then assert(io.open(cfg.gif_path, "wb")):write(bytes):close() end
run:log("gif_seed", chosen)
run:log("gif_lane_changes", changes)
print(string.format("run %d: seed %d, %d lane change(s), %.0f m, %s; %d frames of %dx%d, %d bytes",
  run.id, chosen, changes, info.distance,
  info.success > 0.5 and "success" or info.collision > 0.5 and "collision" or "not finished",
  #frames, w, h, #bytes))
