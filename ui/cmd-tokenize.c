/*
 * cmd-tokenize: "vkchat tokenize -m MODEL.gguf": the model's tokenizer on
 * a text from -p, -f or standard input.  Prints the ids on one line, or
 * one token per line with its text (--pieces), or JSON (--json); --bench
 * times the tokenizer instead.  Only the tokenizer.ggml.* keys are read,
 * so vocab-only GGUF files work.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "pocket.h"
#include "gguf.h"
#include "json.h"
#include "tokenizer.h"
#include "utf8.h"
#include "util.h"

static const char cmd_tokenize_usage[] =
    "usage: vkchat tokenize [-m MODEL.gguf] [-p TEXT | -f FILE] [--pieces | "
    "--json]\n"
    "                       [--bos | --no-bos] [--special] [--bench N]\n"
    "Tokenize TEXT, FILE or standard input with the model's tokenizer.\n"
    "  -m, --model FILE   the GGUF file (vocab-only files work;\n"
    "                     default: the pocket model)\n"
    "  -p, --prompt TEXT  the text (default: standard input)\n"
    "  -f, --file FILE    read the text from FILE\n"
    "      --pieces       one token per line: id and its text\n"
    "      --json         a JSON object with ids and pieces\n"
    "      --bos          put the BOS token first\n"
    "      --no-bos       do not (default: as the model says)\n"
    "      --special      special-token text becomes the special token\n"
    "      --bench N      tokenize N times, print the speed to stderr\n";

enum {
	CMD_TOKENIZE_OPT_PIECES = 256,
	CMD_TOKENIZE_OPT_JSON,
	CMD_TOKENIZE_OPT_BOS,
	CMD_TOKENIZE_OPT_NO_BOS,
	CMD_TOKENIZE_OPT_SPECIAL,
	CMD_TOKENIZE_OPT_BENCH,
};

static const struct option cmd_tokenize_options[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "prompt", required_argument, NULL, 'p' },
	{ "file", required_argument, NULL, 'f' },
	{ "pieces", no_argument, NULL, CMD_TOKENIZE_OPT_PIECES },
	{ "json", no_argument, NULL, CMD_TOKENIZE_OPT_JSON },
	{ "bos", no_argument, NULL, CMD_TOKENIZE_OPT_BOS },
	{ "no-bos", no_argument, NULL, CMD_TOKENIZE_OPT_NO_BOS },
	{ "special", no_argument, NULL, CMD_TOKENIZE_OPT_SPECIAL },
	{ "bench", required_argument, NULL, CMD_TOKENIZE_OPT_BENCH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * Append S (LEN bytes) readably to SB: printable UTF-8 as is, backslash
 * and quote escaped, \n \t \r, other C0 controls and bytes that are not
 * (complete) UTF-8 as \xNN, C1 controls as \uNNNN.
 */
static void
cmd_tokenize_escape(struct sbuf *sb, const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int n;

	while (i < len) {
		n = utf8_decode(s + i, len - i, &cp);
		if (n <= 0) {
			sbuf_addf(sb, "\\x%02x", (unsigned char)s[i++]);
			continue;
		}
		if (cp == '\n')
			sbuf_adds(sb, "\\n");
		else if (cp == '\t')
			sbuf_adds(sb, "\\t");
		else if (cp == '\r')
			sbuf_adds(sb, "\\r");
		else if (cp < 0x20 || cp == 0x7f)
			sbuf_addf(sb, "\\x%02x", (unsigned)cp);
		else if (cp >= 0x80 && cp < 0xa0)
			sbuf_addf(sb, "\\u%04x", (unsigned)cp);
		else {
			if (cp == '\\' || cp == '"')
				sbuf_addc(sb, '\\');
			sbuf_add(sb, s + i, (size_t)n);
		}
		i += (size_t)n;
	}
}

static void
cmd_tokenize_print(const struct tokenizer *tok, const struct tokenizer_ids *ids,
    int pieces, int json)
{
	struct sbuf sb, piece;
	struct json_writer w;
	size_t i;

	sbuf_init(&sb);
	sbuf_init(&piece);
	if (json) {
		json_writer_init(&w, &sb, 0);
		json_obj_begin(&w);
		json_key(&w, "n_tokens");
		json_int(&w, (int64_t)ids->n);
		json_key(&w, "ids");
		json_arr_begin(&w);
		for (i = 0; i < ids->n; i++)
			json_int(&w, ids->ids[i]);
		json_end(&w);
		json_key(&w, "pieces");
		json_arr_begin(&w);
		for (i = 0; i < ids->n; i++) {
			sbuf_reset(&piece);
			tokenizer_piece(
			    tok, ids->ids[i], TOK_DECODE_SPECIAL, &piece, NULL);
			json_strn(&w, piece.buf, piece.len);
		}
		json_end(&w);
		json_end(&w);
		sbuf_addc(&sb, '\n');
	} else if (pieces) {
		for (i = 0; i < ids->n; i++) {
			sbuf_reset(&piece);
			tokenizer_piece(
			    tok, ids->ids[i], TOK_DECODE_SPECIAL, &piece, NULL);
			sbuf_addf(&sb, "%d\t\"", (int)ids->ids[i]);
			cmd_tokenize_escape(&sb, piece.buf, piece.len);
			sbuf_adds(&sb, "\"\n");
		}
	} else {
		for (i = 0; i < ids->n; i++)
			sbuf_addf(&sb, "%s%d", i ? " " : "", (int)ids->ids[i]);
		sbuf_addc(&sb, '\n');
	}
	fwrite(sb.buf, 1, sb.len, stdout);
	sbuf_release(&piece);
	sbuf_release(&sb);
}

static int
cmd_tokenize_bench(const struct tokenizer *tok, const char *text, size_t len,
    unsigned flags, int64_t runs)
{
	struct tokenizer_ids ids;
	struct err err;
	double t0, dt;
	int64_t i;
	size_t total = 0;

	tokenizer_ids_init(&ids);
	t0 = util_now();
	for (i = 0; i < runs; i++) {
		ids.n = 0;
		if (tokenizer_encode(tok, text, len, flags, &ids, &err) < 0) {
			tokenizer_ids_release(&ids);
			return cmd_fail(&err);
		}
		total += ids.n;
	}
	dt = util_now() - t0;
	if (dt <= 0)
		dt = 1e-9;
	fflush(stdout);
	fprintf(stderr,
	    "tokenize: %lld runs of %zu bytes -> %zu tokens each in %.3f s: "
	    "%.2f MB/s, %.0f tokens/s\n",
	    (long long)runs, len, ids.n, dt,
	    (double)len * (double)runs / dt / 1e6, (double)total / dt);
	tokenizer_ids_release(&ids);
	return EXIT_OK;
}

int
cmd_tokenize(int argc, char **argv)
{
	const char *model = NULL, *prompt = NULL, *file = NULL;
	int pieces = 0, json = 0, bos = -1, special = 0, c, status;
	int64_t bench = 0;
	struct gguf *g = NULL;
	struct tokenizer *tok = NULL;
	struct tokenizer_ids ids;
	struct err err;
	char *text = NULL;
	size_t len = 0;
	unsigned flags = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(
		    argc, argv, "m:p:f:h", cmd_tokenize_options, NULL)) != -1) {
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
		case CMD_TOKENIZE_OPT_PIECES:
			pieces = 1;
			break;
		case CMD_TOKENIZE_OPT_JSON:
			json = 1;
			break;
		case CMD_TOKENIZE_OPT_BOS:
			bos = 1;
			break;
		case CMD_TOKENIZE_OPT_NO_BOS:
			bos = 0;
			break;
		case CMD_TOKENIZE_OPT_SPECIAL:
			special = 1;
			break;
		case CMD_TOKENIZE_OPT_BENCH:
			if (util_parse_i64(optarg, 1, 1000000, &bench) < 0) {
				cmd_error("--bench: '%s' is not a count "
					  "(1-1000000)",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(cmd_tokenize_usage, stdout);
			return EXIT_OK;
		default:
			status =
			    cmd_bad_optarg("tokenize", optopt, argv, optind);
			cmd_usage_hint("tokenize");
			return status;
		}
	}
	if (optind < argc) {
		cmd_error("tokenize: unexpected argument '%s'", argv[optind]);
		cmd_usage_hint("tokenize");
		return EXIT_USAGE;
	}
	if (prompt != NULL && file != NULL) {
		cmd_error("tokenize: -p and -f exclude each other");
		return EXIT_USAGE;
	}
	if (pieces && json) {
		cmd_error("tokenize: --pieces and --json exclude each other");
		return EXIT_USAGE;
	}
	if (model == NULL && pocket_default("tokenize", &model) != 0) {
		cmd_usage_hint("tokenize");
		return EXIT_USAGE;
	}
	if (gguf_open(model, &g, &err) < 0 ||
	    tokenizer_load(g, &tok, &err) < 0) {
		cmd_error("%s", err.msg);
		gguf_close(g);
		/* a model file that cannot be read is a model-file problem */
		return err.code == ERR_NOMEM ? EXIT_NOMEM : EXIT_MODEL;
	}
	if (tokenizer_warning(tok) != NULL)
		cmd_error("warning: %s", tokenizer_warning(tok));
	if (prompt != NULL) {
		text = xstrdup(prompt);
		len = strlen(text);
	} else if (util_read_file(file ? file : "-", UTIL_PROMPT_MAX, &text,
		       &len, &err) < 0) {
		status = cmd_fail(&err);
		goto out;
	}
	if (bos < 0)
		bos = tokenizer_add_bos(tok);
	if (bos)
		flags |= TOK_ADD_BOS;
	if (tokenizer_add_eos(tok))
		flags |= TOK_ADD_EOS;
	if (special)
		flags |= TOK_PARSE_SPECIAL;
	if (bench > 0) {
		status = cmd_tokenize_bench(tok, text, len, flags, bench);
		goto out;
	}
	tokenizer_ids_init(&ids);
	if (tokenizer_encode(tok, text, len, flags, &ids, &err) < 0)
		status = cmd_fail(&err);
	else {
		cmd_tokenize_print(tok, &ids, pieces, json);
		status = EXIT_OK;
	}
	tokenizer_ids_release(&ids);
out:
	free(text);
	tokenizer_free(tok);
	gguf_close(g);
	return status;
}
