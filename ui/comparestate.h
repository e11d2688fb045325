/*
 * comparestate: compare mode's state that needs no terminal (ui/comparemode.c
 * draws them and carries them out).  The question that saves a column as
 * a user preset ("s", a column number, a name, and "y" when the name is
 * a user preset already), the line under each column (speed, how it
 * ended, the winner), a stored run's one-line summary, the argument of
 * /runs, and the settings a saved preset gets.
 */
#ifndef VKCHAT_COMPARESTATE_H
#define VKCHAT_COMPARESTATE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db-compare.h"
#include "err.h"
#include "field.h"
#include "keys.h"
#include "params.h"
#include "util.h"

/* Where the save-as-preset question is. */
enum comparestate_step {
	COMPARESTATE_IDLE,	/* no question open */
	COMPARESTATE_COLUMN,	/* which column? */
	COMPARESTATE_NAME,	/* the preset's name */
	COMPARESTATE_OVERWRITE, /* the name is a user preset: replace it? */
};

/* What a key asks the caller to do. */
enum comparestate_act {
	COMPARESTATE_NONE,	/* nothing (the key was used, or ignored) */
	COMPARESTATE_SAVE,	/* save column COL as a new preset NAME */
	COMPARESTATE_REPLACE,	/* replace user preset NAME with column COL */
	COMPARESTATE_CANCELLED, /* the question was dropped */
};

/* The question's state.  Caller-owned: comparestate_ask_init / _release. */
struct comparestate_ask {
	enum comparestate_step step;
	size_t n;      /* columns to choose from */
	size_t col;    /* the column chosen, 0-based */
	int keep_seed; /* the preset keeps the seed of the column's text */
	struct field name;
};

void comparestate_ask_init(struct comparestate_ask *a);
void comparestate_ask_release(struct comparestate_ask *a);
/* Open the question over N columns (1 to 8): "which column?". */
void comparestate_ask_start(struct comparestate_ask *a, size_t n);
/* Close the question (after a save, or to drop it). */
void comparestate_ask_stop(struct comparestate_ask *a);
/* The name given is a user preset: ask before replacing it. */
void comparestate_ask_confirm(struct comparestate_ask *a);
/* Back to editing the name (after a failed save). */
void comparestate_ask_rename(struct comparestate_ask *a);

/*
 * Apply key EV to the open question: a column number picks the column
 * (a new name starts empty, the seed kept); in the name, editing keys
 * edit, Tab switches between keeping the column's seed and a random one,
 * Enter asks for COMPARESTATE_SAVE; "y" answers the overwrite question with
 * COMPARESTATE_REPLACE, "n" or Esc goes back to the name; Esc elsewhere
 * closes the question (COMPARESTATE_CANCELLED).  The caller checks the name
 * and moves the question on (stop, confirm, rename).
 */
enum comparestate_act comparestate_ask_key(
    struct comparestate_ask *a, const struct keys_event *ev);

/*
 * The question as one line of display text for WIDTH columns into OUT
 * (appended): the question, then the visible part of the name being
 * typed; SEED is the chosen column's seed.  The bytes of the question to
 * *plen and the cursor's column to *ccol.  Nothing when no question is
 * open.
 */
void comparestate_ask_view(const struct comparestate_ask *a, uint64_t seed,
    int width, struct sbuf *out, size_t *plen, int *ccol);

/* Where a column is. */
enum comparestate_state {
	COMPARESTATE_WAITING,	/* armed: no prompt sent yet */
	COMPARESTATE_STREAMING, /* text is coming */
	COMPARESTATE_STOPPING, /* Alt-N stopped it; its end is not reported yet */
	COMPARESTATE_DONE,     /* ended, with statistics */
};

/*
 * The line under a column in STATE into SB (appended): "waiting for the
 * prompt" while armed, "generating, N bytes" while streaming,
 * "[stopped] N bytes" once stopped (the engine
 * reports a column's end with the others'); when done, "winner · " for
 * the WINNER, the speed when known, and how it ended ("[stop]",
 * "[length]", "[stopped]", "[error: ...]" with ERROR, "[incomplete]" for
 * a PARTIAL column of a stored run).
 */
void comparestate_meta(struct sbuf *sb, enum comparestate_state state,
    size_t bytes, const struct db_gen_stats *st, int partial, const char *error,
    int winner);

/*
 * A stored run in one line into SB (appended): "compare run ID: N
 * columns, winner W" (or "no winner"), with the first line of its prompt
 * cut to about PROMPT_MAX bytes in quotes (0: no prompt).  The prompt is
 * untrusted: the caller sanitises the line before showing it.
 */
void comparestate_run_summary(
    struct sbuf *sb, const struct db_compare_run *r, size_t prompt_max);

/*
 * The argument of "/runs [ID|last]": the run id to *id (0: the last run
 * of the session).  ERR_USAGE, naming the argument, for anything else.
 */
int comparestate_runs_arg(const char *args, int64_t *id, struct err *err);

/*
 * The settings a column saved as a preset gets, into *out (initialised
 * here; params_release): the column's PARAMS, the SEED that produced its
 * text when KEEP_SEED (else 0, a random seed each time), and the run's
 * system prompt SYSTEM (NULL: none), the one its text was generated with.
 */
void comparestate_preset_params(struct gen_params *out,
    const struct gen_params *params, uint64_t seed, int keep_seed,
    const char *system);

#endif
