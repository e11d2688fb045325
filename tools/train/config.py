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

CONFIGS = {
    "pocket": {
        "name": "vkchat pocket dictionary",
        # corpus: every WordNet headword; man/help items repeated
        "limit": 0,
        "per_word": 3,
        "man_repeat": 24,
        "heldout_percent": 2,
        # tokenizer
        "vocab_size": 4096,
        "spm_sample_lines": 2000000,
        # model (llama): about 10M parameters
        "dim": 320,
        "n_layers": 8,
        "n_heads": 8,
        "n_kv_heads": 4,
        "ffn_dim": 864,
        "ctx": 512,
        "tied": True,
        "rope_theta": 10000.0,
        "rms_eps": 1e-5,
        # training
        "batch": 64,
        "steps": 10000,
        "lr": 2e-3,
        "min_lr": 2e-4,
        "warmup": 500,
        "weight_decay": 0.1,
        "eval_every": 500,
        "eval_batches": 40,
        "final_eval_batches": 0,  # 0: the whole held-out set
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


def get(name):
    """The config NAME (a copy, with its name under "config")."""
    if name not in CONFIGS:
        raise SystemExit("unknown config '%s' (%s)" %
                         (name, ", ".join(sorted(CONFIGS))))
    c = dict(CONFIGS[name])
    c["config"] = name
    return c
