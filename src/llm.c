/*
 * llm: loading a model with everything around it, and rendering
 * conversations within its context.  See llm.h.
 *
 * Context shifting works on turn pairs: turns[0..n) alternate user,
 * assistant, ..., user, so dropping turns[0] and turns[1] keeps the
 * alternation and the rendering valid.  Each try renders and tokenizes
 * the whole shorter conversation again, which is cheap next to
 * evaluating it.
 */
#include "llm.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void
llm_opts_init(struct llm_opts *o)
{
	memset(o, 0, sizeof *o);
	o->device = -1;
}

void
llm_free(struct llm *l)
{
	if (l == NULL)
		return;
	engine_free(l->e);
	model_free(l->m);
	kern_free(l->k);
	vk_device_free(l->dev);
	tokenizer_free(l->tok);
	gguf_close(l->g);
	free(l->fmt_why);
	free(l->name);
	free(l->system);
	free(l);
}

/* general.name, else the file name without its directories. */
static char *
llm_model_name(const struct gguf *g, const char *path)
{
	struct gguf_str s;
	const char *base = strrchr(path, '/');

	if (gguf_get_str(g, "general.name", &s, NULL) == 0 && s.len > 0)
		return gguf_str_dup(s);
	return xstrdup(base != NULL ? base + 1 : path);
}

/*
 * The model's own system prompt: a model trained with one fixed system
 * prompt (the pocket model) answers well only with it, so the file says
 * it and every conversation without one of its own gets it.
 */
static char *
llm_model_system(const struct gguf *g)
{
	struct gguf_str s;

	if (gguf_get_str(g, "vkchat.system_prompt", &s, NULL) == 0 && s.len > 0)
		return gguf_str_dup(s);
	return NULL;
}

/* The format: forced by name (already found), else detected. */
static void
llm_format(struct llm *l, const char *forced)
{
	struct gguf_str s;
	struct sbuf why;
	char *tmpl = NULL;

	if (forced != NULL) {
		l->fmt_why = xstrdup("chosen with --chat-format");
		return;
	}
	if (gguf_get_str(l->g, "tokenizer.chat_template", &s, NULL) == 0)
		tmpl = gguf_str_dup(s);
	sbuf_init(&why);
	l->fmt = chat_detect_tokenizer(tmpl, l->tok, &why);
	l->fmt_why = sbuf_detach(&why);
	free(tmpl);
}

/*
 * The format's stop rules for this vocabulary: end-of-turn names that
 * are tokens become end tokens, the others stop strings, with the
 * format's text markers.
 */
static void
llm_rules(struct llm *l)
{
	const char *const *eog = chat_format_eog(l->fmt);
	const char *const *stops = chat_format_stops(l->fmt);
	size_t i;

	for (i = 0; eog[i] != NULL; i++) {
		int32_t id = tokenizer_find(l->tok, eog[i], strlen(eog[i]));

		if (id >= 0 && l->n_eog < LLM_MAX_EOG)
			l->eog[l->n_eog++] = id;
		else if (id < 0 && l->n_stops < LLM_MAX_STOPS)
			l->stops[l->n_stops++] = eog[i];
	}
	for (i = 0; stops[i] != NULL && l->n_stops < LLM_MAX_STOPS; i++)
		l->stops[l->n_stops++] = stops[i];
}

int
llm_use_format(struct llm *l, const char *name, struct err *err)
{
	const struct chat_format *f = chat_format_find(name, err);

	if (f == NULL)
		return err->code;
	if (f == l->fmt)
		return 0;
	l->fmt = f;
	free(l->fmt_why);
	l->fmt_why = xstrdup("chosen for the conversation");
	l->n_eog = l->n_stops = 0;
	llm_rules(l);
	return 0;
}

static void
llm_on_upload(void *ud, uint64_t done, uint64_t total)
{
	const struct llm_opts *o = ud;

	o->progress(o->ud, total > 0 ? (double)done / (double)total : 1.0);
}

/*
 * Whether a CPU device should run this model's dispatches on one thread:
 * when a decode step's dispatches (5 a layer and 3 more, for the fused
 * llama graph) read under 256 KiB of the file each on average, llvmpipe's
 * hand-off to its thread pool (40-45 us a dispatch) costs more than the
 * second core saves.  stories260K decodes 3.4x faster so, the pocket
 * model 1.3x; a model of 6 layers of 384 is 7% slower (docs/PERFORMANCE.md,
 * "Small models on one thread").
 */
int
llm_cpu_inline(uint64_t file_bytes, uint32_t n_layer)
{
	return file_bytes / (5 * (uint64_t)n_layer + 3) < 256 * 1024;
}

int
llm_open(const struct llm_opts *o, struct llm **out, enum llm_stage *stage,
    struct err *err)
{
	struct llm *l = xcalloc(1, sizeof *l);
	struct model_hparams hp;
	enum llm_stage st = LLM_STAGE_OPTIONS;
	double t0 = util_now();
	int rc;

	*out = NULL;
	if (o->chat_format != NULL &&
	    (l->fmt = chat_format_find(o->chat_format, err)) == NULL) {
		rc = ERR_NOTFOUND;
		goto fail;
	}
	st = LLM_STAGE_FILE;
	if ((rc = gguf_open(o->path, &l->g, err)) < 0 ||
	    (rc = tokenizer_load(l->g, &l->tok, err)) < 0 ||
	    (rc = model_validate(l->g, &hp, err)) < 0)
		goto fail;
	/* A token the tokenizer lacks could be sampled, or a row read
	 * past the table: refuse the file as llama.cpp does. */
	if ((uint32_t)tokenizer_n_vocab(l->tok) != hp.n_vocab) {
		rc = err_set(err, ERR_MODEL,
		    "'%s': the tokenizer has %d tokens but token_embd.weight "
		    "has %u rows: the vocabulary does not match the model",
		    o->path, (int)tokenizer_n_vocab(l->tok), hp.n_vocab);
		goto fail;
	}
	llm_format(l, o->chat_format);
	l->name = llm_model_name(l->g, o->path);
	l->system = llm_model_system(l->g);
	gguf_identity(l->g, l->identity);
	l->file_size = gguf_file_size(l->g);
	llm_rules(l);
	st = LLM_STAGE_DEVICE;
	if ((rc = vk_device_new(o->device,
		 llm_cpu_inline(l->file_size, hp.n_layer), &l->dev, err)) < 0 ||
	    (rc = kern_new(l->dev, &l->k, err)) < 0)
		goto fail;
	st = LLM_STAGE_UPLOAD;
	if ((rc = model_load(l->dev, l->k, l->g,
		 o->progress != NULL ? llm_on_upload : NULL, (void *)o, &l->m,
		 err)) < 0)
		goto fail;
	st = LLM_STAGE_ENGINE;
	/* the pipelines now, not in the first prompt */
	if ((rc = engine_new(l->m, &o->cfg, &l->e, err)) < 0 ||
	    (rc = engine_prepare(l->e, o->warm, err)) < 0)
		goto fail;
	l->t_load = util_now() - t0;
	*out = l;
	return 0;
fail:
	if (stage != NULL)
		*stage = st;
	llm_free(l);
	return rc;
}

int
llm_ensure_seqs(struct llm *l, uint32_t n_seq, struct err *err)
{
	struct engine_config old = *engine_config(l->e), cfg = old;
	int rc;

	if (n_seq <= old.n_seq)
		return 0;
	cfg.n_seq = n_seq;
	if (cfg.max_out < n_seq)
		cfg.max_out = n_seq;
	/* Free the old cache first: both may not fit the device. */
	engine_free(l->e);
	l->e = NULL;
	if ((rc = engine_new(l->m, &cfg, &l->e, err)) < 0 &&
	    engine_new(l->m, &old, &l->e, NULL) < 0)
		l->e = NULL;
	/* the kernels' code is compiled: llm_open warmed them up if asked */
	if (rc == 0)
		rc = engine_prepare(l->e, 0, err);
	return rc;
}

size_t
llm_reserve(const struct llm *l, int32_t max_tokens)
{
	size_t quarter = engine_config(l->e)->n_ctx / 4;
	size_t r = max_tokens < 0 || (size_t)max_tokens > quarter
	    ? quarter
	    : (size_t)max_tokens;

	return r > 0 ? r : 1;
}

/* Render and tokenize SYSTEM and TURNS[0..n) into OUT (emptied). */
static int
llm_tokens(struct llm *l, const char *system, const struct chat_turn *turns,
    size_t n, struct tokenizer_ids *out, size_t *n_missing, struct err *err)
{
	struct chat_prompt p;
	int rc;

	chat_prompt_init(&p);
	out->n = 0;
	rc = chat_render(l->fmt, system, turns, n, CHAT_GENERATE, &p, err);
	if (rc == 0)
		rc = chat_render_tokens(&p, l->tok, out, n_missing, err);
	chat_prompt_release(&p);
	return rc;
}

int
llm_render(struct llm *l, const char *system, const struct chat_turn *turns,
    size_t n, size_t reserve, int shift, struct tokenizer_ids *out,
    size_t *n_dropped, size_t *n_missing, struct err *err)
{
	size_t n_ctx = engine_config(l->e)->n_ctx, first = 0;
	int rc;

	if (n_dropped != NULL)
		*n_dropped = 0;
	if (system == NULL)
		system = l->system;
	for (;;) {
		rc = llm_tokens(
		    l, system, turns + first, n - first, out, n_missing, err);
		if (rc < 0)
			return rc;
		if (out->n + reserve <= n_ctx)
			return 0;
		if (shift && n - first >= 3) {
			first += 2;
			if (n_dropped != NULL)
				*n_dropped = first;
			continue;
		}
		if (n - first >= 3)
			return err_set(err, ERR_RANGE,
			    "the conversation of %zu tokens plus %zu for the "
			    "reply does not fit the context of %zu tokens "
			    "(ctx_shift=1, --ctx-shift, drops the oldest "
			    "turns; or start a new conversation)",
			    out->n, reserve, n_ctx);
		return err_set(err, ERR_RANGE,
		    "the prompt of %zu tokens plus %zu for the reply does not "
		    "fit the context of %zu tokens (use a larger --ctx, a "
		    "smaller -n, or a shorter message)",
		    out->n, reserve, n_ctx);
	}
}

void
llm_stop_rules(const struct llm *l, struct gen_request *req)
{
	req->eog = l->eog;
	req->n_eog = l->n_eog;
	req->stops = l->stops;
	req->n_stops = l->n_stops;
}
