-- video_baselines.lua: how hard is a video source to predict? The baseline
-- every video-prediction paper beats first -- "the next frame is the current
-- one" -- scored with PSNR, SSIM and the sharpness difference of Mathieu et
-- al. (2016), frame by frame over `clips` clips. Logs the means per clip and
-- stores the first frame of the first clip as a PNG artifact.
--
--   daydream run scenarios/video_baselines.lua --set source=digits
--   daydream run scenarios/video_baselines.lua --set source=file --set path=vtest.avi
--   daydream query "SELECT name, avg(value) FROM metrics WHERE run_id = 1 GROUP BY name"

local cfg = dd.config{
  source = "balls",      -- balls | digits | objects | file
  path = "",             -- the video for source = file
  clips = 20,            -- clips scored
  clip_length = 10,      -- frames per clip
  size = 64,             -- frames are size x size
}

local env <close> = dd.env("video", {source = cfg.source, path = cfg.path,
                                     clip_length = cfg.clip_length,
                                     width = cfg.size, height = cfg.size})
local shape = env:spaces().obs[1].shape                      -- {c, h, w}

local totals = {psnr = 0, ssim = 0, sharpness = 0}
for clip = 1, cfg.clips do
  local obs = env:reset{seed = clip}
  if clip == 1 then
    local rgb, w, h = env:render()
    run:artifact("first_frame.png", "image/png", dd.png(rgb, w, h))
  end
  local sums = {psnr = 0, ssim = 0, sharpness = 0}
  for t = 1, cfg.clip_length - 1 do
    local next_obs = env:step(0)                             -- the action is ignored
    for name, metric in pairs{psnr = dd.psnr, ssim = dd.ssim, sharpness = dd.sharpness} do
      -- a frame identical to the last gives +inf dB; cap it for the means
      sums[name] = sums[name] + math.min(metric(obs.frame, next_obs.frame, shape), 99)
    end
    obs = next_obs
  end
  for name, s in pairs(sums) do
    local mean = s / (cfg.clip_length - 1)
    run:log("copy_last_" .. name, mean, clip)
    totals[name] = totals[name] + mean
  end
end

print(string.format("%s, copy-last-frame baseline over %d clips: PSNR %.2f dB, SSIM %.3f, "
                    .. "sharpness difference %.2f dB", cfg.source, cfg.clips,
                    totals.psnr / cfg.clips, totals.ssim / cfg.clips,
                    totals.sharpness / cfg.clips))
