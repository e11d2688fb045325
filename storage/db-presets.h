/*
 * db-presets: named generation settings.  The built-in presets come from
 * params_builtin_*() and are served read-only from there (never stored,
 * so a newer vkchat's improved built-ins reach old databases); their
 * names are reserved.  User presets live in the presets table with every
 * parameter as params_to_json() text.
 */
#ifndef VKCHAT_DB_PRESETS_H
#define VKCHAT_DB_PRESETS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "params.h"

/* A preset.  Strings are owned by the struct (db_presets_release). */
struct db_preset {
	char *name;
	char *description; /* never NULL once read */
	int builtin;	   /* read-only, from params.c */
	struct gen_params params;
	int64_t created_ms, updated_ms; /* 0 for built-ins */
};

void db_presets_release(struct db_preset *p);
void db_presets_free(struct db_preset *list, size_t n);

/*
 * Every preset: the built-ins in their own order, then the user's by
 * name, into a new array *out of *n (db_presets_free).
 */
int db_presets_list(
    struct db *db, struct db_preset **out, size_t *n, struct err *err);

/* Preset NAME (built-in or stored) into *out; ERR_NOTFOUND if none. */
int db_presets_get(
    struct db *db, const char *name, struct db_preset *out, struct err *err);

/*
 * Store a new preset NAME (see db_name_check) with DESCRIPTION (NULL:
 * none) and PARAMS.  ERR_EXISTS when the name is taken, by a built-in
 * too.
 */
int db_presets_add(struct db *db, const char *name, const char *description,
    const struct gen_params *params, struct err *err);

/*
 * Replace stored preset NAME's PARAMS and, unless NULL, its DESCRIPTION.
 * Built-ins cannot be changed (ERR_UNSUPPORTED: copy them first).
 */
int db_presets_update(struct db *db, const char *name, const char *description,
    const struct gen_params *params, struct err *err);

/* Delete stored preset NAME; built-ins cannot be deleted. */
int db_presets_delete(struct db *db, const char *name, struct err *err);

/* Store a copy of preset FROM (built-in or not) as new preset TO. */
int db_presets_copy(
    struct db *db, const char *from, const char *to, struct err *err);

#endif
