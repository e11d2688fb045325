/*
 * gguf: the GGUF reader.
 *
 * The whole file is parsed once, at open, by a bounds-checked cursor
 * (struct gguf_rd) that never reads past the end of the mapping: every
 * read first asks gguf_rd_need() for its bytes.  Counts read from the file
 * are compared with the bytes left before anything is allocated for them,
 * and the KV and tensor tables grow as entries are actually read, so a
 * lying header costs nothing.  After gguf_open() returns 0 nothing is read
 * from the file again except through the pointers handed out.
 *
 * Versions: v2 and v3 share one layout (64-bit counts and lengths; v3 only
 * added big-endian files, which we refuse).  v1 is the same layout with
 * 32-bit counts, string and array lengths and dimensions, so the cursor
 * reads "counts" with a width chosen by the version.
 *
 * Keys and tensor names are found through two small open-addressing hash
 * tables (FNV-1a), which also catch duplicates while parsing.
 */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"
#include "util.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
/* Arrays of arrays deeper than this are refused (no real file nests). */
#define GGUF_MAX_DEPTH 16

struct gguf_hash {
	size_t *slots; /* index + 1 into the table; 0 = empty */
	size_t cap;    /* a power of two */
};

struct gguf {
	char *path; /* for messages */
	const uint8_t *base;
	uint64_t size;
	void *map; /* the mapping, or NULL for a caller's buffer */
	uint32_t version;
	uint64_t alignment;
	uint64_t data_offset;

	struct gguf_kv *kvs;
	size_t n_kv;
	struct gguf_hash kv_hash;

	struct gguf_tensor *tensors;
	size_t n_tensors;
	struct gguf_hash tensor_hash;
};

/* A cursor over the file. */
struct gguf_rd {
	const struct gguf *g;
	uint64_t off;
	unsigned cw; /* width of counts and lengths: 8, or 4 in v1 */
	struct err *err;
};

static const struct ggml_type_info gguf_types[GGML_TYPE_COUNT] = {
	[GGML_TYPE_F32] = { "f32", 1, 4 },
	[GGML_TYPE_F16] = { "f16", 1, 2 },
	[GGML_TYPE_Q4_0] = { "q4_0", 32, 18 },
	[GGML_TYPE_Q4_1] = { "q4_1", 32, 20 },
	[GGML_TYPE_Q5_0] = { "q5_0", 32, 22 },
	[GGML_TYPE_Q5_1] = { "q5_1", 32, 24 },
	[GGML_TYPE_Q8_0] = { "q8_0", 32, 34 },
	[GGML_TYPE_Q8_1] = { "q8_1", 32, 36 },
	[GGML_TYPE_Q2_K] = { "q2_K", 256, 84 },
	[GGML_TYPE_Q3_K] = { "q3_K", 256, 110 },
	[GGML_TYPE_Q4_K] = { "q4_K", 256, 144 },
	[GGML_TYPE_Q5_K] = { "q5_K", 256, 176 },
	[GGML_TYPE_Q6_K] = { "q6_K", 256, 210 },
	[GGML_TYPE_Q8_K] = { "q8_K", 256, 292 },
	[GGML_TYPE_IQ2_XXS] = { "iq2_xxs", 256, 66 },
	[GGML_TYPE_IQ2_XS] = { "iq2_xs", 256, 74 },
	[GGML_TYPE_IQ3_XXS] = { "iq3_xxs", 256, 98 },
	[GGML_TYPE_IQ1_S] = { "iq1_s", 256, 50 },
	[GGML_TYPE_IQ4_NL] = { "iq4_nl", 32, 18 },
	[GGML_TYPE_IQ3_S] = { "iq3_s", 256, 110 },
	[GGML_TYPE_IQ2_S] = { "iq2_s", 256, 82 },
	[GGML_TYPE_IQ4_XS] = { "iq4_xs", 256, 136 },
	[GGML_TYPE_I8] = { "i8", 1, 1 },
	[GGML_TYPE_I16] = { "i16", 1, 2 },
	[GGML_TYPE_I32] = { "i32", 1, 4 },
	[GGML_TYPE_I64] = { "i64", 1, 8 },
	[GGML_TYPE_F64] = { "f64", 1, 8 },
	[GGML_TYPE_IQ1_M] = { "iq1_m", 256, 56 },
	[GGML_TYPE_BF16] = { "bf16", 1, 2 },
	[GGML_TYPE_TQ1_0] = { "tq1_0", 256, 54 },
	[GGML_TYPE_TQ2_0] = { "tq2_0", 256, 66 },
	[GGML_TYPE_MXFP4] = { "mxfp4", 32, 17 },
};

static const char *const gguf_vtype_names[] = {
	[GGUF_UINT8] = "uint8",
	[GGUF_INT8] = "int8",
	[GGUF_UINT16] = "uint16",
	[GGUF_INT16] = "int16",
	[GGUF_UINT32] = "uint32",
	[GGUF_INT32] = "int32",
	[GGUF_FLOAT32] = "float32",
	[GGUF_BOOL] = "bool",
	[GGUF_STRING] = "string",
	[GGUF_ARRAY] = "array",
	[GGUF_UINT64] = "uint64",
	[GGUF_INT64] = "int64",
	[GGUF_FLOAT64] = "float64",
};

const struct ggml_type_info *
ggml_type_info(uint32_t type)
{
	if (type >= GGML_TYPE_COUNT || gguf_types[type].name == NULL)
		return NULL;
	return &gguf_types[type];
}

const char *
gguf_vtype_name(uint32_t type)
{
	if (type >= ARRAY_LEN(gguf_vtype_names))
		return "unknown";
	return gguf_vtype_names[type];
}

uint64_t
gguf_vtype_size(uint32_t type)
{
	switch (type) {
	case GGUF_UINT8:
	case GGUF_INT8:
	case GGUF_BOOL:
		return 1;
	case GGUF_UINT16:
	case GGUF_INT16:
		return 2;
	case GGUF_UINT32:
	case GGUF_INT32:
	case GGUF_FLOAT32:
		return 4;
	case GGUF_UINT64:
	case GGUF_INT64:
	case GGUF_FLOAT64:
		return 8;
	default:
		return 0;
	}
}

static uint64_t
gguf_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t
gguf_hash_bytes(const void *data, uint64_t len, uint64_t h)
{
	const uint8_t *p = data;
	uint64_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define GGUF_FNV_BASIS 0xcbf29ce484222325ULL

static void
gguf_hash_release(struct gguf_hash *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = 0;
}

/*
 * Find NAME in H, whose entries are names got through NAME_AT(TABLE, i):
 * the slot holding it, or the empty slot where it would go.
 */
static size_t *
gguf_hash_slot(const struct gguf_hash *h, struct gguf_str name,
    struct gguf_str (*name_at)(const void *, size_t), const void *table)
{
	size_t mask = h->cap - 1;
	size_t i = (size_t)gguf_hash_bytes(name.ptr, name.len, GGUF_FNV_BASIS);

	for (;; i++) {
		size_t *slot = &h->slots[i & mask];
		struct gguf_str s;

		if (*slot == 0)
			return slot;
		s = name_at(table, *slot - 1);
		if (s.len == name.len && memcmp(s.ptr, name.ptr, s.len) == 0)
			return slot;
	}
}

/*
 * Insert entry INDEX under NAME; returns the index of an existing entry
 * with the same name (nothing inserted), or (size_t)-1.  N is the number
 * of entries after this one is added; the table grows to stay half empty.
 */
static size_t
gguf_hash_insert(struct gguf_hash *h, struct gguf_str name, size_t index,
    size_t n, struct gguf_str (*name_at)(const void *, size_t),
    const void *table)
{
	size_t *slot;

	if (n * 2 > h->cap) {
		struct gguf_hash big;
		size_t i;

		big.cap = h->cap ? h->cap * 2 : 16;
		while (n * 2 > big.cap)
			big.cap *= 2;
		big.slots = xcalloc(big.cap, sizeof(*big.slots));
		for (i = 0; i < h->cap; i++) {
			size_t e = h->slots[i];

			if (e != 0)
				*gguf_hash_slot(&big, name_at(table, e - 1),
				    name_at, table) = e;
		}
		gguf_hash_release(h);
		*h = big;
	}
	slot = gguf_hash_slot(h, name, name_at, table);
	if (*slot != 0)
		return *slot - 1;
	*slot = index + 1;
	return (size_t)-1;
}

static struct gguf_str
gguf_kv_name_at(const void *table, size_t i)
{
	return ((const struct gguf_kv *)table)[i].key;
}

static struct gguf_str
gguf_tensor_name_at(const void *table, size_t i)
{
	return ((const struct gguf_tensor *)table)[i].name;
}

/* Look NAME (a C string) up; the entry's index or (size_t)-1. */
static size_t
gguf_hash_find(const struct gguf_hash *h, const char *name,
    struct gguf_str (*name_at)(const void *, size_t), const void *table)
{
	struct gguf_str s = { name, strlen(name) };
	size_t *slot;

	if (h->cap == 0)
		return (size_t)-1;
	slot = gguf_hash_slot(h, s, name_at, table);
	return *slot != 0 ? *slot - 1 : (size_t)-1;
}

static int gguf_rd_fail(struct gguf_rd *r, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Report a format error at file offset OFF. */
static int
gguf_rd_fail(struct gguf_rd *r, uint64_t off, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(r->err, ERR_FORMAT, "'%s': offset %" PRIu64 ": %s",
	    r->g->path, off, what);
}

/* Check that N more bytes are there for WHAT. */
static int
gguf_rd_need(struct gguf_rd *r, uint64_t n, const char *what)
{
	uint64_t left = r->g->size - r->off;

	if (n > left)
		return gguf_rd_fail(r, r->off,
		    "truncated file: %s needs %" PRIu64 " bytes, %" PRIu64
		    " left",
		    what, n, left);
	return 0;
}

static int
gguf_rd_uint(struct gguf_rd *r, unsigned n, uint64_t *v, const char *what)
{
	int rc = gguf_rd_need(r, n, what);

	if (rc < 0)
		return rc;
	*v = gguf_le(r->g->base + r->off, n);
	r->off += n;
	return 0;
}

static int
gguf_rd_u32(struct gguf_rd *r, uint32_t *v, const char *what)
{
	uint64_t x = 0;
	int rc = gguf_rd_uint(r, 4, &x, what);

	*v = (uint32_t)x;
	return rc;
}

/* A count or length: 64 bits, or 32 in v1. */
static int
gguf_rd_count(struct gguf_rd *r, uint64_t *v, const char *what)
{
	return gguf_rd_uint(r, r->cw, v, what);
}

/* A string: its length, then that many bytes. */
static int
gguf_rd_str(struct gguf_rd *r, struct gguf_str *s, const char *what)
{
	uint64_t start = r->off, len;
	int rc;

	if ((rc = gguf_rd_count(r, &len, what)) < 0)
		return rc;
	if (len > r->g->size - r->off)
		return gguf_rd_fail(r, start,
		    "%s length %" PRIu64 " exceeds the %" PRIu64
		    " bytes left in the file",
		    what, len, r->g->size - r->off);
	s->ptr = (const char *)r->g->base + r->off;
	s->len = len;
	r->off += len;
	return 0;
}

static int gguf_rd_value(struct gguf_rd *r, uint32_t type, uint64_t type_off,
    struct gguf_value *v, int depth);

/* The elements of an array whose element type and length are read. */
static int
gguf_rd_array(struct gguf_rd *r, struct gguf_value *v, int depth)
{
	uint64_t start = r->off, type_off, len, left, esize, i;
	uint32_t type;
	int rc;

	if ((rc = gguf_rd_u32(r, &type, "array element type")) < 0)
		return rc;
	type_off = start;
	if ((rc = gguf_rd_count(r, &len, "array length")) < 0)
		return rc;
	left = r->g->size - r->off;
	esize = gguf_vtype_size(type);
	if (esize == 0 && type != GGUF_STRING && type != GGUF_ARRAY)
		return gguf_rd_fail(
		    r, type_off, "unknown array element type %" PRIu32, type);
	v->v.arr.type = type;
	if (esize != 0) {
		if (len > left / esize)
			return gguf_rd_fail(r, start,
			    "array of %" PRIu64 " %s needs %" PRIu64 "x%" PRIu64
			    " bytes, %" PRIu64 " left",
			    len, gguf_vtype_name(type), len, esize, left);
		v->v.arr.len = len;
		v->v.arr.data = r->g->base + r->off;
		r->off += len * esize;
		return 0;
	}
	if (type == GGUF_STRING) {
		if (len > left / r->cw)
			return gguf_rd_fail(r, start,
			    "array of %" PRIu64
			    " strings cannot fit in the %" PRIu64 " bytes left",
			    len, left);
		v->v.arr.strs =
		    len ? xcalloc(len, sizeof(struct gguf_str)) : NULL;
		v->v.arr.len = len;
		for (i = 0; i < len; i++)
			if ((rc = gguf_rd_str(
				 r, &v->v.arr.strs[i], "array string")) < 0)
				return rc;
		return 0;
	}
	if (depth >= GGUF_MAX_DEPTH)
		return gguf_rd_fail(r, type_off,
		    "arrays nested more than %d deep", GGUF_MAX_DEPTH);
	if (len > left / (4 + r->cw))
		return gguf_rd_fail(r, start,
		    "array of %" PRIu64 " arrays cannot fit in the %" PRIu64
		    " bytes left",
		    len, left);
	v->v.arr.items = len ? xcalloc(len, sizeof(struct gguf_value)) : NULL;
	v->v.arr.len = len;
	for (i = 0; i < len; i++) {
		/* Each element is typed by the array's element type. */
		v->v.arr.items[i].type = GGUF_ARRAY;
		if ((rc = gguf_rd_array(r, &v->v.arr.items[i], depth + 1)) < 0)
			return rc;
	}
	return 0;
}

/* A value of TYPE (read at TYPE_OFF) into *v. */
static int
gguf_rd_value(struct gguf_rd *r, uint32_t type, uint64_t type_off,
    struct gguf_value *v, int depth)
{
	uint64_t x, size = gguf_vtype_size(type);
	int rc;

	if (type != GGUF_STRING && type != GGUF_ARRAY && size == 0)
		return gguf_rd_fail(
		    r, type_off, "unknown value type %" PRIu32, type);
	v->type = type;
	if (type == GGUF_STRING)
		return gguf_rd_str(r, &v->v.str, "string");
	if (type == GGUF_ARRAY)
		return gguf_rd_array(r, v, depth + 1);
	if ((rc = gguf_rd_uint(r, (unsigned)size, &x, gguf_vtype_name(type))) <
	    0)
		return rc;
	switch (type) {
	case GGUF_UINT8:
	case GGUF_UINT16:
	case GGUF_UINT32:
	case GGUF_UINT64:
		v->v.u64 = x;
		break;
	case GGUF_INT8:
		v->v.i64 = (int8_t)(uint8_t)x;
		break;
	case GGUF_INT16:
		v->v.i64 = (int16_t)(uint16_t)x;
		break;
	case GGUF_INT32:
		v->v.i64 = (int32_t)(uint32_t)x;
		break;
	case GGUF_INT64:
		v->v.i64 = (int64_t)x;
		break;
	case GGUF_FLOAT32: {
		uint32_t u = (uint32_t)x;
		float f;

		memcpy(&f, &u, sizeof(f));
		v->v.f64 = f;
		break;
	}
	case GGUF_FLOAT64:
		memcpy(&v->v.f64, &x, sizeof(double));
		break;
	default: /* GGUF_BOOL */
		v->v.b = x != 0;
		break;
	}
	return 0;
}

static void
gguf_value_release(struct gguf_value *v)
{
	uint64_t i;

	if (v->type != GGUF_ARRAY)
		return;
	if (v->v.arr.items != NULL)
		for (i = 0; i < v->v.arr.len; i++)
			gguf_value_release(&v->v.arr.items[i]);
	free(v->v.arr.items);
	free(v->v.arr.strs);
	v->v.arr.items = NULL;
	v->v.arr.strs = NULL;
}

/* The header: magic, version, the two counts. */
static int
gguf_rd_header(
    struct gguf_rd *r, struct gguf *g, uint64_t *n_tensors, uint64_t *n_kv)
{
	uint32_t version;
	int rc;

	if ((rc = gguf_rd_need(r, 4, "magic")) < 0)
		return rc;
	if (memcmp(g->base, GGUF_MAGIC, 4) != 0)
		return gguf_rd_fail(r, 0,
		    "not a GGUF file (magic %02x %02x %02x %02x, want "
		    "\"GGUF\")",
		    g->base[0], g->base[1], g->base[2], g->base[3]);
	r->off = 4;
	if ((rc = gguf_rd_u32(r, &version, "version")) < 0)
		return rc;
	if (version != 0 && (version & 0xffff) == 0)
		return err_set(r->err, ERR_UNSUPPORTED,
		    "'%s': offset 4: big-endian GGUF file (version field "
		    "0x%08" PRIx32 ") is not supported",
		    g->path, version);
	if (version == 0)
		return gguf_rd_fail(r, 4, "bad GGUF version 0");
	if (version > 3)
		return err_set(r->err, ERR_UNSUPPORTED,
		    "'%s': offset 4: GGUF version %" PRIu32
		    " is not supported (versions 1 to 3 are)",
		    g->path, version);
	g->version = version;
	r->cw = version == 1 ? 4 : 8;
	if ((rc = gguf_rd_count(r, n_tensors, "tensor count")) < 0 ||
	    (rc = gguf_rd_count(r, n_kv, "metadata count")) < 0)
		return rc;
	return 0;
}

/* The metadata entries. */
static int
gguf_rd_kvs(struct gguf_rd *r, struct gguf *g, uint64_t n_kv)
{
	/* Smallest entry: key length, a one-byte key, type, a byte. */
	uint64_t min = r->cw + 1 + 4 + 1, left = g->size - r->off, i;
	size_t cap = 0;
	int rc;

	if (n_kv > left / min)
		return gguf_rd_fail(r, r->cw == 8 ? 16 : 12,
		    "metadata count %" PRIu64 " cannot fit in the %" PRIu64
		    " bytes that follow the header",
		    n_kv, left);
	for (i = 0; i < n_kv; i++) {
		struct gguf_kv *kv;
		uint64_t type_off;
		uint32_t type;
		size_t dup;

		if (g->n_kv == cap) {
			cap = cap ? cap * 2 : 16;
			g->kvs = xreallocarray(g->kvs, cap, sizeof(*g->kvs));
		}
		kv = &g->kvs[g->n_kv];
		memset(kv, 0, sizeof(*kv));
		kv->offset = r->off;
		if ((rc = gguf_rd_str(r, &kv->key, "key")) < 0)
			return rc;
		if (kv->key.len == 0)
			return gguf_rd_fail(r, kv->offset, "empty key");
		if (!utf8_valid(kv->key.ptr, (size_t)kv->key.len))
			return gguf_rd_fail(r, kv->offset,
			    "key is not valid UTF-8 (%" PRIu64 " bytes)",
			    kv->key.len);
		type_off = r->off;
		if ((rc = gguf_rd_u32(r, &type, "value type")) < 0)
			return rc;
		/* Counted before reading the value, so a failure frees it. */
		g->n_kv++;
		if ((rc = gguf_rd_value(r, type, type_off, &kv->value, 0)) < 0)
			return rc;
		dup = gguf_hash_insert(&g->kv_hash, kv->key, g->n_kv - 1,
		    g->n_kv, gguf_kv_name_at, g->kvs);
		if (dup != (size_t)-1)
			return gguf_rd_fail(r, kv->offset,
			    "duplicate key '%.*s' (first at offset %" PRIu64
			    ")",
			    (int)(kv->key.len > 200 ? 200 : kv->key.len),
			    kv->key.ptr, g->kvs[dup].offset);
	}
	return 0;
}

/* general.alignment, if there is one. */
static int
gguf_rd_alignment(struct gguf_rd *r, struct gguf *g)
{
	const struct gguf_kv *kv = gguf_find(g, "general.alignment");
	uint64_t a;

	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (kv == NULL)
		return 0;
	switch (kv->value.type) {
	case GGUF_UINT8:
	case GGUF_UINT16:
	case GGUF_UINT32:
	case GGUF_UINT64:
		a = kv->value.v.u64;
		break;
	case GGUF_INT8:
	case GGUF_INT16:
	case GGUF_INT32:
	case GGUF_INT64:
		if (kv->value.v.i64 <= 0)
			return gguf_rd_fail(r, kv->offset,
			    "general.alignment %" PRId64
			    " is not a power of two",
			    kv->value.v.i64);
		a = (uint64_t)kv->value.v.i64;
		break;
	default:
		return gguf_rd_fail(r, kv->offset,
		    "general.alignment has type %s, want uint32",
		    gguf_vtype_name(kv->value.type));
	}
	if (a == 0 || (a & (a - 1)) != 0)
		return gguf_rd_fail(r, kv->offset,
		    "general.alignment %" PRIu64 " is not a power of two", a);
	g->alignment = a;
	return 0;
}

/* Short form of a tensor's name for messages. */
#define GGUF_NAME_FMT "'%.*s'"
#define GGUF_NAME_ARG(s) (int)((s).len > 100 ? 100 : (s).len), (s).ptr

/* One tensor info into *t. */
static int
gguf_rd_tensor_info(struct gguf_rd *r, struct gguf_tensor *t)
{
	const struct ggml_type_info *ti;
	uint64_t dims_off, type_off, n = 1, blocks;
	uint32_t j;
	int rc;

	t->info_offset = r->off;
	if ((rc = gguf_rd_str(r, &t->name, "tensor name")) < 0)
		return rc;
	dims_off = r->off;
	if ((rc = gguf_rd_u32(r, &t->n_dims, "dimension count")) < 0)
		return rc;
	if (t->n_dims > GGUF_MAX_DIMS)
		return gguf_rd_fail(r, dims_off,
		    "tensor " GGUF_NAME_FMT " has %" PRIu32
		    " dimensions (at most %d)",
		    GGUF_NAME_ARG(t->name), t->n_dims, GGUF_MAX_DIMS);
	for (j = 0; j < GGUF_MAX_DIMS; j++)
		t->ne[j] = 1;
	for (j = 0; j < t->n_dims; j++) {
		uint64_t d_off = r->off;

		if ((rc = gguf_rd_count(r, &t->ne[j], "dimension")) < 0)
			return rc;
		if (t->ne[j] == 0 || t->ne[j] > (uint64_t)INT64_MAX)
			return gguf_rd_fail(r, d_off,
			    "tensor " GGUF_NAME_FMT " dimension %" PRIu32
			    " is %" PRId64 " (must be positive)",
			    GGUF_NAME_ARG(t->name), j, (int64_t)t->ne[j]);
		if (t->ne[j] > (uint64_t)INT64_MAX / n)
			return gguf_rd_fail(r, d_off,
			    "tensor " GGUF_NAME_FMT
			    " has too many elements (%" PRIu64 " x %" PRIu64
			    " overflows)",
			    GGUF_NAME_ARG(t->name), n, t->ne[j]);
		n *= t->ne[j];
	}
	t->n_elements = n;
	type_off = r->off;
	if ((rc = gguf_rd_u32(r, &t->type, "tensor type")) < 0)
		return rc;
	ti = ggml_type_info(t->type);
	if (ti == NULL)
		return gguf_rd_fail(r, type_off,
		    "tensor " GGUF_NAME_FMT " has unknown type %" PRIu32,
		    GGUF_NAME_ARG(t->name), t->type);
	if (t->ne[0] % ti->block_size != 0)
		return gguf_rd_fail(r, dims_off,
		    "tensor " GGUF_NAME_FMT " row of %" PRIu64
		    " elements is not a multiple of the %s block size %" PRIu32,
		    GGUF_NAME_ARG(t->name), t->ne[0], ti->name, ti->block_size);
	blocks = n / ti->block_size;
	if (blocks > UINT64_MAX / ti->type_size)
		return gguf_rd_fail(r, dims_off,
		    "tensor " GGUF_NAME_FMT " size overflows",
		    GGUF_NAME_ARG(t->name));
	t->size = blocks * ti->type_size;
	return gguf_rd_uint(r, 8, &t->offset, "tensor data offset");
}

/* The tensor infos, then where the data starts, then each tensor's data. */
static int
gguf_rd_tensors(struct gguf_rd *r, struct gguf *g, uint64_t n_tensors)
{
	uint64_t min = r->cw + 4 + 4 + 8, left = g->size - r->off, pad, i;
	size_t cap = 0;
	int rc;

	if (n_tensors > left / min)
		return gguf_rd_fail(r, 8,
		    "tensor count %" PRIu64 " cannot fit in the %" PRIu64
		    " bytes that follow the metadata",
		    n_tensors, left);
	for (i = 0; i < n_tensors; i++) {
		struct gguf_tensor *t;
		size_t dup;

		if (g->n_tensors == cap) {
			cap = cap ? cap * 2 : 16;
			g->tensors =
			    xreallocarray(g->tensors, cap, sizeof(*g->tensors));
		}
		t = &g->tensors[g->n_tensors];
		memset(t, 0, sizeof(*t));
		if ((rc = gguf_rd_tensor_info(r, t)) < 0)
			return rc;
		g->n_tensors++;
		dup =
		    gguf_hash_insert(&g->tensor_hash, t->name, g->n_tensors - 1,
			g->n_tensors, gguf_tensor_name_at, g->tensors);
		if (dup != (size_t)-1)
			return gguf_rd_fail(r, t->info_offset,
			    "duplicate tensor name " GGUF_NAME_FMT
			    " (first at offset %" PRIu64 ")",
			    GGUF_NAME_ARG(t->name),
			    g->tensors[dup].info_offset);
	}
	pad = (g->alignment - r->off % g->alignment) % g->alignment;
	if (pad > UINT64_MAX - r->off)
		return gguf_rd_fail(r, r->off,
		    "data section offset overflows (alignment %" PRIu64 ")",
		    g->alignment);
	g->data_offset = r->off + pad;
	for (i = 0; i < g->n_tensors; i++) {
		struct gguf_tensor *t = &g->tensors[i];
		uint64_t room;

		if (t->offset % g->alignment != 0)
			return gguf_rd_fail(r, t->info_offset,
			    "tensor " GGUF_NAME_FMT " data offset %" PRIu64
			    " is not a multiple of the alignment %" PRIu64,
			    GGUF_NAME_ARG(t->name), t->offset, g->alignment);
		room = g->data_offset > g->size ? 0 : g->size - g->data_offset;
		if (t->offset > room || t->size > room - t->offset)
			return gguf_rd_fail(r, t->info_offset,
			    "tensor " GGUF_NAME_FMT " data (%" PRIu64
			    " bytes at data offset %" PRIu64
			    ") ends past the end of the file (data section "
			    "at %" PRIu64 ", file size %" PRIu64 ")",
			    GGUF_NAME_ARG(t->name), t->size, t->offset,
			    g->data_offset, g->size);
		t->data = g->base + g->data_offset + t->offset;
	}
	return 0;
}

/* Parse the file G->base (G->size bytes). */
static int
gguf_parse(struct gguf *g, struct err *err)
{
	struct gguf_rd r = { g, 0, 8, err };
	uint64_t n_tensors, n_kv;
	int rc;

	if ((rc = gguf_rd_header(&r, g, &n_tensors, &n_kv)) < 0 ||
	    (rc = gguf_rd_kvs(&r, g, n_kv)) < 0 ||
	    (rc = gguf_rd_alignment(&r, g)) < 0 ||
	    (rc = gguf_rd_tensors(&r, g, n_tensors)) < 0)
		return rc;
	return 0;
}

static struct gguf *
gguf_new(const char *name, const void *data, uint64_t size)
{
	struct gguf *g = xcalloc(1, sizeof(*g));

	g->path = xstrdup(name);
	g->base = data;
	g->size = size;
	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	return g;
}

int
gguf_open_buffer(const void *data, size_t len, const char *name,
    struct gguf **out, struct err *err)
{
	struct gguf *g = gguf_new(name, data, len);
	int rc;

	*out = NULL;
	if ((rc = gguf_parse(g, err)) < 0) {
		gguf_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

int
gguf_open(const char *path, struct gguf **out, struct err *err)
{
	struct gguf *g;
	struct stat st;
	void *map = NULL;
	int fd, rc;

	*out = NULL;
	/* O_NONBLOCK: a FIFO is refused below instead of waiting forever
	 * for a writer (it changes nothing for a regular file) */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_set(
		    err, ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = err_set(
		    err, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(
		    err, ERR_IO, "cannot read '%s': not a regular file", path);
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return err_set(err, ERR_UNSUPPORTED,
		    "'%s': file too large to map on this machine", path);
	}
	if (st.st_size > 0) {
		map = mmap(
		    NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			rc = err_set(err, errno == ENOMEM ? ERR_NOMEM : ERR_IO,
			    "cannot map '%s': %s", path, strerror(errno));
			close(fd);
			return rc;
		}
	}
	close(fd);
	g = gguf_new(path, map, (uint64_t)st.st_size);
	g->map = map;
	if ((rc = gguf_parse(g, err)) < 0) {
		gguf_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

void
gguf_close(struct gguf *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n_kv; i++)
		gguf_value_release(&g->kvs[i].value);
	free(g->kvs);
	free(g->tensors);
	gguf_hash_release(&g->kv_hash);
	gguf_hash_release(&g->tensor_hash);
	if (g->map != NULL)
		munmap(g->map, (size_t)g->size);
	free(g->path);
	free(g);
}

const char *
gguf_path(const struct gguf *g)
{
	return g->path;
}

uint32_t
gguf_version(const struct gguf *g)
{
	return g->version;
}

uint64_t
gguf_file_size(const struct gguf *g)
{
	return g->size;
}

uint64_t
gguf_alignment(const struct gguf *g)
{
	return g->alignment;
}

uint64_t
gguf_data_offset(const struct gguf *g)
{
	return g->data_offset;
}

size_t
gguf_kv_count(const struct gguf *g)
{
	return g->n_kv;
}

const struct gguf_kv *
gguf_kv_at(const struct gguf *g, size_t i)
{
	return i < g->n_kv ? &g->kvs[i] : NULL;
}

const struct gguf_kv *
gguf_find(const struct gguf *g, const char *key)
{
	size_t i = gguf_hash_find(&g->kv_hash, key, gguf_kv_name_at, g->kvs);

	return i != (size_t)-1 ? &g->kvs[i] : NULL;
}

/* The integer in V, as a sign and magnitude; 0 if V is not an integer. */
static int
gguf_value_int(const struct gguf_value *v, int *neg, uint64_t *mag)
{
	switch (v->type) {
	case GGUF_UINT8:
	case GGUF_UINT16:
	case GGUF_UINT32:
	case GGUF_UINT64:
		*neg = 0;
		*mag = v->v.u64;
		return 1;
	case GGUF_INT8:
	case GGUF_INT16:
	case GGUF_INT32:
	case GGUF_INT64:
		*neg = v->v.i64 < 0;
		*mag = *neg ? 0 - (uint64_t)v->v.i64 : (uint64_t)v->v.i64;
		return 1;
	default:
		return 0;
	}
}

/* "key 'K' has type T, want WANT", at the key's offset. */
static int
gguf_wrong_type(const struct gguf *g, const struct gguf_kv *kv,
    const char *want, struct err *err)
{
	int arr = kv->value.type == GGUF_ARRAY;

	return err_set(err, ERR_FORMAT,
	    "'%s': offset %" PRIu64 ": key '%.*s' has type %s%s%s, want %s",
	    g->path, kv->offset, GGUF_NAME_ARG(kv->key),
	    gguf_vtype_name(kv->value.type), arr ? " of " : "",
	    arr ? gguf_vtype_name(kv->value.v.arr.type) : "", want);
}

/*
 * The integer KEY as a sign and magnitude, which must lie within
 * -NEG_MAX .. POS_MAX (TYPE names that range in the error).
 */
static int
gguf_get_int(const struct gguf *g, const char *key, uint64_t neg_max,
    uint64_t pos_max, const char *type, int *neg, uint64_t *mag,
    struct err *err)
{
	const struct gguf_kv *kv = gguf_find(g, key);

	if (kv == NULL)
		return ERR_NOTFOUND;
	if (!gguf_value_int(&kv->value, neg, mag))
		return gguf_wrong_type(g, kv, "an integer", err);
	if (*mag > (*neg ? neg_max : pos_max))
		return err_set(err, ERR_FORMAT,
		    "'%s': offset %" PRIu64 ": key '%.*s' value %s%" PRIu64
		    " does not fit %s",
		    g->path, kv->offset, GGUF_NAME_ARG(kv->key),
		    *neg ? "-" : "", *mag, type);
	return 0;
}

int
gguf_get_u32(
    const struct gguf *g, const char *key, uint32_t *out, struct err *err)
{
	uint64_t mag;
	int neg, rc;

	if ((rc = gguf_get_int(
		 g, key, 0, UINT32_MAX, "uint32", &neg, &mag, err)) < 0)
		return rc;
	*out = (uint32_t)mag;
	return 0;
}

int
gguf_get_u64(
    const struct gguf *g, const char *key, uint64_t *out, struct err *err)
{
	uint64_t mag;
	int neg, rc;

	if ((rc = gguf_get_int(
		 g, key, 0, UINT64_MAX, "uint64", &neg, &mag, err)) < 0)
		return rc;
	*out = mag;
	return 0;
}

int
gguf_get_i64(
    const struct gguf *g, const char *key, int64_t *out, struct err *err)
{
	uint64_t mag;
	int neg, rc;

	if ((rc = gguf_get_int(g, key, (uint64_t)INT64_MAX + 1, INT64_MAX,
		 "int64", &neg, &mag, err)) < 0)
		return rc;
	if (neg)
		*out =
		    mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	else
		*out = (int64_t)mag;
	return 0;
}

int
gguf_get_f32(const struct gguf *g, const char *key, float *out, struct err *err)
{
	const struct gguf_kv *kv = gguf_find(g, key);

	if (kv == NULL)
		return ERR_NOTFOUND;
	if (kv->value.type != GGUF_FLOAT32 && kv->value.type != GGUF_FLOAT64)
		return gguf_wrong_type(g, kv, "a float", err);
	*out = (float)kv->value.v.f64;
	return 0;
}

int
gguf_get_bool(const struct gguf *g, const char *key, int *out, struct err *err)
{
	const struct gguf_kv *kv = gguf_find(g, key);

	if (kv == NULL)
		return ERR_NOTFOUND;
	if (kv->value.type != GGUF_BOOL)
		return gguf_wrong_type(g, kv, "bool", err);
	*out = kv->value.v.b;
	return 0;
}

int
gguf_get_str(const struct gguf *g, const char *key, struct gguf_str *out,
    struct err *err)
{
	const struct gguf_kv *kv = gguf_find(g, key);

	if (kv == NULL)
		return ERR_NOTFOUND;
	if (kv->value.type != GGUF_STRING)
		return gguf_wrong_type(g, kv, "string", err);
	*out = kv->value.v.str;
	return 0;
}

int
gguf_get_arr(const struct gguf *g, const char *key, enum gguf_vtype elem,
    const struct gguf_value **out, struct err *err)
{
	const struct gguf_kv *kv = gguf_find(g, key);
	char want[64];

	if (kv == NULL)
		return ERR_NOTFOUND;
	if (kv->value.type != GGUF_ARRAY || kv->value.v.arr.type != elem) {
		snprintf(
		    want, sizeof(want), "array of %s", gguf_vtype_name(elem));
		return gguf_wrong_type(g, kv, want, err);
	}
	*out = &kv->value;
	return 0;
}

/* "{general.architecture}.SUFFIX" into *key (newly allocated). */
static int
gguf_arch_key(
    const struct gguf *g, const char *suffix, char **key, struct err *err)
{
	struct gguf_str arch = { "", 0 };
	int rc;

	*key = NULL;
	if ((rc = gguf_get_str(g, "general.architecture", &arch, err)) < 0)
		return rc;
	*key = xasprintf("%.*s.%s", (int)arch.len, arch.ptr, suffix);
	return 0;
}

int
gguf_get_arch_u32(
    const struct gguf *g, const char *suffix, uint32_t *out, struct err *err)
{
	char *key;
	int rc;

	if ((rc = gguf_arch_key(g, suffix, &key, err)) < 0)
		return rc;
	rc = gguf_get_u32(g, key, out, err);
	free(key);
	return rc;
}

int
gguf_get_arch_f32(
    const struct gguf *g, const char *suffix, float *out, struct err *err)
{
	char *key;
	int rc;

	if ((rc = gguf_arch_key(g, suffix, &key, err)) < 0)
		return rc;
	rc = gguf_get_f32(g, key, out, err);
	free(key);
	return rc;
}

/* Element I of a fixed-size array as raw little-endian bits, or 0. */
static int
gguf_arr_raw(const struct gguf_value *arr, uint64_t i, uint64_t *bits)
{
	uint64_t size;

	if (arr == NULL || arr->type != GGUF_ARRAY || i >= arr->v.arr.len)
		return 0;
	size = gguf_vtype_size(arr->v.arr.type);
	if (size == 0 || arr->v.arr.data == NULL)
		return 0;
	*bits = gguf_le(arr->v.arr.data + i * size, (unsigned)size);
	return 1;
}

/* A double converted to int64 without undefined behaviour. */
static int64_t
gguf_f64_to_i64(double d)
{
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

int64_t
gguf_arr_i64(const struct gguf_value *arr, uint64_t i)
{
	uint64_t x;
	uint32_t u;
	float f;
	double d;

	if (!gguf_arr_raw(arr, i, &x))
		return 0;
	switch (arr->v.arr.type) {
	case GGUF_INT8:
		return (int8_t)(uint8_t)x;
	case GGUF_INT16:
		return (int16_t)(uint16_t)x;
	case GGUF_INT32:
		return (int32_t)(uint32_t)x;
	case GGUF_INT64:
		return (int64_t)x;
	case GGUF_UINT64:
		return x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
	case GGUF_BOOL:
		return x != 0;
	case GGUF_FLOAT32:
		u = (uint32_t)x;
		memcpy(&f, &u, sizeof(f));
		return gguf_f64_to_i64(f);
	case GGUF_FLOAT64:
		memcpy(&d, &x, sizeof(d));
		return gguf_f64_to_i64(d);
	default: /* UINT8/16/32 */
		return (int64_t)x;
	}
}

double
gguf_arr_f64(const struct gguf_value *arr, uint64_t i)
{
	uint64_t x;
	uint32_t u;
	float f;
	double d;

	if (!gguf_arr_raw(arr, i, &x))
		return 0;
	switch (arr->v.arr.type) {
	case GGUF_FLOAT32:
		u = (uint32_t)x;
		memcpy(&f, &u, sizeof(f));
		return f;
	case GGUF_FLOAT64:
		memcpy(&d, &x, sizeof(d));
		return d;
	case GGUF_UINT64:
		return (double)x;
	default:
		return (double)gguf_arr_i64(arr, i);
	}
}

int
gguf_str_eq(struct gguf_str a, const char *s)
{
	size_t n = strlen(s);

	return a.len == n && memcmp(a.ptr, s, n) == 0;
}

char *
gguf_str_dup(struct gguf_str s)
{
	return xstrndup(s.ptr, (size_t)s.len);
}

size_t
gguf_tensor_count(const struct gguf *g)
{
	return g->n_tensors;
}

const struct gguf_tensor *
gguf_tensor_at(const struct gguf *g, size_t i)
{
	return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const struct gguf_tensor *
gguf_tensor_find(const struct gguf *g, const char *name)
{
	size_t i = gguf_hash_find(
	    &g->tensor_hash, name, gguf_tensor_name_at, g->tensors);

	return i != (size_t)-1 ? &g->tensors[i] : NULL;
}

void
gguf_identity(const struct gguf *g, char hex[17])
{
	uint64_t n = g->data_offset < g->size ? g->data_offset : g->size;
	uint64_t h = gguf_hash_bytes(g->base, n, GGUF_FNV_BASIS);

	snprintf(hex, 17, "%016" PRIx64, h);
}
