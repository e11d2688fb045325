/*
 * cmd-compare: "vkchat compare -m MODEL.gguf -p PROMPT --preset A
 * --preset B" or "--sweep temp=0.2,0.7,1.2": one prompt completed with
 * two to eight settings side by side.  Every column decodes in the same
 * gen_run (src/gen.h): the prompt is evaluated once and forked on the
 * device, and each step evaluates all live columns in one batch, so the
 * weights are read once per step for all of them.
 *
 * Columns: every --preset (none given: "default") times every value of
 * every --sweep, the last sweep varying fastest.  A column's settings
 * are its preset, then the shared settings (--set, --temp, -n, ... in
 * command-line order), then its sweep values.  A column whose seed is 0
 * draws its own; --same-seed gives every column one seed (the shared
 * settings' seed, else one drawn once), so only the settings differ.
 * Each column is headed by its preset's name and the parameters whose
 * values are not the same in every column (params_diff_n), and shows
 * its seed below its statistics.
 *
 * Output: the columns finish at different times, so the table is
 * printed at the end: as wide as the terminal (--width, else the
 * terminal's width, else $COLUMNS, else 80), each column's text
 * word-wrapped under its header with its statistics below; when the
 * columns would be narrower than CMD_COMPARE_MIN_COL they are printed
 * one after another.  -v reports progress, each column's end as it
 * happens (gen_run's on_done), and each column's sampler chain and speed
 * on stderr.  --json prints every column's settings, seed, text and
 * statistics instead.
 *
 * Model text is untrusted: the table holds display text only (ui/text.h's
 * sanitiser: control characters and escape sequences are shown as inert
 * symbols, never sent); --json carries the exact text, JSON-escaped.
 *
 * --save stores the run as a compare run (storage/db-compare.h) in a new
 * session named after the prompt: the columns' rows exist before the
 * first token, their text streams into them as for a chat answer, and
 * each row is finished (statistics, finish reason) when its column ends.
 *
 * Ctrl-C stops every column after the current token (the text so far is
 * kept and printed); a second Ctrl-C ends the program.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd-gen.h"
#include "cmd-load.h"
#include "cmd.h"
#include "gen.h"
#include "json.h"
#include "llm.h"
#include "params.h"
#include "sampler.h"
#include "storage/db-compare.h"
#include "storage/db-sessions.h"
#include "storage/db-stream.h"
#include "text.h"
#include "util.h"

/* Narrower columns are printed one after another. */
#define CMD_COMPARE_MIN_COL 16
/* Between two columns of the table. */
#define CMD_COMPARE_GAP " | "

static const char cmd_compare_usage[] =
    "usage: vkchat compare [-m MODEL.gguf] [-p PROMPT | -f FILE]\n"
    "                      [--preset NAME]... [--sweep KEY=V1,V2,...]... "
    "[OPTIONS]\n"
    "Complete one prompt with 2-8 settings side by side, decoded as one "
    "batch.\n"
    "The columns are every --preset times every value of every --sweep.\n"
    "  -m, --model FILE       the GGUF model (default: the pocket model)\n"
    "  -p, --prompt TEXT      the prompt (\"\" starts from BOS alone)\n"
    "  -f, --file FILE        read the prompt from FILE (default: "
    "standard input)\n"
    "      --preset NAME      a column with preset NAME, built-in or "
    "saved\n"
    "                         (repeatable; none: \"default\")\n"
    "      --sweep KEY=V1,V2  a column for each value of parameter KEY\n"
    "                         (repeatable: every combination)\n"
    "      --same-seed        one seed for every column (--seed N, or "
    "drawn once)\n"
    "  -n, --max-tokens N, --temp X, --top-k N, --top-p X, --seed N, ...\n"
    "      --set LIST         settings for every column (see 'vkchat run "
    "--help')\n"
    "      --system TEXT      the system prompt (implies --chat)\n"
    "      --chat             send the prompt as a user turn in the "
    "model's\n"
    "                         chat format\n"
    "      --chat-format NAME the chat format (implies --chat)\n"
    "      --json             print the columns as JSON\n"
    "      --save             store the run in the database (a new "
    "session)\n"
    "      --db PATH          the database (saved presets, --save)\n"
    "  -w, --width N          the table's width (default: the "
    "terminal's)\n"
    "      --ctx N            context length per column (default: the "
    "model's,\n"
    "                         at most 4096)\n"
    "      --device N         Vulkan device (see 'vkchat devices')\n"
    "  -v, --verbose          progress, samplers and speed on stderr\n";

/* One column: its settings, what it produced, where it is saved. */
struct cmd_compare_col {
	const char *name; /* the preset's name */
	struct gen_params p;
	struct sbuf text;	  /* the output so far, as generated */
	struct db_stream *stream; /* --save */
};

struct cmd_compare {
	struct cmd_gen_args opt;
	char *text; /* the prompt */
	size_t len;
	struct cmd_compare_col cols[GEN_MAX_COLS];
	size_t n_cols;
	size_t n_params; /* columns whose p is initialised */
	struct gen_result res[GEN_MAX_COLS]; /* (n_cols), for gen_run */
	/* (n_cols) "key=value ..." that differ between the columns */
	struct sbuf differs[GEN_MAX_COLS];
	struct llm *l;
	struct db *db;
	int64_t session, run;
	double t_start;	   /* when generation started */
	double t_progress; /* when -v last reported progress */
	int warned;	   /* a failed streaming write was reported */
	int save_failed;   /* a column's row could not be finished */
};

static atomic_int cmd_compare_cancel;

static void
cmd_compare_sigint(int sig)
{
	(void)sig;
	if (atomic_exchange(&cmd_compare_cancel, 1) != 0)
		_exit(130);
}

/*
 * The number of columns: presets times sweep values, counted up to one
 * more than GEN_MAX_COLS (enough to refuse).
 */
static size_t
cmd_compare_count(const struct cmd_compare *r)
{
	size_t n = r->opt.n_presets > 0 ? r->opt.n_presets : 1, i;

	for (i = 0; i < r->opt.n_sweeps && n <= GEN_MAX_COLS; i++)
		n *= r->opt.sweeps[i].n;
	return n;
}

/*
 * Fill in the columns' names and settings (before the seeds); 0 or the
 * exit status, with the error printed.
 */
static int
cmd_compare_columns(struct cmd_compare *r)
{
	struct gen_params pre[GEN_MAX_COLS];
	size_t n = cmd_compare_count(r), c, i, rest, n_pre = 0;
	struct err err;
	char why[64];
	int status = EXIT_OK;

	if (n > GEN_MAX_COLS || n < 2) {
		if (r->opt.n_presets > 0 && r->opt.n_sweeps > 0)
			snprintf(why, sizeof why,
			    "%zu preset%s times the --sweep values",
			    r->opt.n_presets, r->opt.n_presets == 1 ? "" : "s");
		else if (r->opt.n_presets > 0)
			snprintf(why, sizeof why, "%zu preset%s",
			    r->opt.n_presets, r->opt.n_presets == 1 ? "" : "s");
		else
			snprintf(why, sizeof why, "%s",
			    r->opt.n_sweeps > 0 ? "the --sweep values"
						: "no --preset or --sweep");
		if (n > GEN_MAX_COLS)
			cmd_error("compare: more than %d columns (%s): give 2 "
				  "to %d",
			    GEN_MAX_COLS, why, GEN_MAX_COLS);
		else
			cmd_error("compare: 1 column (%s): give 2 to %d, "
				  "with --preset A --preset B or --sweep "
				  "KEY=V1,V2",
			    why, GEN_MAX_COLS);
		return EXIT_USAGE;
	}
	for (; n_pre < r->opt.n_presets; n_pre++)
		if (cmd_gen_preset(r->opt.presets[n_pre], r->opt.gen.db,
			&pre[n_pre], &err) < 0) {
			cmd_error("compare: %s", err.msg);
			status = EXIT_USAGE;
			goto out;
		}
	r->n_cols = n;
	for (c = 0; c < n; c++) {
		struct cmd_compare_col *col = &r->cols[c];
		size_t k;

		/* The last sweep varies fastest: C in mixed radix. */
		rest = c;
		for (i = r->opt.n_sweeps; i-- > 0;)
			rest /= r->opt.sweeps[i].n;
		if (r->opt.n_presets > 0) {
			col->name = r->opt.presets[rest];
			params_copy(&col->p, &pre[rest]);
		} else {
			col->name = "default";
			params_init(&col->p);
		}
		r->n_params++;
		if (cmd_gen_apply(&r->opt.gen, &col->p, &err) < 0) {
			cmd_error("compare: %s", err.msg);
			status = EXIT_USAGE;
			goto out;
		}
		rest = c;
		for (i = r->opt.n_sweeps; i-- > 0;) {
			k = rest % r->opt.sweeps[i].n;
			rest /= r->opt.sweeps[i].n;
			if (params_set_typed(&col->p, r->opt.sweeps[i].key,
				r->opt.sweeps[i].values[k], &err) < 0) {
				cmd_error("compare: %s", err.msg);
				status = EXIT_USAGE;
				goto out;
			}
		}
	}
out:
	for (i = 0; i < n_pre; i++)
		params_release(&pre[i]);
	return status;
}

/* Give every column its seed (see the top of the file). */
static int
cmd_compare_seeds(struct cmd_compare *r)
{
	struct gen_params shared;
	struct err err;
	uint64_t seed;
	size_t c;

	params_init(&shared);
	if (cmd_gen_apply(&r->opt.gen, &shared, &err) < 0) {
		params_release(&shared);
		cmd_error("compare: %s", err.msg);
		return EXIT_USAGE;
	}
	seed = conv_draw_seed(&shared);
	params_release(&shared);
	for (c = 0; c < r->n_cols; c++) {
		if (r->opt.same_seed)
			r->cols[c].p.seed = seed;
		else
			r->cols[c].p.seed = conv_draw_seed(&r->cols[c].p);
	}
	return 0;
}

/*
 * Each column's "key=value ..." for the parameters whose values are not
 * the same in every column.  The seed is shown under each column, so it
 * is left out unless it is swept.
 */
static void
cmd_compare_differs(struct cmd_compare *r)
{
	const struct gen_params *p[GEN_MAX_COLS];
	const char *skip[] = { "seed", NULL };
	size_t c;

	for (c = 0; c < r->n_cols; c++)
		p[c] = &r->cols[c].p;
	for (c = 0; c < r->opt.n_sweeps; c++)
		if (strcmp(r->opt.sweeps[c].key, "seed") == 0)
			skip[0] = NULL;
	params_diff_n(p, r->n_cols, skip, " ", r->differs);
}

/* The prompt's tokens, raw (BOS as the model wants) or as a chat turn. */
static int
cmd_compare_tokens(struct cmd_compare *r, struct tokenizer_ids *ids)
{
	struct llm *l = r->l;
	int32_t max = 0;
	size_t c;
	struct err err;

	if (r->opt.chat) {
		/* Room for the longest answer (-1: unlimited). */
		for (c = 0; c < r->n_cols && max >= 0; c++)
			if (r->cols[c].p.max_tokens < 0 ||
			    r->cols[c].p.max_tokens > max)
				max = r->cols[c].p.max_tokens;
		struct gen_params q = r->cols[0].p; /* shallow: max only */

		q.max_tokens = max;
		return cmd_gen_render(l, r->cols[0].p.system_prompt, NULL, 0,
		    r->text, &q, r->opt.verbose, ids);
	}
	if (tokenizer_encode(l->tok, r->text, r->len,
		tokenizer_add_bos(l->tok) && tokenizer_bos(l->tok) >= 0
		    ? TOK_ADD_BOS
		    : 0,
		ids, &err) < 0)
		return cmd_fail(&err);
	if (ids->n == 0) {
		cmd_error("compare: the prompt is empty and the model has no "
			  "BOS token");
		return EXIT_USAGE;
	}
	return 0;
}

/* One system prompt for the chat format: every column's must agree. */
static int
cmd_compare_system(const struct cmd_compare *r)
{
	const char *s0 = r->cols[0].p.system_prompt, *s;
	size_t c;

	if (!r->opt.chat)
		return 0;
	for (c = 1; c < r->n_cols; c++) {
		s = r->cols[c].p.system_prompt;
		if ((s == NULL) != (s0 == NULL) ||
		    (s != NULL && strcmp(s, s0) != 0)) {
			cmd_error("compare: the columns' system prompts differ "
				  "(column 1 and %zu): the prompt is "
				  "rendered once for all of them",
			    c + 1);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/*
 * --save, before generation: a new session with the compare run and a
 * stream into each column.  Errors are printed; 0 or the exit status.
 */
static int
cmd_compare_save_begin(struct cmd_compare *r)
{
	struct db_compare_run run;
	struct conv conv;
	struct err err;
	char *path;
	size_t c;
	int rc;

	if (db_path(r->opt.gen.db, &path, &err) < 0) {
		cmd_error("compare: cannot save: %s", err.msg);
		return EXIT_USAGE;
	}
	rc = db_open(path, &r->db, &err);
	free(path);
	if (rc < 0) {
		cmd_error("compare: cannot save: %s", err.msg);
		return EXIT_USAGE;
	}
	/* the session and the prompt as the chat stores them, so the run
	 * reopens in the chat screen (/runs) and the session continues */
	conv_init(&conv, r->db);
	conv_set_model(
	    &conv, r->l->m->path, (int64_t)r->l->file_size, r->l->identity);
	conv_set_format(
	    &conv, r->opt.chat ? chat_format_name(r->l->fmt) : NULL);
	conv_use_params(&conv, r->cols[0].name, &r->cols[0].p, 0);
	if (!r->opt.chat)
		params_set(&conv.params, "system", "", NULL);
	rc = conv_add_prompt(&conv, 0, r->text, NULL, &err);
	r->session = conv.session;
	if (rc < 0) {
		conv_release(&conv);
		cmd_error("compare: cannot save: %s", err.msg);
		return EXIT_USAGE;
	}
	db_compare_init(&run);
	db_compare_columns(&run, r->n_cols);
	memcpy(run.model.hash, conv.model.hash, sizeof(run.model.hash));
	run.model.size = conv.model.size;
	conv_release(&conv);
	run.session_id = r->session;
	run.prompt = xstrdup(r->text);
	if (r->opt.chat && r->cols[0].p.system_prompt != NULL)
		run.system_prompt = xstrdup(r->cols[0].p.system_prompt);
	run.model.path = xstrdup(r->l->m->path);
	for (c = 0; c < r->n_cols; c++) {
		run.columns[c].preset = xstrdup(r->cols[c].name);
		params_release(&run.columns[c].params);
		params_copy(&run.columns[c].params, &r->cols[c].p);
		run.columns[c].seed = r->cols[c].p.seed;
	}
	rc = db_compare_create(r->db, &run, &r->run, &err);
	db_compare_release(&run);
	for (c = 0; rc == 0 && c < r->n_cols; c++)
		rc = db_stream_compare(
		    r->db, r->run, (int)c, &r->cols[c].stream, &err);
	if (rc < 0) {
		cmd_error("compare: cannot save: %s", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * --save: finish column C's row (ERROR: the run failed, with that
 * message) and drop its stream; 0 or -1 (printed).
 */
static int
cmd_compare_save_column(struct cmd_compare *r, size_t c, const char *error)
{
	const struct gen_stats *st = &r->res[c].stats;
	struct db_gen_stats ds;
	const char *why = NULL;
	struct err err;
	int status = 0;

	if (r->cols[c].stream == NULL)
		return 0;
	conv_stats(&ds, st, st->finish);
	if (error != NULL || ds.finish == DB_FINISH_ERROR ||
	    ds.finish == DB_FINISH_NONE) {
		ds.finish = DB_FINISH_ERROR;
		why = error != NULL ? error : "generation failed";
	}
	if (db_stream_finish(r->cols[c].stream, &ds, why, &err) < 0) {
		cmd_error("compare: saving column %zu: %s", c + 1, err.msg);
		status = -1;
	}
	db_stream_free(r->cols[c].stream);
	r->cols[c].stream = NULL;
	return status;
}

/*
 * --save, after generation: finish the columns not finished yet (ERROR:
 * the run failed); 0 or -1 (printed) if any column, now or as it ended,
 * could not be saved.
 */
static int
cmd_compare_save_finish(struct cmd_compare *r, const char *error)
{
	size_t c;
	int status = r->save_failed ? -1 : 0;

	for (c = 0; c < r->n_cols; c++)
		if (cmd_compare_save_column(r, c, error) < 0)
			status = -1;
	return status;
}

/* Column C has ended: --save finishes its row now, -v says so. */
static void
cmd_compare_on_done(
    void *ud, size_t c, const struct gen_result *res, const struct err *err)
{
	struct cmd_compare *r = ud;
	const struct gen_stats *st = &res->stats;

	if (cmd_compare_save_column(r, c, err != NULL ? err->msg : NULL) < 0)
		r->save_failed = 1;
	if (r->opt.verbose)
		fprintf(stderr,
		    "vkchat: %.1f s: column %zu done: %zu tokens, %.1f "
		    "tok/s, finish %s\n",
		    util_now() - r->t_start, c + 1, st->n_gen, st->gen_tps,
		    gen_finish_name(st->finish));
}

static void
cmd_compare_on_text(void *ud, size_t c, const char *text, size_t len)
{
	struct cmd_compare *r = ud;
	struct cmd_compare_col *col = &r->cols[c];
	struct err err;
	double now;
	size_t i;

	sbuf_add(&col->text, text, len);
	if (col->stream != NULL &&
	    db_stream_add(col->stream, text, len, &err) < 0 && !r->warned) {
		r->warned = 1;
		cmd_error("warning: saving column %zu: %s (retrying)", c + 1,
		    err.msg);
	}
	if (!r->opt.verbose || (now = util_now()) - r->t_progress < 1.0)
		return;
	r->t_progress = now;
	fprintf(
	    stderr, "vkchat: %.0f s: text so far (bytes):", now - r->t_start);
	for (i = 0; i < r->n_cols; i++)
		fprintf(stderr, " %zu%s", r->cols[i].text.len,
		    i + 1 < r->n_cols ? "," : "\n");
}

/* The table's width: --width, the terminal's, $COLUMNS, or 80. */
static int
cmd_compare_width(const struct cmd_compare *r)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	int64_t v;

	if (r->opt.width > 0)
		return (int)r->opt.width;
	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	if (env != NULL && util_parse_i64(env, 20, 100000, &v) == 0)
		return (int)v;
	return 80;
}

/* A column as three blocks of display text: header, text, statistics. */
struct cmd_compare_cell {
	struct sbuf part[3];
	struct text_lines lines[3];
};

static void
cmd_compare_cell(const struct cmd_compare *r, size_t c, int width,
    struct cmd_compare_cell *cell)
{
	const struct cmd_compare_col *col = &r->cols[c];
	const struct gen_stats *st = &r->res[c].stats;
	struct sbuf sb;
	int i;

	sbuf_init(&sb);
	for (i = 0; i < 3; i++) {
		sbuf_init(&cell->part[i]);
		text_lines_init(&cell->lines[i]);
	}
	sbuf_addf(&sb, "%zu: ", c + 1);
	sbuf_adds(&sb, col->name);
	text_sanitize(&cell->part[0], sb.buf, sb.len, 1);
	if (r->differs[c].len > 0) {
		sbuf_addc(&cell->part[0], '\n');
		text_sanitize(
		    &cell->part[0], r->differs[c].buf, r->differs[c].len, 1);
	}
	text_sanitize(&cell->part[1], col->text.buf, col->text.len, 0);
	sbuf_reset(&sb);
	sbuf_addf(&sb, "%zu token%s, %s", st->n_gen, st->n_gen == 1 ? "" : "s",
	    gen_finish_name(st->finish));
	if (st->stop != NULL) {
		sbuf_adds(&sb, " at ");
		params_quote(&sb, st->stop);
	}
	text_sanitize(&cell->part[2], sb.buf, sb.len, 1);
	sbuf_addf(&cell->part[2], "\n%.1f tok/s\nseed %llu", st->gen_tps,
	    (unsigned long long)st->seed);
	for (i = 0; i < 3; i++)
		text_wrap(cell->part[i].buf, cell->part[i].len, width, 0,
		    &cell->lines[i]);
	sbuf_release(&sb);
}

static void
cmd_compare_cell_release(struct cmd_compare_cell *cell)
{
	int i;

	for (i = 0; i < 3; i++) {
		sbuf_release(&cell->part[i]);
		text_lines_release(&cell->lines[i]);
	}
}

/* Block PART of N cells side by side, each WIDTH columns, into OUT. */
static void
cmd_compare_rows(struct sbuf *out, const struct cmd_compare_cell *cells,
    size_t n, int part, int width)
{
	size_t rows = 0, row, c;
	int used;

	for (c = 0; c < n; c++)
		if (cells[c].lines[part].n > rows)
			rows = cells[c].lines[part].n;
	for (row = 0; row < rows; row++) {
		for (c = 0; c < n; c++) {
			const struct text_lines *l = &cells[c].lines[part];

			used = 0;
			if (c > 0)
				sbuf_adds(out, CMD_COMPARE_GAP);
			if (row < l->n) {
				sbuf_add(out,
				    cells[c].part[part].buf + l->v[row].off,
				    l->v[row].len);
				used = l->v[row].cols;
			}
			for (; used < width; used++)
				sbuf_addc(out, ' ');
		}
		while (out->len > 0 && out->buf[out->len - 1] == ' ')
			out->len--;
		sbuf_addc(out, '\n');
	}
}

/* A rule under N columns of WIDTH: "-----+-----". */
static void
cmd_compare_rule(struct sbuf *out, size_t n, int width)
{
	size_t c;
	int i;

	for (c = 0; c < n; c++) {
		if (c > 0)
			sbuf_adds(out, "-+-");
		for (i = 0; i < width; i++)
			sbuf_addc(out, '-');
	}
	sbuf_addc(out, '\n');
}

/* N cells from FIRST as a table WIDTH columns each. */
static void
cmd_compare_block(
    struct sbuf *out, const struct cmd_compare_cell *cells, size_t n, int width)
{
	cmd_compare_rows(out, cells, n, 0, width);
	cmd_compare_rule(out, n, width);
	cmd_compare_rows(out, cells, n, 1, width);
	cmd_compare_rule(out, n, width);
	cmd_compare_rows(out, cells, n, 2, width);
}

/* The side-by-side table (or the columns one after another) on stdout. */
static void
cmd_compare_print(const struct cmd_compare *r)
{
	struct cmd_compare_cell cells[GEN_MAX_COLS];
	int total = cmd_compare_width(r), gap = (int)strlen(CMD_COMPARE_GAP);
	int width = (total - gap * (int)(r->n_cols - 1)) / (int)r->n_cols;
	int stacked = width < CMD_COMPARE_MIN_COL;
	struct sbuf out;
	size_t c;

	if (stacked)
		width = total;
	sbuf_init(&out);
	for (c = 0; c < r->n_cols; c++)
		cmd_compare_cell(r, c, width, &cells[c]);
	if (!stacked)
		cmd_compare_block(&out, cells, r->n_cols, width);
	for (c = 0; stacked && c < r->n_cols; c++) {
		if (c > 0)
			sbuf_addc(&out, '\n');
		cmd_compare_block(&out, &cells[c], 1, width);
	}
	for (c = 0; c < r->n_cols; c++)
		cmd_compare_cell_release(&cells[c]);
	fwrite(out.buf, 1, out.len, stdout);
	fflush(stdout);
	sbuf_release(&out);
}

/*
 * Seconds of decoding: from the end of the prompt to the last column's
 * last token; and the tokens all columns generated in that time.
 */
static double
cmd_compare_decode_s(const struct cmd_compare *r, size_t *tokens)
{
	double end = 0, t;
	size_t c;

	*tokens = 0;
	for (c = 0; c < r->n_cols; c++) {
		const struct gen_stats *st = &r->res[c].stats;

		*tokens += st->n_gen;
		t = st->t_first + st->t_gen - st->t_prompt;
		if (t > end)
			end = t;
	}
	return end;
}

static void
cmd_compare_print_json(const struct cmd_compare *r, size_t n_prompt)
{
	const struct gen_stats *st0 = &r->res[0].stats;
	struct json_writer w;
	struct gen_params q;
	struct sbuf sb;
	size_t c, tokens;
	double secs = cmd_compare_decode_s(r, &tokens);
	char seed[24];

	sbuf_init(&sb);
	json_writer_init(&w, &sb, 1);
	json_obj_begin(&w);
	json_key(&w, "model");
	json_str(&w, r->l->m->path);
	json_key(&w, "prompt");
	json_strn(&w, r->text, r->len);
	json_key(&w, "chat_format");
	if (r->opt.chat)
		json_str(&w, chat_format_name(r->l->fmt));
	else
		json_null(&w);
	json_key(&w, "prompt_tokens");
	json_int(&w, (int64_t)n_prompt);
	json_key(&w, "prompt_s");
	json_num(&w, st0->t_prompt);
	json_key(&w, "decode_s");
	json_num(&w, secs);
	json_key(&w, "tokens");
	json_int(&w, (int64_t)tokens);
	json_key(&w, "aggregate_tok_s");
	json_num(&w, secs > 0 ? (double)tokens / secs : 0);
	json_key(&w, "session");
	if (r->session > 0)
		json_int(&w, r->session);
	else
		json_null(&w);
	json_key(&w, "columns");
	json_arr_begin(&w);
	for (c = 0; c < r->n_cols; c++) {
		const struct cmd_compare_col *col = &r->cols[c];
		const struct gen_stats *st = &r->res[c].stats;

		json_obj_begin(&w);
		json_key(&w, "column");
		json_int(&w, (int64_t)c + 1);
		json_key(&w, "preset");
		json_str(&w, col->name);
		json_key(&w, "differs");
		json_str(&w, r->differs[c].buf);
		/* As params_to_json: a u64 in a string, exact in any
		 * reader. */
		snprintf(
		    seed, sizeof seed, "%llu", (unsigned long long)st->seed);
		json_key(&w, "seed");
		json_str(&w, seed);
		json_key(&w, "text");
		json_strn(&w, col->text.buf, col->text.len);
		json_key(&w, "tokens");
		json_int(&w, (int64_t)st->n_gen);
		json_key(&w, "finish");
		json_str(&w, gen_finish_name(st->finish));
		json_key(&w, "stop");
		if (st->stop != NULL)
			json_str(&w, st->stop);
		else
			json_null(&w);
		json_key(&w, "tok_s");
		json_num(&w, st->gen_tps);
		json_key(&w, "ttft_s");
		json_num(&w, st->t_first);
		json_key(&w, "params");
		params_copy(&q, &col->p);
		q.seed = st->seed;
		params_to_json(&q, &w);
		params_release(&q);
		json_end(&w);
	}
	json_end(&w);
	json_end(&w);
	sbuf_addc(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, stdout);
	fflush(stdout);
	sbuf_release(&sb);
}

/* -v: each column's sampler chain and speed, then the aggregate. */
static void
cmd_compare_report(const struct cmd_compare *r)
{
	const struct gen_stats *st0 = &r->res[0].stats;
	struct sampler *s;
	struct gen_params q;
	struct sbuf sb;
	size_t c, tokens;
	double secs = cmd_compare_decode_s(r, &tokens);

	fprintf(stderr,
	    "vkchat: prompt: %zu tokens, %zu evaluated in %.3f s (%.1f "
	    "tok/s), once for %zu columns\n",
	    st0->n_prompt, st0->n_eval, st0->t_prompt, st0->prompt_tps,
	    r->n_cols);
	sbuf_init(&sb);
	for (c = 0; c < r->n_cols; c++) {
		const struct gen_stats *st = &r->res[c].stats;

		sbuf_reset(&sb);
		params_copy(&q, &r->cols[c].p);
		q.seed = st->seed;
		if (sampler_new(&q, engine_n_vocab(r->l->e), &s, NULL) == 0) {
			sampler_describe(s, &sb);
			sampler_free(s);
		}
		params_release(&q);
		fprintf(stderr,
		    "vkchat: column %zu: %zu tokens, %.1f tok/s, first after "
		    "%.3f s, finish %s; sampler: %s\n",
		    c + 1, st->n_gen, st->gen_tps, st->t_first,
		    gen_finish_name(st->finish), sb.buf);
	}
	sbuf_release(&sb);
	fprintf(stderr,
	    "vkchat: decoded %zu tokens in %.3f s: %.1f tok/s aggregate\n",
	    tokens, secs, secs > 0 ? (double)tokens / secs : 0);
}

/* Decode every column in one gen_run; 0 or the exit status. */
static int
cmd_compare_generate(struct cmd_compare *r, const struct tokenizer_ids *ids)
{
	struct gen_params params[GEN_MAX_COLS];
	struct gen_request req;
	struct sigaction sa, old;
	struct err err;
	size_t c;
	int status = EXIT_OK;

	memset(&req, 0, sizeof req);
	/* Shallow copies: gen_run only reads them. */
	for (c = 0; c < r->n_cols; c++)
		params[c] = r->cols[c].p;
	req.prompt = ids->ids;
	req.n_prompt = ids->n;
	req.n_cols = r->n_cols;
	req.params = params;
	/* As `vkchat run`: without prompt text the first piece's space
	 * prefix is dropped, and a chat answer starts without one. */
	req.decode_flags =
	    r->len == 0 || r->opt.chat ? TOK_DECODE_STRIP_PREFIX : 0;
	req.on_text = cmd_compare_on_text;
	req.on_done = cmd_compare_on_done;
	req.ud = r;
	req.cancel = &cmd_compare_cancel;
	if (r->opt.chat)
		llm_stop_rules(r->l, &req);
	if (r->opt.save && (status = cmd_compare_save_begin(r)) != 0)
		return status;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cmd_compare_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	r->t_start = r->t_progress = util_now();
	err_clear(&err);
	if (gen_run(r->l->e, r->l->tok, &req, r->res, &err) < 0) {
		status = cmd_fail(&err);
		if (err.code == ERR_NOMEM)
			status = EXIT_NOMEM;
	}
	sigaction(SIGINT, &old, NULL);
	if (r->opt.save) {
		if (cmd_compare_save_finish(
			r, status == EXIT_OK ? NULL : err.msg) == 0)
			fprintf(stderr, "vkchat: saved as session %lld\n",
			    (long long)r->session);
		else if (status == EXIT_OK)
			status = EXIT_USAGE;
	}
	return status;
}

int
cmd_compare(int argc, char **argv)
{
	struct cmd_compare r;
	struct llm_opts o;
	struct tokenizer_ids ids;
	char b[32];
	size_t c;
	int status;

	memset(&r, 0, sizeof r);
	cmd_gen_args_init(&r.opt, argc);
	tokenizer_ids_init(&ids);
	for (c = 0; c < GEN_MAX_COLS; c++) {
		sbuf_init(&r.differs[c]);
		sbuf_init(&r.cols[c].text);
		gen_result_init(&r.res[c]);
	}
	if ((status = cmd_gen_args_parse(&r.opt, CMD_GEN_COMPARE,
		 cmd_compare_usage, argc, argv)) != 0) {
		status = status < 0 ? EXIT_OK : status;
		goto out;
	}
	if ((status = cmd_compare_columns(&r)) != 0 ||
	    (status = cmd_compare_seeds(&r)) != 0 ||
	    (status = cmd_compare_system(&r)) != 0)
		goto out;
	cmd_compare_differs(&r);
	if ((status = cmd_gen_args_prompt(
		 &r.opt, "compare: ", &r.text, &r.len)) != 0)
		goto out;
	llm_opts_init(&o);
	o.path = r.opt.model;
	o.device = r.opt.device;
	o.cfg.n_ctx = (uint32_t)r.opt.ctx;
	o.cfg.n_seq = (uint32_t)r.n_cols;
	o.chat_format = r.opt.format;
	if ((status = cmd_load_open(&o, &r.l)) != 0)
		goto out;
	if (tokenizer_warning(r.l->tok) != NULL && r.opt.verbose)
		cmd_error("warning: %s", tokenizer_warning(r.l->tok));
	if (r.opt.verbose)
		fprintf(stderr,
		    "vkchat: loaded '%s' in %.3f s (%s of weights) on %s, "
		    "context %u, %zu columns\n",
		    r.l->m->path, r.l->t_load,
		    util_bytes(r.l->m->weight_bytes, b, sizeof b),
		    r.l->dev->info.name, engine_config(r.l->e)->n_ctx,
		    r.n_cols);
	if ((status = cmd_compare_tokens(&r, &ids)) != 0)
		goto out;
	status = cmd_compare_generate(&r, &ids);
	if (status == EXIT_OK) {
		if (r.opt.json)
			cmd_compare_print_json(&r, ids.n);
		else
			cmd_compare_print(&r);
		if (r.opt.verbose)
			cmd_compare_report(&r);
	}
out:
	for (c = 0; c < GEN_MAX_COLS; c++) {
		if (r.cols[c].stream != NULL)
			db_stream_free(r.cols[c].stream);
		if (c < r.n_params)
			params_release(&r.cols[c].p);
		gen_result_release(&r.res[c]);
		sbuf_release(&r.cols[c].text);
		sbuf_release(&r.differs[c]);
	}
	db_close(r.db);
	llm_free(r.l);
	tokenizer_ids_release(&ids);
	cmd_gen_args_release(&r.opt);
	free(r.text);
	return status;
}
