-- features_lista.lua: Gregor & LeCun's LISTA result table, on natural-image
-- patches. A sparse-coding dictionary is learned first (or read from a
-- file); then one `lista` encoder (ISTA unrolled, W_e, S and the thresholds
-- learned by back-propagation through time) is trained stage-wise to
-- predict the optimal codes of that dictionary (coordinate descent to
-- convergence): depth T = 1 first, then each deeper encoder starts from the
-- trained shallower one, its new steps initialised as ISTA's. Untied, each
-- step has its own S and thresholds. Every depth is measured on the same
-- held-out patches as ISTA and FISTA.
--
-- Written to the run store, the table (relative code error
-- sum ||z - z*||^2 / sum ||z*||^2, step = iterations):
--   ista_error, fista_error   the baselines after k = 1 .. baseline_iters iterations
--   lista_error               the encoder of each depth T, at step T
--   lista_fista_iters         FISTA iterations that reach that error, at step T
--   lista_T<T>_error ...      each stage's learning curve (step = update)
--   optimal_active            non-zero optimal codes per patch (step 0)
-- The checkpoint of step T is the encoder after stage T (restore it, then
-- learner:set{depth = T}).
--
--   daydream run scenarios/features_lista.lua
--   daydream query "SELECT name, step, value FROM metrics WHERE run_id = 1 AND
--     name IN ('ista_error', 'fista_error', 'lista_error') AND step IN (1, 2, 5, 10, 20, 50, 100)
--     ORDER BY step, name"

local cfg = dd.config{
  patch = 10,             -- side of the square patches
  atoms = 400,            -- dictionary size (4x overcomplete)
  dict_lambda = 1.0,      -- sparsity weight of the dictionary learning
  lambda = 0.1,           -- sparsity weight of the codes to predict (and of ISTA/FISTA)
  dict_updates = 1000,    -- sparse_coding steps of 250 patches (0: read `dictionary`)
  dictionary = "",        -- a dictionary file (sparse_coding's export_dictionary)
  depths = "1,2,5,10",    -- the T of each stage, increasing
  untied = true,          -- each step its own S and thresholds
  train = 150000,         -- training patches (optimal codes computed once); 10,000
                          -- over-fit (lambda 0.25: held-out error at T = 5 0.25, 0.18 with 50,000)
  eval = 1000,            -- held-out patches
  updates = 400,          -- updates per stage, each `steps` Adam steps
  steps = 20,
  batch = 64,             -- patches per Adam step
  lr = 0.001,             -- Adam's learning rate at the start of stage T, times 5/T beyond
                          -- T = 5 (at 0.001, T = 10 may diverge), decayed along a cosine ...
  lr_final = 0.00001,     -- ... to this at the stage's last update (schedules.cosine)
  baseline_iters = 1000,  -- length of the ISTA/FISTA curves
  num_envs = 50,
}

local function patches()
  return dd.env("images", {source = "patches", patch = cfg.patch, normalize = "standardize",
                           episode_length = 1000000000}, {num = cfg.num_envs})
end

local dict = cfg.dictionary
if cfg.dict_updates > 0 then
  dict = os.tmpname()
  local env <close> = patches()
  local sc <close> = dd.learner("sparse_coding", {atoms = cfg.atoms, lambda = cfg.dict_lambda,
                                 batch = 250, export_dictionary = dict}, env)
  dd.rollout(env, sc, {steps = cfg.dict_updates * 250, update_every = 250 // cfg.num_envs,
                       log = false})
  run:checkpoint(sc)  -- writes the dictionary file
end
assert(dict ~= "", "give dict_updates > 0 or a dictionary file")

local depths = {}
for d in cfg.depths:gmatch("%d+") do depths[#depths + 1] = tonumber(d) end
local schedules = require "schedules"
local samples = cfg.eval + cfg.train
local env <close> = patches()
local lista <close> = dd.learner("lista", {dictionary = dict, atoms = cfg.atoms,
  lambda = cfg.lambda, unroll = depths[#depths], untied = cfg.untied, target_method = "cd",
  eval_size = cfg.eval, pool = cfg.train, steps = cfg.steps, batch = cfg.batch, lr = cfg.lr,
  baseline_iters = cfg.baseline_iters, log_baselines = true}, env)
-- fill the held-out set and the pool (no update until all are in)
dd.rollout(env, lista, {steps = samples, update_every = samples // cfg.num_envs, log = false})

print(string.format("%-6s %-12s %-12s %-12s %-22s", "T", "LISTA", "ISTA(T)", "FISTA(T)",
                    "FISTA iterations to match"))
for _, T in ipairs(depths) do
  lista:set{depth = T}
  local lr = schedules.cosine(cfg.lr * math.min(1, 5 / T), cfg.lr_final, cfg.updates - 1)
  local m
  for u = 0, cfg.updates - 1 do
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
