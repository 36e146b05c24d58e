// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os/kaccess-internal.h"
#include "os/kmodlib.h"
#include "os/layout.h"
#include "os/resolve.h"

#define ATTR_MAX (64 * 1024)

int ka_open(const char *sysroot, struct ka **ret)
{
	if (!sysroot || !*sysroot)
		return -EINVAL;

	_cleanup_free_ char *root = xstrdup(sysroot);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		root[--n] = '\0';

	_cleanup_close_ int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	/* The running system's own root may be read without openat2 (see res_allow_walk). */
	struct stat st, slash;
	res_allow_walk(fstat(fd, &st) == 0 && stat("/", &slash) == 0 && st.st_dev == slash.st_dev &&
		       st.st_ino == slash.st_ino);

	_cleanup_close_ int sysfd = res_open(fd, "sys", RES_PATH | RES_DIR, 0);
	if (sysfd < 0)
		return sysfd == -ENOTDIR || sysfd == -ENOSYS ? sysfd : -ENOENT;

	struct statfs sfs;
	if (fstatfs(sysfd, &sfs) < 0)
		return -errno;

	struct ka *ka = xcalloc(1, sizeof(*ka));
	ka->root = TAKE_PTR(root);
	ka->rootfd = TAKE_FD(fd);
	ka->sysfd = TAKE_FD(sysfd);
	ka->live = sfs.f_type == SYSFS_MAGIC;
	ka->timeout_ms = 30000;
	ka->dirs = xcalloc(1, sizeof(*ka->dirs));
	ka->memo = xcalloc(1, sizeof(*ka->memo));
	*ret = ka;
	return 0;
}

void ka_free(struct ka *ka)
{
	if (!ka)
		return;
	if (ka->rootfd >= 0)
		close(ka->rootfd);
	if (ka->sysfd >= 0)
		close(ka->sysfd);
	if (ka->kmod)
		kmodlib()->kmod_unref(ka->kmod); /* loaded: it made ka->kmod */
	ka_forget_dirs(ka);
	free(ka->dirs);
	for (size_t i = 0; i < ka->memo->n; i++) {
		free(ka->memo->key[i]);
		free(ka->memo->value[i]);
	}
	free(ka->memo->key);
	free(ka->memo->value);
	free(ka->memo);
	backend_free(ka->backend);
	free(ka->root);
	free(ka);
}

const char *ka_root(const struct ka *ka)
{
	return ka->root;
}

bool ka_is_live(const struct ka *ka)
{
	return ka->live;
}

bool ka_sys_is_sysfs(const struct ka *ka)
{
	struct statfs sfs;
	return fstatfs(ka->sysfd, &sfs) == 0 && sfs.f_type == SYSFS_MAGIC;
}

int ka_rootfd(const struct ka *ka)
{
	return ka->rootfd;
}

char *ka_path(const struct ka *ka, const char *rel)
{
	if (strcmp(ka->root, "/") == 0)
		return xasprintf("/%s", rel);
	return xasprintf("%s/%s", ka->root, rel);
}

const char *ka_strerror(int err)
{
	return err == -EXDEV ? "a symlink leads outside the sysroot" : res_strerror(err);
}

int ka_open_dir(const struct ka *ka, const char *rel, int *ret_fd)
{
	int fd = res_open(ka->rootfd, rel, RES_PATH | RES_DIR, 0);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

int ka_open_subdir(int dirfd, const char *name, int flags)
{
	return res_open(dirfd, name, RES_DIR | RES_NOFOLLOW | ((flags & O_PATH) ? RES_PATH : 0), 0);
}

int ka_list_fd(int fd, struct strv *ret)
{
	struct res_entry *e = NULL;
	size_t n = 0;
	int r = res_list_fd(fd, &e, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		strv_push(ret, TAKE_PTR(e[i].name));
	res_entries_free(e, n);
	return 0;
}

/* Below an open directory through real directories only: no link at all on the way. */
static int open_real(int dirfd, const char *rel, unsigned flags)
{
	return res_open(dirfd, rel, flags | RES_NO_SYMLINKS, 0);
}

int ka_list_under(int dirfd, const char *rel, struct strv *ret)
{
	_cleanup_close_ int fd = open_real(dirfd, rel, RES_DIR);
	if (fd < 0)
		return fd;
	return ka_list_fd(fd, ret);
}

int ka_list_dir(const struct ka *ka, const char *rel, struct strv *ret)
{
	_cleanup_close_ int fd = res_open(ka->rootfd, rel, RES_DIR, 0);
	if (fd < 0)
		return fd;
	return ka_list_fd(fd, ret);
}

static int read_fd(int fd, char *buf, size_t size)
{
	size_t got = 0;
	while (got < size) {
		ssize_t k = read(fd, buf + got, size - got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (int)got;
}

/* Read an open file (closed here) as a text attribute. */
static int read_open_fd(int fd_in, size_t max, bool to_eof, char **ret)
{
	_cleanup_close_ int fd = fd_in;

	/* sysfs attributes fit a page: read into the stack, keep only what was read. */
	char page[4096];
	ssize_t k;
	do
		k = read(fd, page, sizeof(page));
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	size_t len = (size_t)k;
	_cleanup_free_ char *buf = NULL;
	if (len == sizeof(page) || (to_eof && len > 0)) {
		/* A larger plain or proc file: read on to its end, growing the buffer. */
		size_t cap = sizeof(page) * 4;
		buf = xmalloc(cap + 1);
		memcpy(buf, page, len);
		for (;;) {
			k = read(fd, buf + len, cap - len);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (k == 0)
				break;
			len += (size_t)k;
			if (len == cap) {
				if (cap >= max) {
					char extra;
					if (read(fd, &extra, 1) != 0)
						return -EFBIG;
					break;
				}
				cap *= 4;
				buf = xreallocarray(buf, cap + 1, 1);
			}
		}
		if (len > max)
			return -EFBIG;
	} else {
		buf = xmalloc(len + 1);
		memcpy(buf, page, len);
	}
	if (memchr(buf, '\0', len))
		return -EBADMSG;
	buf[len] = '\0';
	strip(buf);
	*ret = TAKE_PTR(buf);
	return 0;
}

static int read_limited(int dirfd, const char *name, size_t max, bool to_eof, char **ret)
{
	int fd = res_open_attr(dirfd, name, true);
	if (fd < 0)
		return fd;
	return read_open_fd(fd, max, to_eof, ret);
}

int ka_read_at(int dirfd, const char *name, char **ret)
{
	return read_limited(dirfd, name, ATTR_MAX, false, ret);
}

int ka_read_under(int dirfd, const char *rel, char **ret)
{
	int fd = open_real(dirfd, rel, RES_REG);
	if (fd < 0)
		return fd;
	return read_open_fd(fd, ATTR_MAX, false, ret);
}

void ka_forget_dirs(const struct ka *ka)
{
	struct ka_dirs *d = ka->dirs;
	for (size_t i = 0; d && i < KA_DIRS; i++) {
		if (d->rel[i] && d->fd[i] >= 0)
			close(d->fd[i]);
		free(d->rel[i]);
		d->rel[i] = NULL;
	}
}

const char *ka_memo_get(const struct ka *ka, const char *key)
{
	for (size_t i = 0; i < ka->memo->n; i++)
		if (streq(ka->memo->key[i], key))
			return ka->memo->value[i];
	return NULL;
}

void ka_memo_put(const struct ka *ka, const char *key, const char *value)
{
	struct ka_memo *m = ka->memo;
	if (m->n >= 256) /* IDs enough for any host's nodes; a tree of hostile owners stays bounded */
		return;
	m->key = xreallocarray(m->key, m->n + 1, sizeof(*m->key));
	m->value = xreallocarray(m->value, m->n + 1, sizeof(*m->value));
	m->key[m->n] = xstrdup(key);
	m->value[m->n++] = xstrdup(value);
}

/*
 * The directory part of rel, resolved beneath the root (following links
 * inside it); *name is the last component, which the caller opens without
 * following. From the handle's kept directories, or opened and kept there
 * (the least recently used one gives way), an absent one too (-ENOENT).
 * *to_close is what the caller closes: -1 for a kept one.
 */
static int open_parent(const struct ka *ka, const char *rel, const char **name, int *to_close)
{
	struct ka_dirs *d = ka->dirs;
	const char *slash = strrchr(rel, '/');
	*to_close = -1;
	/* A process's directory is not kept: its PID can be another process's by the next look. */
	if (!slash || (strncmp(rel, LAY_PROC "/", sizeof(LAY_PROC)) == 0)) {
		int fd = res_open_parent(ka->rootfd, rel, 0, name);
		return *to_close = fd;
	}
	size_t len = (size_t)(slash - rel), lru = 0;
	for (size_t i = 0; i < KA_DIRS; i++) {
		if (d->rel[i] && strlen(d->rel[i]) == len && memcmp(d->rel[i], rel, len) == 0) {
			d->used[i] = ++d->clock;
			*name = slash + 1;
			return d->fd[i]; /* -ENOENT: known absent */
		}
		if (!d->rel[i] || (d->rel[lru] && d->used[i] < d->used[lru]))
			lru = i;
	}
	int fd = res_open_parent(ka->rootfd, rel, 0, name);
	if (fd < 0 && fd != -ENOENT) /* an absent directory is kept as such: dev/vfio/devices on kernels without cdevs */
		return fd;
	if (d->rel[lru]) {
		if (d->fd[lru] >= 0)
			close(d->fd[lru]);
		free(d->rel[lru]);
	}
	d->rel[lru] = xstrndup(rel, len);
	d->fd[lru] = fd;
	d->used[lru] = ++d->clock;
	return fd;
}

int ka_read(const struct ka *ka, const char *rel, char **ret)
{
	const char *name;
	_cleanup_close_ int own = -1;
	int dfd = open_parent(ka, rel, &name, &own);
	if (dfd < 0)
		return dfd;
	return ka_read_at(dfd, name, ret);
}

int ka_read_binary_at(int dirfd, const char *name, void *buf, size_t size)
{
	_cleanup_close_ int fd = res_open_attr(dirfd, name, true);
	if (fd < 0)
		return fd;
	return read_fd(fd, buf, size);
}

int ka_link_base_at(int dirfd, const char *name, char **ret)
{
	size_t cap = 256;
	for (;;) {
		_cleanup_free_ char *buf = xmalloc(cap);
		ssize_t n = readlinkat(dirfd, name, buf, cap);
		if (n < 0)
			return errno == EINVAL ? -ENOLINK : -errno;
		if ((size_t)n < cap) {
			buf[n] = '\0';
			while (n > 1 && buf[n - 1] == '/')
				buf[--n] = '\0';
			const char *base = strrchr(buf, '/');
			base = base ? base + 1 : buf;
			if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
				return -EBADMSG;
			*ret = xstrdup(base);
			return 0;
		}
		if (cap >= 65536)
			return -ENAMETOOLONG;
		cap *= 2;
	}
}

bool ka_is_regular_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int ka_stat(const struct ka *ka, const char *rel, struct stat *ret)
{
	const char *name;
	_cleanup_close_ int own = -1;
	int dfd = open_parent(ka, rel, &name, &own);
	if (dfd < 0)
		return dfd;
	return fstatat(dfd, name, ret, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

bool ka_exists_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int ka_read_big(const struct ka *ka, const char *rel, size_t max, char **ret)
{
	const char *name;
	_cleanup_close_ int own = -1;
	int dfd = open_parent(ka, rel, &name, &own);
	if (dfd < 0)
		return dfd;
	return read_limited(dfd, name, max, true, ret);
}

/*
 * Class devices below an open directory, depth first, through real
 * directories only. A directory that cannot be read is an error, never a
 * directory with nothing in it: the checks that ask must not pass blind.
 */
static int find_class(int dirfd, const char *rel, const char *subsystem, unsigned depth, struct strv *ret)
{
	if (depth > 12)
		return 0;
	_cleanup_free_ char *sub = NULL;
	if (ka_link_base_at(dirfd, "subsystem", &sub) == 0 && streq(sub, subsystem) && depth > 0)
		strv_push(ret, xstrdup(rel));
	_cleanup_close_ int fd = res_open(dirfd, ".", RES_DIR, 0);
	struct res_entry *e = NULL;
	size_t n = 0;
	int r = fd < 0 ? fd : res_list_fd(fd, &e, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (e[i].type != DT_DIR)
			continue;
		_cleanup_close_ int cfd = res_open(fd, e[i].name, RES_PATH | RES_DIR | RES_NOFOLLOW, 0);
		if (cfd == -ENOENT)
			continue; /* gone meanwhile */
		if (cfd < 0) {
			r = cfd;
			break;
		}
		_cleanup_free_ char *crel = xasprintf("%s/%s", rel, e[i].name);
		r = find_class(cfd, crel, subsystem, depth + 1, ret);
	}
	res_entries_free(e, n);
	return r;
}

int ka_find_class_devices(const struct ka *ka, const char *devdir, const char *subsystem, struct strv *ret)
{
	_cleanup_close_ int fd = res_open(ka->rootfd, devdir, RES_PATH | RES_DIR, 0);
	if (fd < 0)
		return fd;
	return find_class(fd, devdir, subsystem, 0, ret);
}

int ka_device_path(const struct ka *ka, const char *address, char **ret)
{
	_cleanup_free_ char *link = lay_pci_device(address);
	if (!link)
		return -ENODEV;
	_cleanup_free_ char *target = NULL;
	int r = ka_readlink(ka, link, &target);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	char *p = path_resolve_rel(LAY_PCI_DEVICES, target);
	if (!p)
		return -EXDEV;
	*ret = p;
	return 0;
}

bool ka_vf_autoprobe_off(const struct ka *ka, const char *address)
{
	_cleanup_free_ char *rel = lay_pci_device_attr(address, "physfn/sriov_drivers_autoprobe");
	_cleanup_free_ char *v = NULL;
	return rel && ka_read(ka, rel, &v) == 0 && streq(v, "0");
}

bool ka_module_has_pci_driver(const struct ka *ka, const char *module)
{
	_cleanup_free_ char *rel = lay_module_attr(module, "drivers");
	struct strv names = { 0 };
	bool any = false;
	if (rel && ka_list_dir(ka, rel, &names) == 0)
		for (size_t i = 0; i < names.n; i++)
			any |= strncmp(names.v[i], "pci:", 4) == 0;
	strv_free(&names);
	return any;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ka_entry *)a)->name, ((const struct ka_entry *)b)->name);
}

static int scan_dir(const struct ka *ka, const char *rel, unsigned flags, struct ka_entry **ret, size_t *n)
{
	*ret = NULL;
	*n = 0;
	_cleanup_close_ int fd = res_open(ka->rootfd, rel, RES_DIR | flags, 0);
	if (fd < 0)
		return fd;
	struct res_entry *re = NULL;
	size_t count = 0;
	int r = res_list_fd(fd, &re, &count);
	if (r < 0)
		return r;
	struct ka_entry *e = xcalloc(count ? count : 1, sizeof(*e));
	size_t used = 0;
	for (size_t i = 0; i < count; i++) {
		struct stat st;
		if (fstatat(fd, re[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		e[used].name = TAKE_PTR(re[i].name);
		e[used].mode = st.st_mode;
		used++;
	}
	res_entries_free(re, count);
	sort_array(e, used, sizeof(*e), entry_cmp);
	*ret = e;
	*n = used;
	return 0;
}

int ka_scan_dir(const struct ka *ka, const char *rel, struct ka_entry **ret, size_t *n)
{
	return scan_dir(ka, rel, 0, ret, n);
}

int ka_scan_etc(const struct ka *ka, const char *rel, struct ka_entry **ret, size_t *n)
{
	return scan_dir(ka, rel, RES_IN_ROOT, ret, n);
}

int ka_read_etc(const struct ka *ka, const char *rel, size_t max, char **ret)
{
	int fd = res_open(ka->rootfd, rel, RES_REG | RES_IN_ROOT, 0);
	if (fd < 0)
		return fd;
	return read_open_fd(fd, max, true, ret);
}

void ka_entries_free(struct ka_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

int ka_readlink(const struct ka *ka, const char *rel, char **ret)
{
	const char *name;
	_cleanup_close_ int own = -1;
	int dfd = open_parent(ka, rel, &name, &own);
	if (dfd < 0)
		return dfd;
	return res_readlink(dfd, name, ret);
}

int ka_read_raw(const struct ka *ka, const char *rel, size_t max, char **ret, size_t *len)
{
	const char *name;
	_cleanup_close_ int own = -1;
	int dfd = open_parent(ka, rel, &name, &own);
	if (dfd < 0)
		return dfd;
	_cleanup_close_ int fd = res_open_attr(dfd, name, true);
	if (fd < 0)
		return fd;
	_cleanup_free_ char *buf = xmalloc(max + 1);
	int got = read_fd(fd, buf, max);
	if (got < 0)
		return got;
	buf[got] = '\0';
	*ret = TAKE_PTR(buf);
	*len = (size_t)got;
	return 0;
}
