# vkchat info: the values it prints for the shared models and vocab-only
# tokenizer files, its JSON, the engine's verdict (refused files, gemma3's
# window), and its errors (bad file: status 2 with the offset; missing
# file: status 2 too, as in run).
. "$TOP_SRCDIR/tests/lib.sh"

# json_check NAME FILE PYTHON-EXPR: ok when "vkchat info --json FILE" parses
# and the expression (over the parsed object d) is true.
json_check() {
	name=$1 file=$2 expr=$3
	if ! "$VKCHAT" info --json "$file" > "$T_TMP/info.json" 2> "$T_TMP/info.err"; then
		t_fail "$name" "vkchat info --json exited with $?: $(head -n 3 "$T_TMP/info.err")"
	elif python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if ($expr) else 1)" "$T_TMP/info.json" > "$T_TMP/py.out" 2>&1; then
		t_ok "$name"
	else
		t_fail "$name" "JSON check failed: $expr"
		sed 's/^/#   /' "$T_TMP/py.out" | head -n 5
	fi
}

have_python=1
command -v python3 > /dev/null 2>&1 || have_python=0

if m=$(t_shared models/stories260K.gguf); then
	t_expect "stories260K: layers 5" 0 "^layers +5$" "$VKCHAT" info "$m"
	t_expect "stories260K: heads 8" 0 "^heads +8$" "$VKCHAT" info "$m"
	t_expect "stories260K: kv heads 4" 0 "^kv heads +4$" "$VKCHAT" info "$m"
	t_expect "stories260K: embedding 64" 0 "^embedding +64$" "$VKCHAT" info "$m"
	t_expect "stories260K: ffn 172" 0 "^ffn +172$" "$VKCHAT" info "$m"
	t_expect "stories260K: head dim 8" 0 "^head dim +8$" "$VKCHAT" info "$m"
	t_expect "stories260K: context 2048" 0 "^context length +2048$" "$VKCHAT" info "$m"
	t_expect "stories260K: vocabulary 512" 0 "^vocabulary +512 tokens$" "$VKCHAT" info "$m"
	t_expect "stories260K: 48 tensors" 0 "^tensors +48$" "$VKCHAT" info "$m"
	t_expect "stories260K: all f32" 0 "^weights +f32 +48 tensors" "$VKCHAT" info "$m"
	t_expect "stories260K: bos text" 0 '^bos +1 "<s>"$' "$VKCHAT" info "$m"
	t_expect "stories260K: eos text" 0 '^eos +2 "</s>"$' "$VKCHAT" info "$m"
	t_expect "stories260K: rms eps" 0 "^rms eps +1e-05$" "$VKCHAT" info "$m"
	t_expect "stories260K: gguf v3" 0 "^gguf version +3$" "$VKCHAT" info "$m"
	t_expect "stories260K: file size" 0 "^file size +1185376 bytes" "$VKCHAT" info "$m"
	t_expect "stories260K: no chat template" 0 "^chat template +absent$" "$VKCHAT" info "$m"
	if [ "$have_python" = 1 ]; then
		json_check "stories260K --json" "$m" \
			'd["layers"] == 5 and d["heads"] == 8 and d["kv_heads"] == 4 and d["embedding"] == 64 and d["ffn"] == 172 and d["context_length"] == 2048 and d["tensor_count"] == 48 and d["gguf_version"] == 3 and d["tokenizer"]["vocab_size"] == 512 and d["tokenizer"]["special"]["bos"] == {"id": 1, "text": "<s>"} and d["weights"] == [{"type": "f32", "tensors": 48, "bytes": 1171200}] and d["parameters"] == 292800 and d["rms_eps"] == 1e-05 and d["vocab_only"] is False and len(d["identity"]) == 16'
	else
		t_skip "stories260K --json" "python3 not installed"
	fi

	head -c 5000 "$m" > "$T_TMP/trunc.gguf"
	t_expect "truncated copy: status 2 with the offset" 2 \
		"trunc.gguf': offset [0-9]+: truncated" "$VKCHAT" info "$T_TMP/trunc.gguf"
	head -c 20000 "$m" > "$T_TMP/trunc2.gguf"
	t_expect "cut in the data: status 2 with the offset" 2 \
		"offset [0-9]+: tensor '.*' data .* ends past the end of the file" \
		"$VKCHAT" info "$T_TMP/trunc2.gguf"
	t_expect "--json on a bad file: status 2" 2 "offset" \
		"$VKCHAT" info --json "$T_TMP/trunc.gguf"
else
	t_skip "stories260K" "shared models/stories260K.gguf not found"
fi

if m=$(t_shared models/stories260K-gguf-v1-legacy.gguf); then
	t_expect "v1 legacy: read as version 1" 0 "^gguf version +1$" "$VKCHAT" info "$m"
	t_expect "v1 legacy: layers 5" 0 "^layers +5$" "$VKCHAT" info "$m"
	t_expect "v1 legacy: kv heads 4" 0 "^kv heads +4$" "$VKCHAT" info "$m"
	t_expect "v1 legacy: vocabulary 512" 0 "^vocabulary +512 tokens$" "$VKCHAT" info "$m"
else
	t_skip "v1 legacy" "shared models/stories260K-gguf-v1-legacy.gguf not found"
fi

if m=$(t_shared models/llama-2-tiny-random.gguf); then
	t_expect "llama2 tiny: vocabulary 32000" 0 "^vocabulary +32000 tokens$" "$VKCHAT" info "$m"
	t_expect "llama2 tiny: layers 1" 0 "^layers +1$" "$VKCHAT" info "$m"
	t_expect "llama2 tiny: f16 weights" 0 "f16 +9 tensors" "$VKCHAT" info "$m"
	if [ "$have_python" = 1 ]; then
		json_check "llama2 tiny --json" "$m" \
			'd["tokenizer"]["vocab_size"] == 32000 and d["embedding"] == 8 and d["heads"] == 2 and d["head_dim"] == 4 and sorted(w["type"] for w in d["weights"]) == ["f16", "f32"]'
	fi
else
	t_skip "llama2 tiny" "shared models/llama-2-tiny-random.gguf not found"
fi

# The vocab-only tokenizer files: NAME VOCAB MODEL PRE ADD_BOS
found=0
for spec in "llama3 128256 gpt2 llama-bpe True" "qwen3 151669 gpt2 qwen2 False" \
	"gpt2 50257 gpt2 gpt-2 False" "llama2 32000 llama default True" \
	"mistral 32000 llama default True" "gemma3 262145 llama default True"; do
	set -- $spec
	m=$(t_shared "tokenizers/$1.gguf") || continue
	found=1
	t_expect "$1: vocabulary only" 0 "^tensors +0 \(vocabulary only\)$" "$VKCHAT" info "$m"
	t_expect "$1: vocabulary $2" 0 "^vocabulary +$2 tokens$" "$VKCHAT" info "$m"
	t_expect "$1: tokenizer $3 ($4)" 0 "^tokenizer +$3 \(pre $4\)$" "$VKCHAT" info "$m"
	if [ "$have_python" = 1 ]; then
		json_check "$1 --json" "$m" \
			"d['tokenizer']['vocab_size'] == $2 and d['tokenizer']['model'] == '$3' and d['tokenizer']['pre'] == '$4' and d['tokenizer']['add_bos'] is $5 and d['vocab_only'] is True and d['layers'] is None"
	fi
done
[ "$found" = 1 ] || t_skip "tokenizer files" "shared tokenizers/*.gguf not found"

t_expect "missing file: status 2, as in run" 2 "cannot open '$T_TMP/none.gguf': No such file" \
	"$VKCHAT" info "$T_TMP/none.gguf"
printf 'not a model at all' > "$T_TMP/text.gguf"
t_expect "not a GGUF file: status 2" 2 "offset 0: not a GGUF file" \
	"$VKCHAT" info "$T_TMP/text.gguf"
printf 'GGUF\004\000\000\000' > "$T_TMP/v4.gguf"
t_expect "GGUF v4: status 2, names the version" 2 "offset 4: GGUF version 4 is not supported" \
	"$VKCHAT" info "$T_TMP/v4.gguf"
t_expect "no file: a hint, status 1" 1 "Try .vkchat info --help." "$VKCHAT" info
t_expect "two files: status 1" 1 "one model file" "$VKCHAT" info a.gguf b.gguf
t_expect "unknown option: status 1" 1 "unknown option '--frob'" "$VKCHAT" info --frob x.gguf
t_expect "--help" 0 "usage: vkchat info" "$VKCHAT" info --help
t_expect "help info" 0 "--json" "$VKCHAT" help info
if q=$(t_shared tokenizers/qwen3.gguf); then
	t_expect "chat format from the vocabulary (qwen3: chatml)" 0 \
		"chat format +chatml \(.*<\|im_start\|>" "$VKCHAT" info "$q"
else
	t_skip "chat format from the vocabulary" "shared data absent"
fi
if s=$(t_shared models/stories260K.gguf); then
	t_expect "base model: plain chat format" 0 "chat format +plain" \
		"$VKCHAT" info "$s"
	t_expect "chat format in --json" 0 '"chat_format": *\{ *"name": *"plain"' \
		sh -c "'$VKCHAT' info --json '$s' | tr -d '\n'"
else
	t_skip "base model: plain chat format" "shared data absent"
	t_skip "chat format in --json" "shared data absent"
fi
# The engine's verdict on files written here (a GGUF v3 header, keys,
# tensor records, zero data): a refused one names the unknown
# architecture and every tensor of a type the kernels do not run; a
# gemma3 one shows its sliding window.
if [ "$have_python" = 1 ]; then
	python3 - "$T_TMP" << 'EOF'
import struct, sys
def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b
def write(path, keys, tensors):
    kv = b""
    for k, v in keys:
        if isinstance(v, str):
            kv += s(k) + struct.pack("<I", 8) + s(v)
        elif isinstance(v, float):
            kv += s(k) + struct.pack("<If", 6, v)
        else:
            kv += s(k) + struct.pack("<II", 4, v)
    info, data = b"", b""
    for name, typ, ne, size in tensors:
        info += s(name) + struct.pack("<I", len(ne))
        info += b"".join(struct.pack("<Q", n) for n in ne)
        info += struct.pack("<IQ", typ, len(data))
        data += b"\0" * size + b"\0" * ((-size) % 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(keys))
    head += kv + info
    head += b"\0" * ((-len(head)) % 32)
    open(path, "wb").write(head + data)
def f32(name, *ne):
    n = 1
    for x in ne:
        n *= x
    return (name, 0, ne, 4 * n)
write(sys.argv[1] + "/falcon.gguf", [("general.architecture", "falcon")],
      [("blk.0.attn_q.weight", 10, (256, 2), 2 * 84),
       ("token_embd.weight", 1, (32, 4), 32 * 4 * 2)])
g = "gemma3."
write(sys.argv[1] + "/gemma3.gguf",
      [("general.architecture", "gemma3"), (g + "embedding_length", 64),
       (g + "block_count", 1), (g + "attention.head_count", 2),
       (g + "attention.head_count_kv", 1), (g + "feed_forward_length", 128),
       (g + "context_length", 512),
       (g + "attention.layer_norm_rms_epsilon", 1e-6),
       (g + "attention.sliding_window", 32)],
      [f32("token_embd.weight", 64, 40), f32("output_norm.weight", 64),
       f32("blk.0.attn_norm.weight", 64), f32("blk.0.attn_q.weight", 64, 64),
       f32("blk.0.attn_k.weight", 64, 32), f32("blk.0.attn_v.weight", 64, 32),
       f32("blk.0.attn_output.weight", 64, 64),
       f32("blk.0.attn_q_norm.weight", 32),
       f32("blk.0.attn_k_norm.weight", 32),
       f32("blk.0.post_attention_norm.weight", 64),
       f32("blk.0.ffn_norm.weight", 64),
       f32("blk.0.ffn_gate.weight", 64, 128),
       f32("blk.0.ffn_up.weight", 64, 128),
       f32("blk.0.ffn_down.weight", 128, 64),
       f32("blk.0.post_ffw_norm.weight", 64)])
EOF
	t_expect "engine: a refused file names the unknown architecture" 0 \
		"^engine +refused: architecture 'falcon' is not supported \(llama, qwen2, qwen3, gemma3, gpt2\)$" \
		"$VKCHAT" info "$T_TMP/falcon.gguf"
	t_expect "engine: and the tensor of an unsupported type" 0 \
		"^unsupported +blk\.0\.attn_q\.weight \(q2_K\)$" \
		"$VKCHAT" info "$T_TMP/falcon.gguf"
	json_check "engine in --json: refused, the tensor named" \
		"$T_TMP/falcon.gguf" \
		"not d['engine']['supported'] and 'falcon' in d['engine']['error'] and d['engine']['unsupported_tensors'] == [{'name': 'blk.0.attn_q.weight', 'type': 'q2_K'}]"
	t_expect "engine: gemma3's sliding window" 0 \
		"^sliding window +32 positions on 5 of every 6 layers$" \
		"$VKCHAT" info "$T_TMP/gemma3.gguf"
	json_check "engine in --json: gemma3's window and pattern" \
		"$T_TMP/gemma3.gguf" \
		"d['engine']['supported'] and d['engine']['sliding_window'] == {'window': 32, 'pattern': 6} and d['engine']['max_ctx'] is None"
else
	t_skip "engine verdicts" "python3 not installed"
fi
t_expect "--devices lists devices or says why not" 0 "" "$VKCHAT" info --devices
t_expect "--devices takes no file" 1 "no model file" "$VKCHAT" info --devices x.gguf
# A FIFO as the model is refused at once, not waited on (timeout: a hang
# is status 124).
mkfifo "$T_TMP/fifo.gguf"
t_expect "a FIFO as the model is refused without blocking" 2 \
	"'.*fifo\.gguf': not a regular file" \
	timeout 20 "$VKCHAT" info "$T_TMP/fifo.gguf"
t_expect "run: a FIFO as the model, refused" 2 "not a regular file" \
	timeout 20 "$VKCHAT" run -m "$T_TMP/fifo.gguf" -p hi
t_end
