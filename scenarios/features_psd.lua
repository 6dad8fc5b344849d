-- features_psd.lua: Predictive Sparse Decomposition on Fashion-MNIST (or
-- natural-image patches) with the `psd` learner: sparse coding whose codes
-- a fast shrinkage encoder learns to predict, both trained together without
-- labels. Logs the energy, the encoder's relative prediction error and the
-- active units per update; stores the decoder's atoms as a PNG grid and a
-- checkpoint. (tests/learners/sparse/test_psd.c feeds the encoder's codes
-- to a linear classifier; bench/bench_fista.c times it against FISTA.)
--
--   daydream run scenarios/features_psd.lua --set epochs=1
--   daydream query "SELECT step, value FROM metrics WHERE run_id = 1 AND name = 'prediction_error'"

local cfg = dd.config{
  source = "fashion_mnist",  -- fashion_mnist | patches
  atoms = 512,               -- code units (and atoms of the decoder)
  lambda = 0.5,              -- sparsity weight
  alpha = 1.0,               -- weight of ||z - F(y)||^2
  iters = 25,                -- FISTA iterations per update, started from F(y)
  images = 60000,            -- images per epoch (fashion_mnist's training set)
  epochs = 3,
  batch = 250,
  num_envs = 25,
}
assert(cfg.batch % cfg.num_envs == 0, "batch must be a multiple of num_envs")

local png = os.tmpname()
local env <close> = dd.env("images", {source = cfg.source, normalize = "standardize",
                                      episode_length = 1000}, {num = cfg.num_envs})
local psd <close> = dd.learner("psd", {atoms = cfg.atoms, lambda = cfg.lambda,
  alpha = cfg.alpha, iters = cfg.iters, batch = cfg.batch, export_png = png}, env)

local done = run:restore(psd) or 0
local per_epoch = cfg.images // cfg.batch
while done < cfg.epochs * per_epoch do
  local r = dd.rollout(env, psd, {steps = per_epoch * cfg.batch,
                                  update_every = cfg.batch // cfg.num_envs, log = false})
  done = done + per_epoch
  run:checkpoint(psd, done)  -- also writes the PNG
  print(string.format("epoch %d: energy %.3f, prediction error %.3f, %.1f active of %d",
                      done // per_epoch, r.metrics.energy, r.metrics.prediction_error,
                      r.metrics.active, cfg.atoms))
end

local f = assert(io.open(png, "rb"))
run:artifact("psd_decoder.png", "image/png", f:read("a"))
f:close()
os.remove(png)
