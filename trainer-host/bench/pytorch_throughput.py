#!/usr/bin/env python3
"""PyTorch half of the supernet training-throughput comparison.

Same network, batch, optimizer and thread count as benches/train_throughput.rs: 1027
inputs, three hidden layers up to 512 units sliced by leading units, one logit, BCE with
logits, Adam lr 1e-3, batch 512 of fixed random rows; full-width steps, then steps of a
child drawn uniformly from the Criteo widths. Prints one JSON line, with the CPU model
and the instruction set ATen dispatches to on it.
"""
import argparse
import json
import random
import time

import torch


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"

WIDTHS = [8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 384, 512]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--full-steps", type=int, default=40)
    p.add_argument("--child-steps", type=int, default=100)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    random.seed(0)
    dims = [1027, 512, 512, 512, 1]
    ws = [torch.nn.Parameter(torch.empty(i, o).uniform_(-i ** -0.5, i ** -0.5)) for i, o in zip(dims, dims[1:])]
    bs = [torch.nn.Parameter(torch.zeros(o)) for o in dims[1:]]
    opt = torch.optim.Adam(ws + bs, lr=1e-3)
    x = torch.rand(512, 1027) * 2 - 1
    y = (torch.rand(512, 1) > 0.5).float()
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step(widths):
        h = x
        d_in = 1027
        for layer, w_out in enumerate(list(widths) + [1]):
            h = h @ ws[layer][:d_in, :w_out] + bs[layer][:w_out]
            if layer < 3:
                h = torch.relu(h)
            d_in = w_out
        loss = loss_fn(h, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    full = [512, 512, 512]
    for _ in range(3):
        step(full)
    t = time.perf_counter()
    for _ in range(a.full_steps):
        step(full)
    full_s = time.perf_counter() - t
    children = [[random.choice(WIDTHS) for _ in range(3)] for _ in range(a.child_steps)]
    t = time.perf_counter()
    for c in children:
        step(c)
    child_s = time.perf_counter() - t
    print(json.dumps({
        "impl": f"pytorch {torch.__version__}", "kernel": f"ATen {torch.backends.cpu.get_cpu_capability()}",
        "cpu": cpu_model(), "threads": a.threads, "batch": 512,
        "full_width_examples_per_s": round(a.full_steps * 512 / full_s, 1),
        "random_child_examples_per_s": round(a.child_steps * 512 / child_s, 1),
        "full_steps": a.full_steps, "child_steps": a.child_steps,
    }))


if __name__ == "__main__":
    main()
