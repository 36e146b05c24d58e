/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state directory (/run/iommu-own, or <sysroot>/run/iommu-own): the lock
 * that serializes moves, the journal of the move in progress, and the record
 * of each claimed group's former drivers. Files are JSON, written atomically
 * (temporary file, fsync, rename, fsync of the directory).
 */
#pragma once

#include <json-c/json.h>

#include "shared/util.h"

struct state {
	char *path;
	int dirfd;
	int lockfd;
};

/*
 * Open (create = make it if missing, 0700; its parents 0755) and check the
 * state directory: a directory, not a symlink, owned by this user and
 * writable by nobody else (checked on what was opened). Links in path's
 * parents are followed: it is the user's own choice (--state-dir).
 */
int state_open(struct state *st, const char *path, bool create);
/*
 * The same for rel below rootfd (a sysroot), where no component may be a
 * symlink or "..": the state of a tree stays in the tree. display names it
 * in messages.
 */
int state_open_beneath(struct state *st, int rootfd, const char *rel, const char *display, bool create);
void state_close(struct state *st);
/* The default: <sysroot>/run/iommu-own ("/run/iommu-own" for "/"). */
char *state_default_path(const char *sysroot);
/* Take the exclusive lock for a whole operation; waits for another holder. */
int state_lock(struct state *st);

int state_write(struct state *st, const char *name, struct json_object *doc);
/* -ENOENT when absent; -EBADMSG when it is not JSON (message printed). */
int state_read(struct state *st, const char *name, struct json_object **ret);
int state_remove(struct state *st, const char *name);
