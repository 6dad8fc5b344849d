-- features_lista.lua: Gregor & LeCun's LISTA result table, on natural-image
-- patches. A sparse-coding dictionary is learned first (or read from a
-- file); then one `lista` encoder (ISTA unrolled, W_e, S and the thresholds
-- learned by back-propagation through time) is trained stage-wise to
-- predict the optimal codes of that dictionary (coordinate descent to
-- convergence): depth T = 1 first, then each deeper encoder starts from the
-- trained shallower one, its new steps initialised as ISTA's. Untied, each
-- step has its own S and thresholds. Every depth is measured on the same
-- held-out patches as ISTA and FISTA. Then an LCoD encoder (learned
-- coordinate descent, method = "lcod") of lcod_steps steps, against
-- coordinate descent with as many steps.
--
-- Written to the run store, the table (relative code error
-- sum ||z - z*||^2 / sum ||z*||^2, step = iterations):
--   ista_error, fista_error   the baselines after k = 1 .. baseline_iters iterations
--   lista_error               the encoder of each depth T, at step T
--   lista_fista_iters         FISTA iterations that reach that error, at step T
--   lista_T<T>_error ...      each stage's learning curve (step = update)
--   lcod_error, lcod_fista_iters, lcod_cd_error, lcod_cd_steps
--                             the LCoD encoder, coordinate descent with as many
--                             steps, and the steps coordinate descent needs to
--                             match it, at step lcod_steps (lcod_T<T>_*: its curve)
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
  updates = 400,          -- updates per stage, each `steps` Adam steps; T/5 times as many
                          -- beyond T = 5 (T = 10: 400 gave 0.152, 9.5 x T; 800: 0.128)
  steps = 20,
  batch = 64,             -- patches per Adam step
  lr = 0.001,             -- Adam's learning rate at the start of stage T, times 5/T beyond
                          -- T = 5 (at 0.001, T = 10 is unstable), decayed along a cosine ...
  lr_final = 0.00001,     -- ... to this at the stage's last update (schedules.cosine)
  baseline_iters = 1000,  -- length of the ISTA/FISTA curves
  lcod_steps = 50,        -- T of the LCoD encoder (0: none), trained after the LISTA stages ...
  lcod_train = 20000,     -- ... on these many training patches (held out: the same `eval`)
  lcod_updates = 200,     -- ... for these many updates (lr as LISTA's T = 1 stage)
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

-- Trains `learner` for `updates` updates, the learning rate from lr0 down
-- a cosine; returns the last update's metrics.
local schedules = require "schedules"
local function train(learner, lr0, updates)
  local lr = schedules.cosine(lr0, cfg.lr_final, updates - 1)
  local m
  for u = 0, updates - 1 do
    learner:set{lr = lr(u)}
    m = learner:update()
  end
  return m
end

local depths = {}
for d in cfg.depths:gmatch("%d+") do depths[#depths + 1] = tonumber(d) end
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
  local m = train(lista, cfg.lr * math.min(1, 5 / T),
                  math.floor(cfg.updates * math.max(1, T / 5)))
  local p = "lista_T" .. T .. "_"
  run:log("lista_error", m[p .. "error"], T)
  run:log("lista_fista_iters", m[p .. "fista_iters"], T)
  run:checkpoint(lista, T)
  print(string.format("%-6d %-12.4f %-12.4f %-12.4f %d (%.1f x T)", T, m[p .. "error"],
                      m[p .. "ista_error"], m[p .. "fista_error"], m[p .. "fista_iters"],
                      m[p .. "fista_multiple"]))
end

-- LCoD (learned coordinate descent): each step moves one code, O(atoms)
-- operations against O(atoms^2) for a LISTA step; its baseline is
-- coordinate descent with as many steps. A learner of its own, so its
-- training patches' optimal codes are computed again: fewer of them.
if cfg.lcod_steps > 0 then
  local T = cfg.lcod_steps
  local env2 <close> = patches()  -- the same stream: the same held-out patches first
  local lcod <close> = dd.learner("lista", {dictionary = dict, atoms = cfg.atoms,
    lambda = cfg.lambda, method = "lcod", unroll = T, target_method = "cd", eval_size = cfg.eval,
    pool = cfg.lcod_train, steps = cfg.steps, batch = cfg.batch, lr = cfg.lr,
    baseline_iters = cfg.baseline_iters}, env2, {label = "lcod"})
  local n = cfg.eval + cfg.lcod_train
  dd.rollout(env2, lcod, {steps = n, update_every = n // cfg.num_envs, log = false})
  local m = train(lcod, cfg.lr, cfg.lcod_updates)
  local p = "lcod_T" .. T .. "_"
  run:log("lcod_error", m[p .. "error"], T)
  run:log("lcod_fista_iters", m[p .. "fista_iters"], T)
  run:log("lcod_cd_error", m[p .. "cd_error"], T)
  run:log("lcod_cd_steps", m[p .. "cd_steps"], T)
  run:checkpoint(lcod, T)
  print(string.format("LCoD %-3d %-12.4f %-12.4f %-12.4f %d (%.1f x T); CD(T) %.4f, CD steps to "
                      .. "match %d (%.1f x T)", T, m[p .. "error"], m[p .. "ista_error"],
                      m[p .. "fista_error"], m[p .. "fista_iters"], m[p .. "fista_multiple"],
                      m[p .. "cd_error"], m[p .. "cd_steps"], m[p .. "cd_multiple"]))
end
if cfg.dict_updates > 0 then os.remove(dict) end
