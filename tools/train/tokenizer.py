#!/usr/bin/python3
"""tokenizer: train the pocket model's SentencePiece BPE tokenizer, and
check that vkchat's tokenizer reproduces its ids.

Settings are Llama's, chosen so that llama.cpp's SPM algorithm (which
vkchat's src/tok-spm.c implements) gives sentencepiece's own ids:
BPE, byte_fallback (256 <0xNN> pieces, so nothing is ever unknown),
normalization "identity" (no NFKC: vkchat does not normalize),
add_dummy_prefix (a U+2581 in front, as llama.cpp's add_space_prefix),
remove_extra_whitespaces off, split_digits, whitespace-only pieces
allowed.  Ids: <unk> 0, <s> 1 (BOS), <pad> 2, then the control tokens
<|im_start|> and <|im_end|>; there is no </s>: <|im_end|> is the EOS.

Conversations are tokenized the way vkchat renders a chat (and the way
llama.cpp parses special tokens): BOS, then each <|im_start|> or
<|im_end|> is its control id and each text between them is encoded on its
own, with the dummy prefix (encode_chat).  Training input: the text
between special tokens of a deterministic sample of train.jsonl.gz, one
line per text line (sentencepiece reads lines; newlines become <0x0A>).

Check (--check, or check() after training): the held-out conversations
and a plain-text rendering of them are tokenized by sentencepiece here and
by `vkchat tokenize` (with --special for the ChatML text) from a
vocabulary-only GGUF written by export.py; the ids must be equal.
"""
import argparse
import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile

import config

SPECIAL_RE = re.compile("(%s|%s)" % (re.escape(config.IM_START),
                                     re.escape(config.IM_END)))


def read_jsonl(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except ValueError as e:
                raise SystemExit("%s:%d: %s" % (path, lineno, e))


def load(work):
    import sentencepiece as spm
    return spm.SentencePieceProcessor(
        model_file=os.path.join(work, "tokenizer.model"))


def encode_chat(sp, text, bos=True):
    """Ids of ChatML TEXT as vkchat tokenizes it with --special: BOS, the
    control ids of the special tokens, each text piece encoded alone."""
    ids = [sp.bos_id()] if bos else []
    for part in SPECIAL_RE.split(text):
        if part in (config.IM_START, config.IM_END):
            ids.append(sp.piece_to_id(part))
        elif part:
            ids.extend(sp.encode(part))
    return ids


def chat_roles(sp, text):
    """(ids, assistant mask) of a conversation: mask[i] is 1 for tokens
    of assistant replies, their closing <|im_end|> included."""
    ids, mask = [sp.bos_id()], [0]
    in_asst = False
    for part in SPECIAL_RE.split(text):
        if part == config.IM_START:
            ids.append(sp.piece_to_id(part))
            mask.append(0)
        elif part == config.IM_END:
            ids.append(sp.piece_to_id(part))
            mask.append(1 if in_asst else 0)
            in_asst = False
        elif part:
            enc = sp.encode(part)
            if part.startswith("assistant\n"):
                in_asst = True
                head = len(sp.encode("assistant\n"))
                mask.extend([0] * head + [1] * (len(enc) - head))
            else:
                mask.extend([0] * len(enc))
            ids.extend(enc)
    return ids, mask


def training_lines(corpus, n_lines, seed):
    """A deterministic sample of the texts between special tokens."""
    rng = random.Random(seed)
    lines = []
    for rec in read_jsonl(os.path.join(corpus, "train.jsonl.gz")):
        for part in SPECIAL_RE.split(rec["text"]):
            if part in (config.IM_START, config.IM_END):
                continue
            lines.extend(x for x in part.split("\n") if x)
    uniq = {}
    for x in lines:
        uniq[x] = uniq.get(x, 0) + 1
    keys = sorted(uniq)
    if len(keys) > n_lines:
        keys = sorted(rng.sample(keys, n_lines))
    return [(k, uniq[k]) for k in keys]


def train(corpus, work, cfg):
    import sentencepiece as spm
    os.makedirs(work, exist_ok=True)
    lines = training_lines(corpus, cfg["spm_sample_lines"], cfg["seed"])
    tsv = os.path.join(work, "tokenizer-input.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        for text, n in lines:
            # tabs would split the TSV columns; they do not occur here
            f.write("%s\t%d\n" % (text.replace("\t", " "), n))
    if hasattr(spm, "set_random_generator_seed"):
        spm.set_random_generator_seed(cfg["seed"])
    spm.SentencePieceTrainer.train(
        input=tsv, input_format="tsv", model_prefix=os.path.join(
            work, "tokenizer"), model_type="bpe",
        vocab_size=cfg["vocab_size"], byte_fallback=True,
        character_coverage=0.9995, normalization_rule_name="identity",
        add_dummy_prefix=True, remove_extra_whitespaces=False,
        split_digits=True, allow_whitespace_only_pieces=True,
        split_by_unicode_script=True, split_by_whitespace=True,
        unk_id=0, bos_id=1, eos_id=-1, pad_id=2, unk_piece="<unk>",
        bos_piece="<s>", pad_piece="<pad>",
        control_symbols=[config.IM_START, config.IM_END],
        input_sentence_size=0, shuffle_input_sentence=False,
        max_sentence_length=8192, num_threads=2, minloglevel=2)
    os.remove(tsv)
    os.remove(os.path.join(work, "tokenizer.vocab"))
    sp = load(work)
    if sp.piece_to_id(config.IM_END) == sp.unk_id() or \
            not sp.is_control(sp.piece_to_id(config.IM_END)):
        raise SystemExit("tokenizer: %s is not a control token" %
                         config.IM_END)
    return sp, len(lines)


def vkchat_ids(vkchat, gguf, text, special):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8",
                                     delete=False) as f:
        f.write(text)
        path = f.name
    try:
        args = [vkchat, "tokenize", "-m", gguf, "-f", path, "--no-bos"]
        if special:
            args.append("--special")
        p = subprocess.run(args, capture_output=True, text=True)
    finally:
        os.remove(path)
    if p.returncode != 0:
        raise SystemExit("tokenizer: %s failed (status %d): %s" %
                         (" ".join(args), p.returncode, p.stderr.strip()))
    return [int(x) for x in p.stdout.split()]


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def check(corpus, work, vkchat, limit=0):
    """Compare sentencepiece and vkchat on the held-out text; returns a
    summary dict, exits on a difference."""
    import export
    sp = load(work)
    gguf = os.path.join(work, "tokenizer-vocab.gguf")
    export.write_vocab_gguf(gguf, export.vocab_from_spm(sp),
                            "pocket tokenizer check")
    recs = list(read_jsonl(os.path.join(corpus, "valid.jsonl.gz")))
    if limit:
        recs = recs[:limit]
    chat = "".join(r["text"] for r in recs)
    plain = "\n\n".join(SPECIAL_RE.sub("", r["text"]) for r in recs)
    out = {"conversations": len(recs), "chars": len(chat)}
    for name, text, special in (("chatml", chat, True),
                                ("plain", plain, False),
                                ("chatml-as-text", chat, False)):
        want = encode_chat(sp, text, bos=False) if special else \
            sp.encode(text)
        got = vkchat_ids(vkchat, gguf, text, special)
        if got != want:
            i = first_diff(got, want)
            raise SystemExit(
                "tokenizer: vkchat and sentencepiece differ on the %s "
                "held-out text at token %d: vkchat %s, sentencepiece %s "
                "(pieces %s)" % (name, i, got[i:i + 8], want[i:i + 8],
                                 [sp.id_to_piece(x) for x in
                                  want[max(0, i - 3):i + 8]]))
        out[name + "_tokens"] = len(want)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="pocket")
    ap.add_argument("--corpus", required=True, help="corpus.py's --out")
    ap.add_argument("--work", required=True,
                    help="writes WORK/tokenizer.model")
    ap.add_argument("--vkchat", help="check the ids with this vkchat")
    ap.add_argument("--check-only", action="store_true",
                    help="do not train; check WORK/tokenizer.model")
    args = ap.parse_args()
    cfg = config.get(args.config)
    info = {}
    if not args.check_only:
        sp, n = train(args.corpus, args.work, cfg)
        info.update({"vocab_size": sp.get_piece_size(),
                     "training_lines": n})
        print("tokenizer: %d pieces from %d distinct lines" %
              (sp.get_piece_size(), n), file=sys.stderr)
    if args.vkchat:
        res = check(args.corpus, args.work, args.vkchat)
        info["vkchat_check"] = res
        print("tokenizer: vkchat reproduces sentencepiece on %d held-out "
              "conversations (%d ChatML tokens, %d plain tokens)" %
              (res["conversations"], res["chatml_tokens"],
               res["plain_tokens"]), file=sys.stderr)
    path = os.path.join(args.work, "tokenizer.json")
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    old.update(info)
    with open(path, "w") as f:
        json.dump(old, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
