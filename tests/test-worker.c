/*
 * test-worker: the engine thread (src/worker.h) and the model bundle
 * (src/llm.h) on a random-weight model written by tests/model-gen.c, on
 * the default Vulkan device (lavapipe in CI; skipped without one).
 *
 * The model has no chat template, so it is loaded with the chatml format
 * forced: its vocabulary lacks <|im_start|>, the markers go in as text,
 * which is all these tests need (they check structure and statistics,
 * not meaning).  Answers are greedy with the EOS token banned, so each
 * runs to its token limit and is the same every time.
 */
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "harness.h"
#include "llm.h"
#include "model-gen.h"
#include "util.h"
#include "vkt.h"
#include "worker.h"

/* The most events of one request tw keeps in order. */
#define TW_LOG 4096

/* What the events of one request said. */
struct tw {
	struct worker *w;
	char *path;
	struct sbuf text[WORKER_MAX_COLUMNS];
	struct gen_stats done[WORKER_MAX_COLUMNS];
	int n_done;
	int n_tokens;	     /* TOKEN events */
	int n_loading;	     /* LOADING events */
	double last_loading; /* their last progress */
	int loaded, errors;
	struct worker_model_info info;
	struct err err; /* of the last ERROR or failed DONE */
	enum llm_stage stage;
	int n_ctx_used;
	size_t n_dropped;
	int n_steps[WORKER_MAX_COLUMNS]; /* STEP events per column */
	int cancel_at; /* cancel column cancel_col after this many TOKENs */
	int cancel_col;
	/* Every TOKEN and DONE of the last request, in order (TW_LOG). */
	enum worker_event_type log_type[TW_LOG];
	int log_col[TW_LOG];
	int n_log;
};

/* A small random model; the path is kept in t->path. */
static void
tw_model(struct tw *t, int n_ctx)
{
	struct modelgen_shape shape = { .n_vocab = 320,
		.n_embd = 64,
		.n_layer = 2,
		.n_head = 4,
		.n_head_kv = 2,
		.n_ff = 128,
		.n_ctx = n_ctx };
	struct vk_device *dev;
	struct err err;

	/* Skips the test when the machine has no Vulkan device. */
	dev = vkt_open();
	vkt_close(dev);
	t->path = xstrdup(test_tmpfile("worker.gguf"));
	if (modelgen_write(t->path, &shape, GGML_TYPE_F32, 11, &err) < 0)
		CHECK_MSG(0, "modelgen_write: %s", err.msg);
}

static void
tw_init(struct tw *t)
{
	size_t i;
	struct err err;

	memset(t, 0, sizeof *t);
	for (i = 0; i < WORKER_MAX_COLUMNS; i++)
		sbuf_init(&t->text[i]);
	t->cancel_at = -1;
	if (worker_new(&t->w, &err) < 0)
		CHECK_MSG(0, "worker_new: %s", err.msg);
}

static void
tw_info_release(struct worker_model_info *info)
{
	struct worker_event ev;

	memset(&ev, 0, sizeof ev);
	ev.info = *info;
	worker_event_release(&ev);
	memset(info, 0, sizeof *info);
}

static void
tw_free(struct tw *t)
{
	size_t i;

	worker_free(t->w);
	for (i = 0; i < WORKER_MAX_COLUMNS; i++)
		sbuf_release(&t->text[i]);
	tw_info_release(&t->info);
	free(t->path);
}

/* Forget what the last request said. */
static void
tw_reset(struct tw *t)
{
	size_t i;

	for (i = 0; i < WORKER_MAX_COLUMNS; i++)
		sbuf_reset(&t->text[i]);
	memset(t->done, 0, sizeof t->done);
	memset(t->n_steps, 0, sizeof t->n_steps);
	t->n_done = t->n_tokens = t->errors = 0;
	t->cancel_at = -1;
	t->n_log = 0;
}

/* Log EV's type and column. */
static void
tw_log(struct tw *t, const struct worker_event *ev)
{
	CHECK(t->n_log < TW_LOG);
	if (t->n_log == TW_LOG)
		return;
	t->log_type[t->n_log] = ev->type;
	t->log_col[t->n_log++] = ev->column;
}

/* Where column COL's DONE is in the log, or -1. */
static int
tw_done_at(const struct tw *t, int col)
{
	int i;

	for (i = 0; i < t->n_log; i++)
		if (t->log_type[i] == WORKER_EV_DONE && t->log_col[i] == col)
			return i;
	return -1;
}

/* How many TOKEN events of column COL the log has after position I. */
static int
tw_tokens_after(const struct tw *t, int i, int col)
{
	int n = 0;

	for (i++; i < t->n_log; i++)
		n += t->log_type[i] == WORKER_EV_TOKEN && t->log_col[i] == col;
	return n;
}

static void
tw_event(struct tw *t, struct worker_event *ev)
{
	switch (ev->type) {
	case WORKER_EV_LOADING:
		/* Each load starts at 0 and only goes up. */
		if (ev->progress == 0)
			t->last_loading = 0;
		CHECK(ev->progress >= t->last_loading);
		t->last_loading = ev->progress;
		t->n_loading++;
		break;
	case WORKER_EV_LOADED:
		t->loaded = 1;
		tw_info_release(&t->info);
		t->info = ev->info;
		memset(&ev->info, 0, sizeof ev->info);
		break;
	case WORKER_EV_PREFILL:
		CHECK(ev->progress >= 0 && ev->progress <= 1);
		break;
	case WORKER_EV_TOKEN:
		CHECK(ev->column >= 0 && ev->column < WORKER_MAX_COLUMNS);
		/* LEN bytes and a NUL (model text may hold NUL bytes). */
		CHECK(ev->text != NULL && ev->text[ev->len] == '\0');
		sbuf_add(&t->text[ev->column], ev->text, ev->len);
		tw_log(t, ev);
		if (++t->n_tokens == t->cancel_at)
			worker_cancel(t->w, t->cancel_col);
		break;
	case WORKER_EV_DONE:
		CHECK(ev->column >= 0 && ev->column < WORKER_MAX_COLUMNS);
		/* Once per column, after every TOKEN of it. */
		CHECK_MSG(tw_done_at(t, ev->column) < 0,
		    "a second DONE for column %d", ev->column);
		tw_log(t, ev);
		t->done[ev->column] = ev->stats;
		t->n_done++;
		if (ev->stats.finish == GEN_FINISH_ERROR)
			t->err = ev->err;
		break;
	case WORKER_EV_ERROR:
		t->errors++;
		t->err = ev->err;
		t->stage = ev->stage;
		break;
	case WORKER_EV_CONTEXT:
		t->n_ctx_used = ev->n_ctx_used;
		t->n_dropped = ev->n_dropped;
		break;
	case WORKER_EV_STEP:
		CHECK(ev->column >= 0 && ev->column < WORKER_MAX_COLUMNS);
		CHECK(ev->step != NULL);
		if (ev->step == NULL)
			break;
		/* the drawn token first among the ids named, with a text */
		CHECK(ev->step->n >= 1 &&
		    ev->step->ids[0] == ev->step->rec.token &&
		    ev->step->text[0] != NULL);
		CHECK(ev->step->rec.n_stages >= 2);
		t->n_steps[ev->column]++;
		break;
	}
}

/*
 * Drain events until the worker is idle and the queue empty (60 s at
 * most), waiting on its descriptor as a UI would.
 */
static void
tw_wait(struct tw *t)
{
	struct worker_event ev;
	struct pollfd pfd;
	double end = util_now() + 60;

	for (;;) {
		while (worker_poll(t->w, &ev) == 1) {
			tw_event(t, &ev);
			worker_event_release(&ev);
		}
		if (!worker_busy(t->w)) {
			while (worker_poll(t->w, &ev) == 1) {
				tw_event(t, &ev);
				worker_event_release(&ev);
			}
			return;
		}
		if (util_now() > end) {
			CHECK_MSG(0, "the worker did not finish in 60 s");
			return;
		}
		pfd.fd = worker_fd(t->w);
		pfd.events = POLLIN;
		poll(&pfd, 1, 1000);
	}
}

static void
tw_load(struct tw *t, int n_ctx)
{
	struct worker_load_opts o;
	struct err err;

	memset(&o, 0, sizeof o);
	o.model_path = t->path;
	o.device = -1;
	o.n_ctx = n_ctx;
	o.chat_format = "chatml";
	CHECK_INT(worker_load(t->w, &o, &err), 0);
	tw_wait(t);
	CHECK_MSG(t->loaded, "not loaded: %s", t->err.msg);
}

/* Greedy, EOS banned, N tokens; eos is </s> (id 2) in model-gen's vocab. */
static void
tw_params(struct gen_params *p, int n)
{
	params_init(p);
	p->temperature = 0;
	p->max_tokens = n;
	p->bias[0] = (struct logit_bias){ 2, -INFINITY };
	p->n_bias = 1;
}

/* Generate the answer to TURNS[0..n) with N_COLS columns of P. */
static void
tw_generate(struct tw *t, const struct chat_turn *turns, size_t n,
    size_t n_cols, const struct gen_params *p)
{
	struct worker_gen_request req;
	struct err err;
	size_t i;

	memset(&req, 0, sizeof req);
	req.system = "You are a test.";
	req.turns = turns;
	req.n_turns = n;
	req.n_columns = n_cols;
	for (i = 0; i < n_cols; i++)
		req.params[i] = *p;
	tw_reset(t);
	CHECK_INT(worker_generate(t->w, &req, &err), 0);
	tw_wait(t);
}

TEST(worker_load_events)
{
	struct worker_load_opts o;
	struct tw t;
	struct err err;

	tw_init(&t);
	tw_model(&t, 256);
	tw_load(&t, 0);
	CHECK(t.n_loading >= 2);
	CHECK(t.last_loading == 1.0);
	CHECK_STR(t.info.chat_format, "chatml");
	CHECK_CONTAINS(t.info.chat_format_why, "--chat-format");
	CHECK_INT(t.info.n_ctx, 256);
	CHECK_INT(t.info.n_vocab, 320);
	CHECK_INT(strlen(t.info.identity), 16);
	CHECK(t.info.file_size > 0);
	CHECK(t.info.device != NULL && t.info.device[0] != '\0');
	CHECK_STR(t.info.path, t.path);

	/* A load that fails says where; the next generate has no model. */
	memset(&o, 0, sizeof o);
	o.model_path = test_tmpfile("nonexistent.gguf");
	o.device = -1;
	t.loaded = 0;
	CHECK_INT(worker_load(t.w, &o, &err), 0);
	tw_wait(&t);
	CHECK(!t.loaded);
	CHECK_INT(t.errors, 1);
	CHECK_INT(t.stage, LLM_STAGE_FILE);
	CHECK_CONTAINS(t.err.msg, "nonexistent.gguf");
	o.model_path = t.path;
	o.chat_format = "nosuch";
	t.errors = 0;
	CHECK_INT(worker_load(t.w, &o, &err), 0);
	tw_wait(&t);
	CHECK_INT(t.errors, 1);
	CHECK_INT(t.stage, LLM_STAGE_OPTIONS);
	CHECK_CONTAINS(t.err.msg, "chatml");
	tw_free(&t);
}

TEST(worker_request_errors)
{
	struct worker_gen_request req;
	struct chat_turn turns[2] = { { CHAT_USER, "a" }, { CHAT_USER, "b" } };
	struct gen_params p;
	struct tw t;
	struct err err;

	tw_init(&t);
	tw_params(&p, 4);
	memset(&req, 0, sizeof req);
	req.turns = turns;
	req.n_turns = 1;
	req.n_columns = 1;
	req.params[0] = p;
	CHECK_INT(worker_generate(t.w, &req, &err), ERR_USAGE);
	CHECK_CONTAINS(err.msg, "no model");
	tw_model(&t, 256);
	tw_load(&t, 0);
	req.n_turns = 2;
	CHECK_INT(worker_generate(t.w, &req, &err), ERR_USAGE);
	CHECK_CONTAINS(err.msg, "turn 2");
	req.n_turns = 1;
	req.n_columns = 0;
	CHECK_INT(worker_generate(t.w, &req, &err), ERR_USAGE);
	req.n_columns = WORKER_MAX_COLUMNS + 1;
	CHECK_INT(worker_generate(t.w, &req, &err), ERR_USAGE);
	/* A bad parameter fails in the engine thread: DONE with an error. */
	req.n_columns = 1;
	req.params[0].top_p = 7;
	tw_reset(&t);
	CHECK_INT(worker_generate(t.w, &req, &err), 0);
	tw_wait(&t);
	CHECK_INT(t.n_done, 1);
	CHECK_INT(t.done[0].finish, GEN_FINISH_ERROR);
	CHECK_CONTAINS(t.err.msg, "top_p");
	params_release(&p);
	tw_free(&t);
}

TEST(worker_two_turns_reuse_the_cache)
{
	struct chat_turn turns[3] = { { CHAT_USER, "Hello there." },
		{ CHAT_ASSISTANT, NULL }, { CHAT_USER, "And then?" } };
	struct gen_params p;
	struct gen_stats s1, s2;
	struct tw t;
	char *a1, *a2;

	tw_init(&t);
	tw_model(&t, 256);
	tw_load(&t, 0);
	tw_params(&p, 12);
	tw_generate(&t, turns, 1, 1, &p);
	s1 = t.done[0];
	CHECK_INT(t.n_done, 1);
	CHECK_INT(s1.finish, GEN_FINISH_LENGTH);
	CHECK_INT(s1.n_gen, 12);
	CHECK_INT(s1.n_eval, s1.n_prompt);
	CHECK(t.text[0].len > 0);
	CHECK(t.n_tokens >= 1);
	CHECK_INT(t.n_ctx_used, s1.n_prompt + 11);
	a1 = xstrdup(t.text[0].buf);
	test_note("turn 1: %zu prompt tokens, answer '%s'", s1.n_prompt, a1);

	/* Turn 2: the first prompt (at least) comes from the cache. */
	turns[1].text = a1;
	tw_generate(&t, turns, 3, 1, &p);
	s2 = t.done[0];
	CHECK_INT(s2.finish, GEN_FINISH_LENGTH);
	CHECK(s2.n_prompt > s1.n_prompt + 3);
	CHECK(s2.n_eval >= 1);
	CHECK_MSG(s2.n_eval <= s2.n_prompt - s1.n_prompt,
	    "turn 2 evaluated %zu of %zu tokens (turn 1's prompt: %zu)",
	    s2.n_eval, s2.n_prompt, s1.n_prompt);
	a2 = xstrdup(t.text[0].buf);
	test_note(
	    "turn 2: %zu prompt tokens, %zu evaluated", s2.n_prompt, s2.n_eval);

	/* Regenerating: the whole prompt is cached, the same answer. */
	tw_generate(&t, turns, 3, 1, &p);
	CHECK_INT(t.done[0].n_prompt, s2.n_prompt);
	CHECK_INT(t.done[0].n_eval, 1);
	CHECK_STR(t.text[0].buf, a2);

	/* Editing turn 1 evaluates from the edit on. */
	turns[0].text = "Hello where.";
	tw_generate(&t, turns, 3, 1, &p);
	CHECK(t.done[0].n_eval > s2.n_prompt - s1.n_prompt);
	CHECK(t.done[0].n_eval < t.done[0].n_prompt);
	free(a1);
	free(a2);
	params_release(&p);
	tw_free(&t);
}

TEST(worker_cancel_keeps_partial_text)
{
	struct chat_turn turn = { CHAT_USER, "Tell me everything." };
	struct gen_params p;
	struct tw t;

	tw_init(&t);
	tw_model(&t, 1024);
	tw_load(&t, 0);
	tw_params(&p, 800);
	t.cancel_col = -1;
	tw_reset(&t);
	t.cancel_at = 3;
	{
		struct worker_gen_request req;
		struct err err;

		memset(&req, 0, sizeof req);
		req.turns = &turn;
		req.n_turns = 1;
		req.n_columns = 1;
		req.params[0] = p;
		CHECK_INT(worker_generate(t.w, &req, &err), 0);
		tw_wait(&t);
	}
	CHECK_INT(t.n_done, 1);
	CHECK_INT(t.done[0].finish, GEN_FINISH_CANCELLED);
	CHECK(t.done[0].n_gen >= 1);
	CHECK_MSG(t.done[0].n_gen < 800, "%zu tokens after a cancel",
	    t.done[0].n_gen);
	CHECK(t.text[0].len > 0);
	test_note("cancelled after %zu tokens", t.done[0].n_gen);

	/* A cancel with nothing running cancels the queued request. */
	{
		struct worker_gen_request req;
		struct err err;

		memset(&req, 0, sizeof req);
		req.turns = &turn;
		req.n_turns = 1;
		req.n_columns = 1;
		req.params[0] = p;
		tw_reset(&t);
		/* Block the thread with a load, then queue and cancel. */
		{
			struct worker_load_opts o;

			memset(&o, 0, sizeof o);
			o.model_path = t.path;
			o.device = -1;
			o.chat_format = "chatml";
			CHECK_INT(worker_load(t.w, &o, &err), 0);
		}
		CHECK_INT(worker_generate(t.w, &req, &err), 0);
		worker_cancel(t.w, -1);
		tw_wait(&t);
		CHECK_INT(t.n_done, 1);
		CHECK_INT(t.done[0].finish, GEN_FINISH_CANCELLED);
		CHECK_INT(t.done[0].n_gen, 0);
	}
	params_release(&p);
	tw_free(&t);
}

TEST(worker_columns_decode_together)
{
	struct chat_turn turn = { CHAT_USER, "Two ways." };
	struct gen_params p;
	struct tw t;
	char *alone;

	tw_init(&t);
	tw_model(&t, 512);
	tw_load(&t, 0);
	tw_params(&p, 16);
	tw_generate(&t, &turn, 1, 1, &p);
	alone = xstrdup(t.text[0].buf);

	/* Two greedy columns: the same text as one alone, each. */
	tw_generate(&t, &turn, 1, 2, &p);
	CHECK_INT(t.n_done, 2);
	CHECK_STR(t.text[0].buf, alone);
	CHECK_STR(t.text[1].buf, alone);
	CHECK_INT(t.done[0].n_gen, 16);
	CHECK_INT(t.done[1].n_gen, 16);
	/* The engine grew to two sequences: the prompt is evaluated once. */
	CHECK_INT(t.done[0].n_eval, t.done[0].n_prompt);
	CHECK_INT(t.done[1].n_eval, 0);

	/* Cancelling column 1 alone: column 0 runs to its limit. */
	p.max_tokens = 200;
	tw_reset(&t);
	{
		struct worker_gen_request req;
		struct err err;

		memset(&req, 0, sizeof req);
		req.turns = &turn;
		req.n_turns = 1;
		req.n_columns = 2;
		req.params[0] = p;
		req.params[1] = p;
		req.params[1].temperature = 0.8f;
		req.params[1].seed = 5;
		t.cancel_at = 4;
		t.cancel_col = 1;
		CHECK_INT(worker_generate(t.w, &req, &err), 0);
		tw_wait(&t);
	}
	CHECK_INT(t.n_done, 2);
	CHECK_INT(t.done[0].finish, GEN_FINISH_LENGTH);
	CHECK_INT(t.done[0].n_gen, 200);
	CHECK_INT(t.done[1].finish, GEN_FINISH_CANCELLED);
	CHECK(t.done[1].n_gen < 200);
	CHECK_INT(t.done[1].seed, 5);
	free(alone);
	params_release(&p);
	tw_free(&t);
}

/*
 * With probs_top a STEP per sampled token of each column, the sampler's
 * record with the texts of the tokens it names; without, none.
 */
TEST(worker_steps_per_token)
{
	struct chat_turn turn = { CHAT_USER, "Show the steps." };
	struct worker_gen_request req;
	struct gen_params p;
	struct err err;
	struct tw t;

	tw_init(&t);
	tw_model(&t, 512);
	tw_load(&t, 0);
	tw_params(&p, 6);
	tw_generate(&t, &turn, 1, 1, &p);
	CHECK_INT(t.n_steps[0], 0);

	memset(&req, 0, sizeof req);
	req.turns = &turn;
	req.n_turns = 1;
	req.n_columns = 2;
	req.params[0] = p;
	req.params[1] = p;
	req.params[1].temperature = 0.9f;
	req.params[1].top_k = 3;
	req.params[1].seed = 7;
	req.probs_top = 4;
	tw_reset(&t);
	CHECK_INT(worker_generate(t.w, &req, &err), 0);
	tw_wait(&t);
	CHECK_INT(t.n_done, 2);
	CHECK_INT(t.n_steps[0], (int)t.done[0].n_gen);
	CHECK_INT(t.n_steps[1], (int)t.done[1].n_gen);
	CHECK_INT(t.n_steps[1], 6);
	params_release(&p);
	tw_free(&t);
}

/*
 * Each column's DONE comes the moment it ends, with its own statistics:
 * one with a small token limit, then one stopped alone, while the other
 * columns go on streaming.
 */
TEST(worker_columns_end_on_their_own)
{
	struct chat_turn turn = { CHAT_USER, "Three ways." };
	struct worker_gen_request req;
	struct gen_params p;
	struct err err;
	struct tw t;
	int d, c, last;

	tw_init(&t);
	tw_model(&t, 512);
	tw_load(&t, 0);
	tw_params(&p, 60);
	memset(&req, 0, sizeof req);
	req.turns = &turn;
	req.n_turns = 1;
	req.n_columns = 3;
	req.params[0] = p;
	req.params[1] = p;
	req.params[1].max_tokens = 4;
	req.params[2] = p;
	tw_reset(&t);
	CHECK_INT(worker_generate(t.w, &req, &err), 0);
	tw_wait(&t);
	CHECK_INT(t.n_done, 3);
	d = tw_done_at(&t, 1);
	CHECK(d >= 0);
	CHECK_INT(tw_tokens_after(&t, d, 1), 0);
	for (c = 0; c < 3; c += 2)
		CHECK_MSG(tw_tokens_after(&t, d, c) >= 10,
		    "column 2 (4 tokens) ended at event %d; column %d had "
		    "%d TOKENs after it",
		    d, c + 1, tw_tokens_after(&t, d, c));
	last = tw_done_at(&t, 0) > tw_done_at(&t, 2) ? 0 : 2;
	CHECK_INT(tw_done_at(&t, last), t.n_log - 1);
	/* Its own statistics: its tokens, its speed over its own steps. */
	CHECK_INT(t.done[1].finish, GEN_FINISH_LENGTH);
	CHECK_INT(t.done[1].n_gen, 4);
	CHECK_INT(t.done[0].n_gen, 60);
	CHECK_INT(t.done[2].n_gen, 60);
	CHECK(t.done[1].gen_tps > 0 && t.done[0].gen_tps > 0);
	CHECK_MSG(t.done[1].t_gen < t.done[0].t_gen,
	    "column 2 decoded for %.3f s, column 1 for %.3f s", t.done[1].t_gen,
	    t.done[0].t_gen);
	CHECK_INT(t.done[1].n_prompt, t.done[0].n_prompt);
	test_note("column 2 ended at event %d of %d: %.1f tok/s over %.3f s", d,
	    t.n_log, t.done[1].gen_tps, t.done[1].t_gen);

	/* Column 3 stopped alone: DONE cancelled before the others end. */
	req.params[1].max_tokens = 60;
	tw_reset(&t);
	t.cancel_at = 9;
	t.cancel_col = 2;
	CHECK_INT(worker_generate(t.w, &req, &err), 0);
	tw_wait(&t);
	CHECK_INT(t.n_done, 3);
	CHECK_INT(t.done[2].finish, GEN_FINISH_CANCELLED);
	CHECK(t.done[2].n_gen >= 1);
	CHECK_MSG(t.done[2].n_gen < 20, "column 3 cancelled after %zu tokens",
	    t.done[2].n_gen);
	d = tw_done_at(&t, 2);
	CHECK_INT(tw_tokens_after(&t, d, 2), 0);
	for (c = 0; c < 2; c++) {
		CHECK_INT(t.done[c].finish, GEN_FINISH_LENGTH);
		CHECK_INT(t.done[c].n_gen, 60);
		CHECK(tw_done_at(&t, c) > d);
		CHECK_MSG(tw_tokens_after(&t, d, c) >= 10,
		    "column 3 cancelled at event %d; column %d had %d "
		    "TOKENs after it",
		    d, c + 1, tw_tokens_after(&t, d, c));
	}
	CHECK(t.done[2].t_gen < t.done[0].t_gen);
	params_release(&p);
	tw_free(&t);
}

TEST(worker_context_shift)
{
	struct chat_turn turns[5] = { { CHAT_USER, "One two three four." },
		{ CHAT_ASSISTANT, "Five six seven eight nine." },
		{ CHAT_USER, "Ten eleven twelve thirteen." },
		{ CHAT_ASSISTANT, "Fourteen fifteen sixteen." },
		{ CHAT_USER, "Seventeen." } };
	struct gen_params p;
	struct tw t;
	size_t n_full;

	tw_init(&t);
	tw_model(&t, 2048);
	tw_load(&t, 0);
	tw_params(&p, 4);
	tw_generate(&t, turns, 5, 1, &p);
	n_full = t.done[0].n_prompt;
	CHECK_INT(t.n_dropped, 0);
	test_note("5 turns: %zu tokens", n_full);

	/* A context that holds the last turns but not all: an error when
	 * the settings say so (ctx_shift=0). */
	tw_load(&t, (int)n_full - 20);
	p.ctx_shift = 0;
	tw_generate(&t, turns, 5, 1, &p);
	CHECK_INT(t.errors, 1);
	CHECK_INT(t.err.code, ERR_RANGE);
	CHECK_CONTAINS(t.err.msg, "does not fit the context");
	CHECK_CONTAINS(t.err.msg, "--ctx-shift");

	/* With ctx_shift (the default) the oldest pair goes. */
	tw_load(&t, (int)n_full - 20);
	p.ctx_shift = 1;
	tw_generate(&t, turns, 5, 1, &p);
	CHECK_INT(t.errors, 0);
	CHECK_INT(t.n_dropped, 2);
	CHECK_INT(t.done[0].finish, GEN_FINISH_LENGTH);
	CHECK(t.done[0].n_prompt + 4 <= n_full - 20);
	params_release(&p);
	tw_free(&t);
}

TEST(worker_free_while_busy)
{
	struct chat_turn turn = { CHAT_USER, "Go on forever." };
	struct worker_gen_request req;
	struct worker_event ev;
	struct gen_params p;
	struct pollfd pfd;
	struct tw t;
	struct err err;
	double t0;
	int got = 0;

	tw_init(&t);
	tw_model(&t, 2048);
	tw_load(&t, 0);
	tw_params(&p, -1);
	memset(&req, 0, sizeof req);
	req.turns = &turn;
	req.n_turns = 1;
	req.n_columns = 1;
	req.params[0] = p;
	CHECK_INT(worker_generate(t.w, &req, &err), 0);
	CHECK_INT(worker_generate(t.w, &req, &err), 0);
	t0 = util_now();
	while (!got && util_now() - t0 < 30) {
		pfd.fd = worker_fd(t.w);
		pfd.events = POLLIN;
		poll(&pfd, 1, 1000);
		while (worker_poll(t.w, &ev) == 1) {
			got |= ev.type == WORKER_EV_TOKEN;
			worker_event_release(&ev);
		}
	}
	CHECK(got);
	CHECK(worker_busy(t.w));
	t0 = util_now();
	worker_free(t.w);
	t.w = NULL;
	CHECK_MSG(
	    util_now() - t0 < 5, "worker_free took %.1f s", util_now() - t0);
	params_release(&p);
	tw_free(&t);
}

static void
tw_collect(void *ud, size_t col, const char *text, size_t len)
{
	struct sbuf *out = ud;

	(void)col;
	sbuf_add(out, text, len);
}

/*
 * A model that names its own system prompt (the pocket model's
 * vkchat.system_prompt) gets it in every conversation without one; ""
 * still means none.
 */
TEST(llm_model_system_prompt)
{
	const struct chat_turn turn = { CHAT_USER, "hello" };
	const char *path = test_srcdir_path("data/pocket.gguf");
	struct tokenizer_ids deflt, given, none;
	struct llm_opts o;
	struct llm *l = NULL;
	enum llm_stage stage;
	struct err err;
	size_t i;

	if (path == NULL)
		test_skip("data/pocket.gguf not trained yet (tools/train)");
	llm_opts_init(&o);
	o.path = path;
	if (llm_open(&o, &l, &stage, &err) < 0) {
		CHECK_MSG(0, "llm_open: %s", err.msg);
		return;
	}
	CHECK(l->system != NULL);
	CHECK(l->system != NULL && strstr(l->system, "pocket") != NULL);
	tokenizer_ids_init(&deflt);
	tokenizer_ids_init(&given);
	tokenizer_ids_init(&none);
	CHECK_INT(
	    llm_render(l, NULL, &turn, 1, 4, 0, &deflt, NULL, NULL, &err), 0);
	CHECK_INT(
	    llm_render(l, l->system, &turn, 1, 4, 0, &given, NULL, NULL, &err),
	    0);
	CHECK_INT(
	    llm_render(l, "", &turn, 1, 4, 0, &none, NULL, NULL, &err), 0);
	CHECK_INT(deflt.n, given.n);
	for (i = 0; i < deflt.n && i < given.n; i++)
		CHECK_INT(deflt.ids[i], given.ids[i]);
	CHECK(none.n + 10 < deflt.n);
	tokenizer_ids_release(&deflt);
	tokenizer_ids_release(&given);
	tokenizer_ids_release(&none);
	llm_free(l);
}

/* A tokenizer that does not match token_embd's rows is refused at load,
 * naming both numbers. */
TEST(llm_vocab_mismatch_refused)
{
	struct modelgen_shape shape = { .n_vocab = 320,
		.n_embd = 64,
		.n_layer = 1,
		.n_head = 4,
		.n_ff = 128,
		.n_tok = 300 };
	const char *path = test_tmpfile("vocab-mismatch.gguf");
	struct llm_opts o;
	struct llm *l = NULL;
	enum llm_stage stage;
	struct err err;

	if (modelgen_write(path, &shape, GGML_TYPE_F32, 3, &err) < 0) {
		CHECK_MSG(0, "modelgen_write: %s", err.msg);
		return;
	}
	llm_opts_init(&o);
	o.path = path;
	CHECK_INT(llm_open(&o, &l, &stage, &err), ERR_MODEL);
	CHECK_INT(stage, LLM_STAGE_FILE);
	CHECK_CONTAINS(err.msg, "the tokenizer has 300 tokens");
	CHECK_CONTAINS(err.msg, "token_embd.weight has 320 rows");
	CHECK(l == NULL);
}

TEST(llm_rules_and_gen_extras)
{
	struct chat_turn turn = { CHAT_USER, "Stop here." };
	struct tokenizer_ids ids;
	struct gen_request req;
	struct gen_result res;
	struct gen_params p;
	struct llm_opts o;
	struct llm *l = NULL;
	enum llm_stage stage;
	struct sbuf a, b;
	struct err err;
	struct tw t;
	char stop[8];
	const char *stops[1] = { stop };
	size_t i;

	memset(&t, 0, sizeof t);
	tw_model(&t, 256);
	llm_opts_init(&o);
	o.path = test_tmpfile("nonexistent.gguf");
	CHECK(llm_open(&o, &l, &stage, &err) < 0);
	CHECK_INT(stage, LLM_STAGE_FILE);
	o.path = t.path;
	o.chat_format = "chatml";
	if (llm_open(&o, &l, &stage, &err) < 0) {
		CHECK_MSG(0, "llm_open: %s", err.msg);
		free(t.path);
		return;
	}
	/* The vocabulary lacks <|im_end|>: it is matched as text. */
	CHECK_INT(l->n_eog, 0);
	CHECK(l->n_stops >= 1);
	CHECK_STR(l->stops[0], "<|im_end|>");
	CHECK_STR(chat_format_name(l->fmt), "chatml");
	/* A reopened session's format replaces it, with its own rules. */
	CHECK_INT(llm_use_format(l, "llama3", &err), 0);
	CHECK_STR(chat_format_name(l->fmt), "llama3");
	CHECK(l->n_stops >= 1 && strcmp(l->stops[0], "<|eot_id|>") == 0);
	CHECK(llm_use_format(l, "nosuch", &err) < 0);
	CHECK_CONTAINS(err.msg, "unknown chat format 'nosuch'");
	CHECK_STR(chat_format_name(l->fmt), "llama3");
	CHECK_INT(llm_use_format(l, "chatml", &err), 0);
	CHECK_STR(l->stops[0], "<|im_end|>");

	tokenizer_ids_init(&ids);
	CHECK_INT(
	    llm_render(l, NULL, &turn, 1, 4, 0, &ids, NULL, NULL, &err), 0);
	tw_params(&p, 24);
	sbuf_init(&a);
	sbuf_init(&b);
	memset(&req, 0, sizeof req);
	req.prompt = ids.ids;
	req.n_prompt = ids.n;
	req.n_cols = 1;
	req.params = &p;
	req.on_text = tw_collect;
	req.ud = &a;
	gen_result_init(&res);
	CHECK_INT(gen_run(l->e, l->tok, &req, &res, &err), 0);
	CHECK_INT(res.stats.n_gen, 24);

	/* An extra end token: the first answer token ends it at once. */
	req.eog = &res.ids.ids[0];
	req.n_eog = 1;
	req.ud = &b;
	{
		struct gen_result r2;

		gen_result_init(&r2);
		CHECK_INT(gen_run(l->e, l->tok, &req, &r2, &err), 0);
		CHECK_INT(r2.stats.finish, GEN_FINISH_STOP);
		CHECK_INT(r2.stats.n_gen, 0);
		CHECK_INT(b.len, 0);
		gen_result_release(&r2);
	}

	/* An extra stop string from the middle of the answer. */
	for (i = a.len / 2; i < a.len && (a.buf[i] & 0xc0) == 0x80; i++)
		;
	snprintf(stop, sizeof stop, "%.*s", 1, a.buf + i);
	req.eog = NULL;
	req.n_eog = 0;
	req.stops = stops;
	req.n_stops = 1;
	sbuf_reset(&b);
	{
		struct gen_result r3;

		gen_result_init(&r3);
		CHECK_INT(gen_run(l->e, l->tok, &req, &r3, &err), 0);
		CHECK_INT(r3.stats.finish, GEN_FINISH_STOP);
		CHECK(r3.stats.stop == stop);
		CHECK(b.len <= i);
		CHECK(strstr(b.buf, stop) == NULL);
		CHECK(strncmp(a.buf, b.buf, b.len) == 0);
		gen_result_release(&r3);
	}
	gen_result_release(&res);
	sbuf_release(&a);
	sbuf_release(&b);
	tokenizer_ids_release(&ids);
	params_release(&p);
	llm_free(l);
	free(t.path);
}

/* The one-thread rule of llm_open: small dispatches stay on one thread. */
TEST(llm_cpu_inline_rule)
{
	/* stories260K (1.2 MB, 5 layers), the pocket model (3.4 MB, 6) */
	CHECK_INT(llm_cpu_inline(1185376, 5), 1);
	CHECK_INT(llm_cpu_inline(3448608, 6), 1);
	/* 6 layers of 384 (13.6 MB): the pool measured 7% faster */
	CHECK_INT(llm_cpu_inline(13604352, 6), 0);
	/* smollm2-135m q8_0 */
	CHECK_INT(llm_cpu_inline(144357184, 30), 0);
	/* the boundary: 256 KiB a dispatch */
	CHECK_INT(llm_cpu_inline(8 * 256 * 1024 - 1, 1), 1);
	CHECK_INT(llm_cpu_inline(8 * 256 * 1024, 1), 0);
}
