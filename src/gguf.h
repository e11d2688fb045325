/*
 * gguf: the GGUF model file (llama.cpp's format), versions 1, 2 and 3.
 *
 * gguf_open() memory-maps a file and validates all of it before anything
 * is trusted: magic, version, counts against the file size, string and
 * array lengths, value types, UTF-8 and uniqueness of keys, dimension
 * products (overflow-checked), tensor types and block sizes, unique tensor
 * names, and that every tensor's data lies inside the file, aligned to
 * general.alignment (a power of two, default 32).  A bad file gets an
 * ERR_FORMAT (or ERR_UNSUPPORTED for a file we do not read: big-endian,
 * versions above 3) naming the file, the byte offset and what is wrong.
 * After a successful open, every pointer handed out points inside the
 * mapping and every length is in bounds.
 *
 * GGUF v1 (32-bit counts, lengths and dimensions) is read as well; v2 and
 * v3 share one layout.  Tensors have 1 to 4 dimensions (0 = a scalar), each
 * at least 1.
 *
 * Strings in the file are not NUL-terminated: they are handed out as
 * struct gguf_str (pointer into the mapping + length), valid until
 * gguf_close().  All integers in the file are little-endian.
 */
#ifndef VKCHAT_GGUF_H
#define VKCHAT_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Tensor element types (ggml's numbering, as stored in the file). */
enum ggml_type {
	GGML_TYPE_F32 = 0,
	GGML_TYPE_F16 = 1,
	GGML_TYPE_Q4_0 = 2,
	GGML_TYPE_Q4_1 = 3,
	GGML_TYPE_Q5_0 = 6,
	GGML_TYPE_Q5_1 = 7,
	GGML_TYPE_Q8_0 = 8,
	GGML_TYPE_Q8_1 = 9,
	GGML_TYPE_Q2_K = 10,
	GGML_TYPE_Q3_K = 11,
	GGML_TYPE_Q4_K = 12,
	GGML_TYPE_Q5_K = 13,
	GGML_TYPE_Q6_K = 14,
	GGML_TYPE_Q8_K = 15,
	GGML_TYPE_IQ2_XXS = 16,
	GGML_TYPE_IQ2_XS = 17,
	GGML_TYPE_IQ3_XXS = 18,
	GGML_TYPE_IQ1_S = 19,
	GGML_TYPE_IQ4_NL = 20,
	GGML_TYPE_IQ3_S = 21,
	GGML_TYPE_IQ2_S = 22,
	GGML_TYPE_IQ4_XS = 23,
	GGML_TYPE_I8 = 24,
	GGML_TYPE_I16 = 25,
	GGML_TYPE_I32 = 26,
	GGML_TYPE_I64 = 27,
	GGML_TYPE_F64 = 28,
	GGML_TYPE_IQ1_M = 29,
	GGML_TYPE_BF16 = 30,
	GGML_TYPE_TQ1_0 = 34,
	GGML_TYPE_TQ2_0 = 35,
	GGML_TYPE_MXFP4 = 39,
	GGML_TYPE_COUNT = 40,
};

struct ggml_type_info {
	const char *name;    /* "q4_0" */
	uint32_t block_size; /* elements per block (1 for plain types) */
	uint32_t type_size;  /* bytes per block */
};

/* Size and name of tensor type TYPE, or NULL if it is not a known type. */
const struct ggml_type_info *ggml_type_info(uint32_t type);

/* Metadata value types. */
enum gguf_vtype {
	GGUF_UINT8 = 0,
	GGUF_INT8 = 1,
	GGUF_UINT16 = 2,
	GGUF_INT16 = 3,
	GGUF_UINT32 = 4,
	GGUF_INT32 = 5,
	GGUF_FLOAT32 = 6,
	GGUF_BOOL = 7,
	GGUF_STRING = 8,
	GGUF_ARRAY = 9,
	GGUF_UINT64 = 10,
	GGUF_INT64 = 11,
	GGUF_FLOAT64 = 12,
};

/* Name of a value type ("uint32"), or "unknown". */
const char *gguf_vtype_name(uint32_t type);
/* Bytes of one value of a fixed-size type, 0 for strings and arrays. */
uint64_t gguf_vtype_size(uint32_t type);

struct gguf_str {
	const char *ptr; /* into the mapping; not NUL-terminated */
	uint64_t len;
};

/*
 * A metadata value.  Scalars are decoded into the union (integers widened,
 * floats to double, bool to 0/1).  Arrays keep their element type and
 * length; fixed-size elements stay in the file (DATA, little-endian, use
 * gguf_arr_* to read them), string elements are indexed in STRS, nested
 * arrays in ITEMS.
 */
struct gguf_value {
	enum gguf_vtype type;
	union {
		uint64_t u64; /* UINT8/16/32/64 */
		int64_t i64;  /* INT8/16/32/64 */
		double f64;   /* FLOAT32/64 */
		int b;	      /* BOOL */
		struct gguf_str str;
		struct {
			enum gguf_vtype type;
			uint64_t len;
			const uint8_t *data;	  /* fixed-size elements */
			struct gguf_str *strs;	  /* STRING elements */
			struct gguf_value *items; /* ARRAY elements */
		} arr;
	} v;
};

struct gguf_kv {
	struct gguf_str key;
	uint64_t offset; /* where the key starts in the file */
	struct gguf_value value;
};

#define GGUF_MAX_DIMS 4

struct gguf_tensor {
	struct gguf_str name;
	uint32_t n_dims;
	uint64_t ne[GGUF_MAX_DIMS]; /* dims, innermost first; unused = 1 */
	uint32_t type;		    /* enum ggml_type */
	uint64_t offset;	    /* from the start of the data section */
	uint64_t n_elements;
	uint64_t size;	      /* bytes of data */
	const void *data;     /* into the mapping */
	uint64_t info_offset; /* where its info (name) starts in the file */
};

struct gguf;

/*
 * Map and validate PATH.  On success *out is a new struct gguf owned by the
 * caller (gguf_close).  Errors: ERR_IO (cannot open/map), ERR_FORMAT
 * (malformed: names the offset), ERR_UNSUPPORTED (big-endian files, GGUF
 * versions above 3).
 */
int gguf_open(const char *path, struct gguf **out, struct err *err);

/*
 * The same over a caller-owned buffer (DATA, LEN bytes) that must outlive
 * the struct gguf; NAME is used in messages.  For fuzzing and tests.
 */
int gguf_open_buffer(const void *data, size_t len, const char *name,
    struct gguf **out, struct err *err);

void gguf_close(struct gguf *g);

const char *gguf_path(const struct gguf *g);
uint32_t gguf_version(const struct gguf *g);
uint64_t gguf_file_size(const struct gguf *g);
uint64_t gguf_alignment(const struct gguf *g);
/* File offset of the tensor data section. */
uint64_t gguf_data_offset(const struct gguf *g);

size_t gguf_kv_count(const struct gguf *g);
const struct gguf_kv *gguf_kv_at(const struct gguf *g, size_t i);
/* The metadata entry KEY, or NULL. */
const struct gguf_kv *gguf_find(const struct gguf *g, const char *key);

/*
 * Typed getters.  Return 0 and set *out, ERR_NOTFOUND if the key is
 * absent (err is not filled: absence is often fine), or ERR_FORMAT if it
 * has a type that does not convert or a value that does not fit (err names
 * the key, its offset and its type or value).  Integer getters accept any
 * integer type whose value fits; float getters accept FLOAT32/FLOAT64.
 */
int gguf_get_u32(
    const struct gguf *g, const char *key, uint32_t *out, struct err *err);
int gguf_get_u64(
    const struct gguf *g, const char *key, uint64_t *out, struct err *err);
int gguf_get_i64(
    const struct gguf *g, const char *key, int64_t *out, struct err *err);
int gguf_get_f32(
    const struct gguf *g, const char *key, float *out, struct err *err);
int gguf_get_bool(
    const struct gguf *g, const char *key, int *out, struct err *err);
int gguf_get_str(const struct gguf *g, const char *key, struct gguf_str *out,
    struct err *err);
/* An array whose elements have type ELEM (the value's arr fields). */
int gguf_get_arr(const struct gguf *g, const char *key, enum gguf_vtype elem,
    const struct gguf_value **out, struct err *err);

/*
 * "{general.architecture}.SUFFIX" getters, e.g. suffix "block_count";
 * ERR_NOTFOUND also when general.architecture is absent.
 */
int gguf_get_arch_u32(
    const struct gguf *g, const char *suffix, uint32_t *out, struct err *err);
int gguf_get_arch_f32(
    const struct gguf *g, const char *suffix, float *out, struct err *err);

/*
 * Element I of a fixed-size numeric (or bool) array, converted (floats to
 * integers truncate and saturate, NaN is 0); 0 when I is out of range or
 * ARR is not such an array.
 */
int64_t gguf_arr_i64(const struct gguf_value *arr, uint64_t i);
double gguf_arr_f64(const struct gguf_value *arr, uint64_t i);

/* Whether a gguf_str equals the C string S. */
int gguf_str_eq(struct gguf_str a, const char *s);
/* A newly allocated NUL-terminated copy. */
char *gguf_str_dup(struct gguf_str s);

size_t gguf_tensor_count(const struct gguf *g);
const struct gguf_tensor *gguf_tensor_at(const struct gguf *g, size_t i);
/* The tensor NAME, or NULL. */
const struct gguf_tensor *gguf_tensor_find(
    const struct gguf *g, const char *name);

/*
 * A 64-bit hash of everything before the tensor data (header, metadata,
 * tensor infos), as 16 hex digits in HEX (17 bytes): the model's identity
 * for stored sessions.  Cheap: it does not read the weights.
 */
void gguf_identity(const struct gguf *g, char hex[17]);

#endif
