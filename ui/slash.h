/*
 * slash: the chat prompt's slash commands (/preset, /set, /regen ...):
 * their table (names, arguments, help), splitting a command line into
 * words, and the candidates for Tab completion.  Terminal-free; the chat
 * view (chatview.c) carries the commands out.
 */
#ifndef VKCHAT_SLASH_H
#define VKCHAT_SLASH_H

#include <stddef.h>

#include "err.h"

struct slash_cmd {
	const char *name; /* without the slash */
	const char *args; /* argument synopsis ("" for none) */
	const char *help; /* one line */
};

/* The commands, ended by a NULL name. */
extern const struct slash_cmd slash_table[];

/* The topics /man knows (vkchat-TOPIC pages), ended by NULL. */
extern const char *const slash_man_topics[];

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
