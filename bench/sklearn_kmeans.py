"""sklearn_kmeans.py -- the reference of bench_kmeans.c: scikit-learn's
KMeans, algorithm "lloyd" and "elkan" (its two exact ones: the same
iterations, elkan skipping distances by bounds), on the same Fashion-MNIST
images (float32 in [0, 1]) from the same initial centres (the first k
images), timed per iteration as (t(max_iter=hi) - t(max_iter=lo)) /
(hi - lo), so the fit's fixed costs (input checks, centring, the last
E-step) cancel out.

Run by bench_kmeans with /usr/bin/python3 (Debian's python3-sklearn):
    sklearn_kmeans.py IDX_GZ N K LO HI REPEATS EXTRA_ITERS
Prints one line per algorithm and thread count:
    ALGO threads T per_iter_ms MEDIAN MIN MAX objective OBJ
where OBJ is the mean squared distance of the images to their centres after
EXTRA_ITERS iterations, in float64 (scikit-learn's inertia_ sums in float32).
"""
import gzip
import sys
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits


def load(path, n):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784)[:n]
    return (x.astype(np.float32) / np.float32(255.0)).copy()


def fit_time(x, init, iters, algorithm):
    km = KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=iters, tol=0.0,
                algorithm=algorithm, copy_x=True)
    t0 = time.perf_counter()
    km.fit(x)
    return time.perf_counter() - t0, km


def main():
    path, n, k, lo, hi, reps, extra = sys.argv[1], *map(int, sys.argv[2:8])
    x = load(path, n)
    init = x[:k].copy()
    warnings.simplefilter("ignore")  # "did not converge" is the point here
    for algorithm in ("lloyd", "elkan"):
        for threads in (1, 2):
            with threadpool_limits(limits=threads):
                fit_time(x, init, lo, algorithm)  # warm-up: imports, page faults
                per = []
                for _ in range(reps):
                    t_lo, _ = fit_time(x, init, lo, algorithm)
                    t_hi, km = fit_time(x, init, hi, algorithm)
                    assert km.n_iter_ == hi, "converged before max_iter: raise N or lower HI"
                    per.append((t_hi - t_lo) / (hi - lo))
                _, km = fit_time(x, init, extra, algorithm)
                per.sort()
                c = km.cluster_centers_.astype(np.float64)
                obj = sum(float(np.sum((x[i:i + 5000] - c[km.labels_[i:i + 5000]]) ** 2))
                          for i in range(0, n, 5000)) / n
                print("%s threads %d per_iter_ms %.4f %.4f %.4f objective %.6f"
                      % (algorithm, threads, 1e3 * per[len(per) // 2], 1e3 * per[0], 1e3 * per[-1], obj),
                      flush=True)


if __name__ == "__main__":
    main()
