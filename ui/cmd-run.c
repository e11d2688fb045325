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
 * generation speed and the seed on stderr.  --save stores the exchange
 * as a session (cmd-gen.h): the prompt and the answer's row are written
 * before generation, the answer streamed into it.
 *
 * Ctrl-C stops the generation after the current token (the text so far
 * is kept, the status is 0); a second Ctrl-C ends the program.
 *
 * Model text is untrusted: when stdout is a terminal, control characters
 * other than newline and tab are shown as U+FFFD instead of being sent.
 */
#include <getopt.h>
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
#include "llm.h"
#include "params.h"
#include "rng.h"
#include "util.h"

static const char cmd_run_usage[] =
    "usage: vkchat run -m MODEL.gguf [-p PROMPT | -f FILE] [OPTIONS]\n"
    "Complete PROMPT (FILE, or standard input) with the model; print the\n"
    "completion as it is generated.  Raw unless --chat is given.\n"
    "  -m, --model FILE       the GGUF model\n"
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
    "      --bos, --no-bos    put BOS first or not (raw; default: the "
    "model's)\n"
    "      --special          special-token text in the prompt becomes "
    "the token\n"
    "                         (raw)\n"
    "  -v, --verbose          timing and settings on stderr\n";

enum {
	CMD_RUN_OPT_CTX = 256,
	CMD_RUN_OPT_DEVICE,
	CMD_RUN_OPT_ECHO,
	CMD_RUN_OPT_BOS,
	CMD_RUN_OPT_NO_BOS,
	CMD_RUN_OPT_SPECIAL,
	CMD_RUN_OPT_CHAT,
	CMD_RUN_OPT_FORMAT,
	CMD_RUN_OPT_SAVE,
};

static const struct option cmd_run_options[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "prompt", required_argument, NULL, 'p' },
	{ "file", required_argument, NULL, 'f' },
	{ "chat", no_argument, NULL, CMD_RUN_OPT_CHAT },
	{ "chat-format", required_argument, NULL, CMD_RUN_OPT_FORMAT },
	{ "save", no_argument, NULL, CMD_RUN_OPT_SAVE },
	{ "ctx", required_argument, NULL, CMD_RUN_OPT_CTX },
	{ "device", required_argument, NULL, CMD_RUN_OPT_DEVICE },
	{ "echo", no_argument, NULL, CMD_RUN_OPT_ECHO },
	{ "bos", no_argument, NULL, CMD_RUN_OPT_BOS },
	{ "no-bos", no_argument, NULL, CMD_RUN_OPT_NO_BOS },
	{ "special", no_argument, NULL, CMD_RUN_OPT_SPECIAL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct cmd_run {
	const char *model, *prompt, *file, *format;
	struct cmd_gen_opts gen;
	int device, echo, bos, special, verbose, chat, save;
	int64_t ctx;
	struct gen_params p;
	struct llm *l;
	struct cmd_gen_out out;
	struct cmd_gen_save save_db;
	char *text;
	size_t len;
};

static atomic_int cmd_run_cancel;

static void
cmd_run_sigint(int sig)
{
	(void)sig;
	if (atomic_exchange(&cmd_run_cancel, 1) != 0)
		_exit(130);
}

static void
cmd_run_on_text(void *ud, size_t col, const char *text, size_t len)
{
	struct cmd_run *r = ud;

	(void)col;
	cmd_gen_out_write(&r->out, text, len);
	if (r->save)
		cmd_gen_save_text(&r->save_db, text, len);
}

/* The prompt text: -p, -f FILE or stdin (one trailing newline dropped). */
static int
cmd_run_prompt(struct cmd_run *r)
{
	struct err err;

	if (r->prompt != NULL) {
		r->text = xstrdup(r->prompt);
		r->len = strlen(r->prompt);
		return 0;
	}
	if (util_read_file(
		r->file != NULL ? r->file : "-", &r->text, &r->len, &err) < 0) {
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (r->len > 0 && r->text[r->len - 1] == '\n')
		r->text[--r->len] = '\0';
	if (r->len > 0 && r->text[r->len - 1] == '\r')
		r->text[--r->len] = '\0';
	return 0;
}

static int cmd_run_check(const struct cmd_run *r, int argc, char **argv);

/* Parse the options into *r; 0, or the exit status (-1: --help). */
static int
cmd_run_args(struct cmd_run *r, int argc, char **argv)
{
	struct option *opts = cmd_gen_longopts(cmd_run_options);
	int c, idx = -1, status = EXIT_OK;

	optind = 0;
	opterr = 0;
	while (status == EXIT_OK &&
	    (c = getopt_long(argc, argv, "m:p:f:n:vh", opts, &idx)) != -1) {
		if (c == 'n') {
			c = CMD_GEN_OPT_PARAM;
			idx = -1;
		}
		if (cmd_gen_opts_take(&r->gen, c,
			idx >= 0 ? opts[idx].name : "max-tokens", optarg)) {
			if (idx >= 0 && strcmp(opts[idx].name, "system") == 0)
				r->chat = 1;
			idx = -1;
			continue;
		}
		switch (c) {
		case 'm':
			r->model = optarg;
			break;
		case 'p':
			r->prompt = optarg;
			break;
		case 'f':
			r->file = optarg;
			break;
		case 'v':
			r->verbose = 1;
			break;
		case CMD_RUN_OPT_CHAT:
			r->chat = 1;
			break;
		case CMD_RUN_OPT_FORMAT:
			r->format = optarg;
			r->chat = 1;
			break;
		case CMD_RUN_OPT_SAVE:
			r->save = 1;
			break;
		case CMD_RUN_OPT_CTX:
			if (util_parse_i64(optarg, 1, 1 << 20, &r->ctx) < 0) {
				cmd_error("--ctx: '%s' is not a context length "
					  "(1-1048576)",
				    optarg);
				status = EXIT_USAGE;
			}
			break;
		case CMD_RUN_OPT_DEVICE:
			if ((r->device = cmd_load_device(optarg)) < 0)
				status = EXIT_USAGE;
			break;
		case CMD_RUN_OPT_ECHO:
			r->echo = 1;
			break;
		case CMD_RUN_OPT_BOS:
			r->bos = 1;
			break;
		case CMD_RUN_OPT_NO_BOS:
			r->bos = 0;
			break;
		case CMD_RUN_OPT_SPECIAL:
			r->special = 1;
			break;
		case 'h':
			fputs(cmd_run_usage, stdout);
			free(opts);
			return -1;
		default:
			if (optopt != 0 && optopt < 256)
				cmd_error("run: bad option or missing argument "
					  "'-%c'",
				    optopt);
			else
				cmd_error("run: bad option or missing argument "
					  "'%s'",
				    argv[optind - 1]);
			status = EXIT_USAGE;
			break;
		}
		idx = -1;
	}
	free(opts);
	if (status == EXIT_OK)
		status = cmd_run_check(r, argc, argv);
	if (status != EXIT_OK)
		fputs(cmd_run_usage, stderr);
	return status;
}

/* The options that must or must not come together. */
static int
cmd_run_check(const struct cmd_run *r, int argc, char **argv)
{
	if (optind < argc) {
		cmd_error("run: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (r->model == NULL) {
		cmd_error("run: no model (-m MODEL.gguf)");
		return EXIT_USAGE;
	}
	if (r->prompt != NULL && r->file != NULL) {
		cmd_error("run: -p and -f exclude each other");
		return EXIT_USAGE;
	}
	if (r->chat && (r->special || r->bos >= 0)) {
		cmd_error("run: --special, --bos and --no-bos are for raw "
			  "prompts, not --chat");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The prompt's tokens, raw or rendered with the chat format. */
static int
cmd_run_tokens(struct cmd_run *r, struct tokenizer_ids *ids)
{
	struct llm *l = r->l;
	struct chat_turn turn = { CHAT_USER, r->text };
	unsigned flags = 0;
	size_t missing = 0;
	struct err err;

	if (r->chat) {
		if (llm_render(l, r->p.system_prompt, &turn, 1,
			llm_reserve(l, r->p.max_tokens), 0, ids, NULL, &missing,
			&err) < 0)
			return cmd_fail(&err);
		if (r->verbose)
			fprintf(stderr, "vkchat: chat format: %s (%s)\n",
			    chat_format_name(l->fmt), l->fmt_why);
		if (missing > 0)
			cmd_error(
			    "warning: the model's vocabulary lacks %zu of "
			    "the %s format's special tokens: they are "
			    "sent as text (see --chat-format)",
			    missing, chat_format_name(l->fmt));
		return 0;
	}
	if (r->bos < 0)
		r->bos = tokenizer_add_bos(l->tok);
	if (r->bos && tokenizer_bos(l->tok) >= 0)
		flags |= TOK_ADD_BOS;
	if (r->special)
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
	struct gen_result res;
	struct sigaction sa, old;
	struct err err;
	int status = EXIT_OK;

	memset(&req, 0, sizeof req);
	req.prompt = ids->ids;
	req.n_prompt = ids->n;
	req.n_cols = 1;
	req.params = &r->p;
	/* Without prompt text the first piece's space prefix is dropped,
	 * and a chat answer starts without one. */
	req.decode_flags = r->len == 0 || r->chat ? TOK_DECODE_STRIP_PREFIX : 0;
	req.on_text = cmd_run_on_text;
	req.ud = r;
	req.cancel = &cmd_run_cancel;
	if (r->chat)
		llm_stop_rules(r->l, &req);
	if (r->save &&
	    cmd_gen_save_begin(&r->save_db, r->text, &r->p, r->p.seed, &err) <
		0) {
		cmd_error("run: cannot save: %s", err.msg);
		return EXIT_USAGE;
	}
	gen_result_init(&res);
	if (r->echo)
		cmd_gen_out_write(&r->out, r->text, r->len);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cmd_run_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	if (gen_run(r->l->e, r->l->tok, &req, &res, &err) < 0) {
		status = cmd_fail(&err);
		if (err.code == ERR_NOMEM)
			status = EXIT_DEVICE;
	}
	sigaction(SIGINT, &old, NULL);
	if (r->out.tty)
		fputc('\n', stdout);
	fflush(stdout);
	if (r->save) {
		if (cmd_gen_save_finish(&r->save_db,
			status == EXIT_OK ? &res.stats : NULL,
			status == EXIT_OK ? NULL : err.msg) == 0)
			fprintf(stderr, "vkchat: saved as session %lld\n",
			    (long long)r->save_db.session);
		else if (status == EXIT_OK)
			status = EXIT_USAGE;
	}
	if (status == EXIT_OK && r->verbose)
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
	int status;

	memset(&r, 0, sizeof r);
	r.device = -1;
	r.bos = -1;
	cmd_gen_opts_init(&r.gen, argc);
	params_init(&r.p);
	tokenizer_ids_init(&ids);
	cmd_gen_out_init(&r.out);
	if ((status = cmd_run_args(&r, argc, argv)) != 0) {
		status = status < 0 ? EXIT_OK : status;
		goto out;
	}
	params_release(&r.p);
	if ((status = cmd_gen_params("run", &r.gen, &r.p)) != 0)
		goto out;
	if (r.p.seed == 0)
		r.p.seed = rng_random_seed();
	if ((status = cmd_run_prompt(&r)) != 0)
		goto out;
	llm_opts_init(&o);
	o.path = r.model;
	o.device = r.device;
	o.cfg.n_ctx = (uint32_t)r.ctx;
	o.chat_format = r.format;
	if ((status = cmd_load_open(&o, &r.l)) != 0)
		goto out;
	if (tokenizer_warning(r.l->tok) != NULL && r.verbose)
		cmd_error("warning: %s", tokenizer_warning(r.l->tok));
	if (r.verbose)
		fprintf(stderr,
		    "vkchat: loaded '%s' in %.3f s (%s of weights) on %s, "
		    "context %u\n",
		    r.l->m->path, r.l->t_load,
		    util_bytes(r.l->m->weight_bytes, b, sizeof b),
		    r.l->dev->info.name, engine_config(r.l->e)->n_ctx);
	if ((status = cmd_run_tokens(&r, &ids)) != 0)
		goto out;
	if (r.save &&
	    (status = cmd_gen_save_open(&r.save_db, r.gen.db, r.model,
		 r.l->file_size, r.l->identity,
		 r.chat ? chat_format_name(r.l->fmt) : NULL, r.gen.preset)) !=
		0)
		goto out;
	status = cmd_run_generate(&r, &ids);
out:
	if (r.save)
		cmd_gen_save_close(&r.save_db);
	llm_free(r.l);
	cmd_gen_out_release(&r.out);
	tokenizer_ids_release(&ids);
	params_release(&r.p);
	cmd_gen_opts_release(&r.gen);
	free(r.text);
	return status;
}
