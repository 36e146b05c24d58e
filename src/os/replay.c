// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The replay engine: what the kernel does when driver_override, bind, unbind
 * and drivers_probe are written, applied to the files of a captured tree
 * (shared/reference/kernel-rules.md). Only used when <sysroot>/sys is not a
 * sysfs mount; every write re-checks that. It changes only the tree's own
 * files: regular files, looked at before they are opened, on paths that
 * cross no mount point inside the tree.
 *
 * Faults are injected by <sysroot>/replay-faults, one rule a line, each
 * firing at most once per run, in order:
 *   OP DEVICE|* ERRNO   fail the next OP (override, unbind, bind, probe, load)
 *                       on DEVICE (for load: the driver) with ERRNO, unapplied
 *   write N ERRNO       fail the N-th sysfs write of this run
 *   kill N              SIGKILL this process right after the N-th write
 *   delay N MS          sleep MS milliseconds after the N-th write
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <time.h>
#include <unistd.h>

#include "os/drivers.h"
#include "os/kaccess-internal.h"

#define FAULT_FILE "replay-faults"

struct fault {
	char *op;
	char *device; /* "*" for any */
	int err;
	unsigned long n; /* write, kill, delay */
	unsigned long ms;
	bool fired;
};

struct replay {
	bool loaded;
	struct fault *faults;
	size_t nfaults, cap;
};

void replay_free(struct replay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfaults; i++) {
		free(r->faults[i].op);
		free(r->faults[i].device);
	}
	free(r->faults);
	free(r);
}

static struct replay *replay_get(struct ka *ka)
{
	if (ka->replay)
		return ka->replay;
	struct replay *rp = ka->replay = xcalloc(1, sizeof(*rp));
	_cleanup_free_ char *text = NULL;
	if (ka_read_at(ka->rootfd, FAULT_FILE, &text) < 0)
		return rp;
	unsigned lineno = 0;
	for (char *next = text, *line; (line = strsep(&next, "\n"));) {
		lineno++; /* empty lines count too, so warnings name the right line */
		char op[16], a[64], b[32];
		int n = sscanf(line, " %15s %63s %31s", op, a, b);
		if (n <= 0 || op[0] == '#')
			continue;
		struct fault f = { 0 };
		unsigned long v;
		bool ok = false;
		if (streq(op, "kill") && n >= 2 && parse_ulong(a, 10, &v) == 0) {
			f.n = v;
			ok = true;
		} else if ((streq(op, "write") || streq(op, "delay")) && n == 3 && parse_ulong(a, 10, &v) == 0) {
			f.n = v;
			if (streq(op, "write"))
				ok = (f.err = errno_from_name(b)) > 0;
			else
				ok = parse_ulong(b, 10, &f.ms) == 0;
		} else if (n == 3 && (streq(op, "override") || streq(op, "unbind") || streq(op, "bind") ||
				      streq(op, "probe") || streq(op, "load"))) {
			f.device = xstrdup(a);
			ok = (f.err = errno_from_name(b)) > 0;
		}
		if (!ok) {
			_cleanup_free_ char *p = ka_path(ka, FAULT_FILE);
			log_warning("%s:%u: ignored rule '%s' (see the man page, REPLAY)", p, lineno, line);
			free(f.device);
			continue;
		}
		f.op = xstrdup(op);
		rp->faults = grow_array(rp->faults, &rp->cap, rp->nfaults + 1, sizeof(*rp->faults));
		rp->faults[rp->nfaults++] = f;
	}
	return rp;
}

int replay_fault(struct ka *ka, const char *op, const char *device, unsigned nth)
{
	struct replay *rp = replay_get(ka);
	for (size_t i = 0; i < rp->nfaults; i++) {
		struct fault *f = &rp->faults[i];
		if (f->fired)
			continue;
		bool hit = (streq(f->op, "write") && f->n == nth) ||
			   (streq(f->op, op) && f->device && (streq(f->device, "*") || streq(f->device, device)));
		if (hit) {
			f->fired = true;
			return -f->err;
		}
	}
	return 0;
}

void replay_after_write(struct ka *ka, unsigned nth)
{
	struct replay *rp = replay_get(ka);
	for (size_t i = 0; i < rp->nfaults; i++) {
		struct fault *f = &rp->faults[i];
		if (f->fired || f->n != nth)
			continue;
		if (streq(f->op, "delay")) {
			f->fired = true;
			struct timespec ts = { (time_t)(f->ms / 1000), (long)(f->ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		} else if (streq(f->op, "kill")) {
			fflush(NULL);
			raise(SIGKILL);
		}
	}
}

/* ---- the tree ---- */

/*
 * Every path the replay engine changes is resolved beneath the root and on
 * the tree's own filesystem: a filesystem mounted inside the tree (a sysfs, a
 * devtmpfs, a bind mount) is never written and never has names removed.
 */
#define CHANGE_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* Whether rel, refused with EXDEV, resolves beneath the root once mounts may be crossed. */
static bool crosses_mount(struct ka *ka, const char *rel)
{
	int fd = ka_openat2_beneath(ka->rootfd, rel, O_PATH);
	if (fd >= 0)
		close(fd);
	return fd != -EXDEV;
}

/* Name the file behind a refusal (the command layer only sees the errno); returns err. */
static int refused(struct ka *ka, const char *rel, int err)
{
	_cleanup_free_ char *path = NULL;
	if (err == -EXDEV) {
		path = ka_path(ka, rel);
		if (crosses_mount(ka, rel))
			log_error("%s: on a filesystem mounted inside the tree: the replay engine changes "
				  "only the tree's own files",
				  path);
		else
			log_error("%s: a symlink leads outside the tree", path);
	} else if (err == -EPERM) {
		path = ka_path(ka, rel);
		log_error("%s: not a regular file (a FIFO, device node, socket or symlink): the replay engine "
			  "changes only plain files",
			  path);
	} else if (err == -EEXIST) {
		path = ka_path(ka, rel);
		log_error("%s: appeared while the replay engine was creating it: it is left alone", path);
	}
	return err;
}

/* "sys/devices/.../<addr>" for a device, from its bus/pci/devices link. */
static int device_path(struct ka *ka, const char *addr, char **ret)
{
	_cleanup_free_ char *link = xasprintf("sys/bus/pci/devices/%s", addr);
	char buf[4096];
	ssize_t n = readlinkat(ka->rootfd, link, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	buf[n] = '\0';
	char *p = path_resolve_rel("sys/bus/pci/devices", buf);
	if (!p)
		return -EXDEV;
	*ret = p;
	return 0;
}

/* A directory of the tree, only looked at: unusable (-EXDEV) is not worth a message. */
static int lookup_beneath(struct ka *ka, const char *rel, int flags)
{
	return ka_openat2_how(ka->rootfd, rel, flags, 0, CHANGE_RESOLVE);
}

/* A directory of the tree, to change what is in it: unusable is named. */
static int open_beneath(struct ka *ka, const char *rel, int flags)
{
	int fd = lookup_beneath(ka, rel, flags);
	return fd == -EXDEV ? refused(ka, rel, fd) : fd;
}

/* A directory right inside dirfd, not a link, not a mount point. */
static int open_child(int dirfd, const char *name, int flags)
{
	return ka_openat2_how(dirfd, name, flags | O_DIRECTORY | O_NOFOLLOW, 0,
			      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
}

/*
 * Whether rel is a plain file of the tree, looked at without opening it (a
 * FIFO would block, a device node would be the host's): 0 with its identity,
 * -ENOENT when absent, -EPERM when something else is there, -EXDEV across a mount.
 */
static int plain_file(struct ka *ka, const char *rel, struct stat *ret)
{
	_cleanup_close_ int fd = ka_openat2_how(ka->rootfd, rel, O_PATH | O_NOFOLLOW, 0, CHANGE_RESOLVE);
	if (fd < 0)
		return fd == -ENOENT ? fd : refused(ka, rel, fd);
	if (fstat(fd, ret) < 0)
		return -errno;
	return S_ISREG(ret->st_mode) ? 0 : refused(ka, rel, -EPERM);
}

/* Open a plain file of the tree for writing (created when asked), never anything else. */
static int open_plain(struct ka *ka, const char *rel, bool create)
{
	struct stat before, st;
	int r = plain_file(ka, rel, &before);
	if (r < 0 && !(r == -ENOENT && create))
		return r;
	bool existed = r == 0;
	/* Created only where nothing was: whatever appeared in between is not opened. */
	int flags = O_WRONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | (existed ? 0 : O_CREAT | O_EXCL);
	_cleanup_close_ int fd = ka_openat2_how(ka->rootfd, rel, flags, 0644, CHANGE_RESOLVE);
	if (fd < 0)
		return refused(ka, rel, fd);
	if (fstat(fd, &st) < 0)
		return -errno;
	/* Replaced in between: refuse rather than write whatever it is now. */
	if (!S_ISREG(st.st_mode) || (existed && (st.st_dev != before.st_dev || st.st_ino != before.st_ino)))
		return refused(ka, rel, -EPERM);
	return TAKE_FD(fd);
}

static int write_file(struct ka *ka, const char *rel, const char *content, bool create)
{
	/* Opened without O_TRUNC: nothing changes until it is known not to be sysfs. */
	_cleanup_close_ int fd = open_plain(ka, rel, create);
	if (fd < 0)
		return fd;
	/* A real sysfs mounted inside a captured tree is never written as a plain file. */
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type == SYSFS_MAGIC)
		return -EXDEV;
	if (ftruncate(fd, 0) < 0)
		return -errno;
	size_t len = strlen(content);
	if (write(fd, content, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

/* Remove a directory tree below dirfd/name (the tree's own files only, on its own filesystem). */
static int remove_tree_at(int dirfd, const char *name)
{
	int fd = open_child(dirfd, name, O_RDONLY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			remove_tree_at(fd, de->d_name);
		else
			unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static char *device_group(int devfd)
{
	char *g = NULL;
	if (ka_link_base_at(devfd, "iommu_group", &g) < 0)
		return NULL;
	return g;
}

/* The group's file in /dev/vfio: N, or noiommu-N for a group of VFIO's no-IOMMU mode. */
static char *group_node(struct ka *ka, const char *group)
{
	_cleanup_free_ char *rel = xasprintf("sys/kernel/iommu_groups/%s/name", group);
	_cleanup_free_ char *name = NULL;
	if (ka_read(ka, rel, &name) == 0 && streq(name, "vfio-noiommu"))
		return xasprintf("noiommu-%s", group);
	return xstrdup(group);
}

/* "dev/vfio/<node>", the group's file in the tree. */
static char *group_node_rel(struct ka *ka, const char *group)
{
	_cleanup_free_ char *node = group_node(ka, group);
	return xasprintf("dev/vfio/%s", node);
}

/* Whether any process under <sysroot>/proc holds the group's file, /dev/vfio/N or /dev/vfio/noiommu-N. */
static bool group_held(struct ka *ka, const char *group)
{
	struct vfio_holder *h = NULL;
	size_t n = 0;
	if (ka_vfio_holders(ka, &h, &n) < 0)
		return false;
	_cleanup_free_ char *node = group_node(ka, group);
	_cleanup_free_ char *path = xasprintf("/dev/vfio/%s", node);
	bool held = false;
	for (size_t i = 0; i < n; i++)
		held |= streq(h[i].path, path);
	vfio_holders_free(h, n);
	return held;
}

/* Header type from config space (or, without config, from the class). */
static int header_type(int devfd)
{
	unsigned char cfg[16];
	if (ka_read_binary_at(devfd, "config", cfg, sizeof(cfg)) == (int)sizeof(cfg))
		return cfg[0x0e] & 0x7f;
	_cleanup_free_ char *cls = NULL;
	unsigned long c;
	if (ka_read_at(devfd, "class", &cls) == 0 && parse_ulong(cls, 16, &c) == 0)
		return ((c >> 8) == 0x0604 || (c >> 8) == 0x0609) ? 1 : (c >> 8) == 0x0607 ? 2 : 0;
	return 0;
}

/* The module behind a loaded driver: its module link, else the driver's own name. */
static char *driver_module(int drvfd, const char *driver)
{
	char *m = NULL;
	if (ka_link_base_at(drvfd, "module", &m) == 0)
		return m;
	return xstrdup(driver);
}

static bool driver_matches_alias(struct ka *ka, int devfd, int drvfd, const char *driver)
{
	_cleanup_free_ char *alias = NULL;
	if (ka_read_at(devfd, "modalias", &alias) < 0)
		return false;
	struct strv mods = { 0 };
	if (ka_modalias_modules(ka, alias, &mods) < 0)
		return false;
	_cleanup_free_ char *mine = driver_module(drvfd, driver);
	bool hit = false;
	for (size_t i = 0; i < mods.n; i++)
		hit |= driver_name_eq(mods.v[i], mine);
	strv_free(&mods);
	return hit;
}

/* Name of the first free vfio-dev/vfioN index across the tree. */
static unsigned vfio_dev_index(struct ka *ka)
{
	struct strv names = { 0 };
	unsigned idx = 0;
	if (ka_list_dir(ka, "sys/class/vfio-dev", &names) == 0) {
		for (;; idx++) {
			char buf[32];
			snprintf(buf, sizeof(buf), "vfio%u", idx);
			if (!strv_contains(&names, buf))
				break;
		}
	}
	strv_free(&names);
	return idx;
}

/* What a VFIO driver's probe adds: vfio-dev/vfioX, its link in sys/class/vfio-dev, the group's file. */
static void vfio_attach(struct ka *ka, int devfd, const char *devpath, const char *group)
{
	unsigned idx = vfio_dev_index(ka);
	char name[32];
	snprintf(name, sizeof(name), "vfio%u", idx);
	mkdirat(devfd, "vfio-dev", 0755);
	_cleanup_close_ int vfd = open_child(devfd, "vfio-dev", O_PATH);
	if (vfd >= 0 && mkdirat(vfd, name, 0755) == 0) {
		_cleanup_free_ char *rel = xasprintf("%s/vfio-dev/%s/dev", devpath, name);
		char dev[32];
		snprintf(dev, sizeof(dev), "%u:%u\n", 511, idx);
		write_file(ka, rel, dev, true);
	}
	_cleanup_close_ int cfd = open_beneath(ka, "sys/class/vfio-dev", O_PATH | O_DIRECTORY);
	if (cfd >= 0) {
		_cleanup_free_ char *to = xasprintf("%s/vfio-dev/%s", devpath, name);
		_cleanup_free_ char *rel = path_relative("sys/class/vfio-dev", to);
		symlinkat(rel, cfd, name);
	}
	if (group) {
		_cleanup_free_ char *rel = group_node_rel(ka, group);
		write_file(ka, rel, "", true); /* -ENOENT: a tree without dev/vfio */
	}
}

/*
 * Whether the files a VFIO probe or remove changes may be changed, checked
 * before anything is: the device's vfio-dev/, sys/class/vfio-dev and the
 * group's file lie on the tree's own filesystem where they exist, and the
 * group's file is a plain file.
 */
static int vfio_files_usable(struct ka *ka, const char *devpath, const char *group)
{
	_cleanup_free_ char *own = xasprintf("%s/vfio-dev", devpath);
	_cleanup_close_ int vfd = open_beneath(ka, own, O_PATH | O_DIRECTORY);
	if (vfd < 0 && vfd != -ENOENT)
		return vfd;
	_cleanup_close_ int cfd = open_beneath(ka, "sys/class/vfio-dev", O_PATH | O_DIRECTORY);
	if (cfd < 0 && cfd != -ENOENT)
		return cfd;
	if (!group)
		return 0;
	_cleanup_free_ char *rel = group_node_rel(ka, group);
	struct stat st;
	int r = plain_file(ka, rel, &st);
	return r == -ENOENT ? 0 : r;
}

static bool group_has_vfio_device(struct ka *ka, const char *group, const char *except)
{
	_cleanup_free_ char *rel = xasprintf("sys/kernel/iommu_groups/%s/devices", group);
	struct strv names = { 0 };
	if (ka_list_dir(ka, rel, &names) < 0)
		return false;
	bool any = false;
	for (size_t i = 0; i < names.n && !any; i++) {
		if (streq(names.v[i], except))
			continue;
		_cleanup_free_ char *dpath = xasprintf("%s/%s", rel, names.v[i]);
		_cleanup_close_ int fd = lookup_beneath(ka, dpath, O_PATH | O_DIRECTORY);
		_cleanup_free_ char *drv = NULL;
		if (fd >= 0 && ka_link_base_at(fd, "driver", &drv) == 0)
			any = driver_role(drv, false) == ROLE_USER;
	}
	strv_free(&names);
	return any;
}

/* What removing a VFIO driver takes away; the group's file goes with the group's last VFIO device. */
static void vfio_detach(struct ka *ka, int devfd, const char *addr, const char *group)
{
	struct strv names = { 0 };
	_cleanup_close_ int vfd = open_child(devfd, "vfio-dev", O_RDONLY);
	if (vfd >= 0)
		ka_list_fd(vfd, &names);
	_cleanup_close_ int cfd = open_beneath(ka, "sys/class/vfio-dev", O_PATH | O_DIRECTORY);
	for (size_t i = 0; cfd >= 0 && i < names.n; i++)
		unlinkat(cfd, names.v[i], 0);
	strv_free(&names);
	remove_tree_at(devfd, "vfio-dev");
	if (!group || group_has_vfio_device(ka, group, addr))
		return;
	_cleanup_free_ char *rel = group_node_rel(ka, group);
	struct stat st;
	if (plain_file(ka, rel, &st) < 0)
		return;
	_cleanup_close_ int vdir = open_beneath(ka, "dev/vfio", O_PATH | O_DIRECTORY);
	_cleanup_free_ char *node = group_node(ka, group);
	if (vdir >= 0)
		unlinkat(vdir, node, 0);
}

/* The device's directory: its path under sys/devices and an open descriptor; -ENODEV when absent. */
static int open_device(struct ka *ka, const char *addr, char **ret_path, int *ret_fd)
{
	_cleanup_free_ char *devpath = NULL;
	int r = device_path(ka, addr, &devpath);
	if (r < 0)
		return r;
	int fd = open_beneath(ka, devpath, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return fd == -EXDEV ? fd : -ENODEV;
	*ret_path = TAKE_PTR(devpath);
	*ret_fd = fd;
	return 0;
}

static int do_override(struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *dir = xasprintf("sys/bus/pci/devices/%s", w->device);
	_cleanup_close_ int devfd = open_beneath(ka, dir, O_PATH | O_DIRECTORY);
	if (devfd < 0)
		return devfd == -ENOENT ? -ENODEV : devfd;
	const char *v = ka_write_value(w);
	size_t len = strcspn(v, "\n");
	if (strlen(v) >= 4096 - 1)
		return -EINVAL;
	if (!ka_exists_at(devfd, "driver_override"))
		return -ENOENT;
	_cleanup_free_ char *content = len ? xasprintf("%.*s\n", (int)len, v) : xstrdup("(null)\n");
	_cleanup_free_ char *rel = xasprintf("%s/driver_override", dir);
	return write_file(ka, rel, content, false);
}

static int do_unbind(struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *drvdir = xasprintf("sys/bus/pci/drivers/%s", w->driver);
	_cleanup_close_ int drvfd = open_beneath(ka, drvdir, O_PATH | O_DIRECTORY);
	if (drvfd < 0)
		return drvfd;
	_cleanup_free_ char *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	int r = open_device(ka, w->device, &devpath, &devfd);
	if (r < 0)
		return r;
	_cleanup_free_ char *cur = NULL;
	if (ka_link_base_at(devfd, "driver", &cur) < 0 || !streq(cur, w->driver))
		return -ENODEV;
	_cleanup_free_ char *group = device_group(devfd);
	bool vfio = driver_role(w->driver, false) == ROLE_USER || ka_exists_at(devfd, "vfio-dev");
	/* The kernel blocks until user space lets go; a replay cannot wait forever. */
	if (vfio && group && group_held(ka, group))
		return -EBUSY;
	if (vfio && (r = vfio_files_usable(ka, devpath, group)) < 0)
		return r;
	if (unlinkat(devfd, "driver", 0) < 0)
		return -errno;
	unlinkat(drvfd, w->device, 0);
	if (vfio)
		vfio_detach(ka, devfd, w->device, group);
	return 0;
}

/* Whether driver matches the device: driver_override decides alone when set; VFIO drivers match no other way. */
static bool driver_matches(struct ka *ka, int devfd, int drvfd, const char *driver, const char *override)
{
	if (override)
		return streq(override, driver);
	return driver_role(driver, false) != ROLE_USER && driver_matches_alias(ka, devfd, drvfd, driver);
}

/*
 * The kernel's bind of driver to the device (bind_store, then really_probe):
 * match, then probe. While probing every driver, one whose directory cannot
 * be used is passed over in silence; a bind that names it says why it fails.
 */
static int try_bind(struct ka *ka, const char *devpath, int devfd, const char *addr, const char *driver,
		    bool probing)
{
	_cleanup_free_ char *drvdir = xasprintf("sys/bus/pci/drivers/%s", driver);
	_cleanup_close_ int drvfd = probing ? lookup_beneath(ka, drvdir, O_PATH | O_DIRECTORY)
					    : open_beneath(ka, drvdir, O_PATH | O_DIRECTORY);
	if (drvfd < 0)
		return drvfd;

	/* Match first: a driver that does not match fails with ENODEV, bound device or not. */
	_cleanup_free_ char *ov = NULL;
	bool overridden = ka_read_at(devfd, "driver_override", &ov) == 0 && *ov && !streq(ov, "(null)");
	if (!driver_matches(ka, devfd, drvfd, driver, overridden ? ov : NULL))
		return -ENODEV;
	if (ka_exists_at(devfd, "driver"))
		return -EBUSY;

	/* Probe. */
	_cleanup_free_ char *group = device_group(devfd);
	enum role role = driver_role(driver, false);
	if (role == ROLE_KERNEL && group && group_held(ka, group))
		return -EBUSY; /* pci_dma_configure: user space owns the group */
	/* pci_device_can_probe(): by any path, a bind included */
	if (!overridden && ka_vf_autoprobe_off(ka, addr))
		return -ENODEV;
	if (role == ROLE_USER) {
		if (header_type(devfd) != 0)
			return -EINVAL;
		_cleanup_free_ char *vfs = NULL;
		unsigned long nvf;
		if (ka_read_at(devfd, "sriov_numvfs", &vfs) == 0 && parse_ulong(vfs, 10, &nvf) == 0 && nvf > 0)
			return -EBUSY;
		int r = vfio_files_usable(ka, devpath, group);
		if (r < 0)
			return r;
	}

	_cleanup_free_ char *to_drv = path_relative(devpath, drvdir);
	if (symlinkat(to_drv, devfd, "driver") < 0)
		return -errno;
	_cleanup_free_ char *to_dev = path_relative(drvdir, devpath);
	symlinkat(to_dev, drvfd, addr);
	if (role == ROLE_USER)
		vfio_attach(ka, devfd, devpath, group);
	return 0;
}

static int do_bind(struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	int r = open_device(ka, w->device, &devpath, &devfd);
	if (r < 0)
		return r;
	return try_bind(ka, devpath, devfd, w->device, w->driver, false);
}

static int do_probe(struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	int r = open_device(ka, w->device, &devpath, &devfd);
	if (r < 0)
		return r;
	if (ka_exists_at(devfd, "driver"))
		return 0;
	_cleanup_free_ char *ov = NULL;
	if (ka_read_at(devfd, "driver_override", &ov) == 0 && *ov && !streq(ov, "(null)")) {
		try_bind(ka, devpath, devfd, w->device, ov, false);
		return 0;
	}
	/* Every loaded driver, in name order, until one binds; success either way. */
	struct strv drivers = { 0 };
	if (ka_list_dir(ka, "sys/bus/pci/drivers", &drivers) == 0) {
		sort_array(drivers.v, drivers.n, sizeof(*drivers.v), strv_cmp);
		for (size_t i = 0; i < drivers.n; i++)
			if (try_bind(ka, devpath, devfd, w->device, drivers.v[i], true) == 0)
				break;
	}
	strv_free(&drivers);
	return 0;
}

int replay_apply(struct ka *ka, const struct ka_write *w)
{
	unsigned nth = ka->writes;
	int r = replay_fault(ka, ka_op_name(w->op), w->device, nth);
	if (r == 0) {
		switch (w->op) {
		case KA_OVERRIDE:
			r = do_override(ka, w);
			break;
		case KA_UNBIND:
			r = do_unbind(ka, w);
			break;
		case KA_BIND:
			r = do_bind(ka, w);
			break;
		case KA_PROBE:
			r = do_probe(ka, w);
			break;
		default:
			r = -EINVAL;
		}
	}
	replay_after_write(ka, nth);
	return r;
}

int replay_load_driver(struct ka *ka, const char *driver, const char *module)
{
	/* Without a driver name (a module found by modalias), a new driver is named after its module. */
	if (!driver) {
		if (ka_module_has_pci_driver(ka, module))
			return 0;
		driver = module;
	}
	_cleanup_free_ char *drvdir = xasprintf("sys/bus/pci/drivers/%s", driver);
	_cleanup_close_ int fd = open_beneath(ka, drvdir, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		return 0;
	int r = replay_fault(ka, "load", driver, 0);
	if (r < 0)
		return r;
	/* The module must be in the tree's index, as modprobe would need it. */
	struct strv mods = { 0 };
	r = ka_modalias_modules(ka, module, &mods);
	bool found = false;
	for (size_t i = 0; i < mods.n; i++)
		found |= driver_name_eq(mods.v[i], module);
	strv_free(&mods);
	if (r < 0)
		return r;
	if (!found)
		return -ENOENT;

	_cleanup_close_ int drvs = open_beneath(ka, "sys/bus/pci/drivers", O_PATH | O_DIRECTORY);
	if (drvs < 0)
		return drvs;
	if (mkdirat(drvs, driver, 0755) < 0)
		return -errno;
	_cleanup_close_ int dfd = open_child(drvs, driver, O_PATH);
	if (dfd < 0)
		return dfd;
	static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", drvdir, files[i]);
		if ((r = write_file(ka, rel, "", true)) < 0)
			return r;
	}
	/* The loaded module, as sysfs shows it: sys/module/<module>/ and the links both ways. */
	_cleanup_close_ int mods_fd = open_beneath(ka, "sys/module", O_PATH | O_DIRECTORY);
	if (mods_fd < 0)
		return mods_fd;
	mkdirat(mods_fd, module, 0755);
	_cleanup_close_ int mfd = open_child(mods_fd, module, O_PATH);
	if (mfd < 0)
		return mfd;
	if (!ka_exists_at(mfd, "uevent")) {
		_cleanup_free_ char *uevent = xasprintf("sys/module/%s/uevent", module);
		_cleanup_free_ char *initstate = xasprintf("sys/module/%s/initstate", module);
		write_file(ka, uevent, "", true);
		write_file(ka, initstate, "live\n", true);
	}
	mkdirat(mfd, "drivers", 0755);
	_cleanup_close_ int mdfd = open_child(mfd, "drivers", O_PATH);
	if (mdfd >= 0) {
		_cleanup_free_ char *link = xasprintf("pci:%s", driver);
		_cleanup_free_ char *to_drv = xasprintf("../../../bus/pci/drivers/%s", driver);
		symlinkat(to_drv, mdfd, link);
	}
	_cleanup_free_ char *to_mod = xasprintf("../../../../module/%s", module);
	if (symlinkat(to_mod, dfd, "module") < 0)
		return -errno;
	/* VFIO's container device comes with it: dev/vfio/vfio. */
	if (driver_role(driver, false) == ROLE_USER) {
		mkdirat(ka->rootfd, "dev", 0755);
		_cleanup_close_ int devfd = open_beneath(ka, "dev", O_PATH | O_DIRECTORY);
		if (devfd >= 0) {
			mkdirat(devfd, "vfio", 0755);
			_cleanup_close_ int vfd = open_child(devfd, "vfio", O_PATH);
			if (vfd >= 0 && !ka_exists_at(vfd, "vfio"))
				write_file(ka, "dev/vfio/vfio", "", true);
		}
	}
	return 0;
}
