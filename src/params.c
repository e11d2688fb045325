/*
 * params: table-driven generation parameters.  Each entry of params_table
 * knows its field's type, offset, range and documentation; multi-valued
 * parameters (stop, logit_bias) and the system prompt are handled as
 * special kinds.
 */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum params_kind {
	PK_FLOAT,
	PK_INT,
	PK_U64,
	PK_STOP,
	PK_BIAS,
	PK_SYSTEM,
};

struct params_def {
	const char *key;
	const char *alias;
	enum params_kind kind;
	size_t off;
	double min, max;
	const char *doc;
};

#define PF(f) offsetof(struct gen_params, f)

static const struct params_def params_table[] = {
	{ "temperature", "temp", PK_FLOAT, PF(temperature), 0, 100,
	    "divide logits by this before drawing; 0 picks the most likely "
	    "token (greedy)" },
	{ "top_k", "k", PK_INT, PF(top_k), 0, 1e9,
	    "keep only the K most likely tokens; 0 = off" },
	{ "top_p", "p", PK_FLOAT, PF(top_p), 0, 1,
	    "keep the smallest set of tokens whose probability adds up to P; "
	    "1 = off" },
	{ "min_p", NULL, PK_FLOAT, PF(min_p), 0, 1,
	    "drop tokens less likely than P times the most likely one; "
	    "0 = off" },
	{ "typical_p", "typical", PK_FLOAT, PF(typical_p), 0, 1,
	    "locally typical sampling: keep tokens closest to the expected "
	    "surprise until P; 1 = off" },
	/* 0 would divide by zero: the smallest allowed value is 0.01. */
	{ "repeat_penalty", "repeat", PK_FLOAT, PF(repeat_penalty), 0.01, 10,
	    "divide (or multiply, when negative) the logits of recent tokens; "
	    "1 = off" },
	{ "repeat_last_n", NULL, PK_INT, PF(repeat_last_n), -1, 1e9,
	    "how many recent tokens the penalties look at; -1 = all" },
	{ "frequency_penalty", "freq", PK_FLOAT, PF(frequency_penalty), -2, 2,
	    "subtract this times a token's count in the window; 0 = off" },
	{ "presence_penalty", "presence", PK_FLOAT, PF(presence_penalty), -2, 2,
	    "subtract this from every token already in the window; 0 = off" },
	{ "mirostat", NULL, PK_INT, PF(mirostat), 0, 2,
	    "2 = mirostat v2 (adaptive truncation aiming at surprise tau); "
	    "0 = off" },
	{ "mirostat_tau", "tau", PK_FLOAT, PF(mirostat_tau), 0, 100,
	    "mirostat target surprise in bits" },
	{ "mirostat_eta", "eta", PK_FLOAT, PF(mirostat_eta), 0, 1,
	    "mirostat learning rate" },
	{ "seed", NULL, PK_U64, PF(seed), 0, 0,
	    "random seed; 0 = draw one (the drawn seed is reported)" },
	{ "max_tokens", "n", PK_INT, PF(max_tokens), -1, 1e9,
	    "stop after this many generated tokens; -1 = until the context "
	    "is full" },
	{ "stop", NULL, PK_STOP, 0, 0, 0,
	    "stop when the output contains this string (repeatable; the "
	    "string is not shown)" },
	{ "logit_bias", "bias", PK_BIAS, 0, 0, 0,
	    "TOKEN:BIAS adds BIAS to a token's logit (repeatable; -inf bans "
	    "it)" },
	{ "ctx_shift", NULL, PK_INT, PF(ctx_shift), 0, 1,
	    "1 = when a conversation no longer fits the context, leave its "
	    "oldest turns out of the prompt (never out of the session); 0 = "
	    "fail that turn" },
	{ "system", "system_prompt", PK_SYSTEM, 0, 0, 0,
	    "system prompt sent before the conversation" },
};

void
params_init(struct gen_params *p)
{
	memset(p, 0, sizeof *p);
	p->temperature = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->typical_p = 1.0f;
	p->repeat_penalty = 1.0f;
	p->repeat_last_n = 64;
	p->frequency_penalty = 0.0f;
	p->presence_penalty = 0.0f;
	p->mirostat = 0;
	p->mirostat_tau = 5.0f;
	p->mirostat_eta = 0.1f;
	p->seed = 0;
	p->max_tokens = -1;
	p->ctx_shift = 1;
}

void
params_release(struct gen_params *p)
{
	size_t i;

	for (i = 0; i < p->n_stop; i++)
		free(p->stop[i]);
	p->n_stop = 0;
	free(p->system_prompt);
	p->system_prompt = NULL;
}

void
params_copy(struct gen_params *dst, const struct gen_params *src)
{
	size_t i;

	memcpy(dst, src, sizeof *dst);
	for (i = 0; i < src->n_stop; i++)
		dst->stop[i] = xstrdup(src->stop[i]);
	if (src->system_prompt != NULL)
		dst->system_prompt = xstrdup(src->system_prompt);
}

static const struct params_def *
params_find(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(params_table); i++) {
		const struct params_def *d = &params_table[i];

		if (strcmp(d->key, key) == 0 ||
		    (d->alias != NULL && strcmp(d->alias, key) == 0))
			return d;
	}
	/* Accept dashes for underscores (top-p as on the command line). */
	if (strchr(key, '-') != NULL) {
		char buf[64];
		size_t j;

		if (strlen(key) >= sizeof buf)
			return NULL;
		for (j = 0; key[j] != '\0'; j++)
			buf[j] = key[j] == '-' ? '_' : key[j];
		buf[j] = '\0';
		return params_find(buf);
	}
	return NULL;
}

const char *
params_canonical(const char *key)
{
	const struct params_def *d = params_find(key);

	return d != NULL ? d->key : NULL;
}

size_t
params_count(void)
{
	return ARRAY_LEN(params_table);
}

const char *
params_key(size_t i)
{
	return i < ARRAY_LEN(params_table) ? params_table[i].key : NULL;
}

const char *
params_doc(const char *key)
{
	const struct params_def *d = params_find(key);

	return d != NULL ? d->doc : NULL;
}

static int
params_parse_bias(const char *value, struct logit_bias *b)
{
	const char *colon = strchr(value, ':');
	char tok[32];
	int64_t t;
	double v;

	if (colon == NULL || (size_t)(colon - value) >= sizeof tok)
		return -1;
	memcpy(tok, value, (size_t)(colon - value));
	tok[colon - value] = '\0';
	if (util_parse_i64(tok, 0, INT32_MAX, &t) != 0)
		return -1;
	if (strcmp(colon + 1, "-inf") == 0)
		v = -INFINITY;
	else if (util_parse_double(colon + 1, &v) != 0 || fabs(v) > 1e6)
		return -1;
	b->token = (int32_t)t;
	b->bias = (float)v;
	return 0;
}

int
params_set(
    struct gen_params *p, const char *key, const char *value, struct err *err)
{
	const struct params_def *d = params_find(key);
	char *base = (char *)p;
	double v;
	int64_t i;
	char *end;

	if (d == NULL)
		return err_set(err, ERR_USAGE, "unknown parameter '%s'", key);
	switch (d->kind) {
	case PK_FLOAT:
		if (util_parse_double(value, &v) != 0)
			return err_set(err, ERR_USAGE,
			    "%s: '%s' is not a "
			    "number",
			    d->key, value);
		if (v < d->min || v > d->max)
			return err_set(err, ERR_RANGE,
			    "%s: %s is out of range "
			    "(%g to %g)",
			    d->key, value, d->min, d->max);
		*(float *)(base + d->off) = (float)v;
		return 0;
	case PK_INT:
		switch (util_parse_i64(
		    value, (int64_t)d->min, (int64_t)d->max, &i)) {
		case 0:
			break;
		case ERR_RANGE:
			return err_set(err, ERR_RANGE,
			    "%s: %s is out of range "
			    "(%.0f to %.0f)",
			    d->key, value, d->min, d->max);
		default:
			return err_set(err, ERR_USAGE,
			    "%s: '%s' is not an "
			    "integer",
			    d->key, value);
		}
		if (d->off == PF(mirostat) && i == 1)
			return err_set(err, ERR_UNSUPPORTED,
			    "mirostat: only "
			    "version 2 is supported (0 turns it off)");
		*(int32_t *)(base + d->off) = (int32_t)i;
		return 0;
	case PK_U64:
		if (*value == '\0' || *value == '-')
			return err_set(err, ERR_USAGE,
			    "%s: '%s' is not a "
			    "non-negative integer",
			    d->key, value);
		{
			unsigned long long u;

			errno = 0;
			u = strtoull(value, &end, 10);
			if (errno != 0 || *end != '\0')
				return err_set(err, ERR_USAGE,
				    "%s: '%s' is "
				    "not a non-negative integer",
				    d->key, value);
			*(uint64_t *)(base + d->off) = (uint64_t)u;
		}
		return 0;
	case PK_STOP:
		if (*value == '\0') {
			for (i = 0; (size_t)i < p->n_stop; i++)
				free(p->stop[i]);
			p->n_stop = 0;
			return 0;
		}
		if (p->n_stop == PARAMS_MAX_STOP)
			return err_set(err, ERR_RANGE,
			    "stop: at most %d stop "
			    "strings",
			    PARAMS_MAX_STOP);
		p->stop[p->n_stop++] = xstrdup(value);
		return 0;
	case PK_BIAS:
		if (*value == '\0') {
			p->n_bias = 0;
			return 0;
		}
		if (p->n_bias == PARAMS_MAX_BIAS)
			return err_set(err, ERR_RANGE,
			    "logit_bias: at most %d "
			    "entries",
			    PARAMS_MAX_BIAS);
		if (params_parse_bias(value, &p->bias[p->n_bias]) != 0)
			return err_set(err, ERR_USAGE,
			    "logit_bias: '%s' is "
			    "not TOKEN:BIAS (for example 13:-2.5 or 2:-inf)",
			    value);
		p->n_bias++;
		return 0;
	case PK_SYSTEM:
		free(p->system_prompt);
		p->system_prompt = *value != '\0' ? xstrdup(value) : NULL;
		return 0;
	}
	return err_set(err, ERR_USAGE, "unknown parameter '%s'", key);
}

void
params_unescape(const char *s, size_t len, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != '\\' || i + 1 == len ||
		    strchr("ntr\\\"", s[i + 1]) == NULL) {
			sbuf_addc(out, s[i]);
			continue;
		}
		i++;
		sbuf_addc(out,
		    s[i] == 'n'	      ? '\n'
			: s[i] == 't' ? '\t'
			: s[i] == 'r' ? '\r'
				      : s[i]);
	}
}

int
params_set_typed(
    struct gen_params *p, const char *key, const char *value, struct err *err)
{
	struct sbuf v;
	int rc;

	sbuf_init(&v);
	params_unescape(value, strlen(value), &v);
	rc = params_set(p, key, v.buf, err);
	sbuf_release(&v);
	return rc;
}

/*
 * Parse one possibly quoted word at *s, escapes applied; returns 0 or -1
 * (bad quoting).  In quotes, \" does not end the word.
 */
static int
params_word(const char **s, struct sbuf *out, const char *stopchars)
{
	const char *q = *s, *start;

	if (*q == '"') {
		start = ++q;
		while (*q != '"') {
			if (*q == '\0')
				return -1;
			if (*q == '\\' && q[1] != '\0')
				q++;
			q++;
		}
		params_unescape(start, (size_t)(q - start), out);
		q++;
	} else {
		start = q;
		while (*q != '\0' && strchr(stopchars, *q) == NULL)
			q++;
		params_unescape(start, (size_t)(q - start), out);
	}
	*s = q;
	return 0;
}

int
params_set_list(struct gen_params *p, const char *list, struct err *err)
{
	struct gen_params tmp;
	struct sbuf key, val;
	const char *s = list;
	int rc = 0;

	params_copy(&tmp, p);
	sbuf_init(&key);
	sbuf_init(&val);
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		sbuf_reset(&key);
		sbuf_reset(&val);
		while (*s != '\0' && *s != '=' && *s != ' ' && *s != '\t')
			sbuf_addc(&key, *s++);
		if (*s != '=') {
			rc = err_set(err, ERR_USAGE,
			    "'%s': expected "
			    "key=value",
			    key.buf);
			break;
		}
		s++;
		if (params_word(&s, &val, " \t,") != 0) {
			rc = err_set(
			    err, ERR_USAGE, "%s: unterminated quote", key.buf);
			break;
		}
		if ((rc = params_set(&tmp, key.buf, val.buf, err)) != 0)
			break;
	}
	sbuf_release(&key);
	sbuf_release(&val);
	if (rc != 0) {
		params_release(&tmp);
		return rc;
	}
	params_release(p);
	*p = tmp;
	return 0;
}

void
params_quote(struct sbuf *out, const char *value)
{
	const char *c;

	if (*value != '\0' && strpbrk(value, " \t\r\n\"\\#=,") == NULL) {
		sbuf_adds(out, value);
		return;
	}
	sbuf_addc(out, '"');
	for (c = value; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			sbuf_addc(out, '\\');
		if (*c == '\n')
			sbuf_adds(out, "\\n");
		else if (*c == '\t')
			sbuf_adds(out, "\\t");
		else if (*c == '\r') /* a preset file's lines may end in CRLF */
			sbuf_adds(out, "\\r");
		else
			sbuf_addc(out, *c);
	}
	sbuf_addc(out, '"');
}

static void
params_add_bias(struct sbuf *out, const struct logit_bias *b)
{
	if (isinf(b->bias))
		sbuf_addf(out, "%d:-inf", b->token);
	else
		sbuf_addf(out, "%d:%g", b->token, (double)b->bias);
}

int
params_get(const struct gen_params *p, const char *key, struct sbuf *out)
{
	const struct params_def *d = params_find(key);
	const char *base = (const char *)p;
	size_t i;

	if (d == NULL)
		return ERR_NOTFOUND;
	switch (d->kind) {
	case PK_FLOAT:
		sbuf_addf(out, "%g", (double)*(const float *)(base + d->off));
		break;
	case PK_INT:
		sbuf_addf(out, "%d", *(const int32_t *)(base + d->off));
		break;
	case PK_U64:
		sbuf_addf(out, "%llu",
		    (unsigned long long)*(const uint64_t *)(base + d->off));
		break;
	case PK_STOP:
		for (i = 0; i < p->n_stop; i++) {
			if (i > 0)
				sbuf_addc(out, ' ');
			params_quote(out, p->stop[i]);
		}
		break;
	case PK_BIAS:
		for (i = 0; i < p->n_bias; i++) {
			if (i > 0)
				sbuf_addc(out, ' ');
			params_add_bias(out, &p->bias[i]);
		}
		break;
	case PK_SYSTEM:
		if (p->system_prompt != NULL)
			sbuf_adds(out, p->system_prompt);
		break;
	}
	return 0;
}

/* Whether parameter D has the same value in A and B. */
static int
params_same(const struct params_def *d, const struct gen_params *a,
    const struct gen_params *b)
{
	const char *pa = (const char *)a, *pb = (const char *)b;
	size_t i;

	switch (d->kind) {
	case PK_FLOAT:
		return *(const float *)(pa + d->off) ==
		    *(const float *)(pb + d->off);
	case PK_INT:
		return *(const int32_t *)(pa + d->off) ==
		    *(const int32_t *)(pb + d->off);
	case PK_U64:
		return *(const uint64_t *)(pa + d->off) ==
		    *(const uint64_t *)(pb + d->off);
	case PK_STOP:
		if (a->n_stop != b->n_stop)
			return 0;
		for (i = 0; i < a->n_stop; i++)
			if (strcmp(a->stop[i], b->stop[i]) != 0)
				return 0;
		return 1;
	case PK_BIAS:
		if (a->n_bias != b->n_bias)
			return 0;
		for (i = 0; i < a->n_bias; i++)
			if (a->bias[i].token != b->bias[i].token ||
			    a->bias[i].bias != b->bias[i].bias)
				return 0;
		return 1;
	case PK_SYSTEM:
		if (a->system_prompt == NULL || b->system_prompt == NULL)
			return a->system_prompt == b->system_prompt;
		return strcmp(a->system_prompt, b->system_prompt) == 0;
	}
	return 0;
}

int
params_equal(const struct gen_params *a, const struct gen_params *b)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(params_table); i++)
		if (!params_same(&params_table[i], a, b))
			return 0;
	return 1;
}

/* Append "key=value" for parameter D of P (a system prompt quoted). */
static void
params_add_pair(
    struct sbuf *out, const struct params_def *d, const struct gen_params *p)
{
	struct sbuf v;

	sbuf_init(&v);
	params_get(p, d->key, &v);
	sbuf_addf(out, "%s=", d->key);
	if (d->kind == PK_SYSTEM)
		params_quote(out, v.buf);
	else
		sbuf_add(out, v.buf, v.len);
	sbuf_release(&v);
}

size_t
params_diff(const struct gen_params *a, const struct gen_params *b,
    const char *sep, struct sbuf *out)
{
	struct gen_params defaults;
	size_t i, n = 0;

	params_init(&defaults);
	if (b == NULL)
		b = &defaults;
	for (i = 0; i < ARRAY_LEN(params_table); i++) {
		const struct params_def *d = &params_table[i];

		if (params_same(d, a, b))
			continue;
		if (n++ > 0)
			sbuf_adds(out, sep);
		params_add_pair(out, d, a);
	}
	return n;
}

size_t
params_diff_n(const struct gen_params *const *p, size_t n,
    const char *const *skip, const char *sep, struct sbuf *out)
{
	size_t i, j, k, n_diff = 0;
	int differs;

	for (i = 0; i < ARRAY_LEN(params_table); i++) {
		const struct params_def *d = &params_table[i];

		for (j = 1, differs = 0; j < n && !differs; j++)
			differs = !params_same(d, p[0], p[j]);
		for (k = 0; differs && skip != NULL && skip[k] != NULL; k++)
			differs = strcmp(skip[k], d->key) != 0;
		if (!differs)
			continue;
		for (j = 0; j < n; j++) {
			if (n_diff > 0)
				sbuf_adds(&out[j], sep);
			params_add_pair(&out[j], d, p[j]);
		}
		n_diff++;
	}
	return n_diff;
}

void
params_format(const struct gen_params *p, struct sbuf *out)
{
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(params_table); i++) {
		const struct params_def *d = &params_table[i];
		struct sbuf v;

		switch (d->kind) {
		case PK_STOP:
			for (j = 0; j < p->n_stop; j++) {
				sbuf_addf(out, "%s = ", d->key);
				params_quote(out, p->stop[j]);
				sbuf_addc(out, '\n');
			}
			continue;
		case PK_BIAS:
			for (j = 0; j < p->n_bias; j++) {
				sbuf_addf(out, "%s = ", d->key);
				params_add_bias(out, &p->bias[j]);
				sbuf_addc(out, '\n');
			}
			continue;
		case PK_SYSTEM:
			if (p->system_prompt == NULL)
				continue;
			sbuf_addf(out, "%s = ", d->key);
			params_quote(out, p->system_prompt);
			sbuf_addc(out, '\n');
			continue;
		default:
			sbuf_init(&v);
			params_get(p, d->key, &v);
			sbuf_addf(out, "%s = %s\n", d->key, v.buf);
			sbuf_release(&v);
		}
	}
}

int
params_parse_text(
    struct gen_params *p, const char *text, const char *source, struct err *err)
{
	struct gen_params tmp;
	struct sbuf key, val;
	const char *s = text;
	int line = 1, rc = 0;

	params_copy(&tmp, p);
	sbuf_init(&key);
	sbuf_init(&val);
	while (*s != '\0' && rc == 0) {
		const char *eol = strchr(s, '\n');
		const char *end = eol != NULL ? eol : s + strlen(s);
		char *ln = xstrndup(s, (size_t)(end - s));
		const char *q = ln;

		sbuf_reset(&key);
		sbuf_reset(&val);
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '\0' || *q == '#' || *q == '\r')
			goto next;
		while (*q != '\0' && *q != '=' && *q != ' ' && *q != '\t')
			sbuf_addc(&key, *q++);
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=') {
			rc = err_set(err, ERR_FORMAT,
			    "%s: line %d: expected "
			    "'key = value'",
			    source, line);
			goto next;
		}
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		if (params_word(&q, &val, "\r") != 0) {
			rc = err_set(err, ERR_FORMAT,
			    "%s: line %d: "
			    "unterminated quote",
			    source, line);
			goto next;
		}
		/* Unquoted values run to the end of the line; trim it. */
		while (val.len > 0 &&
		    (val.buf[val.len - 1] == ' ' ||
			val.buf[val.len - 1] == '\t'))
			val.buf[--val.len] = '\0';
		if (params_set(&tmp, key.buf, val.buf, err) != 0)
			rc = err_prefix(err, "%s: line %d", source, line);
	next:
		free(ln);
		s = eol != NULL ? eol + 1 : end;
		line++;
	}
	sbuf_release(&key);
	sbuf_release(&val);
	if (rc != 0) {
		params_release(&tmp);
		return rc;
	}
	params_release(p);
	*p = tmp;
	return 0;
}

void
params_to_json(const struct gen_params *p, struct json_writer *w)
{
	size_t i, j;

	json_obj_begin(w);
	for (i = 0; i < ARRAY_LEN(params_table); i++) {
		const struct params_def *d = &params_table[i];
		const char *base = (const char *)p;

		json_key(w, d->key);
		switch (d->kind) {
		case PK_FLOAT:
			json_num(w, (double)*(const float *)(base + d->off));
			break;
		case PK_INT:
			json_int(w, *(const int32_t *)(base + d->off));
			break;
		case PK_U64:
			/* Seeds above 2^53 would lose bits as JSON numbers. */
			{
				char buf[32];

				snprintf(buf, sizeof buf, "%llu",
				    (unsigned long long)p->seed);
				json_str(w, buf);
			}
			break;
		case PK_STOP:
			json_arr_begin(w);
			for (j = 0; j < p->n_stop; j++)
				json_str(w, p->stop[j]);
			json_end(w);
			break;
		case PK_BIAS:
			json_arr_begin(w);
			for (j = 0; j < p->n_bias; j++) {
				struct sbuf b;

				sbuf_init(&b);
				params_add_bias(&b, &p->bias[j]);
				json_str(w, b.buf);
				sbuf_release(&b);
			}
			json_end(w);
			break;
		case PK_SYSTEM:
			json_str(w, p->system_prompt);
			break;
		}
	}
	json_end(w);
}

int
params_from_json(struct gen_params *p, const struct json *obj, struct err *err)
{
	struct gen_params tmp;
	size_t i, j;
	int rc = 0;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return err_set(err, ERR_FORMAT,
		    "parameters: not a JSON "
		    "object");
	params_copy(&tmp, p);
	for (i = 0; i < obj->len && rc == 0; i++) {
		const struct json *v = obj->items[i];
		const char *key = obj->keys[i];
		const struct params_def *d = params_find(key);
		char buf[64];

		if (d == NULL) {
			rc = err_set(err, ERR_FORMAT,
			    "parameters: unknown "
			    "key '%s'",
			    key);
			break;
		}
		if (d->kind == PK_STOP || d->kind == PK_BIAS) {
			if (v->type != JSON_ARRAY) {
				rc = err_set(err, ERR_FORMAT,
				    "parameters: "
				    "'%s' is not an array",
				    key);
				break;
			}
			params_set(&tmp, key, "", NULL);
			for (j = 0; j < v->len && rc == 0; j++) {
				if (v->items[j]->type != JSON_STRING)
					rc = err_set(err, ERR_FORMAT,
					    "parameters: '%s' holds a "
					    "non-string",
					    key);
				else
					rc = params_set(
					    &tmp, key, v->items[j]->str, err);
			}
			continue;
		}
		if (v->type == JSON_NULL && d->kind == PK_SYSTEM) {
			rc = params_set(&tmp, key, "", err);
			continue;
		}
		if (v->type == JSON_STRING) {
			rc = params_set(&tmp, key, v->str, err);
			continue;
		}
		if (v->type != JSON_NUMBER) {
			rc = err_set(err, ERR_FORMAT,
			    "parameters: '%s' has "
			    "the wrong type",
			    key);
			break;
		}
		snprintf(buf, sizeof buf, d->kind == PK_FLOAT ? "%.9g" : "%.0f",
		    v->number);
		rc = params_set(&tmp, key, buf, err);
	}
	if (rc != 0) {
		params_release(&tmp);
		return rc;
	}
	params_release(p);
	*p = tmp;
	return 0;
}

/*
 * Built-in presets.  Values follow common practice: precise and balanced
 * are the usual chat settings with tighter or looser truncation, creative
 * widens the distribution, deterministic is greedy decoding.
 */
static const struct {
	const char *name;
	const char *settings;
	const char *doc;
} params_builtins[] = {
	{ "default", "",
	    "the defaults: temperature 0.8, top-k 40, top-p 0.95, "
	    "min-p 0.05" },
	{ "precise",
	    "temperature=0.2 top_k=20 top_p=0.9 min_p=0.1 "
	    "repeat_penalty=1.05",
	    "focused, repeatable answers" },
	{ "balanced",
	    "temperature=0.7 top_k=40 top_p=0.9 min_p=0.05 "
	    "repeat_penalty=1.1",
	    "everyday chat" },
	{ "creative",
	    "temperature=1.1 top_k=0 top_p=1 min_p=0.05 "
	    "repeat_penalty=1.1 presence_penalty=0.3",
	    "varied, surprising text" },
	{ "deterministic", "temperature=0 top_k=1 top_p=1 min_p=0",
	    "greedy decoding: always the most likely token" },
};

size_t
params_builtin_count(void)
{
	return ARRAY_LEN(params_builtins);
}

const char *
params_builtin_name(size_t i)
{
	return i < ARRAY_LEN(params_builtins) ? params_builtins[i].name : NULL;
}

const char *
params_builtin_doc(size_t i)
{
	return i < ARRAY_LEN(params_builtins) ? params_builtins[i].doc : NULL;
}

int
params_builtin(const char *name, struct gen_params *out)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(params_builtins); i++) {
		if (strcmp(params_builtins[i].name, name) != 0)
			continue;
		params_init(out);
		if (params_set_list(out, params_builtins[i].settings, NULL) !=
		    0)
			abort(); /* the table above is wrong */
		return 0;
	}
	return ERR_NOTFOUND;
}
