#!/usr/bin/python3
"""reference: greedy continuations of the exported model, computed by
PyTorch, for checking vkchat's engine on a model we trained.

The model is built from the GGUF file itself (hyperparameters from its
metadata, weights dequantized exactly as vkchat and llama.cpp do: F16 to
float32, Q8_0 as float32(f16 scale) * q), so the reference and the
engine compute with the same weights.  The forward pass is model.py's
explicit one in float32 (no fused attention), with K and V rounded to
f16 as the engines' KV caches store them; every step recomputes the
whole sequence.

Output: one JSON object per prompt, as ../shared/models/*.reference.jsonl
(see its README): prompt, prompt_ids (sentencepiece's ids with BOS),
ids (argmax at each step, lowest id on ties, until end of generation or
--max-tokens), margins (top-1 minus top-2 logit at each step), text (the
decoded continuation).  Chat-formatted prompts have "parse_special":
true: their <|im_start|>/<|im_end|> text is the control tokens.  Two
fields more: "finish" ("eog" when the next argmax was <|im_end|>,
"length" otherwise) and "eog_margin" (that last step's margin).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

import config
import export
import model as model_mod
import tokenizer as tok_mod

PLAIN_PROMPTS = [
    "The word",
    "vkchat is",
    "A dog is",
]
CHAT_QUESTIONS = [
    "What does apple mean?",
    "Give me a synonym for happy.",
    "Use run in a sentence.",
    "What does vkchat info do?",
    "What is top_k?",
    "Hello",
]


def chat_prompt(question):
    return (config.IM_START + "system\n" + config.SYSTEM_PROMPT +
            config.IM_END + "\n" + config.IM_START + "user\n" + question +
            config.IM_END + "\n" + config.IM_START + "assistant\n")


def config_from_meta(meta, tensors):
    g = lambda k: meta["llama." + k]
    dim, n_heads = g("embedding_length"), g("attention.head_count")
    if g("rope.dimension_count") != dim // n_heads:
        raise SystemExit("reference: partial RoPE is not supported here")
    return {
        "dim": dim, "n_layers": g("block_count"), "n_heads": n_heads,
        "n_kv_heads": g("attention.head_count_kv"),
        "ffn_dim": g("feed_forward_length"), "ctx": g("context_length"),
        "vocab_size": len(meta["tokenizer.ggml.tokens"]),
        "rope_theta": g("rope.freq_base"),
        "rms_eps": g("attention.layer_norm_rms_epsilon"),
        "tied": "output.weight" not in tensors,
    }


def load_model(path):
    meta, tensors = export.read_gguf(path)
    cfg = config_from_meta(meta, tensors)
    _, weights = export.weights_from_gguf(path, cfg)
    m = model_mod.Llama(cfg)
    state = {k: torch.from_numpy(np.array(v)) for k, v in weights.items()}
    if cfg["tied"]:
        state["output.weight"] = state["tok_embeddings.weight"]
    missing, unexpected = m.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit("reference: %s: missing %s, unexpected %s" %
                         (path, missing, unexpected))
    m.eval()
    return m, meta


def greedy(m, ids, n, eog):
    out, margins = [], []
    finish, eog_margin = "length", None
    seq = list(ids)
    with torch.no_grad():
        for _ in range(n):
            x = torch.tensor([seq], dtype=torch.long)
            logits = m(x, exact=True, kv_f16=True)[0, -1]
            top = torch.topk(logits, 2)
            best = int(torch.argmax(logits))
            margin = float(top.values[0] - top.values[1])
            if best in eog:
                finish, eog_margin = "eog", round(margin, 4)
                break
            out.append(best)
            margins.append(round(margin, 4))
            seq.append(best)
    return out, margins, finish, eog_margin


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--work", required=True, help="has tokenizer.model")
    ap.add_argument("--out", required=True, help="JSONL file to write")
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sp = tok_mod.load(args.work)
    m, meta = load_model(args.gguf)
    if meta["tokenizer.ggml.tokens"] != [sp.id_to_piece(i) for i in
                                         range(sp.get_piece_size())]:
        raise SystemExit("reference: %s has another vocabulary than %s" %
                         (args.gguf, os.path.join(args.work,
                                                  "tokenizer.model")))
    eog = {meta["tokenizer.ggml.eos_token_id"],
           sp.piece_to_id(config.IM_END)}
    lines = []
    prompts = [(p, False) for p in PLAIN_PROMPTS] + \
        [(chat_prompt(q), True) for q in CHAT_QUESTIONS]
    for prompt, special in prompts:
        pids = tok_mod.encode_chat(sp, prompt) if special else \
            [sp.bos_id()] + sp.encode(prompt)
        ids, margins, finish, eog_margin = greedy(m, pids, args.max_tokens,
                                                  eog)
        rec = {"prompt": prompt, "prompt_ids": pids, "ids": ids,
               "margins": margins, "text": sp.decode(ids),
               "finish": finish, "eog_margin": eog_margin}
        if special:
            rec["parse_special"] = True
        lines.append(json.dumps(rec, ensure_ascii=False))
        low = [i for i, x in enumerate(margins) if x < 0.01]
        print("reference: %r -> %r (%d tokens, %s, first margin < 0.01 "
              "at %s)" % (prompt[-40:], rec["text"][:60], len(ids), finish,
                          low[0] if low else "none"), file=sys.stderr)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
