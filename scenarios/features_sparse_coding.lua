-- features_sparse_coding.lua: a dictionary of sparse coding learned from
-- natural-image patches (skimage's photographs, cut and contrast-normalised
-- by the `images` env) with the `sparse_coding` learner: FISTA infers each
-- batch's codes, a projected gradient step moves the unit-norm atoms. The
-- atoms become localised, oriented, Gabor-like edges. Logs the energy,
-- reconstruction error and active atoms per update; stores the atoms as a
-- PNG grid in the artifacts and a checkpoint every tenth of the run.
--
--   daydream run scenarios/features_sparse_coding.lua --set updates=500
--   daydream query "SELECT step, value FROM metrics WHERE run_id = 1 AND name = 'energy'"

local cfg = dd.config{
  patch = 12,            -- side of the square patches
  atoms = 256,           -- dictionary size (about twice overcomplete for 12x12)
  lambda = 1.0,          -- sparsity weight in ||y - W z||^2 + lambda ||z||_1
  method = "fista",      -- fista | ista
  updates = 2000,        -- dictionary steps
  batch = 256,           -- patches per step
  num_envs = 16,         -- env instances stepped as one batch
  dictionary = "",       -- also keep the dictionary in this file (for lista, psd)
}
assert(cfg.batch % cfg.num_envs == 0, "batch must be a multiple of num_envs")

local png = os.tmpname()
local dict = cfg.dictionary ~= "" and cfg.dictionary or os.tmpname()
local env <close> = dd.env("images", {source = "patches", patch = cfg.patch,
                                      normalize = "standardize", episode_length = 1000},
                           {num = cfg.num_envs})
local sc <close> = dd.learner("sparse_coding", {atoms = cfg.atoms, lambda = cfg.lambda,
  method = cfg.method, batch = cfg.batch, export_dictionary = dict, export_png = png}, env)

local done = run:restore(sc) or 0
local chunk = math.max(1, cfg.updates // 10)
local r
while done < cfg.updates do
  local n = math.min(chunk, cfg.updates - done)
  r = dd.rollout(env, sc, {steps = n * cfg.batch, update_every = cfg.batch // cfg.num_envs,
                           log = false})
  done = done + n
  run:checkpoint(sc, done)   -- also writes the dictionary file and the PNG
end
if r then
  print(string.format("%d atoms of %dx%d after %d updates: energy %.3f, squared error %.3f, "
                      .. "%.1f active atoms per patch", cfg.atoms, cfg.patch, cfg.patch, done,
                      r.metrics.energy, r.metrics.sq_error, r.metrics.active))
end

local f = assert(io.open(png, "rb"))
run:artifact("sparse_coding_dictionary.png", "image/png", f:read("a"))
f:close()
os.remove(png)
if cfg.dictionary == "" then os.remove(dict) end
