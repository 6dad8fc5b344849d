#!/usr/bin/python3
"""torch_nn.py - the PyTorch side of bench_nn.c: the same three models
(MLP 784-512-512-10, the 3x117x24 conv encoder, the 1024-unit LSTM), each
timed as PyTorch users time a training step: zero_grad, forward, loss,
backward, Adam step, on a fixed batch.

bench_nn runs this as a co-process and interleaves the two sides step by
step, so that a change in the (shared) machine's load hits both alike. The
protocol, one line each way:
  -> setup MODEL      builds MODEL, warms up, tries PyTorch's variants and
  <- ready S VARIANT  keeps the fastest (its best configuration, see
                      BENCHMARKING.md), whose median step took S seconds
  -> run N            one untimed training step, then N back to back,
  <- t SECONDS        timed together: their mean
  -> quit
With more than one thread bench_nn runs two copies, under libgomp's default
OMP_WAIT_POLICY and under PASSIVE (each is the faster one at some load of a
shared machine), and measures the one whose warm-up was faster.
The first line printed is "hello ..." with the versions, threads, the BLAS
library this process mapped and a 2048^3 matmul's GFLOP/s (proof that the
BLAS threads follow torch.set_num_threads). Without PyTorch it prints
"SKIP reason" and exits.
Usage: /usr/bin/python3 torch_nn.py THREADS"""
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"SKIP PyTorch not importable ({e}); install python3-torch "
          "(see BENCHMARKING.md)", flush=True)
    sys.exit(0)

T, B, I, H = 10, 32, 1024, 1024  # the LSTM's size


def mapped_blas():
    """File names of the BLAS / LAPACK / oneDNN libraries in this process."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if any(k in path.lower() for k in ("blas", "mkl", "dnnl", "lapack", "gomp")):
                libs.add(path)
    return ",".join(sorted(libs)) or "none"


def matmul_gflops():
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    ts = []
    for _ in range(3):
        t0 = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t0)
    return 2 * 2048 ** 3 / sorted(ts)[1] * 1e-9


def build(model, channels_last):
    """(module, input, loss function of the output) for one model."""
    torch.manual_seed(0)
    if model == "mlp":
        net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                            nn.Linear(512, 10))
        x = torch.rand(128, 784)
        y = torch.randint(0, 10, (128,))
        return net, x, lambda out: F.cross_entropy(out, y)
    if model == "conv":
        net = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.ReLU(),
                            nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU(),
                            nn.Conv2d(128, 256, 4, 2, 1), nn.ReLU())
        x = torch.rand(64, 3, 117, 24)
        target = torch.rand(64, 256, 14, 3)
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        return net, x, lambda out: F.mse_loss(out, target)
    if model == "lstm":
        lstm = nn.LSTM(I, H)  # (T, B, I) in, both biases, as dd_lstm
        x = torch.rand(T, B, I) - 0.5
        target = torch.rand(T, B, H) - 0.5
        return lstm, x, lambda out: F.mse_loss(out[0], target)
    raise ValueError(f"unknown model {model}")


class Step:
    """One configuration of one model: a callable training step."""

    def __init__(self, model, foreach, channels_last):
        self.net, self.x, self.loss = build(model, channels_last)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3, foreach=foreach)
        self.name = (f"adam_foreach={foreach}" +
                     (f",channels_last={channels_last}" if model == "conv" else ""))

    def __call__(self):
        self.opt.zero_grad(set_to_none=True)
        out = self.net(self.x)
        loss = self.loss(out)
        loss.backward()
        self.opt.step()


def timed(step):
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def setup(model):
    """Every variant warmed up and timed; the fastest median wins. Returns
    the step and its median."""
    variants = [(fe, cl) for fe in (False, True)
                for cl in ((False, True) if model == "conv" else (False,))]
    best, best_t = None, None
    for fe, cl in variants:
        step = Step(model, fe, cl)
        for _ in range(3):
            step()
        ts = sorted(timed(step) for _ in range(5))
        if best is None or ts[2] < best_t:
            best, best_t = step, ts[2]
    return best, best_t


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
    torch.set_num_threads(threads)
    print(f"hello torch={torch.__version__} threads={torch.get_num_threads()} "
          f"mkldnn={torch.backends.mkldnn.is_available()} "
          f"matmul2048_gflops={matmul_gflops():.1f} libs={mapped_blas()}", flush=True)
    step = None
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "setup":
            step, median = setup(cmd[1])
            print(f"ready {median:.9f} {step.name}", flush=True)
        elif cmd[0] == "run":
            n = int(cmd[1]) if len(cmd) > 1 else 1
            step()
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            print(f"t {(time.perf_counter() - t0) / n:.9f}", flush=True)


if __name__ == "__main__":
    main()
