/*
 * chat: chat formats.  A conversation (an optional system prompt and
 * alternating user and assistant turns, the user first) is rendered into
 * a prompt: a list of segments that are literal text, special tokens
 * named by their text ("<|im_start|>"), or the model's BOS/EOS token.
 * Special tokens come only from the format, never from the text, and the
 * text is meant to be tokenized without parsing special tokens, so a
 * user who types "<|im_start|>" or "[INST]" gets those characters, not
 * control tokens.  chat_render_tokens does the whole job with a
 * tokenizer.
 *
 * Built-in formats (chat_format_count / chat_format_at):
 *
 *   chatml    <|im_start|>role\n...<|im_end|>\n (Qwen, SmolLM2, many)
 *   llama2    <s>[INST] <<SYS>>\n...\n<</SYS>>\n\nuser [/INST] answer </s>
 *   llama3    <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
 *   mistral   <s>[INST] system\n\nuser [/INST] answer</s> (Mistral's v1)
 *   zephyr    <|user|>\n...</s>\n<|assistant|>\n (text markers)
 *   phi3      <|user|>\n...<|end|>\n<|assistant|>\n (special tokens)
 *   gemma     <start_of_turn>user\n...<end_of_turn>\n, system folded
 *             into the first user turn
 *   vicuna    SYSTEM USER: ... ASSISTANT: ...</s> (FastChat v1.1)
 *   deepseek  ### Instruction:\n...\n### Response:\n...\n<|EOT|>\n
 *             (DeepSeek Coder instruct, llama.cpp's "deepseek")
 *   plain     the texts one after another, nothing added (base models)
 *
 * Multi-turn: rendering is deterministic and each format's rendering of
 * turns[0..k) (with the generation prompt when turn k-1 is the user's)
 * is a prefix of its rendering of turns[0..k+1): the assistant turn
 * starts with exactly the generation prompt.  So after an answer the
 * caller renders the longer conversation, keeps the KV cache for the
 * common prefix of the token ids (chat_common_prefix) and evaluates only
 * the rest; editing an earlier turn shortens the common prefix.
 *
 * Formats are static and immutable; rendering may run on any thread.
 */
#ifndef VKCHAT_CHAT_H
#define VKCHAT_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tokenizer.h"
#include "util.h"

struct chat_format;

enum chat_role {
	CHAT_USER,
	CHAT_ASSISTANT,
};

/* One turn; TEXT is UTF-8, NUL-terminated, borrowed. */
struct chat_turn {
	enum chat_role role;
	const char *text;
};

enum chat_seg_kind {
	CHAT_SEG_TEXT,	  /* literal text, tokenized without specials */
	CHAT_SEG_SPECIAL, /* a special token the format needs, by its text */
	CHAT_SEG_MARKER,  /* a turn marker that is a special token in some
			     vocabularies and plain text in others (zephyr's
			     "<|user|>"): the token if the vocabulary has
			     it, else its text */
	CHAT_SEG_BOS,	  /* the model's BOS token */
	CHAT_SEG_EOS,	  /* the model's EOS token */
};

struct chat_seg {
	enum chat_seg_kind kind;
	size_t off, len; /* the text or special name in chat_prompt.text */
};

/*
 * A rendered prompt.  Caller-owned storage: chat_prompt_init /
 * chat_prompt_release.  Adjacent text is merged into one segment.
 */
struct chat_prompt {
	struct chat_seg *segs;
	size_t n_segs, cap;
	struct sbuf text; /* the bytes the segments point into */
	int add_bos;	  /* the format's template starts with BOS */
};

/* chat_render flags. */
enum {
	/* End with the opening of an assistant turn (the last turn must be
	 * the user's, or there are no turns). */
	CHAT_GENERATE = 1 << 0,
	/* Leave the last turn (the assistant's) open, without its end
	 * marker, so generation continues it. */
	CHAT_CONTINUE = 1 << 1,
};

/* Number of built-in formats, and the I'th (NULL past the end). */
size_t chat_format_count(void);
const struct chat_format *chat_format_at(size_t i);

/*
 * The format called NAME, or NULL with ERR_NOTFOUND whose message lists
 * the valid names (for --chat-format).
 */
const struct chat_format *chat_format_find(const char *name, struct err *err);

/* The format's name ("chatml") and a one-line description. */
const char *chat_format_name(const struct chat_format *f);
const char *chat_format_doc(const struct chat_format *f);

/*
 * Special tokens (by text) that end an assistant turn in this format,
 * NULL-terminated; the model's EOS/EOT tokens end it too.
 */
const char *const *chat_format_eog(const struct chat_format *f);

/*
 * Plain-text stop strings for this format, NULL-terminated: the turn
 * markers that are ordinary text (zephyr's "<|user|>", vicuna's
 * "USER:"), which a model may write when it runs on into the next turn.
 */
const char *const *chat_format_stops(const struct chat_format *f);

/* Whether the vocabulary has a token with text NAME. */
typedef int (*chat_has_token_fn)(void *ctx, const char *name);

/*
 * Detect the format: from TMPL (the GGUF's tokenizer.chat_template, NULL
 * when absent; also accepted when it is just a format name) by the
 * distinctive markers of each template, as llama.cpp's
 * llm_chat_detect_template does; else from the vocabulary (HAS_TOKEN,
 * NULL to skip) by its special tokens; else plain.  Appends the reason
 * to WHY (if not NULL), for example "from chat_template: contains
 * <|im_start|>".  Never fails.
 */
const struct chat_format *chat_detect(
    const char *tmpl, chat_has_token_fn has_token, void *ctx, struct sbuf *why);

/* The same with the tokenizer's vocabulary. */
const struct chat_format *chat_detect_tokenizer(
    const char *tmpl, const struct tokenizer *tok, struct sbuf *why);

void chat_prompt_init(struct chat_prompt *p);
void chat_prompt_release(struct chat_prompt *p);

/*
 * Render SYSTEM (NULL or "" for none) and TURNS[0..n) with format F into
 * OUT (emptied first).  FLAGS: CHAT_GENERATE, CHAT_CONTINUE.  Errors
 * (ERR_USAGE): turns that do not alternate starting with the user,
 * CHAT_GENERATE after an assistant turn, CHAT_CONTINUE without one, both
 * flags; the message names the turn.
 */
int chat_render(const struct chat_format *f, const char *system,
    const struct chat_turn *turns, size_t n, unsigned flags,
    struct chat_prompt *out, struct err *err);

/*
 * Append P as one string for display, logs and tests: text as is,
 * special tokens as their names, BOS and EOS as the given strings, and
 * BOS_TEXT first when the format starts with BOS.
 */
void chat_prompt_flatten(const struct chat_prompt *p, const char *bos_text,
    const char *eos_text, struct sbuf *out);

/*
 * Tokenize P with TOK, appending the ids to OUT: BOS first when the
 * format or the tokenizer wants it (and the vocabulary has one), special
 * tokens and markers by id (a CONTROL or USER_DEFINED token with that
 * text), BOS/EOS segments as the tokenizer's ids, and the text between
 * them without TOK_PARSE_SPECIAL, one tokenizer_encode call per run (as
 * llama.cpp tokenizes a rendered template): user text never becomes
 * control tokens.  A marker the vocabulary lacks joins the text; so does
 * a special token, which is also counted in *n_missing (if not NULL), as
 * is a BOS/EOS segment the vocabulary has no token for (left out), so
 * the caller can warn that the format does not match the model.  Errors
 * are the tokenizer's.
 */
int chat_render_tokens(const struct chat_prompt *p, const struct tokenizer *tok,
    struct tokenizer_ids *out, size_t *n_missing, struct err *err);

/* Length of the common prefix of two token lists. */
size_t chat_common_prefix(
    const int32_t *a, size_t na, const int32_t *b, size_t nb);

#endif
