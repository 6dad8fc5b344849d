#!/usr/bin/python3
"""sklearn_sparse_encode.py -- the reference of bench/bench_fista.c: scikit-learn's
sparse_encode (lasso_cd and lasso_lars, n_jobs 1 and 2) on the bench's patches and
dictionary, at the same problem (sklearn's alpha = our lambda / 2).

Usage: sklearn_sparse_encode.py DIR ALPHA REPEATS
DIR holds X.f64 (rows x n), D.f64 (atoms x n) and shape.txt ("rows n atoms").
Prints one line per configuration: "config median min max" (seconds), then writes
the codes of the fastest configuration to DIR/codes.f64 and prints "best config".
"""
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import sparse_encode
from threadpoolctl import threadpool_limits


def main():
    # Flat patches (y = 0) make lasso_cd warn that a zero tolerance was not met.
    warnings.filterwarnings("ignore", message="Objective did not converge")
    d, alpha, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    rows, n, atoms = (int(v) for v in open(os.path.join(d, "shape.txt")).read().split())
    X = np.fromfile(os.path.join(d, "X.f64")).reshape(rows, n)
    D = np.fromfile(os.path.join(d, "D.f64")).reshape(atoms, n)
    results = {}
    for algo in ("lasso_lars", "lasso_cd"):
        for jobs in (1, 2):
            # BLAS threads times processes never exceeds the 2 cores
            with threadpool_limits(limits=2 // jobs):
                sparse_encode(X[:200], D, algorithm=algo, alpha=alpha, n_jobs=jobs)  # warm-up
                times = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    codes = sparse_encode(X, D, algorithm=algo, alpha=alpha, n_jobs=jobs)
                    times.append(time.perf_counter() - t)
            name = "%s,n_jobs=%d" % (algo, jobs)
            results[name] = (statistics.median(times), codes)
            print("%s %.4f %.4f %.4f" % (name, statistics.median(times), min(times), max(times)),
                  flush=True)
    best = min(results, key=lambda k: results[k][0])
    results[best][1].astype(np.float64).tofile(os.path.join(d, "codes.f64"))
    print("best %s" % best, flush=True)


if __name__ == "__main__":
    main()
