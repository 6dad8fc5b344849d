-- video_stream.lua: clips streamed in batches, the way a video-prediction
-- learner consumes them: `num_envs` instances of the video env stepped as
-- one batch by dd.rollout (in C), each episode one clip. The env is passive,
-- so the `random` learner's actions change nothing. Instances reading one
-- file share a single decode and a bounded frame cache (cache_mb).
--
--   daydream run scenarios/video_stream.lua --set source=digits
--   daydream run scenarios/video_stream.lua --set source=file --set path=vtest.avi
--   daydream query "SELECT avg(length) FROM episodes WHERE run_id = 1"

local cfg = dd.config{
  source = "objects",    -- balls | digits | objects | file
  path = "",             -- the video for source = file
  clips = 64,            -- episodes in all
  clip_length = 16,
  size = 64,
  color = "gray",        -- gray | rgb
  num_envs = 8,
  cache_mb = 256,
}

local t0 = os.clock()
local env <close> = dd.env("video", {source = cfg.source, path = cfg.path, color = cfg.color,
                                     clip_length = cfg.clip_length, width = cfg.size,
                                     height = cfg.size, cache_mb = cfg.cache_mb},
                           {num = cfg.num_envs})
local opened = os.clock() - t0                            -- a file is decoded here, once
local agent <close> = dd.learner("random", {}, env)
local r = dd.rollout(env, agent, {episodes = cfg.clips, train = false})
-- each step delivers one frame per instance; reset delivers one more per clip
local frames = r.steps + r.episodes
run:log("frames_per_second", frames / r.seconds, cfg.clips)
run:log("open_seconds", opened, cfg.clips)
print(string.format("%s: opened in %.2f s; %d clips of %d frames, %d frames in %.3f s "
                    .. "(%.0f frames/s)", cfg.source, opened, r.episodes, cfg.clip_length,
                    frames, r.seconds, frames / r.seconds))
