/*
 * tui: the full-screen interface.  tui_main() is the entry for
 * "vkchat [-m MODEL.gguf] [OPTIONS]"; struct tui is the state every part
 * of the TUI works on (view.h: the stack of screens; chatscreen.c is the
 * chat screen, chatctl.c its controller between the prompt, the engine
 * and the conversation; browser.c, picker.c and help.c are overlays).
 *
 * Threads: all of it runs on the UI thread; the engine is reached only
 * through the worker's queue (src/worker.h).
 */
#ifndef VKCHAT_TUI_H
#define VKCHAT_TUI_H

#include <stddef.h>
#include <stdint.h>

#include "conv.h"
#include "storage/db-messages.h"
#include "storage/db.h"
#include "keys.h"
#include "params.h"
#include "steps.h"
#include "transcript.h"
#include "view.h"
#include "worker.h"

/* A yes/no question shown in place of the prompt. */
enum tui_ask {
	TUI_ASK_NONE,
	TUI_ASK_QUIT,
};

enum tui_engine {
	TUI_ENGINE_NOMODEL, /* no model given */
	TUI_ENGINE_LOADING,
	TUI_ENGINE_READY,
	TUI_ENGINE_FAILED,
};

/* One message of the conversation shown (the session's branch). */
struct tui_msg {
	enum db_role role;
	char *text;
	int64_t id;   /* message id in the database; 0 = not stored */
	size_t entry; /* its transcript entry */
};

struct comparemode;

struct tui {
	/* Options. */
	const char *opt_db;
	const char *opt_format;
	int opt_ctx;
	int opt_device;
	char *model_path; /* NULL = none */

	/* Terminal. */
	int sig_fd[2]; /* self-pipe: signal numbers as bytes */
	int rows, cols;
	int colour;
	int utf8; /* the locale's encoding is UTF-8 */
	int quit;
	int curses_on;
	struct keys keys;
	enum tui_ask ask;
	char *hint; /* one line over the status line, until the next key */
	unsigned spin;

	/* Engine. */
	struct worker *worker;
	enum tui_engine engine;
	double progress; /* loading or prefill, 0..1 */
	int prefilling;
	char *model_name, *device;
	char *model_format; /* the loaded model's chat format (conv has the
			       conversation's) */
	int n_ctx, n_used;
	double tps; /* of the last answer; < 0 unknown */

	/* Storage and the conversation (conv.h: model, format, session,
	 * branch, settings, the answer being stored). */
	struct db *db;
	struct conv conv;
	struct transcript *tr;
	struct tui_msg *msgs; /* the branch shown */
	size_t n_msgs, cap_msgs;

	/* The running generation. */
	int generating;
	int cancelling;
	size_t gen_entry;
	int stream_failed; /* a write failed and was reported */
	size_t n_dropped;  /* turns left out of this answer's prompt, told */

	/* The sampler's records (steps.h): the answer streaming, and the
	 * answers of this run by message id, for the inspector. */
	struct steps live;
	struct steps_store kept;
	/* Colour the answers' tokens by probability (Alt-C, /colour). */
	int probs_colour;

	/* /edit: the next prompt replaces conv[edit_at] as a new branch. */
	int editing;
	size_t edit_at;
	char *pending_line; /* text for the prompt line when it restarts */

	/* Compare mode (ui/comparemode.h); NULL outside it. */
	struct comparemode *cmp;

	/* The screens (view.h): the chat screen at the bottom, overlays
	 * over it; TOP is drawn and gets the keys. */
	struct view base;
	struct view *top;
};

/*
 * The TUI entry: parse ARGV (options only), open the database and the
 * model, run until the user quits.  Returns the exit status.
 */
int tui_main(int argc, char **argv);

/* Add a notice (or an error, ERROR set) to the transcript. */
void tui_notice(struct tui *t, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Show a one-line hint over the status line until the next key. */
void tui_hint(struct tui *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Leave curses for a program that needs the terminal (man, $EDITOR):
 * run ARGV[0] with ARGV and come back; returns its exit status, or -1
 * when it could not run (*err says why).
 */
int tui_run_program(struct tui *t, char *const argv[], struct err *err);

/* Put overlay V on top of the screens / close the top one (never the
 * chat screen). */
void tui_push(struct tui *t, struct view *v);
void tui_pop(struct tui *t);
/*
 * Hand request R from the top view to the views below it, top down,
 * until one takes it (view_ops.request).  0 done, -1 with *err.
 */
int tui_request(struct tui *t, const struct view_req *r, struct err *err);

/* Remember the model and session for the next "vkchat" with no model. */
void tui_save_last(struct tui *t);

#endif
