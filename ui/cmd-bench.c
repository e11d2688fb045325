/*
 * cmd-bench: "vkchat bench -m MODEL.gguf": prompt processing (pp: P
 * tokens, BOS first, in one engine_eval split into steps of max_batch)
 * and token generation (tg: N single-token decode steps after BOS,
 * greedy from the device's argmax), each from an empty cache as
 * llama-bench does, in tokens per second: the median of R repeats after
 * a warm-up run.  Also the time to first token (the pp time: the
 * prompt's logits are ready), the decode weight-read bandwidth (bytes of
 * weights one decode step reads over the time per step) against the
 * device's streaming read bandwidth (kern_bench_read), and, with
 * --parallel N, N sequences (forked after BOS) decoded in one batch per
 * step: the aggregate rate and its ratio to one sequence.
 *
 * Prompt token ids are a fixed pseudo-random sequence: speed does not
 * depend on them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-load.h"
#include "cmd.h"
#include "pocket.h"
#include "json.h"
#include "sampler.h"
#include "tokenizer.h"
#include "util.h"

static const char cmd_bench_usage[] =
    "usage: vkchat bench [-m MODEL.gguf] [-p N] [-n N] [-r N] [--parallel N]\n"
    "                    [--ctx N] [--device N] [--json]\n"
    "Measure prompt processing and generation speed.\n"
    "  -m, --model FILE     the GGUF model (default: the pocket model)\n"
    "  -p, --prompt N       prompt tokens (default 512; 0: skip pp)\n"
    "  -n, --gen N          generated tokens (default 128)\n"
    "  -r, --repeat N       repeats, the median is reported (default 3)\n"
    "      --parallel N     also decode N sequences in one batch (2-8)\n"
    "      --ctx N          context length (default: prompt + gen)\n"
    "      --device N       Vulkan device (see 'vkchat devices')\n"
    "      --json           one JSON object on stdout\n";

enum {
	CMD_BENCH_OPT_PARALLEL = 256,
	CMD_BENCH_OPT_CTX,
	CMD_BENCH_OPT_DEVICE,
	CMD_BENCH_OPT_JSON,
};

static const struct option cmd_bench_options[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "prompt", required_argument, NULL, 'p' },
	{ "gen", required_argument, NULL, 'n' },
	{ "repeat", required_argument, NULL, 'r' },
	{ "parallel", required_argument, NULL, CMD_BENCH_OPT_PARALLEL },
	{ "ctx", required_argument, NULL, CMD_BENCH_OPT_CTX },
	{ "device", required_argument, NULL, CMD_BENCH_OPT_DEVICE },
	{ "json", no_argument, NULL, CMD_BENCH_OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One repeat's measurements. */
struct cmd_bench_run {
	double pp_s;  /* seconds for the prompt */
	double tg_s;  /* seconds for the decode steps, one sequence */
	double par_s; /* seconds for the decode steps, N sequences */
};

struct cmd_bench {
	struct llm *l;
	uint32_t n_prompt, n_gen, n_par;
	struct engine_tok *batch; /* (max(n_prompt, n_par)) */
	struct err err;
};

static int
cmd_bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
cmd_bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmd_bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Evaluate N tokens (BOS, then pseudo-random ids) in sequence 0, emptied
 * first, with logits for the last; *SECS (if not NULL) gets the time.
 */
static int
cmd_bench_prompt(struct cmd_bench *b, uint32_t n, double *secs)
{
	struct engine *e = b->l->e;
	int32_t bos = tokenizer_bos(b->l->tok);
	uint32_t n_vocab = engine_n_vocab(e), i, s = 12345;
	double t0;

	engine_seq_clear(e, 0);
	for (i = 0; i < n; i++) {
		s = s * 1103515245u + 12345u;
		b->batch[i] = (struct engine_tok){ i == 0 && bos >= 0
			    ? bos
			    : (int32_t)((s >> 8) % n_vocab),
			0, (int32_t)i, i + 1 == n };
	}
	t0 = util_now();
	if (engine_eval(e, b->batch, n, &b->err) < 0)
		return b->err.code;
	if (secs != NULL)
		*secs = util_now() - t0;
	return 0;
}

/* N_GEN decode steps of sequences 0 .. N_SEQ-1, greedy on the device. */
static int
cmd_bench_decode(struct cmd_bench *b, uint32_t n_seq, double *secs)
{
	struct engine *e = b->l->e;
	uint32_t s, i;
	double t0 = util_now();

	for (s = 0; s < n_seq; s++)
		b->batch[s] = (struct engine_tok){ engine_argmax(e, 0),
			(int32_t)s, (int32_t)engine_seq_len(e, (int32_t)s), 1 };
	for (i = 0; i < b->n_gen; i++) {
		if (engine_eval(e, b->batch, n_seq, &b->err) < 0)
			return b->err.code;
		for (s = 0; s < n_seq; s++) {
			b->batch[s].token = engine_argmax(e, s);
			b->batch[s].pos++;
		}
	}
	*secs = util_now() - t0;
	return 0;
}

/* pp, tg and the parallel decode, each from an empty cache. */
static int
cmd_bench_once(struct cmd_bench *b, struct cmd_bench_run *r)
{
	uint32_t s;
	int rc;

	if (b->n_prompt > 0 &&
	    (rc = cmd_bench_prompt(b, b->n_prompt, &r->pp_s)) < 0)
		return rc;
	if ((rc = cmd_bench_prompt(b, 1, NULL)) < 0 ||
	    (rc = cmd_bench_decode(b, 1, &r->tg_s)) < 0)
		return rc;
	if (b->n_par < 2)
		return 0;
	if ((rc = cmd_bench_prompt(b, 1, NULL)) < 0)
		return rc;
	for (s = 1; s < b->n_par; s++)
		if ((rc = engine_seq_fork(b->l->e, (int32_t)s, 0, 1, &b->err)) <
		    0)
			return rc;
	return cmd_bench_decode(b, b->n_par, &r->par_s);
}

/* The device's read bandwidth in GB/s (0 when it cannot be measured). */
static double
cmd_bench_bandwidth(struct cmd_bench *b)
{
	uint64_t bytes = 256ull << 20, max = b->l->dev->info.max_alloc;
	double gbps = 0;

	if (max > 0 && bytes > max / 2)
		bytes = max / 2;
	if (kern_bench_read(b->l->k, bytes, 5, &gbps, &b->err) < 0)
		return 0;
	return gbps;
}

/*
 * Microseconds per token that the default sampler chain (the "default"
 * preset: penalties, top-k, top-p, min-p, temperature, draw) costs on
 * this model's vocabulary, over the real logits of one evaluated token.
 * Returns -1 and fills b->err on failure.
 */
static double
cmd_bench_sampler(struct cmd_bench *b)
{
	struct engine_tok t = { 0, 0, 0, 1 };
	const uint32_t reps = 200;
	struct gen_params p;
	struct sampler *s;
	double t0, secs;
	int32_t tok;
	uint32_t i;

	if (tokenizer_bos(b->l->tok) >= 0)
		t.token = tokenizer_bos(b->l->tok);
	engine_seq_clear(b->l->e, 0);
	if (engine_eval(b->l->e, &t, 1, &b->err) < 0)
		return -1;
	params_init(&p);
	p.seed = 1;
	p.repeat_penalty = 1.1f;
	if (sampler_new(&p, (int32_t)engine_n_vocab(b->l->e), &s, &b->err) <
	    0) {
		params_release(&p);
		return -1;
	}
	t0 = util_now();
	for (i = 0; i < reps; i++) {
		if (sampler_sample(
			s, engine_logits(b->l->e, 0), &tok, &b->err) < 0 ||
		    sampler_accept(s, tok, &b->err) < 0) {
			sampler_free(s);
			params_release(&p);
			return -1;
		}
	}
	secs = util_now() - t0;
	sampler_free(s);
	params_release(&p);
	return secs / reps * 1e6;
}

static void
cmd_bench_print(struct cmd_bench *b, int json, double pp, double tg, double par,
    double dev_gbps, double sampler_us)
{
	const struct model *m = b->l->m;
	double pp_tps = pp > 0 ? b->n_prompt / pp : 0;
	double tg_tps = tg > 0 ? b->n_gen / tg : 0;
	double par_tps = par > 0 ? (double)b->n_gen * b->n_par / par : 0;
	double gbps =
	    tg > 0 ? (double)m->decode_bytes * b->n_gen / tg / 1e9 : 0;
	unsigned disp, barriers, recorded;
	struct json_writer w;
	struct sbuf sb;
	char buf[32];

	engine_stats(b->l->e, &disp, &barriers, &recorded);
	if (!json) {
		printf("model        %s (%s of weights, %s read per token)\n",
		    m->path, util_bytes(m->weight_bytes, buf, sizeof buf),
		    util_bytes(m->decode_bytes, buf + 16, 16));
		printf("device       %s [%s%s]\n", b->l->dev->info.name,
		    b->l->dev->info.type,
		    b->l->dev->info.cpu_inline ? ", one thread" : "");
		if (b->n_prompt > 0)
			printf("pp%-9u  %10.1f tok/s\n", b->n_prompt, pp_tps);
		printf("tg%-9u  %10.1f tok/s  (%.3f ms/token)\n", b->n_gen,
		    tg_tps, tg > 0 ? tg / b->n_gen * 1e3 : 0);
		printf("ttft         %10.4f s\n", pp);
		printf("decode bw    %10.2f GB/s of weights", gbps);
		if (dev_gbps > 0)
			printf(" (device read %.2f GB/s: %.1f%%)", dev_gbps,
			    100 * gbps / dev_gbps);
		printf("\n");
		if (b->n_par > 1)
			printf(
			    "parallel %-3u %10.1f tok/s aggregate (%.2fx one "
			    "sequence)\n",
			    b->n_par, par_tps,
			    tg_tps > 0 ? par_tps / tg_tps : 0);
		printf("sampler      %10.1f us/token (default chain, %u "
		       "tokens: %.2f%% of a decode step)\n",
		    sampler_us, engine_n_vocab(b->l->e),
		    tg > 0 ? 100 * sampler_us / (tg / b->n_gen * 1e6) : 0);
		printf("graph        %u dispatches, %u barriers per decode "
		       "step%s\n",
		    disp, barriers, b->n_par > 1 ? " (parallel)" : "");
		return;
	}
	sbuf_init(&sb);
	json_writer_init(&w, &sb, 0);
	json_obj_begin(&w);
	json_key(&w, "model");
	json_str(&w, m->path);
	json_key(&w, "device");
	json_str(&w, b->l->dev->info.name);
	json_key(&w, "cpu_inline");
	json_bool(&w, b->l->dev->info.cpu_inline);
	json_key(&w, "weight_bytes");
	json_int(&w, (int64_t)m->weight_bytes);
	json_key(&w, "decode_bytes");
	json_int(&w, (int64_t)m->decode_bytes);
	json_key(&w, "n_prompt");
	json_int(&w, b->n_prompt);
	json_key(&w, "n_gen");
	json_int(&w, b->n_gen);
	json_key(&w, "pp_tok_s");
	json_num(&w, pp_tps);
	json_key(&w, "tg_tok_s");
	json_num(&w, tg_tps);
	json_key(&w, "ttft_s");
	json_num(&w, pp);
	json_key(&w, "decode_gb_s");
	json_num(&w, gbps);
	json_key(&w, "device_read_gb_s");
	json_num(&w, dev_gbps);
	json_key(&w, "bandwidth_fraction");
	json_num(&w, dev_gbps > 0 ? gbps / dev_gbps : 0);
	json_key(&w, "parallel");
	json_int(&w, b->n_par);
	json_key(&w, "parallel_tok_s");
	json_num(&w, par_tps);
	json_key(&w, "parallel_ratio");
	json_num(&w, tg_tps > 0 && par_tps > 0 ? par_tps / tg_tps : 0);
	json_key(&w, "sampler_us_per_token");
	json_num(&w, sampler_us);
	json_key(&w, "dispatches_per_step");
	json_int(&w, disp);
	json_key(&w, "barriers_per_step");
	json_int(&w, barriers);
	json_end(&w);
	sbuf_addc(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, stdout);
	sbuf_release(&sb);
}

/* Parse a count option within [MIN, MAX] into *OUT; 0 or an exit status. */
static int
cmd_bench_count(
    const char *opt, const char *value, int64_t min, int64_t max, uint32_t *out)
{
	int64_t v;

	if (util_parse_i64(value, min, max, &v) < 0) {
		cmd_error("%s: '%s' is not a count (%lld-%lld)", opt, value,
		    (long long)min, (long long)max);
		return EXIT_USAGE;
	}
	*out = (uint32_t)v;
	return 0;
}

int
cmd_bench(int argc, char **argv)
{
	struct cmd_bench b;
	const char *model = NULL;
	uint32_t reps = 3, ctx = 0, i;
	struct cmd_bench_run *runs = NULL;
	struct llm_opts o;
	double *pp, *tg, *par, dev_gbps, sampler_us;
	int device = -1, json = 0, c, status = EXIT_OK;

	memset(&b, 0, sizeof b);
	b.n_prompt = 512;
	b.n_gen = 128;
	b.n_par = 1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(
		    argc, argv, "m:p:n:r:h", cmd_bench_options, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'p':
			status = cmd_bench_count(
			    "-p", optarg, 0, 1 << 16, &b.n_prompt);
			break;
		case 'n':
			status =
			    cmd_bench_count("-n", optarg, 1, 1 << 16, &b.n_gen);
			break;
		case 'r':
			status = cmd_bench_count("-r", optarg, 1, 100, &reps);
			break;
		case CMD_BENCH_OPT_PARALLEL:
			status = cmd_bench_count(
			    "--parallel", optarg, 1, 8, &b.n_par);
			break;
		case CMD_BENCH_OPT_CTX:
			status =
			    cmd_bench_count("--ctx", optarg, 1, 1 << 20, &ctx);
			break;
		case CMD_BENCH_OPT_DEVICE:
			if ((device = cmd_load_device(optarg)) < 0)
				status = EXIT_USAGE;
			break;
		case CMD_BENCH_OPT_JSON:
			json = 1;
			break;
		case 'h':
			fputs(cmd_bench_usage, stdout);
			return EXIT_OK;
		default:
			status = cmd_bad_optarg("bench", optopt, argv, optind);
			break;
		}
		if (status != EXIT_OK) {
			cmd_usage_hint("bench");
			return status;
		}
	}
	if (optind < argc ||
	    (model == NULL && pocket_default("bench", &model) != 0)) {
		if (optind < argc)
			cmd_error(
			    "bench: unexpected argument '%s'", argv[optind]);
		cmd_usage_hint("bench");
		return EXIT_USAGE;
	}
	llm_opts_init(&o);
	o.path = model;
	o.device = device;
	o.cfg.n_ctx =
	    ctx > 0 ? ctx : (b.n_prompt > b.n_gen ? b.n_prompt : b.n_gen + 1);
	o.cfg.n_seq = b.n_par;
	if ((status = cmd_load_open(&o, &b.l)) != 0)
		return status;
	if (b.n_prompt > engine_config(b.l->e)->n_ctx ||
	    b.n_gen + 1 > engine_config(b.l->e)->n_ctx) {
		cmd_error("bench: %u prompt or %u generated tokens do not fit "
			  "the context of %u",
		    b.n_prompt, b.n_gen, engine_config(b.l->e)->n_ctx);
		llm_free(b.l);
		return EXIT_USAGE;
	}
	b.batch = xcalloc(b.n_prompt + b.n_par + 1, sizeof *b.batch);
	runs = xcalloc(reps + 1, sizeof *runs);
	pp = xcalloc(reps, sizeof *pp);
	tg = xcalloc(reps, sizeof *tg);
	par = xcalloc(reps, sizeof *par);
	dev_gbps = cmd_bench_bandwidth(&b);
	for (i = 0; i < reps + 1; i++)
		if (cmd_bench_once(&b, &runs[i]) < 0) {
			status = cmd_fail(&b.err);
			goto out;
		}
	for (i = 0; i < reps; i++) {
		pp[i] = runs[i + 1].pp_s;
		tg[i] = runs[i + 1].tg_s;
		par[i] = runs[i + 1].par_s;
	}
	if ((sampler_us = cmd_bench_sampler(&b)) < 0) {
		status = cmd_fail(&b.err);
		goto out;
	}
	cmd_bench_print(&b, json, cmd_bench_median(pp, reps),
	    cmd_bench_median(tg, reps), cmd_bench_median(par, reps), dev_gbps,
	    sampler_us);
out:
	free(par);
	free(tg);
	free(pp);
	free(runs);
	free(b.batch);
	llm_free(b.l);
	return status;
}
