/*
 * cmd-run: "vkchat run -m MODEL.gguf -p PROMPT": one raw completion (no
 * chat template), streamed to stdout as it is generated, flushed per
 * piece of text.  The prompt comes from -p, -f or standard input (one
 * trailing newline dropped); -p "" starts from BOS alone.  Sampling
 * options are the generation parameters of params.h (--temp, --top-k,
 * ..., --set key=value,..., --preset NAME); -v reports load time, the
 * sampler chain, prompt and generation speed and the seed on stderr.
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

#include "cmd-load.h"
#include "cmd.h"
#include "gen.h"
#include "params.h"
#include "rng.h"
#include "sampler.h"
#include "utf8.h"
#include "util.h"

static const char cmd_run_usage[] =
    "usage: vkchat run -m MODEL.gguf [-p PROMPT | -f FILE] [OPTIONS]\n"
    "Complete PROMPT (FILE, or standard input) with the model; print the\n"
    "completion as it is generated.\n"
    "  -m, --model FILE       the GGUF model\n"
    "  -p, --prompt TEXT      the prompt (\"\" starts from BOS alone)\n"
    "  -f, --file FILE        read the prompt from FILE\n"
    "  -n, --max-tokens N     stop after N tokens (-1: until the context "
    "is full)\n"
    "      --temp X           temperature (0: greedy)\n"
    "      --top-k N, --top-p X, --min-p X, --typical-p X\n"
    "      --repeat-penalty X, --repeat-last-n N\n"
    "      --frequency-penalty X, --presence-penalty X\n"
    "      --mirostat N, --mirostat-tau X, --mirostat-eta X\n"
    "      --seed N           random seed (0: a random one)\n"
    "      --stop TEXT        stop before TEXT (repeatable)\n"
    "      --logit-bias ID:B  add B to token ID's logit (repeatable)\n"
    "      --set LIST         key=value,... generation parameters\n"
    "      --preset NAME      start from a built-in preset\n"
    "      --ctx N            context length (default: the model's, at "
    "most 4096)\n"
    "      --device N         Vulkan device (see 'vkchat devices')\n"
    "      --echo             print the prompt before the completion\n"
    "      --bos, --no-bos    put BOS first or not (default: the model's)\n"
    "      --special          special-token text in the prompt becomes "
    "the token\n"
    "  -v, --verbose          timing and settings on stderr\n";

enum {
	CMD_RUN_OPT_SET = 256,
	CMD_RUN_OPT_PRESET,
	CMD_RUN_OPT_CTX,
	CMD_RUN_OPT_DEVICE,
	CMD_RUN_OPT_ECHO,
	CMD_RUN_OPT_BOS,
	CMD_RUN_OPT_NO_BOS,
	CMD_RUN_OPT_SPECIAL,
	CMD_RUN_OPT_PARAM, /* a generation parameter named by the option */
};

static const struct option cmd_run_options[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "prompt", required_argument, NULL, 'p' },
	{ "file", required_argument, NULL, 'f' },
	{ "max-tokens", required_argument, NULL, 'n' },
	{ "temp", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "top-k", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "top-p", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "min-p", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "typical-p", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "repeat-penalty", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "repeat-last-n", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "frequency-penalty", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "presence-penalty", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "mirostat", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "mirostat-tau", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "mirostat-eta", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "seed", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "stop", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "logit-bias", required_argument, NULL, CMD_RUN_OPT_PARAM },
	{ "set", required_argument, NULL, CMD_RUN_OPT_SET },
	{ "preset", required_argument, NULL, CMD_RUN_OPT_PRESET },
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

/* Parameter settings in command-line order, applied after the preset. */
struct cmd_run_set {
	const char *key; /* a params key, or NULL: VALUE is a --set list */
	const char *value;
};

static atomic_int cmd_run_cancel;

static void
cmd_run_sigint(int sig)
{
	(void)sig;
	if (atomic_exchange(&cmd_run_cancel, 1) != 0)
		_exit(130);
}

struct cmd_run_out {
	int tty;
	struct sbuf buf;
};

/* Write model text to stdout, defusing control characters on a tty. */
static void
cmd_run_write(struct cmd_run_out *o, const char *text, size_t len)
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
		    (cp >= 0x7f && cp < 0xa0))
			sbuf_adds(&o->buf, "\xef\xbf\xbd");
		else
			sbuf_add(&o->buf, text + i, (size_t)n);
		i += n > 0 ? (size_t)n : 1;
	}
	fwrite(o->buf.buf, 1, o->buf.len, stdout);
	fflush(stdout);
}

static void
cmd_run_on_text(void *ud, size_t col, const char *text, size_t len)
{
	(void)col;
	cmd_run_write(ud, text, len);
}

/* The option's parameter key: its long name with '-' as '_'. */
static const char *
cmd_run_param_key(const char *opt, char *buf, size_t size)
{
	size_t i;

	if (strcmp(opt, "temp") == 0)
		opt = "temperature";
	for (i = 0; opt[i] != '\0' && i + 1 < size; i++)
		buf[i] = opt[i] == '-' ? '_' : opt[i];
	buf[i] = '\0';
	return buf;
}

/* Build the parameters: PRESET (or the defaults), then SETS in order. */
static int
cmd_run_params(const char *preset, const struct cmd_run_set *sets,
    size_t n_sets, struct gen_params *p)
{
	struct err err;
	size_t i;
	int rc = 0;

	if (preset != NULL) {
		if (params_builtin(preset, p) < 0) {
			cmd_error("run: no built-in preset '%s' (see 'vkchat "
				  "presets list')",
			    preset);
			params_init(p);
			return EXIT_USAGE;
		}
	} else
		params_init(p);
	for (i = 0; i < n_sets && rc == 0; i++) {
		if (sets[i].key != NULL)
			rc = params_set(p, sets[i].key, sets[i].value, &err);
		else
			rc = params_set_list(p, sets[i].value, &err);
	}
	if (rc < 0) {
		cmd_error("run: %s", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

/* The prompt text: -p, -f FILE or stdin (one trailing newline dropped). */
static int
cmd_run_prompt(const char *prompt, const char *file, char **text, size_t *len)
{
	struct err err;

	if (prompt != NULL) {
		*text = xstrdup(prompt);
		*len = strlen(prompt);
		return 0;
	}
	if (util_read_file(file != NULL ? file : "-", text, len, &err) < 0) {
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (*len > 0 && (*text)[*len - 1] == '\n')
		(*text)[--*len] = '\0';
	if (*len > 0 && (*text)[*len - 1] == '\r')
		(*text)[--*len] = '\0';
	return 0;
}

static void
cmd_run_report(const struct cmd_load *l, const struct gen_params *p,
    const struct gen_result *res)
{
	const struct gen_stats *st = &res->stats;
	struct sampler *s;
	struct sbuf sb;
	char b[32];

	sbuf_init(&sb);
	if (sampler_new(p, engine_n_vocab(l->e), &s, NULL) == 0) {
		sampler_describe(s, &sb);
		sampler_free(s);
	}
	fprintf(stderr,
	    "vkchat: loaded '%s' in %.3f s (%s of weights) on %s, context "
	    "%u\n",
	    l->m->path, l->t_load, util_bytes(l->m->weight_bytes, b, sizeof b),
	    l->dev->info.name, engine_config(l->e)->n_ctx);
	fprintf(stderr, "vkchat: sampler: %s\n", sb.buf);
	fprintf(stderr,
	    "vkchat: prompt: %zu tokens, %zu evaluated in %.3f s (%.1f "
	    "tok/s)\n",
	    st->n_prompt, st->n_eval, st->t_prompt, st->prompt_tps);
	fprintf(stderr,
	    "vkchat: generated: %zu tokens in %.3f s (%.1f tok/s), first "
	    "after %.3f s; finish: %s; seed %llu\n",
	    st->n_gen, st->t_gen, st->gen_tps, st->t_first,
	    gen_finish_name(st->finish), (unsigned long long)st->seed);
	sbuf_release(&sb);
}

int
cmd_run(int argc, char **argv)
{
	const char *model = NULL, *prompt = NULL, *file = NULL, *preset = NULL;
	struct cmd_run_set *sets = xcalloc((size_t)argc + 1, sizeof *sets);
	char keys[32][32];
	size_t n_sets = 0, n_keys = 0;
	int device = -1, echo = 0, bos = -1, special = 0, verbose = 0;
	int c, idx, status = EXIT_OK;
	int64_t ctx = 0;
	struct engine_config cfg = { 0 };
	struct cmd_load l;
	struct gen_params p;
	struct gen_result res;
	struct gen_request req = { 0 };
	struct tokenizer_ids ids;
	struct cmd_run_out out = { 0 };
	struct sigaction sa, old;
	struct err err;
	char *text = NULL;
	size_t len = 0;
	unsigned flags = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(
		    argc, argv, "m:p:f:n:vh", cmd_run_options, &idx)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'p':
			prompt = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			sets[n_sets++] =
			    (struct cmd_run_set){ "max_tokens", optarg };
			break;
		case 'v':
			verbose = 1;
			break;
		case CMD_RUN_OPT_PARAM:
			if (n_keys == ARRAY_LEN(keys)) {
				cmd_error("run: too many options");
				status = EXIT_USAGE;
				goto out_args;
			}
			sets[n_sets++] = (struct cmd_run_set){
				cmd_run_param_key(cmd_run_options[idx].name,
				    keys[n_keys], sizeof keys[0]),
				optarg
			};
			n_keys++;
			break;
		case CMD_RUN_OPT_SET:
			sets[n_sets++] = (struct cmd_run_set){ NULL, optarg };
			break;
		case CMD_RUN_OPT_PRESET:
			preset = optarg;
			break;
		case CMD_RUN_OPT_CTX:
			if (util_parse_i64(optarg, 1, 1 << 20, &ctx) < 0) {
				cmd_error("--ctx: '%s' is not a context length "
					  "(1-1048576)",
				    optarg);
				status = EXIT_USAGE;
				goto out_args;
			}
			break;
		case CMD_RUN_OPT_DEVICE:
			if ((device = cmd_load_device(optarg)) < 0) {
				status = EXIT_USAGE;
				goto out_args;
			}
			break;
		case CMD_RUN_OPT_ECHO:
			echo = 1;
			break;
		case CMD_RUN_OPT_BOS:
			bos = 1;
			break;
		case CMD_RUN_OPT_NO_BOS:
			bos = 0;
			break;
		case CMD_RUN_OPT_SPECIAL:
			special = 1;
			break;
		case 'h':
			fputs(cmd_run_usage, stdout);
			goto out_args;
		default:
			if (optopt != 0 && optopt < 256)
				cmd_error("run: bad option or missing argument "
					  "'-%c'",
				    optopt);
			else
				cmd_error("run: bad option or missing argument "
					  "'%s'",
				    argv[optind - 1]);
			fputs(cmd_run_usage, stderr);
			status = EXIT_USAGE;
			goto out_args;
		}
	}
	if (optind < argc) {
		cmd_error("run: unexpected argument '%s'", argv[optind]);
		status = EXIT_USAGE;
	} else if (model == NULL) {
		cmd_error("run: no model (-m MODEL.gguf)");
		status = EXIT_USAGE;
	} else if (prompt != NULL && file != NULL) {
		cmd_error("run: -p and -f exclude each other");
		status = EXIT_USAGE;
	}
	if (status != EXIT_OK) {
		fputs(cmd_run_usage, stderr);
		goto out_args;
	}
	if ((status = cmd_run_params(preset, sets, n_sets, &p)) != 0)
		goto out_params;
	if (p.seed == 0)
		p.seed = rng_random_seed();
	if ((status = cmd_run_prompt(prompt, file, &text, &len)) != 0)
		goto out_params;
	cfg.n_ctx = (uint32_t)ctx;
	if ((status = cmd_load_open(&l, model, device, &cfg)) != 0)
		goto out_params;
	if (tokenizer_warning(l.tok) != NULL && verbose)
		cmd_error("warning: %s", tokenizer_warning(l.tok));
	if (bos < 0)
		bos = tokenizer_add_bos(l.tok);
	if (bos && tokenizer_bos(l.tok) >= 0)
		flags |= TOK_ADD_BOS;
	if (special)
		flags |= TOK_PARSE_SPECIAL;
	tokenizer_ids_init(&ids);
	gen_result_init(&res);
	if (tokenizer_encode(l.tok, text, len, flags, &ids, &err) < 0) {
		status = cmd_fail(&err);
		goto out;
	}
	if (ids.n == 0) {
		cmd_error("run: the prompt is empty and the model has no BOS "
			  "token (or --no-bos was given)");
		status = EXIT_USAGE;
		goto out;
	}
	out.tty = isatty(STDOUT_FILENO);
	sbuf_init(&out.buf);
	if (echo)
		cmd_run_write(&out, text, len);
	req.prompt = ids.ids;
	req.n_prompt = ids.n;
	req.n_cols = 1;
	req.params = &p;
	/* Without prompt text the first piece's space prefix is dropped. */
	req.decode_flags = len == 0 ? TOK_DECODE_STRIP_PREFIX : 0;
	req.on_text = cmd_run_on_text;
	req.ud = &out;
	req.cancel = &cmd_run_cancel;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cmd_run_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	if (gen_run(l.e, l.tok, &req, &res, &err) < 0) {
		status = cmd_fail(&err);
		if (err.code == ERR_NOMEM)
			status = EXIT_DEVICE;
	}
	sigaction(SIGINT, &old, NULL);
	if (out.tty)
		fputc('\n', stdout);
	fflush(stdout);
	if (status == EXIT_OK && verbose)
		cmd_run_report(&l, &p, &res);
	sbuf_release(&out.buf);
out:
	gen_result_release(&res);
	tokenizer_ids_release(&ids);
	cmd_load_close(&l);
out_params:
	params_release(&p);
out_args:
	free(text);
	free(sets);
	return status;
}
