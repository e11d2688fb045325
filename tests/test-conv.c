/*
 * The conversation model (ui/conv.c) on a real SQLite file, no terminal:
 * what a prompt and an answer store, the seed rule (a drawn seed is never
 * pinned into the settings, so a reopened session draws anew), what a
 * reopened session continues with, the statistics, and forgetting a
 * failed turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/conv.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "storage/db-sessions.h"
#include "storage/db.h"
#include "harness.h"
#include "util.h"

/* A fresh database file NAME in the test's directory. */
static struct db *
conv_test_db(const char *name)
{
	struct db *db = NULL;
	struct err err;
	const char *path = test_tmpfile(name);

	remove(path);
	if (db_open(path, &db, &err) < 0)
		test_fail(__FILE__, __LINE__, "db_open: %s", err.msg);
	return db;
}

/* One exchange: PROMPT, then an answer ANSWER that ends with FINISH. */
static void
conv_test_exchange(struct conv *c, const char *prompt, const char *answer,
    enum gen_finish finish)
{
	struct gen_stats st;
	struct err err;
	int64_t id = 0;

	memset(&st, 0, sizeof(st));
	st.n_prompt = 12;
	st.n_gen = 5;
	st.t_first = 0.25;
	st.gen_tps = 40;
	st.finish = finish;
	CHECK_INT(conv_add_prompt(c, -1, prompt, &id, &err), 0);
	CHECK(id > 0);
	CHECK_INT(conv_begin_answer(c, -1, 0, &err), 0);
	CHECK(c->seed != 0);
	CHECK_INT(conv_append(c, answer, strlen(answer), &err), 0);
	CHECK_INT(
	    conv_finish_answer(c, finish, &st, NULL, NULL, NULL, &err), 0);
}

TEST(conv_drawn_seed_is_not_pinned)
{
	struct db *db = conv_test_db("conv-seed.db");
	struct db_message *msgs = NULL;
	struct db_message m;
	struct conv a, b;
	struct err err;
	size_t n = 0;
	uint64_t first;

	conv_init(&a, db);
	conv_set_model(&a, "/models/m.gguf", 1234, "0123456789abcdef");
	conv_test_exchange(&a, "hello", "hi there", GEN_FINISH_STOP);
	first = a.seed;
	/* the answer row: the seed used, the settings as the user set them */
	db_messages_init(&m);
	CHECK_INT(db_messages_get(db, a.leaf, &m, &err), 0);
	CHECK(m.seed == first);
	CHECK(m.has_params && m.params.seed == 0);
	CHECK_STR(m.content, "hi there");
	CHECK_INT((int)m.stats.completion_tokens, 5);
	CHECK(m.stats.finish == DB_FINISH_STOP);
	CHECK(!m.partial);
	db_messages_release(&m);

	/* reopened: nothing pinned, the next answer draws a new seed */
	conv_init(&b, db);
	CHECK_INT(conv_load(&b, a.session, &msgs, &n, NULL, &err), 0);
	CHECK_INT((int)n, 2);
	CHECK(b.params.seed == 0);
	CHECK(b.leaf == a.leaf);
	conv_test_exchange(&b, "again", "once more", GEN_FINISH_STOP);
	CHECK(b.seed != first);
	db_messages_free(msgs, n);
	conv_release(&b);
	conv_release(&a);
	db_close(db);
}

TEST(conv_pinned_seed_stays)
{
	struct db *db = conv_test_db("conv-pin.db");
	struct db_message *msgs = NULL;
	struct conv a, b;
	struct err err;
	size_t n = 0;

	conv_init(&a, db);
	CHECK_INT(params_set(&a.params, "seed", "42", &err), 0);
	conv_test_exchange(&a, "hello", "hi", GEN_FINISH_STOP);
	CHECK(a.seed == 42);
	conv_init(&b, db);
	CHECK_INT(conv_load(&b, a.session, &msgs, &n, NULL, &err), 0);
	CHECK(b.params.seed == 42);
	CHECK(conv_draw_seed(&b.params) == 42);
	db_messages_free(msgs, n);
	conv_release(&b);
	conv_release(&a);
	db_close(db);
}

/* A reopened session keeps its settings, preset name, system prompt and
 * (for the caller to use) its chat format; a new one does not. */
TEST(conv_load_keeps_settings_format_and_system)
{
	struct db *db = conv_test_db("conv-load.db");
	struct db_message *msgs = NULL;
	struct gen_params p;
	struct conv a, b;
	struct err err;
	char *format = NULL;
	size_t n = 0;
	int64_t other;

	conv_init(&a, db);
	conv_set_format(&a, "chatml");
	params_init(&p);
	CHECK_INT(
	    params_set_list(&p, "temp=0.3 top_k=7 system=\"Be brief.\"", &err),
	    0);
	conv_use_params(&a, "precise", &p, 1);
	params_release(&p);
	conv_test_exchange(&a, "hello", "hi", GEN_FINISH_STOP);

	/* another conversation with its own system prompt, then load */
	conv_init(&b, db);
	CHECK_INT(params_set(&b.params, "system", "Other.", &err), 0);
	conv_test_exchange(&b, "x", "y", GEN_FINISH_STOP);
	other = b.session;
	CHECK_INT(conv_load(&b, a.session, &msgs, &n, &format, &err), 0);
	CHECK(b.session == a.session && b.session != other);
	CHECK(b.params.temperature == 0.3f);
	CHECK_INT(b.params.top_k, 7);
	CHECK_STR(b.params.system_prompt, "Be brief.");
	CHECK_STR(b.preset, "precise");
	CHECK_INT(b.preset_changed, 1); /* temp 0.3 is not precise's */
	CHECK_STR(format, "chatml");
	free(format);
	db_messages_free(msgs, n);
	conv_release(&b);
	conv_release(&a);
	db_close(db);
}

TEST(conv_load_keeps_the_preset_name_and_whether_it_changed)
{
	struct db *db = conv_test_db("conv-preset.db");
	struct db_message *msgs = NULL;
	struct db_preset pr;
	struct conv a, b;
	struct err err;
	size_t n = 0;

	conv_init(&a, db);
	CHECK_INT(db_presets_get(db, "creative", &pr, &err), 0);
	conv_use_params(&a, "creative", &pr.params, 0);
	db_presets_release(&pr);
	CHECK_INT(params_set(&a.params, "system", "Be kind.", &err), 0);
	conv_test_exchange(&a, "hello", "hi", GEN_FINISH_STOP);

	conv_init(&b, db);
	CHECK_INT(conv_load(&b, a.session, &msgs, &n, NULL, &err), 0);
	CHECK_STR(b.preset, "creative");
	CHECK_INT(b.preset_changed, 0); /* the system prompt aside */
	CHECK_STR(b.params.system_prompt, "Be kind.");
	db_messages_free(msgs, n);
	conv_release(&b);
	conv_release(&a);
	db_close(db);
}

/* A turn whose answer failed before any text leaves the branch: the next
 * prompt follows the one before it. */
TEST(conv_forget_a_failed_turn)
{
	struct db *db = conv_test_db("conv-forget.db");
	struct db_message m;
	struct db_gen_stats st;
	struct conv c;
	struct err err;
	int64_t first_answer, failed, next;

	conv_init(&c, db);
	conv_test_exchange(&c, "one", "answer one", GEN_FINISH_STOP);
	first_answer = c.leaf;
	CHECK_INT(conv_add_prompt(&c, -1, "two", &failed, &err), 0);
	CHECK_INT(conv_begin_answer(&c, -1, 0, &err), 0);
	CHECK_INT(conv_finish_answer(&c, GEN_FINISH_ERROR, NULL, "context full",
		      &st, NULL, &err),
	    0);
	CHECK(st.finish == DB_FINISH_ERROR && st.completion_tokens == -1);
	conv_forget(&c);
	CHECK(c.leaf == first_answer);
	CHECK_INT(conv_add_prompt(&c, -1, "three", &next, &err), 0);
	db_messages_init(&m);
	CHECK_INT(db_messages_get(db, next, &m, &err), 0);
	CHECK(m.parent_id == first_answer);
	db_messages_release(&m);
	conv_release(&c);
	db_close(db);
}

/* A chat answer is bounded unless the settings bound it themselves. */
TEST(conv_answer_limit_bounds_endless_answers)
{
	struct gen_params p;

	params_init(&p);
	CHECK_INT(p.max_tokens, -1);
	CHECK_INT(conv_answer_limit(&p), CONV_ANSWER_MAX);
	p.max_tokens = 7;
	CHECK_INT(conv_answer_limit(&p), 7);
	p.max_tokens = 5000;
	CHECK_INT(conv_answer_limit(&p), 5000);
	params_release(&p);
}

/*
 * A turn's first write is one transaction: a failure after the session
 * was made leaves no session, prompt or answer row behind, and the
 * conversation as it was; success stores all three.
 */
TEST(conv_start_turn_is_one_transaction)
{
	struct db *db = conv_test_db("conv-turn.db");
	struct db_message *msgs = NULL;
	struct conv c;
	struct err err;
	int64_t id = 0, latest = 0;
	size_t n = 0;

	conv_init(&c, db);
	/* a parent that does not exist: the prompt fails after the session
	 * was created inside the transaction */
	CHECK(conv_start_turn(&c, 424242, "lost", 0, &id, &err) < 0);
	CHECK(c.session == 0 && c.leaf == 0 && c.stream == NULL);
	CHECK_INT(conv_latest(db, &latest, &err), ERR_NOTFOUND);

	CHECK_INT(conv_start_turn(&c, -1, "kept", 7, &id, &err), 0);
	CHECK(c.session > 0 && id > 0 && c.stream != NULL);
	CHECK(c.seed == 7);
	CHECK_INT(conv_finish_answer(
		      &c, GEN_FINISH_STOP, NULL, NULL, NULL, NULL, &err),
	    0);
	CHECK_INT(db_messages_branch(db, c.session, 0, &msgs, &n, &err), 0);
	CHECK_INT((int)n, 2);
	if (n == 2) {
		CHECK_STR(msgs[0].content, "kept");
		CHECK(msgs[1].parent_id == id && msgs[1].seed == 7);
	}
	db_messages_free(msgs, n);
	conv_release(&c);
	db_close(db);
}

TEST(conv_latest_session)
{
	struct db *db = conv_test_db("conv-latest.db");
	struct conv c;
	struct err err;
	int64_t id = 0;

	CHECK_INT(conv_latest(db, &id, &err), ERR_NOTFOUND);
	conv_init(&c, db);
	conv_test_exchange(&c, "one", "1", GEN_FINISH_STOP);
	conv_restart(&c);
	conv_test_exchange(&c, "two", "2", GEN_FINISH_LENGTH);
	CHECK_INT(conv_latest(db, &id, &err), 0);
	CHECK(id == c.session);
	conv_release(&c);
	db_close(db);
}

TEST(conv_turns_alternate)
{
	/* system, prompt left without an answer, system notice between a
	 * prompt and its answer, a trailing prompt */
	static const struct conv_msg m[] = {
		{ DB_ROLE_SYSTEM, "be brief" },
		{ DB_ROLE_USER, "lost" },
		{ DB_ROLE_USER, "one" },
		{ DB_ROLE_ASSISTANT, "1" },
		{ DB_ROLE_USER, "compare, no winner" },
		{ DB_ROLE_SYSTEM, "note" },
		{ DB_ROLE_USER, "two" },
		{ DB_ROLE_SYSTEM, "note" },
		{ DB_ROLE_ASSISTANT, "2" },
		{ DB_ROLE_USER, "three" },
	};
	struct chat_turn turns[ARRAY_LEN(m)];
	size_t k = conv_turns(m, ARRAY_LEN(m), turns);

	CHECK_INT(k, 5);
	CHECK_STR(turns[0].text, "one");
	CHECK_INT(turns[0].role, CHAT_USER);
	CHECK_STR(turns[1].text, "1");
	CHECK_INT(turns[1].role, CHAT_ASSISTANT);
	CHECK_STR(turns[2].text, "two");
	CHECK_STR(turns[3].text, "2");
	CHECK_STR(turns[4].text, "three");
	CHECK_INT(turns[4].role, CHAT_USER);
	CHECK_INT(conv_turns(m, 0, turns), 0);
}

/* Answer PARENT (a prompt) with TEXT; the answer's id. */
static int64_t
conv_test_answer(struct conv *c, int64_t parent, const char *text)
{
	struct gen_stats st;
	struct err err;
	int64_t id = 0;

	memset(&st, 0, sizeof(st));
	st.finish = GEN_FINISH_STOP;
	CHECK_INT(conv_begin_answer(c, parent, 0, &err), 0);
	CHECK_INT(conv_append(c, text, strlen(text), &err), 0);
	CHECK_INT(
	    conv_finish_answer(c, GEN_FINISH_STOP, &st, NULL, NULL, &id, &err),
	    0);
	return id;
}

TEST(conv_steps_through_sibling_answers)
{
	struct db *db = conv_test_db("conv-siblings.db");
	struct db_message *msgs = NULL;
	struct conv c;
	struct err err;
	int64_t prompt = 0, first, second;
	size_t pos, n, nm;

	conv_init(&c, db);
	CHECK_INT(conv_add_prompt(&c, -1, "hello", &prompt, &err), 0);
	first = conv_test_answer(&c, prompt, "first answer");
	second = conv_test_answer(&c, prompt, "second answer");
	CHECK(first > 0 && second > first);
	CHECK_INT(c.leaf, second);
	conv_sibling_pos(&c, second, &pos, &n);
	CHECK_INT(pos, 2);
	CHECK_INT(n, 2);
	conv_sibling_pos(&c, 0, &pos, &n);
	CHECK_INT(n, 0);

	/* back to the first: it is the leaf, in the session too */
	CHECK_INT(
	    conv_step_sibling(&c, second, -1, &pos, &n, &msgs, &nm, &err), 0);
	CHECK_INT(pos, 1);
	CHECK_INT(n, 2);
	CHECK_INT(c.leaf, first);
	CHECK_INT(nm, 2);
	CHECK_STR(msgs[1].content, "first answer");
	db_messages_free(msgs, nm);

	/* nothing before the first: said, and nothing moves */
	CHECK_INT(conv_step_sibling(&c, first, -1, &pos, &n, &msgs, &nm, &err),
	    ERR_NOTFOUND);
	CHECK_CONTAINS(err.msg, "answer 1 of 2: no earlier one");
	CHECK_INT(c.leaf, first);

	CHECK_INT(
	    conv_step_sibling(&c, first, 1, &pos, &n, &msgs, &nm, &err), 0);
	CHECK_INT(pos, 2);
	CHECK_INT(c.leaf, second);
	CHECK_STR(msgs[nm - 1].content, "second answer");
	db_messages_free(msgs, nm);
	conv_release(&c);
	db_close(db);
}
