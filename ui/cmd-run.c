/*
 * cmd-run: "vkchat run -m MODEL.gguf -p PROMPT": one completion, streamed
 * to stdout as it is generated, flushed per piece of text.  The prompt
 * comes from -p, -f or standard input (one trailing newline dropped).
 *
 * Raw by default (base models): the prompt is tokenized as it is, BOS
 * first when the model wants it; -p "" starts from BOS alone.  With
 * --chat (implied by --chat-format and --system) the prompt is one user
 * turn rendered with the model's chat format (llm.h), and the format's
 * end-of-turn tokens and turn markers stop the answer too.
 *
 * Sampling options are the generation parameters of params.h (--temp,
 * --top-k, ..., --set key=value,..., --preset NAME: built-in or saved);
 * -v reports load time, the chat format, the sampler chain, prompt and
 * generation speed and the seed on stderr; --probs N prints the
 * sampler's stage record of every token there (probs.h).  --save stores the exchange
 * as a session (cmd-gen.h): the prompt and the answer's row are written
 * before generation, the answer streamed into it.
 *
 * --json prints one JSON object per line instead of the text: one per
 * generated token ({"id": N, "piece": TEXT}, or "piece_hex" with the
 * piece's bytes in hex when they are not valid UTF-8 on their own, a
 * byte token or part of a character), written by cmd_run_json_token
 * alone, then a final record with the text (after stop strings), the
 * finish reason and the stats.  Scripts compare runs token by token.
 *
 * Ctrl-C stops the generation after the current token (the text so far
 * is kept, the status is 0); a second Ctrl-C ends the program.
 *
 * Model text is untrusted: when stdout is a terminal, control characters
 * other than newline and tab are shown as U+FFFD instead of being sent.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd-gen.h"
#include "cmd-load.h"
#include "cmd.h"
#include "gen.h"
#include "json.h"
#include "llm.h"
#include "params.h"
#include "utf8.h"
#include "probs.h"
#include "util.h"

static const char cmd_run_usage[] =
    "usage: vkchat run [-m MODEL.gguf] [-p PROMPT | -f FILE] [OPTIONS]\n"
    "Complete PROMPT (FILE, or standard input) with the model; print the\n"
    "completion as it is generated.  Raw unless --chat is given.\n"
    "  -m, --model FILE       the GGUF model (default: the pocket model)\n"
    "  -p, --prompt TEXT      the prompt (\"\" starts from BOS alone)\n"
    "  -f, --file FILE        read the prompt from FILE\n" CMD_GEN_USAGE
    "      --chat             send the prompt as a user turn in the "
    "model's\n"
    "                         chat format\n"
    "      --chat-format NAME the chat format (implies --chat; default:\n"
    "                         detected from the model)\n"
    "      --save             store the exchange as a session\n"
    "      --ctx N            context length (default: the model's, at "
    "most 4096)\n"
    "      --device N         Vulkan device (see 'vkchat devices')\n"
    "      --echo             print the prompt before the completion\n"
    "      --json             one JSON object per generated token (id, "
    "piece),\n"
    "                         then one with the text and the stats\n"
    "      --bos, --no-bos    put BOS first or not (raw; default: the "
    "model's)\n"
    "      --special          special-token text in the prompt becomes "
    "the token\n"
    "                         (raw)\n"
    "      --session ID       add this exchange to saved session ID: its "
    "turns go\n"
    "                         first (implies --chat and --save)\n"
    "  -c, --continue         the same with the most recently used "
    "session\n"
    "      --probs N          on stderr, for every token: the top N "
    "candidates\n"
    "                         and what each sampling stage left of them\n"
    "  -v, --verbose          timing and settings on stderr\n";

struct cmd_run {
	struct cmd_gen_args opt;
	struct gen_params p;
	struct llm *l;
	struct cmd_gen_out out;
	struct cmd_gen_save save_db;
	char *text;
	size_t len;
	struct chat_turn *history; /* --session, -c: the session's turns */
	size_t n_history;
	struct sbuf json_text;	/* --json: the text, for the final record */
	struct sbuf json_piece; /* --json: scratch for one token's bytes */
	struct sbuf json_line;	/* --json: scratch for one record */
	size_t n_steps;		/* --probs: steps printed */
	int text_out;		/* --probs: text written since the last table */
	struct sbuf table;
	struct sampler_rec rec; /* --probs with --json: the step's record */
	int have_rec;
};

static atomic_int cmd_run_cancel;

static void
cmd_run_sigint(int sig)
{
	(void)sig;
	if (atomic_exchange(&cmd_run_cancel, 1) != 0)
		_exit(130);
}

/* Write the record in r->json_line as one line and flush it. */
static void
cmd_run_json_line(struct cmd_run *r)
{
	sbuf_addc(&r->json_line, '\n');
	fwrite(r->json_line.buf, 1, r->json_line.len, stdout);
	fflush(stdout);
}

/*
 * The --json record of generated token ID: {"id": ID, "piece": TEXT},
 * "piece_hex" for bytes that are not valid UTF-8 on their own.  LOGITS
 * (the row it was sampled from) are for records that show candidates.
 */
static void
cmd_run_json_token(struct cmd_run *r, int32_t id, const float *logits)
{
	static const char hex[] = "0123456789abcdef";
	struct json_writer w;
	struct err err;
	size_t i;

	(void)logits;
	sbuf_reset(&r->json_piece);
	sbuf_reset(&r->json_line);
	if (tokenizer_piece(
		r->l->tok, id, TOK_DECODE_SPECIAL, &r->json_piece, &err) < 0)
		sbuf_reset(&r->json_piece);
	json_writer_init(&w, &r->json_line, 0);
	json_obj_begin(&w);
	json_key(&w, "id");
	json_int(&w, id);
	if (utf8_valid(r->json_piece.buf, r->json_piece.len)) {
		json_key(&w, "piece");
		json_strn(&w, r->json_piece.buf, r->json_piece.len);
	} else {
		struct sbuf h;

		sbuf_init(&h);
		for (i = 0; i < r->json_piece.len; i++) {
			unsigned char b = (unsigned char)r->json_piece.buf[i];

			sbuf_addc(&h, hex[b >> 4]);
			sbuf_addc(&h, hex[b & 15]);
		}
		json_key(&w, "piece_hex");
		json_strn(&w, h.buf, h.len);
		sbuf_release(&h);
	}
	if (r->have_rec) {
		json_key(&w, "probs");
		probs_json(
		    &(struct probs_names){ .tok = r->l->tok }, &r->rec, &w);
		r->have_rec = 0;
	}
	json_end(&w);
	cmd_run_json_line(r);
}

static void
cmd_run_on_token(void *ud, size_t col, int32_t id, const float *logits)
{
	(void)col;
	cmd_run_json_token(ud, id, logits);
}

/*
 * The final --json record: the text, the finish reason (ERRMSG, when
 * not NULL, the error that ended it) and the stats.
 */
static void
cmd_run_json_done(
    struct cmd_run *r, const struct gen_stats *st, const char *errmsg)
{
	struct json_writer w;
	char seed[32];

	snprintf(seed, sizeof seed, "%llu", (unsigned long long)st->seed);
	sbuf_reset(&r->json_line);
	json_writer_init(&w, &r->json_line, 0);
	json_obj_begin(&w);
	json_key(&w, "done");
	json_bool(&w, 1);
	json_key(&w, "text");
	json_strn(&w, r->json_text.buf, r->json_text.len);
	json_key(&w, "finish");
	json_str(&w, errmsg != NULL ? "error" : gen_finish_name(st->finish));
	json_key(&w, "stop");
	if (st->stop != NULL)
		json_str(&w, st->stop);
	else
		json_null(&w);
	json_key(&w, "error");
	if (errmsg != NULL)
		json_str(&w, errmsg);
	else
		json_null(&w);
	json_key(&w, "prompt_tokens");
	json_int(&w, (int64_t)st->n_prompt);
	json_key(&w, "prompt_evaluated");
	json_int(&w, (int64_t)st->n_eval);
	json_key(&w, "completion_tokens");
	json_int(&w, (int64_t)st->n_gen);
	json_key(&w, "prompt_s");
	json_num(&w, st->t_prompt);
	json_key(&w, "ttft_s");
	json_num(&w, st->t_first);
	json_key(&w, "prompt_tok_s");
	json_num(&w, st->prompt_tps);
	json_key(&w, "tok_s");
	json_num(&w, st->gen_tps);
	json_key(&w, "seed");
	json_str(&w, seed);
	json_end(&w);
	cmd_run_json_line(r);
}

static void
cmd_run_on_text(void *ud, size_t col, const char *text, size_t len)
{
	struct cmd_run *r = ud;

	(void)col;
	if (r->opt.json)
		sbuf_add(&r->json_text, text, len);
	else
		cmd_gen_out_write(&r->out, text, len);
	r->text_out = 1;
	if (r->opt.save)
		cmd_gen_save_text(&r->save_db, text, len);
}

/* --probs: the step's table on stderr, after the text so far. */
static void
cmd_run_on_step(void *ud, size_t col, const struct sampler_rec *rec)
{
	struct cmd_run *r = ud;

	(void)col;
	if (r->opt.json) {
		/* it goes into the token's record (cmd_run_json_token) */
		r->rec = *rec;
		r->have_rec = 1;
		return;
	}
	fflush(stdout);
	/* On one terminal the table starts on a line of its own. */
	if (r->text_out && r->out.tty && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	r->text_out = 0;
	sbuf_reset(&r->table);
	probs_text(&(struct probs_names){ .tok = r->l->tok }, rec, ++r->n_steps,
	    &r->table);
	fwrite(r->table.buf, 1, r->table.len, stderr);
	fflush(stderr);
}

/* The prompt's tokens, raw or rendered with the chat format. */
static int
cmd_run_tokens(struct cmd_run *r, struct tokenizer_ids *ids)
{
	struct llm *l = r->l;
	unsigned flags = 0;
	struct err err;

	if (r->opt.chat)
		return cmd_gen_render(l, r->p.system_prompt, r->history,
		    r->n_history, r->text, &r->p, r->opt.verbose, ids);
	/* An empty prompt starts from BOS alone, also where the model adds
	 * none to text (GPT-2's <|endoftext|>: an unconditional sample). */
	if (r->opt.bos < 0)
		r->opt.bos = tokenizer_add_bos(l->tok) || r->len == 0;
	if (r->opt.bos && tokenizer_bos(l->tok) >= 0)
		flags |= TOK_ADD_BOS;
	if (r->opt.special)
		flags |= TOK_PARSE_SPECIAL;
	if (tokenizer_encode(l->tok, r->text, r->len, flags, ids, &err) < 0)
		return cmd_fail(&err);
	if (ids->n == 0) {
		cmd_error("run: the prompt is empty and the model has no BOS "
			  "token (or --no-bos was given)");
		return EXIT_USAGE;
	}
	return 0;
}

/* Generate from IDS, streaming (and saving); 0 or the exit status. */
static int
cmd_run_generate(struct cmd_run *r, const struct tokenizer_ids *ids)
{
	struct gen_request req;
	struct gen_params gp;
	struct gen_result res;
	struct sigaction sa, old;
	struct err err;
	int status = EXIT_OK;

	memset(&req, 0, sizeof req);
	req.prompt = ids->ids;
	req.n_prompt = ids->n;
	req.n_cols = 1;
	/* the settings with the seed this run uses (a shallow copy: the
	 * settings as given, seed 0 unless set, are what --save stores) */
	gp = r->p;
	gp.seed = conv_draw_seed(&r->p);
	req.params = &gp;
	/* Without prompt text the first piece's space prefix is dropped,
	 * and a chat answer starts without one. */
	req.decode_flags =
	    r->len == 0 || r->opt.chat ? TOK_DECODE_STRIP_PREFIX : 0;
	req.on_text = cmd_run_on_text;
	if (r->opt.json)
		req.on_token = cmd_run_on_token;
	req.ud = r;
	req.cancel = &cmd_run_cancel;
	if (r->opt.probs > 0) {
		req.probs_top = (int32_t)r->opt.probs;
		req.on_step = cmd_run_on_step;
	}
	if (r->opt.chat)
		llm_stop_rules(r->l, &req);
	if (r->opt.save &&
	    cmd_gen_save_begin(&r->save_db, r->text, &r->p, gp.seed, &err) <
		0) {
		cmd_error("run: cannot save: %s", err.msg);
		return EXIT_USAGE;
	}
	gen_result_init(&res);
	if (r->opt.echo)
		cmd_gen_out_write(&r->out, r->text, r->len);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cmd_run_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	if (gen_run(r->l->e, r->l->tok, &req, &res, &err) < 0) {
		status = cmd_fail(&err);
		if (err.code == ERR_NOMEM)
			status = EXIT_NOMEM;
	}
	sigaction(SIGINT, &old, NULL);
	if (r->opt.json)
		cmd_run_json_done(
		    r, &res.stats, status == EXIT_OK ? NULL : err.msg);
	else if (r->out.tty)
		fputc('\n', stdout);
	fflush(stdout);
	if (r->opt.save) {
		if (cmd_gen_save_finish(&r->save_db,
			status == EXIT_OK ? res.stats.finish : GEN_FINISH_ERROR,
			status == EXIT_OK ? &res.stats : NULL,
			status == EXIT_OK ? NULL : err.msg) == 0)
			fprintf(stderr, "vkchat: saved as session %lld\n",
			    (long long)r->save_db.conv.session);
		else if (status == EXIT_OK)
			status = EXIT_USAGE;
	}
	if (status == EXIT_OK && r->opt.verbose)
		cmd_gen_report(&r->p, engine_n_vocab(r->l->e), &res.stats);
	gen_result_release(&res);
	return status;
}

int
cmd_run(int argc, char **argv)
{
	struct cmd_run r;
	struct llm_opts o;
	struct tokenizer_ids ids;
	char b[32];
	size_t i;
	int status;

	memset(&r, 0, sizeof r);
	sbuf_init(&r.json_text);
	sbuf_init(&r.json_piece);
	sbuf_init(&r.json_line);
	cmd_gen_args_init(&r.opt, argc);
	params_init(&r.p);
	tokenizer_ids_init(&ids);
	cmd_gen_out_init(&r.out);
	sbuf_init(&r.table);
	if ((status = cmd_gen_args_parse(
		 &r.opt, CMD_GEN_RUN, cmd_run_usage, argc, argv)) != 0) {
		status = status < 0 ? EXIT_OK : status;
		goto out;
	}
	params_release(&r.p);
	if ((status = cmd_gen_params("run", &r.opt.gen, &r.p)) != 0)
		goto out;
	if ((status = cmd_gen_args_prompt(&r.opt, "", &r.text, &r.len)) != 0)
		goto out;
	/* --system implies --chat; a system prompt from --set or a preset
	 * does not, and a raw completion has no place for one */
	if (!r.opt.chat && r.opt.session == 0 && !r.opt.cont &&
	    r.p.system_prompt != NULL)
		cmd_error("warning: a raw completion has no system prompt: "
			  "'%.40s' is not used (add --chat)",
		    r.p.system_prompt);
	llm_opts_init(&o);
	o.path = r.opt.model;
	o.device = r.opt.device;
	o.cfg.n_ctx = (uint32_t)r.opt.ctx;
	o.chat_format = r.opt.format;
	if ((status = cmd_load_open(&o, &r.l)) != 0)
		goto out;
	if (tokenizer_warning(r.l->tok) != NULL && r.opt.verbose)
		cmd_error("warning: %s", tokenizer_warning(r.l->tok));
	if (r.opt.verbose)
		fprintf(stderr,
		    "vkchat: loaded '%s' in %.3f s (%s of weights) on %s, "
		    "context %u\n",
		    r.l->m->path, r.l->t_load,
		    util_bytes(r.l->m->weight_bytes, b, sizeof b),
		    r.l->dev->info.name, engine_config(r.l->e)->n_ctx);
	if (r.opt.save &&
	    (status = cmd_gen_save_open(&r.save_db, r.opt.gen.db, r.opt.model,
		 r.l->file_size, r.l->identity,
		 r.opt.chat ? chat_format_name(r.l->fmt) : NULL,
		 r.opt.gen.preset)) != 0)
		goto out;
	/* --session, -c: the session's turns come first, its settings
	 * with the command line's on top */
	if ((r.opt.session != 0 || r.opt.cont) &&
	    ((status = cmd_gen_save_continue(&r.save_db, r.opt.session,
		  r.opt.cont, &r.p, &r.history, &r.n_history)) != 0 ||
		(status = cmd_gen_apply(&r.opt.gen, &r.p, NULL)) != 0))
		goto out;
	if ((status = cmd_run_tokens(&r, &ids)) != 0)
		goto out;
	status = cmd_run_generate(&r, &ids);
out:
	if (r.opt.save)
		cmd_gen_save_close(&r.save_db);
	llm_free(r.l);
	cmd_gen_out_release(&r.out);
	sbuf_release(&r.table);
	tokenizer_ids_release(&ids);
	params_release(&r.p);
	cmd_gen_args_release(&r.opt);
	for (i = 0; i < r.n_history; i++)
		free((char *)r.history[i].text);
	free(r.history);
	free(r.text);
	sbuf_release(&r.json_text);
	sbuf_release(&r.json_piece);
	sbuf_release(&r.json_line);
	return status;
}
