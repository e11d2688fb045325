/*
 * chatctl: the chat controller, between the chat screen (chatscreen.c,
 * which maps keys and slash commands to the operations here), the engine
 * (the worker's requests and events) and the conversation (conv.c).  It
 * draws nothing and opens no screen.
 *
 * The conversation on screen (chatlog.c) is the session's shown branch.
 * Sending
 * stores the session (first time), then the prompt, then a partial
 * answer row, and only then asks the worker to generate, so nothing the
 * user typed can be lost to a crash; TOKEN events go to the transcript
 * and the row (at most once a second), DONE finishes the row with the
 * statistics.  /regen and /edit do not delete anything: the new answer
 * or prompt is a sibling in the message tree, and the session's leaf
 * moves to it.
 */
#include "chatctl.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatlog.h"
#include "cmd-gen.h"
#include "cmd.h"
#include "comparestate.h"
#include "comparemode.h"
#include "storage/db-compare.h"
#include "storage/db-export.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "storage/db-sessions.h"
#include "storage/db-stream.h"
#include "storage/db-templates.h"
#include "prompt.h"
#include "util.h"

/* Candidates per sampler stage kept for the inspector (steps.h). */
#define CHATCTL_PROBS_TOP 8

/* How long quitting waits for a cancelled answer to end, in seconds. */
#define CHAT_STOP_WAIT 3.0

int
chatctl_init(struct tui *t, const char *preset, struct err *err)
{
	struct db_preset p;
	int rc;

	conv_init(&t->conv, t->db);
	t->tps = -1;
	rc =
	    db_presets_get(t->db, preset != NULL ? preset : "default", &p, err);
	if (rc < 0)
		return rc;
	conv_use_params(&t->conv, p.name, &p.params, 0);
	db_presets_release(&p);
	return 0;
}

void
chatctl_release(struct tui *t)
{
	comparemode_close(t);
	chatlog_release(t);
	steps_release(&t->live);
	steps_store_release(&t->kept);
	conv_release(&t->conv);
	free(t->pending_line);
	t->pending_line = NULL;
}

void
chatctl_engine_start(struct tui *t)
{
	struct worker_load_opts opts;
	struct err err;
	struct stat st;
	sigset_t all, old;
	int rc;

	if (t->model_path == NULL) {
		t->engine = TUI_ENGINE_NOMODEL;
		tui_notice(t, 0,
		    "no model: start vkchat with -m MODEL.gguf to chat (no "
		    "pocket model is installed: 'man vkchat', FILES); "
		    "sessions (Ctrl-O), presets (Ctrl-P) and templates "
		    "(Ctrl-T) work without one");
		return;
	}
	free(t->model_name);
	t->model_name = xstrdup(chatlog_base(t->model_path));
	conv_set_model(&t->conv, t->model_path,
	    stat(t->model_path, &st) == 0 ? (int64_t)st.st_size : 0, NULL);
	err_clear(&err);
	/*
	 * The engine thread inherits a mask that blocks every signal: the
	 * terminal's signals are the UI thread's (tui.c), and must neither
	 * run their handler nor interrupt a wait on the engine's thread.
	 */
	sigfillset(&all);
	/* but a fault on that thread runs the handler that gives the
	 * terminal back (a blocked fault would kill without it) */
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = worker_new(&t->worker, &err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		t->engine = TUI_ENGINE_FAILED;
		tui_notice(t, 1, "cannot start the engine: %s", err.msg);
		return;
	}
	memset(&opts, 0, sizeof(opts));
	opts.model_path = t->model_path;
	opts.device = t->opt_device;
	opts.n_ctx = t->opt_ctx;
	opts.chat_format = t->opt_format;
	if (worker_load(t->worker, &opts, &err) < 0) {
		t->engine = TUI_ENGINE_FAILED;
		tui_notice(
		    t, 1, "cannot load '%s': %s", t->model_path, err.msg);
		return;
	}
	t->engine = TUI_ENGINE_LOADING;
	t->progress = 0;
}

int
chatctl_engine_fd(const struct tui *t)
{
	return t->worker != NULL ? worker_fd(t->worker) : -1;
}

/*
 * The answer being generated ended with FINISH and statistics GS (NULL:
 * none, the engine failed or did not answer); ERROR says what failed.
 */
static void
chatctl_finish(struct tui *t, enum gen_finish finish,
    const struct gen_stats *gs, const char *error)
{
	struct db_gen_stats st;
	struct sbuf meta;
	struct err err;
	int64_t id = 0;
	size_t n_sib = 0, pos = 0;

	transcript_finish(t->tr, t->gen_entry);
	if (conv_finish_answer(&t->conv, finish, gs, error, &st, &id, &err) < 0)
		tui_notice(t, 1, "the answer could not be saved completely: %s",
		    err.msg);
	conv_sibling_pos(&t->conv, id, &pos, &n_sib);
	if (t->live.n > 0) {
		t->live.id = id;
		steps_keep(&t->kept, &t->live);
	}
	sbuf_init(&meta);
	chatlog_meta(&meta, &st, 0, error, (int64_t)pos, (int64_t)n_sib);
	transcript_set_meta(t->tr, t->gen_entry, meta.len ? meta.buf : NULL);
	sbuf_release(&meta);
	if (finish == GEN_FINISH_ERROR &&
	    transcript_text(t->tr, t->gen_entry)[0] == '\0') {
		/* A turn that failed before any text leaves the prompt: it
		 * stays on screen and in the session, a branch of its own. */
		if (t->n_msgs > 0 &&
		    t->msgs[t->n_msgs - 1].role == DB_ROLE_USER)
			chatlog_truncate(t, t->n_msgs - 1);
		t->conv.leaf = t->n_msgs > 0 ? t->msgs[t->n_msgs - 1].id : 0;
	} else {
		chatlog_push(t, DB_ROLE_ASSISTANT,
		    transcript_text(t->tr, t->gen_entry), id, t->gen_entry);
		if (id > 0)
			t->conv.leaf = id;
	}
	if (st.tokens_per_s > 0)
		t->tps = st.tokens_per_s;
	t->generating = t->cancelling = t->prefilling = 0;
}

static void
chatctl_loaded(struct tui *t, const struct worker_model_info *info)
{
	t->engine = TUI_ENGINE_READY;
	free(t->model_name);
	t->model_name = xstrdup(info->name ? info->name : "model");
	free(t->model_format);
	t->model_format =
	    info->chat_format != NULL ? xstrdup(info->chat_format) : NULL;
	/* a reopened session keeps its own format */
	if (t->conv.session == 0 || t->conv.chat_format == NULL)
		conv_set_format(&t->conv, info->chat_format);
	free(t->device);
	t->device = info->device ? xstrdup(info->device) : NULL;
	t->n_ctx = info->n_ctx;
	conv_set_model(
	    &t->conv, NULL, (int64_t)info->file_size, info->identity);
	tui_notice(t, 0, "loaded %s (%s, context %d) on %s", t->model_name,
	    t->conv.chat_format ? t->conv.chat_format : "no chat format",
	    t->n_ctx, t->device ? t->device : "the device");
}

static void
chatctl_event(struct tui *t, const struct worker_event *ev)
{
	struct err err;

	if (comparemode_event(t, ev))
		return;
	switch (ev->type) {
	case WORKER_EV_LOADING:
		t->progress = ev->progress;
		break;
	case WORKER_EV_LOADED:
		chatctl_loaded(t, &ev->info);
		break;
	case WORKER_EV_PREFILL:
		t->prefilling = ev->progress < 1.0;
		t->progress = ev->progress;
		break;
	case WORKER_EV_TOKEN:
		t->prefilling = 0;
		if (!t->generating)
			break;
		transcript_append(t->tr, t->gen_entry, ev->text, ev->len);
		if (conv_append(&t->conv, ev->text, ev->len, &err) < 0 &&
		    !t->stream_failed) {
			t->stream_failed = 1;
			tui_notice(
			    t, 1, "saving the answer: %s (retrying)", err.msg);
		}
		break;
	case WORKER_EV_STEP:
		if (t->generating && ev->column == 0 && ev->step != NULL)
			steps_push(&t->live, ev->step);
		break;
	case WORKER_EV_CONTEXT:
		t->n_used = ev->n_ctx_used;
		if (ev->n_dropped > t->n_dropped) {
			t->n_dropped = ev->n_dropped;
			tui_notice(t, 0, CONV_DROPPED_FMT, ev->n_dropped);
		}
		break;
	case WORKER_EV_DONE:
		if (t->generating)
			chatctl_finish(t, ev->stats.finish, &ev->stats,
			    ev->stats.finish == GEN_FINISH_ERROR ? ev->err.msg
								 : NULL);
		break;
	case WORKER_EV_ERROR:
		if (t->engine == TUI_ENGINE_LOADING) {
			t->engine = TUI_ENGINE_FAILED;
			tui_notice(
			    t, 1, "loading the model failed: %s", ev->err.msg);
		} else if (t->generating) {
			chatctl_finish(t, GEN_FINISH_ERROR, NULL, ev->err.msg);
			tui_notice(t, 1, "generation failed: %s", ev->err.msg);
		} else {
			tui_notice(t, 1, "engine: %s", ev->err.msg);
		}
		break;
	}
}

void
chatctl_events(struct tui *t)
{
	struct worker_event ev;

	if (t->worker == NULL)
		return;
	while (worker_poll(t->worker, &ev) == 1) {
		chatctl_event(t, &ev);
		worker_event_release(&ev);
	}
}

void
chatctl_marks(struct tui *t)
{
	chatlog_marks(t, t->probs_colour);
	comparemode_marks(t, t->probs_colour);
}

void
chatctl_cancel(struct tui *t)
{
	if (!t->generating || t->cancelling)
		return;
	worker_cancel(t->worker, -1);
	t->cancelling = 1;
}

void
chatctl_engine_stop(struct tui *t)
{
	struct pollfd pfd;
	double end = util_now() + CHAT_STOP_WAIT;

	if (t->worker == NULL)
		return;
	chatctl_cancel(t);
	while (t->generating && util_now() < end) {
		pfd.fd = worker_fd(t->worker);
		pfd.events = POLLIN;
		poll(&pfd, 1, 100);
		chatctl_events(t);
	}
	if (t->generating && t->cmp != NULL) {
		comparemode_abort(t);
	} else if (t->generating) {
		/* The engine did not answer: store what came as stopped. */
		chatctl_finish(t, GEN_FINISH_CANCELLED, NULL, NULL);
	}
	worker_free(t->worker);
	t->worker = NULL;
}

/* Whether a new answer can start now; if not, say why and return 0. */
static int
chatctl_can_generate(struct tui *t)
{
	switch (t->engine) {
	case TUI_ENGINE_NOMODEL:
		tui_notice(t, 1,
		    "cannot send: no model (start vkchat with -m MODEL.gguf)");
		return 0;
	case TUI_ENGINE_LOADING:
		tui_notice(t, 1,
		    "the model is still loading (%d%%): send again when it is "
		    "ready",
		    (int)(t->progress * 100));
		return 0;
	case TUI_ENGINE_FAILED:
		tui_notice(t, 1, "cannot send: the model did not load");
		return 0;
	case TUI_ENGINE_READY:
		break;
	}
	if (t->generating) {
		tui_notice(t, 1,
		    "an answer is still being generated: Ctrl-C or Esc stops "
		    "it");
		return 0;
	}
	return 1;
}

static int
chatctl_ensure_session(struct tui *t, struct err *err)
{
	int rc;

	if (t->conv.session != 0)
		return 0;
	if ((rc = conv_ensure_session(&t->conv, err)) < 0)
		return rc;
	tui_save_last(t);
	return 0;
}

/*
 * Generate an answer to the conversation, which ends with prompt PARENT;
 * STORED: its partial row is stored already (conv_start_turn).
 */
static void
chatctl_generate(struct tui *t, int64_t parent, int stored)
{
	struct worker_gen_request req;
	struct err err;

	if (!stored && conv_begin_answer(&t->conv, parent, 0, &err) < 0) {
		tui_notice(t, 1, "cannot store the answer, not generating: %s",
		    err.msg);
		return;
	}
	t->stream_failed = 0;
	t->n_dropped = 0;
	t->gen_entry = transcript_add(t->tr, TRANSCRIPT_ASSISTANT,
	    chatlog_label(t->conv.model.path), "", 0);
	chatlog_request(t, &req);
	req.n_columns = 1;
	req.probs_top = CHATCTL_PROBS_TOP;
	steps_release(&t->live);
	t->live.label = xstrdup(chatlog_label(t->conv.model.path));
	req.params[0] = t->conv.params;
	req.params[0].seed = t->conv.seed;
	req.params[0].max_tokens = conv_answer_limit(&t->conv.params);
	/* The system prompt travels as req.system. */
	req.params[0].system_prompt = NULL;
	t->generating = 1;
	t->cancelling = 0;
	transcript_bottom(t->tr);
	if (worker_generate(t->worker, &req, &err) < 0) {
		chatctl_finish(t, GEN_FINISH_ERROR, NULL, err.msg);
		tui_notice(t, 1, "cannot generate: %s", err.msg);
	}
	free((void *)req.turns);
}

/*
 * Check that a prompt can be sent, store TEXT as the user's next message
 * and show it; its id to *OUT.  -1 (a notice says why, the text goes back
 * to the prompt line) when it cannot.  With ANSWER the answer's row is
 * stored with the prompt, in one transaction (conv_start_turn).
 */
static int
chatctl_prompt(struct tui *t, const char *text, int answer, int64_t *out)
{
	struct err err;
	int64_t parent, id, had = t->conv.session;

	if (!chatctl_can_generate(t)) {
		prompt_set(t, text);
		return -1;
	}
	/* with the answer, the session is made in the turn's transaction */
	if (!answer && chatctl_ensure_session(t, &err) < 0) {
		tui_notice(t, 1, "cannot create the session: %s", err.msg);
		prompt_set(t, text);
		return -1;
	}
	parent = t->conv.leaf;
	if (t->editing && t->edit_at < t->n_msgs)
		parent = t->edit_at > 0 ? t->msgs[t->edit_at - 1].id : 0;
	if ((answer ? conv_start_turn(&t->conv, parent, text, 0, &id, &err)
		    : conv_add_prompt(&t->conv, parent, text, &id, &err)) < 0) {
		tui_notice(
		    t, 1, "cannot store the prompt, not sent: %s", err.msg);
		prompt_set(t, text);
		return -1;
	}
	if (t->editing && t->edit_at < t->n_msgs) {
		transcript_truncate(t->tr, t->msgs[t->edit_at].entry);
		chatlog_truncate(t, t->edit_at);
	}
	t->editing = 0;
	if (had == 0)
		tui_save_last(t);
	chatlog_add_prompt(t, text, id);
	*out = id;
	return 0;
}

void
chatctl_send(struct tui *t, const char *text)
{
	int64_t id;
	int cmp = comparemode_accept(t, text);

	if (cmp < 0)
		return;
	if (cmp > 0) {
		if (chatctl_prompt(t, text, 0, &id) == 0)
			comparemode_send(t, text, id);
		return;
	}
	if (chatctl_prompt(t, text, 1, &id) == 0)
		chatctl_generate(t, id, 1);
}

void
chatctl_regen(struct tui *t)
{
	size_t n = t->n_msgs;

	if (!chatctl_can_generate(t))
		return;
	if (n == 0) {
		tui_notice(t, 1, "nothing to regenerate: send a prompt first");
		return;
	}
	if (t->msgs[n - 1].role == DB_ROLE_ASSISTANT) {
		if (n < 2 || t->msgs[n - 2].role != DB_ROLE_USER) {
			tui_notice(t, 1, "the last answer has no prompt");
			return;
		}
		transcript_truncate(t->tr, t->msgs[n - 1].entry);
		chatlog_truncate(t, n - 1);
	}
	t->conv.leaf = t->msgs[t->n_msgs - 1].id;
	chatctl_generate(t, t->conv.leaf, 0);
}

/* The index of the last prompt in the conversation, or -1. */
static long
chatctl_last_prompt(struct tui *t)
{
	size_t i = t->n_msgs;

	while (i > 0)
		if (t->msgs[--i].role == DB_ROLE_USER)
			return (long)i;
	return -1;
}

void
chatctl_edit(struct tui *t, int external)
{
	long u = chatctl_last_prompt(t);
	char *path = NULL, *text = NULL, *dir;
	char *argv[] = { (char *)"sh", (char *)"-c",
		(char *)"exec ${VISUAL:-${EDITOR:-vi}} \"$1\"", (char *)"sh",
		NULL, NULL };
	struct err err;
	size_t len;
	int fd;

	if (t->generating) {
		tui_notice(t, 1, "stop the answer first (Ctrl-C)");
		return;
	}
	if (u < 0) {
		tui_notice(t, 1, "no prompt to edit yet");
		return;
	}
	if (!external) {
		t->editing = 1;
		t->edit_at = (size_t)u;
		prompt_set(t, t->msgs[u].text);
		tui_hint(t,
		    "editing your last prompt: Enter sends it as a new "
		    "branch, Ctrl-C cancels");
		return;
	}
	dir = xstrdup(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	path = xasprintf("%s/vkchat-edit-XXXXXX", dir);
	free(dir);
	fd = mkstemp(path);
	if (fd < 0) {
		tui_notice(t, 1, "cannot create a temporary file: %s",
		    strerror(errno));
		free(path);
		return;
	}
	len = strlen(t->msgs[u].text);
	if (write(fd, t->msgs[u].text, len) != (ssize_t)len) {
		tui_notice(
		    t, 1, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	argv[4] = path;
	err_clear(&err);
	if (tui_run_program(t, argv, &err) != 0) {
		tui_notice(t, 1, "the editor failed%s%s",
		    err.msg[0] ? ": " : "", err.msg);
		goto out;
	}
	if (util_read_file(path, UTIL_PROMPT_MAX, &text, &len, &err) < 0) {
		tui_notice(t, 1, "%s", err.msg);
		goto out;
	}
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	t->editing = 1;
	t->edit_at = (size_t)u;
	prompt_set(t, text);
	tui_hint(t,
	    "the edited prompt is in the prompt line: Enter sends it "
	    "as a new branch, Ctrl-C cancels");
out:
	unlink(path);
	free(path);
	free(text);
}

void
chatctl_edit_cancel(struct tui *t)
{
	t->editing = 0;
}

void
chatctl_new_session(struct tui *t)
{
	comparemode_close(t);
	transcript_clear(t->tr);
	chatlog_clear(t);
	conv_restart(&t->conv);
	if (t->model_format != NULL)
		conv_set_format(&t->conv, t->model_format);
	t->editing = 0;
	t->n_used = 0;
	tui_save_last(t);
}

/* Say how to reopen the compare runs of the session just loaded. */
static void
chatctl_runs_notice(struct tui *t)
{
	struct db_compare_run *runs;
	struct sbuf sb;
	size_t n;

	if (db_compare_list(t->db, t->conv.session, &runs, &n, NULL) < 0 ||
	    n == 0)
		return;
	sbuf_init(&sb);
	comparestate_run_summary(&sb, &runs[n - 1], 0);
	tui_notice(t, 0,
	    "this session has %zu compare run%s (last: %s): /runs reopens "
	    "the last one read-only, /runs ID another",
	    n, n == 1 ? "" : "s", sb.buf);
	sbuf_release(&sb);
	db_compare_free(runs, n);
}

int
chatctl_load_session(struct tui *t, int64_t id, struct err *err)
{
	struct db_session s;
	struct db_message *msgs = NULL;
	size_t n = 0;
	char *format = NULL;
	int rc;

	if (t->generating)
		return err_set(err, ERR_USAGE, "stop the answer first");
	comparemode_close(t);
	if ((rc = db_sessions_get(t->db, id, &s, err)) < 0)
		return rc;
	chatctl_new_session(t);
	/* the branch, the settings and the format it continues with */
	if ((rc = conv_load(&t->conv, id, &msgs, &n, &format, err)) < 0) {
		db_sessions_release(&s);
		return rc;
	}
	if (format != NULL && t->opt_format == NULL &&
	    chat_format_find(format, NULL) != NULL)
		conv_set_format(&t->conv, format);
	free(format);
	tui_notice(t, 0, "session %lld: %s", (long long)id, s.title);
	chatlog_show(t, msgs, n);
	if (s.model.hash[0] != '\0' && t->conv.model.hash[0] != '\0' &&
	    strcmp(s.model.hash, t->conv.model.hash) != 0)
		tui_notice(t, 0,
		    "this session was started with '%s'; answers now come "
		    "from '%s'",
		    s.model.path ? chatlog_base(s.model.path) : "another model",
		    t->model_name ? t->model_name : "the current model");
	chatctl_runs_notice(t);
	db_messages_free(msgs, n);
	db_sessions_release(&s);
	tui_save_last(t);
	return 0;
}

void
chatctl_sibling(struct tui *t, int dir)
{
	struct db_message *msgs = NULL;
	int64_t id = 0;
	size_t n_sib = 0, n = 0, pos = 0, i;
	struct err err;

	if (t->generating || t->cmp != NULL) {
		tui_notice(t, 1, "stop the answer first (Ctrl-C)");
		return;
	}
	for (i = t->n_msgs; i > 0 && id == 0; i--)
		if (t->msgs[i - 1].role == DB_ROLE_ASSISTANT)
			id = t->msgs[i - 1].id;
	if (id <= 0) {
		tui_notice(t, 1, "no answer yet to step through");
		return;
	}
	if (conv_step_sibling(
		&t->conv, id, dir, &pos, &n_sib, &msgs, &n, &err) < 0) {
		if (err.code == ERR_NOTFOUND)
			tui_hint(t, "%s", err.msg);
		else
			tui_notice(t, 1, "%s", err.msg);
		return;
	}
	transcript_clear(t->tr);
	chatlog_clear(t);
	t->editing = 0;
	chatlog_show(t, msgs, n);
	transcript_bottom(t->tr);
	tui_hint(t, "answer %zu of %zu (Alt-Left, Alt-Right step through them)",
	    pos, n_sib);
	db_messages_free(msgs, n);
}

int
chatctl_use_preset(struct tui *t, const char *name, struct err *err)
{
	struct db_preset p;
	int rc;

	if ((rc = db_presets_get(t->db, name, &p, err)) < 0)
		return rc;
	conv_use_params(&t->conv, p.name, &p.params, 0);
	db_presets_release(&p);
	return 0;
}

/* /set alone: what differs from the defaults; /params (ALL): every
 * setting in force. */
void
chatctl_show_params(struct tui *t, int all)
{
	struct sbuf sb, v;
	const char *key;
	size_t i;

	sbuf_init(&sb);
	if (!all) {
		if (params_diff(&t->conv.params, NULL, "  ", &sb) == 0)
			sbuf_adds(&sb, "all at their defaults");
	} else {
		sbuf_init(&v);
		for (i = 0; i < params_count(); i++) {
			key = params_key(i);
			sbuf_reset(&v);
			params_get(&t->conv.params, key, &v);
			/* empty lists and no system prompt are left out */
			if (v.len == 0)
				continue;
			sbuf_addf(
			    &sb, "%s%s=%s", sb.len ? "  " : "", key, v.buf);
			if (strcmp(key, "max_tokens") == 0 &&
			    t->conv.params.max_tokens < 0)
				sbuf_addf(&sb, " (an answer: %d at most)",
				    conv_answer_limit(&t->conv.params));
		}
		sbuf_release(&v);
	}
	tui_notice(t, 0, "preset %s%s: %s", t->conv.preset,
	    t->conv.preset_changed ? " (changed)" : "", sb.buf);
	sbuf_release(&sb);
}

void
chatctl_list_presets(struct tui *t)
{
	struct db_preset *list;
	struct sbuf sb;
	struct err err;
	size_t n, i;

	if (db_presets_list(t->db, &list, &n, &err) < 0) {
		tui_notice(t, 1, "%s", err.msg);
		return;
	}
	sbuf_init(&sb);
	for (i = 0; i < n; i++)
		sbuf_addf(&sb, "%s%s", i ? ", " : "", list[i].name);
	tui_notice(t, 0, "presets: %s (use: /preset NAME, or Ctrl-P)", sb.buf);
	sbuf_release(&sb);
	db_presets_free(list, n);
}

int
chatctl_send_template(struct tui *t, const char *name,
    const struct db_template_var *vars, size_t n, struct err *err)
{
	struct db_template tpl;
	struct sbuf out;
	int rc;

	if ((rc = db_templates_get(t->db, name, &tpl, err)) < 0)
		return rc;
	sbuf_init(&out);
	rc = db_templates_render(tpl.name, tpl.body, vars, n, &out, err);
	if (rc == 0 && tpl.preset != NULL)
		rc = chatctl_use_preset(t, tpl.preset, err);
	if (rc == 0 && tpl.system_prompt != NULL)
		rc = params_set(
		    &t->conv.params, "system", tpl.system_prompt, err);
	if (rc == 0)
		chatctl_send(t, out.buf);
	sbuf_release(&out);
	db_templates_release(&tpl);
	return rc;
}

void
chatctl_export(struct tui *t, const char *args)
{
	struct sbuf out;
	struct err err;
	char **w, *file;
	size_t n;
	int md, rc;

	if (slash_split(args, &w, &n, &err) < 0) {
		tui_notice(t, 1, "%s", err.msg);
		return;
	}
	if (n < 1 || n > 2 ||
	    (strcmp(w[0], "md") != 0 && strcmp(w[0], "json") != 0)) {
		tui_notice(t, 1, "usage: /export md|json [FILE]");
		slash_words_free(w);
		return;
	}
	if (t->conv.session == 0) {
		tui_notice(t, 1, "nothing to export yet: send a prompt first");
		slash_words_free(w);
		return;
	}
	md = strcmp(w[0], "md") == 0;
	file = n == 2 ? xstrdup(w[1])
		      : xasprintf("vkchat-session-%lld.%s",
			    (long long)t->conv.session, md ? "md" : "json");
	sbuf_init(&out);
	rc = md ? db_export_markdown(t->db, t->conv.session, &out, &err)
		: db_export_json(t->db, t->conv.session, 1, 1, &out, &err);
	if (rc == 0)
		rc = util_write_file(file, out.buf, out.len, 0600, &err);
	if (rc < 0)
		tui_notice(t, 1, "export: %s", err.msg);
	else
		tui_notice(t, 0, "exported session %lld to '%s'",
		    (long long)t->conv.session, file);
	sbuf_release(&out);
	free(file);
	slash_words_free(w);
}

void
chatctl_man(struct tui *t, const char *topic)
{
	char *page, *local, *argv[4];
	struct err err;
	size_t i;
	int rc;

	for (i = 0; topic[i] != '\0'; i++)
		if (!((topic[i] >= 'a' && topic[i] <= 'z') ||
			(topic[i] >= '0' && topic[i] <= '9') ||
			topic[i] == '-')) {
			tui_notice(
			    t, 1, "no manual topic '%s' (try /man)", topic);
			return;
		}
	page = topic[0] ? xasprintf("vkchat-%s", topic) : xstrdup("vkchat");
	/* from the build tree, the source tree's page (installed or not) */
	local = cmd_man_page(page);
	argv[0] = (char *)"man";
	argv[1] = local != NULL ? (char *)"-l" : page;
	argv[2] = local;
	argv[3] = NULL;
	err_clear(&err);
	rc = tui_run_program(t, argv, &err);
	if (rc < 0)
		tui_notice(t, 1, "cannot run man: %s", err.msg);
	else if (rc != 0)
		tui_notice(t, 1,
		    "man %s failed (status %d): is the page "
		    "installed?",
		    local != NULL ? local : page, rc);
	free(local);
	free(page);
}

void
chatctl_fork(struct tui *t)
{
	struct err err;
	int64_t old = t->conv.session, id;

	if (t->conv.session == 0) {
		tui_notice(t, 1, "nothing to fork yet: send a prompt first");
		return;
	}
	if (t->generating) {
		tui_notice(t, 1, "stop the answer first (Ctrl-C)");
		return;
	}
	if (db_sessions_fork(t->db, t->conv.session, t->conv.leaf, &id, &err) <
		0 ||
	    chatctl_load_session(t, id, &err) < 0) {
		tui_notice(t, 1, "fork: %s", err.msg);
		return;
	}
	tui_notice(t, 0, "forked session %lld into session %lld",
	    (long long)old, (long long)id);
}

char **
chatctl_names(void *ctx, enum slash_names kind, const char *arg)
{
	struct tui *t = ctx;
	struct db_preset *pl;
	struct db_template *tl, tpl;
	char **v = NULL;
	size_t n, i;

	switch (kind) {
	case SLASH_NAMES_PRESETS:
		if (db_presets_list(t->db, &pl, &n, NULL) < 0)
			return NULL;
		v = xcalloc(n + 1, sizeof(*v));
		for (i = 0; i < n; i++)
			v[i] = xstrdup(pl[i].name);
		db_presets_free(pl, n);
		break;
	case SLASH_NAMES_TEMPLATES:
		if (db_templates_list(t->db, &tl, &n, NULL) < 0)
			return NULL;
		v = xcalloc(n + 1, sizeof(*v));
		for (i = 0; i < n; i++)
			v[i] = xstrdup(tl[i].name);
		db_templates_free(tl, n);
		break;
	case SLASH_NAMES_TEMPLATE_VARS:
		if (db_templates_get(t->db, arg, &tpl, NULL) < 0)
			return NULL;
		db_templates_vars(tpl.body, &v, &n);
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n] = NULL;
		db_templates_release(&tpl);
		break;
	}
	return v;
}
