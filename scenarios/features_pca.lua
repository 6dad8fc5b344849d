-- features_pca.lua: principal components of natural-image patches (skimage's
-- photographs, cut by the `images` env) with the `pca` learner. Logs the
-- explained-variance ratio of each component and the reconstruction error
-- |W'W y - y|^2, and stores the components as a PNG grid in the artifacts:
-- low spatial frequencies first, like a 2-D Fourier basis.
--
--   daydream run scenarios/features_pca.lua --set method=online
--   daydream query "SELECT name, value FROM latest_metrics WHERE run_id = 1"

local cfg = dd.config{
  patch = 12,           -- side of the square patches
  components = 64,      -- principal components kept
  samples = 100000,     -- patches streamed
  method = "batch",     -- batch (exact eigen-decomposition) | online (incremental PCA)
  num_envs = 16,        -- env instances stepped as one batch
}

local png = os.tmpname()
local env <close> = dd.env("images", {source = "patches", patch = cfg.patch, normalize = "centre",
                                      episode_length = 1000}, {num = cfg.num_envs})
local pca <close> = dd.learner("pca", {n_components = cfg.components, method = cfg.method,
                                       filters_png = png}, env)

dd.rollout(env, pca, {steps = cfg.samples, update_every = cfg.samples, log = false})
local m = pca:update()
print(string.format("%d components of %dx%d patches: %.1f%% of the variance (first: %.1f%%), "
                    .. "reconstruction error %.3g of %.3g", cfg.components, cfg.patch, cfg.patch,
                    100 * m.explained_variance, 100 * m.evr_1, m.recon_error, m.total_variance))

local f = assert(io.open(png, "rb"))
run:artifact("pca_components.png", "image/png", f:read("a"))
f:close()
os.remove(png)
