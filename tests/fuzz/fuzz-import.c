/*
 * fuzz-import: a libFuzzer target for the JSON session import
 * (db_export_import, vkchat-storage(5)).  Each input is imported into a
 * real database in a private temporary directory, inside a transaction
 * that is rolled back after, so every input meets the same empty
 * database.  An import that succeeds must export again (db_export_json).
 *
 * Built by tools/fuzz.sh with clang -fsanitize=fuzzer; with -DFUZZ_SEEDS
 * instead, a program that writes seed sessions into the directory given
 * as argument.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db-export.h"
#include "db.h"
#include "util.h"

#ifndef FUZZ_SEEDS

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *fuzz_import_db;
static char fuzz_import_dir[] = "/tmp/vkchat-fuzz-XXXXXX";
static char fuzz_import_path[sizeof fuzz_import_dir + 16];

static void
fuzz_import_cleanup(void)
{
	static const char *const ext[] = { "", "-wal", "-shm" };
	size_t i;

	db_close(fuzz_import_db);
	for (i = 0; i < 3; i++) {
		char *f = xasprintf("%s%s", fuzz_import_path, ext[i]);

		unlink(f);
		free(f);
	}
	rmdir(fuzz_import_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err err;

	(void)argc;
	(void)argv;
	if (mkdtemp(fuzz_import_dir) == NULL) {
		perror("fuzz-import: mkdtemp");
		exit(2);
	}
	snprintf(fuzz_import_path, sizeof fuzz_import_path, "%s/f.db",
	    fuzz_import_dir);
	if (db_open(fuzz_import_path, &fuzz_import_db, &err) != 0) {
		fprintf(stderr, "fuzz-import: %s\n", err.msg);
		exit(2);
	}
	atexit(fuzz_import_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf out;
	struct err err;
	int64_t id;

	if (db_begin(fuzz_import_db, &err) != 0) {
		fprintf(stderr, "fuzz-import: %s\n", err.msg);
		abort();
	}
	if (db_export_import(fuzz_import_db, (const char *)data, size,
		"fuzz.json", &id, &err) == 0) {
		sbuf_init(&out);
		if (db_export_json(fuzz_import_db, id, 1, 1, &out, &err) != 0) {
			fprintf(stderr, "exporting what was imported: %s\n",
			    err.msg);
			abort();
		}
		sbuf_release(&out);
	} else if (strstr(err.msg, "fuzz.json") == NULL) {
		fprintf(stderr, "error without the file name: %s\n", err.msg);
		abort();
	}
	db_rollback(fuzz_import_db);
	return 0;
}

#else /* FUZZ_SEEDS */

static const char *const fuzz_import_seeds[] = {
	"{\"format\": \"vkchat-session\", \"version\": 1,\n"
	" \"session\": {\"title\": \"Penguins\", \"created_ms\": 1700000000000,"
	" \"updated_ms\": 1700000500000,\n"
	"  \"model\": {\"path\": \"/m/tiny.gguf\", \"size\": 1234, \"hash\": "
	"\"0123456789abcdef\"},\n"
	"  \"chat_format\": \"chatml\", \"system_prompt\": \"Be brief.\", "
	"\"preset\": \"precise\", \"leaf_id\": 3},\n"
	" \"messages\": [\n"
	"  {\"id\": 1, \"role\": \"user\", \"content\": \"How do penguins "
	"sleep?\\u001b\", \"created_ms\": 1700000000000},\n"
	"  {\"id\": 2, \"parent_id\": 1, \"role\": \"assistant\", \"content\": "
	"\"Standing up.\", \"seed\": \"42\", \"params\": {\"temperature\": "
	"0.2}, \"prompt_tokens\": 12, \"completion_tokens\": 4, \"ttft_ms\": "
	"80, \"tokens_per_s\": 41.5, \"finish_reason\": \"stop\"},\n"
	"  {\"id\": 3, \"parent_id\": 1, \"role\": \"assistant\", \"content\": "
	"\"In short naps.\", \"seed\": \"43\", \"partial\": true}],\n"
	" \"compare_runs\": [{\"prompt\": \"Haiku\", \"created_ms\": "
	"1700000003000, \"winner\": 1, \"columns\": [\n"
	"  {\"preset\": \"precise\", \"output\": \"snow\"}, {\"preset\": "
	"\"creative\", \"output\": \"rain\", \"finish_reason\": "
	"\"length\"}]}]}\n",
	"{\"format\":\"vkchat-session\",\"version\":1,\"session\":{},"
	"\"messages\":[]}",
	"\xef\xbb\xbf{\"format\":\"vkchat-session\",\"version\":1,"
	"\"session\":{\"title\":\"bom\"},\"messages\":[{\"id\":1,\"role\":"
	"\"system\",\"content\":\"x\"},{\"id\":2,\"parent_id\":1,\"role\":"
	"\"user\",\"content\":\"\\u202e\"}]}",
};

int
main(int argc, char **argv)
{
	size_t i;

	if (argc != 2)
		return 2;
	for (i = 0; i < sizeof fuzz_import_seeds / sizeof *fuzz_import_seeds;
	     i++) {
		struct err err;
		char path[4096];

		snprintf(path, sizeof path, "%s/seed%zu.json", argv[1], i);
		if (util_write_file(path, fuzz_import_seeds[i],
			strlen(fuzz_import_seeds[i]), 0644, &err) != 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	}
	return 0;
}

#endif
