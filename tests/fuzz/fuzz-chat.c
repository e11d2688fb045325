/*
 * fuzz-chat: a libFuzzer target for chat-format detection and rendering
 * (src/chat.c).  An input is a chat template up to the first NUL, then
 * one byte of flags, then a system prompt and turns separated by 0x01.
 * The template goes through chat_detect (with a vocabulary that has every
 * token whose name has an even length, so both answers are seen); the
 * turns are rendered with every format and flattened.  A render either
 * succeeds or fails with ERR_USAGE naming a turn.
 *
 * Built by tools/fuzz.sh with clang -fsanitize=fuzzer; with -DFUZZ_SEEDS
 * instead, a program that writes a seed per format into the directory
 * given as argument.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "util.h"

#ifndef FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_chat_has(void *ctx, const char *name)
{
	(void)ctx;
	return strlen(name) % 2 == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chat_turn turns[64];
	struct chat_prompt p;
	struct sbuf why, flat;
	struct err err;
	const struct chat_format *f;
	char *s = xmalloc(size + 1), *rest, *system, *c;
	unsigned flags = 0;
	size_t n = 0, i;

	memcpy(s, data, size);
	s[size] = '\0';
	sbuf_init(&why);
	f = chat_detect(s, fuzz_chat_has, NULL, &why);
	if (f == NULL)
		abort();
	rest = s + strlen(s);
	if (rest < s + size) {
		rest++;
		if (rest < s + size)
			flags = (unsigned char)*rest++ & 3;
	}
	system = rest;
	c = strchr(rest, '\1');
	while (c != NULL && n < 64) {
		*c = '\0';
		turns[n].role = n % 2 == 0 ? CHAT_USER : CHAT_ASSISTANT;
		turns[n].text = c + 1;
		n++;
		c = strchr(c + 1, '\1');
	}
	sbuf_init(&flat);
	for (i = 0; i < chat_format_count(); i++) {
		chat_prompt_init(&p);
		if (chat_render(chat_format_at(i), system, turns, n, flags, &p,
			&err) == 0) {
			sbuf_reset(&flat);
			chat_prompt_flatten(&p, "<s>", "</s>", &flat);
		} else if (err.code != ERR_USAGE) {
			abort();
		}
		chat_prompt_release(&p);
	}
	sbuf_release(&flat);
	sbuf_release(&why);
	free(s);
	return 0;
}

#else /* FUZZ_SEEDS */

int
main(int argc, char **argv)
{
	static const char turns[] =
	    "\0\1You are kind.\1Hello\1Hi there.\1How are you?";
	size_t i;

	if (argc != 2)
		return 2;
	for (i = 0; i < chat_format_count(); i++) {
		const char *name = chat_format_name(chat_format_at(i));
		struct sbuf seed;
		struct err err;
		char path[4096];

		sbuf_init(&seed);
		sbuf_add(&seed, name, strlen(name));
		sbuf_add(&seed, turns, sizeof turns - 1);
		snprintf(path, sizeof path, "%s/%s.chat", argv[1], name);
		if (util_write_file(path, seed.buf, seed.len, 0644, &err) !=
		    0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		sbuf_release(&seed);
	}
	return 0;
}

#endif
