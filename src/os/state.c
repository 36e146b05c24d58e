// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/layout.h"
#include "shared/escape.h"
#include "os/resolve.h"
#include "os/state.h"

#define STATE_FILE_MAX (16 * 1024 * 1024)

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

/*
 * The directory name in dirfd, made first (mode) when create is set, opened
 * without following a symlink there: -ELOOP when it is one.
 */
static int open_component(int dirfd, const char *name, mode_t mode, bool create)
{
	if (create && mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
		return -errno;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int r = -errno;
	struct stat s;
	if ((r == -ENOTDIR || r == -ELOOP) && fstatat(dirfd, name, &s, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISLNK(s.st_mode) ? -ELOOP : -ENOTDIR;
	return r;
}

/* path as given (its parents may be links), but not its last component. */
static int open_path(const char *path, bool create)
{
	if (create) {
		int r = mkdir_parents(path);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *name = path;
	_cleanup_close_ int pfd = -1;
	if (slash) {
		name = path + (slash - dir) + 1;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		pfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return -errno;
	}
	return open_component(slash ? pfd : AT_FDCWD, name, 0700, create);
}

/* Every component of rel below dirfd, none a symlink nor "..": the directory stays inside. */
static int open_beneath_mode(int dirfd, const char *rel, bool create, mode_t last_mode)
{
	_cleanup_free_ char *p = xstrdup(rel);
	_cleanup_close_ int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	char *save = NULL;
	for (char *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!path_component_ok(c))
			return -EINVAL;
		bool last = !save || !*save;
		int next = open_component(fd, c, last ? last_mode : 0755, create);
		if (next < 0)
			return next;
		close(fd);
		fd = next;
	}
	return TAKE_FD(fd);
}

static int state_open_fd(struct state *st, int fd, const char *display)
{
	if (fd == -ELOOP) {
		log_error("state directory %s is a symlink, or lies behind one: refusing to use it", display);
		return fd;
	}
	if (fd == -ENOTDIR) {
		log_error("state directory %s is not a directory", display);
		return fd;
	}
	if (fd < 0) {
		/* A missing directory is the caller's to judge (nothing to recover, say). */
		if (fd != -ENOENT)
			log_error("state directory %s: %s", display, strerror(-fd));
		return fd;
	}
	_cleanup_close_ int dfd = fd;
	struct stat s;
	if (fstat(dfd, &s) < 0)
		return -errno;
	if (s.st_uid != geteuid() || (s.st_mode & 022)) {
		log_error("state directory %s is writable by others or not owned by this user: refusing to use it",
			  display);
		return -EPERM;
	}
	st->dirfd = TAKE_FD(dfd);
	st->path = xstrdup(display);
	return 0;
}

static void state_init(struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->dirfd = st->lockfd = -1;
}

int state_open(struct state *st, const char *path, bool create)
{
	state_init(st);
	_cleanup_free_ char *p = xstrdup(path);
	for (size_t n = strlen(p); n > 1 && p[n - 1] == '/';)
		p[--n] = '\0';
	if (!*p)
		return -EINVAL;
	return state_open_fd(st, open_path(p, create), path);
}

char *state_kernel_path(const struct ka *ka)
{
	if (ka_is_live(ka) || streq(ka_root(ka), "/"))
		return xstrdup(LAY_STATE_DIR_LIVE);
	return ka_path(ka, LAY_STATE_DIR);
}

static int open_beneath(int dirfd, const char *rel, bool create)
{
	return open_beneath_mode(dirfd, rel, create, 0700);
}

int state_open_conf(struct state *st, const struct ka *ka, bool create)
{
	_cleanup_free_ char *rel = xasprintf("%s/" LAY_CONF_DROPINS, LAY_CONF_DIR);
	_cleanup_free_ char *display = ka_path(ka, rel);
	state_init(st);
	return state_open_fd(st, open_beneath_mode(ka_rootfd(ka), rel, create, 0755), display);
}

int state_open_kernel(struct state *st, const struct ka *ka, bool create)
{
	_cleanup_free_ char *display = state_kernel_path(ka);
	if (ka_is_live(ka) || streq(ka_root(ka), "/"))
		return state_open(st, LAY_STATE_DIR_LIVE, create);
	state_init(st);
	return state_open_fd(st, open_beneath(ka_rootfd(ka), LAY_STATE_DIR, create), display);
}

void state_close(struct state *st)
{
	if (st->lockfd >= 0)
		close(st->lockfd); /* releases the flock */
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st->path);
	state_init(st);
}

/* A state file that is not a plain file is named: it is never read, written through, or waited on. */
static int file_error(struct state *st, const char *name, int err)
{
	if (err == -ELOOP || err == -EMEDIUMTYPE || err == -EISDIR)
		log_error("%s/%s: %s: refusing to use it; inspect it, then remove it", st->path, name,
			  err == -ELOOP ? "a symlink" : err == -EISDIR ? "a directory" : res_strerror(err));
	return err;
}

int state_lock(struct state *st, const volatile sig_atomic_t *stop, int wait_s)
{
	int fd = res_open(st->dirfd, "lock", RES_WRITE | RES_REG | RES_NOFOLLOW, 0);
	if (fd == -ENOENT)
		fd = res_open(st->dirfd, "lock", RES_WRITE | RES_REG | RES_NOFOLLOW | RES_CREATE, 0600);
	if (fd == -EEXIST) /* made by another run in between */
		fd = res_open(st->dirfd, "lock", RES_WRITE | RES_REG | RES_NOFOLLOW, 0);
	if (fd < 0)
		return file_error(st, "lock", fd);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		st->lockfd = fd;
		return 0;
	}
	int r = errno == EWOULDBLOCK ? 0 : -errno;
	if (r == 0 && wait_s == 0)
		r = -EWOULDBLOCK;
	if (r == 0)
		esc_fprintf(stderr, "%s: waiting for another iommu-own operation to finish (%s/lock)\n", program_name,
			    st->path);
	/* Polled, so that --wait ends on time and a signal stops the wait. */
	for (long waited_ms = 0; r == 0; waited_ms += 100) {
		if (stop && *stop)
			r = -EINTR;
		else if (wait_s > 0 && waited_ms >= (long)wait_s * 1000)
			r = -EWOULDBLOCK;
		else if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		else if (errno != EWOULDBLOCK && errno != EINTR)
			r = -errno;
		else
			usleep(100 * 1000);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	st->lockfd = fd;
	return 0;
}

static char *tmp_name(const char *name)
{
	return xasprintf(".%s.tmp", name);
}

int state_prepare(struct state *st, const char *name, struct json_object *doc)
{
	const char *json = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *text = xasprintf("%s\n", json);
	return state_prepare_text(st, name, text, 0600);
}

int state_prepare_text(struct state *st, const char *name, const char *text, mode_t mode)
{
	_cleanup_free_ char *tmp = tmp_name(name);
	/* A leftover of a run that died here is ours to replace, but only if it is a plain file. */
	struct stat s;
	if (fstatat(st->dirfd, tmp, &s, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(s.st_mode))
			return file_error(st, tmp, S_ISLNK(s.st_mode) ? -ELOOP : -EMEDIUMTYPE);
		unlinkat(st->dirfd, tmp, 0);
	}
	_cleanup_close_ int fd = res_open(st->dirfd, tmp, RES_WRITE | RES_CREATE | RES_NOFOLLOW, mode);
	if (fd < 0)
		return fd;
	size_t len = strlen(text);
	int r = 0;
	for (size_t done = 0; done < len && r == 0;) {
		const char *from = text + done;
		size_t n = len - done;
		ssize_t k = write(fd, from, n);
		if (k < 0 && errno != EINTR)
			r = -errno;
		else if (k == 0)
			r = -EIO;
		else if (k > 0)
			done += (size_t)k;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(st->dirfd, tmp, 0);
	return r;
}

int state_commit(struct state *st, const char *name)
{
	_cleanup_free_ char *tmp = tmp_name(name);
	if (renameat(st->dirfd, tmp, st->dirfd, name) < 0) {
		int r = -errno;
		unlinkat(st->dirfd, tmp, 0);
		return r;
	}
	return fsync(st->dirfd) < 0 ? -errno : 0;
}

int state_commit_new(struct state *st, const char *name)
{
	_cleanup_free_ char *tmp = tmp_name(name);
	/* A file put there since it was looked at is someone's: RENAME_NOREPLACE, else a link (both EEXIST). */
	int r = renameat2(st->dirfd, tmp, st->dirfd, name, RENAME_NOREPLACE) < 0 ? -errno : 0;
	if (r == -EINVAL || r == -ENOSYS) /* a filesystem without it; a kernel before 3.15, a seccomp filter */
		r = linkat(st->dirfd, tmp, st->dirfd, name, 0) < 0 ? -errno : 0;
	unlinkat(st->dirfd, tmp, 0);
	if (r < 0)
		return r;
	if (fsync(st->dirfd) < 0) { /* not known to be there: not there, for the caller's rollback */
		r = -errno;
		unlinkat(st->dirfd, name, 0);
	}
	return r;
}

void state_unprepare(struct state *st, const char *name)
{
	_cleanup_free_ char *tmp = tmp_name(name);
	unlinkat(st->dirfd, tmp, 0);
}

int state_write(struct state *st, const char *name, struct json_object *doc)
{
	int r = state_prepare(st, name, doc);
	return r < 0 ? r : state_commit(st, name);
}

int state_list(struct state *st, struct strv *names)
{
	struct res_entry *e = NULL;
	size_t n = 0;
	/* getdents64 reads on from the directory's offset: start from its beginning each time. */
	if (lseek(st->dirfd, 0, SEEK_SET) < 0)
		return -errno;
	int r = res_list_fd(st->dirfd, &e, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		strv_push(names, TAKE_PTR(e[i].name));
	res_entries_free(e, n);
	return 0;
}

int state_read(struct state *st, const char *name, struct json_object **ret)
{
	_cleanup_close_ int fd = res_open(st->dirfd, name, RES_REG | RES_NOFOLLOW, 0);
	if (fd == -ENOENT)
		return fd;
	if (fd < 0)
		return file_error(st, name, fd);
	struct stat s;
	if (fstat(fd, &s) < 0)
		return -errno;
	if (s.st_size > STATE_FILE_MAX) {
		log_error("%s/%s: larger than any iommu-own state file (%lld bytes): refusing to read it", st->path,
			  name, (long long)s.st_size);
		return -EBADMSG;
	}
	_cleanup_free_ char *buf = NULL;
	size_t got;
	int r = res_read_size(fd, (size_t)s.st_size, &buf, &got);
	if (r < 0)
		return r;
	enum json_tokener_error jerr;
	struct json_object *doc = json_tokener_parse_verbose(buf, &jerr);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		log_error("%s/%s: corrupt: %s", st->path, name, doc ? "not a JSON object" : json_tokener_error_desc(jerr));
		json_object_put(doc);
		return -EBADMSG;
	}
	*ret = doc;
	return 0;
}

bool state_exists(struct state *st, const char *name)
{
	struct stat s;
	return st->dirfd >= 0 && fstatat(st->dirfd, name, &s, AT_SYMLINK_NOFOLLOW) == 0;
}

int state_remove(struct state *st, const char *name)
{
	if (unlinkat(st->dirfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(st->dirfd) < 0 ? -errno : 0;
}
