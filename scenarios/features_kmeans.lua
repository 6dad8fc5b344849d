-- features_kmeans.lua: k-means on Fashion-MNIST, the images streamed through
-- the `images` env into the `kmeans` learner (dd.rollout, all in C). Logs the
-- objective per Lloyd iteration and the clusters' purity against the labels
-- (beside the purity of a random assignment), and stores the centres as a
-- PNG grid in the run's artifacts.
--
--   daydream run scenarios/features_kmeans.lua --set k=20 --set method=minibatch
--   daydream query "SELECT name, value FROM latest_metrics WHERE run_id = 1"

local cfg = dd.config{
  k = 10,               -- clusters
  samples = 60000,      -- training images streamed (the first ones, in order)
  method = "lloyd",     -- lloyd | minibatch
  init = "kmeans++",    -- kmeans++ | first
  iterations = 300,     -- Lloyd iterations at most (stops when no image changes cluster)
  batch_size = 1024,    -- mini-batch size
}

local png = os.tmpname()
local env <close> = dd.env("images", {source = "fashion_mnist", order = "sequential",
                                      limit = cfg.samples, episode_length = cfg.samples})
local km <close> = dd.learner("kmeans", {k = cfg.k, method = cfg.method, init = cfg.init,
                                         iterations = cfg.iterations, batch_size = cfg.batch_size,
                                         memory = cfg.samples, filters_png = png}, env)

-- Stream every image once; the only update (the fit) comes after.
dd.rollout(env, km, {steps = cfg.samples, update_every = cfg.samples + 1, log = false})
local m = km:update()
print(string.format("k = %d: objective %.3f, purity %.3f (random assignment %.3f), %d iterations",
                    cfg.k, m.objective, m.purity, m.purity_random, m.iterations or 0))

local f = assert(io.open(png, "rb"))
run:artifact("kmeans_centres.png", "image/png", f:read("a"))
f:close()
os.remove(png)
