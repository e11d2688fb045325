/*
 * json: a small JSON writer (for --json output) and parser (for test data,
 * imports and stored settings).
 *
 * The writer appends to a struct sbuf and keeps track of commas itself:
 * json_obj_begin / json_key / values / json_end.  Strings are written with
 * every control character and every non-UTF-8 byte escaped, so output is
 * always valid JSON.
 *
 * The parser builds a tree of struct json nodes owned by the root; free it
 * with json_free().  Strings are decoded to UTF-8 (\u escapes and surrogate
 * pairs included) and carry their length, since they may contain NUL.
 */
#ifndef VKCHAT_JSON_H
#define VKCHAT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

#define JSON_MAX_DEPTH 64

struct json_writer {
	struct sbuf *sb;
	int pretty;
	int depth;
	unsigned char first[JSON_MAX_DEPTH];	/* no member written yet */
	unsigned char is_array[JSON_MAX_DEPTH]; /* an array, not an object */
	int after_key;
};

/* Start writing into SB (not cleared); PRETTY indents with two spaces. */
void json_writer_init(struct json_writer *w, struct sbuf *sb, int pretty);
void json_obj_begin(struct json_writer *w);
void json_arr_begin(struct json_writer *w);
/* Close the innermost object or array. */
void json_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_str(struct json_writer *w, const char *s);
void json_strn(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, int64_t v);
/* A finite double with up to 9 significant digits; NaN/inf become null. */
void json_num(struct json_writer *w, double v);
void json_bool(struct json_writer *w, int v);
void json_null(struct json_writer *w);

/* Append S (LEN bytes) to SB as a quoted, escaped JSON string. */
void json_quote(struct sbuf *sb, const char *s, size_t len);

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	int boolean;
	double number;
	char *str;	     /* JSON_STRING: UTF-8, NUL-terminated */
	size_t len;	     /* JSON_STRING: bytes; ARRAY/OBJECT: members */
	struct json **items; /* ARRAY/OBJECT: LEN members */
	char **keys;	     /* OBJECT: LEN keys */
};

/*
 * Parse TEXT (LEN bytes) as one JSON value.  On success *out is the root,
 * owned by the caller.  Errors name the byte offset.
 */
int json_parse(
    const char *text, size_t len, struct json **out, struct err *err);
void json_free(struct json *j);

/* Member KEY of an object, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);

#endif
