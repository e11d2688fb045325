"""Every setting of the pocket-model pipeline, in one place.

A config names the corpus slice, the tokenizer size, the model shape and
the training schedule.  "pocket" is the model vkchat ships (trained on a
GPU); "pilot" is a tiny one that runs the whole pipeline on a CPU in a few
minutes, to prove the pipeline and to give the engine a PyTorch-checked
model in tests/data.  "ci" is smaller still, for tests/cli/train.sh.
"""

# The system prompt of every training conversation, and the one vkchat
# should pass (--system) when it chats with the model.
SYSTEM_PROMPT = ("You are vkchat's pocket dictionary: a tiny model that "
                 "explains English words and the vkchat program.")

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

# The Jinja template stored as tokenizer.chat_template (the usual ChatML
# template; vkchat and llama.cpp detect it as "chatml" by <|im_start|>).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Candidate shapes for the CPU-trained pocket model (bench.py measures
# them; docs/pocket-training.md has the numbers that chose one).  Head size
# 32 throughout, GQA 2:1 or 3:1, vocabulary 4096.
SHAPES = {
    "small": {"dim": 128, "n_layers": 6, "n_heads": 4, "n_kv_heads": 2,
              "ffn_dim": 384, "vocab_size": 4096, "tied": True},
    "mid": {"dim": 192, "n_layers": 6, "n_heads": 6, "n_kv_heads": 2,
            "ffn_dim": 512, "vocab_size": 4096, "tied": True},
    "large": {"dim": 256, "n_layers": 6, "n_heads": 8, "n_kv_heads": 4,
              "ffn_dim": 640, "vocab_size": 4096, "tied": True},
}

CONFIGS = {
    # The shipped model, trained on a 2-core CPU within a fixed wall-time
    # budget (docs/pocket-training.md has the measurements behind every
    # number): the most frequent WordNet headwords, every man-page and
    # --help item, small talk; bf16 autocast; a warm-up, stable, decay
    # schedule so a pilot's checkpoint can be continued into the full run.
    "pocket": {
        "name": "vkchat pocket dictionary",
        # corpus: the LIMIT headwords with the highest WordNet tag counts
        "limit": 12000,
        "rank": "frequency",
        "per_word": 3,
        "man_repeat": 12,
        "talk_repeat": 100,
        "heldout_percent": 2,
        # tokenizer
        "vocab_size": 4096,
        "spm_sample_lines": 2000000,
        # model: bench.py's "mid" shape, chosen by the pilots (--shape)
        "shape": "mid",
        "ctx": 256,
        "rope_theta": 10000.0,
        "rms_eps": 1e-5,
        # training
        "precision": "bf16",
        "batch": 32,
        "steps": 4000,
        "time_limit": 6000,
        "decay_frac": 0.25,
        "lr": 3e-3,
        "min_lr": 1e-4,
        "warmup": 100,
        "weight_decay": 0.1,
        "eval_every": 200,
        "eval_batches": 8,
        "final_eval_batches": 0,  # 0: the whole held-out set
        "checkpoint_every": 300,
        "seed": 1234,
    },
    "pilot": {
        "name": "vkchat pocket pilot",
        "limit": 6000,
        "per_word": 3,
        "man_repeat": 4,
        "heldout_percent": 2,
        "vocab_size": 768,
        "spm_sample_lines": 200000,
        "dim": 64,
        "n_layers": 2,
        "n_heads": 4,
        "n_kv_heads": 2,
        "ffn_dim": 192,
        "ctx": 256,
        "tied": False,
        "rope_theta": 10000.0,
        "rms_eps": 1e-5,
        "batch": 16,
        "steps": 2000,
        "lr": 3e-3,
        "min_lr": 3e-4,
        "warmup": 100,
        "weight_decay": 0.1,
        "eval_every": 200,
        "eval_batches": 20,
        "final_eval_batches": 0,
        "seed": 1234,
    },
    # a random-weight model for tests/cli/train.sh (export only)
    "ci": {
        "name": "vkchat export test",
        "limit": 200,
        "per_word": 3,
        "man_repeat": 1,
        "heldout_percent": 2,
        "vocab_size": 0,
        "dim": 64,
        "n_layers": 1,
        "n_heads": 4,
        "n_kv_heads": 2,
        "ffn_dim": 96,
        "ctx": 128,
        "tied": True,
        "rope_theta": 10000.0,
        "rms_eps": 1e-5,
        "seed": 1234,
    },
}


def get(name, shape=None):
    """The config NAME (a copy, with its name under "config"), its model
    shape (SHAPE, or the config's "shape") merged in."""
    if name not in CONFIGS:
        raise SystemExit("unknown config '%s' (%s)" %
                         (name, ", ".join(sorted(CONFIGS))))
    c = dict(CONFIGS[name])
    c["config"] = name
    shape = shape or c.get("shape")
    if shape:
        if shape not in SHAPES:
            raise SystemExit("unknown shape '%s' (%s)" %
                             (shape, ", ".join(sorted(SHAPES))))
        c.update(SHAPES[shape])
        c["shape"] = shape
    return c
