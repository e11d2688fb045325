/*
 * worker: the engine thread, its request queue and its event queue.  See
 * worker.h for the contract.
 *
 * Requests: worker_load and worker_generate copy the request (strings,
 * turns, parameters) into a struct worker_req and append it to a list
 * under the mutex; the engine thread sleeps on the condition variable
 * until one arrives, takes it as RUNNING and works on it without the
 * lock.  Cancel flags live in the request (atomic), so worker_cancel only
 * needs the lock to find the request, never waits for the engine.
 *
 * Events: a queue under the same mutex.  The first event posted into an
 * empty queue writes one byte to a non-blocking pipe; worker_poll drains
 * the pipe when it finds the queue empty, under the lock, so the pipe is
 * readable exactly while events are pending (a wakeup may stand for many
 * events).  Text of one column posted while the previous event is that
 * column's TOKEN is appended to it, so a slow UI gets fewer, longer
 * events.  The last event of a request is posted in the same critical
 * section that clears RUNNING: worker_busy is 0 once it can be seen.
 *
 * Each column's DONE is posted from gen_run's on_done, the moment that
 * column ends; the engine thread counts them, and the one that completes
 * the request is the last event (the final CONTEXT just before it).
 * Columns gen_run never started (it refused the request) get their DONE,
 * with the error, after it returns.
 *
 * Threads: the engine thread owns the llm (every Vulkan object); the UI
 * thread calls the public functions.  Only the queues, RUNNING and QUIT
 * are shared, under the mutex.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"
#include "util.h"

/* Seconds between two CONTEXT events while an answer grows. */
#define WORKER_CONTEXT_INTERVAL 0.25

enum worker_req_type {
	WORKER_REQ_LOAD,
	WORKER_REQ_GENERATE,
};

struct worker_req {
	struct worker_req *next;
	enum worker_req_type type;
	/* LOAD (strings owned) */
	struct worker_load_opts load;
	/* GENERATE (strings owned) */
	char *system;
	char *chat_format;
	struct chat_turn *turns;
	size_t n_turns;
	size_t n_columns;
	struct gen_params params[WORKER_MAX_COLUMNS];
	int same_seed;
	int32_t probs_top;
	atomic_int cancel;
	atomic_int cancel_cols[WORKER_MAX_COLUMNS];
};

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fds[2]; /* wakeup pipe: read end for the UI */
	/* Shared, under mu: */
	struct worker_req *head, *tail;
	struct worker_req *running;
	int quit;
	struct worker_event *ev; /* queue: ev[ev_first .. ev_first+ev_n) */
	size_t ev_first, ev_n, ev_cap;
	int signalled; /* a wakeup byte is in the pipe */
	/* UI thread only: */
	int load_posted;
	/* Engine thread only: */
	struct llm *llm;
	struct worker_req *cur;
	double progress_posted;		  /* last LOADING fraction posted */
	double ctx_time;		  /* when the last CONTEXT was posted */
	int ctx_used;			  /* what it said */
	size_t n_dropped;		  /* turns ctx_shift left out of CUR */
	int col_done[WORKER_MAX_COLUMNS]; /* CUR's column has its DONE */
	size_t n_col_done;
};

/* Free what request R owns, and R. */
static void
worker_req_free(struct worker_req *r)
{
	size_t i;

	if (r == NULL)
		return;
	free((char *)r->load.model_path);
	free((char *)r->load.chat_format);
	free(r->system);
	free(r->chat_format);
	for (i = 0; i < r->n_turns; i++)
		free((char *)r->turns[i].text);
	free(r->turns);
	for (i = 0; i < r->n_columns; i++)
		params_release(&r->params[i]);
	free(r);
}

void
worker_step_free(struct worker_step *step)
{
	size_t i;

	if (step == NULL)
		return;
	for (i = 0; i < step->n; i++)
		free(step->text[i]);
	free(step->text);
	free(step->ids);
	free(step);
}

void
worker_event_release(struct worker_event *ev)
{
	worker_step_free(ev->step);
	free(ev->text);
	free(ev->info.name);
	free(ev->info.path);
	free(ev->info.chat_format);
	free(ev->info.identity);
	free(ev->info.device);
	free(ev->info.chat_format_why);
	memset(ev, 0, sizeof *ev);
}

/* Append EV to the queue (mu held); the queue owns what EV points to. */
static void
worker_push_locked(struct worker *w, struct worker_event *ev)
{
	struct worker_event *last =
	    w->ev_n > 0 ? &w->ev[w->ev_first + w->ev_n - 1] : NULL;
	char byte = 1;

	if (ev->type == WORKER_EV_TOKEN && last != NULL &&
	    last->type == WORKER_EV_TOKEN && last->column == ev->column) {
		last->text = xrealloc(last->text, last->len + ev->len + 1);
		memcpy(last->text + last->len, ev->text, ev->len + 1);
		last->len += ev->len;
		worker_event_release(ev);
		return;
	}
	if (w->ev_first + w->ev_n == w->ev_cap) {
		if (w->ev_first > 0) {
			memmove(w->ev, w->ev + w->ev_first,
			    w->ev_n * sizeof *w->ev);
			w->ev_first = 0;
		} else {
			w->ev_cap = w->ev_cap ? 2 * w->ev_cap : 16;
			w->ev = xreallocarray(w->ev, w->ev_cap, sizeof *w->ev);
		}
	}
	w->ev[w->ev_first + w->ev_n++] = *ev;
	if (!w->signalled) {
		w->signalled = 1;
		/* The pipe holds at most this one byte: it cannot be full. */
		if (write(w->fds[1], &byte, 1) < 0)
			w->signalled = 0;
	}
}

/*
 * Post EV (taking what it points to); LAST: it ends the running request,
 * which stops counting as busy in the same step.
 */
static void
worker_post(struct worker *w, struct worker_event *ev, int last)
{
	pthread_mutex_lock(&w->mu);
	worker_push_locked(w, ev);
	if (last)
		w->running = NULL;
	pthread_mutex_unlock(&w->mu);
}

static void
worker_post_simple(
    struct worker *w, enum worker_event_type type, int column, double progress)
{
	struct worker_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.column = column;
	ev.progress = progress;
	worker_post(w, &ev, 0);
}

static void
worker_post_error(struct worker *w, const struct err *err, enum llm_stage stage)
{
	struct worker_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = WORKER_EV_ERROR;
	ev.err = *err;
	ev.stage = stage;
	worker_post(w, &ev, 1);
}

static void
worker_post_context(struct worker *w, int used, size_t n_dropped)
{
	struct worker_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = WORKER_EV_CONTEXT;
	ev.n_ctx_used = used;
	ev.n_dropped = n_dropped;
	w->ctx_time = util_now();
	w->ctx_used = used;
	worker_post(w, &ev, 0);
}

static void
worker_on_load_progress(void *ud, double fraction)
{
	struct worker *w = ud;

	/* Every percent is enough for a progress bar. */
	if (fraction - w->progress_posted < 0.01 && fraction < 1.0)
		return;
	w->progress_posted = fraction;
	worker_post_simple(w, WORKER_EV_LOADING, 0, fraction);
}

static void
worker_do_load(struct worker *w, struct worker_req *r)
{
	struct worker_event ev;
	struct llm_opts o;
	enum llm_stage stage;
	struct err err;

	llm_free(w->llm);
	w->llm = NULL;
	w->progress_posted = 0;
	worker_post_simple(w, WORKER_EV_LOADING, 0, 0.0);
	llm_opts_init(&o);
	o.path = r->load.model_path;
	o.device = r->load.device;
	o.cfg.n_ctx = r->load.n_ctx > 0 ? (uint32_t)r->load.n_ctx : 0;
	o.chat_format = r->load.chat_format;
	o.progress = worker_on_load_progress;
	o.ud = w;
	/* loading in the background: compile while the user types */
	o.warm = 1;
	err_clear(&err);
	if (llm_open(&o, &w->llm, &stage, &err) < 0) {
		worker_post_error(w, &err, stage);
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.type = WORKER_EV_LOADED;
	ev.progress = 1.0;
	ev.info.name = xstrdup(w->llm->name);
	ev.info.path = xstrdup(r->load.model_path);
	ev.info.chat_format = xstrdup(chat_format_name(w->llm->fmt));
	ev.info.chat_format_why = xstrdup(w->llm->fmt_why);
	ev.info.identity = xstrdup(w->llm->identity);
	ev.info.file_size = w->llm->file_size;
	ev.info.n_ctx = (int)engine_config(w->llm->e)->n_ctx;
	ev.info.n_vocab = (int)engine_n_vocab(w->llm->e);
	ev.info.device = xstrdup(w->llm->dev->info.name);
	worker_post(w, &ev, 1);
}

/* The longest sequence of the running request's columns. */
static int
worker_used(struct worker *w, size_t n_columns)
{
	uint32_t used = 0, n;
	size_t c;

	for (c = 0; c < n_columns; c++)
		if ((n = engine_seq_len(w->llm->e, (int32_t)c)) > used)
			used = n;
	return (int)used;
}

static void
worker_on_text(void *ud, size_t col, const char *text, size_t len)
{
	struct worker *w = ud;
	struct worker_event ev;
	int used;

	memset(&ev, 0, sizeof ev);
	ev.type = WORKER_EV_TOKEN;
	ev.column = (int)col;
	ev.text = xstrndup(text, len);
	ev.len = len;
	worker_post(w, &ev, 0);
	if (util_now() - w->ctx_time >= WORKER_CONTEXT_INTERVAL &&
	    (used = worker_used(w, w->cur->n_columns)) != w->ctx_used)
		worker_post_context(w, used, 0);
}

/* Add ID to STEP's names unless it is there (room: see worker_on_step). */
static void
worker_step_name(struct worker *w, struct worker_step *st, int32_t id)
{
	struct sbuf sb;
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->ids[i] == id)
			return;
	sbuf_init(&sb);
	if (tokenizer_piece(w->llm->tok, id, TOK_DECODE_SPECIAL, &sb, NULL) < 0)
		sbuf_adds(&sb, "?");
	st->ids[st->n] = id;
	st->text[st->n++] = sbuf_detach(&sb);
}

static void
worker_on_step(void *ud, size_t col, const struct sampler_rec *rec)
{
	struct worker *w = ud;
	struct worker_step *st = xcalloc(1, sizeof *st);
	struct worker_event ev;
	size_t room = 1 + (size_t)SAMPLER_REC_STAGES * SAMPLER_REC_TOP;
	int32_t k, j;

	st->rec = *rec;
	st->ids = xcalloc(room, sizeof *st->ids);
	st->text = xcalloc(room, sizeof *st->text);
	worker_step_name(w, st, rec->token);
	for (k = 0; k < rec->n_stages; k++)
		for (j = 0; j < rec->stage[k].n; j++)
			worker_step_name(w, st, rec->stage[k].cand[j].id);
	memset(&ev, 0, sizeof ev);
	ev.type = WORKER_EV_STEP;
	ev.column = (int)col;
	ev.step = st;
	worker_post(w, &ev, 0);
}

static void
worker_on_prefill(void *ud, size_t done, size_t total)
{
	struct worker *w = ud;

	worker_post_simple(w, WORKER_EV_PREFILL, 0,
	    total > 0 ? (double)done / (double)total : 1.0);
}

/*
 * Post column C's DONE with statistics ST (ERR: failed, with that
 * error), once; the request's last one follows the final CONTEXT and
 * ends the request.
 */
static void
worker_post_done(struct worker *w, size_t c, const struct gen_stats *st,
    const struct err *err)
{
	struct worker_event ev;
	int last;

	if (w->col_done[c])
		return;
	w->col_done[c] = 1;
	last = ++w->n_col_done == w->cur->n_columns;
	if (last)
		worker_post_context(
		    w, worker_used(w, w->cur->n_columns), w->n_dropped);
	memset(&ev, 0, sizeof ev);
	ev.type = WORKER_EV_DONE;
	ev.column = (int)c;
	ev.stats = *st;
	ev.stats.stop = NULL;
	if (err != NULL) {
		ev.stats.finish = GEN_FINISH_ERROR;
		ev.err = *err;
	}
	worker_post(w, &ev, last);
}

static void
worker_on_done(
    void *ud, size_t col, const struct gen_result *res, const struct err *err)
{
	worker_post_done(ud, col, &res->stats, err);
}

static void
worker_do_generate(struct worker *w, struct worker_req *r)
{
	struct gen_result res[WORKER_MAX_COLUMNS];
	struct tokenizer_ids ids;
	struct gen_request req;
	const char *system = r->system;
	size_t c, reserve = 0;
	struct err err;
	int rc;

	err_clear(&err);
	if (w->llm == NULL || w->llm->e == NULL) {
		err_set(&err, ERR_USAGE, "no model is loaded");
		worker_post_error(w, &err, LLM_STAGE_OPTIONS);
		return;
	}
	if (system == NULL)
		system = r->params[0].system_prompt;
	if (r->chat_format != NULL &&
	    llm_use_format(w->llm, r->chat_format, &err) < 0) {
		worker_post_error(w, &err, LLM_STAGE_OPTIONS);
		return;
	}
	for (c = 0; c < r->n_columns; c++)
		if (llm_reserve(w->llm, r->params[c].max_tokens) > reserve)
			reserve = llm_reserve(w->llm, r->params[c].max_tokens);
	tokenizer_ids_init(&ids);
	w->n_dropped = 0;
	if ((rc = llm_ensure_seqs(w->llm, (uint32_t)r->n_columns, &err)) < 0 ||
	    (rc = llm_render(w->llm, system, r->turns, r->n_turns, reserve,
		 r->params[0].ctx_shift != 0, &ids, &w->n_dropped, NULL,
		 &err)) < 0) {
		tokenizer_ids_release(&ids);
		worker_post_error(w, &err, LLM_STAGE_OPTIONS);
		return;
	}
	worker_post_context(w, (int)ids.n, w->n_dropped);
	if (r->same_seed) {
		uint64_t seed = r->params[0].seed != 0 ? r->params[0].seed
						       : rng_random_seed();

		for (c = 0; c < r->n_columns; c++)
			r->params[c].seed = seed;
	}
	memset(&req, 0, sizeof req);
	req.prompt = ids.ids;
	req.n_prompt = ids.n;
	req.n_cols = r->n_columns;
	req.params = r->params;
	req.decode_flags = TOK_DECODE_STRIP_PREFIX;
	req.on_text = worker_on_text;
	req.ud = w;
	req.cancel = &r->cancel;
	req.cancel_cols = r->cancel_cols;
	req.on_prefill = worker_on_prefill;
	req.on_done = worker_on_done;
	if (r->probs_top > 0) {
		req.probs_top = r->probs_top;
		req.on_step = worker_on_step;
	}
	llm_stop_rules(w->llm, &req);
	memset(w->col_done, 0, sizeof w->col_done);
	w->n_col_done = 0;
	for (c = 0; c < r->n_columns; c++)
		gen_result_init(&res[c]);
	worker_post_simple(w, WORKER_EV_PREFILL, 0, 0.0);
	rc = gen_run(w->llm->e, w->llm->tok, &req, res, &err);
	/* Columns gen_run refused to start (rc < 0 then). */
	for (c = 0; c < r->n_columns; c++)
		worker_post_done(w, c, &res[c].stats, rc < 0 ? &err : NULL);
	for (c = 0; c < r->n_columns; c++)
		gen_result_release(&res[c]);
	tokenizer_ids_release(&ids);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_req *r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->quit && w->head == NULL)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		r = w->head;
		w->head = r->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->running = r;
		pthread_mutex_unlock(&w->mu);
		w->cur = r;
		if (r->type == WORKER_REQ_LOAD)
			worker_do_load(w, r);
		else
			worker_do_generate(w, r);
		w->cur = NULL;
		pthread_mutex_lock(&w->mu);
		w->running = NULL;
		worker_req_free(r);
	}
	pthread_mutex_unlock(&w->mu);
	llm_free(w->llm);
	w->llm = NULL;
	return NULL;
}

int
worker_new(struct worker **out, struct err *err)
{
	struct worker *w = xcalloc(1, sizeof *w);
	int rc;

	*out = NULL;
	if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		rc = err_set(err, ERR_IO,
		    "cannot make the engine's wakeup "
		    "pipe: %s",
		    strerror(errno));
		free(w);
		return rc;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		err_set(err, ERR_NOMEM, "cannot start the engine thread: %s",
		    strerror(rc));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		close(w->fds[0]);
		close(w->fds[1]);
		free(w);
		return ERR_NOMEM;
	}
	*out = w;
	return 0;
}

/* Set every cancel flag of R. */
static void
worker_req_cancel(struct worker_req *r, int column)
{
	if (r->type != WORKER_REQ_GENERATE)
		return;
	if (column < 0)
		atomic_store(&r->cancel, 1);
	else if ((size_t)column < r->n_columns)
		atomic_store(&r->cancel_cols[column], 1);
}

void
worker_free(struct worker *w)
{
	struct worker_req *r, *next;
	size_t i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	if (w->running != NULL)
		worker_req_cancel(w->running, -1);
	for (r = w->head; r != NULL; r = next) {
		next = r->next;
		worker_req_free(r);
	}
	w->head = w->tail = NULL;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	for (i = 0; i < w->ev_n; i++)
		worker_event_release(&w->ev[w->ev_first + i]);
	free(w->ev);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	close(w->fds[0]);
	close(w->fds[1]);
	free(w);
}

int
worker_fd(const struct worker *w)
{
	return w->fds[0];
}

/* Queue R. */
static void
worker_enqueue(struct worker *w, struct worker_req *r)
{
	pthread_mutex_lock(&w->mu);
	if (w->tail != NULL)
		w->tail->next = r;
	else
		w->head = r;
	w->tail = r;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
worker_load(
    struct worker *w, const struct worker_load_opts *opts, struct err *err)
{
	struct worker_req *r;

	if (opts->model_path == NULL || opts->model_path[0] == '\0')
		return err_set(err, ERR_USAGE, "no model file given");
	if (opts->n_ctx < 0)
		return err_set(err, ERR_USAGE, "context length %d is negative",
		    opts->n_ctx);
	r = xcalloc(1, sizeof *r);
	r->type = WORKER_REQ_LOAD;
	r->load = *opts;
	r->load.model_path = xstrdup(opts->model_path);
	r->load.chat_format =
	    opts->chat_format != NULL ? xstrdup(opts->chat_format) : NULL;
	w->load_posted = 1;
	worker_enqueue(w, r);
	return 0;
}

/* Check REQ's shape (ERR_USAGE naming what is wrong). */
static int
worker_check(const struct worker *w, const struct worker_gen_request *req,
    struct err *err)
{
	size_t i;

	if (!w->load_posted)
		return err_set(err, ERR_USAGE, "no model is loaded");
	if (req->n_columns < 1 || req->n_columns > WORKER_MAX_COLUMNS)
		return err_set(err, ERR_USAGE,
		    "%zu columns asked for (1 to %d)", req->n_columns,
		    WORKER_MAX_COLUMNS);
	if (req->n_turns == 0)
		return err_set(err, ERR_USAGE, "the conversation is empty");
	for (i = 0; i < req->n_turns; i++) {
		enum chat_role want = i % 2 == 0 ? CHAT_USER : CHAT_ASSISTANT;

		if (req->turns[i].text == NULL)
			return err_set(
			    err, ERR_USAGE, "turn %zu has no text", i + 1);
		if (req->turns[i].role != want)
			return err_set(err, ERR_USAGE,
			    "turn %zu is the %s's: turns alternate, the "
			    "user's first",
			    i + 1,
			    req->turns[i].role == CHAT_USER ? "user"
							    : "assistant");
	}
	if (req->turns[req->n_turns - 1].role != CHAT_USER)
		return err_set(
		    err, ERR_USAGE, "the last turn must be the user's");
	return 0;
}

int
worker_generate(
    struct worker *w, const struct worker_gen_request *req, struct err *err)
{
	struct worker_req *r;
	size_t i;
	int rc;

	if ((rc = worker_check(w, req, err)) < 0)
		return rc;
	r = xcalloc(1, sizeof *r);
	r->type = WORKER_REQ_GENERATE;
	r->system = req->system != NULL ? xstrdup(req->system) : NULL;
	r->chat_format =
	    req->chat_format != NULL ? xstrdup(req->chat_format) : NULL;
	r->turns = xcalloc(req->n_turns, sizeof *r->turns);
	for (i = 0; i < req->n_turns; i++) {
		r->turns[i].role = req->turns[i].role;
		r->turns[i].text = xstrdup(req->turns[i].text);
	}
	r->n_turns = req->n_turns;
	for (i = 0; i < req->n_columns; i++)
		params_copy(&r->params[i], &req->params[i]);
	r->n_columns = req->n_columns;
	r->same_seed = req->same_seed;
	r->probs_top = req->probs_top;
	worker_enqueue(w, r);
	return 0;
}

void
worker_cancel(struct worker *w, int column)
{
	struct worker_req *r;

	pthread_mutex_lock(&w->mu);
	if (w->running != NULL && w->running->type == WORKER_REQ_GENERATE)
		worker_req_cancel(w->running, column);
	else
		for (r = w->head; r != NULL; r = r->next)
			worker_req_cancel(r, column);
	pthread_mutex_unlock(&w->mu);
}

int
worker_busy(const struct worker *w)
{
	struct worker *m = (struct worker *)w;
	int busy;

	/* The lock is the only thing changed: the state is only read. */
	pthread_mutex_lock(&m->mu);
	busy = m->running != NULL || m->head != NULL;
	pthread_mutex_unlock(&m->mu);
	return busy;
}

int
worker_poll(struct worker *w, struct worker_event *ev)
{
	char buf[64];

	pthread_mutex_lock(&w->mu);
	if (w->ev_n == 0) {
		while (read(w->fds[0], buf, sizeof buf) > 0)
			;
		w->signalled = 0;
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	*ev = w->ev[w->ev_first++];
	if (--w->ev_n == 0)
		w->ev_first = 0;
	pthread_mutex_unlock(&w->mu);
	return 1;
}
