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
warm-up, then cosine decay to min_lr or (decay_frac) warm-up/stable/
decay, on the step count or on a wall-time budget (time_limit); gradients
clipped to 1; a checkpoint every checkpoint_every seconds (--resume).
Seeds are fixed (torch, numpy).  On CUDA: bf16 autocast, TF32 matmuls, and
torch.compile with --compile (torch 2); on CPU: --threads, and bf16
autocast when the config says so.

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


def lr_at(step, progress, cfg):
    """The learning rate at STEP, PROGRESS (0..1) through the schedule:
    a linear warm-up over the first steps, then either cosine decay to
    min_lr or, with decay_frac, warm-up/stable/decay (constant, then a
    linear fall to min_lr over the last decay_frac of the run), which
    lets a pilot's checkpoint be continued into a longer run."""
    if step < cfg["warmup"]:
        return cfg["lr"] * (step + 1) / cfg["warmup"]
    progress = min(1.0, max(0.0, progress))
    if cfg.get("decay_frac"):
        d = cfg["decay_frac"]
        if progress < 1 - d:
            return cfg["lr"]
        return cfg["min_lr"] + (cfg["lr"] - cfg["min_lr"]) * \
            (1 - progress) / d
    return cfg["min_lr"] + 0.5 * (cfg["lr"] - cfg["min_lr"]) * \
        (1 + math.cos(math.pi * progress))


def train_step(fwd, m, opt, batch, autocast):
    """One optimizer step on BATCH (rows of ctx + 1 tokens): next-token
    loss on every position, gradients clipped to 1; returns the loss.
    FWD is the model or its compiled form; bench.py times this."""
    with autocast():
        logits = fwd(batch[:, :-1])
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(),
        batch[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()
    return loss.item()


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


def save_checkpoint(path, m, opt, rng, state):
    """Model, optimizer, generator states and STATE (step, seconds, loss
    rows, config) to PATH, atomically (a kill leaves the old one)."""
    tmp = path + ".tmp"
    torch.save(dict(state, model=m.state_dict(), opt=opt.state_dict(),
                    np_rng=rng.bit_generator.state,
                    torch_rng=torch.get_rng_state()), tmp)
    os.replace(tmp, path)


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
    ap.add_argument("--time-limit", type=float, default=None, metavar="S",
                    help="train for S seconds of training time (the "
                    "schedule runs on time, not steps; default: the "
                    "config's time_limit, 0 for none)")
    ap.add_argument("--stop-at", type=float, default=0, metavar="S",
                    help="checkpoint and stop once S seconds of training "
                    "time are spent, without finishing (a pilot)")
    ap.add_argument("--resume", action="store_true",
                    help="continue from WORK/checkpoint.pt")
    ap.add_argument("--shape", help="model shape (config.SHAPES)")
    ap.add_argument("--precision", choices=["fp32", "bf16"],
                    help="CPU matrix products (default: the config's)")
    ap.add_argument("--png", required=True, help="loss-curve image")
    ap.add_argument("--report", required=True, help="markdown report")
    args = ap.parse_args()
    cfg = config.get(args.config, args.shape)
    if args.time_limit is not None:
        cfg["time_limit"] = args.time_limit
    if args.steps:
        cfg["time_limit"] = 0
        cfg["steps"] = args.steps
    if args.batch:
        cfg["batch"] = args.batch
    if args.precision:
        cfg["precision"] = args.precision
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
    elif cfg.get("precision") == "bf16":
        # matrix products in bfloat16 (oneDNN's AVX-512 BF16 kernels),
        # weights, optimizer state and the loss in float32
        def autocast():
            return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
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
    ck_path = os.path.join(args.work, "checkpoint.pt")
    fields = ["step", "lr", "train_loss", "valid_loss",
              "valid_loss_assistant", "tokens", "seconds"]
    step, spent = 0, 0.0
    if args.resume:
        if not os.path.exists(ck_path):
            raise SystemExit("train: --resume: no %s" % ck_path)
        ck = torch.load(ck_path, map_location="cpu")
        for k in ("dim", "n_layers", "n_heads", "n_kv_heads", "ffn_dim",
                  "vocab_size", "ctx", "batch"):
            if ck["config"][k] != cfg[k]:
                raise SystemExit("train: --resume: %s has %s %s, the "
                                 "config %s" % (ck_path, k,
                                                ck["config"][k], cfg[k]))
        m.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        rng.bit_generator.state = ck["np_rng"]
        torch.set_rng_state(ck["torch_rng"])
        step, spent, rows = ck["step"], ck["seconds"], ck["rows"]
        print("train: resuming at step %d, %.0f s spent" % (step, spent),
              file=sys.stderr)
    limit = cfg.get("time_limit") or 0

    def progress():
        if limit:
            return spent / limit
        return step / cfg["steps"]

    def log(row):
        rows.append(row)
        w.writerow(row)
        f.flush()

    t_mark = time.time()
    last_ck = spent
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow(r)
        while True:
            now = time.time()
            spent += now - t_mark
            t_mark = now
            done = progress() >= 1
            stop = args.stop_at and spent >= args.stop_at
            if step % cfg["eval_every"] == 0 or done or stop:
                vl, va = evaluate(m, valid_ids, valid_mask, cfg, device,
                                  autocast,
                                  (cfg["final_eval_batches"] if done else
                                   cfg["eval_batches"]) * 32)
                print("train: step %d held-out loss %.4f (assistant %.4f)"
                      % (step, vl, va), file=sys.stderr)
                log({"step": step, "lr": "", "train_loss": "",
                     "valid_loss": round(vl, 5),
                     "valid_loss_assistant": round(va, 5),
                     "tokens": step * bsz * t, "seconds": round(spent, 1)})
                t_mark = time.time()
            if done:
                break
            if stop or spent - last_ck >= cfg.get("checkpoint_every", 600):
                save_checkpoint(ck_path, m, opt, rng, {
                    "config": cfg, "step": step, "seconds": spent,
                    "rows": rows})
                last_ck = spent
                t_mark = time.time()
                if stop:
                    print("train: stopped at step %d after %.0f s; "
                          "--resume continues" % (step, spent),
                          file=sys.stderr)
                    return
            lr = lr_at(step, progress(), cfg)
            for g in opt.param_groups:
                g["lr"] = lr
            off = torch.from_numpy(rng.integers(
                0, len(data) - t - 1, size=bsz))
            idx = off[:, None] + torch.arange(t + 1)[None, :]
            batch = data[idx].to(device, non_blocking=True)
            loss = train_step(fwd, m, opt, batch, autocast)
            if step % 10 == 0:
                log({"step": step, "lr": "%.6g" % lr,
                     "train_loss": round(loss, 5), "valid_loss": "",
                     "valid_loss_assistant": "", "tokens": step * bsz * t,
                     "seconds": round(spent, 1)})
            if step % 100 == 0:
                print("train: step %d loss %.4f lr %.2e (%.0f s)" %
                      (step, loss, lr, spent), file=sys.stderr)
            step += 1
    cfg["steps"] = step
    t_train = spent
    state = {k: v.detach().cpu() for k, v in m.state_dict().items()}
    if cfg["tied"]:
        state.pop("output.weight", None)
    torch.save({"config": cfg, "model": state},
               os.path.join(args.work, "model.pt"))
    final = [r for r in rows if r["valid_loss"] != ""][-1]
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


REPORT_BEGIN = "<!-- train.py writes from here -->"
REPORT_END = "<!-- train.py writes up to here -->"


def write_report(path, png, cfg, s):
    """The run's numbers, written between REPORT_BEGIN and REPORT_END of
    PATH (the rest of the document is kept), or as the whole file when
    PATH has no such markers."""
    rel = os.path.relpath(png, os.path.dirname(os.path.abspath(path)))
    shape = ("dim %d, %d layers, %d heads (%d KV heads), feed-forward %d, "
             "vocabulary %d, context %d, %s output" %
             (cfg["dim"], cfg["n_layers"], cfg["n_heads"], cfg["n_kv_heads"],
              cfg["ffn_dim"], cfg["vocab_size"], cfg["ctx"],
              "tied" if cfg["tied"] else "separate"))
    if cfg.get("decay_frac"):
        sched = ("warm-up over %d steps, constant, then a linear fall to "
                 "%g over the last %d%% of the time" %
                 (cfg["warmup"], cfg["min_lr"], 100 * cfg["decay_frac"]))
    else:
        sched = "cosine decay to %g" % cfg["min_lr"]
    text = """%(begin)s
Written by tools/train/train.py (config "%(config)s"); rerun it with
`tools/train/run.sh %(config)s` (see tools/train/README.md).

- Model: llama architecture, %(params)s parameters: %(shape)s.
- Data: %(train_tokens)s training tokens, %(heldout_tokens)s held-out tokens
  (conversations about WordNet headwords never seen in training).
- Schedule: %(steps)s steps of %(batch)d x %(ctx)d tokens (%(tokens_seen)s
  tokens, %(epochs)s epochs), AdamW, peak learning rate %(lr)g, %(sched)s,
  seed %(seed)d.
- Device: %(device)s; torch %(torch)s, numpy %(numpy)s.
- Time: %(train_seconds)s s training, %(tokenize_seconds)s s tokenizing.

**Final held-out loss: %(heldout_loss)s nats/token** (all tokens;
%(heldout_loss_assistant)s on the assistant's tokens alone).

![loss curve](%(rel)s)
%(end)s
""" % dict(s, shape=shape, batch=cfg["batch"], sched=sched,
           ctx=cfg["ctx"], lr=cfg["lr"], begin=REPORT_BEGIN, end=REPORT_END,
           seed=cfg["seed"], rel=rel, params="{:,}".format(s["params"]),
           train_tokens="{:,}".format(s["train_tokens"]),
           heldout_tokens="{:,}".format(s["heldout_tokens"]),
           tokens_seen="{:,}".format(s["tokens_seen"]))
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    a, b = old.find(REPORT_BEGIN), old.find(REPORT_END)
    if a >= 0 and b > a:
        text = old[:a] + text.rstrip("\n") + old[b + len(REPORT_END):]
    else:
        text = "# Training the %s\n\n%s" % (cfg["name"], text)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
