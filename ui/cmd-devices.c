/*
 * cmd-devices: "vkchat devices" (and "vkchat info --devices") lists the
 * Vulkan devices: index, name, type, driver, API version, device-local
 * memory, subgroup size, storage-buffer range, the optional features the
 * engine uses, and which device would be chosen.  --json writes the same
 * as one JSON object.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "util.h"
#include "vk-device.h"

/* The index vk_device_new(-1) would open, or -1. */
static int
cmd_devices_selected(const struct vk_device_info *d, int n)
{
	const char *env = getenv("VKCHAT_DEVICE");
	int64_t v;
	int i;

	if (env != NULL && env[0] != '\0' &&
	    util_parse_i64(env, 0, n - 1, &v) == 0 && d[v].unusable == NULL)
		return (int)v;
	for (i = 0; i < n; i++)
		if (d[i].chosen)
			return i;
	return -1;
}

static void
cmd_devices_print(const struct vk_device_info *d, int n, int sel)
{
	char feat[256], ver[32], b1[32], b2[32], b3[32];
	int i;

	for (i = 0; i < n; i++) {
		printf("%s %d  %s  [%s]\n", i == sel ? "*" : " ", d[i].index,
		    d[i].name, d[i].type);
		printf("     driver       %s %s (version %s)\n",
		    d[i].driver_name, d[i].driver_info,
		    vk_device_driver_version(&d[i], ver, sizeof ver));
		printf("     vulkan       %u.%u.%u\n",
		    VK_API_VERSION_MAJOR(d[i].api_version),
		    VK_API_VERSION_MINOR(d[i].api_version),
		    VK_API_VERSION_PATCH(d[i].api_version));
		printf("     memory       %s device-local\n",
		    util_bytes(d[i].local_bytes, b1, sizeof b1));
		printf("     subgroup     %u (%u..%u)\n", d[i].subgroup_size,
		    d[i].subgroup_min, d[i].subgroup_max);
		printf("     buffers      %s per binding, %s per allocation\n",
		    util_bytes(d[i].max_storage_range, b2, sizeof b2),
		    util_bytes(d[i].max_alloc, b3, sizeof b3));
		printf("     features     %s\n",
		    vk_device_features_str(&d[i].feat, feat, sizeof feat));
		if (d[i].unusable != NULL)
			printf("     unusable     %s\n", d[i].unusable);
	}
	if (sel < 0)
		printf("no device can run vkchat\n");
}

static void
cmd_devices_json(
    const struct vk_device_info *d, int n, int sel, struct sbuf *out)
{
	struct json_writer w;
	char feat[256], ver[32];
	int i;

	json_writer_init(&w, out, 1);
	json_obj_begin(&w);
	json_key(&w, "selected");
	if (sel >= 0)
		json_int(&w, sel);
	else
		json_null(&w);
	json_key(&w, "devices");
	json_arr_begin(&w);
	for (i = 0; i < n; i++) {
		const char *f, *sp;

		json_obj_begin(&w);
		json_key(&w, "index");
		json_int(&w, d[i].index);
		json_key(&w, "name");
		json_str(&w, d[i].name);
		json_key(&w, "type");
		json_str(&w, d[i].type);
		json_key(&w, "vendor_id");
		json_int(&w, d[i].vendor_id);
		json_key(&w, "device_id");
		json_int(&w, d[i].device_id);
		json_key(&w, "driver_name");
		json_str(&w, d[i].driver_name);
		json_key(&w, "driver_info");
		json_str(&w, d[i].driver_info);
		json_key(&w, "driver_version");
		json_str(&w, vk_device_driver_version(&d[i], ver, sizeof ver));
		json_key(&w, "api_version");
		snprintf(ver, sizeof ver, "%u.%u.%u",
		    VK_API_VERSION_MAJOR(d[i].api_version),
		    VK_API_VERSION_MINOR(d[i].api_version),
		    VK_API_VERSION_PATCH(d[i].api_version));
		json_str(&w, ver);
		json_key(&w, "device_local_bytes");
		json_int(&w, (int64_t)d[i].local_bytes);
		json_key(&w, "subgroup_size");
		json_int(&w, d[i].subgroup_size);
		json_key(&w, "subgroup_min");
		json_int(&w, d[i].subgroup_min);
		json_key(&w, "subgroup_max");
		json_int(&w, d[i].subgroup_max);
		json_key(&w, "max_storage_buffer_range");
		json_int(&w, (int64_t)d[i].max_storage_range);
		json_key(&w, "max_allocation");
		json_int(&w, (int64_t)d[i].max_alloc);
		json_key(&w, "features");
		json_arr_begin(&w);
		f = vk_device_features_str(&d[i].feat, feat, sizeof feat);
		while (*f != '\0') {
			sp = strchr(f, ' ');
			json_strn(
			    &w, f, sp != NULL ? (size_t)(sp - f) : strlen(f));
			f = sp != NULL ? sp + 1 : f + strlen(f);
		}
		json_end(&w);
		json_key(&w, "usable");
		json_bool(&w, d[i].unusable == NULL);
		json_key(&w, "unusable_reason");
		if (d[i].unusable != NULL)
			json_str(&w, d[i].unusable);
		else
			json_null(&w);
		json_end(&w);
	}
	json_end(&w);
	json_end(&w);
	sbuf_addc(out, '\n');
}

static void
cmd_devices_usage(FILE *f)
{
	fprintf(f,
	    "usage: vkchat devices [--json]\n"
	    "\n"
	    "List the Vulkan devices: name, type, driver, memory, subgroup "
	    "size,\n"
	    "limits and the features vkchat uses.  '*' marks the device "
	    "vkchat\n"
	    "uses (discrete GPU first; VKCHAT_DEVICE=N chooses another).\n"
	    "\n"
	    "  --json     print the same as one JSON object\n"
	    "  -h, --help show this help\n");
}

int
cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "devices", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vk_device_info *d;
	struct err err;
	int c, n, json = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'd':
			/* Accepted so "vkchat info --devices" can pass it on. */
			break;
		case 'h':
			cmd_devices_usage(stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("devices", argv);
		}
	}
	if (optind < argc) {
		cmd_error("devices: unexpected argument '%s'", argv[optind]);
		cmd_usage_hint("devices");
		return EXIT_USAGE;
	}
	if (vk_device_list(&d, &n, &err) < 0)
		return cmd_fail(&err);
	if (json) {
		struct sbuf sb;

		sbuf_init(&sb);
		cmd_devices_json(d, n, cmd_devices_selected(d, n), &sb);
		fputs(sb.buf, stdout);
		sbuf_release(&sb);
	} else {
		cmd_devices_print(d, n, cmd_devices_selected(d, n));
	}
	free(d);
	return EXIT_OK;
}
