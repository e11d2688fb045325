/*
 * params: generation parameters (the sampler chain's knobs plus max tokens,
 * stop strings and a system prompt), their defaults, their names, and their
 * text forms.  A preset is a named struct gen_params.
 *
 * Every parameter has one canonical key (the name in presets, JSON, /set and
 * the man page vkchat-sampling(7)) and maybe short aliases (temp for
 * temperature).  The table in params.c is the single source of truth: the
 * setters, the printers, the diffing and the documentation all use it.
 *
 * Caller-owned storage: params_init / params_release.  The strings inside
 * (stop strings, system prompt) belong to the struct.
 */
#ifndef VKCHAT_PARAMS_H
#define VKCHAT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "util.h"

#define PARAMS_MAX_STOP 16
#define PARAMS_MAX_BIAS 64

struct logit_bias {
	int32_t token;
	float bias; /* added to the logit; -inf (written "-inf") bans it */
};

struct gen_params {
	float temperature;	 /* 0 = greedy (argmax) */
	int32_t top_k;		 /* 0 = off */
	float top_p;		 /* 1 = off */
	float min_p;		 /* 0 = off */
	float typical_p;	 /* 1 = off */
	float repeat_penalty;	 /* 1 = off */
	int32_t repeat_last_n;	 /* window for the penalties; -1 = all */
	float frequency_penalty; /* 0 = off */
	float presence_penalty;	 /* 0 = off */
	int32_t mirostat;	 /* 0 = off, 2 = mirostat v2 */
	float mirostat_tau;
	float mirostat_eta;
	uint64_t seed;	    /* 0 = draw a random seed */
	int32_t max_tokens; /* -1 = until the context is full */
	int32_t ctx_shift;  /* 1 = drop the oldest turns when full, 0 = fail */
	char *stop[PARAMS_MAX_STOP];
	size_t n_stop;
	struct logit_bias bias[PARAMS_MAX_BIAS];
	size_t n_bias;
	char *system_prompt; /* NULL = none */
};

/* Fill *p with the defaults (the "default" preset). */
void params_init(struct gen_params *p);
/* Free the strings inside *p; *p may be params_init'ed again. */
void params_release(struct gen_params *p);
/* Deep copy: DST (not initialised) becomes a copy of SRC. */
void params_copy(struct gen_params *dst, const struct gen_params *src);
/* Whether A and B are equal in every field. */
int params_equal(const struct gen_params *a, const struct gen_params *b);

/*
 * Set one parameter from text: KEY is a canonical name or alias, VALUE its
 * text.  "stop" adds a stop string ("stop=" with an empty value clears
 * them); "logit_bias" takes TOKEN:BIAS and adds it ("logit_bias=" clears);
 * "system" sets the system prompt ("" clears).  Errors name the key and
 * value and the allowed range.
 */
int params_set(
    struct gen_params *p, const char *key, const char *value, struct err *err);

/*
 * Escapes in a value a user typed, the same in every place one is typed
 * (--stop, --system, --set, /set, compare's --sweep, presets add and
 * preset files): \n a newline, \t a tab, \r a carriage return, \\ a
 * backslash, \" a double quote; any other backslash stays as it is.  Appends the result to OUT.
 */
void params_unescape(const char *s, size_t len, struct sbuf *out);

/*
 * params_set() of a value as the user typed it: escapes applied first
 * (params_unescape).  Stored values (JSON, the database) take
 * params_set() as they are.
 */
int params_set_typed(
    struct gen_params *p, const char *key, const char *value, struct err *err);

/*
 * Apply "key=value key=value ..." (as typed after /set; commas separate
 * too, as in --set temp=0.7,top_p=0.9); values may be double-quoted (to
 * hold spaces and commas), and escapes apply in either form
 * (params_unescape).  On error *p is unchanged.
 */
int params_set_list(struct gen_params *p, const char *list, struct err *err);

/* Canonical key for a name or alias, or NULL if unknown. */
const char *params_canonical(const char *key);

/* Append parameter KEY's value as text (as params_set would accept). */
int params_get(const struct gen_params *p, const char *key, struct sbuf *out);

/* Number of parameters and the canonical key of the I'th, in table order. */
size_t params_count(void);
const char *params_key(size_t i);
/* One-line description of a parameter (for help and pickers). */
const char *params_doc(const char *key);

/*
 * Append "key=value" for every parameter where A differs from B (B = NULL:
 * from the defaults), separated by SEP.  Returns how many differ.
 */
size_t params_diff(const struct gen_params *a, const struct gen_params *b,
    const char *sep, struct sbuf *out);

/*
 * The N-way form, for columns side by side: for every parameter whose
 * value is not the same in all of P[0..n), except those named in SKIP
 * (NULL-terminated; NULL: none), append "key=value" of P[i] to OUT[i]
 * (N sbufs), separated by SEP.  Returns how many parameters differ.
 */
size_t params_diff_n(const struct gen_params *const *p, size_t n,
    const char *const *skip, const char *sep, struct sbuf *out);

/*
 * The preset text format (vkchat-presets(5)): one "key = value" per line,
 * '#' comments, values quoted like params_set_list when they contain
 * spaces or specials.  params_format writes every parameter;
 * params_parse_text reads such text into *p (starting from *p's current
 * values).  Errors name LINE numbers (SOURCE names the file).
 */
void params_format(const struct gen_params *p, struct sbuf *out);
int params_parse_text(struct gen_params *p, const char *text,
    const char *source, struct err *err);

/* Write *p as a JSON object (every key). */
void params_to_json(const struct gen_params *p, struct json_writer *w);
/* Read a JSON object as written by params_to_json (unknown keys refused). */
int params_from_json(
    struct gen_params *p, const struct json *obj, struct err *err);

/*
 * Built-in presets (default, precise, balanced, creative, deterministic):
 * count, I'th name and one-line description, and params_builtin() which
 * fills *out (not initialised) with NAME's values or returns ERR_NOTFOUND.
 */
size_t params_builtin_count(void);
const char *params_builtin_name(size_t i);
const char *params_builtin_doc(size_t i);
int params_builtin(const char *name, struct gen_params *out);

/* Append VALUE quoted for params_set_list if it needs quoting. */
void params_quote(struct sbuf *out, const char *value);

#endif
