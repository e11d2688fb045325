/*
 * tui: the entry of the full-screen interface and its event loop.
 *
 * One poll() loop waits on three descriptors: the terminal (stdin), a
 * self-pipe the signal handlers write their signal number to, and the
 * worker's wakeup descriptor.  Nothing else ever blocks the UI thread:
 * the engine runs on its own thread, the database calls are short, and
 * a program that needs the terminal (man, $EDITOR) runs with curses
 * suspended.
 *
 * Signals: SIGINT (Ctrl-C) is a key here (stop the answer, clear the
 * line, or ask before quitting), SIGWINCH resizes and reflows, SIGTSTP
 * leaves curses before the process stops and SIGCONT brings it back,
 * SIGTERM and SIGHUP quit cleanly (the answer being generated is stored
 * as stopped).  The handlers are installed before initscr(), so curses
 * leaves them alone.
 *
 * "vkchat" with no model reopens the model and session of last time,
 * remembered in util_xdg_dir("state")/last.
 */
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chatscreen.h"
#include "chatctl.h"
#include "cmd.h"
#include "comparemode.h"
#include "config.h"
#include "pocket.h"
#include "prompt.h"
#include "screen.h"

/* Wait this long for the rest of an escape sequence, in ms. */
#define TUI_ESC_MS 30
/* Redraw this often while something moves on screen, in ms. */
#define TUI_TICK_MS 100

static int tui_sig_write = -1;

static const int tui_signals[] = { SIGWINCH, SIGINT, SIGTSTP, SIGCONT, SIGTERM,
	SIGHUP };

static void
tui_on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (tui_sig_write >= 0 && write(tui_sig_write, &c, 1) < 0) {
		/* A full pipe already holds a wakeup: nothing is lost. */
	}
	errno = saved;
}

/* The signals that end the program at once: the terminal comes back
 * first, then the signal does what it would have done. */
static const int tui_fatal[] = { SIGBUS, SIGSEGV, SIGFPE, SIGILL, SIGABRT };

static void
tui_on_fatal(int sig)
{
	screen_emergency();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
tui_handle(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, NULL);
}

static int
tui_signals_init(struct tui *t, struct err *err)
{
	size_t i;

	if (pipe2(t->sig_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_set(err, ERR_IO, "pipe: %s", strerror(errno));
	tui_sig_write = t->sig_fd[1];
	for (i = 0; i < ARRAY_LEN(tui_signals); i++)
		tui_handle(tui_signals[i], tui_on_signal);
	for (i = 0; i < ARRAY_LEN(tui_fatal); i++)
		tui_handle(tui_fatal[i], tui_on_fatal);
	return 0;
}

static void
tui_signals_end(struct tui *t)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(tui_signals); i++)
		tui_handle(tui_signals[i], SIG_DFL);
	for (i = 0; i < ARRAY_LEN(tui_fatal); i++)
		tui_handle(tui_fatal[i], SIG_DFL);
	tui_sig_write = -1;
	close(t->sig_fd[0]);
	close(t->sig_fd[1]);
}

void
tui_notice(struct tui *t, int error, const char *fmt, ...)
{
	struct sbuf sb;
	va_list ap;

	sbuf_init(&sb);
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	transcript_add(t->tr, error ? TRANSCRIPT_ERROR : TRANSCRIPT_NOTICE,
	    NULL, sb.buf, sb.len);
	sbuf_release(&sb);
}

void
tui_hint(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	free(t->hint);
	va_start(ap, fmt);
	t->hint = xvasprintf(fmt, ap);
	va_end(ap);
}

int
tui_run_program(struct tui *t, char *const argv[], struct err *err)
{
	pid_t pid;
	int status = 0;
	size_t i;

	screen_suspend(t);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < ARRAY_LEN(tui_signals); i++)
			signal(tui_signals[i], SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	/* The child gets the terminal's Ctrl-C; we wait it out. */
	signal(SIGINT, SIG_IGN);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	tui_handle(SIGINT, tui_on_signal);
	screen_resume(t);
	if (pid < 0)
		return err_set(err, ERR_IO, "fork: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return err_set(err, ERR_NOTFOUND, "cannot run '%s'", argv[0]);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static char *
tui_last_path(void)
{
	char *dir = util_xdg_dir("state"), *path;

	if (dir == NULL)
		return NULL;
	path = xasprintf("%s/last", dir);
	free(dir);
	return path;
}

void
tui_save_last(struct tui *t)
{
	char *path = tui_last_path(), *dir = util_xdg_dir("state"), *text;

	char *db = t->db != NULL ? realpath(db_file(t->db), NULL) : NULL;

	if (path != NULL && dir != NULL && t->model_path != NULL &&
	    db != NULL && util_mkdirs(dir, 0700, NULL) == 0) {
		text = xasprintf("model=%s\nsession=%lld\ndb=%s\n",
		    t->model_path, (long long)t->conv.session, db);
		util_write_file(path, text, strlen(text), 0600, NULL);
		free(text);
	}
	free(db);
	free(path);
	free(dir);
}

/*
 * Read the last model, session and database into *model and *db (new
 * strings, or NULL) and *session.
 */
static void
tui_load_last(char **model, int64_t *session, char **db)
{
	char *path = tui_last_path(), *text = NULL, *line, *nl;

	*model = *db = NULL;
	*session = 0;
	if (path == NULL ||
	    util_read_file(path, 1 << 16, &text, NULL, NULL) < 0) {
		free(path);
		return;
	}
	for (line = text; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		if (strncmp(line, "model=", 6) == 0 && line[6] != '\0') {
			free(*model);
			*model = xstrdup(line + 6);
		} else if (strncmp(line, "session=", 8) == 0) {
			util_parse_i64(line + 8, 0, INT64_MAX, session);
		} else if (strncmp(line, "db=", 3) == 0 && line[3] != '\0') {
			free(*db);
			*db = xstrdup(line + 3);
		}
	}
	free(text);
	free(path);
}

static void
tui_usage(FILE *f)
{
	fprintf(f,
	    "usage: vkchat [-m MODEL.gguf] [--db PATH] [--preset NAME] "
	    "[--ctx N]\n"
	    "              [--device N] [--chat-format NAME] [--session ID "
	    "| --new]\n"
	    "              [--temp X] [-n N] [--system TEXT] [--set "
	    "KEY=VALUE,...] ...\n"
	    "              [--ctx-shift | --no-ctx-shift]\n"
	    "              [--compare PRESET,PRESET,...|KEY=V1,V2,... "
	    "[--same-seed]]\n"
	    "With no model, vkchat reopens the model and session of last "
	    "time, or else\nopens the pocket model, a tiny demo model "
	    "('man vkchat': FILES).\n"
	    "Run 'vkchat --help' for the commands; 'man vkchat-tui' explains "
	    "the screen.\n");
}

/* The value of option ARGV[*i] ("--opt VALUE" or "--opt=VALUE"). */
static const char *
tui_optval(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name) != 0)
		return NULL;
	if (*i + 1 >= argc) {
		cmd_error("option '%s' needs a value", name);
		return "";
	}
	return argv[++*i];
}

static int
tui_int(const char *opt, const char *s, int64_t min, int64_t max, int *out)
{
	int64_t v;

	if (util_parse_i64(s, min, max, &v) < 0) {
		cmd_error("%s: '%s' is not a number from %lld to %lld", opt, s,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Generation options (--temp X, -n N, --set LIST ...) given at most. */
#define TUI_MAX_PARAMS 64

struct tui_opts {
	const char *model, *preset, *session;
	const char *compare; /* --compare SPEC */
	int same_seed;
	char *last_db; /* the database of last time, when reopening */
	int fresh, help;
	/* Parameter KEY (NULL: a --set list) and its VALUE, in order. */
	const char *pkey[TUI_MAX_PARAMS], *pval[TUI_MAX_PARAMS];
	size_t np;
};

/*
 * A generation option as "vkchat run" takes them: --NAME VALUE or
 * --NAME=VALUE where NAME is a parameter key with '-' for '_' (--temp,
 * --top-p, --max-tokens, --system, --stop ...), -n N, or --set LIST.
 * Returns 1 when ARGV[*i] was one, 0 when not, -1 on an error.
 */
static int
tui_param(int argc, char **argv, int *i, struct tui_opts *o)
{
	const char *a = argv[*i], *eq, *key = NULL;
	char name[64];
	size_t n, k;

	if (strcmp(a, "-n") == 0) {
		key = "max_tokens";
		n = 0;
		eq = NULL;
	} else {
		if (strncmp(a, "--", 2) != 0)
			return 0;
		a += 2;
		eq = strchr(a, '=');
		n = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if (n == 0 || n >= sizeof(name))
			return 0;
		for (k = 0; k < n; k++)
			name[k] = a[k] == '-' ? '_' : a[k];
		name[n] = '\0';
		if (strcmp(name, "set") != 0 &&
		    (key = params_canonical(name)) == NULL)
			return 0;
	}
	if (o->np == TUI_MAX_PARAMS) {
		cmd_error("too many generation options");
		return -1;
	}
	if (eq == NULL && *i + 1 >= argc) {
		cmd_error("option '%s' needs a value", argv[*i]);
		return -1;
	}
	o->pkey[o->np] = key;
	o->pval[o->np++] = eq != NULL ? eq + 1 : argv[++*i];
	return 1;
}

static int
tui_parse(struct tui *t, struct tui_opts *o, int argc, char **argv)
{
	const char *v;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		v = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = 1;
		} else if (strcmp(a, "--new") == 0) {
			o->fresh = 1;
		} else if (strcmp(a, "--same-seed") == 0) {
			o->same_seed = 1;
		} else if ((strcmp(a, "--ctx-shift") == 0 ||
			       strcmp(a, "--no-ctx-shift") == 0) &&
		    o->np < TUI_MAX_PARAMS) {
			/* flags for the ctx_shift setting */
			o->pkey[o->np] = "ctx_shift";
			o->pval[o->np++] = a[2] == 'n' ? "0" : "1";
		} else if ((v = tui_optval(argc, argv, &i, "--compare")) !=
		    NULL) {
			o->compare = v;
		} else if ((v = tui_optval(argc, argv, &i, "-m")) != NULL ||
		    (v = tui_optval(argc, argv, &i, "--model")) != NULL) {
			o->model = v;
		} else if ((v = tui_optval(argc, argv, &i, "--db")) != NULL) {
			t->opt_db = v;
		} else if ((v = tui_optval(argc, argv, &i, "--preset")) !=
		    NULL) {
			o->preset = v;
		} else if ((v = tui_optval(argc, argv, &i, "--session")) !=
		    NULL) {
			o->session = v;
		} else if ((v = tui_optval(argc, argv, &i, "--chat-format")) !=
		    NULL) {
			t->opt_format = v;
		} else if ((v = tui_optval(argc, argv, &i, "--ctx")) != NULL) {
			if (tui_int("--ctx", v, 0, 1 << 24, &t->opt_ctx) < 0)
				return -1;
		} else if ((v = tui_optval(argc, argv, &i, "--device")) !=
		    NULL) {
			if (tui_int("--device", v, -1, 64, &t->opt_device) < 0)
				return -1;
		} else if ((rc = tui_param(argc, argv, &i, o)) != 0) {
			if (rc < 0)
				return -1;
		} else {
			cmd_error("unknown option '%s' (try 'vkchat -h')", a);
			return -1;
		}
		if (v != NULL && v[0] == '\0')
			return -1;
	}
	return 0;
}

/* Ctrl-C goes to the top view; an overlay without its own use closes. */
static void
tui_interrupt(struct tui *t)
{
	if (t->top->ops->interrupt != NULL)
		t->top->ops->interrupt(t, t->top);
	else
		tui_pop(t);
}

void
tui_push(struct tui *t, struct view *v)
{
	v->below = t->top;
	t->top = v;
}

void
tui_pop(struct tui *t)
{
	struct view *v = t->top;

	if (v == NULL || v->below == NULL)
		return; /* the chat screen stays */
	t->top = v->below;
	v->below = NULL;
	if (v->ops->free != NULL)
		v->ops->free(t, v);
}

int
tui_request(struct tui *t, const struct view_req *r, struct err *err)
{
	struct view *v;
	struct err dummy;
	int rc;

	if (err == NULL)
		err = &dummy;
	for (v = t->top->below; v != NULL; v = v->below) {
		if (v->ops->request == NULL)
			continue;
		rc = v->ops->request(t, v, r, err);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	return err_set(err, ERR_USAGE, "no screen takes this request");
}

static void
tui_signal(struct tui *t, int sig)
{
	switch (sig) {
	case SIGWINCH:
		screen_resize(t);
		break;
	case SIGINT:
		tui_interrupt(t);
		break;
	case SIGTSTP:
		screen_suspend(t);
		tui_handle(SIGTSTP, SIG_DFL);
		raise(SIGTSTP);
		/* Stopped until SIGCONT. */
		tui_handle(SIGTSTP, tui_on_signal);
		screen_resume(t);
		break;
	case SIGCONT:
		screen_resume(t);
		screen_resize(t);
		break;
	case SIGTERM:
	case SIGHUP:
		t->quit = 1;
		break;
	}
}

static void
tui_keys(struct tui *t, int final)
{
	struct keys_event ev;

	while (!t->quit && keys_next(&t->keys, &ev, final)) {
		free(t->hint);
		t->hint = NULL;
		t->top->ops->key(t, t->top, &ev);
	}
}

static void
tui_loop(struct tui *t)
{
	struct pollfd pfd[3];
	unsigned char sigs[64];
	char buf[4096];
	ssize_t n, i;
	int timeout, nfd;
	double input = 0; /* when the terminal last sent bytes */

	while (!t->quit) {
		t->spin = (unsigned)(util_now() * 10);
		screen_draw(t);
		pfd[0].fd = STDIN_FILENO;
		pfd[1].fd = t->sig_fd[0];
		pfd[2].fd = chatctl_engine_fd(t);
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		nfd = pfd[2].fd >= 0 ? 3 : 2;
		timeout = -1;
		if (t->engine == TUI_ENGINE_LOADING || t->generating)
			timeout = TUI_TICK_MS;
		if (keys_pending(&t->keys))
			timeout = TUI_ESC_MS;
		n = poll(pfd, (nfds_t)nfd, timeout);
		if (n < 0 && errno != EINTR)
			break;
		/*
		 * A lone Esc is an Esc once the terminal has been quiet for
		 * TUI_ESC_MS, also while the engine's events keep waking
		 * the loop (they would otherwise hold it back until the
		 * answer ends).
		 */
		if (keys_pending(&t->keys) &&
		    (n == 0 || util_now() - input >= TUI_ESC_MS / 1000.0))
			tui_keys(t, 1);
		/*
		 * Signals first, and whether poll saw them or not: a Ctrl-C
		 * caught while poll returned for the keys typed after it
		 * must still come before those keys.
		 */
		n = read(t->sig_fd[0], sigs, sizeof(sigs));
		for (i = 0; i < n && !t->quit; i++)
			tui_signal(t, sigs[i]);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n == 0 ||
			    (n < 0 && errno != EINTR && errno != EAGAIN)) {
				t->quit = 1;
				break;
			}
			if (n > 0) {
				input = util_now();
				keys_feed(&t->keys, buf, (size_t)n);
				tui_keys(t, 0);
			}
		}
		if (nfd == 3 && (pfd[2].revents & POLLIN))
			chatctl_events(t);
	}
}

/*
 * Resolve the model and session to open; 0, or an exit status.  With no
 * model given and none remembered, or the remembered one gone, it is the
 * pocket model, and *note (a new string) says so for the screen.
 */
static int
tui_choose(struct tui *t, struct tui_opts *o, int64_t *session, char **note)
{
	const char *env_db = getenv("VKCHAT_DB");
	char *last_model = NULL, *real, *gone = NULL;
	int64_t last_session = 0;
	struct stat st;
	struct err err;

	tui_load_last(&last_model, &last_session, &o->last_db);
	if (o->model == NULL && last_model != NULL &&
	    stat(last_model, &st) < 0 &&
	    (errno == ENOENT || errno == ENOTDIR)) {
		gone = xasprintf("the model of last time, '%s', is gone (%s)",
		    last_model, strerror(errno));
		free(last_model);
		last_model = NULL;
	}
	/* With no model given, last time's database holds the sessions. */
	if (o->model == NULL && t->opt_db == NULL &&
	    (env_db == NULL || env_db[0] == '\0'))
		t->opt_db = o->last_db;
	if (o->model != NULL) {
		/* A model given: a new session unless one is named. */
		t->model_path = xstrdup(o->model);
		free(last_model);
	} else if (last_model != NULL) {
		t->model_path = last_model;
		*session = o->fresh ? 0 : last_session;
	} else if (pocket_find(&t->model_path, &err) < 0) {
		if (gone != NULL)
			cmd_error("%s: start the chat with 'vkchat -m "
				  "MODEL.gguf'; %s",
			    gone, err.msg);
		else
			cmd_error("no model to open: start the chat with "
				  "'vkchat -m MODEL.gguf' (a GGUF model file); "
				  "the next plain 'vkchat' reopens it with its "
				  "session; %s",
			    err.msg);
		free(gone);
		return EXIT_USAGE;
	}
	if (o->model == NULL && pocket_is(t->model_path))
		*note = gone != NULL
		    ? xasprintf("%s; %s", gone, pocket_notice())
		    : xstrdup(pocket_notice());
	free(gone);
	if (stat(t->model_path, &st) < 0) {
		cmd_error(
		    "cannot open '%s': %s", t->model_path, strerror(errno));
		return EXIT_USAGE;
	}
	real = realpath(t->model_path, NULL);
	if (real != NULL) {
		free(t->model_path);
		t->model_path = real;
	}
	if (o->session != NULL &&
	    util_parse_i64(o->session, 1, INT64_MAX, session) < 0) {
		cmd_error("--session: '%s' is not a session id", o->session);
		return EXIT_USAGE;
	}
	return 0;
}

/* Apply the generation options over the preset. */
static int
tui_set_params(struct tui *t, const struct tui_opts *o, struct err *err)
{
	size_t k;
	int rc;

	for (k = 0; k < o->np; k++) {
		rc = o->pkey[k] != NULL
		    ? params_set(&t->conv.params, o->pkey[k], o->pval[k], err)
		    : params_set_list(&t->conv.params, o->pval[k], err);
		if (rc < 0)
			return rc;
	}
	t->conv.preset_changed = o->np > 0;
	return 0;
}

static void
tui_free(struct tui *t)
{
	while (t->top != NULL && t->top->below != NULL)
		tui_pop(t);
	chatctl_release(t);
	transcript_free(t->tr);
	keys_release(&t->keys);
	db_close(t->db);
	free(t->model_path);
	free(t->model_name);
	free(t->model_format);
	free(t->device);
	free(t->hint);
}

int
tui_main(int argc, char **argv)
{
	struct tui t;
	struct tui_opts o;
	struct err err;
	char *path = NULL, *note = NULL;
	int64_t session = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(&o, 0, sizeof(o));
	t.opt_device = -1;
	keys_init(&t.keys);
	chatscreen_init(&t);
	t.tr = transcript_new();
	if (tui_parse(&t, &o, argc, argv) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (o.help) {
		tui_usage(stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cmd_error("the chat screen needs a terminal on stdin and "
			  "stdout; without one, use 'vkchat run' for one "
			  "answer or 'vkchat chat --plain' for a chat on "
			  "plain lines");
		if (argc < 2)
			cmd_usage(1);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = tui_choose(&t, &o, &session, &note)) != 0)
		goto out;
	if (db_path(t.opt_db, &path, &err) < 0 ||
	    db_open(path, &t.db, &err) < 0 ||
	    chatctl_init(&t, o.preset, &err) < 0 ||
	    tui_set_params(&t, &o, &err) < 0 ||
	    (o.compare != NULL &&
		comparemode_open(&t, o.compare, o.same_seed, &err) < 0) ||
	    tui_signals_init(&t, &err) < 0) {
		rc = cmd_fail(&err);
		goto out;
	}
	t.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	screen_init(&t);
	prompt_init(&t, chatscreen_submit, chatctl_names);
	tui_notice(&t, 0,
	    "vkchat %s · F1 help · Ctrl-O sessions · Ctrl-P presets · "
	    "Ctrl-T templates · Ctrl-D quits",
	    PACKAGE_VERSION);
	chatctl_engine_start(&t);
	if (session > 0 && chatctl_load_session(&t, session, &err) < 0)
		tui_notice(&t, 1, "cannot reopen session %lld: %s",
		    (long long)session, err.msg);
	/* After the session, which starts the transcript anew. */
	if (note != NULL)
		tui_notice(&t, 0, "%s", note);
	tui_save_last(&t);
	tui_loop(&t);
	chatctl_engine_stop(&t);
	tui_save_last(&t);
	prompt_end(&t);
	screen_end(&t);
	tui_signals_end(&t);
	rc = EXIT_OK;
out:
	tui_free(&t);
	free(o.last_db);
	free(path);
	free(note);
	return rc;
}
