/*
 * tok-bpe: GPT-2 byte-level BPE (tokenizer.ggml.model "gpt2": Llama 3,
 * Qwen, GPT-2, SmolLM, ...), as Hugging Face tokenizers does it.
 *
 * A text segment (special tokens already cut out) is NFC-normalized for
 * Qwen ("qwen2"), then split by the pre-tokenizer regexes that
 * tokenizer.ggml.pre selects, each regex splitting every piece of the one
 * before it, keeping both the matches and the text between them.  Each
 * piece's bytes map to GPT-2's printable characters (bytes_to_unicode:
 * the printable Latin-1 bytes stand for themselves, the others for
 * U+0100 onwards), one symbol per byte, and adjacent symbol pairs merge
 * lowest merge rank first, leftmost on ties.  The pair table maps (left
 * id, right id) to (rank, merged id), so merging never touches strings.
 * Candidate pairs sit in a binary heap; a popped pair is stale when one
 * of its symbols has changed since, so a piece of n bytes costs
 * O(n log n).  With ignore_merges (Llama 3) a piece that is itself a
 * token is emitted whole.
 *
 * The regexes are those of the tokenizer.json files, run by PCRE2 in UTF
 * mode (JIT-compiled when available), with two deliberate changes:
 * \s and \S are spelled out as Unicode White_Space (PCRE2's \s also
 * matches U+180E, Oniguruma's and llama.cpp's do not), and the
 * case-insensitive contractions (?i:'s|...) as ASCII-only classes, as
 * llama.cpp and transformers.js match them.  PCRE2_MATCH_INVALID_UTF lets
 * input that is not UTF-8 through: no match spans an invalid byte, which
 * therefore ends up in a piece of its own and becomes its byte token.
 *
 * An unknown or missing tokenizer.ggml.pre (or "default", which old
 * converters wrote when they did not know) falls back to the GPT-2 regex
 * with a warning (tokenizer_warning): most byte-level vocabularies were
 * trained with a close relative of it, and refusing to load would be
 * worse for a chat program than a slightly different split.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tok-internal.h"
#include "utf8.h"

/* Unicode White_Space, the contents of a character class. */
#define TOK_WS \
	"\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}" \
	"\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
#define TOK_S "[" TOK_WS "]"
#define TOK_NS "[^" TOK_WS "]"
#define TOK_CONTRACTIONS \
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

/* GPT-2 (tokenizers' ByteLevel regex). */
static const char tok_bpe_re_gpt2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" TOK_WS
    "\\p{L}\\p{N}]+|" TOK_S "+(?!" TOK_NS ")|" TOK_S "+";

/* Llama 3. */
static const char tok_bpe_re_llama3[] =
    TOK_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^" TOK_WS
		     "\\p{L}\\p{N}]+[\\r\\n]*|" TOK_S "*[\\r\\n]+|" TOK_S
		     "+(?!" TOK_NS ")|" TOK_S "+";

/* Qwen 2 and 3: Llama 3's with single digits. */
static const char tok_bpe_re_qwen2[] =
    TOK_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^" TOK_WS
		     "\\p{L}\\p{N}]+[\\r\\n]*|" TOK_S "*[\\r\\n]+|" TOK_S
		     "+(?!" TOK_NS ")|" TOK_S "+";

/* Digits split one by one (then the GPT-2 regex). */
static const char tok_bpe_re_digits[] = "\\p{N}";

struct tok_bpe_pre {
	const char *name;
	const char *re[TOK_MAX_RE];
	int ignore_merges;
	int nfc;
};

static const struct tok_bpe_pre tok_bpe_pres[] = {
	{ "gpt-2", { tok_bpe_re_gpt2, NULL }, 0, 0 },
	{ "phi-2", { tok_bpe_re_gpt2, NULL }, 0, 0 },
	{ "mpt", { tok_bpe_re_gpt2, NULL }, 0, 0 },
	{ "olmo", { tok_bpe_re_gpt2, NULL }, 0, 0 },
	{ "llama-bpe", { tok_bpe_re_llama3, NULL }, 1, 0 },
	{ "llama3", { tok_bpe_re_llama3, NULL }, 1, 0 },
	{ "llama-v3", { tok_bpe_re_llama3, NULL }, 1, 0 },
	{ "falcon3", { tok_bpe_re_llama3, NULL }, 1, 0 },
	{ "pixtral", { tok_bpe_re_llama3, NULL }, 1, 0 },
	{ "dbrx", { tok_bpe_re_llama3, NULL }, 0, 0 },
	{ "smaug-bpe", { tok_bpe_re_llama3, NULL }, 0, 0 },
	{ "qwen2", { tok_bpe_re_qwen2, NULL }, 0, 1 },
	{ "smollm", { tok_bpe_re_digits, tok_bpe_re_gpt2 }, 0, 0 },
	{ "starcoder", { tok_bpe_re_digits, tok_bpe_re_gpt2 }, 0, 0 },
	{ "refact", { tok_bpe_re_digits, tok_bpe_re_gpt2 }, 0, 0 },
	{ "command-r", { tok_bpe_re_digits, tok_bpe_re_gpt2 }, 0, 0 },
};

/* GPT-2's bytes_to_unicode: the code point that stands for byte B. */
static uint32_t
tok_bpe_byte_cp(unsigned b)
{
	if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)
		return b;
	if (b <= 32)
		return 256 + b;
	if (b <= 160)
		return 256 + 33 + (b - 127);
	return 256 + 33 + 34; /* 173 */
}

/* The inverse: the byte code point CP stands for, or -1. */
static int
tok_bpe_cp_byte(uint32_t cp)
{
	if (cp < 256)
		return tok_bpe_byte_cp(cp) == cp ? (int)cp : -1;
	if (cp < 256 + 33)
		return (int)(cp - 256);
	if (cp < 256 + 33 + 34)
		return (int)(cp - 256 - 33 + 127);
	if (cp == 256 + 33 + 34)
		return 173;
	return -1;
}

void
tok_bpe_decode_text(const char *s, size_t len, struct sbuf *out)
{
	size_t i = 0;
	uint32_t cp;
	int n, b;

	while (i < len) {
		n = utf8_decode(s + i, len - i, &cp);
		if (n <= 0) {
			sbuf_addc(out, s[i++]);
			continue;
		}
		b = tok_bpe_cp_byte(cp);
		if (b >= 0)
			sbuf_addc(out, (char)b);
		else
			sbuf_add(out, s + i, (size_t)n);
		i += (size_t)n;
	}
}

static uint64_t
tok_bpe_pair_hash(int32_t left, int32_t right)
{
	uint64_t h = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* The table slot of the pair (LEFT, RIGHT), or the empty one for it. */
static struct tok_merge *
tok_bpe_pair_slot(const struct tokenizer *tok, int32_t left, int32_t right)
{
	uint32_t i = (uint32_t)tok_bpe_pair_hash(left, right) & tok->merge_mask;
	struct tok_merge *m;

	for (;; i = (i + 1) & tok->merge_mask) {
		m = &tok->merges[i];
		if (m->left < 0 || (m->left == left && m->right == right))
			return m;
	}
}

static int
tok_bpe_merges(
    struct tokenizer *tok, const struct tok_vocab *v, struct err *err)
{
	struct sbuf cat;
	const struct gguf_str *m;
	const char *sp;
	struct tok_merge *slot;
	uint32_t cap = 16, i;
	int32_t l, r, id;
	size_t k, ln;
	int rc = 0;

	if (v->merges == NULL)
		return err_set(
		    err, ERR_MODEL, "missing key 'tokenizer.ggml.merges'");
	if (v->n_merges >= UINT32_MAX / 4)
		return err_set(err, ERR_FORMAT,
		    "tokenizer.ggml.merges: %zu merges are too many",
		    v->n_merges);
	while (cap < 2 * v->n_merges)
		cap *= 2;
	tok->merges = xreallocarray(NULL, cap, sizeof(*tok->merges));
	for (i = 0; i < cap; i++)
		tok->merges[i].left = -1;
	tok->merge_mask = cap - 1;
	sbuf_init(&cat);
	for (k = 0; k < v->n_merges; k++) {
		m = &v->merges[k];
		sp = m->len > 1 ? memchr(m->ptr + 1, ' ', m->len - 1) : NULL;
		if (sp == NULL || sp == m->ptr + m->len - 1) {
			rc = err_set(err, ERR_FORMAT,
			    "tokenizer.ggml.merges[%zu]: '%.*s' is not two "
			    "tokens separated by a space",
			    k, (int)(m->len < 60 ? m->len : 60), m->ptr);
			break;
		}
		ln = (size_t)(sp - m->ptr);
		l = tokenizer_lookup(tok, m->ptr, ln, 0);
		r = tokenizer_lookup(tok, sp + 1, m->len - ln - 1, 0);
		sbuf_reset(&cat);
		sbuf_add(&cat, m->ptr, ln);
		sbuf_add(&cat, sp + 1, m->len - ln - 1);
		id = tokenizer_lookup(tok, cat.buf, cat.len, 0);
		if (l < 0 || r < 0 || id < 0) {
			rc = err_set(err, ERR_FORMAT,
			    "tokenizer.ggml.merges[%zu]: '%.*s': %s is not a "
			    "token",
			    k, (int)(m->len < 60 ? m->len : 60), m->ptr,
			    l < 0	? "the left part"
				: r < 0 ? "the right part"
					: "the merged text");
			break;
		}
		slot = tok_bpe_pair_slot(tok, l, r);
		if (slot->left >= 0)
			continue; /* a repeated pair keeps its first rank */
		slot->left = l;
		slot->right = r;
		slot->rank = (uint32_t)k;
		slot->id = id;
		tok->n_merges++;
	}
	sbuf_release(&cat);
	return rc;
}

static int
tok_bpe_compile(struct tokenizer *tok, const char *pattern, struct err *err)
{
	pcre2_code *re;
	int code;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[160];

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return err_set(err, ERR_UNSUPPORTED,
		    "pre-tokenizer '%s': regex error at offset %zu: %s",
		    tok->pre, (size_t)off, (const char *)msg);
	}
	/* Without JIT (some architectures) the interpreter does the same. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	tok->re[tok->n_re++] = re;
	return 0;
}

int
tok_bpe_init(struct tokenizer *tok, const struct tok_vocab *v, struct err *err)
{
	const struct tok_bpe_pre *pre = &tok_bpe_pres[0];
	char ch[4];
	size_t i;
	int b, n, rc;
	int32_t id;

	if (v->pre == NULL)
		snprintf(tok->warning, sizeof(tok->warning),
		    "tokenizer.ggml.pre is missing: using the GPT-2 "
		    "pre-tokenizer");
	else {
		for (i = 0; i < ARRAY_LEN(tok_bpe_pres); i++)
			if (strcmp(tok_bpe_pres[i].name, v->pre) == 0)
				break;
		if (i < ARRAY_LEN(tok_bpe_pres))
			pre = &tok_bpe_pres[i];
		else
			snprintf(tok->warning, sizeof(tok->warning),
			    "tokenizer.ggml.pre '%.40s' is not known: using "
			    "the GPT-2 pre-tokenizer (tokens may differ from "
			    "the model's)",
			    v->pre);
	}
	snprintf(tok->pre, sizeof(tok->pre), "%s", pre->name);
	tok->ignore_merges = pre->ignore_merges;
	tok->nfc = pre->nfc;
	for (i = 0; i < TOK_MAX_RE && pre->re[i] != NULL; i++)
		if ((rc = tok_bpe_compile(tok, pre->re[i], err)) < 0)
			return rc;
	for (b = 0; b < 256; b++) {
		n = utf8_encode(tok_bpe_byte_cp((unsigned)b), ch);
		id = tokenizer_lookup(tok, ch, (size_t)n, 0);
		if (id < 0)
			id = tok->unk;
		if (id < 0)
			return err_set(err, ERR_FORMAT,
			    "tokenizer.ggml.tokens: no token for byte 0x%02X "
			    "('%.*s') and no unknown token",
			    b, n, ch);
		tok->byte_id[b] = id;
	}
	return tok_bpe_merges(tok, v, err);
}

void
tok_bpe_release(struct tokenizer *tok)
{
	int i;

	for (i = 0; i < tok->n_re; i++)
		pcre2_code_free(tok->re[i]);
	tok->n_re = 0;
	free(tok->merges);
	tok->merges = NULL;
}

/* A candidate merge of the symbols LEFT and RIGHT (ids when pushed). */
struct tok_bpe_pair {
	uint32_t rank;
	int32_t left, right;
	int32_t lid, rid, id;
};

/* Scratch for one tokenizer_encode call, reused from piece to piece. */
struct tok_bpe_work {
	pcre2_match_data *md;
	int32_t *id, *prev, *next; /* per symbol (byte of the piece) */
	size_t cap;
	struct tok_bpe_pair *heap;
	size_t nheap, capheap;
	struct sbuf enc; /* the piece in GPT-2 characters */
};

static int
tok_bpe_before(const struct tok_bpe_pair *a, const struct tok_bpe_pair *b)
{
	if (a->rank != b->rank)
		return a->rank < b->rank;
	return a->left < b->left;
}

static void
tok_bpe_push(struct tok_bpe_work *w, struct tok_bpe_pair p)
{
	size_t i, parent;

	if (w->nheap == w->capheap) {
		w->capheap = w->capheap ? 2 * w->capheap : 64;
		w->heap = xreallocarray(w->heap, w->capheap, sizeof(*w->heap));
	}
	i = w->nheap++;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!tok_bpe_before(&p, &w->heap[parent]))
			break;
		w->heap[i] = w->heap[parent];
		i = parent;
	}
	w->heap[i] = p;
}

static struct tok_bpe_pair
tok_bpe_pop(struct tok_bpe_work *w)
{
	struct tok_bpe_pair top = w->heap[0], last = w->heap[--w->nheap];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= w->nheap)
			break;
		if (c + 1 < w->nheap &&
		    tok_bpe_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!tok_bpe_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (w->nheap > 0)
		w->heap[i] = last;
	return top;
}

/* Push the pair (LEFT, RIGHT) if a merge exists for it. */
static void
tok_bpe_try_pair(const struct tokenizer *tok, struct tok_bpe_work *w,
    int32_t left, int32_t right)
{
	const struct tok_merge *m;
	struct tok_bpe_pair p;

	if (left < 0 || right < 0)
		return;
	m = tok_bpe_pair_slot(tok, w->id[left], w->id[right]);
	if (m->left < 0)
		return;
	p.rank = m->rank;
	p.left = left;
	p.right = right;
	p.lid = w->id[left];
	p.rid = w->id[right];
	p.id = m->id;
	tok_bpe_push(w, p);
}

/* BPE-encode one pre-token S (N > 0 bytes). */
static void
tok_bpe_word(const struct tokenizer *tok, struct tok_bpe_work *w, const char *s,
    size_t n, struct tokenizer_ids *out)
{
	const unsigned char *u = (const unsigned char *)s;
	struct tok_bpe_pair p;
	char ch[4];
	size_t i;
	int32_t id, k;

	if (n == 1) {
		tokenizer_ids_push(out, tok->byte_id[u[0]]);
		return;
	}
	if (tok->ignore_merges) {
		sbuf_reset(&w->enc);
		for (i = 0; i < n; i++)
			sbuf_add(&w->enc, ch,
			    (size_t)utf8_encode(tok_bpe_byte_cp(u[i]), ch));
		id = tokenizer_lookup(tok, w->enc.buf, w->enc.len, 0);
		if (id >= 0) {
			tokenizer_ids_push(out, id);
			return;
		}
	}
	if (n > w->cap) {
		w->cap = n;
		w->id = xreallocarray(w->id, n, sizeof(*w->id));
		w->prev = xreallocarray(w->prev, n, sizeof(*w->prev));
		w->next = xreallocarray(w->next, n, sizeof(*w->next));
	}
	for (i = 0; i < n; i++) {
		w->id[i] = tok->byte_id[u[i]];
		w->prev[i] = (int32_t)i - 1;
		w->next[i] = (int32_t)i + 1;
	}
	w->next[n - 1] = -1;
	w->nheap = 0;
	for (i = 1; i < n; i++)
		tok_bpe_try_pair(tok, w, (int32_t)i - 1, (int32_t)i);
	while (w->nheap > 0) {
		p = tok_bpe_pop(w);
		/* Stale: a side was merged away or has changed since. */
		if (w->next[p.left] != p.right || w->id[p.left] != p.lid ||
		    w->id[p.right] != p.rid || w->prev[p.right] != p.left)
			continue;
		w->id[p.left] = p.id;
		w->next[p.left] = w->next[p.right];
		if (w->next[p.right] >= 0)
			w->prev[w->next[p.right]] = p.left;
		w->prev[p.right] = -2; /* merged away */
		w->next[p.right] = -2;
		tok_bpe_try_pair(tok, w, w->prev[p.left], p.left);
		tok_bpe_try_pair(tok, w, p.left, w->next[p.left]);
	}
	for (k = 0; k >= 0; k = w->next[k])
		tokenizer_ids_push(out, w->id[k]);
}

/* Split S by the regexes from LEVEL on and encode the pieces. */
static int
tok_bpe_split(const struct tokenizer *tok, struct tok_bpe_work *w, int level,
    const char *s, size_t len, struct tokenizer_ids *out, struct err *err)
{
	PCRE2_SIZE *ov;
	PCRE2_UCHAR msg[160];
	size_t pos = 0, prev = 0, ms, me;
	uint32_t cp;
	int rc, n;

	if (level == tok->n_re) {
		if (len > 0)
			tok_bpe_word(tok, w, s, len, out);
		return 0;
	}
	while (pos < len) {
		rc = pcre2_match(
		    tok->re[level], (PCRE2_SPTR)s, len, pos, 0, w->md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			pcre2_get_error_message(rc, msg, sizeof(msg));
			return err_set(err, ERR_RANGE,
			    "pre-tokenizer '%s' failed at byte %zu: %s",
			    tok->pre, pos, (const char *)msg);
		}
		ov = pcre2_get_ovector_pointer(w->md);
		ms = ov[0];
		me = ov[1];
		if (me == ms) {
			/* An empty match: step over one character. */
			n = utf8_decode(s + ms, len - ms, &cp);
			pos = ms + (size_t)(n > 0 ? n : 1);
			continue;
		}
		if (ms > prev &&
		    (rc = tok_bpe_split(
			 tok, w, level + 1, s + prev, ms - prev, out, err)) < 0)
			return rc;
		if ((rc = tok_bpe_split(
			 tok, w, level + 1, s + ms, me - ms, out, err)) < 0)
			return rc;
		prev = pos = me;
	}
	if (prev < len)
		return tok_bpe_split(
		    tok, w, level + 1, s + prev, len - prev, out, err);
	return 0;
}

/*
 * NFC of S into OUT.  Runs of valid UTF-8 are normalized; bytes that are
 * not UTF-8 pass through.  Every code point below U+0300 is stable
 * under NFC and cannot combine with what precedes it, so only runs with
 * a lead byte 0xCC or above need utf8proc.
 */
static void
tok_bpe_nfc(const char *s, size_t len, struct sbuf *out)
{
	utf8proc_uint8_t *dst;
	utf8proc_ssize_t n;
	size_t i = 0, j;
	uint32_t cp;
	int r, slow;

	while (i < len) {
		slow = 0;
		for (j = i; j < len; j += (size_t)r) {
			r = utf8_decode(s + j, len - j, &cp);
			if (r <= 0)
				break;
			if (cp >= 0x300)
				slow = 1;
		}
		if (j > i && slow &&
		    (n = utf8proc_map((const utf8proc_uint8_t *)s + i,
			 (utf8proc_ssize_t)(j - i), &dst,
			 UTF8PROC_STABLE | UTF8PROC_COMPOSE)) >= 0) {
			sbuf_add(out, dst, (size_t)n);
			free(dst);
		} else
			sbuf_add(out, s + i, j - i);
		if (j < len)
			sbuf_addc(out, s[j++]); /* not UTF-8 */
		i = j;
	}
}

/* Whether S has a code point at or above U+0300 (lead byte >= 0xCC). */
static int
tok_bpe_maybe_unnormal(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0xcc)
			return 1;
	return 0;
}

int
tok_bpe_encode(const struct tokenizer *tok, const char *text, size_t len,
    struct tokenizer_ids *out, struct err *err)
{
	struct tok_bpe_work w;
	struct sbuf norm;
	int rc;

	memset(&w, 0, sizeof(w));
	w.md = pcre2_match_data_create(1, NULL);
	if (w.md == NULL)
		return err_set(err, ERR_NOMEM, "out of memory for regex data");
	sbuf_init(&w.enc);
	sbuf_init(&norm);
	if (tok->nfc && tok_bpe_maybe_unnormal(text, len)) {
		tok_bpe_nfc(text, len, &norm);
		text = norm.buf;
		len = norm.len;
	}
	rc = tok_bpe_split(tok, &w, 0, text, len, out, err);
	sbuf_release(&norm);
	sbuf_release(&w.enc);
	free(w.heap);
	free(w.next);
	free(w.prev);
	free(w.id);
	pcre2_match_data_free(w.md);
	return rc;
}
