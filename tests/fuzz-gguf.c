/*
 * fuzz-gguf: a libFuzzer target for the GGUF reader.  Each input is opened
 * with gguf_open_buffer() and, when it opens, everything handed out is
 * walked (every value, nested arrays, every getter on every key, every
 * tensor's first and last byte) so the sanitizers see any pointer or
 * length that escapes the buffer.
 *
 * Built by tests/cli/fuzz-gguf.sh with clang -fsanitize=fuzzer.  Built
 * with -DFUZZ_GGUF_SEEDS instead, it is a plain program that writes seed
 * files made by the GGUF writer into the directory given as argument.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

#ifndef FUZZ_GGUF_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t fuzz_gguf_sink;
static volatile double fuzz_gguf_fsink;

static void
fuzz_gguf_value(const struct gguf_value *v)
{
	uint64_t i;

	if (v->type == GGUF_STRING) {
		if (v->v.str.len > 0)
			fuzz_gguf_sink += (uint8_t)v->v.str.ptr[0] +
			    (uint8_t)v->v.str.ptr[v->v.str.len - 1];
		return;
	}
	if (v->type != GGUF_ARRAY)
		return;
	for (i = 0; i < v->v.arr.len; i++) {
		if (v->v.arr.type == GGUF_STRING) {
			struct gguf_str s = v->v.arr.strs[i];

			if (s.len > 0)
				fuzz_gguf_sink += (uint8_t)s.ptr[0] +
				    (uint8_t)s.ptr[s.len - 1];
		} else if (v->v.arr.type == GGUF_ARRAY) {
			fuzz_gguf_value(&v->v.arr.items[i]);
		} else {
			fuzz_gguf_sink += (uint64_t)gguf_arr_i64(v, i);
			fuzz_gguf_fsink += gguf_arr_f64(v, i);
		}
	}
}

static void
fuzz_gguf_getters(const struct gguf *g, const char *key)
{
	const struct gguf_value *arr;
	struct gguf_str s;
	struct err err;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	float f;
	int b;

	if (gguf_find(g, key) == NULL)
		abort(); /* every key read must be found again */
	fuzz_gguf_sink += (uint64_t)gguf_get_u32(g, key, &u32, &err);
	fuzz_gguf_sink += (uint64_t)gguf_get_u64(g, key, &u64, &err);
	fuzz_gguf_sink += (uint64_t)gguf_get_i64(g, key, &i64, &err);
	fuzz_gguf_sink += (uint64_t)gguf_get_f32(g, key, &f, &err);
	fuzz_gguf_sink += (uint64_t)gguf_get_bool(g, key, &b, &err);
	fuzz_gguf_sink += (uint64_t)gguf_get_str(g, key, &s, &err);
	fuzz_gguf_sink +=
	    (uint64_t)gguf_get_arr(g, key, GGUF_STRING, &arr, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf *g;
	struct err err;
	char id[17];
	uint32_t u32;
	float f;
	size_t i;

	if (gguf_open_buffer(data, size, "fuzz.gguf", &g, &err) != 0) {
		/* Every refusal names the offset. */
		if (strstr(err.msg, "'fuzz.gguf': offset ") != err.msg)
			abort();
		return 0;
	}
	for (i = 0; i < gguf_kv_count(g); i++) {
		const struct gguf_kv *kv = gguf_kv_at(g, i);
		char *key = gguf_str_dup(kv->key);

		fuzz_gguf_value(&kv->value);
		/* Keys with a NUL cannot be looked up by C string. */
		if (strlen(key) == kv->key.len)
			fuzz_gguf_getters(g, key);
		free(key);
	}
	for (i = 0; i < gguf_tensor_count(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		const uint8_t *d = t->data;
		char *name = gguf_str_dup(t->name);

		if (d < data || t->size > size ||
		    (size_t)(d - data) > size - t->size)
			abort();
		if (t->size > 0)
			fuzz_gguf_sink += d[0] + d[t->size - 1];
		if (strlen(name) == t->name.len &&
		    gguf_tensor_find(g, name) != t)
			abort();
		free(name);
	}
	fuzz_gguf_sink +=
	    (uint64_t)gguf_get_arch_u32(g, "block_count", &u32, &err);
	fuzz_gguf_sink +=
	    (uint64_t)gguf_get_arch_f32(g, "rope.freq_base", &f, &err);
	gguf_identity(g, id);
	gguf_close(g);
	return 0;
}

#else /* FUZZ_GGUF_SEEDS */

#include "gguf-write.h"

static int
fuzz_gguf_save(struct gguf_writer *w, const char *dir, const char *name)
{
	char path[4096];
	struct err err;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = gguf_writer_save(w, path, &err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err.msg);
	gguf_writer_free(w);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *const toks[] = { "<unk>", "<s>", "</s>", "a", "b" };
	static const float scores[] = { 0, 0, 0, -1, -2 };
	static const uint8_t i32s[] = { 1, 0, 0, 0, 2, 0, 0, 0 };
	static uint8_t data[4 * 256 * 2];
	struct gguf_value items[2], nested;
	struct gguf_writer *w;
	uint64_t ne[2] = { 256, 2 }, ne1 = 32;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-gguf-seeds DIR\n");
		return 1;
	}
	memset(items, 0, sizeof(items));
	memset(&nested, 0, sizeof(nested));
	items[0].type = items[1].type = GGUF_ARRAY;
	items[0].v.arr.type = items[1].v.arr.type = GGUF_INT32;
	items[0].v.arr.len = 2;
	items[0].v.arr.data = i32s;
	nested.type = GGUF_ARRAY;
	nested.v.arr.type = GGUF_ARRAY;
	nested.v.arr.len = 2;
	nested.v.arr.items = items;

	w = gguf_writer_new(32);
	gguf_writer_str(w, "general.architecture", "llama");
	gguf_writer_u32(w, "llama.block_count", 1);
	gguf_writer_f32(w, "llama.rope.freq_base", 10000);
	gguf_writer_arr_str(w, "tokenizer.ggml.tokens", toks, 5);
	gguf_writer_arr(w, "tokenizer.ggml.scores", GGUF_FLOAT32, scores, 5);
	gguf_writer_value(w, "test.nested", &nested);
	gguf_writer_bool(w, "tokenizer.ggml.add_bos_token", 1);
	gguf_writer_tensor(w, "f32", GGML_TYPE_F32, 1, &ne1, data, 32 * 4);
	gguf_writer_tensor(w, "q8", GGML_TYPE_Q8_0, 2, ne, data, 16 * 34);
	gguf_writer_tensor(w, "q4k", GGML_TYPE_Q4_K, 2, ne, data, 2 * 144);
	rc |= fuzz_gguf_save(w, argv[1], "model.gguf");

	w = gguf_writer_new(64);
	gguf_writer_str(w, "general.architecture", "gpt2");
	gguf_writer_u64(w, "gpt2.context_length", 1024);
	gguf_writer_tensor(w, "bf16", GGML_TYPE_BF16, 2, ne, data, 512 * 2);
	rc |= fuzz_gguf_save(w, argv[1], "align64.gguf");

	w = gguf_writer_new(32);
	gguf_writer_str(w, "tokenizer.ggml.model", "gpt2");
	gguf_writer_arr_str(w, "tokenizer.ggml.tokens", toks, 5);
	gguf_writer_arr_str(w, "tokenizer.ggml.merges", toks + 3, 2);
	gguf_writer_i32(w, "tokenizer.ggml.bos_token_id", 1);
	rc |= fuzz_gguf_save(w, argv[1], "vocab.gguf");
	return rc != 0;
}

#endif /* FUZZ_GGUF_SEEDS */
