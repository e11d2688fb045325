/*
 * gguf-write: build a GGUF v3 file in memory and write it.  Used by the
 * tests (random-weight models, malformed-file generators) and by tools.
 * Keys and tensors are written in the order they were added; tensor data
 * is aligned to the alignment given at gguf_writer_new (32 is GGUF's
 * default; a general.alignment key is written first when it differs).
 * Nothing is validated (duplicate keys, bad types and dims are written as
 * given), so the tests can make malformed files with it too.
 *
 * Heap object: gguf_writer_new / gguf_writer_free.  Data passed in is
 * copied.
 */
#ifndef VKCHAT_GGUF_WRITE_H
#define VKCHAT_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gguf.h"
#include "util.h"

struct gguf_writer;

/* A new, empty writer; ALIGNMENT must be a power of two. */
struct gguf_writer *gguf_writer_new(uint32_t alignment);
void gguf_writer_free(struct gguf_writer *w);

void gguf_writer_u32(struct gguf_writer *w, const char *key, uint32_t v);
void gguf_writer_i32(struct gguf_writer *w, const char *key, int32_t v);
void gguf_writer_u64(struct gguf_writer *w, const char *key, uint64_t v);
void gguf_writer_f32(struct gguf_writer *w, const char *key, float v);
void gguf_writer_bool(struct gguf_writer *w, const char *key, int v);
void gguf_writer_str(struct gguf_writer *w, const char *key, const char *v);
/* An array of N strings. */
void gguf_writer_arr_str(
    struct gguf_writer *w, const char *key, const char *const *v, size_t n);
/* An array of N fixed-size elements of TYPE (host layout, little-endian). */
void gguf_writer_arr(struct gguf_writer *w, const char *key,
    enum gguf_vtype type, const void *v, size_t n);

/*
 * Any value, including nested arrays, in the reader's form: fixed-size
 * array elements are taken from arr.data as they lie in a file
 * (little-endian), strings from arr.strs, nested arrays from arr.items.
 */
void gguf_writer_value(
    struct gguf_writer *w, const char *key, const struct gguf_value *v);

/*
 * Add a tensor of TYPE with N_DIMS dims NE (innermost first) and SIZE bytes
 * of DATA (which should match the type and dims: nothing is checked, so
 * tests can write malformed files).
 */
void gguf_writer_tensor(struct gguf_writer *w, const char *name, uint32_t type,
    uint32_t n_dims, const uint64_t *ne, const void *data, size_t size);

/* The whole file into OUT (appended). */
void gguf_writer_build(struct gguf_writer *w, struct sbuf *out);
/* Write the file to PATH. */
int gguf_writer_save(struct gguf_writer *w, const char *path, struct err *err);

#endif
