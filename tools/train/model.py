"""model: the llama architecture in PyTorch, computed as GGUF "llama"
models are by llama.cpp (and vkchat).

  x = tok_embeddings[ids]
  per layer:  h = x + wo(attention(rope(wq(n)), rope(wk(n)), wv(n))),
              n = rmsnorm(x) * attention_norm
              x = h + w2(silu(w1(m)) * w3(m)),  m = rmsnorm(h) * ffn_norm
  logits = output(rmsnorm(x) * norm)   (output = tok_embeddings if tied)

rmsnorm(x) = x / sqrt(mean(x^2) + eps).  RoPE rotates ADJACENT pairs
(x[2i], x[2i+1]) of each head by pos * theta^(-2i/head_dim), llama.cpp's
rope type NORM, so the exported q/k weights need no permutation.
Attention is causal with scale 1/sqrt(head_dim); with GQA, query head h
reads key/value head h / (n_heads / n_kv_heads).

State-dict names are Meta's (layers.N.attention.wq.weight, ...), mapped
to GGUF names by export.tensor_plan.  Only APIs of torch 1.13 are needed;
scaled_dot_product_attention (torch 2) is used for training when it
exists, the explicit softmax otherwise and always for reference.py
(exact=True), which can also round K and V to f16 as the KV caches of
vkchat and llama.cpp do.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return y.type_as(x) * self.weight


def rope_tables(head_dim, n_pos, theta, device):
    """cos, sin of shape (n_pos, head_dim / 2), float32."""
    inv = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64,
                                  device=device) / head_dim)
    ang = torch.arange(n_pos, dtype=torch.float64, device=device)[:, None] \
        * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    """X (batch, seq, heads, head_dim): rotate pairs (2i, 2i+1)."""
    xf = x.float()
    x0, x1 = xf[..., 0::2], xf[..., 1::2]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    y = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1)
    return y.flatten(-2).type_as(x)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads = cfg["n_heads"]
        self.n_kv = cfg["n_kv_heads"]
        self.hd = cfg["dim"] // cfg["n_heads"]
        d = cfg["dim"]
        self.wq = nn.Linear(d, self.n_heads * self.hd, bias=False)
        self.wk = nn.Linear(d, self.n_kv * self.hd, bias=False)
        self.wv = nn.Linear(d, self.n_kv * self.hd, bias=False)
        self.wo = nn.Linear(self.n_heads * self.hd, d, bias=False)

    def forward(self, x, cos, sin, exact, kv_f16):
        b, t, _ = x.shape
        q = self.wq(x).view(b, t, self.n_heads, self.hd)
        k = self.wk(x).view(b, t, self.n_kv, self.hd)
        v = self.wv(x).view(b, t, self.n_kv, self.hd)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if kv_f16:
            k = k.half().float()
            v = v.half().float()
        rep = self.n_heads // self.n_kv
        if rep > 1:
            k = k.repeat_interleave(rep, dim=2)
            v = v.repeat_interleave(rep, dim=2)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        sdpa = getattr(F, "scaled_dot_product_attention", None)
        if sdpa is not None and not exact:
            y = sdpa(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
            mask = torch.ones(t, t, dtype=torch.bool,
                              device=x.device).triu(1)
            att = att.masked_fill(mask, float("-inf"))
            y = F.softmax(att.float(), dim=-1).type_as(q) @ v
        return self.wo(y.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["dim"], cfg["ffn_dim"]
        self.w1 = nn.Linear(d, f, bias=False)  # gate
        self.w2 = nn.Linear(f, d, bias=False)  # down
        self.w3 = nn.Linear(d, f, bias=False)  # up

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention_norm = RMSNorm(cfg["dim"], cfg["rms_eps"])
        self.attention = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg["dim"], cfg["rms_eps"])
        self.feed_forward = FeedForward(cfg)

    def forward(self, x, cos, sin, exact, kv_f16):
        h = x + self.attention(self.attention_norm(x), cos, sin, exact,
                               kv_f16)
        return h + self.feed_forward(self.ffn_norm(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg["vocab_size"], cfg["dim"])
        self.layers = nn.ModuleList(Block(cfg)
                                    for _ in range(cfg["n_layers"]))
        self.norm = RMSNorm(cfg["dim"], cfg["rms_eps"])
        self.output = nn.Linear(cfg["dim"], cfg["vocab_size"], bias=False)
        if cfg["tied"]:
            self.output.weight = self.tok_embeddings.weight
        cos, sin = rope_tables(cfg["dim"] // cfg["n_heads"], cfg["ctx"],
                               cfg["rope_theta"], None)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init)
        # GPT-2 style: scale the residual projections by depth
        for name, p in self.named_parameters():
            if name.endswith("wo.weight") or name.endswith("w2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 *
                                                         cfg["n_layers"]))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, ids, exact=False, kv_f16=False):
        """Logits (batch, seq, vocab) in float32 for IDS (batch, seq)."""
        t = ids.shape[1]
        x = self.tok_embeddings(ids)
        cos, sin = self.rope_cos[:t], self.rope_sin[:t]
        for layer in self.layers:
            x = layer(x, cos, sin, exact, kv_f16)
        return self.output(self.norm(x)).float()

    def n_params(self):
        seen, n = set(), 0
        for p in self.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                n += p.numel()
        return n
