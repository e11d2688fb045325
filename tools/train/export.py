#!/usr/bin/python3
"""export: write the trained model as GGUF v3 (F16 and Q8_0 files).

The writer is our own (pure Python + numpy, no gguf package): header,
key/value pairs, tensor infos, then the tensor data, every tensor aligned
to 32 bytes (GGUF's default, so no general.alignment key).  Dimensions are
stored innermost first: a PyTorch weight of shape (out, in) is a GGUF
tensor with ne = [in, out], bytes unchanged.

Weight types follow llama.cpp's ftypes: MOSTLY_F16 keeps every matrix in
F16, MOSTLY_Q8_0 every matrix (token embedding and output included) in
Q8_0; norm weights stay F32 in both.  Q8_0 is quantize_row_q8_0_ref:
blocks of 32, scale d = amax / 127 stored as f16, q = round(x / d) with
halves away from zero, computed in float32.  dequantize() inverts each
type exactly as vkchat and llama.cpp do, for reference.py.

The tokenizer comes from the SentencePiece model: its pieces, scores and
types (unknown 2, control 3, byte 6, normal 1), BOS and unknown ids from
the model, EOS and EOT = <|im_end|> so a turn ends generation, and the
ChatML Jinja template.

  export.py --config pilot --work DIR [--checkpoint model.pt]
     writes DIR/NAME-f16.gguf and DIR/NAME-q8_0.gguf
  export.py --random --vocab-from FILE.gguf --config ci --work DIR
     a tiny random model, read back and checked (needs only numpy), for
     tests/cli/train.sh
"""
import argparse
import os
import struct
import sys

import numpy as np

import config

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGN = 32

# GGUF value types
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, \
    T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)

# ggml tensor types and llama file types
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
FTYPE = {"f16": 1, "q8_0": 7}
QK8_0 = 32

TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_BYTE, TOKEN_UNUSED = \
    1, 2, 3, 6, 5


class Writer:
    """Collects keys and tensors; write() lays out the file."""

    def __init__(self):
        self.kv = []
        self.tensors = []

    def add(self, key, vtype, value, etype=None):
        self.kv.append((key, vtype, value, etype))

    def u32(self, key, v):
        self.add(key, T_UINT32, v)

    def f32(self, key, v):
        self.add(key, T_FLOAT32, v)

    def bool(self, key, v):
        self.add(key, T_BOOL, bool(v))

    def str(self, key, v):
        self.add(key, T_STRING, v)

    def arr(self, key, etype, values):
        self.add(key, T_ARRAY, list(values), etype)

    def tensor(self, name, ggml_type, ne, data):
        """NE innermost first; DATA the raw bytes."""
        self.tensors.append((name, ggml_type, list(ne), bytes(data)))

    @staticmethod
    def _str(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def _scalar(self, vtype, v):
        fmt = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h",
               T_UINT32: "<I", T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?",
               T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d"}
        if vtype == T_STRING:
            return self._str(v)
        return struct.pack(fmt[vtype], v)

    def _value(self, vtype, v, etype):
        if vtype != T_ARRAY:
            return self._scalar(vtype, v)
        out = [struct.pack("<IQ", etype, len(v))]
        if etype == T_FLOAT32:
            out.append(np.asarray(v, dtype="<f4").tobytes())
        elif etype == T_INT32:
            out.append(np.asarray(v, dtype="<i4").tobytes())
        else:
            out.extend(self._scalar(etype, x) for x in v)
        return b"".join(out)

    def build(self):
        out = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION,
                                        len(self.tensors), len(self.kv))]
        for key, vtype, v, etype in self.kv:
            out.append(self._str(key) + struct.pack("<I", vtype) +
                       self._value(vtype, v, etype))
        off = 0
        for name, gt, ne, data in self.tensors:
            out.append(self._str(name) + struct.pack("<I", len(ne)) +
                       struct.pack("<%dQ" % len(ne), *ne) +
                       struct.pack("<IQ", gt, off))
            off += (len(data) + ALIGN - 1) // ALIGN * ALIGN
        head = b"".join(out)
        parts = [head, b"\0" * (-len(head) % ALIGN)]
        for _, _, _, data in self.tensors:
            parts.append(data)
            parts.append(b"\0" * (-len(data) % ALIGN))
        return b"".join(parts)

    def write(self, path):
        data = self.build()
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return len(data)


# --- weight types ---------------------------------------------------------

def round_half_away(x):
    """C's roundf, elementwise, in float32."""
    return (np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))).astype(
        np.float32)


def quantize_q8_0(w):
    """Q8_0 bytes of float32 matrix W (rows of a multiple of 32 values)."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    if w.shape[-1] % QK8_0:
        raise ValueError("row length %d is not a multiple of %d" %
                         (w.shape[-1], QK8_0))
    blocks = w.reshape(-1, QK8_0)
    amax = np.max(np.abs(blocks), axis=1).astype(np.float32)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(
            np.float32)
    q = round_half_away(blocks * inv[:, None]).astype(np.int8)
    rec = np.zeros(len(blocks), dtype=[("d", "<f2"), ("q", "i1", QK8_0)])
    rec["d"] = d.astype(np.float16)
    rec["q"] = q
    return rec.tobytes()


def dequantize(ggml_type, data, shape):
    """Float32 array of SHAPE (outermost first) from tensor bytes."""
    n = int(np.prod(shape))
    if ggml_type == GGML_F32:
        return np.frombuffer(data, dtype="<f4", count=n).reshape(shape)
    if ggml_type == GGML_F16:
        return np.frombuffer(data, dtype="<f2", count=n).astype(
            np.float32).reshape(shape)
    if ggml_type == GGML_Q8_0:
        rec = np.frombuffer(data, dtype=[("d", "<f2"), ("q", "i1", QK8_0)],
                            count=n // QK8_0)
        d = rec["d"].astype(np.float32)
        return (d[:, None] * rec["q"].astype(np.float32)).reshape(shape)
    raise ValueError("unsupported ggml type %d" % ggml_type)


def encode_tensor(w, wtype):
    """(ggml type, bytes) of float32 array W as WTYPE (f32, f16, q8_0)."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    if wtype == "f32":
        return GGML_F32, w.astype("<f4").tobytes()
    if wtype == "f16":
        return GGML_F16, w.astype("<f2").tobytes()
    if wtype == "q8_0":
        return GGML_Q8_0, quantize_q8_0(w)
    raise ValueError(wtype)


# --- the model file ---------------------------------------------------------

def vocab_from_spm(sp):
    """The vocabulary of a SentencePieceProcessor as a dict: tokens,
    scores, types, and the bos, unk, pad and im_end ids."""
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            types.append(TOKEN_UNKNOWN)
        elif sp.is_control(i):
            types.append(TOKEN_CONTROL)
        elif sp.is_byte(i):
            types.append(TOKEN_BYTE)
        elif sp.is_unused(i):
            types.append(TOKEN_UNUSED)
        else:
            types.append(TOKEN_NORMAL)
    return {"tokens": tokens, "scores": scores, "types": types,
            "bos": sp.bos_id(), "unk": sp.unk_id(), "pad": sp.pad_id(),
            "im_end": sp.piece_to_id(config.IM_END)}


def vocab_from_gguf(path):
    """The same from a GGUF file this module wrote."""
    meta, _ = read_gguf(path)
    try:
        return {"tokens": meta["tokenizer.ggml.tokens"],
                "scores": meta["tokenizer.ggml.scores"],
                "types": meta["tokenizer.ggml.token_type"],
                "bos": meta["tokenizer.ggml.bos_token_id"],
                "unk": meta["tokenizer.ggml.unknown_token_id"],
                "pad": meta["tokenizer.ggml.padding_token_id"],
                "im_end": meta["tokenizer.ggml.eos_token_id"]}
    except KeyError as e:
        raise SystemExit("%s: missing key %s" % (path, e))


def add_tokenizer(w, vocab):
    tokens, im_end = vocab["tokens"], vocab["im_end"]
    if tokens[im_end] != config.IM_END or \
            vocab["types"][im_end] != TOKEN_CONTROL:
        raise SystemExit("export: the tokenizer has no control token %s" %
                         config.IM_END)
    w.str("tokenizer.ggml.model", "llama")
    w.arr("tokenizer.ggml.tokens", T_STRING, tokens)
    w.arr("tokenizer.ggml.scores", T_FLOAT32, vocab["scores"])
    w.arr("tokenizer.ggml.token_type", T_INT32, vocab["types"])
    w.u32("tokenizer.ggml.bos_token_id", vocab["bos"])
    w.u32("tokenizer.ggml.eos_token_id", im_end)
    w.u32("tokenizer.ggml.eot_token_id", im_end)
    w.u32("tokenizer.ggml.unknown_token_id", vocab["unk"])
    w.u32("tokenizer.ggml.padding_token_id", vocab["pad"])
    w.bool("tokenizer.ggml.add_bos_token", True)
    w.bool("tokenizer.ggml.add_eos_token", False)
    w.bool("tokenizer.ggml.add_space_prefix", True)
    w.str("tokenizer.chat_template", config.CHAT_TEMPLATE)
    return len(tokens)


def tensor_plan(cfg):
    """[(gguf name, state-dict name, shape outermost first, is a norm)]"""
    d, f, v = cfg["dim"], cfg["ffn_dim"], cfg["vocab_size"]
    hd = d // cfg["n_heads"]
    kvd = hd * cfg["n_kv_heads"]
    plan = [("token_embd.weight", "tok_embeddings.weight", (v, d), False)]
    for i in range(cfg["n_layers"]):
        p, b = "layers.%d." % i, "blk.%d." % i
        plan += [
            (b + "attn_norm.weight", p + "attention_norm.weight", (d,), True),
            (b + "attn_q.weight", p + "attention.wq.weight", (d, d), False),
            (b + "attn_k.weight", p + "attention.wk.weight", (kvd, d), False),
            (b + "attn_v.weight", p + "attention.wv.weight", (kvd, d), False),
            (b + "attn_output.weight", p + "attention.wo.weight", (d, d),
             False),
            (b + "ffn_norm.weight", p + "ffn_norm.weight", (d,), True),
            (b + "ffn_gate.weight", p + "feed_forward.w1.weight", (f, d),
             False),
            (b + "ffn_up.weight", p + "feed_forward.w3.weight", (f, d),
             False),
            (b + "ffn_down.weight", p + "feed_forward.w2.weight", (d, f),
             False),
        ]
    plan.append(("output_norm.weight", "norm.weight", (d,), True))
    if not cfg["tied"]:
        plan.append(("output.weight", "output.weight", (v, d), False))
    return plan


def write_gguf(path, cfg, weights, vocab, wtype):
    """Write the model (WEIGHTS: state-dict name -> float32 array)."""
    w = Writer()
    w.str("general.architecture", "llama")
    w.str("general.name", cfg["name"])
    # the project states no licence of its own; the weights come from
    # WordNet (and vkchat's manual), whose licence asks for its notice
    w.str("general.license", "WordNet-3.0 (training data; notice in "
          "tools/train/WORDNET-LICENSE)")
    w.str("general.source.url",
          "tools/train in the vkchat repository (WordNet 3.0 data)")
    # the one system prompt the model was trained with: vkchat uses it
    # whenever a conversation brings none of its own
    w.str("vkchat.system_prompt", config.SYSTEM_PROMPT)
    w.u32("general.file_type", FTYPE[wtype])
    w.u32("general.quantization_version", 2)
    w.u32("llama.context_length", cfg["ctx"])
    w.u32("llama.embedding_length", cfg["dim"])
    w.u32("llama.block_count", cfg["n_layers"])
    w.u32("llama.feed_forward_length", cfg["ffn_dim"])
    w.u32("llama.attention.head_count", cfg["n_heads"])
    w.u32("llama.attention.head_count_kv", cfg["n_kv_heads"])
    w.u32("llama.rope.dimension_count", cfg["dim"] // cfg["n_heads"])
    w.f32("llama.rope.freq_base", cfg["rope_theta"])
    w.f32("llama.attention.layer_norm_rms_epsilon", cfg["rms_eps"])
    w.u32("llama.vocab_size", cfg["vocab_size"])
    n_vocab = add_tokenizer(w, vocab)
    if n_vocab != cfg["vocab_size"]:
        raise SystemExit("export: tokenizer has %d tokens, config says %d" %
                         (n_vocab, cfg["vocab_size"]))
    for gname, sname, shape, norm in tensor_plan(cfg):
        a = np.asarray(weights[sname], dtype=np.float32)
        if a.shape != shape:
            raise SystemExit("export: %s has shape %s, expected %s" %
                             (sname, a.shape, shape))
        gt, data = encode_tensor(a, "f32" if norm else wtype)
        w.tensor(gname, gt, list(reversed(shape)), data)
    return w.write(path)


def write_vocab_gguf(path, vocab, name):
    """A vocabulary-only GGUF (for checking the tokenizer with vkchat)."""
    w = Writer()
    w.str("general.architecture", "llama")
    w.str("general.name", name)
    add_tokenizer(w, vocab)
    return w.write(path)


def read_gguf(path):
    """(metadata dict, {name: (ggml type, ne, bytes)}) of a GGUF v3 file
    written by this module (enough of a reader for reference.py and the
    round-trip test; vkchat's own reader is the real check)."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != GGUF_MAGIC:
        raise SystemExit("%s: not a GGUF file" % path)
    version, n_t, n_kv = struct.unpack_from("<IQQ", buf, 4)
    if version != 3:
        raise SystemExit("%s: GGUF version %d, expected 3" % (path, version))
    pos = 24

    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def rstr():
        nonlocal pos
        n = rd("<Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    fmts = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h",
            T_UINT32: "<I", T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?",
            T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d"}

    def rval(t):
        if t == T_STRING:
            return rstr()
        if t == T_ARRAY:
            et, n = rd("<I"), rd("<Q")
            return [rval(et) for _ in range(n)]
        return rd(fmts[t])

    meta = {}
    for _ in range(n_kv):
        k = rstr()
        meta[k] = rval(rd("<I"))
    infos = []
    for _ in range(n_t):
        name = rstr()
        nd = rd("<I")
        ne = [rd("<Q") for _ in range(nd)]
        infos.append((name, ne, rd("<I"), rd("<Q")))
    base = (pos + ALIGN - 1) // ALIGN * ALIGN
    tensors = {}
    for name, ne, t, off in infos:
        n = int(np.prod(ne))
        size = n * 4 if t == GGML_F32 else n * 2 if t == GGML_F16 else \
            n // QK8_0 * 34
        tensors[name] = (t, ne, buf[base + off:base + off + size])
    return meta, tensors


def weights_from_gguf(path, cfg):
    """State-dict arrays dequantized from a GGUF file of tensor_plan."""
    meta, tensors = read_gguf(path)
    out = {}
    for gname, sname, shape, _ in tensor_plan(cfg):
        if gname not in tensors:
            raise SystemExit("%s: missing tensor %s" % (path, gname))
        t, ne, data = tensors[gname]
        if list(reversed(shape)) != ne:
            raise SystemExit("%s: %s has ne %s, expected %s" %
                             (path, gname, ne, list(reversed(shape))))
        out[sname] = dequantize(t, data, shape)
    return meta, out


def random_weights(cfg, seed):
    rng = np.random.default_rng(seed)
    out = {}
    for _, sname, shape, norm in tensor_plan(cfg):
        out[sname] = (1.0 + 0.1 * rng.standard_normal(shape) if norm else
                      0.05 * rng.standard_normal(shape)).astype(np.float32)
    return out


def check_round_trip(path, cfg, weights, wtype):
    """Read PATH back: every tensor within its type's rounding of WEIGHTS
    (F16 and F32 exact after the cast, Q8_0 within about half a step)."""
    meta, got = weights_from_gguf(path, cfg)
    for gname, sname, shape, norm in tensor_plan(cfg):
        want = weights[sname]
        t = "f32" if norm else wtype
        if t == "q8_0":
            blocks = want.reshape(-1, QK8_0)
            step = np.repeat(np.max(np.abs(blocks), axis=1) / 127, QK8_0)
            err = np.abs(got[sname].reshape(-1) - want.reshape(-1))
            # half a step, plus the f16 rounding of the scale (2^-11
            # relative) times the largest code, 127
            ok = np.all(err <= step * (0.5 + 127.0 / 2048) + 1e-7)
        else:
            ref = want.astype(np.float16 if t == "f16" else np.float32)
            ok = np.array_equal(got[sname], ref.astype(np.float32))
        if not ok:
            raise SystemExit("%s: tensor %s does not read back" %
                             (path, gname))
    if meta["llama.block_count"] != cfg["n_layers"] or \
            meta["general.file_type"] != FTYPE[wtype]:
        raise SystemExit("%s: metadata does not read back" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="pocket")
    ap.add_argument("--work", required=True,
                    help="work directory (tokenizer.model, model.pt; "
                    "the GGUF files are written here)")
    ap.add_argument("--checkpoint", help="default: WORK/model.pt")
    ap.add_argument("--random", action="store_true",
                    help="random weights, checked by reading them back")
    ap.add_argument("--vocab-from", metavar="GGUF",
                    help="take the vocabulary from this GGUF file instead "
                    "of WORK/tokenizer.model (needs no sentencepiece)")
    ap.add_argument("--prefix", default=None,
                    help="output name prefix (default pocket-CONFIG)")
    args = ap.parse_args()
    cfg = config.get(args.config)
    if args.vocab_from:
        vocab = vocab_from_gguf(args.vocab_from)
    else:
        import sentencepiece as spm
        vocab = vocab_from_spm(spm.SentencePieceProcessor(
            model_file=os.path.join(args.work, "tokenizer.model")))
    if args.random:
        cfg["vocab_size"] = len(vocab["tokens"])
        weights = random_weights(cfg, cfg["seed"])
    else:
        import torch
        ck = torch.load(args.checkpoint or
                        os.path.join(args.work, "model.pt"),
                        map_location="cpu")
        cfg.update(ck["config"])
        weights = {k: v.float().numpy() for k, v in ck["model"].items()}
    prefix = args.prefix or "pocket-" + cfg["config"]
    os.makedirs(args.work, exist_ok=True)
    for wtype in ("f16", "q8_0"):
        path = os.path.join(args.work, "%s-%s.gguf" % (prefix, wtype))
        n = write_gguf(path, cfg, weights, vocab, wtype)
        if args.random:
            check_round_trip(path, cfg, weights, wtype)
        print("export: %s (%d bytes)" % (path, n), file=sys.stderr)


if __name__ == "__main__":
    main()
