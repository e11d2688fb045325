#!/usr/bin/python3
"""score: the pocket model's two task scores, from its GGUF file.

Answers are PyTorch greedy continuations of the exported file's own
(dequantized) weights, rendered as vkchat renders a chat (the fixed
system prompt, ChatML), up to --max-tokens tokens or the end of the turn.

1. Words: the --words most frequent held-out headwords (corpus.py's
   ranking, among the config's headword slice whose sha256 bucket put
   them in valid.jsonl: never a headword in training), each asked "What
   does the word W mean?".  An answer scores when it contains at least
   one content word (3 letters or more, not a stop word, not W itself)
   of one of W's WordNet glosses.
2. vkchat: the 40 questions of vkchat-questions.tsv; an answer scores
   when it matches the question's pattern (the right command, key or
   parameter, case-insensitive).

Prints both shares and writes every answer to --out (JSONL) so samples
can be read and quoted.

    tools/train/score.py --gguf out/pocket/pocket-pocket-q8_0.gguf \\
        --work out/pocket --out out/pocket/scores.jsonl
"""
import argparse
import csv
import json
import os
import re
import sys

import torch

import config
import corpus
import reference
import tokenizer as tok_mod

STOP = set("""a an the of to in on at for from by with without into onto
as and or but not no nor so than then that this these those there their
them they it its is are was were be been being has have had having do does
did done which who whom whose what when where why how all any some each
every other another such more most less least very much many few one two
used use uses using make makes made especially usually often something
someone somebody person people thing things way ways state quality act
having being becoming cause causes caused give gives given get gets""".
           split())
WORD_RE = re.compile(r"[a-z]+")


def content_words(text, word):
    own = set(WORD_RE.findall(word.lower()))
    return {w for w in WORD_RE.findall(text.lower())
            if len(w) >= 3 and w not in STOP and w not in own}


def heldout_words(cfg, n):
    """The N most frequent held-out headwords: (display word, glosses)."""
    wn = corpus.WordNet(corpus.WORDNET)
    out = []
    for lemma in corpus.headwords(wn, cfg, cfg["limit"], cfg["seed"]):
        if corpus.stable_int("heldout", lemma) % 100 >= \
                cfg["heldout_percent"]:
            continue
        wi = corpus.WordItems(wn, lemma, wn.index[lemma], cfg["seed"])
        out.append((wi.word, [s["definition"] for s in wi.senses]))
        if len(out) == n:
            break
    return out


def answer(m, sp, eog, question, max_tokens):
    ids = tok_mod.encode_chat(sp, reference.chat_prompt(question))
    out, _, _, _ = reference.greedy(m, ids, max_tokens, eog)
    return sp.decode(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="pocket")
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--work", required=True, help="has tokenizer.model")
    ap.add_argument("--out", required=True, help="answers (JSONL)")
    ap.add_argument("--words", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--questions", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "vkchat-questions.tsv"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = config.get(args.config)
    sp = tok_mod.load(args.work)
    m, meta = reference.load_model(args.gguf)
    eog = {meta["tokenizer.ggml.eos_token_id"], sp.piece_to_id(config.IM_END)}
    recs = []
    words = heldout_words(cfg, args.words)
    hits = 0
    for word, glosses in words:
        a = answer(m, sp, eog, "What does the word %s mean?" % word,
                   args.max_tokens)
        want = set()
        for g in glosses:
            want |= content_words(g, word)
        got = content_words(a, word) & want
        hits += bool(got)
        recs.append({"task": "words", "question": word, "answer": a,
                     "ok": bool(got), "matched": sorted(got),
                     "glosses": glosses})
    with open(args.questions, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    qhits = 0
    for q, pattern, source in rows[1:]:
        a = answer(m, sp, eog, q, args.max_tokens)
        ok = re.search(pattern, a, re.I) is not None
        qhits += ok
        recs.append({"task": "vkchat", "question": q, "answer": a,
                     "ok": ok, "pattern": pattern, "source": source})
    with open(args.out, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    n_q = len(rows) - 1
    print("score: words %d/%d (%.0f%%), vkchat %d/%d (%.0f%%)" %
          (hits, len(words), 100.0 * hits / max(1, len(words)), qhits, n_q,
           100.0 * qhits / max(1, n_q)))


if __name__ == "__main__":
    main()
