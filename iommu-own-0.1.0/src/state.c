// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

char *state_default_path(const char *sysroot)
{
	size_t n = strlen(sysroot);
	while (n > 1 && sysroot[n - 1] == '/')
		n--;
	if (n == 1 && sysroot[0] == '/')
		return xstrdup("/run/iommu-own");
	return xasprintf("%.*s/run/iommu-own", (int)n, sysroot);
}

static int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

int state_open(struct state *st, const char *path, bool create)
{
	memset(st, 0, sizeof(*st));
	st->dirfd = st->lockfd = -1;
	struct stat s;
	if (lstat(path, &s) < 0) {
		if (errno != ENOENT || !create)
			return -errno;
		int r = mkdir_parents(path);
		if (r < 0)
			return r;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (lstat(path, &s) < 0)
			return -errno;
	}
	if (S_ISLNK(s.st_mode)) {
		log_error("state directory %s is a symlink: refusing to use it", path);
		return -ELOOP;
	}
	if (!S_ISDIR(s.st_mode)) {
		log_error("state directory %s is not a directory", path);
		return -ENOTDIR;
	}
	if (s.st_uid != geteuid() || (s.st_mode & 022)) {
		log_error("state directory %s is writable by others or not owned by this user: refusing to use it",
			  path);
		return -EPERM;
	}
	st->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->dirfd < 0)
		return -errno;
	st->path = xstrdup(path);
	return 0;
}

void state_close(struct state *st)
{
	if (st->lockfd >= 0)
		close(st->lockfd); /* releases the flock */
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st->path);
	memset(st, 0, sizeof(*st));
	st->dirfd = st->lockfd = -1;
}

int state_lock(struct state *st)
{
	int fd = openat(st->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			int r = -errno;
			close(fd);
			return r;
		}
		fprintf(stderr, "%s: waiting for another iommu-own operation to finish (%s/lock)\n", program_name,
			st->path);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int r = -errno;
				close(fd);
				return r;
			}
		}
	}
	st->lockfd = fd;
	return 0;
}

int state_write(struct state *st, const char *name, struct json_object *doc)
{
	_cleanup_free_ char *tmp = xasprintf(".%s.tmp", name);
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_close_ int fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		int r = errno ? -errno : -EIO;
		unlinkat(st->dirfd, tmp, 0);
		return r;
	}
	if (renameat(st->dirfd, tmp, st->dirfd, name) < 0)
		return -errno;
	if (fsync(st->dirfd) < 0)
		return -errno;
	return 0;
}

int state_read(struct state *st, const char *name, struct json_object **ret)
{
	_cleanup_close_ int fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat s;
	if (fstat(fd, &s) < 0)
		return -errno;
	if (!S_ISREG(s.st_mode) || s.st_size > 16 * 1024 * 1024) {
		log_error("%s/%s: not a regular file of reasonable size", st->path, name);
		return -EBADMSG;
	}
	_cleanup_free_ char *buf = xmalloc((size_t)s.st_size + 1);
	ssize_t n = read(fd, buf, (size_t)s.st_size);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	enum json_tokener_error jerr;
	struct json_object *doc = json_tokener_parse_verbose(buf, &jerr);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		log_error("%s/%s: corrupt: %s", st->path, name,
			  doc ? "not a JSON object" : json_tokener_error_desc(jerr));
		json_object_put(doc);
		return -EBADMSG;
	}
	*ret = doc;
	return 0;
}

int state_remove(struct state *st, const char *name)
{
	if (unlinkat(st->dirfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(st->dirfd) < 0 ? -errno : 0;
}
