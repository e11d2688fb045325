/*
 * pocket: finding the pocket model, the tiny demo model vkchat ships as
 * pocket.gguf (a pocket dictionary that can also explain vkchat), which
 * the chat screen and every command taking -m use when no model is
 * given.
 *
 * Where it is looked for: $VKCHAT_DATADIR/pocket.gguf alone when
 * VKCHAT_DATADIR is set and not empty (relocated installs, tests);
 * otherwise the installed PKGDATADIR/pocket.gguf, then the source tree's
 * data/pocket.gguf when this vkchat runs uninstalled from its build
 * directory.
 */
#ifndef VKCHAT_POCKET_H
#define VKCHAT_POCKET_H

#include "err.h"

/*
 * Find the pocket model: 0 and *path (a new string, the caller frees it),
 * or ERR_NOTFOUND with *err naming every place looked.
 */
int pocket_find(char **path, struct err *err);

/* Whether PATH is the file pocket_find() finds (1) or not (0). */
int pocket_is(const char *path);

/*
 * The one-line notice shown whenever the pocket model is used: what it
 * is and how to use a real model instead (a static string).
 */
const char *pocket_notice(void);

/*
 * For command CMD run without -m: point *model at the pocket model (a
 * string valid until the program exits), print the notice on stderr and
 * return 0; or print why there is no model, naming the places looked,
 * and return EXIT_USAGE.
 */
int pocket_default(const char *cmd, const char **model);

#endif
