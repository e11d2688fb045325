/*
 * prompt: readline's callback interface bridged into curses.
 *
 * Readline is told to leave the terminal, the signals and the screen
 * alone (no prep/deprep of the terminal, no signal handlers, no
 * LINES/COLUMNS in the environment, output to /dev/null); its input comes
 * from a queue this file fills (rl_getc_function), and its display is
 * drawn by screen.c from rl_display_prompt, rl_line_buffer and rl_point
 * (rl_redisplay_function does nothing: the TUI redraws after every batch
 * of input anyway).  rl_callback_read_char() is called once per queued
 * byte; a finished line goes to the SUBMIT given to prompt_init().
 *
 * Multi-line input: the TUI inserts a newline itself for Ctrl-J and
 * Alt-Enter (prompt_insert), whatever the key bindings, and a bracketed
 * paste arrives as one insertion, line breaks included.  History
 * entries may span lines: the file is written with a timestamp line
 * ("#" and the seconds) before each entry, which is how readline keeps
 * multi-line entries together.  Readline writes timestamps only when
 * history_comment_char is set before the entries are made; a file with
 * no timestamp line at all (written before that was so) is read one
 * line per entry and rewritten with them.
 */
#include "prompt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "slash.h"
#include "text.h"
#include "util.h"

#define PROMPT_STRING "> "
#define PROMPT_HISTORY_MAX 1000

static struct tui *prompt_tui;
/* Where a finished line goes, and the names Tab completes. */
static prompt_submit_fn prompt_submit;
static slash_names_fn prompt_names;
static struct sbuf prompt_queue;
static size_t prompt_qpos;
static char *prompt_history;
static FILE *prompt_null;
static int prompt_in_handler;

static int
prompt_getc(FILE *f)
{
	unsigned char c;
	ssize_t n;

	(void)f;
	if (prompt_qpos < prompt_queue.len)
		return (unsigned char)prompt_queue.buf[prompt_qpos++];
	/*
	 * Readline asked for more than was queued (a key it reads
	 * itself): wait for the terminal.
	 */
	do {
		n = read(STDIN_FILENO, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? c : EOF;
}

static int
prompt_available(void)
{
	return prompt_qpos < prompt_queue.len;
}

static void
prompt_redisplay(void)
{
	/* screen_draw() shows readline's state after each batch of keys. */
}

static int
prompt_startup(void)
{
	struct tui *t = prompt_tui;

	if (t->pending_line != NULL) {
		rl_insert_text(t->pending_line);
		free(t->pending_line);
		t->pending_line = NULL;
	}
	return 0;
}

/*
 * Whether the history file at PATH starts with a timestamp line (or is
 * empty or missing): then readline reads it as it was written, multi-line
 * entries included.
 */
static int
prompt_history_stamped(const char *path)
{
	char buf[2];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return n == 0 ||
	    (n == 2 && buf[0] == history_comment_char && buf[1] >= '0' &&
		buf[1] <= '9');
}

/*
 * Load the history file PATH.  A file without timestamps holds one entry
 * per line: read it that way (else readline would join every line into
 * one multi-line entry) and rewrite it with timestamps.
 */
static void
prompt_history_load(const char *path)
{
	HIST_ENTRY **list;
	char **lines;
	int i, n;

	if (prompt_history_stamped(path)) {
		read_history(path);
		return;
	}
	history_multiline_entries = 0;
	read_history(path);
	history_multiline_entries = 1;
	/* the entries read have no timestamps: make them again */
	list = history_list();
	n = list != NULL ? history_length : 0;
	lines = xcalloc((size_t)n + 1, sizeof(*lines));
	for (i = 0; i < n; i++)
		lines[i] = xstrdup(list[i]->line);
	clear_history();
	for (i = 0; i < n; i++) {
		add_history(lines[i]);
		free(lines[i]);
	}
	free(lines);
	write_history(path);
	chmod(path, 0600);
}

static void
prompt_save(const char *line)
{
	struct stat st;

	add_history(line);
	if (prompt_history == NULL)
		return;
	/* Append each entry at once, so a crash keeps the history. */
	if (stat(prompt_history, &st) == 0)
		append_history(1, prompt_history);
	else
		write_history(prompt_history);
	chmod(prompt_history, 0600);
}

static void
prompt_line(char *line)
{
	struct tui *t = prompt_tui;

	if (line == NULL) {
		/* Ctrl-D on an empty line. */
		t->quit = 1;
		return;
	}
	if (line[0] != '\0')
		prompt_save(line);
	prompt_in_handler = 1;
	prompt_submit(t, line);
	prompt_in_handler = 0;
	free(line);
}

/* Completion: the slash commands, nothing else (no file names). */
static char **
prompt_complete(const char *text, int start, int end)
{
	char **v, **out;
	size_t n = 0, i, lcp;

	(void)text;
	rl_attempted_completion_over = 1;
	v = slash_complete(rl_line_buffer, (size_t)start, (size_t)end,
	    prompt_names, prompt_tui);
	if (v == NULL)
		return NULL;
	while (v[n] != NULL)
		n++;
	if (n == 0) {
		free(v);
		return NULL;
	}
	/* Readline wants the common prefix first, then the matches. */
	lcp = strlen(v[0]);
	for (i = 1; i < n; i++) {
		size_t k = 0;

		while (k < lcp && v[i][k] == v[0][k])
			k++;
		lcp = k;
	}
	out = xcalloc(n + 2, sizeof(*out));
	out[0] = xstrndup(v[0], lcp);
	if (n == 1) {
		free(out[0]);
		out[0] = v[0];
		rl_completion_suppress_append =
		    v[0][0] != '\0' && v[0][strlen(v[0]) - 1] == '=';
	} else {
		for (i = 0; i < n; i++)
			out[i + 1] = v[i];
	}
	free(v);
	return out;
}

static void
prompt_matches(char **matches, int n, int max_len)
{
	struct sbuf sb;
	int i;

	(void)max_len;
	sbuf_init(&sb);
	for (i = 1; i <= n; i++)
		sbuf_addf(&sb, "%s%s", i > 1 ? "  " : "", matches[i]);
	tui_hint(prompt_tui, "%s", sb.buf);
	sbuf_release(&sb);
}

void
prompt_init(struct tui *t, prompt_submit_fn submit, slash_names_fn names)
{
	char *dir = util_xdg_dir("state");

	prompt_tui = t;
	prompt_submit = submit;
	prompt_names = names;
	sbuf_init(&prompt_queue);
	prompt_qpos = 0;
	prompt_null = fopen("/dev/null", "w");
	rl_readline_name = "vkchat";
	rl_instream = stdin;
	rl_outstream = prompt_null;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_getc_function = prompt_getc;
	rl_input_available_hook = prompt_available;
	rl_redisplay_function = prompt_redisplay;
	rl_startup_hook = prompt_startup;
	rl_attempted_completion_function = prompt_complete;
	rl_completion_display_matches_hook = prompt_matches;
	rl_completer_word_break_characters = " \t\n";
	history_comment_char = '#';
	history_write_timestamps = 1;
	history_multiline_entries = 1;
	using_history();
	stifle_history(PROMPT_HISTORY_MAX);
	if (dir != NULL && util_mkdirs(dir, 0700, NULL) == 0) {
		prompt_history = xasprintf("%s/history", dir);
		prompt_history_load(prompt_history);
	}
	free(dir);
	rl_callback_handler_install(PROMPT_STRING, prompt_line);
}

void
prompt_end(struct tui *t)
{
	(void)t;
	rl_callback_handler_remove();
	if (prompt_history != NULL)
		history_truncate_file(prompt_history, PROMPT_HISTORY_MAX);
	free(prompt_history);
	prompt_history = NULL;
	clear_history();
	sbuf_release(&prompt_queue);
	if (prompt_null != NULL)
		fclose(prompt_null);
	prompt_null = NULL;
	prompt_tui = NULL;
}

void
prompt_feed(struct tui *t, const char *bytes, size_t len)
{
	sbuf_reset(&prompt_queue);
	prompt_qpos = 0;
	sbuf_add(&prompt_queue, bytes, len);
	while (prompt_qpos < prompt_queue.len && !t->quit)
		rl_callback_read_char();
	sbuf_reset(&prompt_queue);
	prompt_qpos = 0;
}

void
prompt_insert(struct tui *t, const char *text, size_t len)
{
	char *s = xstrndup(text, len);

	(void)t;
	rl_insert_text(s);
	free(s);
}

void
prompt_set(struct tui *t, const char *text)
{
	if (prompt_in_handler) {
		/* Readline starts a fresh line after the handler. */
		free(t->pending_line);
		t->pending_line = xstrdup(text);
		return;
	}
	rl_replace_line(text, 1);
	rl_point = rl_end;
}

void
prompt_clear(struct tui *t)
{
	(void)t;
	rl_callback_sigcleanup();
	rl_free_line_state();
	rl_replace_line("", 1);
	rl_point = rl_mark = 0;
}

int
prompt_empty(void)
{
	return rl_end == 0;
}

void
prompt_view(struct tui *t, int width, struct sbuf *out, int *rows, int *crow,
    int *ccol, size_t *plen)
{
	struct sbuf p;
	const char *dp = rl_display_prompt ? rl_display_prompt : PROMPT_STRING;

	(void)t;
	sbuf_init(&p);
	text_sanitize(&p, dp, strlen(dp), 1);
	*plen = p.len;
	text_edit_view(p.buf, rl_line_buffer ? rl_line_buffer : "",
	    rl_line_buffer ? (size_t)rl_end : 0, (size_t)rl_point, width, out,
	    rows, crow, ccol);
	sbuf_release(&p);
}
