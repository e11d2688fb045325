/*
 * test-store-data: what the database holds, through the C API the TUI
 * and "vkchat run --save" use: sessions, the message tree and its
 * branches, streaming writes, full-text search, forks, presets, prompt
 * templates, compare runs, and the JSON/Markdown exports and import.
 * Every test works on a real SQLite file in its temporary directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "params.h"
#include "storage/db-compare.h"
#include "storage/db-export.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "storage/db-sessions.h"
#include "storage/db-stream.h"
#include "storage/db-templates.h"
#include "storage/db.h"
#include "util.h"

static struct db *
data_open(void)
{
	struct db *db = NULL;
	struct err e;

	if (db_open(test_tmpfile("data.db"), &db, &e) != 0)
		test_fail(__FILE__, __LINE__, "open: %s", e.msg);
	return db;
}

/* A new session; returns its id. */
static int64_t
data_session(struct db *db, const char *title)
{
	struct db_session s;
	struct err e;
	int64_t id = 0;

	db_sessions_init(&s);
	s.title = (char *)title;
	s.model.path = (char *)"/m/tiny.gguf";
	s.model.size = 4096;
	memcpy(s.model.hash, "00112233aabbccdd", 17);
	s.chat_format = (char *)"chatml";
	s.preset = (char *)"precise";
	s.has_params = 1;
	s.params.temperature = 0.25f;
	CHECK_INT(db_sessions_create(db, &s, &id, &e), 0);
	s.title = s.chat_format = s.preset = s.model.path = NULL;
	db_sessions_release(&s);
	return id;
}

/* Add a message of ROLE under PARENT; returns its id. */
static int64_t
data_msg(struct db *db, int64_t sid, int64_t parent, enum db_role role,
    const char *text)
{
	struct db_message m;
	struct err e;
	int64_t id = 0;

	db_messages_init(&m);
	m.session_id = sid;
	m.parent_id = parent;
	m.role = role;
	m.content = (char *)text;
	if (role == DB_ROLE_ASSISTANT) {
		m.seed = 1234;
		m.has_params = 1;
		m.params.top_k = 7;
		m.stats.prompt_tokens = 10;
		m.stats.completion_tokens = 20;
		m.stats.ttft_ms = 55.5;
		m.stats.tokens_per_s = 30.25;
		m.stats.finish = DB_FINISH_STOP;
	}
	if (db_messages_add(db, &m, &id, &e) != 0)
		test_fail(__FILE__, __LINE__, "add: %s", e.msg);
	return id;
}

/* How many sessions a search for TEXT finds (-1 on error). */
static long
data_search(struct db *db, const char *text)
{
	struct db_session_filter f = { 0 };
	struct db_session *list;
	struct err e;
	size_t n;

	f.search = text;
	if (db_sessions_list(db, &f, &list, &n, &e) != 0) {
		test_note("search '%s': %s", text, e.msg);
		return -1;
	}
	db_sessions_free(list, n);
	return (long)n;
}

TEST(store_sessions_crud)
{
	struct db *db = data_open();
	struct db_session s, *list;
	struct err e;
	size_t n;
	int64_t a, b;

	a = data_session(db, "");
	b = data_session(db, "second");
	CHECK_INT(db_sessions_get(db, a, &s, &e), 0);
	CHECK_STR(s.title, "");
	CHECK_STR(s.model.path, "/m/tiny.gguf");
	CHECK_STR(s.model.hash, "00112233aabbccdd");
	CHECK_INT(s.model.size, 4096);
	CHECK_STR(s.chat_format, "chatml");
	CHECK(s.has_params && s.params.temperature == 0.25f);
	CHECK(s.created_ms > 0 && s.updated_ms >= s.created_ms);
	db_sessions_release(&s);

	CHECK_INT(db_sessions_rename(db, a, "renamed", &e), 0);
	CHECK_INT(db_sessions_get(db, a, &s, &e), 0);
	CHECK_STR(s.title, "renamed");
	db_sessions_release(&s);
	CHECK_INT(db_sessions_rename(db, a, "", &e), ERR_USAGE);
	CHECK_INT(db_sessions_rename(db, 999, "x", &e), ERR_NOTFOUND);
	CHECK_CONTAINS(e.msg, "no session 999");
	CHECK_INT(db_sessions_get(db, 999, &s, &e), ERR_NOTFOUND);
	db_sessions_release(&s);

	CHECK_INT(db_sessions_list(db, NULL, &list, &n, &e), 0);
	CHECK_INT(n, 2);
	db_sessions_free(list, n);
	CHECK_INT(db_sessions_delete(db, b, &e), 0);
	CHECK_INT(db_sessions_delete(db, b, &e), ERR_NOTFOUND);
	CHECK_INT(db_sessions_list(db, NULL, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	db_sessions_free(list, n);
	db_close(db);
}

TEST(store_list_filters)
{
	struct db *db = data_open();
	struct db_session_filter f = { 0 };
	struct db_session s, *list;
	struct err e;
	size_t n;
	int64_t a, b;

	a = data_session(db, "old");
	db_sessions_init(&s);
	s.title = xstrdup("other model");
	s.model.path = xstrdup("/x/llama-3.2-1b.Q4_K_M.gguf");
	memcpy(s.model.hash, "feedfacecafebeef", 17);
	s.created_ms = s.updated_ms = util_wall_ms() - 10 * 86400000LL;
	CHECK_INT(db_sessions_create(db, &s, &b, &e), 0);
	db_sessions_release(&s);

	f.model = "llama-3.2";
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(list[0].id, b);
	db_sessions_free(list, n);
	f.model = "feedface";
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	db_sessions_free(list, n);
	f.model = NULL;
	f.since_ms = util_wall_ms() - 86400000LL;
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(list[0].id, a);
	db_sessions_free(list, n);
	f.since_ms = 0;
	f.limit = 1;
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1) /* newest first */
		CHECK_INT(list[0].id, a);
	db_sessions_free(list, n);
	db_close(db);
}

TEST(store_message_tree_and_branches)
{
	struct db *db = data_open();
	struct db_message *b, m;
	struct db_session s;
	struct err e;
	int64_t sid, other, u1, a1, a2, u2, u2b, a3, *ids;
	size_t n;

	sid = data_session(db, "");
	other = data_session(db, "other");
	u1 = data_msg(db, sid, 0, DB_ROLE_USER,
	    "  \n  first   question\tof "
	    "the day\nsecond line");
	a1 = data_msg(db, sid, u1, DB_ROLE_ASSISTANT, "answer one");
	a2 = data_msg(db, sid, u1, DB_ROLE_ASSISTANT, "answer two (regen)");
	u2 = data_msg(db, sid, a2, DB_ROLE_USER, "follow up");
	u2b = data_msg(db, sid, a2, DB_ROLE_USER, "follow up, edited");
	a3 = data_msg(db, sid, u2b, DB_ROLE_ASSISTANT, "final");

	/* The first prompt named the session. */
	CHECK_INT(db_sessions_get(db, sid, &s, &e), 0);
	CHECK_STR(s.title, "first question of the day");
	CHECK_INT(s.leaf_id, a3);
	db_sessions_release(&s);

	CHECK_INT(db_messages_branch(db, sid, 0, &b, &n, &e), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_INT(b[0].id, u1);
		CHECK_INT(b[1].id, a2);
		CHECK_INT(b[2].id, u2b);
		CHECK_INT(b[3].id, a3);
		CHECK_INT(b[1].n_siblings, 2);
		CHECK_INT(b[1].sibling_pos, 2);
		CHECK_INT(b[2].sibling_pos, 2);
		CHECK_INT(b[0].n_siblings, 1);
		CHECK_INT(b[3].seed, 1234);
		CHECK(b[3].has_params && b[3].params.top_k == 7);
		CHECK_INT(b[3].stats.prompt_tokens, 10);
		CHECK_INT(b[3].stats.completion_tokens, 20);
		CHECK(b[3].stats.ttft_ms == 55.5);
		CHECK(b[3].stats.tokens_per_s == 30.25);
		CHECK_INT(b[3].stats.finish, DB_FINISH_STOP);
		CHECK(!b[3].partial);
		CHECK_INT(b[0].stats.prompt_tokens, -1);
	}
	db_messages_free(b, n);

	/* Switching branches: back to the first answer. */
	CHECK_INT(db_sessions_set_leaf(db, sid, a1, &e), 0);
	CHECK_INT(db_messages_branch(db, sid, 0, &b, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2)
		CHECK_STR(b[1].content, "answer one");
	db_messages_free(b, n);
	CHECK_INT(db_messages_branch(db, sid, u2, &b, &n, &e), 0);
	CHECK_INT(n, 3);
	db_messages_free(b, n);
	CHECK_INT(db_messages_siblings(db, u2, &ids, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2)
		CHECK(ids[0] == u2 && ids[1] == u2b);
	free(ids);

	/* Messages stay in their session. */
	CHECK_INT(db_sessions_set_leaf(db, other, a1, &e), ERR_NOTFOUND);
	CHECK_INT(db_messages_branch(db, other, a1, &b, &n, &e), ERR_NOTFOUND);
	db_messages_init(&m);
	m.session_id = other;
	m.parent_id = a1;
	m.content = (char *)"misplaced";
	CHECK_INT(db_messages_add(db, &m, &u1, &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "not");
	m.session_id = 4242;
	m.parent_id = 0;
	CHECK_INT(db_messages_add(db, &m, &u1, &e), ERR_NOTFOUND);
	CHECK_INT(db_messages_get(db, 99999, &m, &e), ERR_NOTFOUND);
	db_messages_release(&m);

	/* Deleting the session takes the whole tree. */
	CHECK_INT(db_sessions_delete(db, sid, &e), 0);
	CHECK_INT(db_messages_all(db, sid, &b, &n, &e), 0);
	CHECK_INT(n, 0);
	db_messages_free(b, n);
	CHECK_INT(db_check(db, &e), 0);
	db_close(db);
}

TEST(store_auto_title_cuts_on_characters)
{
	char *t;
	char prompt[200];
	size_t i;

	t = db_sessions_auto_title("short");
	CHECK_STR(t, "short");
	free(t);
	/* 59 ASCII bytes and then a 3-byte character across byte 60. */
	for (i = 0; i < 59; i++)
		prompt[i] = 'a';
	snprintf(prompt + 59, sizeof prompt - 59, "\xe2\x82\xac and more");
	t = db_sessions_auto_title(prompt);
	CHECK_INT(strlen(t), 59 + 3);
	CHECK(memcmp(t + 59, "\xe2\x80\xa6", 3) == 0);
	free(t);
	t = db_sessions_auto_title("\n\n   \n");
	CHECK_STR(t, "");
	free(t);
}

TEST(store_stream_writes_at_most_every_second)
{
	struct db *db = data_open(), *reader;
	struct db_message m, got;
	struct db_stream *st;
	struct db_gen_stats stats = { 11, 4, 120, 33.5, DB_FINISH_CANCELLED };
	struct err e;
	int64_t sid, uid;
	double t0;

	test_timeout(30);
	CHECK_INT(db_open(test_tmpfile("data.db"), &reader, &e), 0);
	sid = data_session(db, "stream");
	uid = data_msg(db, sid, 0, DB_ROLE_USER, "tell me");
	db_messages_init(&m);
	m.session_id = sid;
	m.parent_id = uid;
	m.role = DB_ROLE_ASSISTANT;
	m.seed = 99;
	m.preset = (char *)"precise";
	CHECK_INT(db_stream_message(db, &m, &st, &e), 0);
	/* The row exists, partial and empty, before any token. */
	CHECK_INT(db_messages_get(reader, db_stream_id(st), &got, &e), 0);
	CHECK(got.partial);
	CHECK_STR(got.content, "");
	CHECK_INT(got.seed, 99);
	db_messages_release(&got);

	t0 = util_now();
	CHECK_INT(db_stream_add(st, "Hello", 5, &e), 0);
	CHECK_INT(db_stream_add(st, ", wor", 5, &e), 0);
	CHECK_INT(db_messages_get(reader, db_stream_id(st), &got, &e), 0);
	if (util_now() - t0 < 0.9)
		CHECK_STR(got.content, ""); /* not yet: less than a second */
	db_messages_release(&got);
	sleep(1);
	/* Half of a two-byte character arrives with the next write. */
	CHECK_INT(db_stream_add(st, "ld \xc3", 4, &e), 0);
	CHECK_INT(db_messages_get(reader, db_stream_id(st), &got, &e), 0);
	CHECK_STR(got.content, "Hello, world ");
	CHECK(got.partial);
	db_messages_release(&got);
	CHECK_INT(db_stream_add(st, "\xa9t\xc3\xa9", 4, &e), 0);
	CHECK_STR(db_stream_text(st), "Hello, world \xc3\xa9t\xc3\xa9");
	CHECK_INT(db_stream_finish(st, &stats, NULL, &e), 0);
	CHECK_INT(db_stream_add(st, "x", 1, &e), ERR_USAGE);
	CHECK_INT(db_messages_get(reader, db_stream_id(st), &got, &e), 0);
	CHECK_STR(got.content, "Hello, world \xc3\xa9t\xc3\xa9");
	CHECK(!got.partial);
	CHECK_INT(got.stats.finish, DB_FINISH_CANCELLED);
	CHECK_INT(got.stats.prompt_tokens, 11);
	CHECK(got.stats.ttft_ms == 120 && got.stats.tokens_per_s == 33.5);
	CHECK_STR(got.preset, "precise");
	db_messages_release(&got);
	/* A finished message is not a stream target any more. */
	CHECK_INT(db_messages_set_content(db, db_stream_id(st), "x", 1, &e),
	    ERR_NOTFOUND);
	db_stream_free(st);

	/* Only assistant messages stream. */
	m.role = DB_ROLE_USER;
	CHECK_INT(db_stream_message(db, &m, &st, &e), ERR_USAGE);
	db_close(reader);
	db_close(db);
}

TEST(store_fts_search_follows_changes)
{
	struct db *db = data_open();
	struct db_message m;
	struct db_stream *st;
	struct db_gen_stats stats = { -1, -1, -1, -1, DB_FINISH_STOP };
	struct db_session_filter f = { 0 };
	struct db_session *list;
	struct err e;
	size_t n;
	int64_t a, b, uid;
	static const char *const nasty[] = { "\"", "AND", "OR NOT", "(",
		"NEAR(", "a*b", "a\"b", "col:umn", "-x", "^", "{}" };
	size_t i;

	a = data_session(db, "");
	b = data_session(db, "Pelican facts");
	uid = data_msg(db, a, 0, DB_ROLE_USER, "How do penguins sleep?");
	data_msg(db, b, 0, DB_ROLE_USER, "Tell me about birds");
	CHECK_INT(data_search(db, "penguins"), 1);
	CHECK_INT(data_search(db, "PENGUINS sleep"), 1);
	CHECK_INT(data_search(db, "pengu*"), 1);
	CHECK_INT(data_search(db, "pengu"), 0);
	CHECK_INT(data_search(db, "pelican"), 1); /* by title */
	CHECK_INT(data_search(db, "penguins pelican"), 0);
	CHECK_INT(data_search(db, "walrus"), 0);

	/* Streamed text is searchable; replaced text is not. */
	db_messages_init(&m);
	m.session_id = a;
	m.parent_id = uid;
	m.role = DB_ROLE_ASSISTANT;
	CHECK_INT(db_stream_message(db, &m, &st, &e), 0);
	CHECK_INT(db_stream_add(st, "They nap standing up.", 21, &e), 0);
	CHECK_INT(db_stream_finish(st, &stats, NULL, &e), 0);
	db_stream_free(st);
	CHECK_INT(data_search(db, "standing"), 1);

	/* Titles follow renames. */
	CHECK_INT(db_sessions_rename(db, b, "Albatross notes", &e), 0);
	CHECK_INT(data_search(db, "pelican"), 0);
	CHECK_INT(data_search(db, "albatross"), 1);

	/* Snippets mark the hit. */
	f.search = "nap";
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_CONTAINS(list[0].snippet, "[nap]");
	db_sessions_free(list, n);

	/* Deleted sessions are gone from the index. */
	CHECK_INT(db_sessions_delete(db, a, &e), 0);
	CHECK_INT(data_search(db, "penguins"), 0);
	CHECK_INT(data_search(db, "standing"), 0);

	/* No user text is an FTS5 syntax error. */
	for (i = 0; i < ARRAY_LEN(nasty); i++)
		CHECK_MSG(data_search(db, nasty[i]) >= 0, "search '%s' failed",
		    nasty[i]);
	f.search = "   ";
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), ERR_USAGE);
	db_close(db);
}

TEST(store_fts_query_quotes_words)
{
	struct sbuf sb;
	struct err e;

	sbuf_init(&sb);
	CHECK_INT(db_sessions_fts_query("hello \"big\" wor*", &sb, &e), 0);
	CHECK_STR(sb.buf, "\"hello\" \"\"\"big\"\"\" \"wor\"*");
	sbuf_reset(&sb);
	CHECK_INT(db_sessions_fts_query("** \t", &sb, &e), ERR_USAGE);
	sbuf_release(&sb);
}

TEST(store_fork_copies_a_branch)
{
	struct db *db = data_open();
	struct db_message *b;
	struct db_session s;
	struct err e;
	int64_t sid, u1, a1, u2, fid, fid2;
	size_t n;

	sid = data_session(db, "origin");
	u1 = data_msg(db, sid, 0, DB_ROLE_USER, "one");
	a1 = data_msg(db, sid, u1, DB_ROLE_ASSISTANT, "two");
	u2 = data_msg(db, sid, a1, DB_ROLE_USER, "three");
	data_msg(db, sid, u2, DB_ROLE_ASSISTANT, "four");

	CHECK_INT(db_sessions_fork(db, sid, a1, &fid, &e), 0);
	CHECK_INT(db_sessions_get(db, fid, &s, &e), 0);
	CHECK_STR(s.title, "origin (fork)");
	CHECK_INT(s.parent_id, sid);
	CHECK_INT(s.fork_message_id, a1);
	CHECK_STR(s.chat_format, "chatml");
	CHECK(s.has_params && s.params.temperature == 0.25f);
	db_sessions_release(&s);
	CHECK_INT(db_messages_branch(db, fid, 0, &b, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(b[0].content, "one");
		CHECK_STR(b[1].content, "two");
		CHECK(b[1].id != a1);
		CHECK_INT(b[1].parent_id, b[0].id);
		CHECK_INT(b[1].seed, 1234);
		CHECK_INT(b[1].stats.completion_tokens, 20);
	}
	db_messages_free(b, n);
	/* The original is untouched; a whole fork copies the leaf branch. */
	CHECK_INT(db_messages_branch(db, sid, 0, &b, &n, &e), 0);
	CHECK_INT(n, 4);
	db_messages_free(b, n);
	CHECK_INT(db_sessions_fork(db, sid, 0, &fid2, &e), 0);
	CHECK_INT(db_messages_all(db, fid2, &b, &n, &e), 0);
	CHECK_INT(n, 4);
	db_messages_free(b, n);
	/* Errors: no such session, a message of another session. */
	CHECK_INT(db_sessions_fork(db, 777, 0, &fid, &e), ERR_NOTFOUND);
	CHECK_INT(db_sessions_fork(db, fid2, a1, &fid, &e), ERR_NOTFOUND);
	/* Deleting the origin keeps the forks, without the link. */
	CHECK_INT(db_sessions_delete(db, sid, &e), 0);
	CHECK_INT(db_sessions_get(db, fid, &s, &e), 0);
	CHECK_INT(s.parent_id, 0);
	CHECK_INT(s.fork_message_id, 0);
	db_sessions_release(&s);
	CHECK_INT(db_check(db, &e), 0);
	db_close(db);
}

TEST(store_presets_builtin_and_user)
{
	struct db *db = data_open();
	struct db_preset *list, p;
	struct gen_params gp, precise;
	struct err e;
	size_t n, i, builtins = 0;

	CHECK_INT(db_presets_list(db, &list, &n, &e), 0);
	CHECK_INT(n, params_builtin_count());
	for (i = 0; i < n; i++)
		builtins += list[i].builtin;
	CHECK_INT(builtins, params_builtin_count());
	db_presets_free(list, n);

	CHECK_INT(db_presets_get(db, "precise", &p, &e), 0);
	CHECK(p.builtin);
	CHECK_INT(params_builtin("precise", &precise), 0);
	CHECK(params_equal(&p.params, &precise));
	params_release(&precise);
	db_presets_release(&p);

	params_init(&gp);
	gp.temperature = 0.3f;
	CHECK_INT(params_set(&gp, "stop", "User:", &e), 0);
	CHECK_INT(params_set(&gp, "system", "Be kind.", &e), 0);
	CHECK_INT(db_presets_add(db, "mine", "my own", &gp, &e), 0);
	CHECK_INT(db_presets_add(db, "mine", NULL, &gp, &e), ERR_EXISTS);
	CHECK_INT(db_presets_add(db, "creative", NULL, &gp, &e), ERR_EXISTS);
	CHECK_CONTAINS(e.msg, "built-in");
	CHECK_INT(db_presets_add(db, "bad name", NULL, &gp, &e), ERR_USAGE);
	CHECK_INT(db_presets_add(db, "-x", NULL, &gp, &e), ERR_USAGE);
	CHECK_INT(db_presets_get(db, "mine", &p, &e), 0);
	CHECK(!p.builtin);
	CHECK(params_equal(&p.params, &gp));
	CHECK_STR(p.description, "my own");
	db_presets_release(&p);

	gp.top_k = 3;
	CHECK_INT(db_presets_update(db, "mine", NULL, &gp, &e), 0);
	CHECK_INT(db_presets_get(db, "mine", &p, &e), 0);
	CHECK_INT(p.params.top_k, 3);
	CHECK_STR(p.description, "my own");
	db_presets_release(&p);
	CHECK_INT(
	    db_presets_update(db, "precise", NULL, &gp, &e), ERR_UNSUPPORTED);
	CHECK_CONTAINS(e.msg, "copy");
	CHECK_INT(db_presets_update(db, "nope", NULL, &gp, &e), ERR_NOTFOUND);
	CHECK_INT(db_presets_delete(db, "default", &e), ERR_UNSUPPORTED);
	CHECK_INT(db_presets_copy(db, "precise", "precise2", &e), 0);
	CHECK_INT(db_presets_get(db, "precise2", &p, &e), 0);
	CHECK(!p.builtin && p.params.temperature == 0.2f);
	db_presets_release(&p);
	CHECK_INT(db_presets_copy(db, "nope", "x", &e), ERR_NOTFOUND);
	CHECK_INT(db_presets_list(db, &list, &n, &e), 0);
	CHECK_INT(n, params_builtin_count() + 2);
	if (n == params_builtin_count() + 2) /* built-ins first */
		CHECK_STR(list[n - 2].name, "mine");
	db_presets_free(list, n);
	CHECK_INT(db_presets_delete(db, "mine", &e), 0);
	CHECK_INT(db_presets_delete(db, "mine", &e), ERR_NOTFOUND);
	params_release(&gp);
	db_close(db);
}

TEST(store_templates_crud_and_render)
{
	struct db *db = data_open();
	struct db_template t = { 0 }, got, *list;
	struct db_template_var v[3];
	struct sbuf out;
	struct err e;
	char **names;
	size_t n, i;

	t.name = (char *)"sum";
	t.body = (char *)"Summarize for {{ audience }}: {{input}} "
			 "({{audience}}) {{ not a var }} {{}} {{x";
	t.description = (char *)"summaries";
	t.preset = (char *)"precise";
	CHECK_INT(db_templates_add(db, &t, &e), 0);
	CHECK_INT(db_templates_add(db, &t, &e), ERR_EXISTS);
	t.body = (char *)"";
	CHECK_INT(db_templates_add(db, &t, &e), ERR_USAGE);
	CHECK_INT(db_templates_get(db, "sum", &got, &e), 0);
	CHECK_STR(got.preset, "precise");
	CHECK(got.system_prompt == NULL);

	db_templates_vars(got.body, &names, &n);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(names[0], "audience");
		CHECK_STR(names[1], "input");
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);

	sbuf_init(&out);
	v[0].name = "audience";
	v[0].value = "kids {{input}}";
	v[1].name = "input";
	v[1].value = "TEXT";
	CHECK_INT(db_templates_render("sum", got.body, v, 2, &out, &e), 0);
	CHECK_STR(out.buf,
	    "Summarize for kids {{input}}: TEXT (kids "
	    "{{input}}) {{ not a var }} {{}} {{x");
	sbuf_reset(&out);
	CHECK_INT(
	    db_templates_render("sum", got.body, v, 0, &out, &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "missing variables 'audience', 'input'");
	CHECK_CONTAINS(e.msg, "standard input");
	CHECK_STR(out.buf, "");
	v[2].name = "tone";
	v[2].value = "dry";
	CHECK_INT(db_templates_render("sum", got.body, v + 1, 2, &out, &e),
	    ERR_USAGE);
	CHECK_CONTAINS(e.msg, "missing variable 'audience'");
	CHECK_CONTAINS(e.msg, "'tone'");
	CHECK_CONTAINS(e.msg, "its variables: 'audience', 'input'");
	v[2].name = "input";
	CHECK_INT(
	    db_templates_render("sum", got.body, v, 3, &out, &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "repeated 'input'");
	sbuf_release(&out);
	db_templates_release(&got);

	t.body = (char *)"new body";
	t.system_prompt = (char *)"Be terse.";
	CHECK_INT(db_templates_update(db, &t, &e), 0);
	CHECK_INT(db_templates_get(db, "sum", &got, &e), 0);
	CHECK_STR(got.body, "new body");
	CHECK_STR(got.system_prompt, "Be terse.");
	db_templates_release(&got);
	t.name = (char *)"nope";
	CHECK_INT(db_templates_update(db, &t, &e), ERR_NOTFOUND);
	CHECK_INT(db_templates_list(db, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	db_templates_free(list, n);
	CHECK_INT(db_templates_delete(db, "sum", &e), 0);
	CHECK_INT(db_templates_delete(db, "sum", &e), ERR_NOTFOUND);
	CHECK_INT(db_templates_get(db, "sum", &got, &e), ERR_NOTFOUND);
	CHECK_CONTAINS(e.msg, "no template 'sum'");
	db_close(db);
}

/* A compare run with two columns in session SID; returns its id. */
static int64_t
data_compare(struct db *db, int64_t sid)
{
	struct db_compare_run r;
	struct err e;
	int64_t id = 0;

	db_compare_init(&r);
	r.session_id = sid;
	r.prompt = xstrdup("Write a haiku");
	r.model.path = xstrdup("/m/tiny.gguf");
	db_compare_columns(&r, 2);
	r.columns[0].preset = xstrdup("precise");
	r.columns[0].params.temperature = 0.2f;
	r.columns[0].seed = 5;
	r.columns[1].preset = xstrdup("creative");
	r.columns[1].params.temperature = 1.1f;
	r.columns[1].seed = 6;
	CHECK_INT(db_compare_create(db, &r, &id, &e), 0);
	db_compare_release(&r);
	return id;
}

TEST(store_compare_runs)
{
	struct db *db = data_open();
	struct db_compare_run r, *runs;
	struct db_stream *st;
	struct db_gen_stats stats = { 4, 9, 20, 50, DB_FINISH_LENGTH };
	struct db_session *list;
	struct err e;
	int64_t sid, rid;
	size_t n;

	sid = data_session(db, "compare");
	rid = data_compare(db, sid);
	CHECK_INT(db_stream_compare(db, rid, 1, &st, &e), 0);
	CHECK_INT(db_stream_add(st, "autumn ", 7, &e), 0);
	CHECK_INT(db_stream_finish(st, &stats, NULL, &e), 0);
	db_stream_free(st);
	CHECK_INT(db_stream_compare(db, rid, 1, &st, &e), ERR_NOTFOUND);
	CHECK_INT(db_stream_compare(db, rid, 5, &st, &e), ERR_NOTFOUND);
	CHECK_INT(db_compare_set_winner(db, rid, 1, &e), 0);
	CHECK_INT(db_compare_set_winner(db, rid, 2, &e), ERR_NOTFOUND);

	CHECK_INT(db_compare_get(db, rid, &r, &e), 0);
	CHECK_STR(r.prompt, "Write a haiku");
	CHECK_INT(r.winner, 1);
	CHECK_INT(r.n_columns, 2);
	if (r.n_columns == 2) {
		CHECK_STR(r.columns[0].preset, "precise");
		CHECK(r.columns[0].partial);
		CHECK_INT(r.columns[0].seed, 5);
		CHECK_STR(r.columns[1].output, "autumn ");
		CHECK(!r.columns[1].partial);
		CHECK(r.columns[1].params.temperature == 1.1f);
		CHECK_INT(r.columns[1].stats.finish, DB_FINISH_LENGTH);
		CHECK_INT(r.columns[1].stats.completion_tokens, 9);
	}
	db_compare_release(&r);

	/* Runs show up with their session. */
	CHECK_INT(db_sessions_list(db, NULL, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(list[0].n_compare, 1);
	db_sessions_free(list, n);
	CHECK_INT(db_compare_list(db, sid, &runs, &n, &e), 0);
	CHECK_INT(n, 1);
	db_compare_free(runs, n);

	db_compare_init(&r);
	r.session_id = 999;
	db_compare_columns(&r, 1);
	r.columns[0].preset = xstrdup("x");
	CHECK_INT(db_compare_create(db, &r, &rid, &e), ERR_NOTFOUND);
	db_compare_columns(&r, 0);
	r.session_id = sid;
	CHECK_INT(db_compare_create(db, &r, &rid, &e), ERR_RANGE);
	db_compare_release(&r);

	CHECK_INT(db_sessions_delete(db, sid, &e), 0);
	CHECK_INT(db_compare_get(db, rid, &r, &e), ERR_NOTFOUND);
	db_compare_release(&r);
	db_close(db);
}

TEST(store_export_import_round_trip)
{
	struct db *db = data_open();
	struct sbuf a, b, md;
	struct db_message *all;
	struct db_session s;
	struct err e;
	int64_t sid, u1, a1, copy;
	size_t n;
	char *pa, *pb;

	sid = data_session(db, "round trip \"quoted\"");
	u1 = data_msg(db, sid, 0, DB_ROLE_USER, "question\nwith \x1b[31mcolor");
	a1 = data_msg(db, sid, u1, DB_ROLE_ASSISTANT, "answer");
	data_msg(db, sid, u1, DB_ROLE_ASSISTANT, "other answer");
	CHECK_INT(db_sessions_set_leaf(db, sid, a1, &e), 0);
	data_compare(db, sid);

	sbuf_init(&a);
	sbuf_init(&b);
	CHECK_INT(db_export_json(db, sid, 1, 1, &a, &e), 0);
	CHECK_CONTAINS(a.buf, "\"format\": \"vkchat-session\"");
	CHECK_CONTAINS(a.buf, "\"seed\": \"1234\"");
	CHECK_CONTAINS(a.buf, "\\u001b[31m");
	CHECK_INT(db_export_import(db, a.buf, a.len, "a.json", &copy, &e), 0);
	CHECK(copy != sid);
	CHECK_INT(db_export_json(db, copy, 1, 1, &b, &e), 0);
	CHECK_INT(db_messages_all(db, copy, &all, &n, &e), 0);
	CHECK_INT(n, 3);
	db_messages_free(all, n);
	CHECK_INT(db_sessions_get(db, copy, &s, &e), 0);
	CHECK_STR(s.title, "round trip \"quoted\"");
	CHECK(s.leaf_id != 0);
	db_sessions_release(&s);
	/* Equal but for the ids: blank out every "id"-like number. */
	for (pa = a.buf, pb = b.buf; *pa != '\0' && *pb != '\0';) {
		if (*pa == *pb) {
			pa++, pb++;
			continue;
		}
		if (*pa >= '0' && *pa <= '9' && *pb >= '0' && *pb <= '9') {
			while (*pa >= '0' && *pa <= '9')
				pa++;
			while (*pb >= '0' && *pb <= '9')
				pb++;
			continue;
		}
		break;
	}
	CHECK_MSG(*pa == '\0' && *pb == '\0', "exports differ at '%.40s'", pa);

	/* Markdown: the shown branch, stats, and no raw escapes. */
	sbuf_init(&md);
	CHECK_INT(db_export_markdown(db, sid, &md, &e), 0);
	CHECK_CONTAINS(md.buf, "# round trip");
	CHECK_CONTAINS(md.buf, "## User");
	CHECK_CONTAINS(md.buf, "## Assistant (version 1 of 2)");
	CHECK_CONTAINS(md.buf, "seed 1234");
	CHECK_CONTAINS(md.buf, "30.2 tokens/s");
	CHECK_CONTAINS(md.buf, "\\x1b[31m");
	CHECK(strchr(md.buf, '\x1b') == NULL);
	CHECK_CONTAINS(md.buf, "### Column 2: creative");
	sbuf_release(&md);
	sbuf_release(&a);
	sbuf_release(&b);
	CHECK_INT(db_export_json(db, 5555, 1, 1, &a, &e), ERR_NOTFOUND);
	sbuf_release(&a);
	db_close(db);
}

TEST(store_import_rejects_bad_files_cleanly)
{
	static const struct {
		const char *json, *want;
	} bad[] = {
		{ "[1, 2]", "not a vkchat session export" },
		{ "{\"format\": \"other\"}", "not a vkchat session export" },
		{ "{\"format\": \"vkchat-session\", \"version\": 9, "
		  "\"session\": {}}",
		    "newer" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1}",
		    "session: missing" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1, "
		  "\"session\": {\"title\": 5}}",
		    "session.title: not a string" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1, "
		  "\"session\": {}, \"messages\": [{\"id\": 1, \"role\": "
		  "\"bot\", \"content\": \"x\"}]}",
		    "messages[0]: role 'bot'" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1, "
		  "\"session\": {}, \"messages\": [{\"id\": 1, \"role\": "
		  "\"user\", \"content\": \"x\", \"parent_id\": 2}]}",
		    "messages[0].parent_id: not the id of an earlier" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1, "
		  "\"session\": {}, \"messages\": [{\"id\": 1, \"role\": "
		  "\"user\", \"content\": \"x\"}, {\"id\": 2, \"role\": "
		  "\"assistant\", \"content\": \"y\", \"parent_id\": 1, "
		  "\"seed\": \"-3\"}]}",
		    "messages[1].seed" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1, "
		  "\"session\": {\"leaf_id\": 7}, \"messages\": []}",
		    "session.leaf_id" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1, "
		  "\"session\": {\"params\": {\"temperature\": \"hot\"}}}",
		    "temperature" },
		{ "{\"format\": \"vkchat-session\", \"version\": 1, "
		  "\"session\": {}, \"compare_runs\": [{\"prompt\": \"p\", "
		  "\"columns\": []}]}",
		    "compare_runs[0].columns" },
		{ "{\"format\": ", "bad.json" },
	};
	struct db *db = data_open();
	struct db_session *list;
	struct err e;
	int64_t id;
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		int rc = db_export_import(
		    db, bad[i].json, strlen(bad[i].json), "bad.json", &id, &e);

		CHECK_MSG(rc != 0, "import %zu succeeded", i);
		if (rc != 0) {
			CHECK_CONTAINS(e.msg, bad[i].want);
			CHECK_CONTAINS(e.msg, "bad.json");
		}
	}
	/*
	 * Only LEN bytes are read, NUL or not (found by fuzzing: the leading
	 * whitespace scan ran past a buffer of blanks); the heap copy lets
	 * the sanitizer build see a read past it.
	 */
	{
		char *blank = xmalloc(3);

		memcpy(blank, " \n\t", 3);
		CHECK_INT(db_export_import(db, blank, 3, "bad.json", &id, &e),
		    ERR_FORMAT);
		CHECK_CONTAINS(e.msg, "found nothing");
		free(blank);
	}
	/* Nothing half-imported stays behind. */
	CHECK_INT(db_sessions_list(db, NULL, &list, &n, &e), 0);
	CHECK_INT(n, 0);
	db_sessions_free(list, n);
	db_close(db);
}

/* Every parameter and every built-in preset is in vkchat-presets(5). */
TEST(store_presets_man_page_is_complete)
{
	const char *top = getenv("TOP_SRCDIR");
	char *path, *page, *want;
	struct gen_params p;
	struct sbuf diff;
	size_t i, len;

	if (top == NULL)
		test_skip("TOP_SRCDIR not set (run through make check)");
	path = xasprintf("%s/man/vkchat-presets.5", top);
	if (util_read_file(path, 0, &page, &len, NULL) != 0)
		test_skip("cannot read %s", path);
	for (i = 0; i < params_count(); i++) {
		want = xasprintf("\n.It Cm %s ", params_key(i));
		CHECK_MSG(
		    strstr(page, want) != NULL, "%s: no '%s'", path, want + 1);
		free(want);
	}
	for (i = 0; i < params_builtin_count(); i++) {
		CHECK_INT(params_builtin(params_builtin_name(i), &p), 0);
		sbuf_init(&diff);
		params_diff(&p, NULL, " ", &diff);
		want = xasprintf(".It Cm %s", params_builtin_name(i));
		CHECK_MSG(
		    strstr(page, want) != NULL, "%s: no '%s'", path, want);
		free(want);
		/* Its settings, as "presets list" shows them. */
		if (diff.len > 0)
			CHECK_MSG(strstr(page, diff.buf) != NULL,
			    "%s: built-in '%s' is not described as '%s'", path,
			    params_builtin_name(i), diff.buf);
		sbuf_release(&diff);
		params_release(&p);
	}
	free(page);
	free(path);
}
