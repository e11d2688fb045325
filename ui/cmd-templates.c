/*
 * cmd-templates: "vkchat templates ..." manages prompt templates and
 * renders them.  "show" prints, and "edit" hands $VISUAL or $EDITOR, a
 * form: "field: value" lines (description, preset, system; '#' lines are
 * comments), an empty line, then the body verbatim.  A form that does
 * not parse is kept on disk and its path printed, so no edit is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd-store.h"
#include "cmd.h"
#include "json.h"
#include "storage/db-presets.h"
#include "storage/db-templates.h"
#include "storage/db.h"

static void
cmd_templates_usage(FILE *f)
{
	fprintf(f,
	    "usage: vkchat templates list [--json]\n"
	    "       vkchat templates show NAME [--json]\n"
	    "       vkchat templates add NAME [--description TEXT] [--preset "
	    "PRESET]\n"
	    "                            [--system TEXT] [--body TEXT | "
	    "--file FILE]\n"
	    "       vkchat templates edit NAME\n"
	    "       vkchat templates delete NAME\n"
	    "       vkchat templates render NAME [VAR=VALUE...] [--json]\n"
	    "\n"
	    "Prompt templates: a body with {{variable}} placeholders; "
	    "{{input}} is\n"
	    "filled from standard input.  'add' reads the body from --body, "
	    "--file\n"
	    "(- for standard input) or standard input; 'edit' opens $VISUAL "
	    "or\n"
	    "$EDITOR (creating the template if it is new).  Every command "
	    "takes\n"
	    "--db PATH.\n");
}

/* Refuse a PRESET that does not exist (NULL or "" is fine). */
static int
cmd_templates_check_preset(struct db *db, const char *preset, struct err *e)
{
	struct db_preset p;
	int rc;

	if (preset == NULL || *preset == '\0')
		return 0;
	rc = db_presets_get(db, preset, &p, e);
	db_presets_release(&p);
	return rc;
}

static void
cmd_templates_vars_line(struct sbuf *out, const char *body)
{
	char **names;
	size_t n, i;

	db_templates_vars(body, &names, &n);
	for (i = 0; i < n; i++) {
		sbuf_addf(out, "%s%s", i > 0 ? " " : "", names[i]);
		free(names[i]);
	}
	free(names);
}

static void
cmd_templates_json_one(struct json_writer *w, const struct db_template *t)
{
	char **names;
	size_t n, i;

	json_obj_begin(w);
	json_key(w, "name");
	json_str(w, t->name);
	json_key(w, "description");
	json_str(w, t->description);
	json_key(w, "preset");
	json_str(w, t->preset);
	json_key(w, "system_prompt");
	json_str(w, t->system_prompt);
	json_key(w, "body");
	json_str(w, t->body);
	json_key(w, "variables");
	json_arr_begin(w);
	db_templates_vars(t->body, &names, &n);
	for (i = 0; i < n; i++) {
		json_str(w, names[i]);
		free(names[i]);
	}
	free(names);
	json_end(w);
	json_key(w, "created_ms");
	json_int(w, t->created_ms);
	json_key(w, "updated_ms");
	json_int(w, t->updated_ms);
	json_end(w);
}

static int
cmd_templates_list(int argc, char **argv)
{
	const char *db_opt = NULL;
	int json = 0, npos, rc, width;
	const struct cmd_store_opt opts[] = {
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db_template *list;
	struct json_writer w;
	struct sbuf sb, line, text;
	struct db *db;
	struct err e;
	char **pos;
	size_t n, i;

	if ((rc = cmd_store_args("templates list", argc, argv, opts, 0, 0,
		 cmd_templates_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	free(pos);
	if ((db = cmd_store_open(db_opt)) == NULL)
		return EXIT_USAGE;
	rc = db_templates_list(db, &list, &n, &e);
	db_close(db);
	if (rc != 0)
		return cmd_store_fail(&e);
	sbuf_init(&sb);
	if (json) {
		json_writer_init(&w, &sb, 1);
		json_arr_begin(&w);
		for (i = 0; i < n; i++)
			cmd_templates_json_one(&w, &list[i]);
		json_end(&w);
		fputs(sb.buf, stdout);
	} else if (n == 0) {
		puts("no templates yet ('vkchat templates add NAME' makes "
		     "one)");
	} else {
		width = cmd_store_width();
		sbuf_init(&line);
		sbuf_init(&text);
		printf("%-16s  %s\n", "NAME", "DESCRIPTION [VARIABLES]");
		for (i = 0; i < n; i++) {
			sbuf_reset(&line);
			sbuf_reset(&text);
			sbuf_reset(&sb);
			sbuf_addf(&line, "%-16s  ", list[i].name);
			cmd_store_safe(&text, list[i].description, 0);
			sbuf_adds(&text, " [");
			cmd_templates_vars_line(&sb, list[i].body);
			cmd_store_safe(&text, sb.buf, 0);
			sbuf_adds(&text, "]");
			cmd_store_row(line.buf, text.buf, width);
		}
		sbuf_release(&line);
		sbuf_release(&text);
	}
	sbuf_release(&sb);
	db_templates_free(list, n);
	return EXIT_OK;
}

/* Append a form field: "KEY: VALUE" with \ and newlines escaped. */
static void
cmd_templates_field(struct sbuf *out, const char *key, const char *value)
{
	const char *s;

	sbuf_addf(out, "%s: ", key);
	for (s = value != NULL ? value : ""; *s != '\0'; s++) {
		if (*s == '\\')
			sbuf_adds(out, "\\\\");
		else if (*s == '\n')
			sbuf_adds(out, "\\n");
		else
			sbuf_addc(out, *s);
	}
	sbuf_addc(out, '\n');
}

/* The editable form of T (which may be empty but for its name). */
static void
cmd_templates_form(const struct db_template *t, struct sbuf *out)
{
	sbuf_addf(out,
	    "# vkchat template '%s'.  Fields first (description, preset, "
	    "system;\n"
	    "# \\n is a newline), then one empty line, then the body: "
	    "{{name}}\n"
	    "# placeholders, {{input}} for standard input.\n",
	    t->name);
	cmd_templates_field(out, "description", t->description);
	cmd_templates_field(out, "preset", t->preset);
	cmd_templates_field(out, "system", t->system_prompt);
	sbuf_addc(out, '\n');
	if (t->body != NULL) {
		sbuf_adds(out, t->body);
		if (t->body[0] != '\0' && t->body[strlen(t->body) - 1] != '\n')
			sbuf_addc(out, '\n');
	}
}

/* A new string with cmd_templates_field's escapes undone; NULL if empty. */
static char *
cmd_templates_unescape(const char *s, size_t len)
{
	char *out;
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len &&
		    (s[i + 1] == 'n' || s[i + 1] == '\\')) {
			sbuf_addc(&sb, s[i + 1] == 'n' ? '\n' : '\\');
			i++;
		} else {
			sbuf_addc(&sb, s[i]);
		}
	}
	if (sb.len == 0) {
		sbuf_release(&sb);
		return NULL;
	}
	out = sbuf_detach(&sb);
	sbuf_release(&sb);
	return out;
}

/*
 * Read a form (TEXT, from SOURCE) into *t, whose name is kept.  The body
 * loses one final newline (editors add it).
 */
static int
cmd_templates_parse(
    const char *text, const char *source, struct db_template *t, struct err *e)
{
	const char *s = text, *eol, *colon, *v;
	size_t len;
	int line = 1;

	free(t->description);
	free(t->preset);
	free(t->system_prompt);
	free(t->body);
	t->description = t->preset = t->system_prompt = t->body = NULL;
	for (;; line++) {
		eol = strchr(s, '\n');
		if (eol == NULL)
			eol = s + strlen(s);
		len = (size_t)(eol - s);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len == 0 && *eol == '\0')
			return err_set(e, ERR_FORMAT,
			    "%s: no empty line before the body", source);
		if (len == 0)
			break;
		if (*s != '#') {
			colon = memchr(s, ':', len);
			if (colon == NULL)
				return err_set(e, ERR_FORMAT,
				    "%s: line %d: expected 'field: value' "
				    "(or an empty line before the body)",
				    source, line);
			v = colon + 1;
			while (v < s + len && *v == ' ')
				v++;
			if ((size_t)(colon - s) == 11 &&
			    memcmp(s, "description", 11) == 0) {
				free(t->description);
				t->description = cmd_templates_unescape(
				    v, (size_t)(s + len - v));
			} else if ((size_t)(colon - s) == 6 &&
			    memcmp(s, "preset", 6) == 0) {
				free(t->preset);
				t->preset = cmd_templates_unescape(
				    v, (size_t)(s + len - v));
			} else if ((size_t)(colon - s) == 6 &&
			    memcmp(s, "system", 6) == 0) {
				free(t->system_prompt);
				t->system_prompt = cmd_templates_unescape(
				    v, (size_t)(s + len - v));
			} else {
				return err_set(e, ERR_FORMAT,
				    "%s: line %d: unknown field '%.*s' "
				    "(description, "
				    "preset or system)",
				    source, line, (int)(colon - s), s);
			}
		}
		s = eol + 1;
	}
	s = eol + 1;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len == 0)
		return err_set(e, ERR_FORMAT, "%s: the body is empty", source);
	t->body = xstrndup(s, len);
	if (t->description == NULL)
		t->description = xstrdup("");
	return 0;
}

static int
cmd_templates_show(int argc, char **argv)
{
	const char *db_opt = NULL;
	int json = 0, npos, rc;
	const struct cmd_store_opt opts[] = {
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db_template t;
	struct json_writer w;
	struct sbuf sb;
	struct db *db;
	struct err e;
	char **pos;

	if ((rc = cmd_store_args("templates show", argc, argv, opts, 1, 1,
		 cmd_templates_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_templates_get(db, pos[0], &t, &e);
	db_close(db);
	free(pos);
	if (rc != 0)
		return cmd_store_fail(&e);
	sbuf_init(&sb);
	if (json) {
		json_writer_init(&w, &sb, 1);
		cmd_templates_json_one(&w, &t);
		fputs(sb.buf, stdout);
	} else {
		struct sbuf safe;

		cmd_templates_form(&t, &sb);
		sbuf_init(&safe);
		cmd_store_safe(&safe, sb.buf, 1);
		fputs(safe.buf, stdout);
		sbuf_release(&safe);
	}
	sbuf_release(&sb);
	db_templates_release(&t);
	return EXIT_OK;
}

static int
cmd_templates_add(int argc, char **argv)
{
	const char *db_opt = NULL, *desc = NULL, *preset = NULL;
	const char *system = NULL, *body = NULL, *file = NULL;
	int npos, rc;
	const struct cmd_store_opt opts[] = {
		{ "description", 0, &desc, NULL },
		{ "preset", 0, &preset, NULL },
		{ "system", 0, &system, NULL },
		{ "body", 0, &body, NULL },
		{ "file", 0, &file, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct db_template t;
	struct db *db;
	struct err e;
	char **pos, *text = NULL;
	size_t len;

	if ((rc = cmd_store_args("templates add", argc, argv, opts, 1, 1,
		 cmd_templates_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (body != NULL && file != NULL) {
		cmd_error("templates add: give --body or --file, not both");
		free(pos);
		return EXIT_USAGE;
	}
	if (body == NULL && file == NULL) {
		if (isatty(STDIN_FILENO)) {
			cmd_error("templates add: give the body with --body, "
				  "--file or on standard input (or use "
				  "'vkchat templates edit %s')",
			    pos[0]);
			free(pos);
			return EXIT_USAGE;
		}
		file = "-";
	}
	if (file != NULL && (text = cmd_store_input(file, &len)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(text);
		free(pos);
		return EXIT_USAGE;
	}
	memset(&t, 0, sizeof t);
	t.name = pos[0];
	t.body = text != NULL ? text : (char *)body;
	t.description = (char *)desc;
	t.preset = (char *)preset;
	t.system_prompt = (char *)system;
	rc = cmd_templates_check_preset(db, preset, &e);
	if (rc == 0)
		rc = db_templates_add(db, &t, &e);
	db_close(db);
	free(text);
	free(pos);
	return rc == 0 ? EXIT_OK : cmd_store_fail(&e);
}

/* Run the user's editor on PATH; 0 when it exits successfully. */
static int
cmd_templates_editor(const char *path)
{
	const char *editor = getenv("VISUAL");
	pid_t pid;
	int status;

	if (editor == NULL || *editor == '\0')
		editor = getenv("EDITOR");
	if (editor == NULL || *editor == '\0')
		editor = "vi";
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		cmd_error("cannot start the editor: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Through the shell, so EDITOR may carry arguments. */
		execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", editor, path,
		    (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cmd_error("the editor '%s' failed (status %d)", editor,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

static int
cmd_templates_edit(int argc, char **argv)
{
	const char *db_opt = NULL, *tmpdir = getenv("TMPDIR");
	int npos, rc, fd, exists;
	struct db_template t;
	struct sbuf form;
	struct db *db;
	struct err e;
	char **pos, *path, *text = NULL;
	size_t len;

	if ((rc = cmd_store_args("templates edit", argc, argv, NULL, 1, 1,
		 cmd_templates_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((rc = db_name_check("template", pos[0], &e)) != 0) {
		free(pos);
		return cmd_store_fail(&e);
	}
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_templates_get(db, pos[0], &t, &e);
	exists = rc == 0;
	if (rc == ERR_NOTFOUND) {
		t.name = xstrdup(pos[0]);
		rc = 0;
	}
	free(pos);
	if (rc != 0) {
		db_close(db);
		return cmd_store_fail(&e);
	}
	path = xasprintf("%s/vkchat-template-XXXXXX.txt",
	    tmpdir != NULL && *tmpdir != '\0' ? tmpdir : "/tmp");
	sbuf_init(&form);
	cmd_templates_form(&t, &form);
	fd = mkstemps(path, 4);
	if (fd < 0 || write(fd, form.buf, form.len) != (ssize_t)form.len ||
	    close(fd) != 0) {
		cmd_error("cannot write '%s': %s", path, strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	if (cmd_templates_editor(path) != 0) {
		cmd_error("template '%s' not changed", t.name);
		unlink(path);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((text = cmd_store_input(path, &len)) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (strcmp(text, form.buf) == 0) {
		fprintf(stderr, "no changes\n");
		unlink(path);
		rc = EXIT_OK;
		goto out;
	}
	rc = cmd_templates_parse(text, path, &t, &e);
	if (rc == 0)
		rc = cmd_templates_check_preset(db, t.preset, &e);
	if (rc == 0)
		rc = exists ? db_templates_update(db, &t, &e)
			    : db_templates_add(db, &t, &e);
	if (rc != 0) {
		cmd_store_fail(&e);
		cmd_error("your text is kept in '%s'", path);
		rc = EXIT_USAGE;
		goto out;
	}
	unlink(path);
	printf("%s template '%s'\n", exists ? "saved" : "created", t.name);
	rc = EXIT_OK;
out:
	free(text);
	free(path);
	sbuf_release(&form);
	db_templates_release(&t);
	db_close(db);
	return rc;
}

static int
cmd_templates_delete(int argc, char **argv)
{
	const char *db_opt = NULL;
	struct db *db;
	struct err e;
	char **pos;
	int npos, rc;

	if ((rc = cmd_store_args("templates delete", argc, argv, NULL, 1, 1,
		 cmd_templates_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_templates_delete(db, pos[0], &e);
	db_close(db);
	free(pos);
	return rc == 0 ? EXIT_OK : cmd_store_fail(&e);
}

static int
cmd_templates_render(int argc, char **argv)
{
	const char *db_opt = NULL;
	int json = 0, npos, rc, i, uses_input = 0, has_input = 0;
	const struct cmd_store_opt opts[] = {
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db_template_var *vars;
	struct db_template t;
	struct json_writer w;
	struct sbuf out, js;
	struct db *db;
	struct err e;
	char **pos, *input = NULL, **names;
	size_t n = 0, nn, j, len;

	if ((rc = cmd_store_args("templates render", argc, argv, opts, 1, argc,
		 cmd_templates_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	vars = xcalloc((size_t)npos + 1, sizeof *vars);
	for (i = 1; i < npos; i++) {
		char *eq = strchr(pos[i], '=');

		if (eq == NULL || eq == pos[i]) {
			cmd_error("templates render: '%s': expected "
				  "VARIABLE=VALUE",
			    pos[i]);
			free(vars);
			free(pos);
			return EXIT_USAGE;
		}
		*eq = '\0';
		vars[n].name = pos[i];
		vars[n++].value = eq + 1;
		has_input |= strcmp(pos[i], "input") == 0;
	}
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(vars);
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_templates_get(db, pos[0], &t, &e);
	db_close(db);
	if (rc != 0) {
		free(vars);
		free(pos);
		return cmd_store_fail(&e);
	}
	db_templates_vars(t.body, &names, &nn);
	for (j = 0; j < nn; j++) {
		uses_input |= strcmp(names[j], "input") == 0;
		free(names[j]);
	}
	free(names);
	/* {{input}} comes from standard input unless given or a terminal. */
	if (uses_input && !has_input && !isatty(STDIN_FILENO)) {
		if ((input = cmd_store_input("-", &len)) == NULL) {
			rc = EXIT_USAGE;
			goto out;
		}
		vars[n].name = "input";
		vars[n++].value = input;
	}
	sbuf_init(&out);
	if ((rc = db_templates_render(t.name, t.body, vars, n, &out, &e)) !=
	    0) {
		sbuf_release(&out);
		rc = cmd_store_fail(&e);
		goto out;
	}
	if (json) {
		sbuf_init(&js);
		json_writer_init(&w, &js, 1);
		json_obj_begin(&w);
		json_key(&w, "text");
		json_str(&w, out.buf);
		json_key(&w, "preset");
		json_str(&w, t.preset);
		json_key(&w, "system_prompt");
		json_str(&w, t.system_prompt);
		json_end(&w);
		fputs(js.buf, stdout);
		sbuf_release(&js);
	} else {
		fputs(out.buf, stdout);
		if (isatty(STDOUT_FILENO) && out.len > 0 &&
		    out.buf[out.len - 1] != '\n')
			putchar('\n');
	}
	sbuf_release(&out);
	rc = EXIT_OK;
out:
	free(input);
	free(vars);
	free(pos);
	db_templates_release(&t);
	return rc;
}

int
cmd_templates(int argc, char **argv)
{
	static const struct cmd_store_sub subs[] = {
		{ "list", cmd_templates_list },
		{ "show", cmd_templates_show },
		{ "add", cmd_templates_add },
		{ "edit", cmd_templates_edit },
		{ "delete", cmd_templates_delete },
		{ "render", cmd_templates_render },
		{ NULL, NULL },
	};

	return cmd_store_dispatch(
	    "templates", subs, cmd_templates_usage, argc, argv);
}
