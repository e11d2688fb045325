/*
 * test-gen: the generation loop on the shared real models and the pocket
 * pilot model of tests/data (reference continuations, with the margin
 * rule of ../shared/models/README.md),
 * columns decoded together against alone, prompt-cache reuse, stop
 * strings, limits and cancel.  Validation layer on and silent.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gen.h"
#include "gguf.h"
#include "harness.h"
#include "json.h"
#include "kern.h"
#include "model.h"
#include "params.h"
#include "tokenizer.h"
#include "util.h"
#include "vkt.h"

struct tg_env {
	struct vk_device *dev;
	struct kern *k;
	struct gguf *g;
	struct model *m;
	struct engine *e;
	struct tokenizer *tok;
	struct err err;
	struct sbuf text[GEN_MAX_COLS];
	atomic_int cancel;
	size_t cancel_after; /* tokens of text callbacks before cancel */
	size_t n_calls;
	/* on_done: calls per column, their order, and when they came */
	struct gen_result *res; /* the results tg_run passed */
	size_t n_done[GEN_MAX_COLS];
	size_t done_order[GEN_MAX_COLS * 2], n_order;
	/* (column, column) text lengths at column's on_done */
	size_t len_at_done[GEN_MAX_COLS][GEN_MAX_COLS];
	int done_err; /* an on_done came with an error record */
};

/* Open the model at PATH (NAME in messages) with N_SEQ sequences. */
static void
tg_open_path(
    struct tg_env *t, const char *path, const char *name, uint32_t n_seq)
{
	struct engine_config cfg = { 512, n_seq, 0, 0 };
	size_t i;

	memset(t, 0, sizeof *t);
	for (i = 0; i < GEN_MAX_COLS; i++)
		sbuf_init(&t->text[i]);
	t->dev = vkt_open();
	if (kern_new(t->dev, &t->k, &t->err) < 0 ||
	    gguf_open(path, &t->g, &t->err) < 0 ||
	    tokenizer_load(t->g, &t->tok, &t->err) < 0 ||
	    model_load(t->dev, t->k, t->g, NULL, NULL, &t->m, &t->err) < 0 ||
	    engine_new(t->m, &cfg, &t->e, &t->err) < 0) {
		test_fail(__FILE__, __LINE__, "open %s: %s", name, t->err.msg);
		exit(1);
	}
}

/* Open the shared model NAME (skips when absent) with N_SEQ sequences. */
static void
tg_open(struct tg_env *t, const char *name, uint32_t n_seq)
{
	const char *path = test_shared_path(name);

	if (path == NULL)
		test_skip("shared model %s not found", name);
	tg_open_path(t, path, name, n_seq);
}

static void
tg_close(struct tg_env *t)
{
	size_t i;

	engine_free(t->e);
	model_free(t->m);
	tokenizer_free(t->tok);
	gguf_close(t->g);
	kern_free(t->k);
	vkt_close(t->dev);
	for (i = 0; i < GEN_MAX_COLS; i++)
		sbuf_release(&t->text[i]);
}

static void
tg_on_text(void *ud, size_t col, const char *text, size_t len)
{
	struct tg_env *t = ud;

	sbuf_add(&t->text[col], text, len);
	if (t->cancel_after > 0 && ++t->n_calls >= t->cancel_after)
		atomic_store(&t->cancel, 1);
}

/* Column COL ended: note when, and what every column had by then. */
static void
tg_on_done(
    void *ud, size_t col, const struct gen_result *res, const struct err *err)
{
	struct tg_env *t = ud;
	size_t i;

	CHECK(res == &t->res[col]);
	CHECK(res->stats.finish != GEN_FINISH_NONE);
	t->n_done[col]++;
	if (t->n_order < GEN_MAX_COLS * 2)
		t->done_order[t->n_order++] = col;
	for (i = 0; i < GEN_MAX_COLS; i++)
		t->len_at_done[col][i] = t->text[i].len;
	t->done_err |= err != NULL;
}

/* Generate from PROMPT with N_COLS columns of PARAMS into RES. */
static int
tg_run(struct tg_env *t, const int32_t *prompt, size_t n_prompt,
    const struct gen_params *params, size_t n_cols, struct gen_result *res)
{
	struct gen_request req = { prompt, n_prompt, n_cols, params, NULL, 0,
		tg_on_text, t, &t->cancel, NULL, NULL, 0, NULL, 0, NULL,
		tg_on_done, NULL, 0, NULL };
	size_t i;

	for (i = 0; i < n_cols; i++) {
		gen_result_init(&res[i]);
		sbuf_reset(&t->text[i]);
	}
	t->res = res;
	memset(t->n_done, 0, sizeof t->n_done);
	t->n_order = 0;
	t->done_err = 0;
	return gen_run(t->e, t->tok, &req, res, &t->err);
}

static void
tg_release(struct gen_result *res, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gen_result_release(&res[i]);
}

/*
 * The last 60 bytes of PROMPT (where a chat prompt has its question) on
 * one line, newlines as spaces, in BUF of SIZE >= 61.
 */
static const char *
tg_flat(const char *prompt, char *buf, size_t size)
{
	size_t len = strlen(prompt), i;

	if (len > 60)
		prompt += len - 60;
	while ((*prompt & 0xc0) == 0x80)
		prompt++;
	for (i = 0; prompt[i] != '\0' && i + 1 < size; i++)
		buf[i] = prompt[i] == '\n' ? ' ' : prompt[i];
	buf[i] = '\0';
	return buf;
}

/*
 * Every prompt of the reference file NAME: the tokenization matches
 * prompt_ids and greedy ids match up to the first margin below 0.01.
 * Files may add "parse_special": true (the prompt's special-token text is
 * those tokens) and "finish": "eog" with "eog_margin" (generation ended
 * because the next argmax was an end-of-generation token, which must then
 * end it here too when that margin is 0.01 or more).  FROM_SRC: the files
 * are in the source tree rather than the shared data.
 */
static void
tg_reference_in(const char *model, const char *name, int from_src)
{
	const char *path =
	    from_src ? test_srcdir_path(name) : test_shared_path(name);
	char *text = NULL, *line, *next;
	struct tg_env t;
	size_t len, n_prompts = 0;
	struct err err;

	if (path == NULL || util_read_file(path, 0, &text, &len, &err) < 0)
		test_skip("%s not found", name);
	if (from_src) {
		path = test_srcdir_path(model);
		if (path == NULL)
			test_skip("%s not found", model);
		tg_open_path(&t, path, model, 1);
	} else {
		tg_open(&t, model, 1);
	}
	for (line = text; *line != '\0'; line = next) {
		struct json *j = NULL;
		const struct json *pr, *pids, *ids, *margins, *special, *fin,
		    *eog_margin;
		struct tokenizer_ids enc;
		struct gen_params p;
		struct gen_result res;
		size_t i, binding;
		unsigned flags = TOK_ADD_BOS;
		int eog;
		char flat[64];

		next = strchr(line, '\n');
		next = next != NULL ? next + 1 : line + strlen(line);
		if (next - line <= 1)
			continue;
		if (json_parse(line, (size_t)(next - line), &j, &err) < 0) {
			test_fail(__FILE__, __LINE__, "%s: %s", name, err.msg);
			break;
		}
		pr = json_get(j, "prompt");
		pids = json_get(j, "prompt_ids");
		ids = json_get(j, "ids");
		margins = json_get(j, "margins");
		special = json_get(j, "parse_special");
		fin = json_get(j, "finish");
		eog_margin = json_get(j, "eog_margin");
		if (special != NULL && special->type == JSON_BOOL &&
		    special->boolean)
			flags |= TOK_PARSE_SPECIAL;
		eog = fin != NULL && fin->type == JSON_STRING &&
		    strcmp(fin->str, "eog") == 0 && eog_margin != NULL &&
		    eog_margin->type == JSON_NUMBER &&
		    eog_margin->number >= 0.01;
		tokenizer_ids_init(&enc);
		CHECK_INT(tokenizer_encode(
			      t.tok, pr->str, pr->len, flags, &enc, &err),
		    0);
		CHECK_INT(enc.n, pids->len);
		for (i = 0; i < enc.n && i < pids->len; i++)
			CHECK_INT(enc.ids[i], (int64_t)pids->items[i]->number);
		params_init(&p);
		p.temperature = 0;
		p.repeat_penalty = 1;
		/* One more step lets an end-of-generation token end it. */
		p.max_tokens = (int32_t)ids->len + (eog ? 1 : 0);
		CHECK_INT(tg_run(&t, enc.ids, enc.n, &p, 1, &res), 0);
		/* Tokens before the first near-tie (margin < 0.01) bind. */
		for (binding = 0; binding < margins->len &&
		     margins->items[binding]->number >= 0.01;
		     binding++)
			;
		if (binding > ids->len)
			binding = ids->len;
		for (i = 0; i < binding; i++)
			if (i >= res.ids.n ||
			    res.ids.ids[i] != (int32_t)ids->items[i]->number) {
				test_fail(__FILE__, __LINE__,
				    "%s: prompt '%s': token %zu differs", name,
				    tg_flat(pr->str, flat, sizeof flat), i);
				break;
			}
		if (binding == ids->len) {
			CHECK_INT(res.ids.n, ids->len);
			if (eog)
				CHECK_INT(res.stats.finish, GEN_FINISH_STOP);
		}
		test_note("'%s': %zu of %zu tokens binding, %zu generated",
		    tg_flat(pr->str, flat, sizeof flat), binding, ids->len,
		    res.ids.n);
		n_prompts++;
		gen_result_release(&res);
		params_release(&p);
		tokenizer_ids_release(&enc);
		json_free(j);
	}
	CHECK(n_prompts > 0);
	free(text);
	tg_close(&t);
}

static void
tg_reference(const char *model, const char *name)
{
	tg_reference_in(model, name, 0);
}

TEST(gen_stories_reference)
{
	tg_reference(
	    "models/stories260K.gguf", "models/stories260K.reference.jsonl");
}

TEST(gen_tiny_random_reference)
{
	tg_reference("models/llama-2-tiny-random.gguf",
	    "models/llama-2-tiny-random.reference.jsonl");
}

/*
 * The pocket pilot model (tools/train, pilot config), F16 and Q8_0,
 * against PyTorch's greedy continuations on the same weights.
 */
TEST(gen_pocket_pilot_f16_reference)
{
	tg_reference_in("tests/data/pocket-pilot-f16.gguf",
	    "tests/data/pocket-pilot-f16.reference.jsonl", 1);
}

TEST(gen_pocket_pilot_q8_0_reference)
{
	tg_reference_in("tests/data/pocket-pilot-q8_0.gguf",
	    "tests/data/pocket-pilot-q8_0.reference.jsonl", 1);
}

/*
 * The shipped pocket model (data/pocket.gguf, Q8_0, made by
 * tools/train/run.sh pocket --ship) against its PyTorch references; skips
 * until the model is trained.
 */
TEST(gen_pocket_reference)
{
	if (test_srcdir_path("data/pocket.gguf") == NULL)
		test_skip("data/pocket.gguf not trained yet (tools/train)");
	tg_reference_in(
	    "data/pocket.gguf", "tests/data/pocket.reference.jsonl", 1);
}

/* Four columns together give what each gives alone, greedy and sampled. */
TEST(gen_columns_equal_alone)
{
	static const int32_t prompt[] = { 1, 403, 407, 261, 378 };
	struct gen_params p[4];
	struct gen_result together[4], alone;
	struct tg_env t;
	size_t c;
	int round;

	tg_open(&t, "models/stories260K.gguf", 4);
	for (round = 0; round < 2; round++) {
		for (c = 0; c < 4; c++) {
			params_init(&p[c]);
			p[c].max_tokens = 24 + 4 * (int32_t)c;
			p[c].seed = 11 + c;
			if (round == 0)
				p[c].temperature = 0;
			else
				p[c].temperature = 0.7f + 0.2f * (float)c;
		}
		CHECK_INT(tg_run(&t, prompt, 5, p, 4, together), 0);
		/*
		 * Each column's end is reported once, as it happens: the
		 * shorter limits first, with all of that column's text
		 * out, while the longer columns still had text to come.
		 */
		CHECK_INT(t.n_order, 4);
		CHECK_INT(t.done_err, 0);
		for (c = 0; c < 4; c++) {
			CHECK_INT(t.n_done[c], 1);
			CHECK_INT(t.done_order[c], c);
			CHECK_INT(t.len_at_done[c][c], t.text[c].len);
			if (c < 3)
				CHECK_MSG(t.len_at_done[c][3] < t.text[3].len,
				    "round %d: column 4 had all its text (%zu "
				    "bytes) when column %zu ended",
				    round, t.text[3].len, c + 1);
		}
		for (c = 0; c < 4; c++) {
			char *want = xstrdup(t.text[c].buf);

			CHECK_INT(
			    together[c].stats.n_gen, (int64_t)p[c].max_tokens);
			CHECK_INT(together[c].stats.finish, GEN_FINISH_LENGTH);
			CHECK_INT(together[c].stats.seed, (int64_t)(11 + c));
			CHECK_INT(tg_run(&t, prompt, 5, &p[c], 1, &alone), 0);
			CHECK_INT(alone.ids.n, together[c].ids.n);
			CHECK_MSG(alone.ids.n == together[c].ids.n &&
				memcmp(alone.ids.ids, together[c].ids.ids,
				    alone.ids.n * sizeof(int32_t)) == 0,
			    "round %d column %zu differs alone", round, c);
			CHECK_STR(t.text[0].buf, want);
			free(want);
			gen_result_release(&alone);
		}
		if (round == 1)
			CHECK_MSG(
			    memcmp(together[0].ids.ids, together[1].ids.ids,
				24 * sizeof(int32_t)) != 0 ||
				memcmp(together[0].ids.ids, together[2].ids.ids,
				    24 * sizeof(int32_t)) != 0,
			    "sampled columns with different seeds agree");
		tg_release(together, 4);
		for (c = 0; c < 4; c++)
			params_release(&p[c]);
	}
	tg_close(&t);
}

/* A second run with a longer prompt evaluates only the new tokens. */
TEST(gen_prompt_reuse_stop_cancel)
{
	/* The first five are the prompt; then not its greedy continuation. */
	static const int32_t prompt[] = { 1, 403, 407, 261, 378, 300, 301 };
	struct gen_params p;
	struct gen_result res;
	struct tg_env t;
	char *full;

	tg_open(&t, "models/stories260K.gguf", 1);
	params_init(&p);
	p.temperature = 0;
	p.max_tokens = 30;
	CHECK_INT(tg_run(&t, prompt, 5, &p, 1, &res), 0);
	CHECK_INT(res.stats.n_eval, 5);
	full = xstrdup(t.text[0].buf);
	gen_result_release(&res);
	CHECK_INT(tg_run(&t, prompt, 7, &p, 1, &res), 0);
	CHECK_INT(res.stats.n_prompt, 7);
	CHECK_INT(res.stats.n_eval, 2);
	gen_result_release(&res);
	/* The same prompt again: only its last token is evaluated. */
	CHECK_INT(tg_run(&t, prompt, 5, &p, 1, &res), 0);
	CHECK_INT(res.stats.n_eval, 1);
	CHECK_STR(t.text[0].buf, full);
	gen_result_release(&res);
	/* A stop string: the text ends right before it. */
	CHECK_INT(params_set(&p, "stop", "Lily", &t.err), 0);
	CHECK_INT(tg_run(&t, prompt, 5, &p, 1, &res), 0);
	CHECK_INT(res.stats.finish, GEN_FINISH_STOP);
	CHECK_STR(res.stats.stop, "Lily");
	CHECK(strstr(full, "Lily") != NULL);
	CHECK_INT(t.text[0].len, strstr(full, "Lily") - full);
	CHECK(strncmp(full, t.text[0].buf, t.text[0].len) == 0);
	gen_result_release(&res);
	/* Cancel after three pieces of text. */
	CHECK_INT(params_set(&p, "stop", "", &t.err), 0);
	t.cancel_after = 3;
	CHECK_INT(tg_run(&t, prompt, 5, &p, 1, &res), 0);
	CHECK_INT(res.stats.finish, GEN_FINISH_CANCELLED);
	CHECK_INT(res.stats.n_gen, 3);
	CHECK_INT(t.n_done[0], 1);
	gen_result_release(&res);
	/* Bad parameters: refused before the column starts, no on_done. */
	t.cancel_after = 0;
	atomic_store(&t.cancel, 0);
	p.top_p = 7;
	CHECK(tg_run(&t, prompt, 5, &p, 1, &res) < 0);
	CHECK_CONTAINS(t.err.msg, "top_p");
	CHECK_INT(t.n_done[0], 0);
	gen_result_release(&res);
	/* A prompt longer than the context. */
	{
		int32_t *big = xcalloc(600, sizeof *big);

		CHECK_INT(tg_run(&t, big, 600, &p, 1, &res), ERR_RANGE);
		CHECK_CONTAINS(t.err.msg, "does not fit the context of 512");
		gen_result_release(&res);
		free(big);
	}
	params_release(&p);
	free(full);
	tg_close(&t);
}
