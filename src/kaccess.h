/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel-access layer: the only code that touches sysfs (and the other
 * files under the sysroot). Every path is relative to the sysroot and is
 * resolved with openat2(RESOLVE_BENEATH), so a symlink in a captured tree can
 * never lead a read outside it. Functions return 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct ka;

/* Open a sysroot ("/" for the running system). It must contain sys/. */
int ka_open(const char *sysroot, struct ka **ret);
void ka_free(struct ka *ka);
static inline void ka_freep(struct ka **ka)
{
	ka_free(*ka);
}

/* The sysroot as given (without trailing slashes; "/" for the root). */
const char *ka_root(const struct ka *ka);
/* True when <sysroot>/sys is a real sysfs mount (statfs says SYSFS_MAGIC). */
bool ka_is_live(const struct ka *ka);
/* "<sysroot>/<rel>" for messages; the caller frees it. */
char *ka_path(const struct ka *ka, const char *rel);
/* Human text for an errno returned by this layer (adds EXDEV, EBADMSG...). */
const char *ka_strerror(int err);

/* Open a directory (O_PATH) under the sysroot, following links inside it. */
int ka_open_dir(const struct ka *ka, const char *rel, int *ret_fd);
/* The names in a directory under the sysroot (no "." or ".."); -ENOENT when absent. */
int ka_list_dir(const struct ka *ka, const char *rel, struct strv *ret);

/*
 * Read a text attribute <dirfd>/<name>: never follows a symlink, refuses
 * binary content (-EBADMSG) and files over 64 KiB (-EFBIG). The value has its
 * trailing newline and white space removed. -ENOENT when absent.
 */
int ka_read_at(int dirfd, const char *name, char **ret);
int ka_read(const struct ka *ka, const char *rel, char **ret);
/* Read up to size bytes of a binary file (config space); returns the count. */
int ka_read_binary_at(int dirfd, const char *name, void *buf, size_t size);
/* The last component of the target of symlink <dirfd>/<name>; -ENOENT when absent. */
int ka_link_base_at(int dirfd, const char *name, char **ret);
/* Whether <dirfd>/<name> exists (without following a final symlink). */
bool ka_exists_at(int dirfd, const char *name);
