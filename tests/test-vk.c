/*
 * test-vk: the Vulkan layer on lavapipe (or whatever device the machine
 * has) with the validation layer on: device listing and choice, the
 * errors for a missing driver or validation layer, buffers and the
 * row-split arithmetic, the pipeline cache file, and recorded graphs
 * replayed with changing step values.  Every test that opens a device
 * ends by checking that validation reported nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "harness.h"
#include "kern.h"
#include "util.h"
#include "vk-buf.h"
#include "vk-device.h"
#include "vk-graph.h"
#include "vk-pipe.h"
#include "vkt.h"

TEST(vk_device_list_and_open)
{
	struct vk_device_info *d;
	struct vk_device *dev;
	struct err err;
	char feat[256];
	int n, i, chosen = 0;

	dev = vkt_open();
	CHECK_INT(vk_device_list(&d, &n, &err), 0);
	CHECK(n >= 1);
	for (i = 0; i < n; i++) {
		chosen += d[i].chosen;
		CHECK_INT(d[i].index, i);
		CHECK(d[i].name[0] != '\0');
		test_note("device %d: %s [%s] %s", i, d[i].name, d[i].type,
		    d[i].unusable != NULL ? d[i].unusable : "usable");
	}
	CHECK_INT(chosen, 1);
	for (i = 0; i < n; i++)
		if (d[i].chosen)
			CHECK_STR(d[i].name, dev->info.name);
	free(d);
	CHECK(dev->info.subgroup_size >= 4);
	CHECK(dev->info.subgroup_min <= dev->info.subgroup_size);
	CHECK(dev->info.feat.storage16);
	CHECK(dev->info.feat.subgroup_arith);
	CHECK(dev->info.max_storage_range >= (1u << 27));
	CHECK(dev->info.storage_align >= 1 && dev->info.storage_align <= 256);
	vk_device_features_str(&dev->info.feat, feat, sizeof feat);
	CHECK_CONTAINS(feat, "storage16");
	CHECK_CONTAINS(feat, "subgroup-arith");
	test_note("enabled: %s; subgroup %u", feat, dev->info.subgroup_size);
	vkt_close(dev);
}

TEST(vk_device_index_override)
{
	struct vk_device *dev;
	struct err err;

	vkt_close(vkt_open());
	setenv("VKCHAT_DEVICE", "0", 1);
	CHECK_INT(vk_device_new(-1, 0, &dev, &err), 0);
	CHECK_INT(dev->info.index, 0);
	vkt_close(dev);
	setenv("VKCHAT_DEVICE", "99", 1);
	CHECK_INT(vk_device_new(-1, 0, &dev, &err), ERR_USAGE);
	CHECK_CONTAINS(err.msg, "no Vulkan device 99");
	setenv("VKCHAT_DEVICE", "gpu", 1);
	CHECK_INT(vk_device_new(-1, 0, &dev, &err), ERR_USAGE);
	CHECK_CONTAINS(err.msg, "VKCHAT_DEVICE: 'gpu'");
	/* An explicit index wins over the environment. */
	CHECK_INT(vk_device_new(0, 0, &dev, &err), 0);
	vkt_close(dev);
	CHECK_INT(vk_device_new(1000, 0, &dev, &err), ERR_USAGE);
}

TEST(vk_device_no_driver)
{
	struct vk_device_info *d;
	struct vk_device *dev;
	struct err err;
	int n;

	vkt_close(vkt_open());
	unsetenv("VKCHAT_VALIDATE");
	setenv("VK_ICD_FILENAMES", "/nonexistent/vkchat-icd.json", 1);
	setenv("VK_DRIVER_FILES", "/nonexistent/vkchat-icd.json", 1);
	CHECK_INT(vk_device_list(&d, &n, &err), ERR_DEVICE);
	CHECK_CONTAINS(err.msg, "apt-get install mesa-vulkan-drivers");
	CHECK_INT(vk_device_new(-1, 0, &dev, &err), ERR_DEVICE);
	CHECK_CONTAINS(err.msg, "mesa-vulkan-drivers");
}

TEST(vk_validation_missing_layer)
{
	struct vk_device *dev;
	struct err err;

	vkt_close(vkt_open());
	setenv("VK_LAYER_PATH", "/nonexistent", 1);
	CHECK_INT(vk_device_new(-1, 0, &dev, &err), ERR_DEVICE);
	CHECK_CONTAINS(err.msg, "vulkan-validationlayers");
}

TEST(vk_validation_counts_messages)
{
	struct vk_device *dev = vkt_open();
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = 0, /* invalid: VUID-VkBufferCreateInfo-size-00912 */
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
	};
	VkBuffer b = VK_NULL_HANDLE;

	CHECK_INT(vk_device_messages(dev), 0);
	if (vkCreateBuffer(dev->dev, &bci, NULL, &b) == VK_SUCCESS)
		vkDestroyBuffer(dev->dev, b, NULL);
	CHECK(vk_device_messages(dev) >= 1);
	CHECK_CONTAINS(vk_device_message(dev, 0), "size");
	CHECK(vk_device_message(dev, VK_DEVICE_MSG_KEEP) == NULL);
	vk_device_free(dev);
}

static uint64_t
test_vk_gcd(uint64_t a, uint64_t b)
{
	return b == 0 ? a : test_vk_gcd(b, a % b);
}

/* The invariants of a split of N rows of RB bytes under MAX, ALIGN. */
static void
test_vk_split_ok(uint64_t rb, uint64_t n, uint64_t max, uint64_t align)
{
	struct vk_buf_chunk *c;
	struct err err;
	size_t k, i;
	uint64_t row = 0, smallest = UINT64_MAX, largest = 0, step, max_rows;

	if (vk_buf_split_rows(rb, n, max, align, &c, &k, &err) < 0) {
		test_fail(__FILE__, __LINE__, "split %llu x %llu: %s",
		    (unsigned long long)n, (unsigned long long)rb, err.msg);
		return;
	}
	for (i = 0; i < k; i++) {
		CHECK(c[i].row0 == row);
		CHECK(c[i].rows > 0);
		CHECK(c[i].offset == c[i].row0 * rb);
		CHECK(c[i].size == c[i].rows * rb);
		CHECK(c[i].size <= max);
		CHECK(c[i].offset % align == 0);
		row += c[i].rows;
		if (i + 1 < k) {
			smallest = c[i].rows < smallest ? c[i].rows : smallest;
			largest = c[i].rows > largest ? c[i].rows : largest;
		}
	}
	CHECK(row == n);
	/* As few chunks as the limit allows, all but the last alike. */
	step = align / test_vk_gcd(rb, align);
	max_rows = max / rb / step * step;
	CHECK(max_rows > 0 && k == (n + max_rows - 1) / max_rows);
	CHECK(k < 2 || smallest == largest);
	free(c);
}

TEST(vk_buf_split_rows_math)
{
	const uint64_t mib128 = 128ull << 20;
	struct vk_buf_chunk *c;
	struct err err;
	size_t n;
	uint32_t s = 12345;
	int i;

	/* Llama 3 token embedding, Q4_0: 128256 rows of 4096 values. */
	CHECK_INT(vk_buf_split_rows(2304, 128256, mib128, 64, &c, &n, &err), 0);
	CHECK_INT(n, 3);
	CHECK(c[0].size <= mib128 && c[2].row0 + c[2].rows == 128256);
	free(c);
	test_vk_split_ok(2304, 128256, mib128, 64);
	/* F32 of the same: 2 GiB in 16+ pieces. */
	test_vk_split_ok(16384, 128256, mib128, 16);
	/* Exactly one limit's worth is one chunk. */
	CHECK_INT(vk_buf_split_rows(1024, 131072, mib128, 16, &c, &n, &err), 0);
	CHECK_INT(n, 1);
	free(c);
	/* One more row makes two even halves. */
	CHECK_INT(vk_buf_split_rows(1024, 131073, mib128, 16, &c, &n, &err), 0);
	CHECK_INT(n, 2);
	CHECK_INT(c[0].rows, 65537);
	free(c);
	/* Q4_0 rows of 18 bytes start aligned to 16 only every 8 rows. */
	CHECK_INT(
	    vk_buf_split_rows(18, 100, 100, 16, &c, &n, &err), ERR_UNSUPPORTED);
	CHECK_CONTAINS(err.msg, "in groups of 8 rows");
	test_vk_split_ok(18, 100, 144, 16);
	CHECK_INT(
	    vk_buf_split_rows(200, 4, 100, 1, &c, &n, &err), ERR_UNSUPPORTED);
	CHECK_INT(vk_buf_split_rows(0, 4, 100, 1, &c, &n, &err), ERR_RANGE);
	CHECK_INT(vk_buf_split_rows(8, 4, 100, 3, &c, &n, &err), ERR_RANGE);
	for (i = 0; i < 300; i++) {
		uint64_t rb, rows, align;

		s = s * 1103515245u + 12345u;
		rb = 1 + (s >> 8) % 5000;
		s = s * 1103515245u + 12345u;
		rows = 1 + (s >> 8) % 100000;
		align = 1ull << ((s >> 4) % 9);
		test_vk_split_ok(rb, rows, rb * 256 + (s >> 20), align);
	}
}

TEST(vk_buf_transfers)
{
	struct vk_device *dev = vkt_open();
	const size_t n = (3u << 20) / 4 + 5;
	uint32_t *a = xmalloc(n * 4), *back;
	enum vk_buf_kind kinds[] = { VK_BUF_DEVICE, VK_BUF_HOST,
		VK_BUF_READBACK };
	struct err err;
	size_t i, k;

	for (i = 0; i < n; i++)
		a[i] = (uint32_t)(i * 2654435761u);
	for (k = 0; k < ARRAY_LEN(kinds); k++) {
		struct vk_buf *b = vkt_buf(dev, kinds[k], a, n * 4);
		uint32_t part[3] = { 7, 8, 9 };

		back = vkt_read(b, n * 4);
		CHECK(memcmp(a, back, n * 4) == 0);
		CHECK_INT(vk_buf_upload(b, 40, part, sizeof part, &err), 0);
		CHECK_INT(vk_buf_download(b, 36, part, sizeof part, &err), 0);
		CHECK_INT(part[0], a[9]);
		CHECK_INT(part[1], 7);
		CHECK_INT(part[2], 8);
		CHECK_INT(
		    vk_buf_upload(b, n * 4 - 4, part, 8, &err), ERR_RANGE);
		CHECK_CONTAINS(err.msg, "outside");
		free(back);
		vk_buf_free(b);
	}
	free(a);
	vkt_close(dev);
}

TEST(vk_buf_out_of_memory)
{
	struct vk_device *dev = vkt_open();
	uint64_t heap = dev->mem.memoryHeaps[0].size;
	struct vk_buf *b = NULL, *big;
	struct err err;

	CHECK_INT(vk_buf_new(dev, dev->info.max_alloc + 1, VK_BUF_DEVICE,
		      "huge", &b, &err),
	    ERR_NOMEM);
	CHECK_CONTAINS(err.msg, "'huge' needs");
	CHECK_CONTAINS(err.msg, "largest allocation");
	/* Take half the heap, then ask for more than what is left. */
	if (dev->mem.memoryHeapCount == 1 && heap / 2 <= dev->info.max_alloc &&
	    vk_buf_new(dev, heap / 2, VK_BUF_DEVICE, "half", &big, &err) == 0) {
		CHECK_INT(vk_buf_new(dev, heap / 2 + heap / 4, VK_BUF_DEVICE,
			      "weights", &b, &err),
		    ERR_NOMEM);
		CHECK_CONTAINS(err.msg, "out of device memory for 'weights'");
		CHECK_CONTAINS(err.msg, "heap 0 has");
		CHECK_CONTAINS(err.msg, "already used by vkchat");
		test_note("%s", err.msg);
		vk_buf_free(big);
	}
	CHECK_INT(
	    vk_buf_new(dev, 0, VK_BUF_HOST, "empty", &b, &err), ERR_RANGE);
	vkt_close(dev);
}

static struct vk_pipe *
test_vk_pipe(struct vk_device *dev)
{
	struct vk_pipe_desc d = {
		.shader = "add",
		.n_bind = 3,
		.write_mask = 4,
		.push_size = 28,
		.n_spec = 1,
		.spec = { 64 },
	};
	struct vk_pipe *p = NULL;
	struct err err;

	if (vk_pipe_new(dev, &d, &p, &err) < 0)
		test_fail(__FILE__, __LINE__, "vk_pipe_new: %s", err.msg);
	return p;
}

TEST(vk_pipe_cache_roundtrip)
{
	struct vk_device *dev = vkt_open();
	const char *tmp = test_tmpfile("cache/pc.bin");
	char path[512], *file, *def;
	size_t len, first;
	struct err err;

	snprintf(path, sizeof path, "%s", tmp);
	/* The default lives in the XDG cache directory, per device. */
	def = vk_pipe_cache_path(dev);
	CHECK_CONTAINS(def, "/vkchat/pipeline-cache-");
	free(def);

	CHECK_INT(vk_pipe_cache_open(dev, path, &err), 0);
	CHECK_INT(dev->pcache_loaded, 0);
	vk_pipe_free(test_vk_pipe(dev));
	vkt_close(dev); /* saves the cache */
	CHECK_INT(util_read_file(path, 0, &file, &len, &err), 0);
	CHECK(len > 32);
	CHECK(memcmp(file, "VKCHATPC", 8) == 0);
	first = len;

	/* A second start seeds the cache from the file. */
	dev = vkt_open();
	CHECK_INT(vk_pipe_cache_open(dev, path, &err), 0);
	CHECK_INT(dev->pcache_loaded, first - 32);
	vk_pipe_free(test_vk_pipe(dev));
	vkt_close(dev);

	/* Corrupt data (checksum), a foreign header, a truncated file. */
	file[len - 1] ^= 0x5a;
	CHECK_INT(util_write_file(path, file, len, 0600, &err), 0);
	dev = vkt_open();
	CHECK_INT(vk_pipe_cache_open(dev, path, &err), 0);
	CHECK_INT(dev->pcache_loaded, 0);
	vk_pipe_free(test_vk_pipe(dev));
	vkt_close(dev);

	CHECK_INT(util_read_file(path, 0, &file, &len, &err), 0);
	CHECK(len == first);
	file[32 + 16] ^= 1; /* pipelineCacheUUID, checksum made to match */
	{
		uint64_t h = 0xcbf29ce484222325ull;
		size_t i;

		for (i = 32; i < len; i++) {
			h ^= (unsigned char)file[i];
			h *= 0x100000001b3ull;
		}
		memcpy(file + 24, &h, 8);
	}
	CHECK_INT(util_write_file(path, file, len, 0600, &err), 0);
	dev = vkt_open();
	CHECK_INT(vk_pipe_cache_open(dev, path, &err), 0);
	CHECK_INT(dev->pcache_loaded, 0);
	vkt_close(dev);

	CHECK_INT(util_write_file(path, file, 20, 0600, &err), 0);
	dev = vkt_open();
	CHECK_INT(vk_pipe_cache_open(dev, path, &err), 0);
	CHECK_INT(dev->pcache_loaded, 0);
	vk_pipe_free(test_vk_pipe(dev));
	vkt_close(dev);
	free(file);
}

TEST(vk_pipe_errors)
{
	struct vk_device *dev = vkt_open();
	struct vk_pipe_desc d = { .shader = "no_such_shader", .n_bind = 1 };
	struct vk_pipe *p;
	struct err err;

	CHECK_INT(vk_pipe_new(dev, &d, &p, &err), ERR_NOTFOUND);
	CHECK_CONTAINS(err.msg, "no_such_shader");
	d.shader = "add";
	d.n_bind = VK_PIPE_MAX_BIND + 1;
	CHECK_INT(vk_pipe_new(dev, &d, &p, &err), ERR_RANGE);
	vkt_close(dev);
}

/*
 * Record once, replay many: an embedding lookup whose token ids change
 * in the host-visible step buffer between replays, two independent
 * lookups sharing a stage and an add that depends on both.
 */
TEST(vk_graph_replay_step_values)
{
	struct vk_device *dev = vkt_open();
	const uint32_t rows = 50, cols = 64;
	float *emb = xmalloc(rows * cols * 4), *out;
	struct kern_tok tok[2] = { 0 };
	struct kern_weight w;
	struct vk_buf *step, *y1, *y2, *sum;
	struct vk_graph *g;
	struct kern *k;
	struct err err;
	unsigned nd, nb;
	uint32_t i, rep;

	vkt_fill(emb, rows * cols, 1, 1.0f);
	CHECK_INT(kern_new(dev, &k, &err), 0);
	CHECK_INT(kern_weight_upload(
		      k, GGML_TYPE_F32, rows, cols, emb, "emb", &w, &err),
	    0);
	step = vkt_buf(dev, VK_BUF_HOST, NULL, sizeof tok);
	y1 = vkt_buf(dev, VK_BUF_DEVICE, NULL, cols * 4);
	y2 = vkt_buf(dev, VK_BUF_DEVICE, NULL, cols * 4);
	sum = vkt_buf(dev, VK_BUF_READBACK, NULL, cols * 4);
	CHECK_INT(vk_graph_new(dev, &g, &err), 0);
	CHECK_INT(vk_graph_begin(g, &err), 0);
	{
		struct kern_mat m1 = { vk_buf_all(y1), 0, cols };
		struct kern_mat m2 = { vk_buf_all(y2), 0, cols };
		struct kern_mat ms = { vk_buf_all(sum), 0, cols };
		struct vk_view t0 = vk_buf_view(step, 0, 16);
		struct vk_view t1 = vk_buf_view(step, 16, 16);

		CHECK_INT(kern_get_rows(k, g, &w, t0, m1, 1, &err), 0);
		CHECK_INT(kern_get_rows(k, g, &w, t1, m2, 1, &err), 0);
		vk_graph_stats(g, &nd, &nb);
		CHECK_INT(nb, 0);
		CHECK_INT(kern_add(k, g, m1, m2, ms, cols, 1, &err), 0);
	}
	CHECK_INT(vk_graph_end(g, &err), 0);
	vk_graph_stats(g, &nd, &nb);
	CHECK_INT(nd, 3);
	CHECK_INT(nb, 1);
	for (rep = 0; rep < 6; rep++) {
		tok[0].token = (int32_t)((rep * 7) % rows);
		tok[1].token = (int32_t)(rows - 1 - rep);
		memcpy(step->map, tok, sizeof tok);
		CHECK_INT(vk_graph_run(g, &err), 0);
		out = sum->map;
		for (i = 0; i < cols; i++)
			CHECK(out[i] ==
			    emb[tok[0].token * cols + i] +
				emb[tok[1].token * cols + i]);
	}
	vk_graph_free(g);
	vk_buf_free(sum);
	vk_buf_free(y2);
	vk_buf_free(y1);
	vk_buf_free(step);
	kern_weight_release(&w);
	kern_free(k);
	free(emb);
	vkt_close(dev);
}

TEST(vk_graph_errors)
{
	struct vk_device *dev = vkt_open();
	struct vk_buf *a = vkt_buf(dev, VK_BUF_DEVICE, NULL, 4096);
	struct vk_graph *g;
	struct kern *k;
	struct err err;

	CHECK_INT(kern_new(dev, &k, &err), 0);
	CHECK_INT(vk_graph_new(dev, &g, &err), 0);
	CHECK_INT(vk_graph_run(g, &err), ERR_USAGE);
	CHECK_INT(vk_graph_begin(g, &err), 0);
	{
		/* Misaligned binding offset, then a view past the end. */
		struct kern_mat bad = { vk_buf_view(a, 4, 1024), 0, 16 };
		struct kern_mat big = { vk_buf_view(a, 0, 8192), 0, 16 };
		struct kern_mat ok = { vk_buf_all(a), 0, 16 };

		if (dev->info.storage_align > 4) {
			CHECK_INT(kern_add(k, g, bad, ok, ok, 16, 4, &err),
			    ERR_RANGE);
			CHECK_CONTAINS(err.msg, "not a multiple of");
		}
		CHECK_INT(kern_add(k, g, ok, ok, big, 16, 4, &err), ERR_RANGE);
		/* The operand check: 100 rows do not fit 4 KiB. */
		CHECK_INT(kern_add(k, g, ok, ok, ok, 16, 100, &err), ERR_RANGE);
		CHECK_CONTAINS(err.msg, "add: first input");
	}
	CHECK(vk_graph_end(g, &err) < 0);
	CHECK_INT(vk_graph_run(g, &err), ERR_USAGE);
	vk_graph_free(g);
	kern_free(k);
	vk_buf_free(a);
	vkt_close(dev);
}

/*
 * Texel-buffer bindings: vk_buf_texel checks its range, and a pipeline
 * binding declared as a texel buffer refuses a view without one.
 */
TEST(vk_graph_texel_binding)
{
	struct vk_device *dev = vkt_open();
	struct vk_buf *a = vkt_buf(dev, VK_BUF_DEVICE, NULL, 4096);
	struct vk_pipe_desc d = {
		.shader = "mul_mv_tex",
		.n_bind = 8,
		.write_mask = 1u << 2,
		.texel_mask = 1u,
		.push_size = 17 * 4,
	};
	uint32_t push[17] = { 0 };
	struct vk_view views[8];
	struct vk_view odd = vk_buf_view(a, 0, 100);
	struct vk_pipe *p;
	struct vk_graph *g;
	struct err err;
	VkBufferView t;
	size_t i;

	if (!dev->info.texel_u128) {
		CHECK_INT(vk_buf_texel(&odd, &t, &err), ERR_UNSUPPORTED);
		test_skip("device has no RGBA32UI texel buffers");
	}
	CHECK_INT(vk_buf_texel(&odd, &t, &err), ERR_RANGE);
	CHECK_CONTAINS(err.msg, "size of 16");
	CHECK(t == VK_NULL_HANDLE);
	for (i = 0; i < 8; i++)
		views[i] = vk_buf_all(a);
	CHECK_INT(vk_pipe_new(dev, &d, &p, &err), 0);
	CHECK_INT(vk_graph_new(dev, &g, &err), 0);
	CHECK_INT(vk_graph_begin(g, &err), 0);
	CHECK_INT(
	    vk_graph_dispatch(g, p, views, push, 1, 1, 1, &err), ERR_USAGE);
	CHECK_CONTAINS(err.msg, "no texel view");
	CHECK_INT(vk_graph_begin(g, &err), 0);
	CHECK_INT(vk_buf_texel(&views[0], &views[0].texel, &err), 0);
	CHECK_INT(vk_graph_dispatch(g, p, views, push, 1, 1, 1, &err), 0);
	CHECK_INT(vk_graph_end(g, &err), 0);
	vk_graph_free(g);
	vk_pipe_free(p);
	vk_buf_texel_free(dev, views[0].texel);
	vk_buf_free(a);
	vkt_close(dev);
}
