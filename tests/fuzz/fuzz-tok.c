/*
 * fuzz-tok: a libFuzzer target for the tokenizers: text encoding with and
 * without special-token parsing, and decoding what came out.  The
 * vocabularies are real ones: every GGUF named in $FUZZ_TOKENIZERS
 * (colon-separated; tools/fuzz.sh names the shared tokenizer files), so
 * SPM and the BPE pre-tokenizers are all reached.  The first input byte
 * picks the tokenizer and the flags; the rest is the text.  Every id must
 * be in the vocabulary, and decoding must succeed.
 *
 * Built by tools/fuzz.sh with clang -fsanitize=fuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOK_MAX 16

static struct tokenizer *fuzz_tok[FUZZ_TOK_MAX];
static size_t fuzz_tok_n;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("FUZZ_TOKENIZERS");
	char *list, *path, *save = NULL;
	struct err err;

	(void)argc;
	(void)argv;
	if (env == NULL || *env == '\0') {
		fprintf(stderr,
		    "fuzz-tok: set FUZZ_TOKENIZERS to tokenizer "
		    "GGUF files (colon-separated)\n");
		exit(2);
	}
	list = xstrdup(env);
	for (path = strtok_r(list, ":", &save);
	     path != NULL && fuzz_tok_n < FUZZ_TOK_MAX;
	     path = strtok_r(NULL, ":", &save)) {
		struct gguf *g;

		/* the tokenizer keeps nothing of the file after load */
		if (gguf_open(path, &g, &err) != 0 ||
		    tokenizer_load(g, &fuzz_tok[fuzz_tok_n], &err) != 0) {
			fprintf(stderr, "fuzz-tok: %s\n", err.msg);
			exit(2);
		}
		gguf_close(g);
		fuzz_tok_n++;
	}
	free(list);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tokenizer *tok;
	struct tokenizer_ids ids;
	struct sbuf out;
	struct err err;
	unsigned flags = 0;
	size_t i;

	if (size == 0 || fuzz_tok_n == 0)
		return 0;
	tok = fuzz_tok[data[0] % fuzz_tok_n];
	if (data[0] & 0x80)
		flags |= TOK_PARSE_SPECIAL;
	if (data[0] & 0x40)
		flags |= TOK_ADD_BOS | TOK_ADD_EOS;
	tokenizer_ids_init(&ids);
	if (tokenizer_encode(tok, (const char *)data + 1, size - 1, flags, &ids,
		&err) == 0) {
		for (i = 0; i < ids.n; i++)
			if (ids.ids[i] < 0 ||
			    ids.ids[i] >= tokenizer_n_vocab(tok))
				abort();
		sbuf_init(&out);
		if (tokenizer_decode(tok, ids.ids, ids.n,
			(data[0] & 0x20) ? TOK_DECODE_SPECIAL : 0, &out,
			&err) != 0) {
			fprintf(
			    stderr, "decoding what was encoded: %s\n", err.msg);
			abort();
		}
		sbuf_release(&out);
	}
	tokenizer_ids_release(&ids);
	return 0;
}
