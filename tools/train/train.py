#!/usr/bin/python3
"""train: train the pocket model (model.py) on the corpus.

Data: every conversation of train.jsonl.gz tokenized as vkchat renders a
chat (tokenizer.chat_roles: BOS, control ids, text pieces) and laid end
to end; batches are windows of ctx + 1 tokens at random offsets (a
seeded generator).  The held-out set (valid.jsonl.gz, unseen headwords)
is cut into consecutive windows once and evaluated whole.

Loss: on every token, not only the assistant's.  The model is tiny and
the corpus small: the questions carry the headword and the phrasing, so
they are useful language-modelling signal; the fixed system prompt is
learned in a few hundred steps and costs nothing afterwards; and plain
prompts (no chat format) still get sensible continuations.  The held-out
loss is reported both ways (all tokens, assistant tokens only).

Optimizer: AdamW (0.9, 0.95), weight decay on matrices only, linear
warm-up then cosine decay to min_lr, gradients clipped to 1.  Seeds are
fixed (torch, numpy).  On CUDA: bf16 autocast, TF32 matmuls, and
torch.compile with --compile (torch 2); on CPU: float32, --threads.

Output in --work: tokens-*.npy (cache), model.pt (config + state dict),
loss.csv (step, lr, train loss, held-out losses, tokens, seconds), then
the loss-curve PNG and a markdown report at --png / --report.
"""
import argparse
import csv
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch

import config
import model as model_mod
import tokenizer as tok_mod


def tokenize_split(sp, corpus, split, work):
    """(ids uint16, assistant mask uint8) of a split, cached in WORK."""
    ids_path = os.path.join(work, "tokens-%s.npy" % split)
    mask_path = os.path.join(work, "mask-%s.npy" % split)
    src = os.path.join(corpus, "%s.jsonl.gz" % split)
    if os.path.exists(ids_path) and \
            os.path.getmtime(ids_path) > os.path.getmtime(src) and \
            os.path.getmtime(ids_path) > os.path.getmtime(
                os.path.join(work, "tokenizer.model")):
        return np.load(ids_path), np.load(mask_path)
    ids, mask = [], []
    for rec in tok_mod.read_jsonl(src):
        a, b = tok_mod.chat_roles(sp, rec["text"])
        ids.extend(a)
        mask.extend(b)
    ids = np.asarray(ids, dtype=np.uint16)
    mask = np.asarray(mask, dtype=np.uint8)
    np.save(ids_path, ids)
    np.save(mask_path, mask)
    return ids, mask


def lr_at(step, cfg):
    if step < cfg["warmup"]:
        return cfg["lr"] * (step + 1) / cfg["warmup"]
    p = (step - cfg["warmup"]) / max(1, cfg["steps"] - cfg["warmup"])
    return cfg["min_lr"] + 0.5 * (cfg["lr"] - cfg["min_lr"]) * \
        (1 + math.cos(math.pi * min(1.0, p)))


def evaluate(m, data, mask, cfg, device, autocast, max_windows=0):
    """(mean loss over all tokens, over assistant tokens) of DATA cut in
    consecutive windows of ctx + 1."""
    t = cfg["ctx"]
    n = (len(data) - 1) // t
    if max_windows:
        n = min(n, max_windows)
    tot = tot_a = 0.0
    cnt = cnt_a = 0
    m.eval()
    with torch.no_grad():
        for s in range(0, n, 32):
            rows = range(s, min(n, s + 32))
            x = torch.stack([torch.from_numpy(
                data[r * t:r * t + t].astype(np.int64)) for r in rows])
            y = torch.stack([torch.from_numpy(
                data[r * t + 1:r * t + t + 1].astype(np.int64))
                for r in rows])
            k = torch.stack([torch.from_numpy(
                mask[r * t + 1:r * t + t + 1].astype(np.float32))
                for r in rows])
            x, y, k = x.to(device), y.to(device), k.to(device)
            with autocast():
                logits = m(x)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                reduction="none")
            tot += loss.sum().item()
            cnt += loss.numel()
            tot_a += (loss * k.reshape(-1)).sum().item()
            cnt_a += k.sum().item()
    m.train()
    return tot / max(1, cnt), tot_a / max(1, cnt_a)


def fit_steps(cfg, limit, spent):
    """Lower cfg["steps"] (to a multiple of 100, after the warm-up) so
    that the rest, at the speed of the first 100 steps, fits LIMIT."""
    per_step = spent / 100
    # 100 + fit steps, and 5% for the evaluations
    fit = int((limit * 0.95 - spent) / per_step + 100) // 100 * 100
    fit = max(fit, cfg["warmup"] + 100)
    if fit < cfg["steps"]:
        print("train: %.3f s/step: %d steps do not fit %.0f s; training "
              "%d steps" % (per_step, cfg["steps"], limit, fit),
              file=sys.stderr)
        cfg["steps"] = fit


def plot(rows, png, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    st = [r["step"] for r in rows if r["train_loss"] != ""]
    ax.plot(st, [r["train_loss"] for r in rows if r["train_loss"] != ""],
            label="train (all tokens)", lw=0.8, alpha=0.7)
    ev = [r for r in rows if r["valid_loss"] != ""]
    ax.plot([r["step"] for r in ev], [r["valid_loss"] for r in ev], "o-",
            label="held-out (all tokens)")
    ax.plot([r["step"] for r in ev], [r["valid_loss_assistant"] for r in ev],
            "s-", label="held-out (assistant tokens)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    # no time stamp in the file, so equal runs give equal images
    fig.savefig(png, metadata={"Software": None})
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="pocket")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2,
                    help="torch CPU threads (default 2)")
    ap.add_argument("--steps", type=int, help="override the config")
    ap.add_argument("--batch", type=int, help="override the config")
    ap.add_argument("--set", action="append", default=[],
                    metavar="KEY=VALUE",
                    help="override a numeric config value (repeatable)")
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile the model (torch 2, CUDA)")
    ap.add_argument("--time-limit", type=float, default=0, metavar="S",
                    help="after 100 steps, lower the step count so that "
                    "training ends within S seconds (the report records "
                    "the steps; --steps N reruns it exactly)")
    ap.add_argument("--png", required=True, help="loss-curve image")
    ap.add_argument("--report", required=True, help="markdown report")
    args = ap.parse_args()
    cfg = config.get(args.config)
    if args.steps:
        cfg["steps"] = args.steps
    if args.batch:
        cfg["batch"] = args.batch
    for kv in args.set:
        key, _, value = kv.partition("=")
        if key not in cfg or isinstance(cfg[key], (str, bool)):
            raise SystemExit("train: --set %s: no numeric config value '%s'"
                             % (kv, key))
        cfg[key] = type(cfg[key])(float(value))
    torch.set_num_threads(args.threads)
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    device = torch.device(args.device)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("train: --device cuda but CUDA is not "
                             "available")
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

        def autocast():
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    else:
        import contextlib
        autocast = contextlib.nullcontext

    t0 = time.time()
    sp = tok_mod.load(args.work)
    if sp.get_piece_size() != cfg["vocab_size"]:
        raise SystemExit("train: tokenizer has %d pieces, config %s says %d"
                         % (sp.get_piece_size(), cfg["config"],
                            cfg["vocab_size"]))
    train_ids, _ = tokenize_split(sp, args.corpus, "train", args.work)
    valid_ids, valid_mask = tokenize_split(sp, args.corpus, "valid",
                                           args.work)
    t_tok = time.time() - t0
    print("train: %d training tokens, %d held-out tokens (tokenized in "
          "%.0f s)" % (len(train_ids), len(valid_ids), t_tok),
          file=sys.stderr)

    m = model_mod.Llama(cfg).to(device)
    n_params = m.n_params()
    decay = [p for n, p in m.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in m.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg["weight_decay"]},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg["lr"], betas=(0.9, 0.95), eps=1e-8)
    fwd = m
    if args.compile:
        fwd = torch.compile(m)
    data = torch.from_numpy(train_ids.astype(np.int64))
    t, bsz = cfg["ctx"], cfg["batch"]
    rows = []
    csv_path = os.path.join(args.work, "loss.csv")
    fields = ["step", "lr", "train_loss", "valid_loss",
              "valid_loss_assistant", "tokens", "seconds"]
    t_train = time.time()
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        step = -1
        while step < cfg["steps"]:
            step += 1
            row = {k: "" for k in fields}
            row["step"] = step
            if step % cfg["eval_every"] == 0 or step == cfg["steps"]:
                last = step == cfg["steps"]
                vl, va = evaluate(m, valid_ids, valid_mask, cfg, device,
                                  autocast,
                                  (cfg["final_eval_batches"] if last else
                                   cfg["eval_batches"]) * 32)
                row["valid_loss"], row["valid_loss_assistant"] = \
                    round(vl, 5), round(va, 5)
                print("train: step %d held-out loss %.4f (assistant %.4f)"
                      % (step, vl, va), file=sys.stderr)
            if step == 100 and args.time_limit > 0:
                fit_steps(cfg, args.time_limit, time.time() - t_train)
            if step < cfg["steps"]:
                lr = lr_at(step, cfg)
                for g in opt.param_groups:
                    g["lr"] = lr
                off = torch.from_numpy(rng.integers(
                    0, len(data) - t - 1, size=bsz))
                idx = off[:, None] + torch.arange(t + 1)[None, :]
                batch = data[idx].to(device, non_blocking=True)
                with autocast():
                    logits = fwd(batch[:, :-1])
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]),
                    batch[:, 1:].reshape(-1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
                opt.step()
                if step % 10 == 0:
                    row["lr"] = "%.6g" % lr
                    row["train_loss"] = round(loss.item(), 5)
                if step % 100 == 0:
                    print("train: step %d loss %.4f lr %.2e (%.0f s)" %
                          (step, loss.item(), lr, time.time() - t_train),
                          file=sys.stderr)
            row["tokens"] = step * bsz * t
            row["seconds"] = round(time.time() - t_train, 1)
            if row["train_loss"] != "" or row["valid_loss"] != "":
                w.writerow(row)
                rows.append(row)
    t_train = time.time() - t_train
    state = {k: v.detach().cpu() for k, v in m.state_dict().items()}
    if cfg["tied"]:
        state.pop("output.weight", None)
    torch.save({"config": cfg, "model": state},
               os.path.join(args.work, "model.pt"))
    final = rows[-1]
    summary = {
        "config": cfg["config"], "params": n_params,
        "train_tokens": int(len(train_ids)),
        "heldout_tokens": int(len(valid_ids)),
        "steps": cfg["steps"], "tokens_seen": cfg["steps"] * bsz * t,
        "epochs": round(cfg["steps"] * bsz * t / len(train_ids), 2),
        "heldout_loss": final["valid_loss"],
        "heldout_loss_assistant": final["valid_loss_assistant"],
        "train_seconds": round(t_train, 1),
        "tokenize_seconds": round(t_tok, 1),
        "device": (torch.cuda.get_device_name(0) if args.device == "cuda"
                   else "cpu (%d torch threads): %s" % (args.threads,
                                                  platform.processor() or
                                                  platform.machine())),
        "torch": torch.__version__, "numpy": np.__version__,
    }
    with open(os.path.join(args.work, "train.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    plot(rows, args.png, "%s: %.1fM parameters, %d steps" %
         (cfg["name"], n_params / 1e6, cfg["steps"]))
    write_report(args.report, args.png, cfg, summary)
    print("train: done in %.0f s; held-out loss %.4f (assistant %.4f)" %
          (t_train, final["valid_loss"], final["valid_loss_assistant"]),
          file=sys.stderr)


def write_report(path, png, cfg, s):
    rel = os.path.relpath(png, os.path.dirname(os.path.abspath(path)))
    shape = ("dim %d, %d layers, %d heads (%d KV heads), feed-forward %d, "
             "vocabulary %d, context %d, %s output" %
             (cfg["dim"], cfg["n_layers"], cfg["n_heads"], cfg["n_kv_heads"],
              cfg["ffn_dim"], cfg["vocab_size"], cfg["ctx"],
              "tied" if cfg["tied"] else "separate"))
    text = """# Training the %(name)s

Written by tools/train/train.py (config "%(config)s"); rerun it with
`tools/train/run.sh %(config)s` (see tools/train/README.md).

- Model: llama architecture, %(params)s parameters: %(shape)s.
- Data: %(train_tokens)s training tokens, %(heldout_tokens)s held-out tokens
  (conversations about WordNet headwords never seen in training).
- Schedule: %(steps)s steps of %(batch)d x %(ctx)d tokens (%(tokens_seen)s
  tokens, %(epochs)s epochs), AdamW, peak learning rate %(lr)g, cosine decay
  to %(min_lr)g, seed %(seed)d.
- Device: %(device)s; torch %(torch)s, numpy %(numpy)s.
- Time: %(train_seconds)s s training, %(tokenize_seconds)s s tokenizing.

**Final held-out loss: %(heldout_loss)s nats/token** (all tokens;
%(heldout_loss_assistant)s on the assistant's tokens alone).

![loss curve](%(rel)s)
""" % dict(s, name=cfg["name"], shape=shape, batch=cfg["batch"],
           ctx=cfg["ctx"], lr=cfg["lr"], min_lr=cfg["min_lr"],
           seed=cfg["seed"], rel=rel, params="{:,}".format(s["params"]),
           train_tokens="{:,}".format(s["train_tokens"]),
           heldout_tokens="{:,}".format(s["heldout_tokens"]),
           tokens_seen="{:,}".format(s["tokens_seen"]))
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
