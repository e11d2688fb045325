/*
 * db-templates: the templates table and the {{placeholder}} renderer.
 * The renderer is a pure function of the body and the variables, so the
 * TUI can preview with it; it checks everything before writing anything
 * and names every missing and every unknown variable at once.
 */
#include "db-templates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-int.h"

void
db_templates_release(struct db_template *t)
{
	free(t->name);
	free(t->body);
	free(t->description);
	free(t->preset);
	free(t->system_prompt);
	memset(t, 0, sizeof *t);
}

void
db_templates_free(struct db_template *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		db_templates_release(&list[i]);
	free(list);
}

#define DB_TEMPLATES_COLS \
	"name, body, description, preset, system_prompt, created_ms, " \
	"updated_ms"

static void
db_templates_read(sqlite3_stmt *st, struct db_template *t)
{
	t->name = db_col_str(st, 0);
	t->body = db_col_str(st, 1);
	t->description = db_col_str(st, 2);
	t->preset = db_col_text(st, 3);
	t->system_prompt = db_col_text(st, 4);
	t->created_ms = sqlite3_column_int64(st, 5);
	t->updated_ms = sqlite3_column_int64(st, 6);
}

int
db_templates_list(
    struct db *db, struct db_template **out, size_t *n, struct err *err)
{
	struct db_template *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db,
		 "SELECT " DB_TEMPLATES_COLS " FROM templates ORDER BY name",
		 &st, err)) != 0)
		return rc;
	while ((rc = db_step(db, st, "listing templates", err)) > 0) {
		list = xreallocarray(list, len + 1, sizeof *list);
		memset(&list[len], 0, sizeof *list);
		db_templates_read(st, &list[len++]);
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		db_templates_free(list, len);
		return rc;
	}
	*out = list;
	*n = len;
	return 0;
}

int
db_templates_get(
    struct db *db, const char *name, struct db_template *out, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = db_prepare(db,
		 "SELECT " DB_TEMPLATES_COLS " FROM templates WHERE name = ?",
		 &st, err)) != 0)
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(db, st, "reading a template", err);
	if (rc == 0)
		rc = err_set(err, ERR_NOTFOUND,
		    "no template '%s' (see 'vkchat templates list')", name);
	else if (rc > 0) {
		db_templates_read(st, out);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Insert (UPDATE false) or replace T. */
static int
db_templates_write(
    struct db *db, const struct db_template *t, int update, struct err *err)
{
	int64_t now = util_wall_ms();
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_name_check("template", t->name, err)) != 0)
		return rc;
	if (t->body == NULL || *t->body == '\0')
		return err_set(
		    err, ERR_USAGE, "template '%s': empty body", t->name);
	if ((rc = db_prepare(db,
		 update ? "UPDATE templates SET body = ?2, description = ?3, "
			  "preset = ?4, system_prompt = ?5, updated_ms = ?6 "
			  "WHERE name = ?1"
			: "INSERT INTO templates (name, body, description, "
			  "preset, system_prompt, created_ms, updated_ms) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
		 &st, err)) != 0)
		return rc;
	db_bind_text(st, 1, t->name);
	db_bind_text(st, 2, t->body);
	db_bind_text(st, 3, t->description != NULL ? t->description : "");
	db_bind_text(
	    st, 4, t->preset != NULL && *t->preset != '\0' ? t->preset : NULL);
	db_bind_text(st, 5,
	    t->system_prompt != NULL && *t->system_prompt != '\0'
		? t->system_prompt
		: NULL);
	sqlite3_bind_int64(st, 6, now);
	rc = db_step(db, st,
	    update ? "changing a template"
		   : "adding a "
		     "template",
	    err);
	if (rc < 0 &&
	    sqlite3_extended_errcode(db->sq) == SQLITE_CONSTRAINT_UNIQUE)
		rc = err_set(
		    err, ERR_EXISTS, "a template '%s' already exists", t->name);
	sqlite3_finalize(st);
	if (rc < 0)
		return rc;
	if (update && sqlite3_changes(db->sq) == 0)
		return err_set(err, ERR_NOTFOUND, "no template '%s'", t->name);
	return 0;
}

int
db_templates_add(struct db *db, const struct db_template *t, struct err *err)
{
	return db_templates_write(db, t, 0, err);
}

int
db_templates_update(struct db *db, const struct db_template *t, struct err *err)
{
	return db_templates_write(db, t, 1, err);
}

int
db_templates_delete(struct db *db, const char *name, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(
		 db, "DELETE FROM templates WHERE name = ?", &st, err)) != 0)
		return rc;
	db_bind_text(st, 1, name);
	if ((rc = db_write(db, st, "deleting a template", err)) == 0)
		return err_set(err, ERR_NOTFOUND, "no template '%s'", name);
	return rc < 0 ? rc : 0;
}

/*
 * If S starts a placeholder, set *name and *name_len to its name and
 * return its total length; else 0.
 */
static size_t
db_templates_placeholder(const char *s, const char **name, size_t *name_len)
{
	const char *p = s + 2, *n;

	if (s[0] != '{' || s[1] != '{')
		return 0;
	while (*p == ' ')
		p++;
	n = p;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		*p == '_'))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
		p++;
	*name = n;
	*name_len = (size_t)(p - n);
	while (*p == ' ')
		p++;
	if (p[0] != '}' || p[1] != '}')
		return 0;
	return (size_t)(p + 2 - s);
}

void
db_templates_vars(const char *body, char ***names, size_t *n)
{
	const char *s = body, *name;
	size_t len, nl, i;

	*names = NULL;
	*n = 0;
	while (*s != '\0') {
		if ((len = db_templates_placeholder(s, &name, &nl)) == 0) {
			s++;
			continue;
		}
		for (i = 0; i < *n; i++)
			if (strlen((*names)[i]) == nl &&
			    memcmp((*names)[i], name, nl) == 0)
				break;
		if (i == *n) {
			*names = xreallocarray(*names, *n + 1, sizeof **names);
			(*names)[(*n)++] = xstrndup(name, nl);
		}
		s += len;
	}
}

/* The value of variable NAME (NL bytes) in VARS, or NULL. */
static const char *
db_templates_value(
    const struct db_template_var *vars, size_t n, const char *name, size_t nl)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(vars[i].name) == nl &&
		    memcmp(vars[i].name, name, nl) == 0)
			return vars[i].value;
	return NULL;
}

/* Append "'a', 'b'" for LIST to SB. */
static void
db_templates_names(struct sbuf *sb, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sbuf_addf(sb, "%s'%s'", i > 0 ? ", " : "", list[i]);
}

int
db_templates_render(const char *name, const char *body,
    const struct db_template_var *vars, size_t n, struct sbuf *out,
    struct err *err)
{
	const char **missing = NULL, **unknown = NULL;
	size_t n_missing = 0, n_unknown = 0, n_names, i, j, len, nl;
	const char *s, *pn;
	struct sbuf msg;
	char **names;
	int rc = 0;

	db_templates_vars(body, &names, &n_names);
	for (i = 0; i < n_names; i++) {
		if (db_templates_value(vars, n, names[i], strlen(names[i])) !=
		    NULL)
			continue;
		missing =
		    xreallocarray(missing, n_missing + 1, sizeof *missing);
		missing[n_missing++] = names[i];
	}
	for (i = 0; i < n; i++) {
		int used = 0, twice = 0;

		for (j = 0; j < n_names; j++)
			used |= strcmp(names[j], vars[i].name) == 0;
		for (j = 0; j < i; j++)
			twice |= strcmp(vars[j].name, vars[i].name) == 0;
		if (used && !twice)
			continue;
		unknown =
		    xreallocarray(unknown, n_unknown + 1, sizeof *unknown);
		unknown[n_unknown++] = vars[i].name;
	}
	if (n_missing > 0 || n_unknown > 0) {
		sbuf_init(&msg);
		sbuf_addf(&msg, "template '%s': ", name);
		if (n_missing > 0) {
			sbuf_adds(&msg,
			    n_missing > 1 ? "missing variables "
					  : "missing variable ");
			db_templates_names(&msg, missing, n_missing);
			sbuf_adds(&msg, " (give NAME=VALUE");
			for (i = 0; i < n_missing; i++)
				if (strcmp(missing[i], "input") == 0)
					sbuf_adds(&msg,
					    "; input also comes "
					    "from standard input");
			sbuf_adds(&msg, ")");
		}
		if (n_unknown > 0) {
			sbuf_adds(&msg, n_missing > 0 ? "; " : "");
			sbuf_adds(&msg, "unknown or repeated ");
			db_templates_names(&msg, unknown, n_unknown);
			sbuf_adds(&msg, " (its variables: ");
			if (n_names == 0)
				sbuf_adds(&msg, "none");
			db_templates_names(
			    &msg, (const char *const *)names, n_names);
			sbuf_adds(&msg, ")");
		}
		rc = err_set(err, ERR_USAGE, "%s", msg.buf);
		sbuf_release(&msg);
		goto out;
	}
	for (s = body; *s != '\0';) {
		if ((len = db_templates_placeholder(s, &pn, &nl)) == 0) {
			sbuf_addc(out, *s++);
			continue;
		}
		sbuf_adds(out, db_templates_value(vars, n, pn, nl));
		s += len;
	}
out:
	for (i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	free(missing);
	free(unknown);
	return rc;
}
