/*
 * cmd-gen: the options of the generation commands, model text output,
 * the -v report and saved exchanges for `vkchat run`, `vkchat compare`
 * and `vkchat chat`.  See cmd-gen.h.
 *
 * The options are one table (cmd_gen_options): each entry says which
 * commands take it and how it is applied; cmd_gen_args_parse() builds
 * getopt_long's array and short-option string from the entries of one
 * command, so a command cannot take an option it does not describe.
 *
 * Saving follows storage/db-stream.h: the user's prompt is committed and
 * the answer's row created (partial, with its settings, seed and model)
 * before the first token; the text is written at most every second while
 * it streams and finished with the statistics.  The database is the UI
 * thread's: the engine never touches it.
 */
#include "cmd-gen.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd-load.h"
#include "cmd.h"
#include "pocket.h"
#include "sampler.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "storage/db-sessions.h"
#include "utf8.h"
#include "util.h"

/* How an option is applied (struct cmd_gen_option). */
enum cmd_gen_kind {
	CMD_GEN_FLAG,	/* stores VALUE in the int at FIELD */
	CMD_GEN_PFLAG,	/* sets parameter ctx_shift to VALUE (no argument) */
	CMD_GEN_STRING, /* stores its argument in the pointer at FIELD */
	CMD_GEN_PARAM,	/* a generation parameter named by the option */
	CMD_GEN_SET,	/* --set key=value,... */
	CMD_GEN_PRESET,
	CMD_GEN_SWEEP,
	CMD_GEN_CTX,
	CMD_GEN_WIDTH,
	CMD_GEN_DEVICE,
	CMD_GEN_SESSION,
	CMD_GEN_PROBS,
	CMD_GEN_HELP,
};

/* The commands that take an option: bits of 1 << enum cmd_gen_cmd. */
#define CMD_GEN_R (1u << CMD_GEN_RUN)
#define CMD_GEN_C (1u << CMD_GEN_COMPARE)
#define CMD_GEN_H (1u << CMD_GEN_CHAT)
#define CMD_GEN_RC (CMD_GEN_R | CMD_GEN_C)
#define CMD_GEN_RH (CMD_GEN_R | CMD_GEN_H)
#define CMD_GEN_ALL (CMD_GEN_R | CMD_GEN_C | CMD_GEN_H)
#define CMD_GEN_AT(f) offsetof(struct cmd_gen_args, f)

/* getopt_long's value for every CMD_GEN_PARAM option (see below). */
#define CMD_GEN_VAL_PARAM 1000

struct cmd_gen_option {
	const char *name;
	enum cmd_gen_kind kind; /* _FLAG, _PFLAG and _HELP take no argument */
	unsigned cmds;
	int letter;   /* the short option, or 0 */
	size_t field; /* CMD_GEN_FLAG, CMD_GEN_STRING */
	int value;    /* CMD_GEN_FLAG */
	int chat;     /* implies --chat */
};

/*
 * Every option of the generation commands.  The parameter options keep
 * this order and share one getopt_long value, so an abbreviation that
 * matches several of them (--rep) is the first, as it always was, and
 * one that also matches another option (--pre) is ambiguous.
 */
static const struct cmd_gen_option cmd_gen_options[] = {
	{ "model", CMD_GEN_STRING, CMD_GEN_ALL, 'm', CMD_GEN_AT(model), 0, 0 },
	{ "prompt", CMD_GEN_STRING, CMD_GEN_RC, 'p', CMD_GEN_AT(prompt), 0, 0 },
	{ "file", CMD_GEN_STRING, CMD_GEN_RC, 'f', CMD_GEN_AT(file), 0, 0 },
	{ "sweep", CMD_GEN_SWEEP, CMD_GEN_C, 0, 0, 0, 0 },
	{ "same-seed", CMD_GEN_FLAG, CMD_GEN_C, 0, CMD_GEN_AT(same_seed), 1,
	    0 },
	{ "chat", CMD_GEN_FLAG, CMD_GEN_RC, 0, CMD_GEN_AT(chat), 1, 0 },
	{ "chat-format", CMD_GEN_STRING, CMD_GEN_ALL, 0, CMD_GEN_AT(format), 0,
	    1 },
	{ "plain", CMD_GEN_FLAG, CMD_GEN_H, 0, CMD_GEN_AT(plain), 1, 0 },
	{ "json", CMD_GEN_FLAG, CMD_GEN_RC, 0, CMD_GEN_AT(json), 1, 0 },
	{ "save", CMD_GEN_FLAG, CMD_GEN_RC, 0, CMD_GEN_AT(save), 1, 0 },
	{ "no-save", CMD_GEN_FLAG, CMD_GEN_H, 0, CMD_GEN_AT(no_save), 1, 0 },
	{ "session", CMD_GEN_SESSION, CMD_GEN_RH, 0, 0, 0, 1 },
	{ "continue", CMD_GEN_FLAG, CMD_GEN_RH, 'c', CMD_GEN_AT(cont), 1, 1 },
	{ "ctx", CMD_GEN_CTX, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "ctx-shift", CMD_GEN_PFLAG, CMD_GEN_H, 0, 0, 1, 0 },
	{ "no-ctx-shift", CMD_GEN_PFLAG, CMD_GEN_H, 0, 0, 0, 0 },
	{ "device", CMD_GEN_DEVICE, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "probs", CMD_GEN_PROBS, CMD_GEN_R, 0, 0, 0, 0 },
	{ "echo", CMD_GEN_FLAG, CMD_GEN_R, 0, CMD_GEN_AT(echo), 1, 0 },
	{ "bos", CMD_GEN_FLAG, CMD_GEN_R, 0, CMD_GEN_AT(bos), 1, 0 },
	{ "no-bos", CMD_GEN_FLAG, CMD_GEN_R, 0, CMD_GEN_AT(bos), 0, 0 },
	{ "special", CMD_GEN_FLAG, CMD_GEN_R, 0, CMD_GEN_AT(special), 1, 0 },
	{ "width", CMD_GEN_WIDTH, CMD_GEN_C, 'w', 0, 0, 0 },
	{ "verbose", CMD_GEN_FLAG, CMD_GEN_ALL, 'v', CMD_GEN_AT(verbose), 1,
	    0 },
	{ "help", CMD_GEN_HELP, CMD_GEN_ALL, 'h', 0, 0, 0 },
	{ "temp", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "top-k", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "top-p", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "min-p", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "typical-p", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "repeat-penalty", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "repeat-last-n", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "frequency-penalty", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "presence-penalty", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "mirostat", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "mirostat-tau", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "mirostat-eta", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "seed", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "stop", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "logit-bias", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "system", CMD_GEN_PARAM, CMD_GEN_ALL, 0, 0, 0, 1 },
	{ "max-tokens", CMD_GEN_PARAM, CMD_GEN_ALL, 'n', 0, 0, 0 },
	{ "set", CMD_GEN_SET, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "preset", CMD_GEN_PRESET, CMD_GEN_ALL, 0, 0, 0, 0 },
	{ "db", CMD_GEN_STRING, CMD_GEN_ALL, 0, CMD_GEN_AT(gen.db), 0, 0 },
};

static const char *const cmd_gen_names[] = { "run", "compare", "chat" };

void
cmd_gen_args_init(struct cmd_gen_args *a, int argc)
{
	memset(a, 0, sizeof *a);
	a->gen.sets = xcalloc((size_t)argc + 1, sizeof *a->gen.sets);
	a->presets = xcalloc((size_t)argc + 1, sizeof *a->presets);
	a->device = -1;
	a->bos = -1;
}

void
cmd_gen_args_release(struct cmd_gen_args *a)
{
	size_t i;

	for (i = 0; i < a->gen.n_sets; i++)
		free(a->gen.sets[i].key);
	free(a->gen.sets);
	for (i = 0; i < a->n_sweeps; i++) {
		free(a->sweeps[i].buf);
		free(a->sweeps[i].values);
	}
	free(a->sweeps);
	free(a->presets);
	memset(a, 0, sizeof *a);
}

/* The option's parameter key: its long name with '-' as '_'. */
static char *
cmd_gen_key(const char *opt)
{
	char *key;
	size_t i;

	if (strcmp(opt, "temp") == 0)
		opt = "temperature";
	key = xstrdup(opt);
	for (i = 0; key[i] != '\0'; i++)
		if (key[i] == '-')
			key[i] = '_';
	return key;
}

/* Parse --sweep "KEY=V1,V2,..." into a new sweep; 0 or the exit status. */
static int
cmd_gen_sweep(struct cmd_gen_args *a, const char *arg)
{
	const char *eq = strchr(arg, '='), *key;
	struct cmd_gen_sweep *s;
	struct gen_params scratch;
	struct err err;
	char *name, *v;
	size_t i;
	int rc;

	if (eq == NULL || eq == arg) {
		cmd_error(
		    "compare: --sweep '%s' is not KEY=VALUE,VALUE,...", arg);
		return EXIT_USAGE;
	}
	name = xstrndup(arg, (size_t)(eq - arg));
	key = params_canonical(name);
	if (key == NULL) {
		cmd_error("compare: --sweep: unknown parameter '%s' (see "
			  "'man vkchat-sampling')",
		    name);
		free(name);
		return EXIT_USAGE;
	}
	free(name);
	for (i = 0; i < a->n_sweeps; i++)
		if (strcmp(a->sweeps[i].key, key) == 0) {
			cmd_error("compare: --sweep: '%s' is swept twice", key);
			return EXIT_USAGE;
		}
	a->sweeps = xreallocarray(a->sweeps, a->n_sweeps + 1, sizeof *s);
	s = &a->sweeps[a->n_sweeps++];
	memset(s, 0, sizeof *s);
	s->key = key;
	s->buf = xstrdup(eq + 1);
	for (v = s->buf;; v++) {
		s->values =
		    xreallocarray(s->values, s->n + 1, sizeof *s->values);
		s->values[s->n++] = v;
		if ((v = strchr(v, ',')) == NULL)
			break;
		*v = '\0';
	}
	/* Check every value now, before any model is loaded. */
	for (i = 0; i < s->n; i++) {
		params_init(&scratch);
		rc = params_set_typed(&scratch, key, s->values[i], &err);
		params_release(&scratch);
		if (rc < 0) {
			cmd_error("compare: --sweep %s, value %zu: %s", key,
			    i + 1, err.msg);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Apply option D with argument ARG; 0, the exit status, or -1 (--help). */
static int
cmd_gen_take(struct cmd_gen_args *a, enum cmd_gen_cmd cmd,
    const struct cmd_gen_option *d, const char *arg, const char *usage)
{
	struct cmd_gen_opts *g = &a->gen;

	a->chat |= d->chat;
	switch (d->kind) {
	case CMD_GEN_FLAG:
		*(int *)((char *)a + d->field) = d->value;
		return 0;
	case CMD_GEN_STRING:
		*(const char **)((char *)a + d->field) = arg;
		return 0;
	case CMD_GEN_PFLAG:
		g->sets[g->n_sets].key = xstrdup("ctx_shift");
		g->sets[g->n_sets++].value = d->value ? "1" : "0";
		return 0;
	case CMD_GEN_PARAM:
		g->sets[g->n_sets].key = cmd_gen_key(d->name);
		g->sets[g->n_sets++].value = arg;
		return 0;
	case CMD_GEN_SET:
		g->sets[g->n_sets].key = NULL;
		g->sets[g->n_sets++].value = arg;
		return 0;
	case CMD_GEN_PRESET:
		a->presets[a->n_presets++] = arg;
		g->preset = arg;
		return 0;
	case CMD_GEN_SWEEP:
		return cmd_gen_sweep(a, arg);
	case CMD_GEN_CTX:
		if (util_parse_i64(arg, 1, 1 << 20, &a->ctx) == 0)
			return 0;
		/* Only compare has always named itself here. */
		cmd_error("%s--ctx: '%s' is not a context length (1-1048576)",
		    cmd == CMD_GEN_COMPARE ? "compare: " : "", arg);
		return EXIT_USAGE;
	case CMD_GEN_WIDTH:
		if (util_parse_i64(arg, 20, 100000, &a->width) == 0)
			return 0;
		cmd_error(
		    "compare: --width: '%s' is not a width (20-100000)", arg);
		return EXIT_USAGE;
	case CMD_GEN_DEVICE:
		return (a->device = cmd_load_device(arg)) < 0 ? EXIT_USAGE : 0;
	case CMD_GEN_SESSION:
		if (util_parse_i64(arg, 1, INT64_MAX, &a->session) == 0)
			return 0;
		cmd_error("--session: '%s' is not a session id (see 'vkchat "
			  "sessions list')",
		    arg);
		return EXIT_USAGE;
	case CMD_GEN_PROBS:
		if (util_parse_i64(arg, 1, SAMPLER_REC_TOP, &a->probs) == 0)
			return 0;
		cmd_error("run: --probs: '%s' is not a candidate count (1-%d)",
		    arg, SAMPLER_REC_TOP);
		return EXIT_USAGE;
	case CMD_GEN_HELP:
		fputs(usage, stdout);
		return -1;
	}
	return 0;
}

int
cmd_gen_render(struct llm *l, const char *system,
    const struct chat_turn *history, size_t n_history, const char *text,
    const struct gen_params *p, int verbose, struct tokenizer_ids *ids)
{
	struct chat_turn *turns = xcalloc(n_history + 1, sizeof(*turns));
	size_t missing = 0, dropped = 0;
	struct err err;
	int rc;

	if (n_history > 0)
		memcpy(turns, history, n_history * sizeof(*turns));
	turns[n_history].role = CHAT_USER;
	turns[n_history].text = text;
	rc = llm_render(l, system, turns, n_history + 1,
	    llm_reserve(l, p->max_tokens), p->ctx_shift != 0, ids, &dropped,
	    &missing, &err);
	free(turns);
	if (rc < 0)
		return cmd_fail(&err);
	if (dropped > 0)
		cmd_error(CONV_DROPPED_FMT, dropped);
	if (verbose)
		fprintf(stderr, "vkchat: chat format: %s (%s)\n",
		    chat_format_name(l->fmt), l->fmt_why);
	if (missing > 0)
		cmd_error("warning: the model's vocabulary lacks %zu of the %s "
			  "format's special tokens: they are sent as text (see "
			  "--chat-format)",
		    missing, chat_format_name(l->fmt));
	return 0;
}

int
cmd_gen_args_prompt(
    const struct cmd_gen_args *a, const char *prefix, char **text, size_t *len)
{
	struct err err;
	const char *nul;

	if (a->prompt != NULL) {
		*text = xstrdup(a->prompt);
		*len = strlen(a->prompt);
		return 0;
	}
	if (util_read_file(a->file != NULL ? a->file : "-", UTIL_PROMPT_MAX,
		text, len, &err) < 0) {
		cmd_error("%s%s", prefix, err.msg);
		return EXIT_USAGE;
	}
	/* A NUL would cut the stored text short of what the model saw. */
	if ((nul = memchr(*text, '\0', *len)) != NULL) {
		cmd_error("%sthe prompt in '%s' has a NUL byte at byte %zu: "
			  "vkchat takes text",
		    prefix, a->file != NULL ? a->file : "standard input",
		    (size_t)(nul - *text));
		free(*text);
		*text = NULL;
		return EXIT_USAGE;
	}
	if (*len > 0 && (*text)[*len - 1] == '\n')
		(*text)[--*len] = '\0';
	if (*len > 0 && (*text)[*len - 1] == '\r')
		(*text)[--*len] = '\0';
	return 0;
}

/*
 * The options of command CMD: their table entries into DEFS, getopt_long's
 * array into OPTS (ended by a zero entry), the short ones into SHORTS;
 * returns how many.
 */
static size_t
cmd_gen_build(enum cmd_gen_cmd cmd, const struct cmd_gen_option **defs,
    struct option *opts, char *shorts)
{
	const struct cmd_gen_option *d;
	size_t i, n = 0;

	for (i = 0; i < ARRAY_LEN(cmd_gen_options); i++) {
		d = &cmd_gen_options[i];
		if ((d->cmds & 1u << cmd) == 0)
			continue;
		defs[n] = d;
		opts[n].name = d->name;
		opts[n].has_arg = d->kind == CMD_GEN_FLAG ||
			d->kind == CMD_GEN_PFLAG || d->kind == CMD_GEN_HELP
		    ? no_argument
		    : required_argument;
		opts[n].flag = NULL;
		/* A letter's long form reports as '-L' when it lacks its
		 * argument; every other value is past the letters. */
		opts[n].val = d->kind == CMD_GEN_PARAM ? CMD_GEN_VAL_PARAM
		    : d->letter != 0		       ? d->letter
						       : 256 + (int)i;
		if (d->letter != 0) {
			*shorts++ = (char)d->letter;
			if (opts[n].has_arg == required_argument)
				*shorts++ = ':';
		}
		n++;
	}
	*shorts = '\0';
	memset(&opts[n], 0, sizeof opts[n]);
	return n;
}

/*
 * After the options: what must or must not come together, then the model
 * (none given: the pocket model); 0 or the exit status, the error printed.
 */
static int
cmd_gen_check(struct cmd_gen_args *a, const char *name, int argc, char **argv)
{
	size_t i;

	if (optind < argc) {
		cmd_error("%s: unexpected argument '%s'", name, argv[optind]);
		return EXIT_USAGE;
	}
	if (a->prompt != NULL && a->file != NULL) {
		cmd_error("%s: -p and -f exclude each other", name);
		return EXIT_USAGE;
	}
	/* Run's alone: the others take neither --special nor --bos. */
	if (a->chat && (a->special || a->bos >= 0)) {
		cmd_error("%s: --special, --bos and --no-bos are for raw "
			  "prompts, not --chat",
		    name);
		return EXIT_USAGE;
	}
	if ((a->session != 0 || a->cont) && a->no_save) {
		cmd_error("%s: %s continues a saved session and saves to it: "
			  "not with --no-save",
		    name, a->cont ? "--continue" : "--session");
		return EXIT_USAGE;
	}
	if (a->json && a->echo) {
		cmd_error("%s: --echo and --json exclude each other (the JSON "
			  "has the generated tokens only)",
		    name);
		return EXIT_USAGE;
	}
	/* run continues a session only to save the exchange in it */
	if (a->session != 0 || a->cont)
		a->save = 1;
	if (a->session != 0 && a->cont) {
		cmd_error(
		    "%s: --session and --continue exclude each other", name);
		return EXIT_USAGE;
	}
	for (i = 0; i < a->n_sweeps; i++)
		if (a->same_seed && strcmp(a->sweeps[i].key, "seed") == 0) {
			cmd_error("%s: --same-seed and --sweep seed=... "
				  "exclude each other",
			    name);
			return EXIT_USAGE;
		}
	return a->model != NULL ? EXIT_OK : pocket_default(name, &a->model);
}

int
cmd_gen_args_parse(struct cmd_gen_args *a, enum cmd_gen_cmd cmd,
    const char *usage, int argc, char **argv)
{
	const struct cmd_gen_option *defs[ARRAY_LEN(cmd_gen_options)], *d;
	struct option opts[ARRAY_LEN(cmd_gen_options) + 1];
	char shorts[2 * ARRAY_LEN(cmd_gen_options) + 1];
	const char *name = cmd_gen_names[cmd];
	size_t i, n = cmd_gen_build(cmd, defs, opts, shorts);
	int c, idx = -1, status = EXIT_OK;

	optind = 0;
	opterr = 0;
	while (status == EXIT_OK &&
	    (c = getopt_long(argc, argv, shorts, opts, &idx)) != -1) {
		/* A long option by its index, a short one by its letter. */
		d = NULL;
		for (i = 0; c != '?' && d == NULL && i < n; i++)
			if (idx >= 0 ? i == (size_t)idx : defs[i]->letter == c)
				d = defs[i];
		idx = -1;
		if (d == NULL)
			status = cmd_bad_optarg(name, optopt, argv, optind);
		else if ((status = cmd_gen_take(a, cmd, d, optarg, usage)) < 0)
			return status;
	}
	if (status == EXIT_OK)
		status = cmd_gen_check(a, name, argc, argv);
	if (status != EXIT_OK)
		cmd_usage_hint(name);
	return status;
}

int
cmd_gen_preset(
    const char *name, const char *db_opt, struct gen_params *p, struct err *err)
{
	struct db_preset pr;
	struct db *db;
	struct stat st;
	char *path;
	int rc;

	if (params_builtin(name, p) == 0)
		return 0;
	if ((rc = db_path(db_opt, &path, err)) < 0)
		return rc;
	if (stat(path, &st) < 0) {
		rc = err_set(err, ERR_NOTFOUND,
		    "no preset '%s': not a built-in one, and there is no "
		    "database at '%s' (see 'vkchat presets list')",
		    name, path);
		free(path);
		return rc;
	}
	rc = db_open(path, &db, err);
	if (rc == 0) {
		rc = db_presets_get(db, name, &pr, err);
		if (rc == 0) {
			params_copy(p, &pr.params);
			db_presets_release(&pr);
		} else if (rc == ERR_NOTFOUND)
			err_set(err, ERR_NOTFOUND,
			    "no preset '%s': not a built-in one, nor saved in "
			    "'%s' (see 'vkchat presets list')",
			    name, path);
		db_close(db);
	}
	free(path);
	return rc;
}

int
cmd_gen_apply(
    const struct cmd_gen_opts *o, struct gen_params *p, struct err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < o->n_sets && rc == 0; i++) {
		if (o->sets[i].key != NULL)
			rc = params_set_typed(
			    p, o->sets[i].key, o->sets[i].value, err);
		else
			rc = params_set_list(p, o->sets[i].value, err);
	}
	return rc;
}

int
cmd_gen_params(
    const char *cmd, const struct cmd_gen_opts *o, struct gen_params *p)
{
	struct err err;

	err_clear(&err);
	if (o->preset != NULL) {
		if (cmd_gen_preset(o->preset, o->db, p, &err) < 0) {
			cmd_error("%s: %s", cmd, err.msg);
			params_init(p);
			return EXIT_USAGE;
		}
	} else
		params_init(p);
	if (cmd_gen_apply(o, p, &err) < 0) {
		cmd_error("%s: %s", cmd, err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

void
cmd_gen_out_init(struct cmd_gen_out *o)
{
	o->tty = isatty(STDOUT_FILENO);
	sbuf_init(&o->buf);
}

void
cmd_gen_out_release(struct cmd_gen_out *o)
{
	sbuf_release(&o->buf);
}

void
cmd_gen_out_write(struct cmd_gen_out *o, const char *text, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int n;

	if (!o->tty) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		return;
	}
	sbuf_reset(&o->buf);
	while (i < len) {
		n = utf8_decode(text + i, len - i, &cp);
		if (n <= 0 || (cp < 0x20 && cp != '\n' && cp != '\t') ||
		    cp == 0x7f || utf8_hidden(cp))
			sbuf_adds(&o->buf, "\xef\xbf\xbd");
		else
			sbuf_add(&o->buf, text + i, (size_t)n);
		i += n > 0 ? (size_t)n : 1;
	}
	fwrite(o->buf.buf, 1, o->buf.len, stdout);
	fflush(stdout);
}

void
cmd_gen_report(
    const struct gen_params *p, int32_t n_vocab, const struct gen_stats *st)
{
	struct gen_params q;
	struct sampler *s;
	struct sbuf sb;

	sbuf_init(&sb);
	params_copy(&q, p);
	q.seed = st->seed;
	if (sampler_new(&q, n_vocab, &s, NULL) == 0) {
		sampler_describe(s, &sb);
		sampler_free(s);
	}
	params_release(&q);
	fprintf(stderr, "vkchat: sampler: %s\n", sb.buf);
	fprintf(stderr,
	    "vkchat: prompt: %zu tokens, %zu evaluated in %.3f s (%.1f "
	    "tok/s)\n",
	    st->n_prompt, st->n_eval, st->t_prompt, st->prompt_tps);
	fprintf(stderr,
	    "vkchat: generated: %zu tokens in %.3f s (%.1f tok/s), first "
	    "after %.3f s; finish: %s%s%s; seed %llu\n",
	    st->n_gen, st->t_gen, st->gen_tps, st->t_first,
	    gen_finish_name(st->finish), st->stop != NULL ? " at " : "",
	    st->stop != NULL ? st->stop : "", (unsigned long long)st->seed);
	sbuf_release(&sb);
}

int
cmd_gen_save_open(struct cmd_gen_save *s, const char *db_opt, const char *path,
    uint64_t size, const char *identity, const char *format, const char *preset)
{
	struct err err;
	char *file;

	memset(s, 0, sizeof *s);
	if (db_path(db_opt, &file, &err) < 0) {
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (db_open(file, &s->db, &err) < 0) {
		free(file);
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	free(file);
	conv_init(&s->conv, s->db);
	conv_set_model(&s->conv, path, (int64_t)size, identity);
	conv_set_format(&s->conv, format);
	free(s->conv.preset);
	s->conv.preset = preset != NULL ? xstrdup(preset) : NULL;
	return 0;
}

int
cmd_gen_save_continue(struct cmd_gen_save *s, int64_t id, int latest,
    struct gen_params *p, struct chat_turn **turns, size_t *n_turns)
{
	struct db_message *msgs = NULL;
	struct conv_msg *m;
	struct err err;
	size_t n = 0, i;
	char *format = NULL;

	*turns = NULL;
	*n_turns = 0;
	if ((latest && conv_latest(s->db, &id, &err) < 0) ||
	    conv_load(&s->conv, id, &msgs, &n, &format, &err) < 0) {
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (format != NULL && s->conv.chat_format != NULL &&
	    strcmp(format, s->conv.chat_format) != 0)
		cmd_error("warning: session %lld was had in chat format %s; "
			  "this one is %s (--chat-format %s keeps it)",
		    (long long)id, format, s->conv.chat_format, format);
	free(format);
	*turns = xcalloc(n + 1, sizeof(**turns));
	m = xcalloc(n + 1, sizeof(*m));
	for (i = 0; i < n; i++) {
		m[i].role = msgs[i].role;
		m[i].text = msgs[i].content;
	}
	*n_turns = conv_turns(m, n, *turns);
	/* a last prompt left without an answer (a compare run without a
	 * winner) is followed by the next prompt: the model does not see it */
	if (*n_turns > 0 && (*turns)[*n_turns - 1].role == CHAT_USER)
		(*n_turns)--;
	for (i = 0; i < *n_turns; i++)
		(*turns)[i].text = xstrdup((*turns)[i].text);
	free(m);
	s->prompt = 0;
	for (i = n; i > 0 && s->prompt == 0; i--)
		if (msgs[i - 1].role == DB_ROLE_USER)
			s->prompt = msgs[i - 1].id;
	db_messages_free(msgs, n);
	params_release(p);
	params_copy(p, &s->conv.params);
	return 0;
}

void
cmd_gen_save_restart(struct cmd_gen_save *s)
{
	conv_restart(&s->conv);
	s->prompt = 0;
}

int
cmd_gen_save_begin(struct cmd_gen_save *s, const char *user,
    const struct gen_params *p, uint64_t seed, struct err *err)
{
	int64_t id;
	int rc;

	conv_use_params(&s->conv, s->conv.preset, p, 0);
	s->prev_prompt = s->prompt;
	s->warned = 0;
	if (user == NULL)
		return conv_begin_answer(&s->conv, s->prompt, seed, err);
	/* prompt and answer row in one transaction */
	if ((rc = conv_start_turn(&s->conv, -1, user, seed, &id, err)) < 0)
		return rc;
	s->prompt = id;
	return 0;
}

void
cmd_gen_save_forget(struct cmd_gen_save *s)
{
	s->conv.leaf =
	    s->prompt != s->prev_prompt ? s->conv.prev_leaf : s->prompt;
	s->prompt = s->prev_prompt;
}

void
cmd_gen_save_text(struct cmd_gen_save *s, const char *text, size_t len)
{
	struct err err;

	if (conv_append(&s->conv, text, len, &err) < 0 && !s->warned) {
		s->warned = 1;
		cmd_error("warning: saving the answer: %s (retrying)", err.msg);
	}
}

int
cmd_gen_save_finish(struct cmd_gen_save *s, enum gen_finish finish,
    const struct gen_stats *st, const char *error)
{
	struct err err;

	if (conv_finish_answer(&s->conv, finish, st, error, NULL, NULL, &err) <
	    0) {
		cmd_error("saving the answer: %s", err.msg);
		return -1;
	}
	return 0;
}

void
cmd_gen_save_close(struct cmd_gen_save *s)
{
	conv_release(&s->conv);
	db_close(s->db);
	memset(s, 0, sizeof *s);
}
