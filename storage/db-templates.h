/*
 * db-templates: prompt templates.  A template is a body with {{name}}
 * placeholders ({{input}} by convention takes standard input or the
 * selection), a description, and optionally the preset and system prompt
 * to use with it.
 *
 * Placeholders are "{{", optional spaces, a name of letters, digits, '_'
 * and '-' starting with a letter or '_', optional spaces, "}}".  Anything
 * else, "{{" included, is literal text; values are inserted as they are
 * and never scanned again.
 */
#ifndef VKCHAT_DB_TEMPLATES_H
#define VKCHAT_DB_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

/* A template.  Strings are owned by the struct (db_templates_release). */
struct db_template {
	char *name;
	char *body;
	char *description;   /* never NULL once read */
	char *preset;	     /* NULL = none */
	char *system_prompt; /* NULL = none */
	int64_t created_ms, updated_ms;
};

/* One NAME=VALUE given to db_templates_render (strings not owned). */
struct db_template_var {
	const char *name;
	const char *value;
};

void db_templates_release(struct db_template *t);
void db_templates_free(struct db_template *list, size_t n);

/* Every template, by name, into a new array (db_templates_free). */
int db_templates_list(
    struct db *db, struct db_template **out, size_t *n, struct err *err);

/* Template NAME into *out; ERR_NOTFOUND if there is none. */
int db_templates_get(
    struct db *db, const char *name, struct db_template *out, struct err *err);

/*
 * Store T (name, body, description, preset, system prompt) as a new
 * template (ERR_EXISTS if the name is taken), or with db_templates_update
 * replace the stored template of that name (ERR_NOTFOUND if none).  The
 * body must not be empty.
 */
int db_templates_add(
    struct db *db, const struct db_template *t, struct err *err);
int db_templates_update(
    struct db *db, const struct db_template *t, struct err *err);

/* Delete template NAME. */
int db_templates_delete(struct db *db, const char *name, struct err *err);

/*
 * The distinct placeholder names in BODY, in order of first appearance,
 * into a new array *names of *n (each newly allocated; free them and the
 * array).
 */
void db_templates_vars(const char *body, char ***names, size_t *n);

/*
 * Append BODY with every placeholder replaced by its value from VARS (N
 * of them) to OUT.  Fails with ERR_USAGE, naming template NAME, every
 * placeholder that has no value and every variable in VARS the body does
 * not use (or that is given twice); OUT is then unchanged.
 */
int db_templates_render(const char *name, const char *body,
    const struct db_template_var *vars, size_t n, struct sbuf *out,
    struct err *err);

#endif
