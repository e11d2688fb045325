/*
 * chatlog: the conversation on the chat screen, the session's shown
 * branch: each message with its database id and its transcript entry
 * (t->msgs), the labels and the line under each answer, and the turns
 * the model is shown of it.  The chat controller (chatctl.c) and
 * compare mode (comparemode.c) both add to it; it calls neither.
 */
#include "chatlog.h"

#include <stdlib.h>
#include <string.h>

#include "tokmap.h"

void
chatlog_clear(struct tui *t)
{
	size_t i;

	for (i = 0; i < t->n_msgs; i++)
		free(t->msgs[i].text);
	t->n_msgs = 0;
}

void
chatlog_truncate(struct tui *t, size_t n)
{
	while (t->n_msgs > n)
		free(t->msgs[--t->n_msgs].text);
}

void
chatlog_push(struct tui *t, enum db_role role, const char *text, int64_t id,
    size_t entry)
{
	struct tui_msg *m;

	if (t->n_msgs == t->cap_msgs) {
		t->cap_msgs = t->cap_msgs ? t->cap_msgs * 2 : 16;
		t->msgs = xreallocarray(t->msgs, t->cap_msgs, sizeof(*m));
	}
	m = &t->msgs[t->n_msgs++];
	m->role = role;
	m->text = xstrdup(text);
	m->id = id;
	m->entry = entry;
}

const char *
chatlog_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/*
 * The label of an answer of the model at PATH (NULL: unknown): its file
 * name, which the database keeps, so that a resumed session labels its
 * answers as they were labelled when they streamed.
 */
const char *
chatlog_label(const char *path)
{
	return path != NULL ? chatlog_base(path) : "assistant";
}

/* The line under an answer: how it ended and how fast it was. */
void
chatlog_meta(struct sbuf *sb, const struct db_gen_stats *st, int partial,
    const char *error, int64_t pos, int64_t n)
{
	const char *sep = "";

	if (partial) {
		sbuf_adds(sb, "incomplete (vkchat stopped while generating)");
		sep = " · ";
	} else if (st->finish == DB_FINISH_CANCELLED) {
		sbuf_adds(sb, "[stopped]");
		sep = " · ";
	} else if (st->finish == DB_FINISH_LENGTH) {
		sbuf_adds(sb, "[length limit]");
		sep = " · ";
	} else if (st->finish == DB_FINISH_ERROR) {
		sbuf_addf(sb, "[error: %s]", error ? error : "unknown");
		sep = " · ";
	}
	if (st->completion_tokens >= 0) {
		sbuf_addf(
		    sb, "%s%lld tokens", sep, (long long)st->completion_tokens);
		sep = " · ";
	}
	if (st->tokens_per_s > 0) {
		sbuf_addf(sb, "%s%.1f tok/s", sep, st->tokens_per_s);
		sep = " · ";
	}
	if (st->ttft_ms >= 0) {
		sbuf_addf(sb, "%s%.0f ms to first token", sep, st->ttft_ms);
		sep = " · ";
	}
	if (n > 1)
		sbuf_addf(sb, "%sanswer %lld of %lld", sep, (long long)pos,
		    (long long)n);
}

size_t
chatlog_turns(const struct tui *t, struct chat_turn *turns)
{
	struct conv_msg *m = xcalloc(t->n_msgs + 1, sizeof(*m));
	size_t i, k;

	for (i = 0; i < t->n_msgs; i++) {
		m[i].role = t->msgs[i].role;
		m[i].text = t->msgs[i].text;
	}
	k = conv_turns(m, t->n_msgs, turns);
	free(m);
	return k;
}

void
chatlog_request(const struct tui *t, struct worker_gen_request *req)
{
	struct chat_turn *turns = xcalloc(t->n_msgs + 1, sizeof(*turns));

	memset(req, 0, sizeof(*req));
	if (t->conv.params.system_prompt != NULL &&
	    t->conv.params.system_prompt[0] != '\0')
		req->system = t->conv.params.system_prompt;
	req->n_turns = chatlog_turns(t, turns);
	req->turns = turns;
	req->chat_format = t->conv.chat_format;
}

size_t
chatlog_add_prompt(struct tui *t, const char *text, int64_t id)
{
	size_t entry;

	entry =
	    transcript_add(t->tr, TRANSCRIPT_USER, "you", text, strlen(text));
	chatlog_push(t, DB_ROLE_USER, text, id, entry);
	return entry;
}

size_t
chatlog_add_reply(struct tui *t, const char *text, size_t len, int64_t id)
{
	size_t entry;

	entry = transcript_add(t->tr, TRANSCRIPT_ASSISTANT,
	    chatlog_label(t->conv.model.path), text, len);
	transcript_finish(t->tr, entry);
	chatlog_push(
	    t, DB_ROLE_ASSISTANT, transcript_text(t->tr, entry), id, entry);
	if (id > 0)
		t->conv.leaf = id;
	return entry;
}

/* Show branch MSGS[0..n) (root first) as the conversation. */
void
chatlog_show(struct tui *t, const struct db_message *msgs, size_t n)
{
	struct sbuf meta;
	size_t i, entry;

	for (i = 0; i < n; i++) {
		const struct db_message *m = &msgs[i];
		switch (m->role) {
		case DB_ROLE_SYSTEM:
			entry = transcript_add(t->tr, TRANSCRIPT_SYSTEM,
			    "system", m->content, strlen(m->content));
			chatlog_push(
			    t, DB_ROLE_SYSTEM, m->content, m->id, entry);
			break;
		case DB_ROLE_USER:
			entry = transcript_add(t->tr, TRANSCRIPT_USER, "you",
			    m->content, strlen(m->content));
			chatlog_push(t, DB_ROLE_USER, m->content, m->id, entry);
			break;
		case DB_ROLE_ASSISTANT:
			entry = transcript_add(t->tr, TRANSCRIPT_ASSISTANT,
			    chatlog_label(m->model.path), m->content,
			    strlen(m->content));
			transcript_finish(t->tr, entry);
			sbuf_init(&meta);
			chatlog_meta(&meta, &m->stats, m->partial, m->error,
			    m->sibling_pos, m->n_siblings);
			if (meta.len > 0)
				transcript_set_meta(t->tr, entry, meta.buf);
			sbuf_release(&meta);
			chatlog_push(
			    t, DB_ROLE_ASSISTANT, m->content, m->id, entry);
			break;
		}
	}
}

void
chatlog_marks(struct tui *t, int on)
{
	size_t i;

	for (i = 0; i < t->n_msgs; i++)
		if (t->msgs[i].role == DB_ROLE_ASSISTANT)
			tokmap_update(t->tr, t->msgs[i].entry,
			    on ? steps_find(&t->kept, t->msgs[i].id) : NULL);
	/* Not yet in t->msgs: it joins them when it ends. */
	if (t->generating && t->cmp == NULL)
		tokmap_update(t->tr, t->gen_entry, on ? &t->live : NULL);
}

void
chatlog_release(struct tui *t)
{
	chatlog_clear(t);
	free(t->msgs);
	t->msgs = NULL;
	t->cap_msgs = 0;
}
