/*
 * cmd-chat: "vkchat chat -m MODEL.gguf": a conversation with the model.
 * When standard input and output are terminals and --plain is not
 * given, this is the full-screen interface (tui_main, with its options);
 * otherwise a line-oriented chat that scripts and tests can drive:
 *
 *   - each input line is a user turn; a line ending in '\' continues the
 *     turn on the next line (the backslash becomes a newline); empty
 *     lines are ignored; a line starting with "//" sends the text after
 *     the first '/';
 *   - the answer streams to stdout, followed by a newline;
 *   - lines starting with '/' are commands (/help lists them): /set,
 *     /preset, /system, /regen, /new, /history, /quit;
 *   - notices and errors go to stderr; with -v each answer's statistics
 *     too (prompt tokens and how many were evaluated, speed, seed,
 *     context used).
 *
 * The engine runs on its own thread (src/worker.h), as for the TUI: the
 * KV cache is kept between turns, so a turn evaluates only the tokens
 * after what the cache already holds, /regen only the last prompt token.
 * When the conversation outgrows the context the oldest turns are left
 * out of the prompt, with a notice (ctx_shift, on by default; llm.h);
 * with --no-ctx-shift that answer fails with an error naming the sizes,
 * the failed turn leaves the conversation and the chat goes on.  An
 * answer is at most conv_answer_limit() tokens unless -n says otherwise.
 *
 * The conversation is saved as a session in the database (cmd-gen.h)
 * unless --no-save is given: each prompt, and each answer streamed into
 * its row with its settings, seed and statistics.  /regen stores the new
 * answer beside the old one; /new starts a new session.
 *
 * Ctrl-C stops an answer (what came is kept); at the prompt, or a second
 * time, it ends the program.  Exit status: 0, or 1 when an answer failed
 * (2 and 3 when the model cannot be loaded, as for run).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd-gen.h"
#include "cmd-load.h"
#include "cmd.h"
#include "tui.h"
#include "util.h"
#include "worker.h"

static const char cmd_chat_usage[] =
    "usage: vkchat chat [-m MODEL.gguf] [--plain] [OPTIONS]\n"
    "Chat with the model.  On a terminal this opens the chat screen (its\n"
    "options: 'vkchat --help'); with --plain, or when standard input or\n"
    "output is not a terminal, each input line is a user turn (end a line\n"
    "with \\ to continue the turn) and the answers stream to stdout.\n"
    "Type /help in the chat for its commands.\n"
    "  -m, --model FILE       the GGUF model (default: the pocket model)\n"
    "      --plain            line-oriented chat even on a terminal\n"
    "      --chat-format NAME the chat format (default: detected)\n"
    "      --ctx N            context length (default: the model's, at "
    "most 4096)\n"
    "      --no-ctx-shift     fail a turn that does not fit the context "
    "(default:\n"
    "                         leave the oldest turns out, --ctx-shift)\n"
    "      --device N         Vulkan device (see 'vkchat devices')\n"
    "      --no-save          do not save the conversation\n"
    "      --session ID       continue saved session ID (its branch and "
    "settings)\n"
    "  -c, --continue         continue the most recently used "
    "session\n" CMD_GEN_USAGE
    "  -v, --verbose          settings and statistics on stderr\n";

static const char cmd_chat_help[] =
    "/set KEY=VALUE ...  change generation parameters (/set alone: show "
    "them)\n"
    "/preset NAME        use a preset (built-in or saved), then the "
    "command\n"
    "                    line's parameter options again\n"
    "/system TEXT        set the system prompt (/system alone: none)\n"
    "/regen              answer the last prompt again\n"
    "/new                start a new conversation\n"
    "/history            show the conversation\n"
    "/help               this list\n"
    "/quit               end the chat (so does the end of input)\n"
    "A line ending in \\ continues on the next line; //TEXT sends /TEXT.\n"
    "Parameters: man vkchat-sampling.\n";

struct cmd_chat_turn {
	enum chat_role role;
	char *text;
};

struct cmd_chat {
	struct cmd_gen_args opt;
	struct gen_params p;
	char *preset; /* the preset in use, NULL: none */
	struct worker *w;
	struct worker_model_info info;
	struct cmd_gen_out out;
	struct cmd_gen_save save;
	int saving;
	struct cmd_chat_turn *turns;
	size_t n_turns, cap_turns;
	int failed; /* an answer failed: exit status 1 */
	int tty_in; /* prompts on stderr */
};

/* 1 while an answer is generated; Ctrl-C then only sets CANCEL. */
static atomic_int cmd_chat_generating;
static atomic_int cmd_chat_cancel;

static void
cmd_chat_sigint(int sig)
{
	(void)sig;
	if (!atomic_load(&cmd_chat_generating) ||
	    atomic_exchange(&cmd_chat_cancel, 1) != 0)
		_exit(130);
}

static void
cmd_chat_push(struct cmd_chat *c, enum chat_role role, const char *text)
{
	if (c->n_turns == c->cap_turns) {
		c->cap_turns = c->cap_turns ? 2 * c->cap_turns : 16;
		c->turns =
		    xreallocarray(c->turns, c->cap_turns, sizeof *c->turns);
	}
	c->turns[c->n_turns].role = role;
	c->turns[c->n_turns++].text = xstrdup(text);
}

static void
cmd_chat_pop(struct cmd_chat *c)
{
	free(c->turns[--c->n_turns].text);
}

static void
cmd_chat_clear(struct cmd_chat *c)
{
	while (c->n_turns > 0)
		cmd_chat_pop(c);
}

/* Wait for the worker's next event into *ev. */
static void
cmd_chat_next(struct cmd_chat *c, struct worker_event *ev)
{
	struct pollfd pfd;
	int cancelled = 0;

	while (worker_poll(c->w, ev) == 0) {
		if (atomic_load(&cmd_chat_cancel) && !cancelled) {
			worker_cancel(c->w, -1);
			cancelled = 1;
		}
		pfd.fd = worker_fd(c->w);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			break;
	}
}

/* Load the model: wait for LOADED; 0 or the exit status. */
static int
cmd_chat_load(struct cmd_chat *c)
{
	struct worker_load_opts o;
	struct worker_event ev;
	struct err err;
	int status = -1;

	if (worker_new(&c->w, &err) < 0)
		return cmd_fail(&err);
	memset(&o, 0, sizeof o);
	o.model_path = c->opt.model;
	o.device = c->opt.device;
	o.n_ctx = (int)c->opt.ctx;
	o.chat_format = c->opt.format;
	if (worker_load(c->w, &o, &err) < 0)
		return cmd_fail(&err);
	while (status < 0) {
		cmd_chat_next(c, &ev);
		if (ev.type == WORKER_EV_LOADED) {
			c->info = ev.info;
			memset(&ev.info, 0, sizeof ev.info);
			status = 0;
		} else if (ev.type == WORKER_EV_ERROR) {
			cmd_error("%s", ev.err.msg);
			status = cmd_load_status(ev.stage, &ev.err);
		}
		worker_event_release(&ev);
	}
	if (status == 0 && c->opt.verbose)
		fprintf(stderr,
		    "vkchat: loaded '%s' (%s) on %s, context %d\n"
		    "vkchat: chat format: %s (%s)\n",
		    c->info.path, c->info.name, c->info.device, c->info.n_ctx,
		    c->info.chat_format, c->info.chat_format_why);
	return status;
}

/* After an answer: the -v report. */
static void
cmd_chat_report(
    struct cmd_chat *c, const struct gen_stats *st, int used, size_t dropped)
{
	cmd_gen_report(&c->p, c->info.n_vocab, st);
	fprintf(stderr, "vkchat: context: %d of %d tokens used", used,
	    c->info.n_ctx);
	if (dropped > 0)
		fprintf(stderr, "; the first %zu turns left out", dropped);
	fputc('\n', stderr);
}

/*
 * Answer the conversation (which ends with the user's turn); NEW_USER is
 * that turn's text when it is new (saved first), NULL for /regen.
 * The answer is added to the conversation; when it fails before any text,
 * a new prompt is taken out again and 0 returned, else 1.
 */
static int
cmd_chat_answer(struct cmd_chat *c, const char *new_user)
{
	struct worker_gen_request req;
	struct worker_event ev;
	struct chat_turn *turns;
	struct gen_stats st;
	struct sbuf text;
	struct err err;
	size_t i, dropped = 0;
	int done = 0, used = 0, failed = 0, added = 1;
	uint64_t seed = conv_draw_seed(&c->p);

	memset(&req, 0, sizeof req);
	memset(&st, 0, sizeof st);
	turns = xcalloc(c->n_turns, sizeof *turns);
	for (i = 0; i < c->n_turns; i++)
		turns[i] =
		    (struct chat_turn){ c->turns[i].role, c->turns[i].text };
	req.turns = turns;
	req.n_turns = c->n_turns;
	req.n_columns = 1;
	req.params[0] = c->p;
	req.params[0].seed = seed;
	req.params[0].max_tokens = conv_answer_limit(&c->p);
	sbuf_init(&text);
	if (c->saving &&
	    cmd_gen_save_begin(&c->save, new_user, &c->p, seed, &err) < 0) {
		cmd_error("cannot save this exchange (not saving any more): %s",
		    err.msg);
		c->saving = 0;
	}
	atomic_store(&cmd_chat_cancel, 0);
	atomic_store(&cmd_chat_generating, 1);
	if (worker_generate(c->w, &req, &err) < 0) {
		cmd_error("%s", err.msg);
		failed = 1;
		done = 1;
	}
	while (!done) {
		cmd_chat_next(c, &ev);
		switch (ev.type) {
		case WORKER_EV_TOKEN:
			cmd_gen_out_write(&c->out, ev.text, ev.len);
			sbuf_add(&text, ev.text, ev.len);
			if (c->saving)
				cmd_gen_save_text(&c->save, ev.text, ev.len);
			break;
		case WORKER_EV_CONTEXT:
			used = ev.n_ctx_used;
			dropped = ev.n_dropped;
			break;
		case WORKER_EV_DONE:
			st = ev.stats;
			done = 1;
			if (st.finish == GEN_FINISH_ERROR) {
				err = ev.err;
				failed = 1;
			}
			break;
		case WORKER_EV_ERROR:
			err = ev.err;
			failed = done = 1;
			break;
		default:
			break;
		}
		worker_event_release(&ev);
	}
	atomic_store(&cmd_chat_generating, 0);
	fputc('\n', stdout);
	fflush(stdout);
	if (failed)
		cmd_error("%s", err.msg);
	if (c->saving)
		cmd_gen_save_finish(&c->save,
		    failed ? GEN_FINISH_ERROR : st.finish, failed ? NULL : &st,
		    failed ? err.msg : NULL);
	if (failed && text.len == 0) {
		if (new_user != NULL)
			cmd_chat_pop(c);
		if (c->saving)
			cmd_gen_save_forget(&c->save);
		c->failed = 1;
		added = 0;
	} else
		cmd_chat_push(c, CHAT_ASSISTANT, text.buf);
	if (dropped > 0)
		cmd_error(CONV_DROPPED_FMT, dropped);
	if (!failed && c->opt.verbose)
		cmd_chat_report(c, &st, used, dropped);
	if (st.finish == GEN_FINISH_CANCELLED)
		cmd_error("stopped");
	sbuf_release(&text);
	free(turns);
	return added;
}

static void
cmd_chat_history(const struct cmd_chat *c)
{
	size_t i;

	if (c->p.system_prompt != NULL)
		printf("[system] %s\n", c->p.system_prompt);
	for (i = 0; i < c->n_turns; i++)
		printf("[%s] %s\n",
		    c->turns[i].role == CHAT_USER ? "user" : "assistant",
		    c->turns[i].text);
	if (c->n_turns == 0)
		printf("(no turns yet)\n");
	fflush(stdout);
}

/*
 * /preset NAME: its parameters, then the command line's settings again;
 * the system prompt stays unless the preset has one.
 */
static void
cmd_chat_preset(struct cmd_chat *c, const char *name)
{
	struct gen_params np;
	struct err err;

	if (*name == '\0') {
		cmd_error("/preset: which preset? (vkchat presets list)");
		return;
	}
	if (cmd_gen_preset(name, c->opt.gen.db, &np, &err) < 0) {
		cmd_error("/preset: %s", err.msg);
		return;
	}
	if (np.system_prompt == NULL && c->p.system_prompt != NULL)
		np.system_prompt = xstrdup(c->p.system_prompt);
	/* They were accepted at the start, so they still are. */
	cmd_gen_apply(&c->opt.gen, &np, NULL);
	params_release(&c->p);
	c->p = np;
	free(c->preset);
	c->preset = xstrdup(name);
	if (c->saving)
		conv_use_params(&c->save.conv, name, &c->p, 0);
	cmd_error("preset %s", name);
}

/* /set with no arguments: the parameters that differ from the defaults. */
static void
cmd_chat_show_params(const struct cmd_chat *c)
{
	struct sbuf sb;

	sbuf_init(&sb);
	if (params_diff(&c->p, NULL, "\n", &sb) == 0)
		sbuf_adds(&sb, "(all parameters at their defaults)");
	if (c->preset != NULL)
		printf("preset %s\n", c->preset);
	printf("%s\n", sb.buf);
	fflush(stdout);
	sbuf_release(&sb);
}

/* Run command LINE (starting with '/'); returns 1 for /quit. */
static int
cmd_chat_command(struct cmd_chat *c, const char *line)
{
	const char *arg;
	size_t n = strcspn(line, " \t");
	struct err err;

	arg = line + n;
	arg += strspn(arg, " \t");
#define CMD_CHAT_IS(name) (n == strlen(name) && strncmp(line, name, n) == 0)
	if (CMD_CHAT_IS("/quit") || CMD_CHAT_IS("/exit"))
		return 1;
	if (CMD_CHAT_IS("/help")) {
		fputs(cmd_chat_help, stdout);
		fflush(stdout);
	} else if (CMD_CHAT_IS("/set")) {
		if (*arg == '\0')
			cmd_chat_show_params(c);
		else if (params_set_list(&c->p, arg, &err) < 0)
			cmd_error("/set: %s", err.msg);
	} else if (CMD_CHAT_IS("/preset")) {
		cmd_chat_preset(c, arg);
	} else if (CMD_CHAT_IS("/system")) {
		params_set(&c->p, "system", arg, NULL);
		cmd_error("%s",
		    *arg != '\0' ? "system prompt set" : "no system prompt");
	} else if (CMD_CHAT_IS("/regen")) {
		if (c->n_turns == 0 ||
		    c->turns[c->n_turns - 1].role != CHAT_ASSISTANT)
			cmd_error("/regen: there is no answer to regenerate");
		else {
			/* The old answer comes back if the new one fails. */
			char *old = xstrdup(c->turns[c->n_turns - 1].text);

			cmd_chat_pop(c);
			if (!cmd_chat_answer(c, NULL))
				cmd_chat_push(c, CHAT_ASSISTANT, old);
			free(old);
		}
	} else if (CMD_CHAT_IS("/new")) {
		cmd_chat_clear(c);
		cmd_gen_save_restart(&c->save);
		cmd_error("new conversation");
	} else if (CMD_CHAT_IS("/history")) {
		cmd_chat_history(c);
	} else
		cmd_error(
		    "unknown command '%.*s' (/help lists them)", (int)n, line);
#undef CMD_CHAT_IS
	return 0;
}

/* Read turns and commands until the end of input or /quit. */
static void
cmd_chat_loop(struct cmd_chat *c)
{
	struct sbuf turn;
	char *line = NULL;
	const char *nul;
	size_t cap = 0;
	ssize_t len;
	int quit = 0;

	sbuf_init(&turn);
	while (!quit) {
		if (c->tty_in) {
			fputs(turn.len > 0 ? "... " : "> ", stderr);
			fflush(stderr);
		}
		len = getline(&line, &cap, stdin);
		if (len < 0) {
			if (turn.len == 0)
				break;
			len = 0;
			quit = 1;
		} else {
			nul = memchr(line, '\0', (size_t)len);
			if (nul != NULL) {
				/* the same rule as run's prompts */
				cmd_error(
				    "a line with a NUL byte (at byte %zu) "
				    "is not text: the turn is dropped",
				    (size_t)(nul - line));
				sbuf_reset(&turn);
				c->failed = 1;
				continue;
			}
			while (len > 0 &&
			    (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			if (len > 0 && line[len - 1] == '\\') {
				sbuf_add(&turn, line, (size_t)len - 1);
				sbuf_addc(&turn, '\n');
				continue;
			}
			sbuf_add(&turn, line, (size_t)len);
		}
		if (turn.buf[0] == '/' && turn.buf[1] != '/') {
			quit |= cmd_chat_command(c, turn.buf);
		} else if (turn.buf[strspn(turn.buf, " \t\n")] != '\0') {
			const char *text = turn.buf + (turn.buf[0] == '/');

			cmd_chat_push(c, CHAT_USER, text);
			cmd_chat_answer(c, text);
		}
		sbuf_reset(&turn);
	}
	sbuf_release(&turn);
	free(line);
}

/*
 * --session ID or --continue: the saved session's branch becomes the
 * conversation so far, its settings the chat's, with the command line's
 * settings on top; the next exchanges are added to it.
 */
static int
cmd_chat_continue(struct cmd_chat *c)
{
	struct chat_turn *turns = NULL;
	size_t n = 0, i;
	int status;

	if ((status = cmd_gen_save_continue(&c->save, c->opt.session,
		 c->opt.cont, &c->p, &turns, &n)) != 0)
		return status;
	/* they were accepted at the start, so they still are */
	cmd_gen_apply(&c->opt.gen, &c->p, NULL);
	cmd_chat_clear(c);
	for (i = 0; i < n; i++) {
		cmd_chat_push(c, turns[i].role, turns[i].text);
		free((char *)turns[i].text);
	}
	free(turns);
	free(c->preset);
	c->preset =
	    c->save.conv.preset != NULL ? xstrdup(c->save.conv.preset) : NULL;
	cmd_error("continuing session %lld (%zu turns)",
	    (long long)c->save.conv.session, n);
	return 0;
}

/* The line-oriented chat; returns the exit status. */
static int
cmd_chat_plain(struct cmd_chat *c)
{
	struct sigaction sa, old;
	int status;

	params_release(&c->p);
	if ((status = cmd_gen_params("chat", &c->opt.gen, &c->p)) != 0)
		return status;
	if (c->opt.gen.preset != NULL)
		c->preset = xstrdup(c->opt.gen.preset);
	if ((status = cmd_chat_load(c)) != 0)
		return status;
	if (!c->opt.no_save) {
		if ((status = cmd_gen_save_open(&c->save, c->opt.gen.db,
			 c->opt.model, c->info.file_size, c->info.identity,
			 c->info.chat_format, c->preset)) != 0)
			return status;
		c->saving = 1;
	}
	if (c->opt.session != 0 || c->opt.cont) {
		if ((status = cmd_chat_continue(c)) != 0)
			return status;
	}
	c->tty_in = isatty(STDIN_FILENO);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cmd_chat_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	cmd_chat_loop(c);
	sigaction(SIGINT, &old, NULL);
	if (c->saving && c->save.conv.session != 0)
		cmd_error(
		    "saved as session %lld", (long long)c->save.conv.session);
	return c->failed ? EXIT_USAGE : EXIT_OK;
}

/*
 * Whether to open the chat screen: both ends are terminals and neither
 * --plain nor --help is among the arguments (the screen has options of
 * its own, so they are not parsed here).
 */
static int
cmd_chat_screen(int argc, char **argv)
{
	int i;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return 0;
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--plain") == 0 ||
		    strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 0;
	return 1;
}

int
cmd_chat(int argc, char **argv)
{
	struct cmd_chat c;
	struct worker_event ev;
	int status;

	if (cmd_chat_screen(argc, argv))
		return tui_main(argc, argv);
	memset(&c, 0, sizeof c);
	cmd_gen_args_init(&c.opt, argc);
	params_init(&c.p);
	cmd_gen_out_init(&c.out);
	status = cmd_gen_args_parse(
	    &c.opt, CMD_GEN_CHAT, cmd_chat_usage, argc, argv);
	if (status == 0)
		status = cmd_chat_plain(&c);
	else if (status < 0)
		status = EXIT_OK;
	worker_free(c.w);
	memset(&ev, 0, sizeof ev);
	ev.info = c.info;
	worker_event_release(&ev);
	if (c.saving)
		cmd_gen_save_close(&c.save);
	cmd_chat_clear(&c);
	free(c.turns);
	free(c.preset);
	cmd_gen_out_release(&c.out);
	params_release(&c.p);
	cmd_gen_args_release(&c.opt);
	return status;
}
