/*
 * Tests of compare mode's terminal-free parts (ui/comparestate.c): the
 * save-as-preset question, the line under a column, run summaries, the
 * /runs argument, a saved preset's settings; and db_compare's lookup of
 * a run's prompt message, which reopening a run relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"
#include "storage/db-compare.h"
#include "storage/db-messages.h"
#include "storage/db-sessions.h"
#include "ui/comparestate.h"

/* A key event for character C (or code CODE when C is 0). */
static struct keys_event
key(enum keys_code code, char c)
{
	static char raw[2];
	struct keys_event ev;

	raw[0] = c;
	ev.code = code;
	ev.cp = (uint32_t)(unsigned char)c;
	ev.raw = raw;
	ev.len = c != 0 ? 1 : 0;
	return ev;
}

static enum comparestate_act
press(struct comparestate_ask *a, char c)
{
	struct keys_event ev = key(KEYS_CHAR, c);

	return comparestate_ask_key(a, &ev);
}

static enum comparestate_act
press_code(struct comparestate_ask *a, enum keys_code code)
{
	struct keys_event ev = key(code, 0);

	return comparestate_ask_key(a, &ev);
}

TEST(ui_compare_ask_steps)
{
	struct comparestate_ask a;

	comparestate_ask_init(&a);
	CHECK_INT(a.step, COMPARESTATE_IDLE);
	CHECK_INT(press(&a, '1'), COMPARESTATE_NONE);
	CHECK_INT(a.step, COMPARESTATE_IDLE);

	comparestate_ask_start(&a, 3);
	CHECK_INT(a.step, COMPARESTATE_COLUMN);
	/* Only an existing column number moves on. */
	CHECK_INT(press(&a, '4'), COMPARESTATE_NONE);
	CHECK_INT(press(&a, '0'), COMPARESTATE_NONE);
	CHECK_INT(press(&a, 'x'), COMPARESTATE_NONE);
	CHECK_INT(a.step, COMPARESTATE_COLUMN);
	CHECK_INT(press(&a, '2'), COMPARESTATE_NONE);
	CHECK_INT(a.step, COMPARESTATE_NAME);
	CHECK_INT(a.col, 1);
	CHECK(a.keep_seed);
	/* Digits and letters go to the name now. */
	press(&a, 'w');
	press(&a, '3');
	press(&a, 'x');
	press_code(&a, KEYS_BACKSPACE);
	CHECK_STR(a.name.text.buf, "w3");
	CHECK_INT(press_code(&a, KEYS_TAB), COMPARESTATE_NONE);
	CHECK(!a.keep_seed);
	press_code(&a, KEYS_TAB);
	CHECK(a.keep_seed);
	CHECK_INT(press_code(&a, KEYS_ENTER), COMPARESTATE_SAVE);
	/* The caller found the name taken: y replaces, n goes back. */
	comparestate_ask_confirm(&a);
	CHECK_INT(a.step, COMPARESTATE_OVERWRITE);
	CHECK_INT(press(&a, 'q'), COMPARESTATE_NONE);
	CHECK_INT(a.step, COMPARESTATE_OVERWRITE);
	CHECK_INT(press(&a, 'n'), COMPARESTATE_NONE);
	CHECK_INT(a.step, COMPARESTATE_NAME);
	CHECK_STR(a.name.text.buf, "w3");
	comparestate_ask_confirm(&a);
	CHECK_INT(press_code(&a, KEYS_ESC), COMPARESTATE_NONE);
	CHECK_INT(a.step, COMPARESTATE_NAME);
	comparestate_ask_confirm(&a);
	CHECK_INT(press(&a, 'y'), COMPARESTATE_REPLACE);
	comparestate_ask_stop(&a);
	CHECK_INT(a.step, COMPARESTATE_IDLE);

	/* Esc drops the question from the column or the name step. */
	comparestate_ask_start(&a, 2);
	CHECK_STR(a.name.text.buf, "");
	CHECK_INT(press_code(&a, KEYS_ESC), COMPARESTATE_CANCELLED);
	CHECK_INT(a.step, COMPARESTATE_IDLE);
	comparestate_ask_start(&a, 2);
	press(&a, '1');
	press_code(&a, KEYS_TAB);
	CHECK_INT(press_code(&a, KEYS_ESC), COMPARESTATE_CANCELLED);
	CHECK_INT(a.step, COMPARESTATE_IDLE);
	/* A new question starts with the seed kept again. */
	comparestate_ask_start(&a, 2);
	CHECK(a.keep_seed);
	comparestate_ask_release(&a);
}

TEST(ui_compare_ask_view)
{
	struct comparestate_ask a;
	struct sbuf sb;
	size_t plen;
	int ccol;
	const char *q;

	comparestate_ask_init(&a);
	sbuf_init(&sb);
	comparestate_ask_view(&a, 7, 80, &sb, &plen, &ccol);
	CHECK_INT(sb.len, 0);
	CHECK_INT(plen, 0);

	comparestate_ask_start(&a, 3);
	comparestate_ask_view(&a, 7, 80, &sb, &plen, &ccol);
	CHECK_STR(sb.buf, "save which column as a preset? 1-3 (Esc cancels) ");
	CHECK_INT(plen, sb.len);
	CHECK_INT(ccol, (int)sb.len);

	press(&a, '3');
	press(&a, 'h');
	press(&a, 'o');
	press(&a, 't');
	sbuf_reset(&sb);
	comparestate_ask_view(&a, 1234, 200, &sb, &plen, &ccol);
	q = "save column 3 as preset (seed 1234 kept; Tab: random seed; Esc "
	    "cancels) name: ";
	CHECK_INT(plen, strlen(q));
	CHECK(strncmp(sb.buf, q, plen) == 0);
	CHECK_STR(sb.buf + plen, "hot");
	CHECK_INT(ccol, (int)strlen(q) + 3);
	press_code(&a, KEYS_TAB);
	press_code(&a, KEYS_LEFT);
	sbuf_reset(&sb);
	comparestate_ask_view(&a, 1234, 200, &sb, &plen, &ccol);
	CHECK_CONTAINS(sb.buf, "(random seed; Tab: keep seed 1234;");
	CHECK_INT(ccol, (int)plen + 2);

	/* A name longer than the room left scrolls to keep the cursor. */
	comparestate_ask_start(&a, 3);
	press(&a, '1');
	for (ccol = 0; ccol < 40; ccol++)
		press(&a, (char)('a' + ccol % 26));
	sbuf_reset(&sb);
	comparestate_ask_view(&a, 5, 90, &sb, &plen, &ccol);
	CHECK(ccol < 90);
	CHECK(sb.len - plen < 40);
	CHECK(sb.len > plen);
	CHECK_INT(sb.buf[sb.len - 1], 'n'); /* the 40th letter */

	comparestate_ask_confirm(&a);
	sbuf_reset(&sb);
	comparestate_ask_view(&a, 5, 90, &sb, &plen, &ccol);
	CHECK_CONTAINS(sb.buf, "' exists: replace it with column 1? (y/n) ");
	CHECK(strncmp(sb.buf, "preset 'abcdef", 14) == 0);
	CHECK_INT(plen, sb.len);
	sbuf_release(&sb);
	comparestate_ask_release(&a);
}

TEST(ui_compare_meta)
{
	struct db_gen_stats st = { 5, 24, 10, 123.45, DB_FINISH_LENGTH };
	struct sbuf sb;

	sbuf_init(&sb);
	comparestate_meta(&sb, COMPARESTATE_WAITING, 0, &st, 0, NULL, 0);
	CHECK_STR(sb.buf, "waiting for the prompt");
	sbuf_reset(&sb);
	comparestate_meta(&sb, COMPARESTATE_STREAMING, 42, &st, 0, NULL, 0);
	CHECK_STR(sb.buf, "generating, 42 bytes");
	sbuf_reset(&sb);
	comparestate_meta(&sb, COMPARESTATE_STOPPING, 42, &st, 0, NULL, 0);
	CHECK_STR(sb.buf, "[stopped] 42 bytes");
	sbuf_reset(&sb);
	comparestate_meta(&sb, COMPARESTATE_DONE, 42, &st, 0, NULL, 0);
	CHECK_STR(sb.buf, "123.5 tok/s [length]");
	sbuf_reset(&sb);
	comparestate_meta(&sb, COMPARESTATE_DONE, 42, &st, 0, NULL, 1);
	CHECK_STR(sb.buf, "winner \xc2\xb7 123.5 tok/s [length]");
	st.finish = DB_FINISH_CANCELLED;
	st.tokens_per_s = -1;
	sbuf_reset(&sb);
	comparestate_meta(&sb, COMPARESTATE_DONE, 0, &st, 0, NULL, 0);
	CHECK_STR(sb.buf, "[stopped]");
	st.finish = DB_FINISH_STOP;
	sbuf_reset(&sb);
	comparestate_meta(&sb, COMPARESTATE_DONE, 0, &st, 0, NULL, 0);
	CHECK_STR(sb.buf, "[stop]");
	st.finish = DB_FINISH_ERROR;
	sbuf_reset(&sb);
	comparestate_meta(
	    &sb, COMPARESTATE_DONE, 0, &st, 0, "out of memory", 0);
	CHECK_STR(sb.buf, "[error: out of memory]");
	/* A stored column that never finished says so, whatever else. */
	st.finish = DB_FINISH_NONE;
	sbuf_reset(&sb);
	comparestate_meta(&sb, COMPARESTATE_DONE, 0, &st, 1, NULL, 0);
	CHECK_STR(sb.buf, "[incomplete]");
	sbuf_release(&sb);
}

TEST(ui_compare_run_summary)
{
	struct db_compare_run r;
	struct sbuf sb;

	db_compare_init(&r);
	r.id = 4;
	db_compare_columns(&r, 3);
	r.prompt = xstrdup("Once upon a time");
	sbuf_init(&sb);
	comparestate_run_summary(&sb, &r, 0);
	CHECK_STR(sb.buf, "compare run 4: 3 columns, no winner");
	r.winner = 1;
	sbuf_reset(&sb);
	comparestate_run_summary(&sb, &r, 40);
	CHECK_STR(sb.buf,
	    "compare run 4: 3 columns, winner 2 \xc2\xb7 \"Once upon a time\"");
	sbuf_reset(&sb);
	comparestate_run_summary(&sb, &r, 4);
	CHECK_STR(sb.buf,
	    "compare run 4: 3 columns, winner 2 \xc2\xb7 \"Once\xe2\x80\xa6\"");
	/* Only the first line; never half a character. */
	free(r.prompt);
	r.prompt = xstrdup("ab\xc3\xa9z\nsecond");
	sbuf_reset(&sb);
	comparestate_run_summary(&sb, &r, 3);
	CHECK_CONTAINS(sb.buf, "\"ab\xe2\x80\xa6\"");
	sbuf_reset(&sb);
	comparestate_run_summary(&sb, &r, 40);
	CHECK_CONTAINS(sb.buf, "\"ab\xc3\xa9z\xe2\x80\xa6\"");
	sbuf_release(&sb);
	db_compare_release(&r);
}

TEST(ui_compare_runs_arg)
{
	struct err e;
	int64_t id = 99;

	CHECK_INT(comparestate_runs_arg("", &id, &e), 0);
	CHECK_INT(id, 0);
	CHECK_INT(comparestate_runs_arg("last", &id, &e), 0);
	CHECK_INT(id, 0);
	CHECK_INT(comparestate_runs_arg("12", &id, &e), 0);
	CHECK_INT(id, 12);
	CHECK_INT(comparestate_runs_arg("x2", &id, &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "'x2' is not a compare run id");
	CHECK_INT(comparestate_runs_arg("0", &id, &e), ERR_USAGE);
	CHECK_INT(comparestate_runs_arg("-3", &id, &e), ERR_USAGE);
	CHECK_INT(comparestate_runs_arg("3 4", &id, &e), ERR_USAGE);
}

TEST(ui_compare_preset_params)
{
	struct gen_params col, out;
	struct err e;

	params_init(&col);
	CHECK_INT(params_set_list(&col,
		      "temperature=0.7,top_k=12,stop=END,system=ignored", &e),
	    0);
	col.seed = 0;
	comparestate_preset_params(&out, &col, 4242, 1, "be brief");
	CHECK(out.temperature == col.temperature);
	CHECK_INT(out.top_k, 12);
	CHECK_INT(out.n_stop, 1);
	CHECK_STR(out.stop[0], "END");
	CHECK_INT(out.seed, 4242);
	CHECK_STR(out.system_prompt, "be brief");
	params_release(&out);
	comparestate_preset_params(&out, &col, 4242, 0, NULL);
	CHECK_INT(out.seed, 0);
	CHECK(out.system_prompt == NULL);
	params_release(&out);
	/* The column's own settings are untouched. */
	CHECK_STR(col.system_prompt, "ignored");
	params_release(&col);
}

/* Add a message to session SID under PARENT, created at MS. */
static int64_t
add_msg(struct db *db, int64_t sid, int64_t parent, enum db_role role,
    const char *text, int64_t ms)
{
	struct db_message m;
	struct err e;
	int64_t id = 0;

	db_messages_init(&m);
	m.session_id = sid;
	m.parent_id = parent;
	m.role = role;
	m.content = (char *)text;
	m.created_ms = ms;
	CHECK_INT(db_messages_add(db, &m, &id, &e), 0);
	return id;
}

TEST(store_compare_prompt_message)
{
	struct db_compare_run r;
	struct db_session s;
	struct db *db;
	struct err e;
	int64_t sid, first, prompt, id = 0;

	CHECK_INT(db_open(test_tmpfile("cmp.db"), &db, &e), 0);
	db_sessions_init(&s);
	CHECK_INT(db_sessions_create(db, &s, &sid, &e), 0);
	first = add_msg(db, sid, 0, DB_ROLE_USER, "Once", 1000);
	add_msg(db, sid, first, DB_ROLE_ASSISTANT, "there was", 1100);
	prompt = add_msg(db, sid, first, DB_ROLE_USER, "Once", 2000);

	db_compare_init(&r);
	r.session_id = sid;
	r.prompt = xstrdup("Once");
	r.created_ms = 2001;
	db_compare_columns(&r, 2);
	r.columns[0].preset = xstrdup("a");
	r.columns[1].preset = xstrdup("b");
	CHECK_INT(db_compare_create(db, &r, &r.id, &e), 0);
	/* The newest prompt with that text stored before the run. */
	CHECK_INT(db_compare_prompt_message(db, &r, &id, &e), 0);
	CHECK_INT(id, prompt);
	/* The same text sent later is not the run's prompt. */
	add_msg(db, sid, prompt, DB_ROLE_USER, "Once", 3000);
	id = 0;
	CHECK_INT(db_compare_prompt_message(db, &r, &id, &e), 0);
	CHECK_INT(id, prompt);
	/* Nor is an answer with that text, nor another session's. */
	free(r.prompt);
	r.prompt = xstrdup("there was");
	CHECK_INT(db_compare_prompt_message(db, &r, &id, &e), ERR_NOTFOUND);
	CHECK_CONTAINS(e.msg, "no prompt message in session");
	free(r.prompt);
	r.prompt = xstrdup("Once");
	r.session_id = sid + 1;
	CHECK_INT(db_compare_prompt_message(db, &r, &id, &e), ERR_NOTFOUND);
	db_compare_release(&r);
	db_close(db);
}
