# Running out of memory: under address-space limits ('ulimit -v'), from
# one too small to start the Vulkan driver to one too small to compile a
# shader, vkchat ends with a message about memory and exit status 4 (or
# succeeds), never a crash or abort (a status of 128 or more), and never
# claims there is no Vulkan device when there is one.
. "$TOP_SRCDIR/tests/lib.sh"

if ! model=$(t_shared models/stories260K.gguf); then
	t_skip "out of memory" "shared models not found"
	t_end
	exit
fi

if grep -q __asan_init "$VKCHAT" 2> /dev/null; then
	t_skip "out of memory" "AddressSanitizer needs far more address space"
	t_end
	exit
fi

# The validation layer's own allocations are not vkchat's to guard.
unset VKCHAT_VALIDATE

# limited KB CMD...: run CMD with an address-space limit of KB KiB.
limited() {
	kb=$1
	shift
	sh -c 'ulimit -v "$1" && shift && exec "$@"' sh "$kb" "$@" < /dev/null
}

# A prompt far larger than the limit: the reader's allocation fails.
yes "Once upon a time there was a cat." | head -c 30000000 > "$T_TMP/big.txt"
for kb in 40000 80000; do
	t_expect "tokenize a 30 MB prompt in $kb KiB: out of memory (4)" 4 \
		"^vkchat: out of memory \(allocating [0-9]+ bytes\)" \
		limited "$kb" "$VKCHAT" tokenize -m "$model" -f "$T_TMP/big.txt"
done

# Too little address space to map the model file itself (the limit where
# that happens, above the one where the program cannot even start, varies
# with the libraries: look for it).
found=
for kb in 6000 7000 8000 9000 10000 12000 14000; do
	limited "$kb" "$VKCHAT" info "$model" > "$T_OUT" 2>&1
	rc=$?
	if grep -q "cannot map" "$T_OUT"; then
		found=$kb
		break
	fi
done
if [ -z "$found" ]; then
	t_skip "info: a model that cannot be mapped" "no limit hit the mapping"
elif [ "$rc" -eq 4 ] && grep -q "Cannot allocate memory" "$T_OUT"; then
	t_ok "info in $found KiB: cannot map the model: out of memory (4)"
else
	t_fail "info in $found KiB: cannot map the model" \
		"status $rc: $(cat "$T_OUT")"
fi

if ! "$VKCHAT" devices > /dev/null 2>&1; then
	t_skip "out of memory: run" "no Vulkan device"
	t_end
	exit
fi
for kb in 20000 100000 200000 400000 600000 700000 800000 1000000 4000000; do
	limited "$kb" "$VKCHAT" run -m "$model" -n 4 -p "Once upon" \
		> "$T_OUT" 2>&1
	rc=$?
	name="run in $kb KiB"
	if [ "$rc" -ge 128 ]; then
		t_fail "$name" "status $rc: $(tail -n 2 "$T_OUT")"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
		t_fail "$name" "status $rc, not 4: $(tail -n 2 "$T_OUT")"
	elif [ "$rc" -eq 4 ] && ! grep -q "out of memory" "$T_OUT"; then
		t_fail "$name" "no word of memory: $(tail -n 2 "$T_OUT")"
	elif grep -q "no Vulkan device" "$T_OUT"; then
		t_fail "$name" "says there is no Vulkan device"
	else
		t_ok "$name (status $rc)"
	fi
done
t_expect "run with no limit works" 0 "" "$VKCHAT" run -m "$model" -n 4 \
	-p "Once upon"
t_end
