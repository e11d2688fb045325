/*
 * browser: the session list, its search box and the preview pane.
 *
 * The list is read again from the database whenever the search text
 * changes (the words go to FTS5 through db_sessions_list, the last one
 * as a prefix, so results narrow while a word is being typed) and after
 * a fork or a delete.  The preview is a transcript (the same layout and
 * sanitising as the chat pane) of the selected session's shown branch,
 * rebuilt when the selection moves, with a line per compare run of the
 * session (columns, winner, prompt).  'c' resumes the session and
 * reopens its newest compare run read-only (a VIEW_OPEN_RUN request).  Wide
 * terminals show the preview beside the list, narrow ones below it.
 */
#include "browser.h"

#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-store.h"
#include "comparestate.h"
#include "storage/db-compare.h"
#include "storage/db-export.h"
#include "storage/db-messages.h"
#include "storage/db-sessions.h"
#include "field.h"
#include "screen.h"
#include "text.h"
#include "transcript.h"

enum browser_ask {
	BROWSER_ASK_NONE,
	BROWSER_ASK_DELETE,
	BROWSER_ASK_EXPORT,
};

struct browser {
	struct view v; /* first: the browser is a view */
	struct field search;
	int searching; /* keys go to the search box */
	struct db_session *list;
	size_t n, sel, top;
	struct transcript *preview;
	int64_t preview_id;
	enum browser_ask ask;
	char *msg; /* the bottom line, until the next key */
	int msg_error;
	int list_rows; /* rows of the list at the last draw */
};

/* The browser: called only while it is the top view. */
static struct browser *
browser_top(struct tui *t)
{
	return (struct browser *)t->top;
}

static void browser_msg(struct browser *b, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
browser_msg(struct browser *b, int error, const char *fmt, ...)
{
	va_list ap;

	free(b->msg);
	va_start(ap, fmt);
	b->msg = xvasprintf(fmt, ap);
	va_end(ap);
	b->msg_error = error;
}

/* Read the list again (keeping the selected session when it is there). */
static void
browser_load(struct tui *t)
{
	struct browser *b = browser_top(t);
	struct db_session_filter f;
	struct sbuf q;
	struct err err;
	int64_t keep = b->n > 0 ? b->list[b->sel].id : 0;
	size_t i;
	int rc;

	db_sessions_free(b->list, b->n);
	b->list = NULL;
	b->n = b->sel = b->top = 0;
	memset(&f, 0, sizeof(f));
	sbuf_init(&q);
	sbuf_adds(&q, b->search.text.buf);
	/* The word being typed matches as a prefix. */
	if (q.len > 0 && q.buf[q.len - 1] != ' ' && q.buf[q.len - 1] != '*')
		sbuf_addc(&q, '*');
	if (q.len > 0)
		f.search = q.buf;
	rc = db_sessions_list(t->db, &f, &b->list, &b->n, &err);
	if (rc == ERR_USAGE && f.search != NULL) {
		/* No words in the search (only spaces): everything. */
		f.search = NULL;
		rc = db_sessions_list(t->db, &f, &b->list, &b->n, &err);
	}
	if (rc < 0) {
		browser_msg(b, 1, "%s", err.msg);
		b->list = NULL;
		b->n = 0;
	}
	for (i = 0; i < b->n; i++)
		if (b->list[i].id == keep)
			b->sel = i;
	sbuf_release(&q);
	b->preview_id = -1;
}

static void browser_draw(struct tui *t, struct view *v);
static void browser_key(
    struct tui *t, struct view *v, const struct keys_event *ev);

static void
browser_free(struct tui *t, struct view *v)
{
	struct browser *b = (struct browser *)v;

	(void)t;
	field_release(&b->search);
	db_sessions_free(b->list, b->n);
	transcript_free(b->preview);
	free(b->msg);
	free(b);
}

static const struct view_ops browser_ops = {
	.name = "sessions",
	.draw = browser_draw,
	.key = browser_key,
	.free = browser_free,
};

void
browser_open(struct tui *t)
{
	struct browser *b = xcalloc(1, sizeof(*b));

	b->v.ops = &browser_ops;
	field_init(&b->search);
	b->preview = transcript_new();
	b->preview_id = -1;
	tui_push(t, &b->v);
	browser_load(t);
	/* Start on the session being shown, if it is listed. */
	for (b->sel = 0; b->sel < b->n; b->sel++)
		if (b->list[b->sel].id == t->conv.session)
			break;
	if (b->sel == b->n)
		b->sel = 0;
}

static const char *
browser_base(const char *path)
{
	const char *s;

	if (path == NULL)
		return "-";
	s = strrchr(path, '/');
	return s != NULL ? s + 1 : path;
}

/* The most compare runs listed in the preview (the newest). */
#define BROWSER_RUNS 4

/* A line per compare run of session ID (the newest few) into SB. */
static void
browser_runs(struct tui *t, int64_t id, struct sbuf *sb)
{
	struct db_compare_run *runs;
	size_t n, i;

	if (db_compare_list(t->db, id, &runs, &n, NULL) < 0 || n == 0)
		return;
	if (n > BROWSER_RUNS)
		sbuf_addf(sb, "\n%zu compare runs, the newest:", n);
	for (i = n > BROWSER_RUNS ? n - BROWSER_RUNS : 0; i < n; i++) {
		sbuf_adds(sb, "\n");
		comparestate_run_summary(sb, &runs[i], 40);
	}
	sbuf_adds(sb, "\nc reopens the newest run (read-only)");
	db_compare_free(runs, n);
}

static void
browser_preview(struct tui *t)
{
	struct browser *b = browser_top(t);
	struct db_message *m = NULL;
	size_t n = 0, i;
	int64_t id = b->n > 0 ? b->list[b->sel].id : 0;
	enum transcript_role role;
	const char *label;
	struct sbuf head;

	if (id == b->preview_id)
		return;
	b->preview_id = id;
	transcript_clear(b->preview);
	if (id == 0)
		return;
	sbuf_init(&head);
	sbuf_addf(&head, "session %lld · %s · %s · preset %s · %lld messages",
	    (long long)id, browser_base(b->list[b->sel].model.path),
	    b->list[b->sel].chat_format ? b->list[b->sel].chat_format : "-",
	    b->list[b->sel].preset ? b->list[b->sel].preset : "-",
	    (long long)b->list[b->sel].n_messages);
	if (b->list[b->sel].snippet != NULL)
		sbuf_addf(&head, "\nmatch: %s", b->list[b->sel].snippet);
	browser_runs(t, id, &head);
	transcript_add(b->preview, TRANSCRIPT_NOTICE, NULL, head.buf, head.len);
	sbuf_release(&head);
	if (db_messages_branch(t->db, id, 0, &m, &n, NULL) < 0)
		return;
	for (i = 0; i < n; i++) {
		role = m[i].role == DB_ROLE_USER     ? TRANSCRIPT_USER
		    : m[i].role == DB_ROLE_ASSISTANT ? TRANSCRIPT_ASSISTANT
						     : TRANSCRIPT_SYSTEM;
		label = m[i].role == DB_ROLE_USER    ? "you"
		    : m[i].role == DB_ROLE_ASSISTANT ? "assistant"
						     : "system";
		transcript_add(b->preview, role, label, m[i].content,
		    strlen(m[i].content));
	}
	db_messages_free(m, n);
	/* Show the start of the conversation. */
	transcript_scroll(b->preview, 1L << 30);
}

static void
browser_row(struct tui *t, const struct db_session *s, int y, int w, int sel)
{
	char date[32];
	struct sbuf right, model, title, fit;
	int attr = sel ? screen_attr(SCREEN_SELECT) : (int)A_NORMAL, rw;

	sbuf_init(&right);
	sbuf_init(&model);
	cmd_store_time(s->updated_ms, date, sizeof(date));
	/* Narrow lists drop the year, never the time: "MM-DD HH:MM". */
	if (w < 70 && strlen(date) == 16)
		memmove(date, date + 5, 12);
	text_sanitize(&model, browser_base(s->model.path),
	    strlen(browser_base(s->model.path)), 1);
	sbuf_adds(&right, " ");
	text_fit(&right, model.buf, w < 70 ? 12 : 20);
	sbuf_addf(&right, "  %s %3lld ", date, (long long)s->n_messages);
	rw = text_width(right.buf, right.len);
	screen_fill(y, 0, w, attr);
	if (rw > w - 12)
		rw = 0;
	sbuf_init(&title);
	sbuf_init(&fit);
	if (s->n_compare > 0)
		sbuf_addf(&title, "(%lld compare) ", (long long)s->n_compare);
	text_sanitize(&title, s->title[0] ? s->title : "(untitled)",
	    strlen(s->title[0] ? s->title : "(untitled)"), 1);
	/* a title too long for the row ends in an ellipsis */
	text_fit(&fit, title.buf, w - rw - 2);
	screen_put(y, 1, fit.buf, fit.len, w - rw - 2, attr);
	sbuf_release(&fit);
	sbuf_release(&title);
	if (rw > 0)
		screen_put(y, w - rw, right.buf, right.len, rw, attr);
	sbuf_release(&right);
	sbuf_release(&model);
}

/* The bottom line: a question, a message, or the keys. */
static void
browser_bottom(struct tui *t)
{
	struct browser *b = browser_top(t);
	int y = t->rows - 1, attr = screen_attr(SCREEN_STATUS);
	struct sbuf sb;

	sbuf_init(&sb);
	screen_fill(y, 0, t->cols, attr);
	if (b->ask == BROWSER_ASK_DELETE && b->n > 0) {
		sbuf_addf(&sb,
		    "Delete session %lld \"%s\" and its messages? "
		    "(y/n)",
		    (long long)b->list[b->sel].id, b->list[b->sel].title);
		attr = screen_attr(SCREEN_ERROR) | A_REVERSE;
	} else if (b->ask == BROWSER_ASK_EXPORT) {
		sbuf_adds(&sb,
		    "Export as m = Markdown, j = JSON (into the "
		    "current directory)?  Esc cancels");
	} else if (b->msg != NULL) {
		sbuf_adds(&sb, b->msg);
		if (b->msg_error)
			attr = screen_attr(SCREEN_ERROR) | A_REVERSE;
	} else if (b->searching) {
		sbuf_adds(&sb,
		    "type to search  Up/Down select  Enter resume  "
		    "Esc/Tab done");
	} else {
		sbuf_adds(&sb, "Enter resume  ");
		if (b->n > 0 && b->list[b->sel].n_compare > 0)
			sbuf_adds(&sb, "c compare run  ");
		sbuf_adds(&sb,
		    "/ search  f fork  d delete  "
		    "e export  Esc close");
	}
	screen_fill(y, 0, t->cols, attr);
	screen_puts(y, 1, sb.buf, t->cols - 2, attr);
	sbuf_release(&sb);
}

static void
browser_draw(struct tui *t, struct view *v)
{
	struct browser *b = (struct browser *)v;
	struct sbuf head;
	size_t first;
	int list_w, list_h, pv_y, pv_x, pv_w, pv_h, i, x, col;

	sbuf_init(&head);
	screen_fill(0, 0, t->cols, screen_attr(SCREEN_TITLE));
	sbuf_addf(&head, "Sessions (%zu)  search: ", b->n);
	x = 1 +
	    screen_put(0, 1, head.buf, head.len, t->cols - 2,
		screen_attr(SCREEN_TITLE));
	field_view(&b->search, t->cols - x - 1, &first, &col);
	screen_put(0, x, b->search.text.buf + first, b->search.text.len - first,
	    t->cols - x - 1, screen_attr(SCREEN_TITLE));
	if (t->cols >= 90) {
		list_w = t->cols * 55 / 100;
		list_h = t->rows - 2;
		pv_y = 1;
		pv_x = list_w + 1;
		pv_w = t->cols - pv_x;
		pv_h = list_h;
	} else {
		list_w = t->cols;
		list_h = (t->rows - 2) / 2;
		pv_y = 1 + list_h;
		pv_x = 0;
		pv_w = t->cols;
		pv_h = t->rows - 2 - list_h;
	}
	if (list_h < 1)
		list_h = 1;
	b->list_rows = list_h;
	if (b->sel < b->top)
		b->top = b->sel;
	if (b->sel >= b->top + (size_t)list_h)
		b->top = b->sel - (size_t)list_h + 1;
	for (i = 0; i < list_h && b->top + (size_t)i < b->n; i++)
		browser_row(t, &b->list[b->top + (size_t)i], 1 + i, list_w,
		    b->top + (size_t)i == b->sel);
	if (b->n == 0)
		screen_puts(1, 1,
		    b->search.text.len ? "no session matches"
				       : "no sessions yet: send a prompt "
					 "and it is saved here",
		    list_w - 2, screen_attr(SCREEN_NOTICE));
	browser_preview(t);
	if (pv_h > 0 && pv_w > 4) {
		if (pv_x > 0)
			for (i = 0; i < pv_h; i++)
				screen_put(pv_y + i, pv_x - 1, "\xe2\x94\x82",
				    3, 1, screen_attr(SCREEN_FENCE));
		else
			for (i = 0; i < pv_w; i++)
				screen_put(pv_y, i, "\xe2\x94\x80", 3, 1,
				    screen_attr(SCREEN_FENCE));
		screen_transcript(b->preview, pv_y + (pv_x == 0), pv_x + 1,
		    pv_h - (pv_x == 0), pv_w - 1);
	}
	browser_bottom(t);
	if (b->searching) {
		curs_set(1);
		move(0, x + col);
	} else {
		curs_set(0);
	}
	sbuf_release(&head);
}

static void
browser_export(struct tui *t, int md)
{
	struct browser *b = browser_top(t);
	int64_t id = b->list[b->sel].id;
	struct sbuf out;
	struct err err;
	char *file = xasprintf(
	    "vkchat-session-%lld.%s", (long long)id, md ? "md" : "json");
	int rc;

	sbuf_init(&out);
	rc = md ? db_export_markdown(t->db, id, &out, &err)
		: db_export_json(t->db, id, 1, 1, &out, &err);
	if (rc == 0)
		rc = util_write_file(file, out.buf, out.len, 0600, &err);
	if (rc < 0)
		browser_msg(b, 1, "export: %s", err.msg);
	else
		browser_msg(
		    b, 0, "exported session %lld to '%s'", (long long)id, file);
	sbuf_release(&out);
	free(file);
}

static void
browser_delete(struct tui *t)
{
	struct browser *b = browser_top(t);
	int64_t id = b->list[b->sel].id;
	struct err err;

	if (t->generating && id == t->conv.session) {
		browser_msg(b, 1, "this session is generating: stop it first");
		return;
	}
	if (db_sessions_delete(t->db, id, &err) < 0) {
		browser_msg(b, 1, "%s", err.msg);
		return;
	}
	if (id == t->conv.session) {
		struct view_req r = { .act = VIEW_SESSION_GONE, .id = id };

		tui_request(t, &r, NULL);
	}
	browser_load(t);
	if (b->sel >= b->n && b->n > 0)
		b->sel = b->n - 1;
	browser_msg(b, 0, "deleted session %lld", (long long)id);
}

static void
browser_fork(struct tui *t)
{
	struct browser *b = browser_top(t);
	int64_t id = b->list[b->sel].id, nid;
	struct err err;
	size_t i;

	if (db_sessions_fork(t->db, id, 0, &nid, &err) < 0) {
		browser_msg(b, 1, "fork: %s", err.msg);
		return;
	}
	browser_load(t);
	for (i = 0; i < b->n; i++)
		if (b->list[i].id == nid)
			b->sel = i;
	browser_msg(b, 0,
	    "forked session %lld into session %lld "
	    "(Enter resumes it)",
	    (long long)id, (long long)nid);
}

static void
browser_resume(struct tui *t)
{
	struct browser *b = browser_top(t);
	struct view_req r = { .act = VIEW_OPEN_SESSION };
	struct err err;

	if (b->n == 0)
		return;
	r.id = b->list[b->sel].id;
	if (tui_request(t, &r, &err) < 0) {
		browser_msg(b, 1, "%s", err.msg);
		return;
	}
	tui_pop(t);
}

/* Resume the selected session and reopen its newest compare run. */
static void
browser_compare(struct tui *t)
{
	struct browser *b = browser_top(t);
	struct err err;
	int64_t id = b->list[b->sel].id;
	struct view_req r = { .act = VIEW_OPEN_RUN, .id = id };

	if (b->list[b->sel].n_compare == 0) {
		browser_msg(b, 1,
		    "session %lld has no compare runs (/compare makes one)",
		    (long long)id);
		return;
	}
	if (tui_request(t, &r, &err) < 0) {
		browser_msg(b, 1, "%s", err.msg);
		return;
	}
	tui_pop(t);
}

/* Keys that move the selection; returns 1 when EV was one. */
static int
browser_move(struct browser *b, const struct keys_event *ev)
{
	size_t page = b->list_rows > 1 ? (size_t)b->list_rows - 1 : 1;

	switch (ev->code) {
	case KEYS_UP:
	case KEYS_WHEEL_UP:
		if (b->sel > 0)
			b->sel--;
		return 1;
	case KEYS_DOWN:
	case KEYS_WHEEL_DOWN:
		if (b->sel + 1 < b->n)
			b->sel++;
		return 1;
	case KEYS_PGUP:
		b->sel = b->sel > page ? b->sel - page : 0;
		return 1;
	case KEYS_PGDN:
		b->sel = b->sel + page < b->n ? b->sel + page
		    : b->n > 0		      ? b->n - 1
					      : 0;
		return 1;
	default:
		return 0;
	}
}

static void
browser_key(struct tui *t, struct view *v, const struct keys_event *ev)
{
	struct browser *b = (struct browser *)v;
	uint32_t c = ev->code == KEYS_CHAR ? ev->cp : 0;

	free(b->msg);
	b->msg = NULL;
	if (b->ask != BROWSER_ASK_NONE) {
		enum browser_ask ask = b->ask;

		b->ask = BROWSER_ASK_NONE;
		if (b->n == 0)
			return;
		if (ask == BROWSER_ASK_DELETE && (c == 'y' || c == 'Y'))
			browser_delete(t);
		else if (ask == BROWSER_ASK_EXPORT && (c == 'm' || c == 'j'))
			browser_export(t, c == 'm');
		return;
	}
	if (browser_move(b, ev))
		return;
	if (ev->code == KEYS_ENTER) {
		browser_resume(t);
		return;
	}
	if (b->searching) {
		if (ev->code == KEYS_ALT && ev->cp >= 0x20) {
			/*
			 * Esc and the next key typed quickly arrive as one
			 * Alt-key: leave the search and take the key, so it
			 * is not lost.
			 */
			b->searching = 0;
			c = ev->cp;
		} else {
			if (ev->code == KEYS_ESC || ev->code == KEYS_TAB)
				b->searching = 0;
			else if (field_key(&b->search, ev))
				browser_load(t);
			return;
		}
	}
	if (ev->code == KEYS_ESC || c == 'q' ||
	    (ev->code == KEYS_CTRL && ev->cp == 'o')) {
		tui_pop(t);
	} else if (c == '/' || c == 's') {
		b->searching = 1;
	} else if (c == 'j') {
		if (b->sel + 1 < b->n)
			b->sel++;
	} else if (c == 'k') {
		if (b->sel > 0)
			b->sel--;
	} else if (c == 'g' || ev->code == KEYS_HOME) {
		b->sel = 0;
	} else if ((c == 'G' || ev->code == KEYS_END) && b->n > 0) {
		b->sel = b->n - 1;
	} else if (c == 'c' && b->n > 0) {
		browser_compare(t);
	} else if (c == 'f' && b->n > 0) {
		browser_fork(t);
	} else if (c == 'd' && b->n > 0) {
		b->ask = BROWSER_ASK_DELETE;
	} else if (c == 'e' && b->n > 0) {
		b->ask = BROWSER_ASK_EXPORT;
	}
}
