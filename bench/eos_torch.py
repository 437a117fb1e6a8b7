#!/usr/bin/python3
"""PyTorch peer of bench/eos.ts: the edge-of-stability experiment end to end, following the procedure
of Cohen, Kaur, Li, Kolter & Talwalkar (ICLR 2021) and their code (github.com/locuslab/edge-of-stability,
src/utilities.py): full-batch gradient descent; every `every` steps the top Hessian eigenvalue by scipy's
`eigsh` (ARPACK Lanczos) on a LinearOperator whose matvec is an exact Hessian-vector product, started
from scratch each time at eigsh's default tolerance (tol=0: machine precision). Two choices favour the
peer over a literal copy of that code: the gradient graph is built once per eigenvalue computation and
reused by every product (their `compute_hvp` rebuilds it for each product), and k=1 with which="LA" (the
top eigenvalue only; they ask `eigsh(operator, neigs)` for the largest magnitudes).

It reads the problem bench/eos.ts wrote to DIR (problem.json, x.f32, y.f32, theta0.f32: the same data and
the same initial weights), so the two programs run the same problem. Prints one JSON line: seconds,
HVPs, the λmax trajectory and the final loss. Threads: set OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before
starting (bench/peer.ts does) and pass --threads.

Usage: /usr/bin/python3 bench/eos_torch.py DIR [--threads 1]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    with open(os.path.join(args.dir, "problem.json")) as f:
        prob = json.load(f)
    n, d, c = prob["n"], prob["d"], prob["classes"]
    x = torch.from_numpy(np.fromfile(os.path.join(args.dir, "x.f32"), dtype="<f4").reshape(n, d))
    y = torch.from_numpy(np.fromfile(os.path.join(args.dir, "y.f32"), dtype="<f4").reshape(n, c))
    flat0 = np.fromfile(os.path.join(args.dir, "theta0.f32"), dtype="<f4")

    # θ₀ in sgdlab's layout: layers.i.W [d_in, d_out] (the layer is x @ W + b), layers.i.b [d_out]
    params, o = [], 0
    for leaf in prob["leaves"]:
        size = int(np.prod(leaf["shape"]))
        params.append(torch.from_numpy(flat0[o:o + size].reshape(leaf["shape"]).copy()).requires_grad_(True))
        o += size
    assert o == flat0.size, "theta0.f32 does not match problem.json's leaves"
    names = [leaf["name"] for leaf in prob["leaves"]]
    layers = sorted({int(nm.split(".")[1]) for nm in names})
    W = [params[names.index(f"layers.{i}.W")] for i in layers]
    b = [params[names.index(f"layers.{i}.b")] for i in layers]

    def forward(inp):
        h = inp
        for i in range(len(W)):
            h = h @ W[i] + b[i]
            if i < len(W) - 1:
                h = torch.tanh(h)
        return h

    def loss_fn():  # ½-mean MSE on one-hot targets: ½ Σ (f − y)² / N
        return 0.5 * ((forward(x) - y) ** 2).sum() / n

    P = sum(p.numel() for p in params)
    hvps = 0

    def top_eigenvalue():
        nonlocal hvps
        loss = loss_fn()
        g = torch.autograd.grad(loss, params, create_graph=True)

        def mv(vnp):
            nonlocal hvps
            hvps += 1
            v = torch.from_numpy(np.ascontiguousarray(vnp, dtype=np.float32).reshape(-1))
            parts, i = [], 0
            for p in params:
                parts.append(v[i:i + p.numel()].view_as(p))
                i += p.numel()
            hv = torch.autograd.grad(g, params, grad_outputs=parts, retain_graph=True)
            return torch.cat([h.reshape(-1) for h in hv]).double().numpy()

        op = LinearOperator((P, P), matvec=mv, dtype=np.float64)
        return float(eigsh(op, k=1, which="LA", return_eigenvectors=False)[0])

    lr, steps, every = prob["lr"], prob["steps"], prob["every"]
    lambdas = []
    t0 = time.perf_counter()
    for step in range(steps):
        if step % every == 0:  # as sgdlab's probe: at steps 0, every, 2·every, … before the last
            lambdas.append([step, top_eigenvalue()])
        loss = loss_fn()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gp in zip(params, grads):
                p -= lr * gp
    with torch.no_grad():
        final = float(loss_fn())  # the loss at θ_steps, as sgdlab's last evaluation
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "hvps": hvps, "lambdas": lambdas, "finalLoss": final,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
