-- features_lista.lua: Gregor & LeCun's LISTA result table, on natural-image
-- patches. A sparse-coding dictionary is learned first (or read from a
-- file); then, for each depth T, a `lista` encoder (ISTA unrolled T times,
-- W_e, S and the thresholds learned by back-propagation through time) is
-- trained to predict the optimal codes of that dictionary (FISTA to
-- convergence). All encoders are measured on the same held-out patches.
--
-- Written to the run store, the table (relative code error
-- sum ||z - z*||^2 / sum ||z*||^2, step = iterations):
--   ista_error, fista_error   the baselines after k = 1 .. baseline_iters iterations
--   lista_error               each trained encoder, at step T
--   lista_fista_iters         FISTA iterations that reach that error, at step T
--   lista_T<T>_error ...      each encoder's learning curve (step = update)
--
--   daydream run scenarios/features_lista.lua
--   daydream query "SELECT name, step, value FROM metrics WHERE run_id = 1 AND
--     name IN ('ista_error', 'fista_error', 'lista_error') AND step IN (1, 2, 5, 10, 20, 50, 100)
--     ORDER BY step, name"

local cfg = dd.config{
  patch = 10,             -- side of the square patches
  atoms = 100,            -- dictionary size
  lambda = 1.0,           -- sparsity weight of the codes to predict
  dict_updates = 1000,    -- sparse_coding steps of 256 patches (0: read `dictionary`)
  dictionary = "",        -- a dictionary file (sparse_coding's export_dictionary)
  depths = "1,2,5,10",    -- the T of each LISTA encoder
  train = 100000,         -- training patches (optimal codes computed once); 20,000
                          -- over-fit T = 10 (held-out error 0.063 vs 0.038 in training)
  eval = 1000,            -- held-out patches
  updates = 600,          -- updates per encoder, each `steps` Adam steps
  steps = 20,
  batch = 64,             -- patches per Adam step
  lr = 0.003,             -- Adam's learning rate, decayed along a cosine ...
  lr_final = 0.00001,     -- ... to this at the last update (schedules.cosine)
  baseline_iters = 1000,  -- length of the ISTA/FISTA curves
  num_envs = 50,
}

-- The patches never end an episode, so every env made below resets to the
-- same seed: each encoder sees the same held-out and training patches.
local function patches()
  return dd.env("images", {source = "patches", patch = cfg.patch, normalize = "standardize",
                           episode_length = 1000000000}, {num = cfg.num_envs})
end

local dict = cfg.dictionary
if cfg.dict_updates > 0 then
  dict = os.tmpname()
  local env <close> = patches()
  local sc <close> = dd.learner("sparse_coding", {atoms = cfg.atoms, lambda = cfg.lambda,
                                 batch = 250, export_dictionary = dict}, env)
  dd.rollout(env, sc, {steps = cfg.dict_updates * 250, update_every = 250 // cfg.num_envs,
                       log = false})
  run:checkpoint(sc)  -- writes the dictionary file
end
assert(dict ~= "", "give dict_updates > 0 or a dictionary file")

local schedules = require "schedules"
local samples = cfg.eval + cfg.train
print(string.format("%-6s %-12s %-12s %-12s %-22s", "T", "LISTA", "ISTA(T)", "FISTA(T)",
                    "FISTA iterations to match"))
local first = true
for depth in cfg.depths:gmatch("%d+") do
  local T = tonumber(depth)
  local env <close> = patches()
  local lista <close> = dd.learner("lista", {dictionary = dict, atoms = cfg.atoms,
    lambda = cfg.lambda, unroll = T, eval_size = cfg.eval, pool = cfg.train, steps = cfg.steps,
    batch = cfg.batch, lr = cfg.lr, baseline_iters = cfg.baseline_iters,
    log_baselines = first}, env, {label = "lista_T" .. T})
  first = false
  -- fill the held-out set and the pool (no update until all are in), then train
  dd.rollout(env, lista, {steps = samples, update_every = samples // cfg.num_envs, log = false})
  local lr = schedules.cosine(cfg.lr, cfg.lr_final, cfg.updates)
  local m
  for u = 1, cfg.updates - 1 do
    lista:set{lr = lr(u)}
    m = lista:update()
  end
  local p = "lista_T" .. T .. "_"
  run:log("lista_error", m[p .. "error"], T)
  run:log("lista_fista_iters", m[p .. "fista_iters"], T)
  run:checkpoint(lista, T)
  print(string.format("%-6d %-12.4f %-12.4f %-12.4f %d (%.1f x T)", T, m[p .. "error"],
                      m[p .. "ista_error"], m[p .. "fista_error"], m[p .. "fista_iters"],
                      m[p .. "fista_multiple"]))
end
if cfg.dict_updates > 0 then os.remove(dict) end
