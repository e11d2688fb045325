/*
 * tok-spm: SentencePiece-style BPE (tokenizer.ggml.model "llama": Llama 2,
 * Mistral, Gemma), the algorithm of llama.cpp's SPM tokenizer.
 *
 * A text segment (the caller has already cut out special tokens) has its
 * spaces replaced by U+2581, with one U+2581 in front when the caller asks
 * for the space prefix.  It is split into characters (a byte that is not
 * valid UTF-8 is a character of its own), and adjacent symbols whose
 * concatenation is a token are merged, highest token score first, the
 * leftmost on ties, until no pair forms a token.  Candidate pairs sit in a
 * binary heap; a popped pair is stale when either side has changed since
 * it was pushed (their combined size no longer matches), so every merge
 * costs O(log n) and long texts stay O(n log n).  A final symbol that is
 * not a token (a character outside the vocabulary) becomes one byte token
 * per byte (<0xNN>), or the unknown token when there are none.
 *
 * Symbols are (offset, length) ranges of one buffer, so a merged pair is
 * just a longer range and lookups need no copying.
 *
 * Long texts are cut into chunks that merge independently, before every
 * U+2581 that follows another character, when the vocabulary allows it
 * (tokenizer.spm_chunks): every symbol ever formed is a character or a
 * token, so if no token has a U+2581 right after another character, no
 * symbol can span such a cut, and the result is the same as merging the
 * whole text at once, with a heap the size of a word instead of the text.
 */
#include <stdlib.h>
#include <string.h>

#include "tok-internal.h"
#include "utf8.h"

struct tok_spm_sym {
	int32_t prev, next; /* neighbours, -1 at the ends */
	uint32_t start, n;  /* bytes of the buffer; n = 0 once merged away */
};

struct tok_spm_pair {
	float score;
	int32_t left, right;
	uint32_t size;
};

struct tok_spm_heap {
	struct tok_spm_pair *v;
	size_t n, cap;
};

/* Whether pair A comes out before pair B: higher score, then leftmost. */
static int
tok_spm_before(const struct tok_spm_pair *a, const struct tok_spm_pair *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	return a->left < b->left;
}

static void
tok_spm_heap_push(struct tok_spm_heap *h, struct tok_spm_pair p)
{
	size_t i, parent;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	i = h->n++;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!tok_spm_before(&p, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = p;
}

static struct tok_spm_pair
tok_spm_heap_pop(struct tok_spm_heap *h)
{
	struct tok_spm_pair top = h->v[0], last = h->v[--h->n];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && tok_spm_before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!tok_spm_before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/* Push the pair (LEFT, RIGHT) if their concatenation is a token. */
static void
tok_spm_try_pair(const struct tokenizer *tok, const char *buf,
    const struct tok_spm_sym *syms, int32_t left, int32_t right,
    struct tok_spm_heap *h)
{
	struct tok_spm_pair p;
	int32_t id;

	if (left < 0 || right < 0)
		return;
	p.size = syms[left].n + syms[right].n;
	id = tokenizer_lookup(tok, buf + syms[left].start, p.size, 1);
	if (id < 0)
		return;
	p.score = tok->scores[id];
	p.left = left;
	p.right = right;
	tok_spm_heap_push(h, p);
}

/* Symbols: the characters of BUF[start, end) (their own UTF-8 bytes). */
static size_t
tok_spm_chars(
    const char *buf, size_t start, size_t end, struct tok_spm_sym *syms)
{
	size_t off, nsym = 0;
	uint32_t cp;
	int n;

	for (off = start; off < end; off += (size_t)n) {
		n = utf8_decode(buf + off, end - off, &cp);
		if (n <= 0)
			n = 1;
		syms[nsym].prev = (int32_t)nsym - 1;
		syms[nsym].next = (int32_t)nsym + 1;
		syms[nsym].start = (uint32_t)off;
		syms[nsym].n = (uint32_t)n;
		nsym++;
	}
	if (nsym > 0)
		syms[nsym - 1].next = -1;
	return nsym;
}

/* Merge and emit the chunk BUF[start, end). */
static void
tok_spm_chunk(const struct tokenizer *tok, const char *buf, size_t start,
    size_t end, struct tok_spm_sym *syms, struct tok_spm_heap *heap,
    struct tokenizer_ids *out)
{
	struct tok_spm_pair p;
	struct tok_spm_sym *l, *r;
	size_t i, nsym;
	uint32_t j;
	int32_t s, id;

	nsym = tok_spm_chars(buf, start, end, syms);
	heap->n = 0;
	for (i = 1; i < nsym; i++)
		tok_spm_try_pair(
		    tok, buf, syms, (int32_t)i - 1, (int32_t)i, heap);
	while (heap->n > 0) {
		p = tok_spm_heap_pop(heap);
		l = &syms[p.left];
		r = &syms[p.right];
		if (l->n == 0 || r->n == 0 || l->n + r->n != p.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			syms[r->next].prev = p.left;
		tok_spm_try_pair(tok, buf, syms, l->prev, p.left, heap);
		tok_spm_try_pair(tok, buf, syms, p.left, l->next, heap);
	}
	for (s = nsym > 0 ? 0 : -1; s >= 0; s = syms[s].next) {
		id = tokenizer_lookup(tok, buf + syms[s].start, syms[s].n, 1);
		if (id >= 0) {
			tokenizer_ids_push(out, id);
			continue;
		}
		for (j = 0; j < syms[s].n; j++)
			tokenizer_ids_push(out,
			    tok->byte_id[(
				unsigned char)buf[syms[s].start + j]]);
	}
}

size_t
tok_spm_cut(const char *s, size_t len, size_t from)
{
	const char *p = s + from, *end = s + len;

	while (p < end &&
	    (p = memmem(p, (size_t)(end - p), TOK_SPM_SPACE, 3)) != NULL) {
		if (p - s < 3 || memcmp(p - 3, TOK_SPM_SPACE, 3) != 0)
			return (size_t)(p - s);
		p += 3;
	}
	return len;
}

void
tok_spm_encode(const struct tokenizer *tok, const char *text, size_t len,
    int prefix, struct tokenizer_ids *out)
{
	struct sbuf buf;
	struct tok_spm_sym *syms;
	struct tok_spm_heap heap = { NULL, 0, 0 };
	size_t i, start, end;

	sbuf_init(&buf);
	sbuf_grow(&buf, len + len / 2 + 4);
	if (prefix)
		sbuf_adds(&buf, TOK_SPM_SPACE);
	for (i = 0; i < len; i++) {
		if (text[i] == ' ')
			sbuf_add(&buf, TOK_SPM_SPACE, 3);
		else
			sbuf_addc(&buf, text[i]);
	}
	syms = xreallocarray(NULL, buf.len + 1, sizeof(*syms));
	for (start = 0; start < buf.len; start = end) {
		end = tok->spm_chunks ? tok_spm_cut(buf.buf, buf.len, start + 1)
				      : buf.len;
		tok_spm_chunk(tok, buf.buf, start, end, syms, &heap, out);
	}
	free(heap.v);
	free(syms);
	sbuf_release(&buf);
}
