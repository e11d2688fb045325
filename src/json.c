/*
 * json: writer and recursive-descent parser.  The parser limits nesting to
 * JSON_MAX_DEPTH so hostile input cannot exhaust the stack, and never reads
 * past LEN.
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void
json_writer_init(struct json_writer *w, struct sbuf *sb, int pretty)
{
	memset(w, 0, sizeof *w);
	w->sb = sb;
	w->pretty = pretty;
	w->first[0] = 1;
}

static void
json_newline(struct json_writer *w)
{
	int i;

	if (!w->pretty)
		return;
	sbuf_addc(w->sb, '\n');
	for (i = 0; i < w->depth; i++)
		sbuf_adds(w->sb, "  ");
}

/* Called before every value and every key. */
static void
json_sep(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		sbuf_addc(w->sb, ',');
	w->first[w->depth] = 0;
	if (w->depth > 0)
		json_newline(w);
}

static void
json_open(struct json_writer *w, char c)
{
	json_sep(w);
	sbuf_addc(w->sb, c);
	if (w->depth + 1 >= JSON_MAX_DEPTH)
		abort(); /* a programming error: we never write this deep */
	w->depth++;
	w->first[w->depth] = 1;
	w->is_array[w->depth] = c == '[';
}

void
json_obj_begin(struct json_writer *w)
{
	json_open(w, '{');
}

void
json_arr_begin(struct json_writer *w)
{
	json_open(w, '[');
}

void
json_end(struct json_writer *w)
{
	int empty = w->first[w->depth];
	char close = w->is_array[w->depth] ? ']' : '}';

	w->depth--;
	if (!empty)
		json_newline(w);
	sbuf_addc(w->sb, close);
	if (w->depth == 0 && w->pretty)
		sbuf_addc(w->sb, '\n');
}

void
json_key(struct json_writer *w, const char *key)
{
	json_sep(w);
	json_quote(w->sb, key, strlen(key));
	sbuf_adds(w->sb, w->pretty ? ": " : ":");
	w->after_key = 1;
}

void
json_quote(struct sbuf *sb, const char *s, size_t len)
{
	size_t i = 0;

	sbuf_addc(sb, '"');
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		int n;

		if (c >= 0x80) {
			n = utf8_decode(s + i, len - i, &cp);
			if (n <= 0) {
				sbuf_adds(sb, "\\ufffd");
				i++;
				continue;
			}
			/* never raw: a terminal may act on them */
			if (utf8_hidden(cp))
				sbuf_addf(sb, "\\u%04x", (unsigned)cp);
			else
				sbuf_add(sb, s + i, (size_t)n);
			i += (size_t)n;
			continue;
		}
		switch (c) {
		case '"':
			sbuf_adds(sb, "\\\"");
			break;
		case '\\':
			sbuf_adds(sb, "\\\\");
			break;
		case '\n':
			sbuf_adds(sb, "\\n");
			break;
		case '\r':
			sbuf_adds(sb, "\\r");
			break;
		case '\t':
			sbuf_adds(sb, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				sbuf_addf(sb, "\\u%04x", c);
			else
				sbuf_addc(sb, (char)c);
		}
		i++;
	}
	sbuf_addc(sb, '"');
}

void
json_str(struct json_writer *w, const char *s)
{
	if (s == NULL) {
		json_null(w);
		return;
	}
	json_strn(w, s, strlen(s));
}

void
json_strn(struct json_writer *w, const char *s, size_t len)
{
	json_sep(w);
	json_quote(w->sb, s, len);
}

void
json_int(struct json_writer *w, int64_t v)
{
	json_sep(w);
	sbuf_addf(w->sb, "%lld", (long long)v);
}

void
json_num(struct json_writer *w, double v)
{
	json_sep(w);
	if (!isfinite(v))
		sbuf_adds(w->sb, "null");
	else
		sbuf_addf(w->sb, "%.9g", v);
}

void
json_bool(struct json_writer *w, int v)
{
	json_sep(w);
	sbuf_adds(w->sb, v ? "true" : "false");
}

void
json_null(struct json_writer *w)
{
	json_sep(w);
	sbuf_adds(w->sb, "null");
}

/* Parser. */

struct json_parser {
	const char *s;
	size_t len, pos;
	struct err *err;
};

static int
json_fail(struct json_parser *p, const char *what)
{
	return err_set(p->err, ERR_FORMAT, "offset %zu: %s", p->pos, what);
}

static void
json_ws(struct json_parser *p)
{
	while (p->pos < p->len &&
	    (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
		p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int
json_hex4(struct json_parser *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (p->len - p->pos < 4)
		return json_fail(p, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char c = p->s[p->pos + (size_t)i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return json_fail(p, "bad \\u escape");
	}
	p->pos += 4;
	*out = v;
	return 0;
}

static int
json_string(struct json_parser *p, struct sbuf *sb)
{
	p->pos++; /* opening quote */
	for (;;) {
		unsigned char c;
		uint32_t cp, lo;
		char enc[4];

		if (p->pos >= p->len)
			return json_fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c < 0x20)
			return json_fail(p, "control character in string");
		if (c != '\\') {
			sbuf_addc(sb, (char)c);
			p->pos++;
			continue;
		}
		if (++p->pos >= p->len)
			return json_fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			sbuf_addc(sb, (char)c);
			break;
		case 'b':
			sbuf_addc(sb, '\b');
			break;
		case 'f':
			sbuf_addc(sb, '\f');
			break;
		case 'n':
			sbuf_addc(sb, '\n');
			break;
		case 'r':
			sbuf_addc(sb, '\r');
			break;
		case 't':
			sbuf_addc(sb, '\t');
			break;
		case 'u':
			if (json_hex4(p, &cp) != 0)
				return ERR_FORMAT;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->len - p->pos < 6 ||
				    p->s[p->pos] != '\\' ||
				    p->s[p->pos + 1] != 'u')
					return json_fail(p, "lone surrogate");
				p->pos += 2;
				if (json_hex4(p, &lo) != 0)
					return ERR_FORMAT;
				if (lo < 0xdc00 || lo > 0xdfff)
					return json_fail(p, "lone surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff)
				return json_fail(p, "lone surrogate");
			sbuf_add(sb, enc, (size_t)utf8_encode(cp, enc));
			break;
		default:
			return json_fail(p, "bad escape");
		}
	}
}

static int json_value(struct json_parser *p, struct json **out, int depth);

static int
json_container(struct json_parser *p, struct json *j, int depth)
{
	int obj = j->type == JSON_OBJECT;
	char close = obj ? '}' : ']';
	size_t cap = 0;

	p->pos++;
	json_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct sbuf key;
		struct json *v;

		json_ws(p);
		if (j->len == cap) {
			cap = cap ? cap * 2 : 4;
			j->items =
			    xreallocarray(j->items, cap, sizeof *j->items);
			if (obj)
				j->keys = xreallocarray(
				    j->keys, cap, sizeof *j->keys);
		}
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return json_fail(p, "expected a key");
			sbuf_init(&key);
			if (json_string(p, &key) != 0) {
				sbuf_release(&key);
				return ERR_FORMAT;
			}
			json_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				sbuf_release(&key);
				return json_fail(p, "expected ':'");
			}
			p->pos++;
			j->keys[j->len] = sbuf_detach(&key);
			sbuf_release(&key);
		}
		if (json_value(p, &v, depth + 1) != 0) {
			if (obj)
				free(j->keys[j->len]);
			return ERR_FORMAT;
		}
		j->items[j->len++] = v;
		json_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return json_fail(
		    p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int
json_literal(struct json_parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return json_fail(p, "unexpected character");
	p->pos += n;
	return 0;
}

static int
json_number(struct json_parser *p, struct json *j)
{
	size_t start = p->pos;
	char buf[64];
	char *end;

	while (p->pos < p->len && strchr("+-0123456789.eE", p->s[p->pos]) &&
	    p->s[p->pos] != '\0')
		p->pos++;
	if (p->pos - start == 0 || p->pos - start >= sizeof buf)
		return json_fail(p, "bad number");
	memcpy(buf, p->s + start, p->pos - start);
	buf[p->pos - start] = '\0';
	j->number = strtod(buf, &end);
	if (*end != '\0') {
		p->pos = start;
		return json_fail(p, "bad number");
	}
	return 0;
}

static int
json_value(struct json_parser *p, struct json **out, int depth)
{
	struct json *j;
	struct sbuf sb;
	int rc = 0;

	if (depth >= JSON_MAX_DEPTH)
		return json_fail(p, "nesting too deep");
	json_ws(p);
	if (p->pos >= p->len)
		return json_fail(p, "unexpected end of input");
	j = xcalloc(1, sizeof *j);
	switch (p->s[p->pos]) {
	case '{':
		j->type = JSON_OBJECT;
		rc = json_container(p, j, depth);
		break;
	case '[':
		j->type = JSON_ARRAY;
		rc = json_container(p, j, depth);
		break;
	case '"':
		j->type = JSON_STRING;
		sbuf_init(&sb);
		rc = json_string(p, &sb);
		j->len = sb.len;
		j->str = sbuf_detach(&sb);
		sbuf_release(&sb);
		break;
	case 't':
		j->type = JSON_BOOL;
		j->boolean = 1;
		rc = json_literal(p, "true");
		break;
	case 'f':
		j->type = JSON_BOOL;
		rc = json_literal(p, "false");
		break;
	case 'n':
		j->type = JSON_NULL;
		rc = json_literal(p, "null");
		break;
	default:
		j->type = JSON_NUMBER;
		rc = json_number(p, j);
	}
	if (rc != 0) {
		json_free(j);
		return rc;
	}
	*out = j;
	return 0;
}

int
json_parse(const char *text, size_t len, struct json **out, struct err *err)
{
	struct json_parser p = { text, len, 0, err };
	struct json *j;

	if (json_value(&p, &j, 0) != 0)
		return ERR_FORMAT;
	json_ws(&p);
	if (p.pos != len) {
		json_free(j);
		return json_fail(&p, "trailing characters");
	}
	*out = j;
	return 0;
}

void
json_free(struct json *j)
{
	size_t i;

	if (j == NULL)
		return;
	if (j->type == JSON_ARRAY || j->type == JSON_OBJECT) {
		for (i = 0; i < j->len; i++) {
			json_free(j->items[i]);
			if (j->keys != NULL)
				free(j->keys[i]);
		}
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->len; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}
