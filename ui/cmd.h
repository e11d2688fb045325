/*
 * cmd: the vkchat subcommands.  Each cmd_NAME(argc, argv) gets the
 * arguments after its own name (argv[0] is the subcommand name) and
 * returns the process exit status.  Commands print their own output and
 * report errors through cmd_error().
 *
 * Exit statuses: 0 ok, 1 usage or general failure, 2 bad model file,
 * 3 device error.
 */
#ifndef VKCHAT_CMD_H
#define VKCHAT_CMD_H

#include <stdio.h>

#include "err.h"

enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_MODEL = 2,
	EXIT_DEVICE = 3,
	EXIT_NOMEM = 4,
	EXIT_DIFFERENT = 5, /* sessions replay: the answer came out different */
};

/*
 * For util_on_oom(): put the terminal back, say what ran out, and exit
 * with EXIT_NOMEM.
 */
void cmd_oom(size_t n);

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* The table of subcommands, ended by a NULL name. */
extern const struct cmd cmd_table[];

/* Print "vkchat: MESSAGE" to stderr (printf-style). */
/*
 * Whether this program runs from the build directory it was built in
 * (not installed): then the source tree's data/ and man/ are used.
 */
int cmd_uninstalled(void);

/*
 * The source tree's manual page PAGE ("vkchat-sampling": man/PAGE.1, .7
 * or .5) when this program runs uninstalled and the file is there (a new
 * string), else NULL: "man -l" shows it before "make install".
 */
char *cmd_man_page(const char *page);

void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print an error record and return the exit status its code maps to. */
int cmd_fail(const struct err *err);
/* Exit status for an error code (ERR_FORMAT/MODEL -> 2, DEVICE -> 3). */
int cmd_status(enum err_code code);
/*
 * Report the option getopt_long() just refused in ARGV (with opterr 0) as
 * "CMD: unknown option ...", then the hint; returns EXIT_USAGE.
 */
int cmd_bad_option(const char *cmd, char **argv);
/*
 * After a usage error of command CMD, one line on stderr saying where the usage is ("Try 'vkchat CMD --help' for
 * more."), rather than the whole of it.
 */
void cmd_usage_hint(const char *cmd);
/*
 * Report the option getopt_long() just refused in ARGV (with opterr 0)
 * as "CMD: bad option or missing argument ...": '-L' when OPT (optopt) is
 * the letter L of a short option, else the long option ARGV[IND - 1]
 * (IND: optind) as it was typed.
 * Returns EXIT_USAGE; the usage is the caller's to print.
 */
int cmd_bad_optarg(const char *cmd, int opt, char **argv, int ind);

/* Print the top-level usage to stdout (status 0) or stderr. */
void cmd_usage(int to_stderr);

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
/* vkchat info: describe a GGUF model file (--json for JSON). */
int cmd_info(int argc, char **argv);
/* vkchat tokenize: text -> token ids with a model's tokenizer. */
int cmd_tokenize(int argc, char **argv);
/*
 * vkchat devices (and vkchat info --devices): list the Vulkan devices
 * (--json for JSON).
 */
int cmd_devices(int argc, char **argv);
/* vkchat run: complete a raw prompt with a model, streaming to stdout. */
int cmd_run(int argc, char **argv);
/*
 * vkchat chat: a conversation with a model: the TUI on a terminal, else
 * (or with --plain) one user turn per input line.
 */
int cmd_chat(int argc, char **argv);
/*
 * vkchat compare: one prompt completed with 2-8 presets or swept settings
 * decoded as one batch, printed side by side (--json for JSON).
 */
int cmd_compare(int argc, char **argv);
/* vkchat bench: prompt-processing and generation speed of a model. */
int cmd_bench(int argc, char **argv);
/* vkchat sessions: list, show, export, import, rename, delete, fork. */
int cmd_sessions(int argc, char **argv);
/* vkchat sessions replay: regenerate a stored answer and compare
 * (cmd-replay.c). */
int cmd_sessions_replay(int argc, char **argv);
/* vkchat presets: list, show, add, set, copy, delete, export, import. */
int cmd_presets(int argc, char **argv);
/* vkchat templates: list, show, add, edit, delete, render. */
int cmd_templates(int argc, char **argv);

#endif
