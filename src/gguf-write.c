/*
 * gguf-write: the GGUF v3 writer.
 *
 * Three byte strings grow as keys and tensors are added: the metadata
 * entries, the tensor infos and the tensor data (each tensor padded to the
 * alignment, so every data offset is aligned by construction).  Building
 * the file is the header followed by the three, with the tensor infos
 * padded to the alignment.  Everything is written little-endian whatever
 * the host.
 *
 * The writer does not validate what it is given (duplicate keys, odd
 * dimensions, types that do not exist, data sizes that do not match): the
 * tests use it to make malformed files, and the reader checks everything.
 */
#include "gguf-write.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct gguf_writer {
	uint32_t alignment;
	struct sbuf kv; /* metadata entries */
	uint64_t n_kv;
	struct sbuf info; /* tensor infos */
	uint64_t n_tensors;
	struct sbuf data; /* tensor data, each tensor padded */
};

static void
gguf_writer_put_le(struct sbuf *sb, uint64_t v, unsigned n)
{
	unsigned char b[8];
	unsigned i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	sbuf_add(sb, b, n);
}

static void
gguf_writer_put_str(struct sbuf *sb, const char *s, uint64_t len)
{
	gguf_writer_put_le(sb, len, 8);
	if (len > 0)
		sbuf_add(sb, s, (size_t)len);
}

static void
gguf_writer_pad(struct sbuf *sb, uint32_t alignment)
{
	while (sb->len % alignment != 0)
		sbuf_addc(sb, 0);
}

struct gguf_writer *
gguf_writer_new(uint32_t alignment)
{
	struct gguf_writer *w = xcalloc(1, sizeof(*w));

	assert(alignment != 0 && (alignment & (alignment - 1)) == 0);
	w->alignment = alignment;
	sbuf_init(&w->kv);
	sbuf_init(&w->info);
	sbuf_init(&w->data);
	if (alignment != 32)
		gguf_writer_u32(w, "general.alignment", alignment);
	return w;
}

void
gguf_writer_free(struct gguf_writer *w)
{
	if (w == NULL)
		return;
	sbuf_release(&w->kv);
	sbuf_release(&w->info);
	sbuf_release(&w->data);
	free(w);
}

/* The key and the value's type: the start of every entry. */
static void
gguf_writer_key(struct gguf_writer *w, const char *key, enum gguf_vtype type)
{
	gguf_writer_put_str(&w->kv, key, strlen(key));
	gguf_writer_put_le(&w->kv, (uint64_t)type, 4);
	w->n_kv++;
}

void
gguf_writer_u32(struct gguf_writer *w, const char *key, uint32_t v)
{
	gguf_writer_key(w, key, GGUF_UINT32);
	gguf_writer_put_le(&w->kv, v, 4);
}

void
gguf_writer_i32(struct gguf_writer *w, const char *key, int32_t v)
{
	gguf_writer_key(w, key, GGUF_INT32);
	gguf_writer_put_le(&w->kv, (uint32_t)v, 4);
}

void
gguf_writer_u64(struct gguf_writer *w, const char *key, uint64_t v)
{
	gguf_writer_key(w, key, GGUF_UINT64);
	gguf_writer_put_le(&w->kv, v, 8);
}

void
gguf_writer_f32(struct gguf_writer *w, const char *key, float v)
{
	uint32_t bits;

	memcpy(&bits, &v, sizeof(bits));
	gguf_writer_key(w, key, GGUF_FLOAT32);
	gguf_writer_put_le(&w->kv, bits, 4);
}

void
gguf_writer_bool(struct gguf_writer *w, const char *key, int v)
{
	gguf_writer_key(w, key, GGUF_BOOL);
	gguf_writer_put_le(&w->kv, v != 0, 1);
}

void
gguf_writer_str(struct gguf_writer *w, const char *key, const char *v)
{
	gguf_writer_key(w, key, GGUF_STRING);
	gguf_writer_put_str(&w->kv, v, strlen(v));
}

void
gguf_writer_arr_str(
    struct gguf_writer *w, const char *key, const char *const *v, size_t n)
{
	size_t i;

	gguf_writer_key(w, key, GGUF_ARRAY);
	gguf_writer_put_le(&w->kv, GGUF_STRING, 4);
	gguf_writer_put_le(&w->kv, n, 8);
	for (i = 0; i < n; i++)
		gguf_writer_put_str(&w->kv, v[i], strlen(v[i]));
}

void
gguf_writer_arr(struct gguf_writer *w, const char *key, enum gguf_vtype type,
    const void *v, size_t n)
{
	size_t size = (size_t)gguf_vtype_size(type), i;
	const unsigned char *p = v;

	assert(size != 0);
	gguf_writer_key(w, key, GGUF_ARRAY);
	gguf_writer_put_le(&w->kv, type, 4);
	gguf_writer_put_le(&w->kv, n, 8);
	for (i = 0; i < n; i++, p += size) {
		uint64_t x;
		uint32_t u32;
		uint16_t u16;

		/* Host layout in, little-endian out. */
		switch (size) {
		case 1:
			x = *p;
			break;
		case 2:
			memcpy(&u16, p, 2);
			x = u16;
			break;
		case 4:
			memcpy(&u32, p, 4);
			x = u32;
			break;
		default:
			memcpy(&x, p, 8);
			break;
		}
		gguf_writer_put_le(&w->kv, x, (unsigned)size);
	}
}

/* The body of V (everything after its type). */
static void
gguf_writer_put_value(struct sbuf *sb, const struct gguf_value *v)
{
	uint32_t bits;
	uint64_t i;
	float f;

	switch (v->type) {
	case GGUF_UINT8:
	case GGUF_UINT16:
	case GGUF_UINT32:
	case GGUF_UINT64:
		gguf_writer_put_le(
		    sb, v->v.u64, (unsigned)gguf_vtype_size(v->type));
		break;
	case GGUF_INT8:
	case GGUF_INT16:
	case GGUF_INT32:
	case GGUF_INT64:
		gguf_writer_put_le(
		    sb, (uint64_t)v->v.i64, (unsigned)gguf_vtype_size(v->type));
		break;
	case GGUF_FLOAT32:
		f = (float)v->v.f64;
		memcpy(&bits, &f, sizeof(bits));
		gguf_writer_put_le(sb, bits, 4);
		break;
	case GGUF_FLOAT64:
		memcpy(&i, &v->v.f64, sizeof(i));
		gguf_writer_put_le(sb, i, 8);
		break;
	case GGUF_BOOL:
		gguf_writer_put_le(sb, v->v.b != 0, 1);
		break;
	case GGUF_STRING:
		gguf_writer_put_str(sb, v->v.str.ptr, v->v.str.len);
		break;
	case GGUF_ARRAY:
		gguf_writer_put_le(sb, v->v.arr.type, 4);
		gguf_writer_put_le(sb, v->v.arr.len, 8);
		if (v->v.arr.type == GGUF_STRING) {
			for (i = 0; i < v->v.arr.len; i++)
				gguf_writer_put_str(sb, v->v.arr.strs[i].ptr,
				    v->v.arr.strs[i].len);
		} else if (v->v.arr.type == GGUF_ARRAY) {
			for (i = 0; i < v->v.arr.len; i++)
				gguf_writer_put_value(sb, &v->v.arr.items[i]);
		} else if (v->v.arr.len > 0) {
			sbuf_add(sb, v->v.arr.data,
			    (size_t)(v->v.arr.len *
				gguf_vtype_size(v->v.arr.type)));
		}
		break;
	}
}

void
gguf_writer_value(
    struct gguf_writer *w, const char *key, const struct gguf_value *v)
{
	gguf_writer_key(w, key, v->type);
	gguf_writer_put_value(&w->kv, v);
}

void
gguf_writer_tensor(struct gguf_writer *w, const char *name, uint32_t type,
    uint32_t n_dims, const uint64_t *ne, const void *data, size_t size)
{
	uint32_t i;

	gguf_writer_put_str(&w->info, name, strlen(name));
	gguf_writer_put_le(&w->info, n_dims, 4);
	for (i = 0; i < n_dims; i++)
		gguf_writer_put_le(&w->info, ne[i], 8);
	gguf_writer_put_le(&w->info, type, 4);
	gguf_writer_put_le(&w->info, w->data.len, 8);
	w->n_tensors++;
	if (size > 0)
		sbuf_add(&w->data, data, size);
	gguf_writer_pad(&w->data, w->alignment);
}

void
gguf_writer_build(struct gguf_writer *w, struct sbuf *out)
{
	size_t start = out->len;

	sbuf_add(out, "GGUF", 4);
	gguf_writer_put_le(out, 3, 4);
	gguf_writer_put_le(out, w->n_tensors, 8);
	gguf_writer_put_le(out, w->n_kv, 8);
	sbuf_add(out, w->kv.buf, w->kv.len);
	sbuf_add(out, w->info.buf, w->info.len);
	/* Aligned from the start of the file, not of OUT. */
	while ((out->len - start) % w->alignment != 0)
		sbuf_addc(out, 0);
	sbuf_add(out, w->data.buf, w->data.len);
}

int
gguf_writer_save(struct gguf_writer *w, const char *path, struct err *err)
{
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	gguf_writer_build(w, &sb);
	rc = util_write_file(path, sb.buf, sb.len, 0644, err);
	sbuf_release(&sb);
	return rc;
}
