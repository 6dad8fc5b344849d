-- features_psd.lua: Predictive Sparse Decomposition on Fashion-MNIST (or
-- natural-image patches) with the `psd` learner: sparse coding whose codes
-- a fast encoder (shrinkage, or the paper's g tanh) learns to predict, both
-- trained together without labels, then a fine-tuning phase of the encoder
-- alone (dictionary frozen) on the energy at its own codes as well
-- (encoder_energy), which is what encode() gives. Prints the energy, the
-- encoder's relative prediction error, its own codes' energy and the active
-- units at each epoch; stores the decoder's atoms as a PNG grid and a
-- checkpoint. (tests/learners/sparse/test_psd.c feeds the encoder's codes
-- to a linear classifier; bench/bench_psd.c times it against FISTA.)
--
--   daydream run scenarios/features_psd.lua --set epochs=1
--   daydream query "SELECT step, value FROM metrics WHERE run_id = 1 AND name = 'prediction_error'"

local cfg = dd.config{
  source = "fashion_mnist",  -- fashion_mnist | patches
  atoms = 512,               -- code units (and atoms of the decoder)
  lambda = 0.5,              -- sparsity weight
  alpha = 1.0,               -- weight of ||z - F(y)||^2
  iters = 25,                -- FISTA iterations per update, started from F(y)
  encoder = "shrink",        -- shrink: h_theta(W_e y + b) | tanh: g tanh(W_e y + b)
  encoder_steps = 1,         -- Adam steps of the encoder per update
  dict_lr = 0.01,            -- the dictionary's learning rate at the start,
  dict_lr_final = 0.0,       -- and at the end (cosine decay)
  chunk = 20,                -- updates between learning-rate changes
  images = 60000,            -- images per epoch (fashion_mnist's training set)
  epochs = 3,
  tune_epochs = 1,           -- then epochs of fine-tuning: W_d frozen, the encoder
  encoder_energy = 10,       -- on its own codes' energy with this weight,
  tune_lr = 3e-4,            -- its learning rate warming up over an epoch, then cosine to 0
  batch = 250,
  num_envs = 25,
}
assert(cfg.batch % cfg.num_envs == 0, "batch must be a multiple of num_envs")

local png = os.tmpname()
local env <close> = dd.env("images", {source = cfg.source, normalize = "standardize",
                                      episode_length = 1000}, {num = cfg.num_envs})
local psd <close> = dd.learner("psd", {atoms = cfg.atoms, lambda = cfg.lambda,
  alpha = cfg.alpha, iters = cfg.iters, encoder = cfg.encoder,
  encoder_steps = cfg.encoder_steps, dict_lr = cfg.dict_lr, batch = cfg.batch,
  export_png = png}, env)

-- The dictionary's learning rate decays (cosine) to dict_lr_final over the
-- run, set every `chunk` updates: as the dictionary settles, the encoder,
-- whose rate stays, catches up with it and predicts its codes better.
local schedules = require "schedules"
local per_epoch = cfg.images // cfg.batch
local total = cfg.epochs * per_epoch
local dict_lr = schedules.cosine(cfg.dict_lr, cfg.dict_lr_final, total)
-- Fine-tuning: a fresh optimiser (set by encoder_energy) would take steps
-- of tune_lr on every weight at once, so its rate warms up first.
local tune_total = cfg.tune_epochs * per_epoch
local warm = schedules.linear(cfg.tune_lr / per_epoch, cfg.tune_lr, per_epoch)
local decay = schedules.cosine(1, 0, tune_total)
local done = run:restore(psd) or 0
while done < total + tune_total do
  local n = math.min(cfg.chunk, per_epoch - done % per_epoch)
  if done < total then
    psd:set{dict_lr = dict_lr(done)}
  else
    local t = done - total
    psd:set{dict_lr = 0, encoder_energy = cfg.encoder_energy, encoder_lr = warm(t) * decay(t)}
  end
  local r = dd.rollout(env, psd, {steps = n * cfg.batch,
                                  update_every = cfg.batch // cfg.num_envs, log = false})
  done = done + n
  if done % per_epoch == 0 then
    run:checkpoint(psd, done)  -- also writes the PNG
    print(string.format("epoch %d%s: energy %.3f, prediction error %.3f, encoder's energy "
                        .. "%.3f, %.1f active of %d", done // per_epoch,
                        done > total and " (fine-tuning)" or "", r.metrics.energy,
                        r.metrics.prediction_error, r.metrics.encoder_energy, r.metrics.active,
                        cfg.atoms))
  end
end

local f = assert(io.open(png, "rb"))
run:artifact("psd_decoder.png", "image/png", f:read("a"))
f:close()
os.remove(png)
