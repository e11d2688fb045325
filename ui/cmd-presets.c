/*
 * cmd-presets: "vkchat presets ..." manages named generation settings.
 * The built-ins (from params.c) are listed first and flagged; they can be
 * shown, exported and copied, never changed or deleted.  Export and
 * import use the preset text format of vkchat-presets(5) (params_format
 * and params_parse_text) with one extra: a "# description: TEXT" comment
 * carries the description across.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-store.h"
#include "cmd.h"
#include "json.h"
#include "params.h"
#include "storage/db-presets.h"
#include "storage/db.h"

#define CMD_PRESETS_DESC "# description: "

static void
cmd_presets_usage(FILE *f)
{
	fprintf(f,
	    "usage: vkchat presets list [--json]\n"
	    "       vkchat presets show NAME [--json]\n"
	    "       vkchat presets add NAME [--from PRESET] [--description "
	    "TEXT] [KEY=VALUE...]\n"
	    "       vkchat presets set NAME [--description TEXT] "
	    "[KEY=VALUE...]\n"
	    "       vkchat presets copy FROM TO\n"
	    "       vkchat presets delete NAME\n"
	    "       vkchat presets export NAME [-o FILE]\n"
	    "       vkchat presets import FILE [NAME] [--force] "
	    "[--description TEXT]\n"
	    "\n"
	    "Named generation settings.  KEY is any parameter of "
	    "vkchat-presets(5)\n"
	    "(temperature, top_k, top_p, min_p, ..., stop, system); built-in "
	    "presets\n"
	    "cannot be changed or deleted, but can be copied.  Every command "
	    "takes\n"
	    "--db PATH.\n");
}

/* Apply KEY=VALUE arguments to *p; errors name the bad one. */
static int
cmd_presets_apply(struct gen_params *p, char **args, int n, struct err *e)
{
	int i, rc;

	for (i = 0; i < n; i++) {
		char *eq = strchr(args[i], '='), *key;

		if (eq == NULL || eq == args[i])
			return err_set(e, ERR_USAGE,
			    "'%s': expected KEY=VALUE (for example "
			    "temperature=0.7)",
			    args[i]);
		key = xstrndup(args[i], (size_t)(eq - args[i]));
		rc = params_set_typed(p, key, eq + 1, e);
		free(key);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The export text of preset P. */
static void
cmd_presets_text(const struct db_preset *p, struct sbuf *out)
{
	const char *nl;
	const char *d = p->description;

	sbuf_addf(out, "# vkchat preset '%s'%s\n", p->name,
	    p->builtin ? " (built-in)" : "");
	if (*d != '\0') {
		nl = strchr(d, '\n');
		sbuf_adds(out, CMD_PRESETS_DESC);
		sbuf_add(out, d, nl != NULL ? (size_t)(nl - d) : strlen(d));
		sbuf_addc(out, '\n');
	}
	params_format(&p->params, out);
}

static void
cmd_presets_json_one(struct json_writer *w, const struct db_preset *p)
{
	json_obj_begin(w);
	json_key(w, "name");
	json_str(w, p->name);
	json_key(w, "builtin");
	json_bool(w, p->builtin);
	json_key(w, "description");
	json_str(w, p->description);
	json_key(w, "params");
	params_to_json(&p->params, w);
	json_key(w, "created_ms");
	json_int(w, p->created_ms);
	json_key(w, "updated_ms");
	json_int(w, p->updated_ms);
	json_end(w);
}

static int
cmd_presets_list(int argc, char **argv)
{
	const char *db_opt = NULL;
	int json = 0, npos, rc, width;
	const struct cmd_store_opt opts[] = {
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db_preset *list;
	struct json_writer w;
	struct sbuf sb, line, text;
	struct db *db;
	struct err e;
	char **pos;
	size_t n, i;

	if ((rc = cmd_store_args("presets list", argc, argv, opts, 0, 0,
		 cmd_presets_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	free(pos);
	if ((db = cmd_store_open(db_opt)) == NULL)
		return EXIT_USAGE;
	rc = db_presets_list(db, &list, &n, &e);
	db_close(db);
	if (rc != 0)
		return cmd_store_fail(&e);
	sbuf_init(&sb);
	if (json) {
		json_writer_init(&w, &sb, 1);
		json_arr_begin(&w);
		for (i = 0; i < n; i++)
			cmd_presets_json_one(&w, &list[i]);
		json_end(&w);
		fputs(sb.buf, stdout);
		sbuf_release(&sb);
		db_presets_free(list, n);
		return EXIT_OK;
	}
	width = cmd_store_width();
	sbuf_init(&line);
	sbuf_init(&text);
	printf("%-16s  %-8s  %s\n", "NAME", "KIND", "DESCRIPTION: SETTINGS");
	for (i = 0; i < n; i++) {
		sbuf_reset(&line);
		sbuf_reset(&text);
		sbuf_reset(&sb);
		sbuf_addf(&line, "%-16s  %-8s  ", list[i].name,
		    list[i].builtin ? "built-in" : "user");
		sbuf_adds(&text, list[i].description);
		if (params_diff(&list[i].params, NULL, " ", &sb) > 0) {
			sbuf_adds(
			    &text, *list[i].description != '\0' ? ": " : "");
			sbuf_add(&text, sb.buf, sb.len);
		}
		sbuf_reset(&sb);
		cmd_store_safe(&sb, text.buf, 0);
		cmd_store_row(line.buf, sb.buf, width);
	}
	sbuf_release(&line);
	sbuf_release(&text);
	sbuf_release(&sb);
	db_presets_free(list, n);
	return EXIT_OK;
}

/* show and export: the preset NAME as text or JSON. */
static int
cmd_presets_show_or_export(const char *cmd, int argc, char **argv)
{
	const char *db_opt = NULL, *output = NULL;
	int json = 0, npos, rc, export = strcmp(cmd, "presets export") == 0;
	const struct cmd_store_opt show_opts[] = {
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	const struct cmd_store_opt export_opts[] = {
		{ "output", 'o', &output, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_writer w;
	struct db_preset p;
	struct sbuf sb;
	struct db *db;
	struct err e;
	char **pos;

	if ((rc = cmd_store_args(cmd, argc, argv,
		 export ? export_opts : show_opts, 1, 1, cmd_presets_usage,
		 &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_presets_get(db, pos[0], &p, &e);
	db_close(db);
	free(pos);
	if (rc != 0) {
		db_presets_release(&p);
		return cmd_store_fail(&e);
	}
	sbuf_init(&sb);
	if (json) {
		json_writer_init(&w, &sb, 1);
		cmd_presets_json_one(&w, &p);
	} else {
		cmd_presets_text(&p, &sb);
	}
	rc = cmd_store_output(output, sb.buf, sb.len);
	sbuf_release(&sb);
	db_presets_release(&p);
	return rc == 0 ? EXIT_OK : EXIT_USAGE;
}

static int
cmd_presets_show(int argc, char **argv)
{
	return cmd_presets_show_or_export("presets show", argc, argv);
}

static int
cmd_presets_export(int argc, char **argv)
{
	return cmd_presets_show_or_export("presets export", argc, argv);
}

/* add and set: a new preset, or changes to a stored one. */
static int
cmd_presets_add_or_set(const char *cmd, int argc, char **argv)
{
	const char *db_opt = NULL, *from = NULL, *desc = NULL;
	int npos, rc, add = strcmp(cmd, "presets add") == 0;
	const struct cmd_store_opt add_opts[] = {
		{ "from", 0, &from, NULL },
		{ "description", 0, &desc, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct cmd_store_opt set_opts[] = {
		{ "description", 0, &desc, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct db_preset base;
	struct db *db;
	struct err e;
	char **pos;

	if ((rc = cmd_store_args(cmd, argc, argv, add ? add_opts : set_opts, 1,
		 argc, cmd_presets_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (!add && npos == 1 && desc == NULL) {
		cmd_error("%s: nothing to change (give KEY=VALUE or "
			  "--description)",
		    cmd);
		free(pos);
		return EXIT_USAGE;
	}
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	memset(&base, 0, sizeof base);
	if (add && from == NULL) {
		params_init(&base.params);
		rc = 0;
	} else {
		rc = db_presets_get(db, add ? from : pos[0], &base, &e);
	}
	if (rc == 0)
		rc = cmd_presets_apply(&base.params, pos + 1, npos - 1, &e);
	if (rc == 0 && add)
		rc = db_presets_add(db, pos[0], desc, &base.params, &e);
	else if (rc == 0)
		rc = db_presets_update(db, pos[0], desc, &base.params, &e);
	db_close(db);
	free(pos);
	db_presets_release(&base);
	return rc == 0 ? EXIT_OK : cmd_store_fail(&e);
}

static int
cmd_presets_add(int argc, char **argv)
{
	return cmd_presets_add_or_set("presets add", argc, argv);
}

static int
cmd_presets_set(int argc, char **argv)
{
	return cmd_presets_add_or_set("presets set", argc, argv);
}

static int
cmd_presets_copy(int argc, char **argv)
{
	const char *db_opt = NULL;
	struct db *db;
	struct err e;
	char **pos;
	int npos, rc;

	if ((rc = cmd_store_args("presets copy", argc, argv, NULL, 2, 2,
		 cmd_presets_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_presets_copy(db, pos[0], pos[1], &e);
	db_close(db);
	free(pos);
	return rc == 0 ? EXIT_OK : cmd_store_fail(&e);
}

static int
cmd_presets_delete(int argc, char **argv)
{
	const char *db_opt = NULL;
	struct db *db;
	struct err e;
	char **pos;
	int npos, rc;

	if ((rc = cmd_store_args("presets delete", argc, argv, NULL, 1, 1,
		 cmd_presets_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((db = cmd_store_open(db_opt)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_presets_delete(db, pos[0], &e);
	db_close(db);
	free(pos);
	return rc == 0 ? EXIT_OK : cmd_store_fail(&e);
}

/* The preset name for FILE: its base name without the extension. */
static char *
cmd_presets_name_of(const char *file)
{
	const char *base = strrchr(file, '/'), *dot;

	base = base != NULL ? base + 1 : file;
	dot = strrchr(base, '.');
	return dot != NULL && dot != base ? xstrndup(base, (size_t)(dot - base))
					  : xstrdup(base);
}

/* The "# description: " line of TEXT, newly allocated, or NULL. */
static char *
cmd_presets_desc_of(const char *text)
{
	const char *s = text, *eol;

	while (*s != '\0') {
		eol = strchr(s, '\n');
		if (eol == NULL)
			eol = s + strlen(s);
		if (strncmp(s, CMD_PRESETS_DESC, strlen(CMD_PRESETS_DESC)) ==
		    0) {
			s += strlen(CMD_PRESETS_DESC);
			while (eol > s && (eol[-1] == '\r' || eol[-1] == ' '))
				eol--;
			return xstrndup(s, (size_t)(eol - s));
		}
		s = *eol != '\0' ? eol + 1 : eol;
	}
	return NULL;
}

static int
cmd_presets_import(int argc, char **argv)
{
	const char *db_opt = NULL, *desc_opt = NULL;
	int force = 0, npos, rc;
	const struct cmd_store_opt opts[] = {
		{ "force", 'f', NULL, &force },
		{ "description", 0, &desc_opt, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct gen_params p;
	struct db_preset old;
	char **pos, *text, *name, *desc;
	const char *source;
	struct db *db = NULL;
	struct err e;
	size_t len;
	int exists = 0;

	if ((rc = cmd_store_args("presets import", argc, argv, opts, 1, 2,
		 cmd_presets_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (npos == 1 && strcmp(pos[0], "-") == 0) {
		cmd_error("presets import: give a NAME when reading standard "
			  "input");
		free(pos);
		return EXIT_USAGE;
	}
	if ((text = cmd_store_input(pos[0], &len)) == NULL) {
		free(pos);
		return EXIT_USAGE;
	}
	source = strcmp(pos[0], "-") == 0 ? "standard input" : pos[0];
	/* an empty file (or /dev/null) is no preset at all */
	if (text[strspn(text, " \t\r\n")] == '\0') {
		cmd_error("presets import: '%s' is empty: no settings to "
			  "import (vkchat-presets(5) has the format)",
		    source);
		free(text);
		free(pos);
		return EXIT_USAGE;
	}
	name = npos == 2 ? xstrdup(pos[1]) : cmd_presets_name_of(pos[0]);
	desc = desc_opt != NULL ? xstrdup(desc_opt) : cmd_presets_desc_of(text);
	free(pos);
	params_init(&p);
	if ((rc = params_parse_text(&p, text, source, &e)) == 0)
		rc = db_name_check("preset", name, &e);
	free(text);
	if (rc == 0 && (db = cmd_store_open(db_opt)) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (rc == 0) {
		if (db_presets_get(db, name, &old, NULL) == 0)
			exists = old.builtin ? 2 : 1;
		db_presets_release(&old);
		if (exists == 2)
			rc = err_set(&e, ERR_EXISTS,
			    "'%s' is a built-in preset; import under another "
			    "name",
			    name);
		else if (exists && !force)
			rc = err_set(&e, ERR_EXISTS,
			    "a preset '%s' already exists (--force replaces "
			    "it)",
			    name);
		else if (exists)
			rc = db_presets_update(db, name, desc, &p, &e);
		else
			rc = db_presets_add(db, name, desc, &p, &e);
	}
	if (rc != 0) {
		rc = cmd_store_fail(&e);
		goto out;
	}
	printf("imported preset '%s'\n", name);
	rc = EXIT_OK;
out:
	db_close(db);
	params_release(&p);
	free(desc);
	free(name);
	return rc;
}

int
cmd_presets(int argc, char **argv)
{
	static const struct cmd_store_sub subs[] = {
		{ "list", cmd_presets_list },
		{ "show", cmd_presets_show },
		{ "add", cmd_presets_add },
		{ "set", cmd_presets_set },
		{ "copy", cmd_presets_copy },
		{ "delete", cmd_presets_delete },
		{ "export", cmd_presets_export },
		{ "import", cmd_presets_import },
		{ NULL, NULL },
	};

	return cmd_store_dispatch(
	    "presets", subs, cmd_presets_usage, argc, argv);
}
