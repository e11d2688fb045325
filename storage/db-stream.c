/*
 * db-stream: the write throttle between a generator and its row.  The
 * stream keeps the full text in memory; a write replaces the stored text
 * with the complete-UTF-8 prefix of it, so whatever is on disk is always
 * a prefix of what was generated.  Time is util_now() (monotonic).
 */
#include "db-stream.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "db-compare.h"
#include "utf8.h"
#include "util.h"

struct db_stream {
	struct db *db;
	int64_t id; /* message id, or compare run id */
	int col;    /* compare column; -1 for a message */
	struct sbuf text;
	size_t written;	   /* bytes of TEXT known to be stored */
	double last_write; /* util_now() of the last write attempt */
	int finished;
};

static struct db_stream *
db_stream_new(struct db *db, int64_t id, int col)
{
	struct db_stream *s = xcalloc(1, sizeof *s);

	s->db = db;
	s->id = id;
	s->col = col;
	sbuf_init(&s->text);
	s->last_write = util_now();
	return s;
}

int
db_stream_message(struct db *db, const struct db_message *m,
    struct db_stream **out, struct err *err)
{
	struct db_message row = *m;
	int64_t id;
	int rc;

	*out = NULL;
	if (m->role != DB_ROLE_ASSISTANT)
		return err_set(
		    err, ERR_USAGE, "only assistant messages are generated");
	row.partial = 1;
	row.stats.finish = DB_FINISH_NONE;
	if ((rc = db_messages_add(db, &row, &id, err)) != 0)
		return rc;
	*out = db_stream_new(db, id, -1);
	if (m->content != NULL) {
		sbuf_adds(&(*out)->text, m->content);
		(*out)->written = (*out)->text.len;
	}
	return 0;
}

int
db_stream_compare(struct db *db, int64_t run, int col, struct db_stream **out,
    struct err *err)
{
	int rc;

	*out = NULL;
	if ((rc = db_compare_set_output(db, run, col, "", 0, err)) != 0)
		return rc;
	*out = db_stream_new(db, run, col);
	return 0;
}

int64_t
db_stream_id(const struct db_stream *s)
{
	return s->id;
}

const char *
db_stream_text(const struct db_stream *s)
{
	return s->text.buf;
}

int
db_stream_add(
    struct db_stream *s, const char *text, size_t len, struct err *err)
{
	double now = util_now();
	size_t n;
	int rc;

	if (s->finished)
		return err_set(err, ERR_USAGE, "the generation was finished");
	if (len > (size_t)INT_MAX - s->text.len)
		return err_set(err, ERR_RANGE, "generated text is too long");
	sbuf_add(&s->text, text, len);
	if (now - s->last_write < DB_STREAM_INTERVAL)
		return 0;
	s->last_write = now;
	n = utf8_complete_prefix(s->text.buf, s->text.len);
	if (n == s->written)
		return 0;
	if (s->col < 0)
		rc = db_messages_set_content(s->db, s->id, s->text.buf, n, err);
	else
		rc = db_compare_set_output(
		    s->db, s->id, s->col, s->text.buf, n, err);
	if (rc == 0)
		s->written = n;
	return rc;
}

int
db_stream_finish(struct db_stream *s, const struct db_gen_stats *stats,
    const char *error, struct err *err)
{
	int rc;

	if (s->finished)
		return err_set(err, ERR_USAGE, "the generation was finished");
	if (s->col < 0)
		rc = db_messages_finish(
		    s->db, s->id, s->text.buf, s->text.len, stats, error, err);
	else
		rc = db_compare_finish(s->db, s->id, s->col, s->text.buf,
		    s->text.len, stats, error, err);
	if (rc == 0) {
		s->written = s->text.len;
		s->finished = 1;
	}
	return rc;
}

void
db_stream_free(struct db_stream *s)
{
	if (s == NULL)
		return;
	sbuf_release(&s->text);
	free(s);
}
