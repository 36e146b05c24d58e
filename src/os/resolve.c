// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os/resolve.h"
#include "shared/util.h"

/* The one EAGAIN policy: openat2 asks for a retry when a rename raced its walk of "..". */
#define EAGAIN_TRIES 16

/*
 * Without openat2. It answers ENOSYS on kernels before 5.6, and under
 * seccomp filters that cannot look into its flags: systemd's
 * RestrictSUIDSGID= makes it ENOSYS so that programs fall back to openat,
 * and systemd-udevd.service sets it, so every program a udev rule runs
 * (iommu-own boot --device) gets ENOSYS. The running system's own root may
 * then be read by openat: nothing lies above "/", and its links are the
 * kernel's. The walk keeps the rest of the promise: no absolute path, no
 * ".." component, and with RES_NO_SYMLINKS one component at a time, none a
 * link. A captured tree (a --sysroot other than "/") never falls back: its
 * links could lead out of it (res_allow_walk is only called for "/").
 */
static bool walk_allowed;
static bool no_openat2;

void res_allow_walk(bool allow)
{
	walk_allowed = allow;
}

/* Whether the component name is at dirfd a link (for ELOOP, as RESOLVE_NO_SYMLINKS answers). */
static bool is_link(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

static int walk_open(int dirfd, const char *rel, int oflags, unsigned flags, mode_t mode)
{
	if (!walk_allowed || (flags & RES_NO_XDEV))
		return -ENOSYS;
	if (rel[0] == '/')
		return -EXDEV;
	_cleanup_free_ char *p = xstrdup(rel);
	char *save = NULL;
	for (char *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (streq(c, ".."))
			return -EXDEV;
	if (!(flags & RES_NO_SYMLINKS)) {
		int fd = openat(dirfd, rel, oflags, mode);
		return fd < 0 ? -errno : fd;
	}
	/* Every directory on the way opened on its own, never through a link. */
	free(p);
	p = xstrdup(rel);
	char *last = strrchr(p, '/');
	_cleanup_close_ int cur = -1;
	if (last) {
		*last++ = '\0';
		save = NULL;
		for (char *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
			if (streq(c, "."))
				continue;
			int at = cur >= 0 ? cur : dirfd;
			int next = openat(at, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0)
				return errno == ENOTDIR && is_link(at, c) ? -ELOOP : -errno;
			if (cur >= 0)
				close(cur);
			cur = next;
		}
	} else {
		last = p;
	}
	if (!*last)
		last = ".";
	int at = cur >= 0 ? cur : dirfd;
	int fd = openat(at, last, oflags | O_NOFOLLOW, mode);
	if (fd < 0)
		return errno == ENOTDIR && is_link(at, last) ? -ELOOP : -errno;
	struct stat st;
	if ((oflags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

static int openat2_flags(int dirfd, const char *rel, unsigned flags, mode_t mode)
{
	/* openat2 takes nothing but O_DIRECTORY and O_NOFOLLOW beside O_PATH. */
	int oflags = O_CLOEXEC;
	if (flags & RES_PATH)
		oflags |= O_PATH;
	else
		oflags |= O_NOCTTY | O_NONBLOCK;
	if (flags & RES_PATH)
		;
	else if (flags & RES_WRITE)
		oflags |= O_WRONLY;
	else
		oflags |= O_RDONLY;
	if (flags & RES_DIR)
		oflags |= O_DIRECTORY;
	if (flags & (RES_NOFOLLOW | RES_NO_SYMLINKS))
		oflags |= O_NOFOLLOW;
	if (flags & RES_CREATE)
		oflags |= O_CREAT | O_EXCL;
	uint64_t resolve = ((flags & RES_IN_ROOT) ? RESOLVE_IN_ROOT : RESOLVE_BENEATH) | RESOLVE_NO_MAGICLINKS;
	if (flags & RES_NO_SYMLINKS)
		resolve |= RESOLVE_NO_SYMLINKS;
	if (flags & RES_NO_XDEV)
		resolve |= RESOLVE_NO_XDEV;
	struct open_how how = {
		.flags = (uint64_t)oflags,
		.mode = (flags & RES_CREATE) ? mode : 0,
		.resolve = resolve,
	};
	if (no_openat2)
		return walk_open(dirfd, rel, oflags, flags, mode);
	for (int tries = 0; tries < EAGAIN_TRIES; tries++) {
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno == ENOSYS) {
			no_openat2 = true;
			return walk_open(dirfd, rel, oflags, flags, mode);
		}
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/*
 * What rel is, before it is opened. Without any link on the path
 * (RES_NO_SYMLINKS, not RES_IN_ROOT) fstatat() sees what openat2() will
 * open: one call instead of an O_PATH open, fstat and close (a "..", or a
 * link put there meanwhile, makes them differ: openat2() refuses those, and
 * res_open() compares what it opened with what was seen). Else the O_PATH
 * open resolves the path as the open will.
 */
static int look(int dirfd, const char *rel, unsigned flags, struct stat *st)
{
	if ((flags & RES_NO_SYMLINKS) && !(flags & RES_IN_ROOT))
		return fstatat(dirfd, rel, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	int pfd = openat2_flags(dirfd, rel, (flags & ~(RES_WRITE | RES_DIR)) | RES_PATH, 0);
	if (pfd < 0)
		return pfd;
	int r = fstat(pfd, st) < 0 ? -errno : 0;
	close(pfd);
	return r;
}

int res_open(int dirfd, const char *rel, unsigned flags, mode_t mode)
{
	if (!rel || !*rel)
		rel = ".";
	struct stat before;
	bool precheck = (flags & RES_REG) && !(flags & RES_PATH) && !(flags & RES_CREATE);
	if (precheck) {
		/* Look before opening: opening a device node of a captured tree could act on the host's device. */
		int r = look(dirfd, rel, flags, &before);
		if (r < 0)
			return r;
		if (!S_ISREG(before.st_mode))
			return S_ISDIR(before.st_mode) ? -EISDIR : -EMEDIUMTYPE;
	}
	int fd = openat2_flags(dirfd, rel, flags, mode);
	if (fd < 0 || !(flags & RES_REG))
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	/* Replaced between the look and the open: whatever is there now is not used. */
	if (!S_ISREG(st.st_mode) || (precheck && (st.st_dev != before.st_dev || st.st_ino != before.st_ino))) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EMEDIUMTYPE;
	}
	return fd;
}

int res_open_parent(int dirfd, const char *rel, unsigned flags, const char **name)
{
	const char *slash = strrchr(rel, '/');
	unsigned dflags = (flags & (RES_NO_SYMLINKS | RES_NO_XDEV)) | RES_PATH | RES_DIR;
	if (!slash) {
		*name = rel;
		return res_open(dirfd, ".", dflags, 0);
	}
	*name = slash + 1;
	_cleanup_free_ char *dir = xstrndup(rel, (size_t)(slash - rel));
	return res_open(dirfd, *dir ? dir : ".", dflags, 0);
}

int res_mkdirs(int dirfd, const char *rel, unsigned flags, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(rel);
	_cleanup_close_ int fd = res_open(dirfd, ".", RES_PATH | RES_DIR, 0);
	if (fd < 0)
		return fd;
	char *save = NULL;
	for (char *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!path_component_ok(c))
			return -EINVAL;
		if (mkdirat(fd, c, mode) < 0 && errno != EEXIST)
			return -errno;
		int next = res_open(fd, c, (flags & RES_NO_XDEV) | RES_PATH | RES_DIR | RES_NO_SYMLINKS, 0);
		if (next < 0)
			return next;
		close(fd);
		fd = next;
	}
	return TAKE_FD(fd);
}

int res_open_attr(int dirfd, const char *name, bool check_type)
{
	if (check_type) {
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (!S_ISREG(st.st_mode))
			return S_ISDIR(st.st_mode) ? -EISDIR : -EMEDIUMTYPE;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int res_readlink(int dirfd, const char *name, char **ret)
{
	for (size_t cap = 256;; cap *= 2) {
		_cleanup_free_ char *buf = xmalloc(cap);
		ssize_t n = readlinkat(dirfd, name, buf, cap);
		if (n < 0)
			return errno == EINVAL ? -ENOLINK : -errno;
		if ((size_t)n < cap) {
			buf[n] = '\0';
			*ret = TAKE_PTR(buf);
			return 0;
		}
		if (cap >= 65536)
			return -ENAMETOOLONG;
	}
}

int res_list_fd(int fd, struct res_entry **ret, size_t *n)
{
	/* getdents64 into one buffer: no DIR allocation per directory listed. */
	static char buf[32768] __attribute__((aligned(8)));
	struct res_entry *e = NULL;
	size_t count = 0, cap = 0;
	*ret = NULL;
	*n = 0;
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int r = -errno;
			res_entries_free(e, count);
			return r;
		}
		if (got == 0)
			break;
		for (long off = 0; off < got;) {
			struct linux_dirent64 {
				uint64_t d_ino;
				int64_t d_off;
				unsigned short d_reclen;
				unsigned char d_type;
				char d_name[];
			} *de = (void *)(buf + off);
			off += de->d_reclen;
			if (de->d_name[0] == '.') /* ".", "..", and no sysfs name starts with a dot */
				continue;
			unsigned char type = de->d_type;
			if (type == DT_UNKNOWN) {
				/* Some filesystems leave the type to a stat: never guess it. */
				struct stat st;
				if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue; /* gone meanwhile */
				type = (unsigned char)IFTODT(st.st_mode);
			}
			e = grow_array(e, &cap, count + 1, sizeof(*e));
			e[count].name = xstrdup(de->d_name);
			e[count].type = type;
			count++;
		}
	}
	*ret = e;
	*n = count;
	return 0;
}

void res_entries_free(struct res_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

int res_read_size(int fd, size_t size, char **ret, size_t *len)
{
	_cleanup_free_ char *buf = xmalloc(size + 1);
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*ret = TAKE_PTR(buf);
	*len = got;
	return 0;
}

int res_read_user_file(const char *path, size_t max, char **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EMEDIUMTYPE;
	if ((size_t)st.st_size > max)
		return -EFBIG;
	_cleanup_free_ char *buf = NULL;
	size_t got;
	int r = res_read_size(fd, (size_t)st.st_size, &buf, &got);
	if (r < 0)
		return r;
	if (memchr(buf, '\0', got))
		return -EBADMSG;
	*ret = TAKE_PTR(buf);
	return 0;
}

const char *res_strerror(int err)
{
	switch (err) {
	case -EXDEV:
		return "a symlink leads outside the root, or a mount point is in the way";
	case -EBADMSG:
		return "not a text attribute (binary or garbage content)";
	case -EFBIG:
		return "file too large for a sysfs attribute";
	case -ELOOP:
		return "a symlink where a file was expected";
	case -EMEDIUMTYPE:
		return "not a regular file (a FIFO, device node or socket)";
	case -ENOSYS:
		return "openat2() is not available (a kernel before 5.6, or a seccomp filter such as systemd's "
		       "RestrictSUIDSGID=): only the running system's own root can be read without it";
	default:
		return strerror(-err);
	}
}
