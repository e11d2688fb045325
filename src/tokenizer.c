/*
 * tokenizer: loading and validating a vocabulary, the lookups every model
 * shares, cutting special tokens out of the text, and token pieces.  The
 * models themselves are in tok-spm.c and tok-bpe.c, streaming decoding in
 * tok-decoder.c.
 *
 * Token texts are not copied: tokenizer.keys holds (pointer, length) pairs
 * into the GGUF mapping, indexed by an open-addressing hash table
 * (tokenizer.slots) sized to at least twice the keys.  When two tokens
 * have the same text the later id wins, as in llama.cpp.  After the token
 * texts come SPM aliases: a user-defined SentencePiece token is stored with
 * real spaces (llama.cpp's converter does that), and the alias spelled
 * with U+2581 lets the merges still build it from literal U+2581 input,
 * as the original vocabulary does.  tokenizer_find() ignores aliases.
 *
 * Special tokens to cut out (CONTROL, USER_DEFINED, UNKNOWN, non-empty)
 * live in a byte trie; each node says which token ends there in plain
 * mode (USER_DEFINED only) and with TOK_PARSE_SPECIAL (all three kinds).
 * Scanning the text once and taking the longest match at the first
 * position that has one gives the leftmost-longest split.
 */
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok-internal.h"
#include "utf8.h"

/*
 * CONTROL tokens llama.cpp takes for the end of turn when the file names
 * none (in this order of preference), and those that end generation.
 */
static const char *const tokenizer_eot_names[] = {
	"<|eot_id|>",
	"<|im_end|>",
	"<|end|>",
	"<end_of_turn>",
	"<|endoftext|>",
	"<|end_of_text|>",
	"<EOT>",
	"_<EOT>",
	"<end_of_utterance>",
};

static const char *const tokenizer_eog_names[] = {
	"<|eot_id|>",
	"<|im_end|>",
	"<|end|>",
	"<|return|>",
	"<|call|>",
	"<end_of_turn>",
	"<|endoftext|>",
	"<|eom_id|>",
	"<EOT>",
	"_<EOT>",
	"<|end_of_text|>",
	"<end_of_utterance>",
};

void
tokenizer_vocab_init(struct tok_vocab *v)
{
	memset(v, 0, sizeof(*v));
	v->bos = v->eos = v->unk = v->pad = v->eot = v->eom = -1;
	v->add_bos = v->add_eos = v->add_space_prefix = -1;
}

static uint64_t
tokenizer_hash(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)len, w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, p, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return h;
}

/* The slot holding text S, or the empty slot where it would go. */
static struct tok_slot *
tokenizer_slot(const struct tokenizer *tok, const char *s, size_t len)
{
	uint64_t h = tokenizer_hash(s, len);
	uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & tok->slot_mask;
	struct tok_slot *sl;
	const struct gguf_str *k;

	for (;; i = (i + 1) & tok->slot_mask) {
		sl = &tok->slots[i];
		if (sl->key == UINT32_MAX)
			return sl;
		if (sl->tag != tag)
			continue;
		k = &tok->keys[sl->key];
		if (k->len == len && memcmp(k->ptr, s, len) == 0)
			return sl;
	}
}

int32_t
tokenizer_lookup(
    const struct tokenizer *tok, const char *s, size_t len, int alias)
{
	const struct tok_slot *sl = tokenizer_slot(tok, s, len);

	if (sl->key == UINT32_MAX)
		return -1;
	if (sl->key < tok->n_vocab)
		return (int32_t)sl->key;
	return alias ? tok->alias_id[sl->key - tok->n_vocab] : -1;
}

int32_t
tokenizer_find(const struct tokenizer *tok, const char *s, size_t len)
{
	return tokenizer_lookup(tok, s, len, 0);
}

/* Insert keys[i]; a real token replaces an equal text, an alias does not. */
static void
tokenizer_insert(struct tokenizer *tok, uint32_t i)
{
	const struct gguf_str *k = &tok->keys[i];
	struct tok_slot *sl = tokenizer_slot(tok, k->ptr, k->len);

	if (sl->key != UINT32_MAX && i >= tok->n_vocab)
		return;
	sl->tag = (uint32_t)(tokenizer_hash(k->ptr, k->len) >> 32);
	sl->key = i;
}

/* SPM: aliases for user-defined tokens containing spaces (see top). */
static uint32_t
tokenizer_add_aliases(struct tokenizer *tok, struct sbuf *arena)
{
	uint32_t i, n = 0;
	size_t j, off = 0;
	const struct gguf_str *k;

	for (i = 0; i < tok->n_vocab; i++) {
		k = &tok->keys[i];
		if (tok->types[i] != TOK_TYPE_USER_DEFINED ||
		    memchr(k->ptr, ' ', k->len) == NULL)
			continue;
		for (j = 0; j < k->len; j++) {
			if (k->ptr[j] == ' ')
				sbuf_adds(arena, TOK_SPM_SPACE);
			else
				sbuf_addc(arena, k->ptr[j]);
		}
		n++;
	}
	if (n == 0)
		return 0;
	tok->keys =
	    xreallocarray(tok->keys, tok->n_vocab + n, sizeof(*tok->keys));
	tok->alias_id = xreallocarray(NULL, n, sizeof(*tok->alias_id));
	n = 0;
	for (i = 0; i < tok->n_vocab; i++) {
		k = &tok->keys[i];
		if (tok->types[i] != TOK_TYPE_USER_DEFINED ||
		    memchr(k->ptr, ' ', k->len) == NULL)
			continue;
		/* the same walk as above: each space grew by two bytes */
		tok->keys[tok->n_vocab + n].ptr = arena->buf + off;
		tok->keys[tok->n_vocab + n].len = k->len;
		for (j = 0; j < k->len; j++)
			if (k->ptr[j] == ' ')
				tok->keys[tok->n_vocab + n].len += 2;
		off += tok->keys[tok->n_vocab + n].len;
		tok->alias_id[n++] = (int32_t)i;
	}
	return n;
}

static void
tokenizer_build_table(struct tokenizer *tok)
{
	uint32_t cap = 16, i;

	while (cap < 2 * tok->n_keys)
		cap *= 2;
	tok->slots = xreallocarray(NULL, cap, sizeof(*tok->slots));
	for (i = 0; i < cap; i++)
		tok->slots[i].key = UINT32_MAX;
	tok->slot_mask = cap - 1;
	for (i = 0; i < tok->n_keys; i++)
		tokenizer_insert(tok, i);
}

static int32_t
tokenizer_trie_new(struct tokenizer *tok, unsigned char byte, size_t *cap)
{
	struct tok_trie_node *nd;

	if (tok->n_trie == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		tok->trie = xreallocarray(tok->trie, *cap, sizeof(*tok->trie));
	}
	nd = &tok->trie[tok->n_trie];
	nd->child = nd->sibling = nd->id_plain = nd->id_special = -1;
	nd->byte = byte;
	return (int32_t)tok->n_trie++;
}

static void
tokenizer_trie_add(struct tokenizer *tok, int32_t id, size_t *cap)
{
	const struct gguf_str *k = &tok->keys[id];
	unsigned char b = (unsigned char)k->ptr[0];
	int32_t node, c;
	size_t i;

	node = tok->trie_root[b];
	if (node < 0) {
		node = tokenizer_trie_new(tok, b, cap);
		tok->trie_root[b] = node;
	}
	for (i = 1; i < k->len; i++) {
		b = (unsigned char)k->ptr[i];
		for (c = tok->trie[node].child; c >= 0;
		     c = tok->trie[c].sibling)
			if (tok->trie[c].byte == b)
				break;
		if (c < 0) {
			c = tokenizer_trie_new(tok, b, cap);
			tok->trie[c].sibling = tok->trie[node].child;
			tok->trie[node].child = c;
		}
		node = c;
	}
	tok->trie[node].id_special = id;
	if (tok->types[id] == TOK_TYPE_USER_DEFINED)
		tok->trie[node].id_plain = id;
}

static void
tokenizer_build_trie(struct tokenizer *tok)
{
	size_t cap = 0;
	uint32_t i;
	uint8_t t;

	for (i = 0; i < 256; i++)
		tok->trie_root[i] = -1;
	for (i = 0; i < tok->n_vocab; i++) {
		t = tok->types[i];
		if ((t == TOK_TYPE_CONTROL || t == TOK_TYPE_USER_DEFINED ||
			t == TOK_TYPE_UNKNOWN) &&
		    tok->keys[i].len > 0)
			tokenizer_trie_add(tok, (int32_t)i, &cap);
	}
}

/*
 * Length of the longest special token starting at S (LEN > 0 bytes) in
 * the mode SPECIAL, with its id in *id; 0 if none.
 */
static size_t
tokenizer_trie_match(const struct tokenizer *tok, const char *s, size_t len,
    int special, int32_t *id)
{
	int32_t node = tok->trie_root[(unsigned char)s[0]], t;
	size_t i = 0, best = 0;
	unsigned char b;

	while (node >= 0) {
		i++;
		t = special ? tok->trie[node].id_special
			    : tok->trie[node].id_plain;
		if (t >= 0) {
			best = i;
			*id = t;
		}
		if (i == len)
			break;
		b = (unsigned char)s[i];
		for (node = tok->trie[node].child; node >= 0;
		     node = tok->trie[node].sibling)
			if (tok->trie[node].byte == b)
				break;
	}
	return best;
}

/* A special id from the vocabulary: -1 if absent, an error if too big. */
static int
tokenizer_special_id(const struct tokenizer *tok, int64_t v, const char *key,
    int32_t *out, struct err *err)
{
	*out = -1;
	if (v < 0)
		return 0;
	if (v >= (int64_t)tok->n_vocab)
		return err_set(err, ERR_FORMAT,
		    "tokenizer.ggml.%s_token_id: %lld is out of range "
		    "(%u tokens)",
		    key, (long long)v, tok->n_vocab);
	*out = (int32_t)v;
	return 0;
}

/* The first CONTROL token named in NAMES (in that order), or -1. */
static int32_t
tokenizer_find_control(
    const struct tokenizer *tok, const char *const *names, size_t n)
{
	size_t i;
	int32_t id;

	for (i = 0; i < n; i++) {
		id = tokenizer_find(tok, names[i], strlen(names[i]));
		if (id >= 0 && tok->types[id] == TOK_TYPE_CONTROL)
			return id;
	}
	return -1;
}

static void
tokenizer_add_eog(struct tokenizer *tok, int32_t id)
{
	int i;

	if (id < 0)
		return;
	for (i = 0; i < tok->n_eog; i++)
		if (tok->eog[i] == id)
			return;
	if (tok->n_eog < TOK_MAX_EOG)
		tok->eog[tok->n_eog++] = id;
}

static int
tokenizer_specials(
    struct tokenizer *tok, const struct tok_vocab *v, struct err *err)
{
	const struct {
		int64_t v;
		const char *key;
		int32_t *out;
	} ids[] = {
		{ v->bos, "bos", &tok->bos },
		{ v->eos, "eos", &tok->eos },
		{ v->unk, "unk", &tok->unk },
		{ v->pad, "padding", &tok->pad },
		{ v->eot, "eot", &tok->eot },
		{ v->eom, "eom", &tok->eom },
	};
	const char *eom_name = "<|eom_id|>";
	size_t i;
	int32_t id;
	int rc;

	for (i = 0; i < ARRAY_LEN(ids); i++)
		if ((rc = tokenizer_special_id(
			 tok, ids[i].v, ids[i].key, ids[i].out, err)) < 0)
			return rc;
	if (tok->unk < 0) {
		for (i = 0; i < tok->n_vocab; i++) {
			if (tok->types[i] == TOK_TYPE_UNKNOWN) {
				tok->unk = (int32_t)i;
				break;
			}
		}
	}
	if (tok->eot < 0)
		tok->eot = tokenizer_find_control(
		    tok, tokenizer_eot_names, ARRAY_LEN(tokenizer_eot_names));
	if (tok->eom < 0)
		tok->eom = tokenizer_find_control(tok, &eom_name, 1);
	tokenizer_add_eog(tok, tok->eos);
	tokenizer_add_eog(tok, tok->eot);
	tokenizer_add_eog(tok, tok->eom);
	for (i = 0; i < ARRAY_LEN(tokenizer_eog_names); i++) {
		id = tokenizer_find_control(tok, &tokenizer_eog_names[i], 1);
		tokenizer_add_eog(tok, id);
	}
	return 0;
}

/*
 * SPM: whether no token (or alias) has U+2581 right after another
 * character, which lets tok-spm.c merge word by word.
 */
static int
tokenizer_spm_chunks(const struct tokenizer *tok)
{
	const struct gguf_str *k;
	uint32_t i;

	for (i = 0; i < tok->n_keys; i++) {
		k = &tok->keys[i];
		if (k->len > 1 && tok_spm_cut(k->ptr, k->len, 1) < k->len)
			return 0;
	}
	return 1;
}

/* SPM: the byte-fallback token of every byte (<0xNN>, else the byte). */
static int
tokenizer_spm_bytes(struct tokenizer *tok, struct err *err)
{
	char name[8];
	int b;
	int32_t id;

	for (b = 0; b < 256; b++) {
		snprintf(name, sizeof(name), "<0x%02X>", b);
		id = tokenizer_find(tok, name, 6);
		if (id < 0) {
			name[0] = (char)b;
			id = tokenizer_find(tok, name, 1);
		}
		if (id < 0)
			id = tok->unk;
		if (id < 0)
			return err_set(err, ERR_FORMAT,
			    "tokenizer.ggml.tokens: no token for byte 0x%02X "
			    "(<0x%02X>) and no unknown token",
			    b, b);
		tok->byte_id[b] = id;
	}
	return 0;
}

/*
 * Copy the token texts out of the GGUF mapping: nothing of the mapping is
 * read after load, so a model file truncated or rewritten while vkchat
 * runs cannot fault a lookup (SIGBUS).
 */
static void
tokenizer_own_keys(struct tokenizer *tok)
{
	size_t total = 0, off = 0, i;

	for (i = 0; i < tok->n_vocab; i++)
		total += (size_t)tok->keys[i].len;
	tok->key_text = xmalloc(total + 1);
	for (i = 0; i < tok->n_vocab; i++) {
		memcpy(tok->key_text + off, tok->keys[i].ptr,
		    (size_t)tok->keys[i].len);
		tok->keys[i].ptr = tok->key_text + off;
		off += (size_t)tok->keys[i].len;
	}
}

int
tokenizer_new(
    const struct tok_vocab *v, struct tokenizer **out, struct err *err)
{
	struct tokenizer *tok;
	struct sbuf arena;
	size_t i;
	int rc;

	*out = NULL;
	if (v->model == NULL)
		return err_set(
		    err, ERR_MODEL, "missing key 'tokenizer.ggml.model'");
	if (strcmp(v->model, "llama") != 0 && strcmp(v->model, "gpt2") != 0)
		return err_set(err, ERR_UNSUPPORTED,
		    "tokenizer.ggml.model: '%s' is not supported (only "
		    "'llama' and 'gpt2')",
		    v->model);
	if (v->tokens == NULL || v->n_tokens == 0)
		return err_set(err, ERR_MODEL,
		    "missing or empty key 'tokenizer.ggml.tokens'");
	if (v->n_tokens >= (size_t)INT32_MAX / 2)
		return err_set(err, ERR_FORMAT,
		    "tokenizer.ggml.tokens: %zu tokens are too many",
		    v->n_tokens);
	sbuf_init(&arena);
	tok = xcalloc(1, sizeof(*tok));
	tok->model =
	    strcmp(v->model, "llama") == 0 ? TOK_MODEL_SPM : TOK_MODEL_BPE;
	tok->n_vocab = (uint32_t)v->n_tokens;
	tok->types = xmalloc(tok->n_vocab);
	for (i = 0; i < v->n_tokens; i++) {
		int32_t t = v->types ? v->types[i] : TOK_TYPE_NORMAL;

		if (t < TOK_TYPE_UNDEFINED || t > TOK_TYPE_BYTE) {
			rc = err_set(err, ERR_FORMAT,
			    "tokenizer.ggml.token_type[%zu]: %d is not a "
			    "token type (0-6)",
			    i, (int)t);
			goto fail;
		}
		tok->types[i] = (uint8_t)t;
	}
	tok->scores = xcalloc(tok->n_vocab, sizeof(*tok->scores));
	if (v->scores != NULL)
		memcpy(tok->scores, v->scores,
		    tok->n_vocab * sizeof(*tok->scores));
	tok->keys = xreallocarray(NULL, tok->n_vocab, sizeof(*tok->keys));
	memcpy(tok->keys, v->tokens, tok->n_vocab * sizeof(*tok->keys));
	tokenizer_own_keys(tok);
	tok->n_keys = tok->n_vocab;
	if (tok->model == TOK_MODEL_SPM)
		tok->n_keys += tokenizer_add_aliases(tok, &arena);
	tokenizer_build_table(tok);
	tokenizer_build_trie(tok);
	if ((rc = tokenizer_specials(tok, v, err)) < 0)
		goto fail;
	tok->add_bos =
	    v->add_bos >= 0 ? v->add_bos : tok->model == TOK_MODEL_SPM;
	tok->add_eos = v->add_eos > 0;
	tok->add_space_prefix =
	    tok->model == TOK_MODEL_SPM && v->add_space_prefix != 0;
	if (tok->model == TOK_MODEL_SPM) {
		snprintf(tok->pre, sizeof(tok->pre), "default");
		tok->spm_chunks = tokenizer_spm_chunks(tok);
		rc = tokenizer_spm_bytes(tok, err);
	} else
		rc = tok_bpe_init(tok, v, err);
	if (rc < 0)
		goto fail;
	/* The alias texts stay in the arena for the tokenizer's life. */
	tok->alias_text = sbuf_detach(&arena);
	sbuf_release(&arena);
	*out = tok;
	return 0;
fail:
	tok->alias_text = sbuf_detach(&arena);
	sbuf_release(&arena);
	tokenizer_free(tok);
	return rc;
}

void
tokenizer_free(struct tokenizer *tok)
{
	if (tok == NULL)
		return;
	if (tok->model == TOK_MODEL_BPE)
		tok_bpe_release(tok);
	free(tok->alias_text);
	free(tok->key_text);
	free(tok->trie);
	free(tok->slots);
	free(tok->alias_id);
	free(tok->keys);
	free(tok->scores);
	free(tok->types);
	free(tok);
}

/* A string key into BUF (NUL-terminated); "" when absent. */
static int
tokenizer_load_str(const struct gguf *g, const char *key, char *buf,
    size_t size, int *found, struct err *err)
{
	struct gguf_str s;
	int rc;

	buf[0] = '\0';
	*found = 0;
	rc = gguf_get_str(g, key, &s, err);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (s.len >= size || memchr(s.ptr, '\0', s.len) != NULL)
		return err_set(err, ERR_FORMAT,
		    "'%s': offset %llu: key '%s': value '%.*s' is not valid",
		    gguf_path(g), (unsigned long long)gguf_find(g, key)->offset,
		    key, (int)(s.len < 40 ? s.len : 40), s.ptr);
	memcpy(buf, s.ptr, s.len);
	buf[s.len] = '\0';
	*found = 1;
	return 0;
}

static int
tokenizer_load_id(
    const struct gguf *g, const char *key, int64_t *out, struct err *err)
{
	int64_t v;
	int rc = gguf_get_i64(g, key, &v, err);

	*out = -1;
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	/* -1 is llama.cpp's "none"; some files store it as uint32. */
	if (v == -1 || v == (int64_t)UINT32_MAX)
		return 0;
	*out = v;
	return 0;
}

static int
tokenizer_load_bool(
    const struct gguf *g, const char *key, int *out, struct err *err)
{
	int rc = gguf_get_bool(g, key, out, err);

	if (rc == ERR_NOTFOUND) {
		*out = -1;
		return 0;
	}
	return rc;
}

/* An optional array KEY of type ELEM with N elements (or absent). */
static int
tokenizer_load_arr(const struct gguf *g, const char *key, enum gguf_vtype elem,
    uint64_t n, const struct gguf_value **out, struct err *err)
{
	int rc = gguf_get_arr(g, key, elem, out, err);

	if (rc == ERR_NOTFOUND) {
		*out = NULL;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (n != UINT64_MAX && (*out)->v.arr.len != n)
		return err_set(err, ERR_FORMAT,
		    "'%s': offset %llu: key '%s' has %llu elements but "
		    "tokenizer.ggml.tokens has %llu",
		    gguf_path(g), (unsigned long long)gguf_find(g, key)->offset,
		    key, (unsigned long long)(*out)->v.arr.len,
		    (unsigned long long)n);
	return 0;
}

static int
tokenizer_load_vocab(const struct gguf *g, struct tok_vocab *v, char *model,
    char *pre, int32_t **types, float **scores, struct err *err)
{
	const struct gguf_value *a;
	int found, rc;
	uint64_t i, n;

	if ((rc = tokenizer_load_str(
		 g, "tokenizer.ggml.model", model, 64, &found, err)) < 0)
		return rc;
	if (!found)
		return err_set(err, ERR_MODEL,
		    "'%s': missing key 'tokenizer.ggml.model'", gguf_path(g));
	v->model = model;
	if ((rc = tokenizer_load_str(
		 g, "tokenizer.ggml.pre", pre, 64, &found, err)) < 0)
		return rc;
	v->pre = found ? pre : NULL;
	if ((rc = tokenizer_load_arr(g, "tokenizer.ggml.tokens", GGUF_STRING,
		 UINT64_MAX, &a, err)) < 0)
		return rc;
	if (a == NULL)
		return err_set(err, ERR_MODEL,
		    "'%s': missing key 'tokenizer.ggml.tokens'", gguf_path(g));
	n = a->v.arr.len;
	v->n_tokens = (size_t)n;
	v->tokens = a->v.arr.strs;
	if ((rc = tokenizer_load_arr(
		 g, "tokenizer.ggml.token_type", GGUF_INT32, n, &a, err)) < 0)
		return rc;
	if (a != NULL) {
		*types = xreallocarray(NULL, n, sizeof(**types));
		for (i = 0; i < n; i++)
			(*types)[i] = (int32_t)gguf_arr_i64(a, i);
		v->types = *types;
	}
	if ((rc = tokenizer_load_arr(
		 g, "tokenizer.ggml.scores", GGUF_FLOAT32, n, &a, err)) < 0)
		return rc;
	if (a != NULL) {
		*scores = xreallocarray(NULL, n, sizeof(**scores));
		for (i = 0; i < n; i++)
			(*scores)[i] = (float)gguf_arr_f64(a, i);
		v->scores = *scores;
	}
	if ((rc = tokenizer_load_arr(g, "tokenizer.ggml.merges", GGUF_STRING,
		 UINT64_MAX, &a, err)) < 0)
		return rc;
	if (a != NULL) {
		v->n_merges = (size_t)a->v.arr.len;
		v->merges = a->v.arr.strs;
	}
	if ((rc = tokenizer_load_id(
		 g, "tokenizer.ggml.bos_token_id", &v->bos, err)) < 0 ||
	    (rc = tokenizer_load_id(
		 g, "tokenizer.ggml.eos_token_id", &v->eos, err)) < 0 ||
	    (rc = tokenizer_load_id(
		 g, "tokenizer.ggml.unk_token_id", &v->unk, err)) < 0 ||
	    (rc = tokenizer_load_id(
		 g, "tokenizer.ggml.padding_token_id", &v->pad, err)) < 0 ||
	    (rc = tokenizer_load_id(
		 g, "tokenizer.ggml.eot_token_id", &v->eot, err)) < 0 ||
	    (rc = tokenizer_load_id(
		 g, "tokenizer.ggml.eom_token_id", &v->eom, err)) < 0)
		return rc;
	/* llama.cpp writes unknown_token_id; some converters unk_token_id. */
	if (v->unk < 0 &&
	    (rc = tokenizer_load_id(
		 g, "tokenizer.ggml.unknown_token_id", &v->unk, err)) < 0)
		return rc;
	if ((rc = tokenizer_load_bool(
		 g, "tokenizer.ggml.add_bos_token", &v->add_bos, err)) < 0 ||
	    (rc = tokenizer_load_bool(
		 g, "tokenizer.ggml.add_eos_token", &v->add_eos, err)) < 0 ||
	    (rc = tokenizer_load_bool(g, "tokenizer.ggml.add_space_prefix",
		 &v->add_space_prefix, err)) < 0)
		return rc;
	return 0;
}

int
tokenizer_load(const struct gguf *g, struct tokenizer **out, struct err *err)
{
	struct tok_vocab v;
	char model[64], pre[64];
	int32_t *types = NULL;
	float *scores = NULL;
	int rc;

	*out = NULL;
	tokenizer_vocab_init(&v);
	/* Errors about the file itself name it already; the vocabulary's
	 * own checks get the file name here. */
	rc = tokenizer_load_vocab(g, &v, model, pre, &types, &scores, err);
	if (rc == 0 && (rc = tokenizer_new(&v, out, err)) < 0)
		err_prefix(err, "'%s'", gguf_path(g));
	free(types);
	free(scores);
	return rc;
}

const char *
tokenizer_warning(const struct tokenizer *tok)
{
	return tok->warning[0] != '\0' ? tok->warning : NULL;
}

enum tok_model
tokenizer_model(const struct tokenizer *tok)
{
	return tok->model;
}

const char *
tokenizer_pre(const struct tokenizer *tok)
{
	return tok->pre;
}

int32_t
tokenizer_n_vocab(const struct tokenizer *tok)
{
	return (int32_t)tok->n_vocab;
}

int32_t
tokenizer_bos(const struct tokenizer *tok)
{
	return tok->bos;
}

int32_t
tokenizer_eos(const struct tokenizer *tok)
{
	return tok->eos;
}

int32_t
tokenizer_eot(const struct tokenizer *tok)
{
	return tok->eot;
}

int32_t
tokenizer_eom(const struct tokenizer *tok)
{
	return tok->eom;
}

int32_t
tokenizer_unk(const struct tokenizer *tok)
{
	return tok->unk;
}

int32_t
tokenizer_pad(const struct tokenizer *tok)
{
	return tok->pad;
}

int
tokenizer_add_bos(const struct tokenizer *tok)
{
	return tok->add_bos && tok->bos >= 0;
}

int
tokenizer_add_eos(const struct tokenizer *tok)
{
	return tok->add_eos && tok->eos >= 0;
}

int
tokenizer_add_space_prefix(const struct tokenizer *tok)
{
	return tok->add_space_prefix;
}

int
tokenizer_is_eog(const struct tokenizer *tok, int32_t id)
{
	int i;

	if (id < 0)
		return 0;
	for (i = 0; i < tok->n_eog; i++)
		if (tok->eog[i] == id)
			return 1;
	return 0;
}

enum tok_type
tokenizer_type(const struct tokenizer *tok, int32_t id)
{
	if (id < 0 || (uint32_t)id >= tok->n_vocab)
		return TOK_TYPE_UNDEFINED;
	return (enum tok_type)tok->types[id];
}

const char *
tokenizer_text(const struct tokenizer *tok, int32_t id, size_t *len)
{
	if (id < 0 || (uint32_t)id >= tok->n_vocab)
		return NULL;
	*len = (size_t)tok->keys[id].len;
	return tok->keys[id].ptr;
}

void
tokenizer_ids_init(struct tokenizer_ids *v)
{
	v->ids = NULL;
	v->n = v->cap = 0;
}

void
tokenizer_ids_release(struct tokenizer_ids *v)
{
	free(v->ids);
	tokenizer_ids_init(v);
}

void
tokenizer_ids_push(struct tokenizer_ids *v, int32_t id)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 64;
		v->ids = xreallocarray(v->ids, v->cap, sizeof(*v->ids));
	}
	v->ids[v->n++] = id;
}

static int
tokenizer_encode_text(const struct tokenizer *tok, const char *text, size_t len,
    int prefix, struct tokenizer_ids *out, struct err *err)
{
	if (tok->model == TOK_MODEL_SPM) {
		tok_spm_encode(
		    tok, text, len, prefix && tok->add_space_prefix, out);
		return 0;
	}
	return tok_bpe_encode(tok, text, len, out, err);
}

int
tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len,
    unsigned flags, struct tokenizer_ids *out, struct err *err)
{
	int special = (flags & TOK_PARSE_SPECIAL) != 0, after_special = 1, rc;
	size_t pos = 0, start = 0, n;
	int32_t id = -1;

	if ((flags & TOK_ADD_BOS) && tok->bos >= 0)
		tokenizer_ids_push(out, tok->bos);
	while (pos < len) {
		if (tok->trie_root[(unsigned char)text[pos]] < 0 ||
		    (n = tokenizer_trie_match(
			 tok, text + pos, len - pos, special, &id)) == 0) {
			pos++;
			continue;
		}
		if (pos > start) {
			rc = tokenizer_encode_text(tok, text + start,
			    pos - start, after_special, out, err);
			if (rc < 0)
				return rc;
		}
		tokenizer_ids_push(out, id);
		after_special = 1;
		pos += n;
		start = pos;
	}
	if (start < len) {
		rc = tokenizer_encode_text(
		    tok, text + start, len - start, after_special, out, err);
		if (rc < 0)
			return rc;
	}
	if ((flags & TOK_ADD_EOS) && tok->eos >= 0)
		tokenizer_ids_push(out, tok->eos);
	return 0;
}

/* SPM text: U+2581 becomes a space. */
static void
tokenizer_spm_unescape(const char *s, size_t len, struct sbuf *out)
{
	size_t i = 0, j;

	while (i < len) {
		for (j = i; j + 3 <= len; j++)
			if (memcmp(s + j, TOK_SPM_SPACE, 3) == 0)
				break;
		if (j + 3 > len)
			j = len;
		sbuf_add(out, s + i, j - i);
		if (j < len) {
			sbuf_addc(out, ' ');
			j += 3;
		}
		i = j;
	}
}

/* The byte of a "<0xNN>" token text, or -1. */
static int
tokenizer_byte_value(const char *s, size_t len)
{
	int v = 0, i, c;

	if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
		return -1;
	for (i = 3; i < 5; i++) {
		c = (unsigned char)s[i];
		if (c >= '0' && c <= '9')
			v = v * 16 + c - '0';
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + c - 'a' + 10;
		else
			return -1;
	}
	return v;
}

int
tokenizer_piece(const struct tokenizer *tok, int32_t id, unsigned flags,
    struct sbuf *out, struct err *err)
{
	const struct gguf_str *k;
	int b;

	if (id < 0 || (uint32_t)id >= tok->n_vocab)
		return err_set(err, ERR_RANGE,
		    "token id %lld is out of range (%u tokens)", (long long)id,
		    tok->n_vocab);
	k = &tok->keys[id];
	switch (tok->types[id]) {
	case TOK_TYPE_BYTE:
		if ((b = tokenizer_byte_value(k->ptr, k->len)) >= 0) {
			sbuf_addc(out, (char)b);
			break;
		}
		/* fall through */
	case TOK_TYPE_NORMAL:
		if (tok->model == TOK_MODEL_BPE)
			tok_bpe_decode_text(k->ptr, k->len, out);
		else
			tokenizer_spm_unescape(k->ptr, k->len, out);
		break;
	case TOK_TYPE_USER_DEFINED:
		if (tok->model == TOK_MODEL_BPE)
			sbuf_add(out, k->ptr, k->len);
		else
			tokenizer_spm_unescape(k->ptr, k->len, out);
		break;
	case TOK_TYPE_UNKNOWN:
		if (flags & TOK_DECODE_SPECIAL)
			sbuf_add(out, k->ptr, k->len);
		else
			sbuf_adds(out, "\xef\xbf\xbd");
		break;
	default: /* CONTROL, UNUSED, UNDEFINED */
		if (flags & TOK_DECODE_SPECIAL)
			sbuf_add(out, k->ptr, k->len);
		break;
	}
	return 0;
}

int
tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n,
    unsigned flags, struct sbuf *out, struct err *err)
{
	struct tok_decoder d;
	size_t i;
	int rc = 0;

	tok_decoder_init(&d, tok, flags);
	for (i = 0; i < n && rc == 0; i++)
		rc = tok_decoder_push(&d, ids[i], out, err);
	tok_decoder_finish(&d, out);
	tok_decoder_release(&d);
	return rc;
}
