/*
 * cmd-store: what the storage commands (sessions, presets, templates)
 * share: the subcommand dispatch, the argument parser (long options
 * anywhere, the global --db, the usage on --help), opening the database,
 * and output that fits the terminal and never sends control characters
 * from stored text to it.
 */
#ifndef VKCHAT_CMD_STORE_H
#define VKCHAT_CMD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "util.h"

struct db;

/* One option: --NAME (or -SHORT) with a VALUE, or a FLAG set to 1. */
struct cmd_store_opt {
	const char *name;
	char short_name; /* 0: none */
	const char **value;
	int *flag;
};

/* Print a storage command's usage to F. */
typedef void (*cmd_store_usage_fn)(FILE *f);

/*
 * Parse ARGV[1..ARGC-1] for command CMD ("sessions list"): the options in
 * OPTS (ended by a NULL name), --db PATH into *db and -h/--help anywhere
 * before "--"; everything else goes to the new array *pos (free it; the
 * strings stay argv's), which must hold MIN to MAX arguments.  Returns 0;
 * 1 after printing USAGE to stdout when help was asked for; or -1 after
 * printing what is wrong.  *pos is NULL unless it returns 0.
 */
int cmd_store_args(const char *cmd, int argc, char **argv,
    const struct cmd_store_opt *opts, int min, int max,
    cmd_store_usage_fn usage, const char **db, char ***pos, int *npos);

/* A subcommand ("list") and the function that runs it. */
struct cmd_store_sub {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/*
 * Run storage command CMD ("presets"): the subcommand of SUBS (ended by a
 * NULL name) that ARGV names, the first argument that is neither an
 * option nor --db's value, gets ARGV without that word.  Without one,
 * USAGE goes to stdout for -h/--help, else to stderr after an error.
 * Returns the exit status.
 */
int cmd_store_dispatch(const char *cmd, const struct cmd_store_sub *subs,
    cmd_store_usage_fn usage, int argc, char **argv);

/* Open the database (--db value DB_OPT or the default); NULL on error. */
struct db *cmd_store_open(const char *db_opt);

/* Print an error record; returns EXIT_USAGE. */
int cmd_store_fail(const struct err *e);

/* Parse a positive id for WHAT ("session"); prints and returns -1. */
int cmd_store_id(const char *what, const char *s, int64_t *out);

/*
 * Columns to fit output into: $COLUMNS when set, else the terminal's
 * width when stdout is one, else 0 (no limit).
 */
int cmd_store_width(void);

/*
 * Append S for a terminal: control characters, DEL and bytes that are
 * not UTF-8 as \xNN escapes; newlines and tabs kept when MULTILINE, else
 * shown as spaces.
 */
void cmd_store_safe(struct sbuf *out, const char *s, int multiline);

/*
 * Append S (already safe, one line) cut to at most WIDTH columns with an
 * ellipsis, or whole when WIDTH is 0; returns the columns it takes.
 */
int cmd_store_fit(struct sbuf *out, const char *s, int width);

/*
 * Print LEFT, then TEXT (already safe, one line) fitted into what WIDTH
 * leaves of the line after LEFT (no limit when WIDTH is 0, or LEFT
 * takes it all), and a newline.
 */
void cmd_store_row(const char *left, const char *text, int width);

/* Display columns of S (safe UTF-8, one line). */
int cmd_store_cols(const char *s);

/* Local time MS as "2026-01-02 03:04" into BUF. */
const char *cmd_store_time(int64_t ms, char *buf, size_t size);

/*
 * Parse a --since value: "YYYY-MM-DD", "YYYY-MM-DD HH:MM" (or with a
 * 'T'), "today", "yesterday", or "N" followed by h, d or w (hours, days,
 * weeks ago).  Milliseconds since the epoch into *out; 0 or -1 (printed).
 */
int cmd_store_since(const char *s, int64_t *out);

/*
 * Ask QUESTION on the terminal ("... [y/N] "); 1 for yes.  Only when
 * stdin is a terminal: otherwise 0 without asking.
 */
int cmd_store_confirm(const char *question);

/* Write DATA to FILE (0600, atomically), or stdout when FILE is NULL. */
int cmd_store_output(const char *file, const char *data, size_t len);

/* Read FILE ("-": stdin) whole; NULL after printing an error. */
char *cmd_store_input(const char *file, size_t *len);

#endif
