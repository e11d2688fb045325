# vkchat devices: the listing, its JSON, and the error when no Vulkan
# driver is installed (status 3 with the package to install).  Skips the
# listing checks on a machine without any Vulkan device.
. "$TOP_SRCDIR/tests/lib.sh"

if "$VKCHAT" devices > "$T_TMP/dev.out" 2>&1; then
	t_expect "lists a device with its subgroup size" 0 "subgroup +[0-9]+" \
		"$VKCHAT" devices
	t_expect "marks the chosen device" 0 "^\* [0-9]+  " "$VKCHAT" devices
	t_expect "shows the features used" 0 "features +.*storage16" \
		"$VKCHAT" devices
	if command -v python3 > /dev/null 2>&1; then
		"$VKCHAT" devices --json > "$T_TMP/dev.json"
		if python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
ok = len(d['devices']) >= 1 and d['selected'] is not None
for x in d['devices']:
    ok = ok and x['subgroup_size'] >= 1 and x['max_storage_buffer_range'] > 0
    ok = ok and isinstance(x['features'], list) and x['name']
sys.exit(0 if ok else 1)" "$T_TMP/dev.json"; then
			t_ok "--json parses and has the fields"
		else
			t_fail "--json parses and has the fields" "$(head -c 300 "$T_TMP/dev.json")"
		fi
	else
		t_skip "--json parses and has the fields" "python3 not installed"
	fi
	t_expect "VKCHAT_DEVICE selects" 0 "^\* 0  " env VKCHAT_DEVICE=0 "$VKCHAT" devices
else
	t_skip "device listing" "$(head -n 1 "$T_TMP/dev.out")"
fi
t_expect "no driver: status 3 and how to install lavapipe" 3 \
	"apt-get install mesa-vulkan-drivers" \
	env VK_ICD_FILENAMES=/nonexistent/icd.json VK_DRIVER_FILES=/nonexistent/icd.json \
	"$VKCHAT" devices
t_expect "unknown option" 1 "unknown option" "$VKCHAT" devices --frob
t_expect "--help" 0 "usage: vkchat devices" "$VKCHAT" devices --help
t_end
