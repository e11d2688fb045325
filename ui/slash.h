/*
 * slash: the chat prompt's slash commands (/preset, /set, /regen ...):
 * their table (names, arguments, help), splitting a command line into
 * words, and the candidates for Tab completion.  Terminal-free; the chat
 * view (chatctl.c) carries the commands out.
 */
#ifndef VKCHAT_SLASH_H
#define VKCHAT_SLASH_H

#include <stddef.h>

#include "err.h"

/* The commands, in the table's order; the chat controller's handlers
 * are indexed by these. */
enum slash_id {
	SLASH_HELP,
	SLASH_PRESET,
	SLASH_SET,
	SLASH_SYSTEM,
	SLASH_TEMPLATE,
	SLASH_REGEN,
	SLASH_EDIT,
	SLASH_FORK,
	SLASH_NEW,
	SLASH_SESSIONS,
	SLASH_EXPORT,
	SLASH_COMPARE,
	SLASH_RUNS,
	SLASH_PARAMS,
	SLASH_PROBS,
	SLASH_COLOUR,
	SLASH_MAN,
	SLASH_QUIT,
	SLASH_N,
};

struct slash_cmd {
	enum slash_id id;
	const char *name; /* without the slash */
	const char *args; /* argument synopsis ("" for none) */
	const char *help; /* one line */
};

/* The commands (slash_table[i].id == i), ended by a NULL name. */
extern const struct slash_cmd slash_table[];

/* The manual pages /man opens: vkchat-TOPIC ("": vkchat itself). */
struct slash_man {
	const char *topic;
	const char *what; /* one line */
};
/* Ended by a NULL topic. */
extern const struct slash_man slash_man_pages[];

/*
 * The command LINE starts with ("/name ..."), or NULL when LINE is not a
 * slash command or names none; *args (if not NULL) gets the text after
 * the name and its spaces.  "/edit!" finds "edit" with *bang set.
 */
const struct slash_cmd *slash_find(
    const char *line, const char **args, int *bang);

/*
 * Split ARGS into words at spaces; a double-quoted part may hold spaces
 * and \" and \\ escapes (key="a b" is one word: key=a b).  *words is a
 * new NULL-terminated array of new strings (slash_words_free).  Fails
 * with ERR_USAGE on an unterminated quote.
 */
int slash_split(const char *args, char ***words, size_t *n, struct err *err);
void slash_words_free(char **words);

/* What completion needs to know that the table does not say. */
enum slash_names {
	SLASH_NAMES_PRESETS,
	SLASH_NAMES_TEMPLATES,
	SLASH_NAMES_TEMPLATE_VARS, /* of the template named by ARG */
};

/*
 * Callback filling *out (a new NULL-terminated array of new strings, or
 * NULL) with the names of KIND.
 */
typedef char **(*slash_names_fn)(
    void *ctx, enum slash_names kind, const char *arg);

/*
 * The completions of the word LINE[START..END) in the command line LINE:
 * command names after the slash, then per command preset names,
 * template names and their "var=", parameter "key=", export formats or
 * man topics.  A new NULL-terminated array of new strings (sorted,
 * possibly empty), or NULL when LINE is not a slash command.
 */
char **slash_complete(const char *line, size_t start, size_t end,
    slash_names_fn names, void *ctx);

#endif
