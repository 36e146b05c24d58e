/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one resolver: every path the tool opens or creates below a root (a
 * sysroot, a snapshot's output directory, a state directory) goes through
 * res_open(), which always resolves beneath that root (openat2's
 * RESOLVE_BENEATH: no ".." above it, no absolute link, no magic link) and
 * never blocks (O_NONBLOCK: a FIFO answers at once). Flags choose the rest,
 * as systemd's chase() flags do. Errors are negative errnos; res_strerror()
 * names the ones this layer gives a meaning of its own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	RES_PATH = 1 << 0,        /* O_PATH: only to look at, or to open below */
	RES_DIR = 1 << 1,         /* a directory (-ENOTDIR) */
	RES_REG = 1 << 2,         /* a regular file (-EMEDIUMTYPE), checked before it is opened */
	RES_NOFOLLOW = 1 << 3,    /* a link as the last component is not followed (-ELOOP) */
	RES_NO_SYMLINKS = 1 << 4, /* no component may be a link (-ELOOP) */
	RES_NO_XDEV = 1 << 5,     /* no mount point may be crossed (-EXDEV) */
	RES_WRITE = 1 << 6,       /* open for writing */
	RES_CREATE = 1 << 7,      /* create it where nothing is (O_CREAT | O_EXCL: -EEXIST) */
	/*
	 * Links resolve as if dirfd were "/" (RESOLVE_IN_ROOT): an absolute link
	 * or ".." stays inside, as configuration files under /etc use them.
	 * Without it any link out of dirfd is refused (RESOLVE_BENEATH: -EXDEV).
	 */
	RES_IN_ROOT = 1 << 8,
};

/* Open rel below dirfd (a relative path; "." for dirfd itself). mode: for RES_CREATE. */
int res_open(int dirfd, const char *rel, unsigned flags, mode_t mode);

/*
 * Whether res_open may walk with openat where openat2 answers ENOSYS (an old
 * kernel, or a seccomp filter: systemd-udevd's RestrictSUIDSGID=): only for
 * the running system's own root "/", never a captured tree. Default: no.
 */
void res_allow_walk(bool allow);

/*
 * Open the directory that holds rel's last component (with flags' rules for
 * links and mounts); *name is that last component, pointing into rel.
 */
int res_open_parent(int dirfd, const char *rel, unsigned flags, const char **name);

/*
 * Make every missing directory of rel below dirfd (mode), each component a
 * real directory, never a link nor "..": for outputs, whose parents must not
 * lead anywhere else. Returns the last directory opened (O_PATH).
 */
int res_mkdirs(int dirfd, const char *rel, unsigned flags, mode_t mode);

/*
 * A single-component attribute of an open directory, opened for reading the
 * fast way (one openat): not following a final link, non-blocking, and, when
 * check_type, only after fstatat saw a regular file (a captured tree may hold
 * FIFOs or device nodes; sysfs holds neither).
 */
int res_open_attr(int dirfd, const char *name, bool check_type);

/* The target of the link dirfd/name, whatever its length. -ENOLINK: not a link. */
int res_readlink(int dirfd, const char *name, char **ret);

/* A directory entry; type is a DT_* value, never DT_UNKNOWN (fstatat resolves it). */
struct res_entry {
	char *name;
	unsigned char type;
};
/* The entries of the directory open as fd (O_RDONLY), without dot names, unsorted. */
int res_list_fd(int fd, struct res_entry **ret, size_t *n);
void res_entries_free(struct res_entry *e, size_t n);

/*
 * A text file the user names on the command line (a path of the real file
 * system, as given): read only when it is a regular file, never blocking,
 * at most max bytes, no NUL byte.
 */
int res_read_user_file(const char *path, size_t max, char **ret);

/*
 * At most size bytes of the open file fd (its size when looked at), NUL
 * terminated: fewer when it shrank meanwhile. *len: the bytes read.
 */
int res_read_size(int fd, size_t size, char **ret, size_t *len);

/* Text for the errors this layer gives a meaning (EXDEV, ELOOP, EMEDIUMTYPE...), else strerror. */
const char *res_strerror(int err);
