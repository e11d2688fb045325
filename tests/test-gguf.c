/*
 * test-gguf: the GGUF reader against the writer (every value type, nested
 * arrays, tensors of several types, alignments 32 and 64), the typed
 * getters, the shared real files (v3 models, the v1 fixture, vocab-only
 * tokenizer files), and a malformed-file generator: every truncation of a
 * good file, patched counts, lengths, types, dims, offsets and alignments,
 * and seeded random mutations.  Bad files must fail cleanly with an offset
 * in the message; the malformed buffers are exactly sized heap copies so
 * the sanitizer build catches any read past their end.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf-write.h"
#include "gguf.h"
#include "harness.h"
#include "util.h"

static void
test_gguf_put_le(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
test_gguf_get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Open LEN bytes of DATA from an exactly sized heap copy. */
static int
test_gguf_open_copy(
    const void *data, size_t len, struct gguf **g, struct err *err, void **copy)
{
	*copy = xmalloc(len ? len : 1);
	if (len > 0)
		memcpy(*copy, data, len);
	return gguf_open_buffer(*copy, len, "bad.gguf", g, err);
}

/* Touch everything a successful open hands out. */
static uint64_t
test_gguf_walk_value(const struct gguf_value *v)
{
	uint64_t sum = 0, i;

	if (v->type == GGUF_STRING)
		return v->v.str.len ? (uint8_t)v->v.str.ptr[v->v.str.len - 1]
				    : 0;
	if (v->type != GGUF_ARRAY)
		return v->v.u64;
	for (i = 0; i < v->v.arr.len; i++) {
		if (v->v.arr.type == GGUF_STRING) {
			struct gguf_str s = v->v.arr.strs[i];

			sum += s.len
			    ? (uint8_t)s.ptr[0] + (uint8_t)s.ptr[s.len - 1]
			    : 0;
		} else if (v->v.arr.type == GGUF_ARRAY) {
			sum += test_gguf_walk_value(&v->v.arr.items[i]);
		} else {
			sum += (uint64_t)gguf_arr_i64(v, i);
		}
	}
	return sum;
}

static uint64_t
test_gguf_walk(const struct gguf *g)
{
	uint64_t sum = 0;
	size_t i;
	char id[17];

	for (i = 0; i < gguf_kv_count(g); i++)
		sum += test_gguf_walk_value(&gguf_kv_at(g, i)->value);
	for (i = 0; i < gguf_tensor_count(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		const uint8_t *d = t->data;

		if (t->size > 0)
			sum += d[0] + d[t->size - 1];
	}
	gguf_identity(g, id);
	return sum + (uint8_t)id[0];
}

/* --- building files --- */

#define TEST_GGUF_N_TENSORS 4

/* A small model-like file with metadata of several kinds and 4 tensors. */
static void
test_gguf_build_good(uint32_t alignment, struct sbuf *out)
{
	static const char *const tokens[] = { "<unk>", "<s>", "</s>", "a",
		"b\xc3\xa9" };
	static const float scores[] = { 0, -1, -2, -3.5f, -4 };
	static const uint8_t a0[] = { 1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff };
	static const uint8_t a1[] = { 7, 0, 0, 0 };
	struct gguf_value items[2], nested;
	struct gguf_writer *w = gguf_writer_new(alignment);
	float f32[8 * 4];
	uint8_t q8[2 * 34], q4[3 * 18], i32[5 * 4];
	uint64_t ne1[2] = { 8, 4 }, ne2[2] = { 64, 1 }, ne3[3] = { 32, 3, 1 },
		 ne4[1] = { 5 };
	size_t i;

	memset(items, 0, sizeof(items));
	items[0].type = GGUF_ARRAY;
	items[0].v.arr.type = GGUF_INT32;
	items[0].v.arr.len = 2;
	items[0].v.arr.data = a0;
	items[1].type = GGUF_ARRAY;
	items[1].v.arr.type = GGUF_INT32;
	items[1].v.arr.len = 1;
	items[1].v.arr.data = a1;
	memset(&nested, 0, sizeof(nested));
	nested.type = GGUF_ARRAY;
	nested.v.arr.type = GGUF_ARRAY;
	nested.v.arr.len = 2;
	nested.v.arr.items = items;

	gguf_writer_str(w, "general.architecture", "llama");
	gguf_writer_str(w, "general.name", "test");
	gguf_writer_u32(w, "llama.block_count", 2);
	gguf_writer_f32(w, "llama.rope.freq_base", 10000.0f);
	gguf_writer_arr_str(w, "tokenizer.ggml.tokens", tokens, 5);
	gguf_writer_arr(w, "tokenizer.ggml.scores", GGUF_FLOAT32, scores, 5);
	gguf_writer_value(w, "test.nested", &nested);
	gguf_writer_bool(w, "tokenizer.ggml.add_bos_token", 1);

	for (i = 0; i < ARRAY_LEN(f32); i++)
		f32[i] = (float)i * 0.25f;
	for (i = 0; i < sizeof(q8); i++)
		q8[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(q4); i++)
		q4[i] = (uint8_t)(i * 13 + 5);
	for (i = 0; i < sizeof(i32); i++)
		i32[i] = (uint8_t)(200 - i);
	gguf_writer_tensor(w, "tok", GGML_TYPE_F32, 2, ne1, f32, sizeof(f32));
	gguf_writer_tensor(w, "q", GGML_TYPE_Q8_0, 2, ne2, q8, sizeof(q8));
	gguf_writer_tensor(w, "k4", GGML_TYPE_Q4_0, 3, ne3, q4, sizeof(q4));
	gguf_writer_tensor(w, "ids", GGML_TYPE_I32, 1, ne4, i32, sizeof(i32));
	gguf_writer_build(w, out);
	gguf_writer_free(w);
}

TEST(gguf_type_info)
{
	static const struct {
		uint32_t type;
		const char *name;
		uint32_t block, size;
	} want[] = {
		{ GGML_TYPE_F32, "f32", 1, 4 },
		{ GGML_TYPE_F16, "f16", 1, 2 },
		{ GGML_TYPE_BF16, "bf16", 1, 2 },
		{ GGML_TYPE_Q4_0, "q4_0", 32, 18 },
		{ GGML_TYPE_Q4_1, "q4_1", 32, 20 },
		{ GGML_TYPE_Q5_0, "q5_0", 32, 22 },
		{ GGML_TYPE_Q5_1, "q5_1", 32, 24 },
		{ GGML_TYPE_Q8_0, "q8_0", 32, 34 },
		{ GGML_TYPE_Q8_1, "q8_1", 32, 36 },
		{ GGML_TYPE_Q2_K, "q2_K", 256, 84 },
		{ GGML_TYPE_Q3_K, "q3_K", 256, 110 },
		{ GGML_TYPE_Q4_K, "q4_K", 256, 144 },
		{ GGML_TYPE_Q5_K, "q5_K", 256, 176 },
		{ GGML_TYPE_Q6_K, "q6_K", 256, 210 },
		{ GGML_TYPE_Q8_K, "q8_K", 256, 292 },
		{ GGML_TYPE_IQ4_NL, "iq4_nl", 32, 18 },
		{ GGML_TYPE_IQ4_XS, "iq4_xs", 256, 136 },
		{ GGML_TYPE_I8, "i8", 1, 1 },
		{ GGML_TYPE_I64, "i64", 1, 8 },
		{ GGML_TYPE_F64, "f64", 1, 8 },
		{ GGML_TYPE_TQ2_0, "tq2_0", 256, 66 },
		{ GGML_TYPE_MXFP4, "mxfp4", 32, 17 },
	};
	static const uint32_t unknown[] = { 4, 5, 31, 32, 33, 36, 37, 38,
		GGML_TYPE_COUNT, 1000, UINT32_MAX };
	size_t i, n = 0;

	for (i = 0; i < ARRAY_LEN(want); i++) {
		const struct ggml_type_info *t = ggml_type_info(want[i].type);

		CHECK(t != NULL);
		if (t == NULL)
			continue;
		CHECK_STR(t->name, want[i].name);
		CHECK_INT(t->block_size, want[i].block);
		CHECK_INT(t->type_size, want[i].size);
	}
	for (i = 0; i < ARRAY_LEN(unknown); i++)
		CHECK(ggml_type_info(unknown[i]) == NULL);
	for (i = 0; i < GGML_TYPE_COUNT; i++)
		n += ggml_type_info((uint32_t)i) != NULL;
	CHECK_INT(n, 32);
	CHECK_STR(gguf_vtype_name(GGUF_UINT32), "uint32");
	CHECK_STR(gguf_vtype_name(GGUF_FLOAT64), "float64");
	CHECK_STR(gguf_vtype_name(GGUF_ARRAY), "array");
	CHECK_STR(gguf_vtype_name(13), "unknown");
	CHECK_STR(gguf_vtype_name(UINT32_MAX), "unknown");
}

/* Every value type, through both writer interfaces, read back. */
static void
test_gguf_values(uint32_t alignment)
{
	static const uint8_t bools[] = { 1, 0, 1 };
	static const double f64s[] = { 1.5, -2.25 };
	static const int64_t i64s[] = { INT64_MIN, 5 };
	static const int8_t i8s[] = { -128, 127 };
	static const uint8_t deep_leaf[] = { 42 };
	static const char *const strs[] = { "", "x", "h\xc3\xa9llo" };
	struct gguf_str sarr[2] = { { "p", 1 }, { "q\0r", 3 } };
	struct gguf_value v, lvl[3], strarr, empty;
	struct gguf_writer *w = gguf_writer_new(alignment);
	const struct gguf_value *arr;
	const struct gguf_kv *kv;
	struct gguf *g = NULL;
	struct gguf_str s;
	struct sbuf sb;
	struct err err;
	uint64_t u64;
	int64_t i64;
	uint32_t u32;
	float f;
	int b;

	memset(&v, 0, sizeof(v));
	v.type = GGUF_UINT8;
	v.v.u64 = 250;
	gguf_writer_value(w, "t.u8", &v);
	v.type = GGUF_INT8;
	v.v.i64 = -100;
	gguf_writer_value(w, "t.i8", &v);
	v.type = GGUF_UINT16;
	v.v.u64 = 65000;
	gguf_writer_value(w, "t.u16", &v);
	v.type = GGUF_INT16;
	v.v.i64 = -30000;
	gguf_writer_value(w, "t.i16", &v);
	gguf_writer_u32(w, "t.u32", 4000000000u);
	gguf_writer_i32(w, "t.i32", -5);
	gguf_writer_u64(w, "t.u64", UINT64_MAX);
	v.type = GGUF_INT64;
	v.v.i64 = INT64_MIN;
	gguf_writer_value(w, "t.i64", &v);
	gguf_writer_f32(w, "t.f32", 0.5f);
	v.type = GGUF_FLOAT64;
	v.v.f64 = -1e300;
	gguf_writer_value(w, "t.f64", &v);
	gguf_writer_bool(w, "t.bool", 1);
	gguf_writer_bool(w, "t.false", 0);
	gguf_writer_str(w, "t.str", "h\xc3\xa9llo");
	v.type = GGUF_STRING;
	v.v.str.ptr = "a\0b";
	v.v.str.len = 3;
	gguf_writer_value(w, "t.str_nul", &v);
	gguf_writer_arr(
	    w, "t.arr_u16", GGUF_UINT16, (const uint16_t[]){ 1, 65535 }, 2);
	gguf_writer_arr(w, "t.arr_bool", GGUF_BOOL, bools, 3);
	gguf_writer_arr(w, "t.arr_f64", GGUF_FLOAT64, f64s, 2);
	gguf_writer_arr(w, "t.arr_i64", GGUF_INT64, i64s, 2);
	gguf_writer_arr(w, "t.arr_i8", GGUF_INT8, i8s, 2);
	gguf_writer_arr(w, "t.arr_empty", GGUF_UINT32, NULL, 0);
	gguf_writer_arr_str(w, "t.arr_str", strs, 3);
	memset(&strarr, 0, sizeof(strarr));
	strarr.type = GGUF_ARRAY;
	strarr.v.arr.type = GGUF_STRING;
	strarr.v.arr.len = 2;
	strarr.v.arr.strs = sarr;
	/* [[[42]], [["p", "q\0r"]], []]: three levels and an empty one. */
	memset(lvl, 0, sizeof(lvl));
	lvl[2].type = GGUF_ARRAY;
	lvl[2].v.arr.type = GGUF_UINT8;
	lvl[2].v.arr.len = 1;
	lvl[2].v.arr.data = deep_leaf;
	lvl[0].type = GGUF_ARRAY;
	lvl[0].v.arr.type = GGUF_ARRAY;
	lvl[0].v.arr.len = 1;
	lvl[0].v.arr.items = &lvl[2];
	lvl[1].type = GGUF_ARRAY;
	lvl[1].v.arr.type = GGUF_ARRAY;
	lvl[1].v.arr.len = 1;
	lvl[1].v.arr.items = &strarr;
	{
		struct gguf_value outer[3];

		memset(&empty, 0, sizeof(empty));
		empty.type = GGUF_ARRAY;
		empty.v.arr.type = GGUF_ARRAY;
		outer[0] = lvl[0];
		outer[1] = lvl[1];
		outer[2] = empty;
		memset(&v, 0, sizeof(v));
		v.type = GGUF_ARRAY;
		v.v.arr.type = GGUF_ARRAY;
		v.v.arr.len = 3;
		v.v.arr.items = outer;
		gguf_writer_value(w, "t.nested", &v);
	}

	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	gguf_writer_free(w);
	CHECK_INT(sb.len % alignment, 0);
	CHECK_INT(gguf_open_buffer(sb.buf, sb.len, "v.gguf", &g, &err), 0);
	if (g == NULL) {
		test_note("%s", err.msg);
		sbuf_release(&sb);
		return;
	}
	CHECK_INT(gguf_version(g), 3);
	CHECK_INT(gguf_alignment(g), alignment);
	CHECK_INT(gguf_tensor_count(g), 0);
	CHECK_INT(gguf_kv_count(g), alignment == 32 ? 22 : 23);
	CHECK_INT(gguf_data_offset(g) % alignment, 0);
	CHECK_INT(gguf_file_size(g), sb.len);

	kv = gguf_find(g, "t.u8");
	CHECK(kv != NULL && kv->value.type == GGUF_UINT8 &&
	    kv->value.v.u64 == 250);
	kv = gguf_find(g, "t.i8");
	CHECK(kv != NULL && kv->value.type == GGUF_INT8 &&
	    kv->value.v.i64 == -100);
	kv = gguf_find(g, "t.u16");
	CHECK(kv != NULL && kv->value.v.u64 == 65000);
	kv = gguf_find(g, "t.i16");
	CHECK(kv != NULL && kv->value.v.i64 == -30000);
	kv = gguf_find(g, "t.i64");
	CHECK(kv != NULL && kv->value.type == GGUF_INT64 &&
	    kv->value.v.i64 == INT64_MIN);
	kv = gguf_find(g, "t.f64");
	CHECK(kv != NULL && kv->value.type == GGUF_FLOAT64 &&
	    kv->value.v.f64 == -1e300);
	kv = gguf_find(g, "t.str_nul");
	CHECK(kv != NULL && kv->value.v.str.len == 3 &&
	    memcmp(kv->value.v.str.ptr, "a\0b", 3) == 0);
	CHECK_INT(gguf_get_u32(g, "t.u32", &u32, &err), 0);
	CHECK_INT(u32, 4000000000u);
	CHECK_INT(gguf_get_i64(g, "t.i32", &i64, &err), 0);
	CHECK_INT(i64, -5);
	CHECK_INT(gguf_get_u64(g, "t.u64", &u64, &err), 0);
	CHECK(u64 == UINT64_MAX);
	CHECK_INT(gguf_get_f32(g, "t.f32", &f, &err), 0);
	CHECK(f == 0.5f);
	CHECK_INT(gguf_get_bool(g, "t.bool", &b, &err), 0);
	CHECK_INT(b, 1);
	CHECK_INT(gguf_get_bool(g, "t.false", &b, &err), 0);
	CHECK_INT(b, 0);
	CHECK_INT(gguf_get_str(g, "t.str", &s, &err), 0);
	CHECK(gguf_str_eq(s, "h\xc3\xa9llo"));

	CHECK_INT(gguf_get_arr(g, "t.arr_u16", GGUF_UINT16, &arr, &err), 0);
	CHECK_INT(arr->v.arr.len, 2);
	CHECK_INT(gguf_arr_i64(arr, 0), 1);
	CHECK_INT(gguf_arr_i64(arr, 1), 65535);
	CHECK_INT(gguf_get_arr(g, "t.arr_bool", GGUF_BOOL, &arr, &err), 0);
	CHECK_INT(gguf_arr_i64(arr, 0) * 4 + gguf_arr_i64(arr, 1) * 2 +
		gguf_arr_i64(arr, 2),
	    5);
	CHECK_INT(gguf_get_arr(g, "t.arr_f64", GGUF_FLOAT64, &arr, &err), 0);
	CHECK(gguf_arr_f64(arr, 0) == 1.5 && gguf_arr_f64(arr, 1) == -2.25);
	CHECK_INT(gguf_arr_i64(arr, 1), -2);
	CHECK_INT(gguf_get_arr(g, "t.arr_i64", GGUF_INT64, &arr, &err), 0);
	CHECK(gguf_arr_i64(arr, 0) == INT64_MIN);
	CHECK_INT(gguf_get_arr(g, "t.arr_i8", GGUF_INT8, &arr, &err), 0);
	CHECK_INT(gguf_arr_i64(arr, 0), -128);
	CHECK(gguf_arr_f64(arr, 1) == 127.0);
	CHECK_INT(gguf_arr_i64(arr, 2), 0); /* out of range */
	CHECK_INT(gguf_get_arr(g, "t.arr_empty", GGUF_UINT32, &arr, &err), 0);
	CHECK_INT(arr->v.arr.len, 0);
	CHECK_INT(gguf_get_arr(g, "t.arr_str", GGUF_STRING, &arr, &err), 0);
	CHECK_INT(arr->v.arr.len, 3);
	CHECK_INT(arr->v.arr.strs[0].len, 0);
	CHECK(gguf_str_eq(arr->v.arr.strs[1], "x"));
	CHECK(gguf_str_eq(arr->v.arr.strs[2], "h\xc3\xa9llo"));

	CHECK_INT(gguf_get_arr(g, "t.nested", GGUF_ARRAY, &arr, &err), 0);
	CHECK_INT(arr->v.arr.len, 3);
	if (arr->v.arr.len == 3) {
		const struct gguf_value *a = &arr->v.arr.items[0];
		const struct gguf_value *c = &arr->v.arr.items[1];

		CHECK(a->type == GGUF_ARRAY && a->v.arr.type == GGUF_ARRAY &&
		    a->v.arr.len == 1);
		CHECK(a->v.arr.items[0].v.arr.type == GGUF_UINT8);
		CHECK_INT(gguf_arr_i64(&a->v.arr.items[0], 0), 42);
		CHECK(c->v.arr.len == 1 &&
		    c->v.arr.items[0].v.arr.type == GGUF_STRING);
		CHECK(c->v.arr.items[0].v.arr.len == 2 &&
		    gguf_str_eq(c->v.arr.items[0].v.arr.strs[0], "p") &&
		    c->v.arr.items[0].v.arr.strs[1].len == 3 &&
		    memcmp(c->v.arr.items[0].v.arr.strs[1].ptr, "q\0r", 3) ==
			0);
		CHECK(arr->v.arr.items[2].v.arr.type == GGUF_ARRAY &&
		    arr->v.arr.items[2].v.arr.len == 0);
	}
	/* Re-writing what was read gives the same bytes. */
	{
		struct gguf_writer *w2 = gguf_writer_new(32);
		struct sbuf sb2;
		size_t i;

		sbuf_init(&sb2);
		for (i = 0; i < gguf_kv_count(g); i++) {
			char *key = gguf_str_dup(gguf_kv_at(g, i)->key);

			gguf_writer_value(w2, key, &gguf_kv_at(g, i)->value);
			free(key);
		}
		gguf_writer_build(w2, &sb2);
		/* Same alignment key and entries: identical files. */
		if (alignment == 32)
			CHECK(sb2.len == sb.len &&
			    memcmp(sb2.buf, sb.buf, sb.len) == 0);
		gguf_writer_free(w2);
		sbuf_release(&sb2);
	}
	gguf_close(g);
	sbuf_release(&sb);
}

TEST(gguf_roundtrip_values_align32)
{
	test_gguf_values(32);
}

TEST(gguf_roundtrip_values_align64)
{
	test_gguf_values(64);
}

static void
test_gguf_tensors(uint32_t alignment)
{
	static const struct {
		const char *name;
		uint32_t type;
		uint32_t n_dims;
		uint64_t ne[4];
	} spec[] = {
		{ "a.f32", GGML_TYPE_F32, 2, { 3, 5 } },
		{ "b.f16", GGML_TYPE_F16, 1, { 7 } },
		{ "c.q8_0", GGML_TYPE_Q8_0, 2, { 64, 3 } },
		{ "d.q4_0", GGML_TYPE_Q4_0, 3, { 32, 2, 2 } },
		{ "e.q4_K", GGML_TYPE_Q4_K, 2, { 256, 2 } },
		{ "f.q6_K", GGML_TYPE_Q6_K, 4, { 512, 1, 1, 2 } },
		{ "g.bf16", GGML_TYPE_BF16, 2, { 1, 1 } },
		{ "h.i32", GGML_TYPE_I32, 0, { 0 } },
	};
	struct gguf_writer *w = gguf_writer_new(alignment);
	uint8_t *data[ARRAY_LEN(spec)];
	size_t size[ARRAY_LEN(spec)], i, j;
	struct gguf *g = NULL, *g2 = NULL;
	char id[17], id2[17];
	struct sbuf sb;
	struct err err;
	const char *path;

	gguf_writer_str(w, "general.architecture", "test");
	for (i = 0; i < ARRAY_LEN(spec); i++) {
		const struct ggml_type_info *t = ggml_type_info(spec[i].type);
		uint64_t n = 1;

		for (j = 0; j < spec[i].n_dims; j++)
			n *= spec[i].ne[j];
		size[i] = (size_t)(n / t->block_size * t->type_size);
		data[i] = xmalloc(size[i]);
		for (j = 0; j < size[i]; j++)
			data[i][j] = (uint8_t)(i * 31 + j * 7);
		gguf_writer_tensor(w, spec[i].name, spec[i].type,
		    spec[i].n_dims, spec[i].ne, data[i], size[i]);
	}
	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	CHECK_INT(gguf_open_buffer(sb.buf, sb.len, "t.gguf", &g, &err), 0);
	if (g == NULL) {
		test_note("%s", err.msg);
		goto out;
	}
	CHECK_INT(gguf_tensor_count(g), ARRAY_LEN(spec));
	CHECK_INT(gguf_data_offset(g) % alignment, 0);
	for (i = 0; i < ARRAY_LEN(spec); i++) {
		const struct gguf_tensor *t = gguf_tensor_find(g, spec[i].name);

		CHECK(t != NULL);
		if (t == NULL)
			continue;
		CHECK(t == gguf_tensor_at(g, i));
		CHECK_INT(t->type, spec[i].type);
		CHECK_INT(t->n_dims, spec[i].n_dims);
		for (j = 0; j < 4; j++)
			CHECK_INT(
			    t->ne[j], j < spec[i].n_dims ? spec[i].ne[j] : 1);
		CHECK_INT(t->size, size[i]);
		CHECK_INT(t->offset % alignment, 0);
		CHECK((const char *)t->data ==
		    sb.buf + gguf_data_offset(g) + t->offset);
		CHECK(memcmp(t->data, data[i], size[i]) == 0);
	}
	CHECK(gguf_tensor_find(g, "nope") == NULL);
	CHECK(gguf_tensor_at(g, ARRAY_LEN(spec)) == NULL);

	/* The file path: same contents, same identity. */
	path = test_tmpfile("t.gguf");
	CHECK_INT(gguf_writer_save(w, path, &err), 0);
	CHECK_INT(gguf_open(path, &g2, &err), 0);
	if (g2 != NULL) {
		CHECK_STR(gguf_path(g2), path);
		CHECK_INT(gguf_file_size(g2), sb.len);
		gguf_identity(g, id);
		gguf_identity(g2, id2);
		CHECK_STR(id, id2);
		CHECK_INT(strlen(id), 16);
		CHECK(
		    memcmp(gguf_tensor_at(g2, 2)->data, data[2], size[2]) == 0);
		gguf_close(g2);
	}
out:
	gguf_close(g);
	gguf_writer_free(w);
	sbuf_release(&sb);
	for (i = 0; i < ARRAY_LEN(spec); i++)
		free(data[i]);
}

TEST(gguf_roundtrip_tensors_align32)
{
	test_gguf_tensors(32);
}

TEST(gguf_roundtrip_tensors_align64)
{
	test_gguf_tensors(64);
}

/* The identity covers the metadata and tensor infos, not the weights. */
TEST(gguf_identity)
{
	struct sbuf a, b;
	struct gguf *ga = NULL, *gb = NULL;
	struct err err;
	char ia[17], ib[17];

	sbuf_init(&a);
	sbuf_init(&b);
	test_gguf_build_good(32, &a);
	test_gguf_build_good(32, &b);
	CHECK_INT(gguf_open_buffer(a.buf, a.len, "a", &ga, &err), 0);
	CHECK_INT(gguf_open_buffer(b.buf, b.len, "b", &gb, &err), 0);
	if (ga == NULL || gb == NULL)
		goto out;
	gguf_identity(ga, ia);
	gguf_identity(gb, ib);
	CHECK_STR(ia, ib);
	/* A fixed value: stable across runs and machines (FNV-1a 64). */
	test_note("identity %s", ia);
	b.buf[b.len - 1] ^= 1; /* weights: same identity */
	gguf_identity(gb, ib);
	CHECK_STR(ia, ib);
	b.buf[40] ^= 1; /* metadata: another identity */
	gguf_identity(gb, ib);
	CHECK(strcmp(ia, ib) != 0);
out:
	gguf_close(ga);
	gguf_close(gb);
	sbuf_release(&a);
	sbuf_release(&b);
}

TEST(gguf_identity_known_value)
{
	/* FNV-1a 64 of the 32 bytes of a minimal empty file. */
	struct gguf_writer *w = gguf_writer_new(32);
	struct gguf *g = NULL;
	struct sbuf sb;
	struct err err;
	char id[17];

	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	CHECK_INT(sb.len, 32);
	CHECK_INT(gguf_open_buffer(sb.buf, sb.len, "e", &g, &err), 0);
	if (g != NULL) {
		uint64_t h = 0xcbf29ce484222325ULL;
		char want[17];
		size_t i;

		for (i = 0; i < 32; i++) {
			h ^= (uint8_t)sb.buf[i];
			h *= 0x100000001b3ULL;
		}
		snprintf(want, sizeof(want), "%016" PRIx64, h);
		gguf_identity(g, id);
		CHECK_STR(id, want);
		/* The same on every machine. */
		CHECK_STR(id, "d1c6a8df6cb487cf");
		CHECK_INT(gguf_kv_count(g), 0);
		CHECK_INT(gguf_data_offset(g), 32);
		gguf_close(g);
	}
	gguf_writer_free(w);
	sbuf_release(&sb);
}

TEST(gguf_getters)
{
	struct gguf_writer *w = gguf_writer_new(32);
	struct gguf_value v;
	const struct gguf_value *arr;
	struct gguf *g = NULL;
	struct gguf_str s;
	struct sbuf sb;
	struct err err;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	float f;
	int b;
	char *dup;

	memset(&v, 0, sizeof(v));
	gguf_writer_str(w, "general.architecture", "qwen2");
	gguf_writer_u32(w, "qwen2.block_count", 24);
	gguf_writer_f32(w, "qwen2.rope.freq_base", 1e6f);
	gguf_writer_i32(w, "neg", -1);
	gguf_writer_i32(w, "pos", 7);
	gguf_writer_u64(w, "big", (uint64_t)1 << 40);
	gguf_writer_u64(w, "huge", UINT64_MAX);
	v.type = GGUF_UINT8;
	v.v.u64 = 9;
	gguf_writer_value(w, "small", &v);
	v.type = GGUF_FLOAT64;
	v.v.f64 = 0.125;
	gguf_writer_value(w, "dbl", &v);
	v.type = GGUF_INT64;
	v.v.i64 = INT64_MIN;
	gguf_writer_value(w, "min", &v);
	gguf_writer_str(w, "s", "text");
	gguf_writer_bool(w, "flag", 1);
	gguf_writer_arr(w, "ints", GGUF_INT32, (const int32_t[]){ 3, -4 }, 2);
	gguf_writer_arr(w, "floats", GGUF_FLOAT32,
	    (const float[]){ 1.5f, NAN, 1e30f, -1e30f }, 4);
	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	gguf_writer_free(w);
	CHECK_INT(gguf_open_buffer(sb.buf, sb.len, "g.gguf", &g, &err), 0);
	if (g == NULL) {
		sbuf_release(&sb);
		return;
	}

	/* Conversions that fit. */
	CHECK_INT(gguf_get_u32(g, "small", &u32, &err), 0);
	CHECK_INT(u32, 9);
	CHECK_INT(gguf_get_u32(g, "pos", &u32, &err), 0);
	CHECK_INT(u32, 7);
	CHECK_INT(gguf_get_u64(g, "big", &u64, &err), 0);
	CHECK(u64 == (uint64_t)1 << 40);
	CHECK_INT(gguf_get_i64(g, "neg", &i64, &err), 0);
	CHECK_INT(i64, -1);
	CHECK_INT(gguf_get_i64(g, "min", &i64, &err), 0);
	CHECK(i64 == INT64_MIN);
	CHECK_INT(gguf_get_f32(g, "dbl", &f, &err), 0);
	CHECK(f == 0.125f);
	CHECK_INT(gguf_get_arch_u32(g, "block_count", &u32, &err), 0);
	CHECK_INT(u32, 24);
	CHECK_INT(gguf_get_arch_f32(g, "rope.freq_base", &f, &err), 0);
	CHECK(f == 1e6f);

	/* Values that do not fit. */
	CHECK_INT(gguf_get_u32(g, "neg", &u32, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "'g.gguf': offset ");
	CHECK_CONTAINS(err.msg, "key 'neg' value -1 does not fit uint32");
	CHECK_INT(gguf_get_u32(g, "big", &u32, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "1099511627776 does not fit uint32");
	CHECK_INT(gguf_get_u64(g, "neg", &u64, &err), ERR_FORMAT);
	CHECK_INT(gguf_get_i64(g, "huge", &i64, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "does not fit int64");

	/* Wrong types. */
	CHECK_INT(gguf_get_u32(g, "s", &u32, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "key 's' has type string, want an integer");
	CHECK_INT(gguf_get_u32(g, "dbl", &u32, &err), ERR_FORMAT);
	CHECK_INT(gguf_get_f32(g, "pos", &f, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "has type int32, want a float");
	CHECK_INT(gguf_get_bool(g, "pos", &b, &err), ERR_FORMAT);
	CHECK_INT(gguf_get_str(g, "flag", &s, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "has type bool, want string");
	CHECK_INT(gguf_get_u32(g, "ints", &u32, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "has type array of int32");
	CHECK_INT(
	    gguf_get_arr(g, "ints", GGUF_FLOAT32, &arr, &err), ERR_FORMAT);
	CHECK_CONTAINS(
	    err.msg, "has type array of int32, want array of float32");
	CHECK_INT(gguf_get_arr(g, "s", GGUF_STRING, &arr, &err), ERR_FORMAT);
	CHECK_INT(gguf_get_u32(g, "s", &u32, NULL), ERR_FORMAT);

	/* Absent keys: ERR_NOTFOUND, err untouched. */
	err_clear(&err);
	CHECK_INT(gguf_get_u32(g, "absent", &u32, &err), ERR_NOTFOUND);
	CHECK_INT(gguf_get_f32(g, "absent", &f, &err), ERR_NOTFOUND);
	CHECK_INT(gguf_get_bool(g, "absent", &b, &err), ERR_NOTFOUND);
	CHECK_INT(gguf_get_str(g, "absent", &s, &err), ERR_NOTFOUND);
	CHECK_INT(
	    gguf_get_arr(g, "absent", GGUF_INT32, &arr, &err), ERR_NOTFOUND);
	CHECK_INT(gguf_get_arch_u32(g, "absent", &u32, &err), ERR_NOTFOUND);
	CHECK_INT(err.code, ERR_OK);
	CHECK_STR(err.msg, "");
	CHECK(gguf_find(g, "absent") == NULL);
	CHECK(gguf_find(g, "") == NULL);
	CHECK(gguf_kv_at(g, 1000) == NULL);

	/* Array element conversions. */
	CHECK_INT(gguf_get_arr(g, "ints", GGUF_INT32, &arr, &err), 0);
	CHECK_INT(gguf_arr_i64(arr, 1), -4);
	CHECK(gguf_arr_f64(arr, 0) == 3.0);
	CHECK_INT(gguf_get_arr(g, "floats", GGUF_FLOAT32, &arr, &err), 0);
	CHECK_INT(gguf_arr_i64(arr, 0), 1);
	CHECK_INT(gguf_arr_i64(arr, 1), 0);
	CHECK(gguf_arr_i64(arr, 2) == INT64_MAX);
	CHECK(gguf_arr_i64(arr, 3) == INT64_MIN);
	CHECK(isnan(gguf_arr_f64(arr, 1)));
	CHECK(gguf_arr_f64(arr, 4) == 0);
	CHECK(gguf_arr_i64(&gguf_find(g, "s")->value, 0) == 0);

	CHECK_INT(gguf_get_str(g, "s", &s, &err), 0);
	CHECK(gguf_str_eq(s, "text"));
	CHECK(!gguf_str_eq(s, "tex"));
	CHECK(!gguf_str_eq(s, "texts"));
	dup = gguf_str_dup(s);
	CHECK_STR(dup, "text");
	free(dup);
	gguf_close(g);
	sbuf_release(&sb);
}

/* Without general.architecture the arch getters find nothing. */
TEST(gguf_getters_no_arch)
{
	struct gguf_writer *w = gguf_writer_new(32);
	struct gguf *g = NULL;
	struct sbuf sb;
	struct err err;
	uint32_t u32;
	float f;

	gguf_writer_u32(w, "llama.block_count", 1);
	gguf_writer_u32(w, "general.architecture", 5);
	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	gguf_writer_free(w);
	CHECK_INT(gguf_open_buffer(sb.buf, sb.len, "n.gguf", &g, &err), 0);
	if (g != NULL) {
		CHECK_INT(gguf_get_arch_u32(g, "block_count", &u32, &err),
		    ERR_FORMAT);
		CHECK_CONTAINS(err.msg, "general.architecture");
		CHECK_INT(gguf_get_arch_f32(g, "x", &f, &err), ERR_FORMAT);
		gguf_close(g);
	}
	sbuf_release(&sb);
}

/* Many keys and tensors: the hash tables grow and still find all. */
TEST(gguf_many_entries)
{
	struct gguf_writer *w = gguf_writer_new(32);
	struct gguf *g = NULL;
	struct sbuf sb;
	struct err err;
	uint64_t ne = 1;
	float one = 1;
	char key[32];
	size_t i;

	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "k.%zu", i);
		gguf_writer_u32(w, key, (uint32_t)i);
	}
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "blk.%zu.w", i);
		gguf_writer_tensor(w, key, GGML_TYPE_F32, 1, &ne, &one, 4);
	}
	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	gguf_writer_free(w);
	CHECK_INT(gguf_open_buffer(sb.buf, sb.len, "m.gguf", &g, &err), 0);
	if (g != NULL) {
		for (i = 0; i < 3000; i++) {
			uint32_t v = 0;

			snprintf(key, sizeof(key), "k.%zu", i);
			CHECK_INT(gguf_get_u32(g, key, &v, &err), 0);
			CHECK_INT(v, i);
		}
		for (i = 0; i < 500; i++) {
			snprintf(key, sizeof(key), "blk.%zu.w", i);
			CHECK(gguf_tensor_find(g, key) == gguf_tensor_at(g, i));
		}
		CHECK(gguf_find(g, "k.3000") == NULL);
		gguf_close(g);
	}
	sbuf_release(&sb);
}

/* --- the shared real files --- */

TEST(gguf_shared_stories260k)
{
	const char *path = test_shared_path("models/stories260K.gguf");
	const struct gguf_tensor *t;
	struct gguf *g = NULL;
	const struct gguf_value *arr;
	struct gguf_str s;
	struct err err;
	uint32_t u32;
	float f;
	size_t i;

	if (path == NULL)
		test_skip("shared models/stories260K.gguf not found");
	CHECK_INT(gguf_open(path, &g, &err), 0);
	if (g == NULL) {
		test_note("%s", err.msg);
		return;
	}
	CHECK_INT(gguf_version(g), 3);
	CHECK_INT(gguf_tensor_count(g), 48);
	CHECK_INT(gguf_alignment(g), 32);
	CHECK_INT(gguf_get_str(g, "general.architecture", &s, &err), 0);
	CHECK(gguf_str_eq(s, "llama"));
	CHECK_INT(gguf_get_arch_u32(g, "embedding_length", &u32, &err), 0);
	CHECK_INT(u32, 64);
	CHECK_INT(gguf_get_arch_u32(g, "block_count", &u32, &err), 0);
	CHECK_INT(u32, 5);
	CHECK_INT(gguf_get_arch_u32(g, "attention.head_count", &u32, &err), 0);
	CHECK_INT(u32, 8);
	CHECK_INT(
	    gguf_get_arch_u32(g, "attention.head_count_kv", &u32, &err), 0);
	CHECK_INT(u32, 4);
	CHECK_INT(gguf_get_arch_u32(g, "context_length", &u32, &err), 0);
	CHECK_INT(u32, 2048);
	CHECK_INT(gguf_get_arch_u32(g, "feed_forward_length", &u32, &err), 0);
	CHECK_INT(u32, 172);
	CHECK_INT(
	    gguf_get_arch_f32(g, "attention.layer_norm_rms_epsilon", &f, &err),
	    0);
	CHECK(fabsf(f - 1e-5f) < 1e-9f);
	CHECK_INT(
	    gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_STRING, &arr, &err),
	    0);
	CHECK_INT(arr->v.arr.len, 512);
	CHECK(gguf_str_eq(arr->v.arr.strs[1], "<s>"));
	CHECK(gguf_find(g, "general.file_type") == NULL);
	for (i = 0; i < gguf_tensor_count(g); i++)
		CHECK_INT(gguf_tensor_at(g, i)->type, GGML_TYPE_F32);
	t = gguf_tensor_find(g, "token_embd.weight");
	CHECK(t != NULL && t->ne[0] == 64 && t->ne[1] == 512 &&
	    t->size == 64 * 512 * 4);
	t = gguf_tensor_find(g, "blk.4.attn_k.weight");
	CHECK(t != NULL && t->ne[0] == 64 && t->ne[1] == 32);
	/* The README's quirk: output.weight is a copy of the embeddings. */
	if (t != NULL && gguf_tensor_find(g, "output.weight") != NULL)
		CHECK(memcmp(gguf_tensor_find(g, "output.weight")->data,
			  gguf_tensor_find(g, "token_embd.weight")->data,
			  64 * 512 * 4) == 0);
	gguf_close(g);
}

TEST(gguf_shared_llama2_tiny)
{
	const char *path = test_shared_path("models/llama-2-tiny-random.gguf");
	const struct gguf_tensor *t;
	const struct gguf_value *arr;
	struct gguf *g = NULL;
	struct err err;
	uint32_t u32;

	if (path == NULL)
		test_skip("shared models/llama-2-tiny-random.gguf not found");
	CHECK_INT(gguf_open(path, &g, &err), 0);
	if (g == NULL) {
		test_note("%s", err.msg);
		return;
	}
	CHECK_INT(
	    gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_STRING, &arr, &err),
	    0);
	CHECK_INT(arr->v.arr.len, 32000);
	CHECK_INT(gguf_get_arch_u32(g, "embedding_length", &u32, &err), 0);
	CHECK_INT(u32, 8);
	CHECK_INT(gguf_get_arch_u32(g, "block_count", &u32, &err), 0);
	CHECK_INT(u32, 1);
	t = gguf_tensor_find(g, "token_embd.weight");
	CHECK(t != NULL && t->type == GGML_TYPE_F16 && t->ne[1] == 32000);
	t = gguf_tensor_find(g, "output_norm.weight");
	CHECK(t != NULL && t->type == GGML_TYPE_F32);
	gguf_close(g);
}

/* The v1 file is the same model: every tensor matches the v3 file's. */
TEST(gguf_shared_v1_legacy)
{
	const char *p1 =
	    test_shared_path("models/stories260K-gguf-v1-legacy.gguf");
	char *path1;
	const char *p3;
	struct gguf *g1 = NULL, *g3 = NULL;
	const struct gguf_value *arr1, *arr3;
	struct err err;
	uint32_t u32;
	size_t i;

	if (p1 == NULL)
		test_skip("shared models/stories260K-gguf-v1-legacy.gguf not "
			  "found");
	path1 = xstrdup(p1);
	CHECK_INT(gguf_open(path1, &g1, &err), 0);
	if (g1 == NULL) {
		test_note("%s", err.msg);
		free(path1);
		return;
	}
	CHECK_INT(gguf_version(g1), 1);
	CHECK_INT(gguf_tensor_count(g1), 48);
	CHECK_INT(gguf_get_arch_u32(g1, "block_count", &u32, &err), 0);
	CHECK_INT(u32, 5);
	CHECK_INT(
	    gguf_get_arch_u32(g1, "attention.head_count_kv", &u32, &err), 0);
	CHECK_INT(u32, 4);
	CHECK_INT(
	    gguf_get_arr(g1, "tokenizer.ggml.tokens", GGUF_STRING, &arr1, &err),
	    0);
	CHECK_INT(arr1->v.arr.len, 512);
	p3 = test_shared_path("models/stories260K.gguf");
	if (p3 != NULL && gguf_open(p3, &g3, &err) == 0) {
		CHECK_INT(gguf_get_arr(g3, "tokenizer.ggml.tokens", GGUF_STRING,
			      &arr3, &err),
		    0);
		for (i = 0; i < 512; i++) {
			struct gguf_str a = arr1->v.arr.strs[i];
			struct gguf_str b = arr3->v.arr.strs[i];

			CHECK(
			    a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
		}
		for (i = 0; i < gguf_tensor_count(g1); i++) {
			const struct gguf_tensor *t1 = gguf_tensor_at(g1, i);
			char *name = gguf_str_dup(t1->name);
			const struct gguf_tensor *t3 =
			    gguf_tensor_find(g3, name);

			CHECK_MSG(t3 != NULL, "tensor %s missing in v3", name);
			if (t3 != NULL) {
				CHECK(t1->type == t3->type &&
				    t1->n_elements == t3->n_elements);
				CHECK(memcmp(t1->ne, t3->ne, sizeof(t1->ne)) ==
				    0);
				CHECK_MSG(t1->size == t3->size &&
					memcmp(t1->data, t3->data, t1->size) ==
					    0,
				    "tensor %s data differs", name);
			}
			free(name);
		}
		gguf_close(g3);
	}
	gguf_close(g1);
	free(path1);
}

TEST(gguf_shared_tokenizers)
{
	static const struct {
		const char *file, *model, *pre;
		uint64_t n_tokens;
		int merges;
	} want[] = {
		{ "tokenizers/llama3.gguf", "gpt2", "llama-bpe", 128256, 1 },
		{ "tokenizers/qwen3.gguf", "gpt2", "qwen2", 151669, 1 },
		{ "tokenizers/gpt2.gguf", "gpt2", "gpt-2", 50257, 1 },
		{ "tokenizers/llama2.gguf", "llama", "default", 32000, 0 },
		{ "tokenizers/mistral.gguf", "llama", "default", 32000, 0 },
		{ "tokenizers/gemma3.gguf", "llama", "default", 262145, 0 },
	};
	size_t i, found = 0;

	for (i = 0; i < ARRAY_LEN(want); i++) {
		const char *path = test_shared_path(want[i].file);
		const struct gguf_value *arr;
		struct gguf *g = NULL;
		struct gguf_str s;
		struct err err;
		int b;

		if (path == NULL)
			continue;
		found++;
		CHECK_INT(gguf_open(path, &g, &err), 0);
		if (g == NULL) {
			test_note("%s", err.msg);
			continue;
		}
		CHECK_INT(gguf_version(g), 3);
		CHECK_INT(gguf_tensor_count(g), 0);
		CHECK_INT(gguf_get_str(g, "tokenizer.ggml.model", &s, &err), 0);
		CHECK(gguf_str_eq(s, want[i].model));
		CHECK_INT(gguf_get_str(g, "tokenizer.ggml.pre", &s, &err), 0);
		CHECK(gguf_str_eq(s, want[i].pre));
		CHECK_INT(gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_STRING,
			      &arr, &err),
		    0);
		CHECK_MSG(arr->v.arr.len == want[i].n_tokens,
		    "%s: %" PRIu64 " tokens", want[i].file, arr->v.arr.len);
		CHECK_INT(gguf_get_arr(g, "tokenizer.ggml.merges", GGUF_STRING,
			      &arr, &err) == 0,
		    want[i].merges);
		CHECK_INT(gguf_get_arr(g, "tokenizer.ggml.token_type",
			      GGUF_INT32, &arr, &err),
		    0);
		CHECK_INT(arr->v.arr.len, want[i].n_tokens);
		CHECK_INT(
		    gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b, &err),
		    0);
		CHECK_INT(b, 0);
		CHECK_INT(test_gguf_walk(g) != 0, 1);
		gguf_close(g);
	}
	if (found == 0)
		test_skip("shared tokenizers/*.gguf not found");
}

/* --- malformed files --- */

/* Expect LEN bytes of DATA to be refused cleanly with CODE. */
static void
test_gguf_expect_bad(const char *what, const void *data, size_t len, int code,
    const char *needle)
{
	struct gguf *g = NULL;
	struct err err;
	void *copy;
	int rc;

	err_clear(&err);
	rc = test_gguf_open_copy(data, len, &g, &err, &copy);
	CHECK_MSG(
	    rc == code, "%s: got %d (%s), want %d", what, rc, err.msg, code);
	CHECK_MSG(g == NULL, "%s: a handle came back", what);
	CHECK_MSG(strncmp(err.msg, "'bad.gguf': offset ", 19) == 0,
	    "%s: message \"%s\"", what, err.msg);
	if (needle != NULL)
		CHECK_MSG(strstr(err.msg, needle) != NULL,
		    "%s: \"%s\" lacks \"%s\"", what, err.msg, needle);
	gguf_close(g);
	free(copy);
}

/* Build W (and free it), then expect the file to be refused as above. */
static void
test_gguf_expect_bad_writer(
    const char *what, struct gguf_writer *w, int code, const char *needle)
{
	struct sbuf sb;

	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	gguf_writer_free(w);
	test_gguf_expect_bad(what, sb.buf, sb.len, code, needle);
	sbuf_release(&sb);
}

/* A copy of the good file with N bytes at OFF set to V, checked bad. */
static void
test_gguf_patch(const struct sbuf *good, const char *what, uint64_t off,
    uint64_t v, unsigned n, const char *needle)
{
	uint8_t *p = xmalloc(good->len);

	memcpy(p, good->buf, good->len);
	test_gguf_put_le(p + off, v, n);
	test_gguf_expect_bad(what, p, good->len, ERR_FORMAT, needle);
	free(p);
}

/* Offsets inside the good file, found through the reader. */
struct test_gguf_map {
	uint64_t kv_tokens, kv_scores, kv_nested, kv_name, kv_block;
	uint64_t info[TEST_GGUF_N_TENSORS];
	uint64_t data; /* the data section */
	uint64_t end;  /* end of the last tensor's data */
};

static void
test_gguf_map(const struct sbuf *good, struct test_gguf_map *m)
{
	struct gguf *g = NULL;
	struct err err;
	size_t i;

	CHECK_INT(gguf_open_buffer(good->buf, good->len, "good", &g, &err), 0);
	if (g == NULL)
		test_skip("good file does not open: %s", err.msg);
	m->kv_tokens = gguf_find(g, "tokenizer.ggml.tokens")->offset;
	m->kv_scores = gguf_find(g, "tokenizer.ggml.scores")->offset;
	m->kv_nested = gguf_find(g, "test.nested")->offset;
	m->kv_name = gguf_find(g, "general.name")->offset;
	m->kv_block = gguf_find(g, "llama.block_count")->offset;
	CHECK_INT(gguf_tensor_count(g), TEST_GGUF_N_TENSORS);
	for (i = 0; i < TEST_GGUF_N_TENSORS; i++)
		m->info[i] = gguf_tensor_at(g, i)->info_offset;
	m->data = gguf_data_offset(g);
	m->end = gguf_data_offset(g) +
	    gguf_tensor_at(g, TEST_GGUF_N_TENSORS - 1)->offset +
	    gguf_tensor_at(g, TEST_GGUF_N_TENSORS - 1)->size;
	gguf_close(g);
}

/* Offset of the value of the entry at KV (after key and type). */
static uint64_t
test_gguf_value_at(const struct sbuf *good, uint64_t kv)
{
	return kv + 8 + test_gguf_get_le((const uint8_t *)good->buf + kv, 8) +
	    4;
}

/* Offset of tensor info I's n_dims, dims, type and data offset fields. */
static uint64_t
test_gguf_ndims_at(const struct sbuf *good, uint64_t info)
{
	return info + 8 +
	    test_gguf_get_le((const uint8_t *)good->buf + info, 8);
}

static uint64_t
test_gguf_type_at(const struct sbuf *good, uint64_t info)
{
	uint64_t nd = test_gguf_ndims_at(good, info);

	return nd + 4 +
	    8 * test_gguf_get_le((const uint8_t *)good->buf + nd, 4);
}

TEST(gguf_malformed_truncated)
{
	struct test_gguf_map m;
	struct sbuf good;
	uint64_t n;

	sbuf_init(&good);
	test_gguf_build_good(32, &good);
	test_gguf_map(&good, &m);
	test_note("good file: %zu bytes, last tensor ends at %" PRIu64,
	    good.len, m.end);
	/* Every prefix that cuts off something needed must fail. */
	for (n = 0; n < m.end; n++) {
		char what[64];

		snprintf(what, sizeof(what), "truncated at %" PRIu64, n);
		test_gguf_expect_bad(
		    what, good.buf, (size_t)n, ERR_FORMAT, NULL);
		if (test_failures() > 10)
			break;
	}
	sbuf_release(&good);
}

TEST(gguf_malformed_header)
{
	struct sbuf good;
	uint8_t *p;

	sbuf_init(&good);
	test_gguf_build_good(32, &good);
	test_gguf_patch(&good, "bad magic", 0, 0x46554748, 4, "not a GGUF");
	test_gguf_patch(&good, "version 0", 4, 0, 4, "version 0");
	p = xmalloc(good.len);
	memcpy(p, good.buf, good.len);
	test_gguf_put_le(p + 4, 4, 4);
	test_gguf_expect_bad("version 4", p, good.len, ERR_UNSUPPORTED,
	    "offset 4: GGUF version 4 is not supported");
	test_gguf_put_le(p + 4, 0x03000000, 4);
	test_gguf_expect_bad(
	    "big-endian", p, good.len, ERR_UNSUPPORTED, "big-endian");
	test_gguf_put_le(p + 4, 0xffffffff, 4);
	test_gguf_expect_bad(
	    "version ffffffff", p, good.len, ERR_UNSUPPORTED, "version");
	free(p);
	test_gguf_patch(&good, "tensor count huge", 8, UINT64_MAX, 8,
	    "tensor count 18446744073709551615");
	test_gguf_patch(&good, "tensor count 2^40", 8, (uint64_t)1 << 40, 8,
	    "tensor count");
	test_gguf_patch(&good, "tensor count 100", 8, 100, 8,
	    "tensor count 100 cannot fit");
	test_gguf_patch(
	    &good, "kv count huge", 16, UINT64_MAX, 8, "metadata count");
	test_gguf_patch(
	    &good, "kv count 2^31", 16, (uint64_t)1 << 31, 8, "metadata count");
	test_gguf_patch(&good, "kv count +1", 16, 9, 8, NULL);
	/* Too few entries: the rest is read as tensor infos. */
	test_gguf_patch(&good, "kv count -1", 16, 7, 8, NULL);
	test_gguf_expect_bad("empty file", "", 0, ERR_FORMAT, "offset 0:");
	test_gguf_expect_bad("3 bytes", "GGU", 3, ERR_FORMAT, "magic");
	sbuf_release(&good);
}

TEST(gguf_malformed_metadata)
{
	struct test_gguf_map m;
	struct sbuf good;
	uint64_t v;

	sbuf_init(&good);
	test_gguf_build_good(32, &good);
	test_gguf_map(&good, &m);

	/* Key lengths. */
	test_gguf_patch(&good, "key length huge", m.kv_name, UINT64_MAX, 8,
	    "key length 18446744073709551615 exceeds");
	test_gguf_patch(&good, "key length 2^63", m.kv_name, (uint64_t)1 << 63,
	    8, "key length");
	test_gguf_patch(
	    &good, "key length file size", m.kv_name, good.len, 8, NULL);
	test_gguf_patch(&good, "key length 0", m.kv_name, 0, 8, "empty key");
	test_gguf_patch(
	    &good, "bad UTF-8 key", m.kv_name + 8, 0xff, 1, "not valid UTF-8");
	test_gguf_patch(&good, "overlong UTF-8 key", m.kv_name + 8, 0x80c0, 2,
	    "not valid UTF-8");

	/* Value types. */
	v = test_gguf_value_at(&good, m.kv_block) - 4;
	test_gguf_patch(
	    &good, "unknown value type", v, 13, 4, "unknown value type 13");
	test_gguf_patch(&good, "value type ffffffff", v, UINT32_MAX, 4,
	    "unknown value type 4294967295");
	/* A uint32 value read as a uint64 or a string throws the rest off. */
	test_gguf_patch(&good, "value type changed", v, GGUF_UINT64, 4, NULL);
	test_gguf_patch(&good, "u32 read as string", v, GGUF_STRING, 4, NULL);

	/* String values. */
	v = test_gguf_value_at(&good, m.kv_name);
	test_gguf_patch(&good, "string length huge", v, UINT64_MAX, 8,
	    "string length 18446744073709551615 exceeds");
	test_gguf_patch(&good, "string length 2^32", v, (uint64_t)1 << 32, 8,
	    "string length");

	/* Arrays. */
	v = test_gguf_value_at(&good, m.kv_tokens);
	test_gguf_patch(&good, "string array length huge", v + 4, UINT64_MAX, 8,
	    "array of 18446744073709551615 strings");
	test_gguf_patch(&good, "string array length +1", v + 4, 6, 8, NULL);
	test_gguf_patch(&good, "array string length huge", v + 12,
	    UINT64_MAX - 3, 8, "array string length");
	test_gguf_patch(&good, "unknown array element type", v, 13, 4,
	    "unknown array element type 13");
	v = test_gguf_value_at(&good, m.kv_scores);
	test_gguf_patch(&good, "float array length huge", v + 4, UINT64_MAX, 8,
	    "array of 18446744073709551615 float32");
	test_gguf_patch(&good, "float array length 2^62", v + 4,
	    (uint64_t)1 << 62, 8, "needs 4611686018427387904x4 bytes");
	test_gguf_patch(&good, "float array length 2^61+1", v + 4,
	    ((uint64_t)1 << 62) + 1, 8, "float32");
	v = test_gguf_value_at(&good, m.kv_nested);
	test_gguf_patch(&good, "nested array length huge", v + 4, UINT64_MAX, 8,
	    "arrays cannot fit");
	test_gguf_patch(
	    &good, "inner array length huge", v + 16, UINT64_MAX, 8, "int32");
	test_gguf_patch(&good, "inner array type unknown", v + 12, 99, 4,
	    "unknown array element type 99");

	/* general.alignment that is zero, not a power of two, a string. */
	{
		static const uint32_t bad[] = { 0, 3, 48, 0x80000001u };
		struct gguf_writer *w;
		size_t i;

		for (i = 0; i < ARRAY_LEN(bad); i++) {
			char what[64];

			w = gguf_writer_new(32);
			gguf_writer_u32(w, "general.alignment", bad[i]);
			snprintf(
			    what, sizeof(what), "alignment %" PRIu32, bad[i]);
			test_gguf_expect_bad_writer(
			    what, w, ERR_FORMAT, "is not a power of two");
		}
		w = gguf_writer_new(32);
		gguf_writer_str(w, "general.alignment", "32");
		test_gguf_expect_bad_writer("alignment string", w, ERR_FORMAT,
		    "general.alignment has type string");
		w = gguf_writer_new(32);
		gguf_writer_i32(w, "general.alignment", -32);
		test_gguf_expect_bad_writer(
		    "alignment -32", w, ERR_FORMAT, "not a power of two");
	}

	/* Duplicate keys, bad UTF-8 keys, too-deep nesting. */
	{
		struct gguf_writer *w = gguf_writer_new(32);
		struct gguf_value deep[20];
		size_t i;

		gguf_writer_u32(w, "a.b", 1);
		gguf_writer_str(w, "c", "x");
		gguf_writer_u32(w, "a.b", 2);
		test_gguf_expect_bad_writer("duplicate key", w, ERR_FORMAT,
		    "duplicate key 'a.b' (first at offset 24)");

		w = gguf_writer_new(32);
		gguf_writer_u32(w, "ok", 1);
		gguf_writer_u32(w, "bad\xed\xa0\x80", 1); /* a surrogate */
		test_gguf_expect_bad_writer(
		    "surrogate in key", w, ERR_FORMAT, "not valid UTF-8");

		memset(deep, 0, sizeof(deep));
		for (i = 0; i < ARRAY_LEN(deep); i++) {
			deep[i].type = GGUF_ARRAY;
			deep[i].v.arr.type =
			    i + 1 < ARRAY_LEN(deep) ? GGUF_ARRAY : GGUF_UINT8;
			deep[i].v.arr.len = i + 1 < ARRAY_LEN(deep);
			deep[i].v.arr.items =
			    i + 1 < ARRAY_LEN(deep) ? &deep[i + 1] : NULL;
		}
		w = gguf_writer_new(32);
		gguf_writer_value(w, "deep", &deep[0]);
		test_gguf_expect_bad_writer(
		    "nested 20 deep", w, ERR_FORMAT, "nested more than");
	}
	sbuf_release(&good);
}

TEST(gguf_malformed_tensors)
{
	struct test_gguf_map m;
	struct sbuf good;
	uint64_t nd, ty, q8;

	sbuf_init(&good);
	test_gguf_build_good(32, &good);
	test_gguf_map(&good, &m);
	/* Tensor 0: "tok" f32 [8, 4]; 1: "q" q8_0 [64, 1]. */
	nd = test_gguf_ndims_at(&good, m.info[0]);
	ty = test_gguf_type_at(&good, m.info[0]);

	test_gguf_patch(&good, "name length huge", m.info[0], UINT64_MAX, 8,
	    "tensor name length");
	test_gguf_patch(&good, "n_dims 5", nd, 5, 4,
	    "tensor 'tok' has 5 dimensions (at most 4)");
	test_gguf_patch(&good, "n_dims huge", nd, UINT32_MAX, 4, "dimensions");
	test_gguf_patch(&good, "n_dims 3", nd, 3, 4, NULL);
	test_gguf_patch(&good, "dim 0", nd + 4, 0, 8,
	    "dimension 0 is 0 (must be positive)");
	test_gguf_patch(
	    &good, "dim -1", nd + 12, UINT64_MAX, 8, "dimension 1 is -1");
	test_gguf_patch(&good, "dim 2^63", nd + 4, (uint64_t)1 << 63, 8,
	    "must be positive");
	test_gguf_patch(&good, "dims overflow", nd + 4, (uint64_t)1 << 62, 8,
	    "too many elements");
	test_gguf_patch(&good, "dim product past the file", nd + 12,
	    (uint64_t)1 << 40, 8, "ends past the end of the file");
	test_gguf_patch(
	    &good, "dims 2^32 x 2^32", nd + 4, (uint64_t)1 << 32, 8, NULL);
	{
		uint8_t *p = xmalloc(good.len);

		memcpy(p, good.buf, good.len);
		test_gguf_put_le(p + nd + 4, (uint64_t)1 << 32, 8);
		test_gguf_put_le(p + nd + 12, (uint64_t)1 << 32, 8);
		test_gguf_expect_bad(
		    "product 2^64", p, good.len, ERR_FORMAT, "overflows");
		free(p);
	}
	test_gguf_patch(&good, "unknown tensor type 4", ty, 4, 4,
	    "tensor 'tok' has unknown type 4");
	test_gguf_patch(
	    &good, "unknown tensor type 40", ty, 40, 4, "unknown type 40");
	test_gguf_patch(&good, "unknown tensor type huge", ty, UINT32_MAX, 4,
	    "unknown type 4294967295");
	/* f32 [8,4] read as q8_0: 8 is not a multiple of 32. */
	test_gguf_patch(&good, "row not a block multiple", ty, GGML_TYPE_Q8_0,
	    4, "row of 8 elements is not a multiple of the q8_0 block size 32");
	q8 = test_gguf_ndims_at(&good, m.info[1]);
	test_gguf_patch(&good, "q8_0 ne0 33", q8 + 4, 33, 8,
	    "not a multiple of the q8_0 block size");
	test_gguf_patch(&good, "misaligned data offset", ty + 4, 4, 8,
	    "data offset 4 is not a multiple of the alignment 32");
	test_gguf_patch(&good, "data offset +1",
	    test_gguf_type_at(&good, m.info[1]) + 4, 129, 8,
	    "not a multiple of the alignment");
	test_gguf_patch(&good, "data past the end", ty + 4, 1 << 20, 8,
	    "ends past the end of the file");
	test_gguf_patch(&good, "data offset near 2^64", ty + 4, UINT64_MAX - 31,
	    8, "ends past the end of the file");
	/* The last tensor moved to the aligned end of the file. */
	CHECK_INT((good.len - m.data) % 32, 0);
	test_gguf_patch(&good, "data size near the end",
	    test_gguf_type_at(&good, m.info[3]) + 4, good.len - m.data, 8,
	    "ends past the end of the file");
	/* Duplicate tensor names. */
	{
		struct gguf_writer *w = gguf_writer_new(32);
		uint64_t ne = 8;
		float f[8] = { 0 };

		gguf_writer_tensor(w, "w", GGML_TYPE_F32, 1, &ne, f, sizeof(f));
		gguf_writer_tensor(w, "v", GGML_TYPE_F32, 1, &ne, f, sizeof(f));
		gguf_writer_tensor(w, "w", GGML_TYPE_F32, 1, &ne, f, sizeof(f));
		test_gguf_expect_bad_writer("duplicate tensor", w, ERR_FORMAT,
		    "duplicate tensor name 'w' (first at offset 24)");
	}
	sbuf_release(&good);
}

/* Alignment 64: a 32-aligned offset is wrong, a 64-aligned one is fine. */
TEST(gguf_malformed_alignment64)
{
	struct test_gguf_map m;
	struct sbuf good;
	struct gguf *g = NULL;
	struct err err;
	uint64_t ty;

	sbuf_init(&good);
	test_gguf_build_good(64, &good);
	test_gguf_map(&good, &m);
	ty = test_gguf_type_at(&good, m.info[1]);
	test_gguf_patch(&good, "32-aligned under 64", ty + 4, 32 + 128, 8,
	    "not a multiple of the alignment 64");
	CHECK_INT(gguf_open_buffer(good.buf, good.len, "g", &g, &err), 0);
	if (g != NULL) {
		CHECK_INT(gguf_alignment(g), 64);
		CHECK_INT(gguf_data_offset(g) % 64, 0);
		gguf_close(g);
	}
	sbuf_release(&good);
}

/* Seeded random mutations of the header and metadata: no crash. */
TEST(gguf_malformed_random)
{
	struct sbuf good;
	uint64_t x = 0x9e3779b97f4a7c15ULL, data_off;
	struct gguf *g = NULL;
	struct err err;
	int i, ok = 0, bad = 0;

	sbuf_init(&good);
	test_gguf_build_good(32, &good);
	CHECK_INT(gguf_open_buffer(good.buf, good.len, "g", &g, &err), 0);
	if (g == NULL)
		test_skip("good file does not open");
	data_off = gguf_data_offset(g);
	gguf_close(g);
	for (i = 0; i < 3000; i++) {
		uint8_t *p = xmalloc(good.len);
		size_t len = good.len;
		int j, n;

		memcpy(p, good.buf, good.len);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 1 + (int)(x % 4);
		for (j = 0; j < n; j++) {
			uint64_t off;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			off = 4 + (x >> 8) % (data_off - 4);
			switch (x % 4) {
			case 0: /* one byte */
				p[off] = (uint8_t)(x >> 32);
				break;
			case 1: /* a small number */
				if (off + 8 <= data_off)
					test_gguf_put_le(
					    p + off, (x >> 40) % 300, 8);
				break;
			case 2: /* a huge number */
				if (off + 8 <= data_off)
					test_gguf_put_le(
					    p + off, x | 1ULL << 63, 8);
				break;
			default: /* cut the file */
				len = (size_t)off;
				break;
			}
		}
		err_clear(&err);
		{
			void *copy;
			int rc = test_gguf_open_copy(p, len, &g, &err, &copy);

			if (rc == 0) {
				ok++;
				(void)test_gguf_walk(g);
				gguf_close(g);
			} else {
				bad++;
				CHECK_MSG(
				    rc == ERR_FORMAT || rc == ERR_UNSUPPORTED,
				    "mutant %d: rc %d", i, rc);
				CHECK_MSG(strstr(err.msg, ": offset ") != NULL,
				    "mutant %d: \"%s\"", i, err.msg);
			}
			free(copy);
		}
		free(p);
		if (test_failures() > 10)
			break;
	}
	test_note("3000 mutants: %d opened, %d refused", ok, bad);
	sbuf_release(&good);
}

TEST(gguf_open_errors)
{
	struct gguf *g = (struct gguf *)1;
	struct err err;
	const char *path;

	CHECK_INT(gguf_open("/nonexistent/x.gguf", &g, &err), ERR_IO);
	CHECK(g == NULL);
	CHECK_CONTAINS(err.msg, "cannot open '/nonexistent/x.gguf'");
	CHECK_INT(gguf_open(test_tmpdir(), &g, &err), ERR_IO);
	CHECK_CONTAINS(err.msg, "not a regular file");
	path = test_tmpfile("empty.gguf");
	CHECK_INT(util_write_file(path, "", 0, 0644, &err), 0);
	CHECK_INT(gguf_open(path, &g, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "empty.gguf': offset 0: truncated file");
	CHECK_INT(util_write_file(
		      path, "GGUF\x01\0\0\0\xff\xff\xff\xff", 12, 0644, &err),
	    0);
	CHECK_INT(gguf_open(path, &g, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "offset 12:");
}

/* A vocab-only v1 file built by hand (the old 32-bit layout). */
TEST(gguf_v1_by_hand)
{
	/* 54 bytes of header and infos, zero padding to 64, 8 zero floats. */
	static const uint8_t v1[96] = {
		'G', 'G', 'U', 'F', 1, 0, 0, 0,		 /* version 1 */
		1, 0, 0, 0, 1, 0, 0, 0,			 /* 1 tensor, 1 kv */
		1, 0, 0, 0, 'k', 4, 0, 0, 0, 7, 0, 0, 0, /* k = 7 */
		1, 0, 0, 0, 't', 1, 0, 0, 0, 8, 0, 0, 0, /* t: 1 dim, 8 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	 /* f32, offset 0 */
	};
	struct gguf *g = NULL;
	struct err err;
	uint32_t u32;
	void *copy;

	CHECK_INT(test_gguf_open_copy(v1, sizeof(v1), &g, &err, &copy), 0);
	if (g != NULL) {
		CHECK_INT(gguf_version(g), 1);
		CHECK_INT(gguf_get_u32(g, "k", &u32, &err), 0);
		CHECK_INT(u32, 7);
		CHECK_INT(gguf_data_offset(g), 64);
		CHECK(gguf_tensor_find(g, "t") != NULL &&
		    gguf_tensor_find(g, "t")->ne[0] == 8);
		gguf_close(g);
	}
	free(copy);
	test_gguf_expect_bad(
	    "v1 cut", v1, sizeof(v1) - 1, ERR_FORMAT, "ends past the end");
}
