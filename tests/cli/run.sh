# vkchat run and vkchat bench: greedy output of the shared stories260K
# model equals the reference text, the prompt from stdin, options and
# presets, exit statuses (1 usage, 2 bad model, 3 no device with a hint
# to install mesa-vulkan-drivers) and the bench report.
. "$TOP_SRCDIR/tests/lib.sh"

printf 'not a model at all\n' > "$T_TMP/bad.gguf"
t_expect "run: no model is a usage error" 1 "no model" \
	"$VKCHAT" run -p hello
t_expect "run: a bad option is a usage error" 1 "bad option" \
	"$VKCHAT" run -m "$T_TMP/bad.gguf" --bogus
t_expect "run: --help" 0 "usage: vkchat run" "$VKCHAT" run --help
# Prompt input is capped well above any context: /dev/zero ends with an
# error naming the limit instead of filling the memory.
t_expect "run: -f /dev/zero stops at the limit" 1 \
	"'/dev/zero' is longer than 64 MiB, the most vkchat reads" \
	timeout 60 "$VKCHAT" run -m x.gguf -f /dev/zero
t_expect "run: standard input is capped too" 1 \
	"'standard input' is longer than 64 MiB" \
	sh -c "timeout 60 '$VKCHAT' run -m x.gguf < /dev/zero"
# A system prompt that a raw run cannot use is named, not dropped silently.
t_expect "run: --set system=... in a raw run says it is not used" 2 \
	"warning: a raw completion has no system prompt: 'Brief\.' is not used" \
	"$VKCHAT" run -m "$T_TMP/nonexistent.gguf" -p hi --set system=Brief.
# A NUL in a prompt is refused (it would cut the stored text short of
# what the model saw), the same in run and chat.
printf 'a\0b' > "$T_TMP/nul.txt"
t_expect "run: a NUL byte in the prompt is refused, naming where" 1 \
	"the prompt in '.*nul\.txt' has a NUL byte at byte 1" \
	"$VKCHAT" run -m x.gguf -f "$T_TMP/nul.txt"
t_expect "chat: a line with a NUL byte is dropped with a message" 1 \
	"a line with a NUL byte \(at byte 1\) is not text" sh -c \
	"printf 'a\\000b\\n' | '$VKCHAT' chat --plain \
	 -m '$TOP_SRCDIR/tests/data/pocket-pilot-f16.gguf' --no-save -n 2 2>&1"
t_expect "tokenize: -f /dev/zero stops at the limit" 1 "longer than 64 MiB" \
	timeout 60 "$VKCHAT" tokenize -m "$TOP_SRCDIR/tests/data/pocket-pilot-f16.gguf" \
	-f /dev/zero
t_expect "run: a bad file is a bad model (2)" 2 "not a GGUF file" \
	"$VKCHAT" run -m "$T_TMP/bad.gguf" -p hello
t_expect "run: a missing file is a bad model (2)" 2 "nonexistent" \
	"$VKCHAT" run -m "$T_TMP/nonexistent.gguf" -p hello
t_expect "bench: no model is a usage error" 1 "no model" "$VKCHAT" bench
t_expect "bench: a bad count is a usage error" 1 "not a count" \
	"$VKCHAT" bench -m "$T_TMP/bad.gguf" -r 0

if ! model=$(t_shared models/stories260K.gguf) ||
	! ref=$(t_shared models/stories260K.greedy200.txt); then
	t_skip "run: stories260K" "shared models not found"
	t_end
	exit
fi

t_expect "run: no Vulkan driver is a device error (3)" 3 \
	"mesa-vulkan-drivers" env VK_DRIVER_FILES="$T_TMP/none.json" \
	VK_ICD_FILENAMES="$T_TMP/none.json" \
	"$VKCHAT" run -m "$model" -p hello
t_expect "run: an unknown preset is a usage error" 1 "no preset .nosuch.: not a built-in" \
	"$VKCHAT" run -m "$model" -p hi --preset nosuch
t_expect "run: a bad --set is a usage error" 1 "top_p" \
	"$VKCHAT" run -m "$model" -p hi --set top_p=7

if ! "$VKCHAT" devices > /dev/null 2>&1; then
	t_skip "run: stories260K" "no Vulkan device"
	t_end
	exit
fi

# Greedy from BOS alone: the 200 reference tokens' text, nothing else.
if "$VKCHAT" run -m "$model" -p "" -n 200 --temp 0 > "$T_TMP/out" \
	2> "$T_TMP/err" && cmp -s "$T_TMP/out" "$ref"; then
	t_ok "run: greedy from BOS prints the reference text"
else
	t_fail "run: greedy from BOS prints the reference text" \
		"$(head -c 300 "$T_TMP/out") $(head -n 3 "$T_TMP/err")"
fi

# The same prompt from -p and from standard input (newline dropped).
"$VKCHAT" run -m "$model" -p "Once upon a time" -n 40 --temp 0 \
	> "$T_TMP/p.out" 2>&1
printf 'Once upon a time\n' | "$VKCHAT" run -m "$model" -n 40 --temp 0 \
	> "$T_TMP/stdin.out" 2>&1
if [ -s "$T_TMP/p.out" ] && cmp -s "$T_TMP/p.out" "$T_TMP/stdin.out"; then
	t_ok "run: the prompt from standard input"
else
	t_fail "run: the prompt from standard input" \
		"$(head -c 200 "$T_TMP/p.out") | $(head -c 200 "$T_TMP/stdin.out")"
fi
t_expect "run: --echo prints the prompt first" 0 "^Once upon a time, " \
	"$VKCHAT" run -m "$model" -p "Once upon a time" -n 8 --temp 0 --echo
t_expect "run: the deterministic preset is greedy" 0 "^, there was a" \
	"$VKCHAT" run -m "$model" -p "Once upon a time" -n 8 \
	--preset deterministic
t_expect "run: a stop string ends the text before it" 0 \
	"^Once upon a time, there was a little girl named $" \
	sh -c "'$VKCHAT' run -m '$model' -p '' --temp 0 --stop Lily; echo"
t_expect "run: -v reports timing and the sampler" 0 \
	"prompt: 1 tokens.*tok/s" "$VKCHAT" run -m "$model" -p "" -n 4 -v \
	--temp 0
t_expect "run: the same seed gives the same text" 0 "" sh -c \
	"a=\$('$VKCHAT' run -m '$model' -p '' -n 30 --seed 5 --temp 0.9) &&
	 b=\$('$VKCHAT' run -m '$model' -p '' -n 30 --set seed=5,temp=0.9) &&
	 [ -n \"\$a\" ] && [ \"\$a\" = \"\$b\" ]"
t_expect "run: the context fills up" 0 "finish: length" \
	"$VKCHAT" run -m "$model" -p "" --ctx 16 --temp 0 -v
t_expect "bench: JSON report" 0 '"tg_tok_s":[0-9.]+.*"device_read_gb_s"' \
	"$VKCHAT" bench -m "$model" -p 16 -n 8 -r 1 --json
t_expect "bench: parallel decode" 0 "parallel 2 .* tok/s aggregate" \
	"$VKCHAT" bench -m "$model" -p 16 -n 8 -r 1 --parallel 2
t_expect "bench: sampler chain overhead" 0 \
	"sampler +[0-9.]+ us/token \\(default chain, 512 tokens" \
	"$VKCHAT" bench -m "$model" -p 16 -n 8 -r 1
t_expect "bench: sampler overhead in JSON" 0 '"sampler_us_per_token":[0-9.]+' \
	"$VKCHAT" bench -m "$model" -p 16 -n 8 -r 1 --json
# A small model runs on one thread of a CPU device (LP_NUM_THREADS=0 for
# llvmpipe) unless the user set LP_NUM_THREADS; both give the same text.
"$VKCHAT" bench -m "$model" -p 8 -n 4 -r 1 > "$T_TMP/bench1.txt" 2>&1
LP_NUM_THREADS=2 "$VKCHAT" bench -m "$model" -p 8 -n 4 -r 1 \
	> "$T_TMP/bench2.txt" 2>&1
if ! grep -q '^device .*\[cpu' "$T_TMP/bench1.txt"; then
	t_skip "bench: a small model runs on one thread" "not a CPU device"
elif grep -q '^device .*\[cpu, one thread\]' "$T_TMP/bench1.txt" &&
	grep -q '^device .*\[cpu\]' "$T_TMP/bench2.txt"; then
	t_ok "bench: a small model runs on one thread, LP_NUM_THREADS wins"
else
	t_fail "bench: a small model runs on one thread, LP_NUM_THREADS wins" \
		"$(grep '^device' "$T_TMP/bench1.txt" "$T_TMP/bench2.txt")"
fi
LP_NUM_THREADS=2 "$VKCHAT" run -m "$model" -p "Once upon a time" -n 24 \
	--temp 0 > "$T_TMP/pool.txt" 2>&1
"$VKCHAT" run -m "$model" -p "Once upon a time" -n 24 --temp 0 \
	> "$T_TMP/inline.txt" 2>&1
if [ -s "$T_TMP/inline.txt" ] && cmp -s "$T_TMP/pool.txt" "$T_TMP/inline.txt"
then
	t_ok "one thread or the pool: the same greedy text"
else
	t_fail "one thread or the pool: the same greedy text" \
		"$(head -c 200 "$T_TMP/pool.txt") / $(head -c 200 "$T_TMP/inline.txt")"
fi
# VKCHAT_KERNELS picks the kernel set: "gpu" on this CPU device gives the
# same greedy text (the unit tests compare the kernels themselves).
VKCHAT_KERNELS=gpu "$VKCHAT" run -m "$model" -p "Once upon a time" -n 24 \
	--temp 0 > "$T_TMP/gpu.txt" 2>&1
"$VKCHAT" run -m "$model" -p "Once upon a time" -n 24 --temp 0 \
	> "$T_TMP/cpu.txt" 2>&1
if [ -s "$T_TMP/cpu.txt" ] && cmp -s "$T_TMP/gpu.txt" "$T_TMP/cpu.txt"; then
	t_ok "VKCHAT_KERNELS=gpu: the same greedy text"
else
	t_fail "VKCHAT_KERNELS=gpu: the same greedy text" \
		"$(head -c 200 "$T_TMP/gpu.txt") / $(head -c 200 "$T_TMP/cpu.txt")"
fi
VKCHAT_KERNELS=tpu t_expect "VKCHAT_KERNELS: a bad value is named" 1 \
	"VKCHAT_KERNELS: 'tpu' is not auto, gpu or cpu" \
	"$VKCHAT" run -m "$model" -p "x" -n 1
t_end
