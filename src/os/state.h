/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State directories. A kernel has one (/run/iommu-own; a captured tree's is
 * <sysroot>/run/iommu-own): it holds the lock that serializes that kernel's
 * moves and the journal of the move in progress, whatever --state-dir says.
 * Records of claims live in the state directory given with --state-dir
 * (the kernel's by default). Files are JSON, written atomically (temporary
 * file, fsync, rename, fsync of the directory), read only when they are
 * regular files (never through a link, never blocking on a FIFO).
 */
#pragma once

#include <json-c/json.h>
#include <signal.h>

#include "os/kaccess.h"
#include "shared/util.h"

struct state {
	char *path;
	int dirfd;
	int lockfd;
};

/*
 * Open (create = make it if missing, 0700; its parents 0755) and check a
 * state directory: a directory, not a symlink, owned by this user and
 * writable by nobody else (checked on what was opened). Links in path's
 * parents are followed: it is the user's own choice (--state-dir). -ENOENT
 * (not printed) when it does not exist and create is false.
 */
int state_open(struct state *st, const char *path, bool create);
/*
 * The state directory of ka's kernel: /run/iommu-own for a root whose sys is
 * the live sysfs (one kernel, whichever root names it), else
 * <sysroot>/run/iommu-own, where no component may be a symlink: the state
 * of a tree stays in the tree.
 */
int state_open_kernel(struct state *st, const struct ka *ka, bool create);
/*
 * The declarations' drop-in directory, SYSCONFDIR/iommu-own/conf.d under
 * ka's root (made 0755 when create is set), where claim --persist writes:
 * no component may be a symlink, and it must be the user's, writable by
 * nobody else.
 */
int state_open_conf(struct state *st, const struct ka *ka, bool create);
/* The path state_open_kernel() opens, for messages. */
char *state_kernel_path(const struct ka *ka);
void state_close(struct state *st);
/*
 * Take the exclusive lock for a whole operation; waits for another holder,
 * unless *stop is set meanwhile (a signal): -EINTR then.
 */
/* wait_s: -1 as long as it takes, 0 not at all, else that many seconds (-EWOULDBLOCK after). */
int state_lock(struct state *st, const volatile sig_atomic_t *stop, int wait_s);

int state_write(struct state *st, const char *name, struct json_object *doc);
/*
 * A write in two steps, so that a full filesystem shows before anything
 * else is done: state_prepare() writes and syncs the new content beside the
 * file; state_commit() puts it in place (a rename, which needs no space).
 */
int state_prepare(struct state *st, const char *name, struct json_object *doc);
int state_prepare_text(struct state *st, const char *name, const char *text, mode_t mode);
int state_commit(struct state *st, const char *name);
/* The same where nothing of that name may be replaced: -EEXIST, and the new content discarded. */
int state_commit_new(struct state *st, const char *name);
void state_unprepare(struct state *st, const char *name);
/*
 * -ENOENT when absent; other errors are printed naming the file: -EBADMSG
 * when it is not JSON, -ELOOP for a symlink, -EMEDIUMTYPE for a FIFO.
 */
int state_read(struct state *st, const char *name, struct json_object **ret);
/* The names of the files in the directory (records, the journal, ...). */
int state_list(struct state *st, struct strv *names);
/* Whether name exists in the directory at all (a journal that cannot be read is still one). */
bool state_exists(struct state *st, const char *name);
int state_remove(struct state *st, const char *name);
