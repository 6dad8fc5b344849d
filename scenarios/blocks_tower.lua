-- blocks_tower.lua: will it fall? Random block towers (the `blocks` env in
-- tower mode) run under physics; each tower's `falls` label is compared
-- with the analytic static-stability criterion (its `margin` > 0), and one
-- falling tower is stored as an animated GIF in the run's artifacts.
--
--   daydream run scenarios/blocks_tower.lua --set towers=500
--   daydream query "SELECT name, value FROM latest_metrics WHERE run_id = 1"
--   daydream query "SELECT name, media_type, size FROM artifacts WHERE run_id = 1"


local cfg = dd.config{
  towers = 100,          -- towers to simulate
  max_blocks = 4,        -- 2..max_blocks blocks per tower
  stable_share = 0.5,    -- share of towers drawn to stand
  seconds = 3,           -- simulated time per tower
  hair = 0.02,           -- towers with |margin| below this (m) are too close to call
  gif_scale = 2,         -- GIF frames are 64 px times this
  gif_every = 2,         -- keep every n-th step in the GIF
  gif_path = "",         -- also write the GIF to this file when set
}

local steps = math.floor(cfg.seconds * 30 + 0.5)   -- 30 env steps per second
local env <close> = dd.env("blocks", {
  mode = "tower", obs = "state", max_blocks = cfg.max_blocks,
  stable_share = cfg.stable_share, max_steps = steps, render_scale = cfg.gif_scale,
})

-- Runs one tower to its end; frames (when given) collects rendered frames.
local function simulate(seed, frames)
  local _, info = env:reset{seed = seed}
  local margin = info.margin
  for t = 1, steps do
    local truncated
    _, _, _, truncated, info = env:step(0)   -- tower mode ignores the action
    if frames and t % cfg.gif_every == 1 then frames[#frames + 1] = env:render() end
    if truncated then break end
  end
  return margin, info
end

local falls, judged, agree, moved = 0, 0, 0, 0
local falling_seed
for i = 1, cfg.towers do
  local seed = run.seed * 100003 + i
  local margin, info = simulate(seed)
  falls = falls + info.falls
  moved = moved + info.moved_max
  if math.abs(margin) >= cfg.hair then
    judged = judged + 1
    if (info.falls > 0.5) == (margin < 0) then agree = agree + 1 end
  end
  if not falling_seed and info.falls > 0.5 and margin < -0.1 then falling_seed = seed end
end
run:log("fall_rate", falls / cfg.towers, cfg.towers)
run:log("criterion_agreement", judged > 0 and agree / judged or 0, cfg.towers)
run:log("mean_moved_max", moved / cfg.towers, cfg.towers)

if falling_seed then
  local frames = {}
  simulate(falling_seed, frames)
  local w, h = 64 * cfg.gif_scale, 64 * cfg.gif_scale
  local delay_cs = math.floor(100 * cfg.gif_every / 30 + 0.5)   -- real time
  local bytes = dd.gif(frames, w, h, delay_cs)
  run:artifact("falling_tower.gif", "image/gif", bytes)
  if cfg.gif_path ~= "" then
    local f = assert(io.open(cfg.gif_path, "wb"))
    f:write(bytes)
    f:close()
  end
end

print(string.format("run %d: %d towers, %.0f%% fell; the falls label agrees with the "
  .. "static-stability criterion on %d of %d (%.1f%%)", run.id, cfg.towers,
  100 * falls / cfg.towers, agree, judged, judged > 0 and 100 * agree / judged or 0))
