/*
 * slash: the slash-command table, word splitting and completion.
 *
 * Completion works on the words before the one being completed: the
 * command decides what its arguments are (presets, templates, parameter
 * keys), and what the program knows at run time (presets and templates
 * in the database) comes through a callback, so this file stays free of
 * storage and of readline.
 */
#include "slash.h"

#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "util.h"

const struct slash_cmd slash_table[] = {
	{ SLASH_HELP, "help", "", "keys, commands and manual pages" },
	{ SLASH_PRESET, "preset", "NAME",
	    "use preset NAME (Tab lists them; Ctrl-P picks)" },
	{ SLASH_SET, "set", "KEY=VALUE ...",
	    "change parameters: /set temp=0.7 top_p=0.9" },
	{ SLASH_SYSTEM, "system", "[TEXT]",
	    "set the system prompt (none: clear it)" },
	{ SLASH_TEMPLATE, "template", "NAME [VAR=VALUE ...]",
	    "send template NAME with its variables (Ctrl-T picks)" },
	{ SLASH_REGEN, "regen", "",
	    "a new answer to the last prompt (the old one is kept)" },
	{ SLASH_EDIT, "edit", "",
	    "edit the last prompt here (/edit! in $EDITOR)" },
	{ SLASH_FORK, "fork", "", "continue in a copy of this session" },
	{ SLASH_NEW, "new", "", "start a new session" },
	{ SLASH_SESSIONS, "sessions", "",
	    "browse, search and resume sessions (Ctrl-O)" },
	{ SLASH_EXPORT, "export", "md|json [FILE]",
	    "write this session to FILE" },
	{ SLASH_COMPARE, "compare", "[--same-seed] P1,P2,...|KEY=V1,V2,...|off",
	    "answer the next prompt with 2-8 presets or values side by "
	    "side" },
	{ SLASH_RUNS, "runs", "[ID|last]",
	    "reopen this session's last (or ID) compare run, read-only" },
	{ SLASH_PARAMS, "params", "", "show every setting in force" },
	{ SLASH_PROBS, "probs", "",
	    "the sampler's choices, token by token, for the last answer "
	    "(Alt-P)" },
	{ SLASH_COLOUR, "colour", "[on|off]",
	    "colour the answers' tokens by the model's probability (Alt-C)" },
	{ SLASH_MAN, "man", "[TOPIC]",
	    "open manual page vkchat-TOPIC (or vkchat)" },
	{ SLASH_QUIT, "quit", "", "leave vkchat (Ctrl-D)" },
	{ SLASH_N, NULL, NULL, NULL },
};

const struct slash_man slash_man_pages[] = {
	{ "", "the program, its commands and options" },
	{ "tutorial", "a course in short lessons, on the pocket model" },
	{ "tui", "this screen: keys, commands, views" },
	{ "sampling", "what every parameter does (/set, presets)" },
	{ "presets", "the preset file format" },
	{ "storage", "the database, export and import" },
	{ NULL, NULL },
};

/* Other spellings a command answers to (not completed, not listed). */
static const struct {
	const char *name;
	enum slash_id id;
} slash_aliases[] = {
	{ "color", SLASH_COLOUR },
};

const struct slash_cmd *
slash_find(const char *line, const char **args, int *bang)
{
	const struct slash_cmd *c;
	size_t n = 0, i;

	if (line[0] != '/')
		return NULL;
	line++;
	while (line[n] != '\0' && line[n] != ' ' && line[n] != '!' &&
	    line[n] != '\n' && line[n] != '\t')
		n++;
	for (c = slash_table; c->name != NULL; c++)
		if (strlen(c->name) == n && memcmp(c->name, line, n) == 0)
			break;
	for (i = 0; c->name == NULL && i < ARRAY_LEN(slash_aliases); i++)
		if (strlen(slash_aliases[i].name) == n &&
		    memcmp(slash_aliases[i].name, line, n) == 0)
			c = &slash_table[slash_aliases[i].id];
	if (c->name == NULL)
		return NULL;
	if (bang != NULL)
		*bang = line[n] == '!';
	if (line[n] == '!')
		n++;
	if (line[n] != '\0' && line[n] != ' ' && line[n] != '\n' &&
	    line[n] != '\t')
		return NULL;
	while (line[n] == ' ' || line[n] == '\t' || line[n] == '\n')
		n++;
	if (args != NULL)
		*args = line + n;
	return c;
}

void
slash_words_free(char **words)
{
	size_t i;

	if (words == NULL)
		return;
	for (i = 0; words[i] != NULL; i++)
		free(words[i]);
	free(words);
}

/* Append S to the NULL-terminated array *V of *N. */
static void
slash_push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

int
slash_split(const char *args, char ***words, size_t *n, struct err *err)
{
	struct sbuf w;
	char **v = NULL;
	size_t nv = 0;
	const char *p = args;
	int quoted;

	sbuf_init(&w);
	slash_push(&v, &nv, NULL);
	nv = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		sbuf_reset(&w);
		quoted = 0;
		while (*p != '\0' &&
		    (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			if (*p == '"') {
				quoted = !quoted;
			} else if (quoted && *p == '\\' &&
			    (p[1] == '"' || p[1] == '\\')) {
				sbuf_addc(&w, *++p);
			} else {
				sbuf_addc(&w, *p);
			}
			p++;
		}
		if (quoted) {
			sbuf_release(&w);
			slash_words_free(v);
			return err_set(
			    err, ERR_USAGE, "unterminated quote in '%s'", args);
		}
		slash_push(&v, &nv, xstrdup(w.buf));
	}
	sbuf_release(&w);
	*words = v;
	if (n != NULL)
		*n = nv;
	return 0;
}

static int
slash_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add every name in NAMES (taken) that starts with PREFIX, plus SUFFIX. */
static void
slash_add_names(
    char ***v, size_t *n, char **names, const char *prefix, const char *suffix)
{
	size_t i, pl = strlen(prefix);

	if (names == NULL)
		return;
	for (i = 0; names[i] != NULL; i++) {
		if (strncmp(names[i], prefix, pl) == 0)
			slash_push(v, n, xasprintf("%s%s", names[i], suffix));
		free(names[i]);
	}
	free(names);
}

static void
slash_add_static(char ***v, size_t *n, const char *const *names,
    const char *prefix, const char *suffix)
{
	size_t i, pl = strlen(prefix);

	for (i = 0; names[i] != NULL; i++)
		if (strncmp(names[i], prefix, pl) == 0)
			slash_push(v, n, xasprintf("%s%s", names[i], suffix));
}

char **
slash_complete(
    const char *line, size_t start, size_t end, slash_names_fn names, void *ctx)
{
	static const char *const formats[] = { "md", "json", NULL };
	static const char *const on_off[] = { "off", "on", NULL };
	const struct slash_cmd *c;
	char **v = NULL, **words = NULL, *prefix, *head;
	size_t n = 0, nw = 0, i;

	if (line[0] != '/' || end < start || end > strlen(line))
		return NULL;
	prefix = xstrndup(line + start, end - start);
	slash_push(&v, &n, NULL);
	n = 0;
	if (start <= 1) {
		/* The command name itself. */
		for (c = slash_table; c->name != NULL; c++)
			if (strncmp(c->name, prefix + (start == 0),
				strlen(prefix + (start == 0))) == 0)
				slash_push(&v, &n,
				    xasprintf("%s%s", start == 0 ? "/" : "",
					c->name));
		goto done;
	}
	head = xstrndup(line, start);
	c = slash_find(head, NULL, NULL);
	if (c == NULL || slash_split(head, &words, &nw, NULL) < 0) {
		free(head);
		goto done;
	}
	free(head);
	/* words[0] is the command; NW - 1 arguments come before this one. */
	if (c->id == SLASH_PRESET && nw == 1) {
		slash_add_names(
		    &v, &n, names(ctx, SLASH_NAMES_PRESETS, NULL), prefix, "");
	} else if (c->id == SLASH_TEMPLATE && nw == 1) {
		slash_add_names(&v, &n, names(ctx, SLASH_NAMES_TEMPLATES, NULL),
		    prefix, "");
	} else if (c->id == SLASH_TEMPLATE && nw >= 2) {
		slash_add_names(&v, &n,
		    names(ctx, SLASH_NAMES_TEMPLATE_VARS, words[1]), prefix,
		    "=");
	} else if (c->id == SLASH_SET) {
		for (i = 0; i < params_count(); i++)
			if (strncmp(params_key(i), prefix, strlen(prefix)) == 0)
				slash_push(
				    &v, &n, xasprintf("%s=", params_key(i)));
	} else if (c->id == SLASH_EXPORT && nw == 1) {
		slash_add_static(&v, &n, formats, prefix, "");
	} else if (c->id == SLASH_COLOUR && nw == 1) {
		slash_add_static(&v, &n, on_off, prefix, "");
	} else if (c->id == SLASH_MAN && nw == 1) {
		for (i = 0; slash_man_pages[i].topic != NULL; i++)
			if (slash_man_pages[i].topic[0] != '\0' &&
			    strncmp(slash_man_pages[i].topic, prefix,
				strlen(prefix)) == 0)
				slash_push(
				    &v, &n, xstrdup(slash_man_pages[i].topic));
	}
	slash_words_free(words);
done:
	free(prefix);
	qsort(v, n, sizeof(*v), slash_cmp);
	return v;
}
