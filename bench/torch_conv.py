#!/usr/bin/python3
"""torch_conv.py - the conv encoder of bench_conv.c in PyTorch (CPU), timed
the same way: forward + backward on a fixed batch (input without gradient,
a fixed upstream gradient), median of 15 after 3 warm-up steps.
bench_conv runs this itself so both figures come from the same run.
Usage: /usr/bin/python3 torch_conv.py THREADS. Prints one RESULT line, or
SKIP with the reason when PyTorch is missing."""
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as e:
    print(f"SKIP PyTorch not importable ({e}); install python3-torch (see BENCHMARKING.md)")
    sys.exit(0)

threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
torch.set_num_threads(threads)
torch.manual_seed(0)

enc = nn.Sequential(
    nn.Conv2d(3, 64, 4, 2, 1), nn.ReLU(),
    nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU(),
    nn.Conv2d(128, 256, 4, 2, 1), nn.ReLU(),
)
x = torch.randn(64, 3, 117, 24)
gy = torch.randn(64, 256, 14, 3)

times = []
for r in range(18):
    t0 = time.perf_counter()
    for p in enc.parameters():
        p.grad = None
    y = enc(x)
    y.backward(gy)
    if r >= 3:
        times.append(time.perf_counter() - t0)
times.sort()

# Which BLAS / oneDNN the process has mapped: a peer on netlib BLAS is unfair.
libs = set()
with open("/proc/self/maps") as f:
    for line in f:
        path = line.split()[-1]
        if any(k in path.lower() for k in ("blas", "mkl", "dnnl", "lapack")):
            libs.add(path.rsplit("/", 1)[-1])
print(f"RESULT median_ms={times[len(times) // 2] * 1e3:.2f} min_ms={times[0] * 1e3:.2f} "
      f"max_ms={times[-1] * 1e3:.2f} threads={torch.get_num_threads()} "
      f"torch={torch.__version__} mkldnn={torch.backends.mkldnn.is_available()} "
      f"libs={','.join(sorted(libs)) or 'none'}")
