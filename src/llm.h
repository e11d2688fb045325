/*
 * llm: a loaded model, everything it takes to talk to it: the GGUF file,
 * its tokenizer, a Vulkan device, the kernels, the weights on the device,
 * an engine (KV cache and step graphs), the chat format in use with the
 * reason it was chosen, and that format's end-of-generation rules.
 * `vkchat run`, `vkchat bench` and the engine thread (worker.c) all load
 * models through here.
 *
 * Loading order: the chat format name (if forced) is checked first, then
 * the file is read and validated on the host (gguf, tokenizer,
 * model_validate), so a bad model is reported as such before any device
 * is opened; then the device, the kernels, the upload and the engine.
 * llm_open says in *stage which of these failed, for the exit status.
 *
 * Conversations: llm_render turns a system prompt and turns into token
 * ids with the chat format, and keeps them within the context: the
 * prompt plus room for the reply (llm_reserve) must fit n_ctx.  When it
 * does not, it is an error naming the sizes, or, with context shifting,
 * the oldest user/assistant turn pairs after the system prompt are
 * dropped (whole pairs, oldest first, the system prompt and the last
 * user turn always kept) until it fits.  A shifted conversation is a new
 * token sequence after the system prompt, so the next evaluation reuses
 * the KV cache only up to there.
 *
 * Stop rules of the format (llm_stop_rules): its end-of-turn tokens that
 * the vocabulary has (<|im_end|>, <|eot_id|>, ...) end generation like
 * the model's EOS and EOT; its plain-text turn markers, and its
 * end-of-turn names the vocabulary lacks (a base model run with a chat
 * format may write "<|im_end|>" as text), are stop strings.
 *
 * Threads: an llm is used by one thread at a time (the engine thread).
 */
#ifndef VKCHAT_LLM_H
#define VKCHAT_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "engine.h"
#include "err.h"
#include "gen.h"
#include "gguf.h"
#include "kern.h"
#include "model.h"
#include "tokenizer.h"
#include "vk-device.h"

#define LLM_MAX_EOG 8
#define LLM_MAX_STOPS 8

/* Where llm_open failed (for the exit status: file 2, device 3). */
enum llm_stage {
	LLM_STAGE_OPTIONS, /* a bad option (an unknown chat format) */
	LLM_STAGE_FILE,	   /* reading or validating the model file */
	LLM_STAGE_DEVICE,  /* opening the Vulkan device or the kernels */
	LLM_STAGE_UPLOAD,  /* uploading the weights */
	LLM_STAGE_ENGINE,  /* making the engine (KV cache) */
};

/* Upload progress, FRACTION from 0 to 1. */
typedef void (*llm_progress_fn)(void *ud, double fraction);

struct llm_opts {
	const char *path;
	int device;		  /* -1: automatic (VKCHAT_DEVICE, then
				      discrete) */
	struct engine_config cfg; /* zeros: the engine's defaults */
	const char *chat_format;  /* NULL: detect from the model */
	llm_progress_fn progress; /* may be NULL */
	void *ud;
	/*
	 * 1: compile the kernels' code while loading (engine_prepare's
	 * warm-up on CPU devices), for a caller that loads in the background
	 * (the chat's worker); a one-shot command leaves it 0 and compiles
	 * only what it uses.
	 */
	int warm;
};

struct llm {
	struct gguf *g;
	struct tokenizer *tok; /* points into g */
	struct vk_device *dev;
	struct kern *k;
	struct model *m;
	struct engine *e;
	const struct chat_format *fmt;
	char *fmt_why;	   /* why this format: "--chat-format", detection */
	char *name;	   /* general.name, else the file name */
	char *system;	   /* vkchat.system_prompt: the model's own, or NULL */
	char identity[17]; /* gguf_identity() */
	uint64_t file_size;
	int32_t eog[LLM_MAX_EOG]; /* the format's end-of-turn tokens */
	size_t n_eog;
	const char *stops[LLM_MAX_STOPS]; /* the format's stop strings */
	size_t n_stops;
	double t_load; /* seconds from opening the file to a ready engine */
};

/*
 * Use chat format NAME from now on (a reopened session's), with its stop
 * rules for this vocabulary; an unknown name is an error listing the
 * valid ones.
 */
int llm_use_format(struct llm *l, const char *name, struct err *err);

/* Fill *o with the defaults: automatic device, detected format. */
void llm_opts_init(struct llm_opts *o);

/*
 * Whether a model file of FILE_BYTES with N_LAYER layers runs its
 * dispatches on one thread of a CPU device (vk_device_new's cpu_inline):
 * 1 when the average dispatch of a decode step is small.
 */
int llm_cpu_inline(uint64_t file_bytes, uint32_t n_layer);

/*
 * Load the model O->path as described above.  On success *out is a new
 * llm owned by the caller (llm_free).  On failure nothing stays open,
 * *stage (if not NULL) says where it failed and the error is the failing
 * module's: ERR_NOTFOUND listing the formats for an unknown chat format,
 * the gguf, tokenizer and model errors, ERR_DEVICE / ERR_NOMEM from the
 * device, ERR_RANGE for a context the device cannot hold.
 */
int llm_open(const struct llm_opts *o, struct llm **out, enum llm_stage *stage,
    struct err *err);

/* Free L with everything it opened (NULL is fine). */
void llm_free(struct llm *l);

/*
 * Make L's engine hold at least N_SEQ sequences (for N columns); the
 * engine is made again when it has fewer, which empties every cache.
 * Errors as engine_new; the engine is then made again at its old size,
 * and if even that fails L->e is NULL (the model must be loaded again).
 */
int llm_ensure_seqs(struct llm *l, uint32_t n_seq, struct err *err);

/*
 * Room to keep for the reply after a prompt: MAX_TOKENS, but at most a
 * quarter of the context (a quarter when MAX_TOKENS is negative:
 * unlimited), and at least 1.
 */
size_t llm_reserve(const struct llm *l, int32_t max_tokens);

/*
 * Render SYSTEM and TURNS[0..n) (ending with the user's) with L's
 * format for generation; SYSTEM NULL means the model's own system prompt
 * (the GGUF key vkchat.system_prompt, which the pocket model carries:
 * it was trained with it) or none, "" means none, and tokenize into OUT
 * (emptied first).  When the tokens plus RESERVE exceed the context:
 * with SHIFT, drop the oldest turn pairs as described above and put
 * the number of turns dropped in *n_dropped (if not NULL); without,
 * ERR_RANGE naming the sizes (so does a last turn too long on its own).
 * *n_missing (if not NULL) counts the format's special tokens that the
 * vocabulary lacks.  Errors also those of chat_render (ERR_USAGE for
 * turns that do not alternate) and of the tokenizer.
 */
int llm_render(struct llm *l, const char *system, const struct chat_turn *turns,
    size_t n, size_t reserve, int shift, struct tokenizer_ids *out,
    size_t *n_dropped, size_t *n_missing, struct err *err);

/* Point REQ's extra end tokens and stop strings at L's format's. */
void llm_stop_rules(const struct llm *l, struct gen_request *req);

#endif
