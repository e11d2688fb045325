/*
 * fuzz-preset: a libFuzzer target for the preset text parser
 * (params_parse_text, vkchat-presets(5)).  Whatever parses must print
 * (params_format) to text that parses again to the same settings, and to
 * the same JSON (params_to_json): a difference aborts.
 *
 * Built by tools/fuzz.sh with clang -fsanitize=fuzzer; with -DFUZZ_SEEDS
 * instead, a program that writes the built-in presets as seed files into
 * the directory given as argument.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "params.h"
#include "util.h"

#ifndef FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* P as JSON into OUT. */
static void
fuzz_preset_json(const struct gen_params *p, struct sbuf *out)
{
	struct json_writer w;

	json_writer_init(&w, out, 0);
	params_to_json(p, &w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen_params p, q;
	struct sbuf text, j1, j2;
	struct err err;
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	params_init(&p);
	if (params_parse_text(&p, s, "fuzz.preset", &err) == 0) {
		sbuf_init(&text);
		sbuf_init(&j1);
		sbuf_init(&j2);
		params_format(&p, &text);
		params_init(&q);
		if (params_parse_text(&q, text.buf, "again", &err) != 0) {
			fprintf(stderr, "printed preset does not parse: %s\n",
			    err.msg);
			abort();
		}
		fuzz_preset_json(&p, &j1);
		fuzz_preset_json(&q, &j2);
		if (strcmp(j1.buf, j2.buf) != 0) {
			fprintf(stderr, "round trip changed it:\n%s\n%s\n",
			    j1.buf, j2.buf);
			abort();
		}
		params_release(&q);
		sbuf_release(&j2);
		sbuf_release(&j1);
		sbuf_release(&text);
	} else if (strstr(err.msg, "fuzz.preset") == NULL) {
		abort(); /* every error names the source */
	}
	params_release(&p);
	free(s);
	return 0;
}

#else /* FUZZ_SEEDS */

int
main(int argc, char **argv)
{
	size_t i;

	if (argc != 2)
		return 2;
	for (i = 0; i < params_builtin_count(); i++) {
		struct gen_params p;
		struct sbuf text;
		struct err err;
		char path[4096];

		params_init(&p);
		params_builtin(params_builtin_name(i), &p);
		sbuf_init(&text);
		params_format(&p, &text);
		snprintf(path, sizeof path, "%s/%s.preset", argv[1],
		    params_builtin_name(i));
		if (util_write_file(path, text.buf, text.len, 0644, &err) !=
		    0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		sbuf_release(&text);
		params_release(&p);
	}
	return 0;
}

#endif
