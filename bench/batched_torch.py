#!/usr/bin/python3
"""PyTorch peer of bench/batched.ts: R runs of a tiny MLP trained one after another.

Workload (as sgdlab's): MLP 2-32-32-1 tanh, ½-mean squared error, n = 200 points, full-batch SGD at
each run's own learning rate, `--steps` steps, the loss read to the host every step (sgdlab records
train/batchLoss every step). float32, 1 thread: run with OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
(bench/batched.ts sets them, and the tuned environment of bench/baselines/torch-cpu.md).

Usage: /usr/bin/python3 bench/batched_torch.py [--runs 16] [--steps 200] [--reps 3]
Prints one JSON line: {"runs", "steps", "total_ms": [per rep], "ms_per_step": median per member-step}.
"""
import argparse, json, statistics, time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g)
    y = torch.tanh(x @ torch.randn(2, 1, generator=g))

    def one_run(seed, lr):
        torch.manual_seed(seed)
        model = torch.nn.Sequential(
            torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1)
        )
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        last = 0.0
        for _ in range(a.steps):
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            last = loss.item()
        return last

    lrs = [0.01 * (k + 1) for k in range(a.runs)]
    one_run(0, 0.01)  # warm-up (allocator, kernels)
    totals = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        for k, lr in enumerate(lrs):
            one_run(k, lr)
        totals.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(totals)
    print(json.dumps({"runs": a.runs, "steps": a.steps, "total_ms": totals, "ms_per_step": med / (a.runs * a.steps)}))


if __name__ == "__main__":
    main()
