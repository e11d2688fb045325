#!/usr/bin/python3
"""bench: training throughput of candidate pocket shapes on this CPU.

For each shape x precision x sequence length x thread count, times full
training steps (forward, backward, AdamW) on random token windows of a
fixed token count per step, and prints one markdown row each: the
numbers that choose the pocket model's shape (docs/pocket-training.md).
bf16 is torch.autocast on the CPU (the matrix products in bfloat16,
master weights in float32).  Nothing is written to disk.

    tools/train/bench.py [--tokens 8192] [--steps 6] [--shapes small,mid]
"""
import argparse
import contextlib
import time

import torch

import config
import model as model_mod
from train import train_step



def measure(shape, dtype, seq, threads, tokens, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    cfg = dict(config.SHAPES[shape], ctx=seq, rope_theta=10000.0,
               rms_eps=1e-5)
    m = model_mod.Llama(cfg)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    bsz = max(1, tokens // seq)
    if dtype == "bf16":
        def autocast():
            return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    else:
        autocast = contextlib.nullcontext
    data = torch.randint(0, cfg["vocab_size"], (steps + 2, bsz, seq + 1))
    for i in range(2):
        train_step(m, m, opt, data[i], autocast)
    t0 = time.time()
    for i in range(steps):
        train_step(m, m, opt, data[2 + i], autocast)
    dt = (time.time() - t0) / steps
    return m.n_params(), bsz * seq / dt, dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=8192,
                    help="tokens per step (batch = tokens / seq)")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--shapes", default=",".join(config.SHAPES))
    ap.add_argument("--dtypes", default="fp32,bf16")
    ap.add_argument("--seqs", default="128,256")
    ap.add_argument("--threads", default="2")
    args = ap.parse_args()
    print("| shape | parameters | precision | seq | threads | tokens/s "
          "| s/step |")
    print("|---|---|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        for dtype in args.dtypes.split(","):
            for seq in (int(s) for s in args.seqs.split(",")):
                for th in (int(t) for t in args.threads.split(",")):
                    n, tps, dt = measure(shape, dtype, seq, th, args.tokens,
                                         args.steps)
                    print("| %s | %s | %s | %d | %d | %.0f | %.2f |" %
                          (shape, "{:,}".format(n), dtype, seq, th, tps, dt),
                          flush=True)


if __name__ == "__main__":
    main()
