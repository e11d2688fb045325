/*
 * probs: formatting of the sampler's stage record.  Nothing here computes
 * a probability: every number is one the sampler wrote into the record.
 *
 * The table has one row per candidate and one column per stage:
 *
 *   step 3: " the" (id 262) drawn with p 0.4121 (model 0.2330)
 *     token              id    model   top_k   top_p    temp
 *   > " the"            262   0.2330  0.3010  0.4121  0.4733
 *     " a"              257   0.1800  0.2325  0.3183  0.3011
 *     " one"            530   0.0210  0.0271       -       -
 *     left                     32000      40       2       2
 *
 * 2 + 14 + 7 columns for the token and its id, then 8 per stage: with the
 * longest chain (model, penalties, top_k, typical, min_p, top_p,
 * temperature) 79 columns.  Truncation stages keep the order of what
 * they keep, so a candidate listed before a truncation stage and missing
 * after it was cut; after the penalties (which reorder) a missing one may
 * only have fallen below the N listed, unless that stage lists everyone.
 */
#include "probs.h"

#include <stdio.h>
#include <string.h>

#include "text.h"
#include "utf8.h"

#define PROBS_TOKEN_COLS 14
#define PROBS_ROWS (2 * SAMPLER_REC_TOP + 1)

/* A column heading of at most 7 columns. */
static const char *
probs_heading(enum sampler_stage kind)
{
	switch (kind) {
	case SAMPLER_STAGE_PENALTIES:
		return "penalty";
	case SAMPLER_STAGE_TOP_P_MIN_P:
		return "p+min_p";
	case SAMPLER_STAGE_TEMPERATURE:
		return "temp";
	default:
		return sampler_stage_name(kind);
	}
}

/* The text of token ID, special tokens shown, into OUT (appending). */
static void
probs_piece(const struct probs_names *nm, int32_t id, struct sbuf *out)
{
	size_t i;

	if (nm->tok != NULL) {
		if (tokenizer_piece(
			nm->tok, id, TOK_DECODE_SPECIAL, out, NULL) < 0)
			sbuf_adds(out, "?");
		return;
	}
	for (i = 0; i < nm->n; i++)
		if (nm->ids[i] == id) {
			sbuf_adds(out, nm->text[i]);
			return;
		}
	sbuf_adds(out, "?");
}

/*
 * Token ID's text in double quotes, escaped for one line: \n, \t, \",
 * \\, other control bytes and bytes that are not UTF-8 (a byte token's
 * half of a character) as \xNN; the rest sanitised for the terminal.
 */
static void
probs_quoted(const struct probs_names *nm, int32_t id, struct sbuf *out)
{
	struct sbuf raw, esc;
	size_t i;

	sbuf_init(&raw);
	sbuf_init(&esc);
	probs_piece(nm, id, &raw);
	sbuf_addc(&esc, '"');
	for (i = 0; i < raw.len;) {
		unsigned char c = (unsigned char)raw.buf[i];
		uint32_t cp;
		int n;

		if (c == '\n' || c == '\t' || c == '"' || c == '\\') {
			sbuf_addc(&esc, '\\');
			sbuf_addc(&esc, c == '\n' ? 'n' : c == '\t' ? 't' : c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sbuf_addf(&esc, "\\x%02x", c);
			i++;
		} else if (c < 0x80) {
			sbuf_addc(&esc, (char)c);
			i++;
		} else if ((n = utf8_decode(raw.buf + i, raw.len - i, &cp)) <=
		    0) {
			sbuf_addf(&esc, "\\x%02x", c);
			i++;
		} else {
			text_sanitize(&esc, raw.buf + i, (size_t)n, 1);
			i += (size_t)n;
		}
	}
	sbuf_addc(&esc, '"');
	sbuf_addc(&esc, '\0');
	text_fit(out, esc.buf, PROBS_TOKEN_COLS);
	sbuf_release(&esc);
	sbuf_release(&raw);
}

/* Token ID's listed probability in stage ST, or -1 when not listed. */
static double
probs_find(const struct sampler_rec_stage *st, int32_t id)
{
	int32_t j;

	for (j = 0; j < st->n; j++)
		if (st->cand[j].id == id)
			return st->cand[j].p;
	return -1;
}

/* Add ID to ROWS (*n of them) unless present. */
static void
probs_row(int32_t *rows, size_t *n, int32_t id)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (rows[i] == id)
			return;
	if (*n < PROBS_ROWS)
		rows[(*n)++] = id;
}

/* Pad OUT with spaces from byte START to COLS display columns. */
static void
probs_pad(struct sbuf *out, size_t start, int cols)
{
	int w = text_width(out->buf + start, out->len - start);

	for (; w < cols; w++)
		sbuf_addc(out, ' ');
}

void
probs_text(const struct probs_names *nm, const struct sampler_rec *rec,
    size_t step, struct sbuf *out)
{
	int32_t rows[PROBS_ROWS];
	size_t n_rows = 0, i, start;
	int32_t k, j;

	sbuf_addf(out, "step %zu: ", step);
	probs_quoted(nm, rec->token, out);
	sbuf_addf(out, " (id %d) drawn with p %.4f (model %.4f)",
	    (int)rec->token, (double)rec->p_token, (double)rec->p_model);
	if (rec->n_stages > 0 &&
	    rec->stage[rec->n_stages - 1].kind == SAMPLER_STAGE_MIROSTAT)
		sbuf_addf(out, ", mu %.3f", (double)rec->mu);
	sbuf_addc(out, '\n');
	for (k = 0; k < rec->n_stages && k < 2; k++)
		if (k == 0 || rec->stage[k].kind == SAMPLER_STAGE_PENALTIES)
			for (j = 0; j < rec->stage[k].n; j++)
				probs_row(
				    rows, &n_rows, rec->stage[k].cand[j].id);
	probs_row(rows, &n_rows, rec->token);

	sbuf_addf(out, "  %-*s%7s", PROBS_TOKEN_COLS, "token", "id");
	for (k = 0; k < rec->n_stages; k++)
		sbuf_addf(out, " %7s", probs_heading(rec->stage[k].kind));
	sbuf_addc(out, '\n');
	for (i = 0; i < n_rows; i++) {
		int cut = 0;

		sbuf_adds(out, rows[i] == rec->token ? "> " : "  ");
		start = out->len;
		probs_quoted(nm, rows[i], out);
		probs_pad(out, start, PROBS_TOKEN_COLS);
		sbuf_addf(out, "%7d", (int)rows[i]);
		for (k = 0; k < rec->n_stages; k++) {
			const struct sampler_rec_stage *st = &rec->stage[k];
			double p = probs_find(st, rows[i]);
			int listed_before = k > 0 &&
			    probs_find(&rec->stage[k - 1], rows[i]) >= 0;

			if (p >= 0) {
				sbuf_addf(out, " %7.4f", p);
				continue;
			}
			if (k > 0 && st->kind != SAMPLER_STAGE_PENALTIES &&
			    listed_before)
				cut = 1;
			if (st->n == st->n_left)
				cut = 1;
			sbuf_addf(out, " %7s", cut ? "-" : ".");
		}
		sbuf_addc(out, '\n');
	}
	sbuf_addf(out, "  %-*s%7s", PROBS_TOKEN_COLS, "left", "");
	for (k = 0; k < rec->n_stages; k++)
		sbuf_addf(out, " %7d", (int)rec->stage[k].n_left);
	sbuf_addc(out, '\n');
}

/* "text": token ID's decoded text (special tokens shown). */
static void
probs_json_text(const struct probs_names *nm, int32_t id, struct json_writer *w)
{
	struct sbuf b;

	sbuf_init(&b);
	probs_piece(nm, id, &b);
	json_key(w, "text");
	json_strn(w, b.buf, b.len);
	sbuf_release(&b);
}

void
probs_json(const struct probs_names *nm, const struct sampler_rec *rec,
    struct json_writer *w)
{
	int32_t k, j;

	json_obj_begin(w);
	json_key(w, "token");
	json_int(w, rec->token);
	probs_json_text(nm, rec->token, w);
	json_key(w, "p");
	json_num(w, rec->p_token);
	json_key(w, "p_model");
	json_num(w, rec->p_model);
	if (rec->n_stages > 0 &&
	    rec->stage[rec->n_stages - 1].kind == SAMPLER_STAGE_MIROSTAT) {
		json_key(w, "mu");
		json_num(w, rec->mu);
	}
	json_key(w, "stages");
	json_arr_begin(w);
	for (k = 0; k < rec->n_stages; k++) {
		const struct sampler_rec_stage *st = &rec->stage[k];

		json_obj_begin(w);
		json_key(w, "stage");
		json_str(w, sampler_stage_name(st->kind));
		json_key(w, "left");
		json_int(w, st->n_left);
		json_key(w, "top");
		json_arr_begin(w);
		for (j = 0; j < st->n; j++) {
			json_obj_begin(w);
			json_key(w, "id");
			json_int(w, st->cand[j].id);
			probs_json_text(nm, st->cand[j].id, w);
			json_key(w, "p");
			json_num(w, st->cand[j].p);
			json_end(w);
		}
		json_end(w);
		json_end(w);
	}
	json_end(w);
	json_end(w);
}
