/*
 * db-presets: built-ins answered from params.c, user presets from the
 * presets table.  Name clashes with built-ins are refused here (the table
 * cannot know the built-in names), and the UNIQUE constraint catches a
 * second process adding the same name at the same moment.
 */
#include "db-presets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-int.h"

void
db_presets_release(struct db_preset *p)
{
	free(p->name);
	free(p->description);
	params_release(&p->params);
	memset(p, 0, sizeof *p);
}

void
db_presets_free(struct db_preset *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		db_presets_release(&list[i]);
	free(list);
}

/* Fill *out with built-in preset I. */
static void
db_presets_builtin(size_t i, struct db_preset *out)
{
	memset(out, 0, sizeof *out);
	out->name = xstrdup(params_builtin_name(i));
	out->description = xstrdup(params_builtin_doc(i));
	out->builtin = 1;
	if (params_builtin(out->name, &out->params) != 0)
		params_init(&out->params);
}

/* The index of built-in NAME, or -1. */
static long
db_presets_builtin_index(const char *name)
{
	size_t i;

	for (i = 0; i < params_builtin_count(); i++)
		if (strcmp(params_builtin_name(i), name) == 0)
			return (long)i;
	return -1;
}

/* Read a row (name, description, params_json, created, updated). */
static int
db_presets_read(sqlite3_stmt *st, struct db_preset *p, struct err *err)
{
	char *json = db_col_str(st, 2);
	char where[DB_NAME_MAX + 16];
	int rc;

	memset(p, 0, sizeof *p);
	p->name = db_col_str(st, 0);
	p->description = db_col_str(st, 1);
	p->created_ms = sqlite3_column_int64(st, 3);
	p->updated_ms = sqlite3_column_int64(st, 4);
	snprintf(where, sizeof where, "preset '%s'", p->name);
	rc = db_params_parse(json, where, &p->params, err);
	free(json);
	return rc;
}

int
db_presets_list(
    struct db *db, struct db_preset **out, size_t *n, struct err *err)
{
	size_t nb = params_builtin_count(), len, i;
	struct db_preset *list;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db,
		 "SELECT name, description, params_json, created_ms, "
		 "updated_ms FROM presets ORDER BY name",
		 &st, err)) != 0)
		return rc;
	list = xreallocarray(NULL, nb, sizeof *list);
	for (i = 0; i < nb; i++)
		db_presets_builtin(i, &list[i]);
	len = nb;
	while ((rc = db_step(db, st, "listing presets", err)) > 0) {
		list = xreallocarray(list, len + 1, sizeof *list);
		if ((rc = db_presets_read(st, &list[len++], err)) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		db_presets_free(list, len);
		return rc;
	}
	*out = list;
	*n = len;
	return 0;
}

int
db_presets_get(
    struct db *db, const char *name, struct db_preset *out, struct err *err)
{
	long b = db_presets_builtin_index(name);
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	if (b >= 0) {
		db_presets_builtin((size_t)b, out);
		return 0;
	}
	if ((rc = db_prepare(db,
		 "SELECT name, description, params_json, created_ms, "
		 "updated_ms FROM presets WHERE name = ?",
		 &st, err)) != 0)
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(db, st, "reading a preset", err);
	if (rc == 0)
		rc = err_set(err, ERR_NOTFOUND,
		    "no preset '%s' (see 'vkchat presets list')", name);
	else if (rc > 0)
		rc = db_presets_read(st, out, err);
	sqlite3_finalize(st);
	return rc;
}

int
db_presets_add(struct db *db, const char *name, const char *description,
    const struct gen_params *params, struct err *err)
{
	int64_t now = util_wall_ms();
	sqlite3_stmt *st;
	char *json;
	int rc;

	if ((rc = db_name_check("preset", name, err)) != 0)
		return rc;
	if (db_presets_builtin_index(name) >= 0)
		return err_set(err, ERR_EXISTS,
		    "'%s' is a built-in preset; choose another name", name);
	if ((rc = db_prepare(db,
		 "INSERT INTO presets (name, description, params_json, "
		 "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)",
		 &st, err)) != 0)
		return rc;
	json = db_params_json(params);
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, description != NULL ? description : "");
	db_bind_text(st, 3, json);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	rc = db_step(db, st, "adding a preset", err);
	if (rc < 0 &&
	    sqlite3_extended_errcode(db->sq) == SQLITE_CONSTRAINT_UNIQUE)
		rc = err_set(
		    err, ERR_EXISTS, "a preset '%s' already exists", name);
	sqlite3_finalize(st);
	free(json);
	return rc;
}

/* Refuse changes to a built-in with advice; 0 for a stored name. */
static int
db_presets_writable(const char *name, const char *what, struct err *err)
{
	if (db_presets_builtin_index(name) < 0)
		return 0;
	return err_set(err, ERR_UNSUPPORTED,
	    "'%s' is a built-in preset and cannot be %s; copy it first "
	    "('vkchat presets copy %s NEW')",
	    name, what, name);
}

int
db_presets_update(struct db *db, const char *name, const char *description,
    const struct gen_params *params, struct err *err)
{
	sqlite3_stmt *st;
	char *json;
	int rc;

	if ((rc = db_presets_writable(name, "changed", err)) != 0)
		return rc;
	if ((rc = db_prepare(db,
		 "UPDATE presets SET params_json = ?2, description = "
		 "coalesce(?3, description), updated_ms = ?4 WHERE name = ?1",
		 &st, err)) != 0)
		return rc;
	json = db_params_json(params);
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, json);
	db_bind_text(st, 3, description);
	sqlite3_bind_int64(st, 4, util_wall_ms());
	rc = db_write(db, st, "changing a preset", err);
	free(json);
	if (rc == 0)
		return err_set(err, ERR_NOTFOUND, "no preset '%s'", name);
	return rc < 0 ? rc : 0;
}

int
db_presets_delete(struct db *db, const char *name, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_presets_writable(name, "deleted", err)) != 0)
		return rc;
	if ((rc = db_prepare(
		 db, "DELETE FROM presets WHERE name = ?", &st, err)) != 0)
		return rc;
	db_bind_text(st, 1, name);
	if ((rc = db_write(db, st, "deleting a preset", err)) == 0)
		return err_set(err, ERR_NOTFOUND, "no preset '%s'", name);
	return rc < 0 ? rc : 0;
}

int
db_presets_copy(
    struct db *db, const char *from, const char *to, struct err *err)
{
	struct db_preset p;
	int rc;

	if ((rc = db_presets_get(db, from, &p, err)) == 0)
		rc = db_presets_add(db, to, p.description, &p.params, err);
	db_presets_release(&p);
	return rc;
}
