/*
 * tokenizer: text <-> token ids for the vocabularies GGUF files carry
 * (the tokenizer.ggml.* keys).  Two models:
 *
 *   "llama"  SentencePiece-style BPE with byte fallback (Llama 2, Mistral,
 *            Gemma): spaces become U+2581, pieces merge highest score
 *            first, characters without a piece become <0xNN> byte tokens
 *            (tok-spm.c).
 *   "gpt2"   GPT-2 byte-level BPE (Llama 3, Qwen, GPT-2, SmolLM): a
 *            pre-tokenizer regex chosen by tokenizer.ggml.pre splits the
 *            text, bytes map to GPT-2's printable characters, merges apply
 *            by rank (tok-bpe.c).
 *
 * Encoding matches Hugging Face tokenizers token for token (the shared
 * conformance data tests it); where Hugging Face and llama.cpp differ
 * (Qwen's NFC normalization) Hugging Face wins.
 *
 * Special tokens.  Before the model sees the text, token texts are cut out
 * of it, leftmost-longest: always the USER_DEFINED tokens, and with
 * TOK_PARSE_SPECIAL also CONTROL and UNKNOWN ones.  Without that flag text
 * such as "<|im_start|>" or "<s>" is tokenized as ordinary characters, so
 * user input cannot inject control tokens; the chat layer inserts them by
 * id (tokenizer_find).
 *
 * Lifetime: the tokenizer points into the struct gguf it was loaded from
 * (token and merge strings are not copied), so the gguf must outlive it.
 * A loaded tokenizer is never modified: encoding and decoding may run on
 * several threads at once.
 */
#ifndef VKCHAT_TOKENIZER_H
#define VKCHAT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gguf.h"
#include "util.h"

/* Token types, as tokenizer.ggml.token_type stores them (llama.cpp's). */
enum tok_type {
	TOK_TYPE_UNDEFINED = 0,
	TOK_TYPE_NORMAL = 1,
	TOK_TYPE_UNKNOWN = 2,
	TOK_TYPE_CONTROL = 3,
	TOK_TYPE_USER_DEFINED = 4,
	TOK_TYPE_UNUSED = 5,
	TOK_TYPE_BYTE = 6,
};

enum tok_model {
	TOK_MODEL_SPM, /* tokenizer.ggml.model "llama" */
	TOK_MODEL_BPE, /* tokenizer.ggml.model "gpt2" */
};

/* tokenizer_encode flags. */
enum {
	/* Put the BOS token first (if the vocabulary has one). */
	TOK_ADD_BOS = 1 << 0,
	/* Put the EOS token last (if the vocabulary has one). */
	TOK_ADD_EOS = 1 << 1,
	/* The text of CONTROL and UNKNOWN tokens becomes those tokens. */
	TOK_PARSE_SPECIAL = 1 << 2,
};

/* Decoding flags (tok_decoder_init, tokenizer_decode, tokenizer_piece). */
enum {
	/* Render CONTROL, UNKNOWN, UNUSED tokens as their text. */
	TOK_DECODE_SPECIAL = 1 << 0,
	/*
	 * For tokenizers that add a space prefix (add_space_prefix): drop one
	 * leading space from the first token that produces output, undoing
	 * the prefix encoding added.
	 */
	TOK_DECODE_STRIP_PREFIX = 1 << 1,
};

/*
 * A vocabulary already in memory: what tokenizer_load reads from the GGUF
 * keys named in the comments, for building a tokenizer without a file
 * (tests, tools).  Arrays are borrowed: TOKENS and MERGES must outlive the
 * tokenizer, the others are copied.
 */
struct tok_vocab {
	const char *model; /* tokenizer.ggml.model: "llama", "gpt2" */
	const char *pre;   /* tokenizer.ggml.pre, NULL = absent */
	size_t n_tokens;   /* length of every per-token array */
	const struct gguf_str *tokens; /* tokenizer.ggml.tokens */
	const int32_t *types;	       /* token_type; NULL = all NORMAL */
	const float *scores;	       /* scores; NULL = all 0 */
	size_t n_merges;
	const struct gguf_str *merges; /* merges ("left right", rank order) */
	/* tokenizer.ggml.{bos,eos,unk,padding,eot,eom}_token_id; -1 absent */
	int64_t bos, eos, unk, pad, eot, eom;
	/* add_bos_token, add_eos_token, add_space_prefix; -1 = absent */
	int add_bos, add_eos, add_space_prefix;
};

/* Fill *v with an empty vocabulary: no arrays, every id and flag absent. */
void tokenizer_vocab_init(struct tok_vocab *v);

struct tokenizer;

/*
 * Load the tokenizer of G from its tokenizer.ggml.* keys (vocab-only files
 * are fine).  Everything is validated: array types and lengths, token
 * types, special ids in range, every merge naming two tokens whose
 * concatenation is a token.  On success *out is a new tokenizer owned by
 * the caller (tokenizer_free) that refers into G: G must outlive it.
 * Errors: ERR_MODEL (a required key is missing), ERR_FORMAT (a key has a
 * bad type or value; the message names the file, the key and the index),
 * ERR_UNSUPPORTED (a tokenizer model other than "llama" and "gpt2").
 *
 * An unknown or missing tokenizer.ggml.pre is not an error: the GPT-2
 * pre-tokenizer is used and tokenizer_warning() says so.
 */
int tokenizer_load(
    const struct gguf *g, struct tokenizer **out, struct err *err);

/* The same from a vocabulary in memory; errors as tokenizer_load's. */
int tokenizer_new(
    const struct tok_vocab *v, struct tokenizer **out, struct err *err);

/* Free a tokenizer (NULL is fine). */
void tokenizer_free(struct tokenizer *tok);

/* A one-line warning about the load for the user (NULL if none). */
const char *tokenizer_warning(const struct tokenizer *tok);

enum tok_model tokenizer_model(const struct tokenizer *tok);
/* The pre-tokenizer in use ("llama-bpe", "gpt-2"; "default" for SPM). */
const char *tokenizer_pre(const struct tokenizer *tok);
/* Number of tokens: valid ids are 0 .. n-1. */
int32_t tokenizer_n_vocab(const struct tokenizer *tok);

/*
 * Special ids, -1 when the vocabulary has none.  They come from the
 * tokenizer.ggml.*_token_id keys; when unk is absent it is the first
 * UNKNOWN token.
 */
int32_t tokenizer_bos(const struct tokenizer *tok);
int32_t tokenizer_eos(const struct tokenizer *tok);
/*
 * End of turn: tokenizer.ggml.eot_token_id, else the first CONTROL token
 * of <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>, ...
 * End of message: eom_token_id, else a CONTROL <|eom_id|>.
 */
int32_t tokenizer_eot(const struct tokenizer *tok);
int32_t tokenizer_eom(const struct tokenizer *tok);
int32_t tokenizer_unk(const struct tokenizer *tok);
int32_t tokenizer_pad(const struct tokenizer *tok);

/*
 * Whether the model wants BOS first / EOS last: add_bos_token (absent:
 * yes for SPM, no for BPE), add_eos_token (absent: no), and the id exists.
 */
int tokenizer_add_bos(const struct tokenizer *tok);
int tokenizer_add_eos(const struct tokenizer *tok);
/* Whether SPM text segments get a U+2581 prefix (add_space_prefix). */
int tokenizer_add_space_prefix(const struct tokenizer *tok);

/*
 * Whether ID ends generation: the EOS, EOT and EOM ids, and any CONTROL
 * token named <|eot_id|>, <|im_end|>, <|end|>, <|endoftext|>,
 * <|end_of_text|>, <end_of_turn>, <|eom_id|>, <EOT>, ...
 */
int tokenizer_is_eog(const struct tokenizer *tok, int32_t id);

/* The type of token ID (TOK_TYPE_UNDEFINED for an id out of range). */
enum tok_type tokenizer_type(const struct tokenizer *tok, int32_t id);

/*
 * The stored text of token ID as in the file (GPT-2 byte form "Ġthe",
 * SentencePiece "▁the", "<0x0A>"): a pointer into the GGUF, not
 * NUL-terminated, LEN bytes; NULL for an id out of range.
 */
const char *tokenizer_text(
    const struct tokenizer *tok, int32_t id, size_t *len);

/*
 * The id of the token whose stored text is exactly S (LEN bytes), or -1;
 * of two tokens with the same text, the later one.
 */
int32_t tokenizer_find(const struct tokenizer *tok, const char *s, size_t len);

/* A growable array of token ids; caller-owned storage. */
struct tokenizer_ids {
	int32_t *ids;
	size_t n;
	size_t cap;
};

void tokenizer_ids_init(struct tokenizer_ids *v);
void tokenizer_ids_release(struct tokenizer_ids *v);
/* Append one id. */
void tokenizer_ids_push(struct tokenizer_ids *v, int32_t id);

/*
 * Tokenize TEXT (LEN bytes; it may contain NUL and need not be valid
 * UTF-8: bytes that are not become byte tokens) and append the ids to
 * OUT.  FLAGS: TOK_ADD_BOS, TOK_ADD_EOS, TOK_PARSE_SPECIAL.  Returns 0, or
 * ERR_RANGE if the pre-tokenizer regex fails (match limits), with OUT
 * holding what was done.
 */
int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len,
    unsigned flags, struct tokenizer_ids *out, struct err *err);

/*
 * Append the bytes token ID stands for to OUT: the decoded text of normal
 * and user-defined tokens (GPT-2 characters back to bytes, U+2581 back
 * to a space), the byte of a byte token <0xNN>; the text of control and
 * unused tokens only with TOK_DECODE_SPECIAL (else nothing); an unknown
 * token as its text with TOK_DECODE_SPECIAL, else U+FFFD.  The bytes may
 * be part of a UTF-8 sequence.  ERR_RANGE for a bad id.
 */
int tokenizer_piece(const struct tokenizer *tok, int32_t id, unsigned flags,
    struct sbuf *out, struct err *err);

/*
 * Decode N ids into OUT as valid UTF-8 (tok_decoder over the whole list,
 * finished).  ERR_RANGE for a bad id.
 */
int tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n,
    unsigned flags, struct sbuf *out, struct err *err);

/*
 * tok_decoder: streaming detokenization.  Fed ids one at a time, it
 * appends only complete, valid UTF-8: bytes of a character split over
 * several tokens are held back until it is complete; bytes that can no
 * longer become valid UTF-8 become U+FFFD (one per maximal ill-formed
 * subsequence), as do bytes still held at tok_decoder_finish.
 * Caller-owned storage: tok_decoder_init / tok_decoder_release.
 */
struct tok_decoder {
	const struct tokenizer *tok;
	unsigned flags;	       /* TOK_DECODE_* */
	int started;	       /* some token has produced output */
	unsigned char pend[4]; /* an incomplete UTF-8 sequence */
	unsigned npend;
	struct sbuf tmp; /* scratch: pending bytes + the new piece */
};

/* Start a stream for TOK with TOK_DECODE_* FLAGS. */
void tok_decoder_init(
    struct tok_decoder *d, const struct tokenizer *tok, unsigned flags);
void tok_decoder_release(struct tok_decoder *d);
/* Feed ID; append what is complete to OUT.  ERR_RANGE for a bad id. */
int tok_decoder_push(
    struct tok_decoder *d, int32_t id, struct sbuf *out, struct err *err);
/* End the stream: held-back bytes become U+FFFD.  The decoder may then be
 * used for a new stream (the prefix rule applies again). */
void tok_decoder_finish(struct tok_decoder *d, struct sbuf *out);

#endif
