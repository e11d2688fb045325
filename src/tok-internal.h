/*
 * tok-internal: the inside of struct tokenizer, shared by tokenizer.c (load,
 * lookups, special tokens, pieces), tok-spm.c, tok-bpe.c and
 * tok-decoder.c.  Not for use outside those files.
 */
#ifndef VKCHAT_TOK_INTERNAL_H
#define VKCHAT_TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

/* Token text -> id: open addressing, slot.key indexes tokenizer.keys. */
struct tok_slot {
	uint32_t tag; /* the key's hash, high bits */
	uint32_t key; /* UINT32_MAX = empty */
};

/* A BPE merge in the pair table: (left, right) -> rank and result. */
struct tok_merge {
	int32_t left; /* -1 = empty slot */
	int32_t right;
	uint32_t rank;
	int32_t id;
};

/* A node of the special-token trie (children as sibling lists). */
struct tok_trie_node {
	int32_t child;	    /* first child, -1 none */
	int32_t sibling;    /* next sibling, -1 none */
	int32_t id_plain;   /* USER_DEFINED token ending here, -1 none */
	int32_t id_special; /* any splittable token ending here, -1 none */
	unsigned char byte;
};

/* U+2581, SentencePiece's space. */
#define TOK_SPM_SPACE "\xe2\x96\x81"

#define TOK_MAX_EOG 16
#define TOK_MAX_RE 2

struct tokenizer {
	enum tok_model model;
	char pre[64];
	uint32_t n_vocab;

	/* keys[0 .. n_vocab) are the token texts, then lookup aliases */
	struct gguf_str *keys;
	uint32_t n_keys;
	int32_t *alias_id; /* id of alias keys[n_vocab + i] */
	char *alias_text;  /* the alias strings */
	char *key_text;	   /* the token texts, copied out of the GGUF */
	struct tok_slot *slots;
	uint32_t slot_mask;

	uint8_t *types; /* (n_vocab) enum tok_type */
	float *scores;	/* (n_vocab) SPM merge priority */

	struct tok_merge *merges; /* BPE pair table */
	uint32_t merge_mask;
	uint32_t n_merges;

	int32_t trie_root[256]; /* first-level nodes by byte, -1 none */
	struct tok_trie_node *trie;
	uint32_t n_trie;

	/* SPM: the byte-fallback token of each byte; BPE: the token of the
	 * byte's GPT-2 character; unk when there is none */
	int32_t byte_id[256];

	int32_t bos, eos, eot, eom, unk, pad;
	int32_t eog[TOK_MAX_EOG];
	int n_eog;
	int add_bos, add_eos, add_space_prefix;

	int spm_chunks;	   /* SPM: cut before "x\xe2\x96\x81" (tok-spm.c) */
	int ignore_merges; /* BPE: a pre-token that is a token stays whole */
	int nfc;	   /* BPE: NFC-normalize text first (Qwen) */
	void *re
	    [TOK_MAX_RE]; /* pcre2_code *: pre-tokenizer regexes, applied in turn */
	int n_re;

	char warning[160];
};

/*
 * The id of the token with text S (LEN bytes), or -1.  ALIAS also accepts
 * the lookup aliases (SPM user-defined tokens spelled with U+2581).
 */
int32_t tokenizer_lookup(
    const struct tokenizer *tok, const char *s, size_t len, int alias);

/* tok-spm.c: encode one text segment; PREFIX puts U+2581 in front. */
void tok_spm_encode(const struct tokenizer *tok, const char *text, size_t len,
    int prefix, struct tokenizer_ids *out);

/*
 * tok-spm.c: the offset of the first U+2581 at or after FROM (> 0) in S
 * that follows another character than U+2581, or LEN: where a chunk may
 * be cut (tokenizer.spm_chunks).
 */
size_t tok_spm_cut(const char *s, size_t len, size_t from);

/* tok-bpe.c: set up the pre-tokenizer, pair table and byte tokens. */
int tok_bpe_init(
    struct tokenizer *tok, const struct tok_vocab *v, struct err *err);
void tok_bpe_release(struct tokenizer *tok);
/* Encode one text segment (normalization, pre-tokenizer, merges). */
int tok_bpe_encode(const struct tokenizer *tok, const char *text, size_t len,
    struct tokenizer_ids *out, struct err *err);
/* Append the bytes of a byte-level token text (GPT-2 characters). */
void tok_bpe_decode_text(const char *s, size_t len, struct sbuf *out);

#endif
