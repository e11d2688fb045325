/*
 * cmd-gen: what `vkchat run`, `vkchat compare` and `vkchat chat` share:
 * their command-line options (one table: the sampling flags, --set,
 * --preset with the user's presets from the database, --system, the
 * model, context and device), the output of model text, the -v report of
 * one answer, and saving exchanges as sessions in the database with the
 * answer streamed into its row (storage/db-stream.h).
 */
#ifndef VKCHAT_CMD_GEN_H
#define VKCHAT_CMD_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "conv.h"
#include "gen.h"
#include "llm.h"
#include "params.h"
#include "storage/db-stream.h"
#include "storage/db.h"

/* The commands whose options cmd_gen_args_parse() reads. */
enum cmd_gen_cmd {
	CMD_GEN_RUN,
	CMD_GEN_COMPARE,
	CMD_GEN_CHAT,
};

/* The generation parameters' lines for a usage text. */
#define CMD_GEN_USAGE \
	"  -n, --max-tokens N     stop after N tokens (-1: until the " \
	"context is full)\n" \
	"      --temp X           temperature (0: greedy)\n" \
	"      --top-k N, --top-p X, --min-p X, --typical-p X\n" \
	"      --repeat-penalty X, --repeat-last-n N\n" \
	"      --frequency-penalty X, --presence-penalty X\n" \
	"      --mirostat N, --mirostat-tau X, --mirostat-eta X\n" \
	"      --seed N           random seed (0: a random one)\n" \
	"      --stop TEXT        stop before TEXT (repeatable)\n" \
	"      --logit-bias ID:B  add B to token ID's logit (repeatable)\n" \
	"      --set LIST         key=value,... generation parameters\n" \
	"      --preset NAME      start from a preset (built-in or saved)\n" \
	"      --system TEXT      the system prompt (chat formats)\n" \
	"      --db PATH          the database (presets, saved sessions)\n"

/* Parameter settings in command-line order, applied after the preset. */
struct cmd_gen_opts {
	struct {
		char *key; /* a params key, or NULL: VALUE is a --set list */
		const char *value;
	} * sets;
	size_t n_sets;
	const char *preset; /* the last --preset, NULL: the defaults */
	const char *db;	    /* --db, or NULL */
};

/* One compare --sweep: parameter KEY (canonical) and its values. */
struct cmd_gen_sweep {
	const char *key;
	char *buf;     /* the values, NUL-separated */
	char **values; /* (n) pointers into buf */
	size_t n;
};

/*
 * What the options of run, compare and chat set: each command reads the
 * fields of the options it takes (the table in cmd-gen.c says which).
 */
struct cmd_gen_args {
	const char *model, *prompt, *file; /* -m, -p, -f */
	const char *format;		   /* --chat-format */
	struct cmd_gen_opts gen;	   /* the parameters, --preset, --db */
	const char **presets;		   /* every --preset, in order */
	size_t n_presets;
	struct cmd_gen_sweep *sweeps; /* compare --sweep, in order */
	size_t n_sweeps;
	int64_t ctx;   /* --ctx, 0: the model's */
	int64_t width; /* compare -w, 0: the terminal's */
	int device;    /* --device, -1: chosen automatically */
	int bos;       /* run: --bos 1, --no-bos 0, else -1 */
	int chat;      /* --chat, or implied by --chat-format or --system */
	int verbose, save, echo, special;
	int json;	    /* run, compare */
	int same_seed;	    /* compare */
	int plain, no_save; /* chat (--plain: see cmd_chat_screen) */
	int64_t session;    /* chat: --session, 0: none */
	int64_t probs;	    /* run: --probs N, 0: off */
	int cont;	    /* chat: -c, --continue */
};

/* Empty *a for a command line of ARGC arguments (device and bos -1). */
void cmd_gen_args_init(struct cmd_gen_args *a, int argc);
/* Free what *a holds (not the strings of argv it points into). */
void cmd_gen_args_release(struct cmd_gen_args *a);

/*
 * Parse the options of command CMD into *a (initialised), printing USAGE
 * for --help (to stdout: returns -1) or after an error (to stderr:
 * returns the exit status, the error printed first).  Every option is
 * checked as it comes and the first error stops; then arguments left
 * over, options that exclude each other, and the model: none given is
 * the pocket model (pocket_default).  Returns 0 when the command can go
 * on.
 */
int cmd_gen_args_parse(struct cmd_gen_args *a, enum cmd_gen_cmd cmd,
    const char *usage, int argc, char **argv);

/*
 * The prompt of -p, else of -f FILE, else of standard input, with one
 * trailing newline (and a CR before it) dropped, into *text (a new
 * string of *len bytes, the caller frees it).  Errors are printed after
 * PREFIX; returns 0 or the exit status.
 */
int cmd_gen_args_prompt(
    const struct cmd_gen_args *a, const char *prefix, char **text, size_t *len);

/*
 * The turns HISTORY[0..n_history) then the user turn TEXT (with system
 * prompt SYSTEM, room kept for P's max_tokens of answer, -1: unlimited;
 * the oldest turns left out with a notice when P's ctx_shift says so)
 * rendered with L's chat format into IDS; with VERBOSE the format and why
 * it was chosen on stderr, and a warning when the vocabulary lacks some
 * of its special tokens.  Returns 0 or the exit status.
 */
int cmd_gen_render(struct llm *l, const char *system,
    const struct chat_turn *history, size_t n_history, const char *text,
    const struct gen_params *p, int verbose, struct tokenizer_ids *ids);

/* Apply O's settings to *p in order (not the preset); errors name them. */
int cmd_gen_apply(
    const struct cmd_gen_opts *o, struct gen_params *p, struct err *err);

/*
 * The parameters O describes into *p (initialised here): the preset (see
 * cmd_gen_preset), then every setting in order.  Errors are printed with
 * CMD first; returns 0 or the exit status.
 */
int cmd_gen_params(
    const char *cmd, const struct cmd_gen_opts *o, struct gen_params *p);

/*
 * Preset NAME into *p (not initialised): a built-in without touching the
 * database, else a saved preset from the database DB_OPT (--db, or the
 * default), which is not created if it does not exist.  ERR_NOTFOUND
 * names both places.
 */
int cmd_gen_preset(const char *name, const char *db_opt, struct gen_params *p,
    struct err *err);

/*
 * Model text to stdout, flushed: when stdout is a terminal, control
 * characters other than newline and tab are shown as U+FFFD.
 */
struct cmd_gen_out {
	int tty;
	struct sbuf buf;
};

void cmd_gen_out_init(struct cmd_gen_out *o);
void cmd_gen_out_release(struct cmd_gen_out *o);
void cmd_gen_out_write(struct cmd_gen_out *o, const char *text, size_t len);

/*
 * The -v lines for one answer on stderr: the sampler chain of P (with
 * the seed used), prompt and generation statistics.
 */
void cmd_gen_report(
    const struct gen_params *p, int32_t n_vocab, const struct gen_stats *st);

/*
 * A conversation being saved by a command (run --save, chat --plain): the
 * database and the conversation model (conv.h) that writes every row;
 * these wrappers print what fails.
 */
struct cmd_gen_save {
	struct db *db;
	struct conv conv;
	int64_t prompt;	     /* the last prompt */
	int64_t prev_prompt; /* before the last cmd_gen_save_begin */
	int warned;	     /* a failed streaming write was reported */
};

/*
 * Open the database DB_OPT for saving a conversation with the model
 * (PATH, SIZE, IDENTITY), the chat format FORMAT (NULL: raw) and the
 * preset PRESET (NULL: none).  Errors are printed; returns 0 or the exit
 * status.
 */
int cmd_gen_save_open(struct cmd_gen_save *s, const char *db_opt,
    const char *path, uint64_t size, const char *identity, const char *format,
    const char *preset);

/*
 * Continue session ID (LATEST: the most recently updated one): its
 * branch as chat turns into a new array *turns of *n_turns (each text a
 * new string), and its settings into *p (released and set).  Errors are
 * printed; returns 0 or the exit status.
 */
int cmd_gen_save_continue(struct cmd_gen_save *s, int64_t id, int latest,
    struct gen_params *p, struct chat_turn **turns, size_t *n_turns);

/* Start the next exchange in a new session (/new). */
void cmd_gen_save_restart(struct cmd_gen_save *s);

/*
 * Store a new answer before it is generated: USER (not NULL) is a new
 * prompt added after the last message; USER NULL regenerates the answer
 * to the last prompt (a sibling of the old answer).  The session is
 * created first when there is none, with P's settings (whose system
 * prompt is the session's; P's seed as the user set it, 0 when drawn).
 * SEED is the seed the answer uses.
 */
int cmd_gen_save_begin(struct cmd_gen_save *s, const char *user,
    const struct gen_params *p, uint64_t seed, struct err *err);

/*
 * Leave the last exchange out of the conversation (its answer failed
 * before any text): the next prompt follows what came before it.  The
 * rows stay in the database, a branch of their own.
 */
void cmd_gen_save_forget(struct cmd_gen_save *s);

/* Append answer text; the first failed write is printed as a warning. */
void cmd_gen_save_text(struct cmd_gen_save *s, const char *text, size_t len);

/*
 * Finish the answer: how it ended, its statistics ST (NULL: none, it
 * failed) and ERROR (NULL unless it failed).  Errors are printed;
 * returns 0 or -1.
 */
int cmd_gen_save_finish(struct cmd_gen_save *s, enum gen_finish finish,
    const struct gen_stats *st, const char *error);

void cmd_gen_save_close(struct cmd_gen_save *s);

#endif
