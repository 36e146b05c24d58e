// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The replay backend: what the kernel does when driver_override, bind,
 * unbind and drivers_probe are written, applied to the files of a captured
 * tree (shared/reference/kernel-rules.md). It changes only the tree's own
 * files: regular files, looked at before they are opened, on paths that
 * cross no mount point inside the tree, every name checked as one path
 * component (layout.h). It sees the tree only through the public resolver
 * and kaccess.h, as any reader does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "os/backend.h"
#include "os/drivers.h"
#include "os/holders.h"
#include "os/layout.h"
#include "os/modindex.h"
#include "os/nodes.h"
#include "os/replay-internal.h"
#include "os/resolve.h"

/* Whether rel, refused with EXDEV, resolves beneath the root once mounts may be crossed. */
static bool crosses_mount(struct ka *ka, const char *rel)
{
	int fd = res_open(ka_rootfd(ka), rel, RES_PATH, 0);
	if (fd >= 0)
		close(fd);
	return fd != -EXDEV;
}

/* Name the file behind a refusal (the command layer only sees the errno); returns err. */
int rp_refused(struct ka *ka, const char *rel, int err)
{
	_cleanup_free_ char *path = ka_path(ka, rel);
	if (err == -EXDEV) {
		if (crosses_mount(ka, rel))
			log_error("%s: on a filesystem mounted inside the tree: the replay engine changes "
				  "only the tree's own files",
				  path);
		else
			log_error("%s: a symlink leads outside the tree", path);
	} else if (err == -EMEDIUMTYPE || err == -ELOOP) {
		log_error("%s: not a regular file (a FIFO, device node, socket or symlink): the replay engine "
			  "changes only plain files",
			  path);
		err = -EPERM;
	} else if (err == -EEXIST) {
		log_error("%s: appeared while the replay engine was creating it: it is left alone", path);
	}
	return err;
}

/* A directory of the tree, only looked at: unusable (-EXDEV) is not worth a message. */
int rp_lookup(struct ka *ka, const char *rel, unsigned flags)
{
	return rel ? res_open(ka_rootfd(ka), rel, flags | CHANGE, 0) : -EINVAL;
}

/* A directory of the tree, to change what is in it: unusable is named. */
int rp_open_dir(struct ka *ka, const char *rel)
{
	int fd = rp_lookup(ka, rel, RES_PATH | RES_DIR);
	return fd == -EXDEV ? rp_refused(ka, rel, fd) : fd;
}

/* A directory right inside dirfd, not a link, not a mount point. */
int rp_open_child(int dirfd, const char *name, unsigned flags)
{
	return res_open(dirfd, name, flags | RES_DIR | RES_NO_SYMLINKS | CHANGE, 0);
}

/*
 * Open a plain file of the tree for writing (created when asked, and only
 * where nothing was), never anything else: -ENOENT when absent, -EPERM
 * (named) for a FIFO, device node or link, -EXDEV across a mount.
 */
static int open_plain(struct ka *ka, const char *rel, bool create)
{
	int fd = res_open(ka_rootfd(ka), rel, RES_WRITE | RES_REG | RES_NOFOLLOW | CHANGE, 0);
	if (fd == -ENOENT && create)
		fd = res_open(ka_rootfd(ka), rel, RES_WRITE | RES_REG | RES_NOFOLLOW | RES_CREATE | CHANGE, 0644);
	if (fd < 0 && fd != -ENOENT)
		return rp_refused(ka, rel, fd);
	return fd;
}

int rp_write_bytes(struct ka *ka, const char *rel, const void *content, size_t len, bool create)
{
	if (!rel)
		return -EINVAL;
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
	if (write(fd, content, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

int rp_write_file(struct ka *ka, const char *rel, const char *content, bool create)
{
	return rp_write_bytes(ka, rel, content, strlen(content), create);
}

/* Remove a directory tree below dirfd/name (the tree's own files only, on its own filesystem). */
int rp_remove_tree_at(int dirfd, const char *name)
{
	int fd = rp_open_child(dirfd, name, 0);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	struct res_entry *e = NULL;
	size_t n = 0;
	int r = res_list_fd(fd, &e, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (e[i].type == DT_DIR)
			rp_remove_tree_at(fd, e[i].name);
		else
			unlinkat(fd, e[i].name, 0);
	}
	res_entries_free(e, n);
	close(fd);
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* The device's directory: its path under sys/devices and an open descriptor; -ENODEV when absent. */
int rp_open_device(struct ka *ka, const char *addr, char **ret_path, int *ret_fd)
{
	_cleanup_free_ char *devpath = NULL;
	int r = ka_device_path(ka, addr, &devpath);
	if (r < 0)
		return r;
	int fd = rp_open_dir(ka, devpath);
	if (fd < 0)
		return fd == -EXDEV ? fd : -ENODEV;
	*ret_path = TAKE_PTR(devpath);
	*ret_fd = fd;
	return 0;
}

char *rp_device_group(int devfd)
{
	char *g = NULL;
	unsigned long n;
	if (ka_link_base_at(devfd, "iommu_group", &g) < 0 || parse_ulong(g, 10, &n) < 0) {
		free(g);
		return NULL;
	}
	return g;
}

static bool group_noiommu(struct ka *ka, unsigned long group)
{
	_cleanup_free_ char *rel = lay_group_attr(group, "name");
	_cleanup_free_ char *name = NULL;
	return ka_read(ka, rel, &name) == 0 && streq(name, "vfio-noiommu");
}

/* "dev/vfio/<node>", the group's file in the tree. */
static char *group_node_rel(struct ka *ka, const char *group)
{
	unsigned long n = 0;
	parse_ulong(group, 10, &n);
	return lay_vfio_group_node(n, group_noiommu(ka, n));
}

/* The VFIO cdev names (vfio-dev/vfioX) of every device of a group. */
static void group_cdevs(struct ka *ka, unsigned long group, struct strv *ret)
{
	_cleanup_free_ char *rel = lay_group_attr(group, "devices");
	struct strv devs = { 0 };
	if (rel && ka_list_dir(ka, rel, &devs) == 0)
		for (size_t i = 0; i < devs.n; i++) {
			_cleanup_free_ char *vrel = xasprintf("%s/%s/vfio-dev", rel, devs.v[i]);
			struct strv names = { 0 };
			if (ka_list_dir(ka, vrel, &names) == 0)
				for (size_t k = 0; k < names.n; k++)
					strv_push(ret, xstrdup(names.v[k]));
			strv_free(&names);
		}
	strv_free(&devs);
}

/*
 * Whether any process under <sysroot>/proc holds one of the group's VFIO
 * files: the group's, /dev/vfio/N or /dev/vfio/noiommu-N, or a device's
 * cdev, /dev/vfio/devices/vfioX (bound to an iommufd, it owns the group's
 * DMA as an open group does).
 */
bool rp_group_held(struct ka *ka, const char *group)
{
	struct vfio_holder *h = NULL;
	size_t n = 0;
	if (ka_vfio_holders(ka, &h, &n) < 0)
		return false;
	unsigned long num = 0;
	parse_ulong(group, 10, &num);
	_cleanup_free_ char *path = lay_vfio_group_path(num, group_noiommu(ka, num));
	struct strv cdevs = { 0 };
	bool held = false;
	for (size_t i = 0; i < n && !held; i++) {
		const char *x = lay_vfio_cdev_name(h[i].path);
		if (x && !cdevs.n)
			group_cdevs(ka, num, &cdevs);
		held = streq(h[i].path, path) || (x && strv_contains(&cdevs, x));
	}
	strv_free(&cdevs);
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

/* ---- what the engine remembers within a run ---- */

static void cdev_mark(struct replay *rp, unsigned idx, bool used)
{
	if (idx >= rp->cdev_cap) {
		size_t cap = rp->cdev_cap ? rp->cdev_cap : 64;
		while (cap <= idx)
			cap *= 2;
		rp->cdev_used = xreallocarray(rp->cdev_used, cap, sizeof(*rp->cdev_used));
		memset(rp->cdev_used + rp->cdev_cap, 0, (cap - rp->cdev_cap) * sizeof(*rp->cdev_used));
		rp->cdev_cap = cap;
	}
	rp->cdev_used[idx] = used;
}

static bool cdev_index(const char *name, unsigned *idx)
{
	unsigned long v;
	if (strncmp(name, "vfio", 4) != 0 || parse_ulong(name + 4, 10, &v) < 0 || v > 1u << 20)
		return false;
	*idx = (unsigned)v;
	return true;
}

/*
 * The first free vfioN, as the kernel's IDA gives it (sys/class/vfio-dev,
 * and the device files of dev/vfio/devices where the tree has them, read
 * once a run).
 */
static unsigned cdev_alloc(struct replay *rp, struct ka *ka)
{
	if (!rp->cdevs_loaded) {
		static const char *const dirs[] = { LAY_VFIO_DEV_CLASS, LAY_DEV_VFIO_CDEVS };
		for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
			struct strv names = { 0 };
			unsigned idx;
			if (ka_list_dir(ka, dirs[d], &names) == 0)
				for (size_t i = 0; i < names.n; i++)
					if (cdev_index(names.v[i], &idx))
						cdev_mark(rp, idx, true);
			strv_free(&names);
		}
		rp->cdevs_loaded = true;
	}
	unsigned idx = 0;
	while (idx < rp->cdev_cap && rp->cdev_used[idx])
		idx++;
	cdev_mark(rp, idx, true);
	return idx;
}

/* The group's count of devices on VFIO, from the tree the first time it is asked. */
static size_t *group_vfio(struct replay *rp, struct ka *ka, const char *group)
{
	for (size_t i = 0; i < rp->ngroups; i++)
		if (streq(rp->groups[i].group, group))
			return &rp->groups[i].vfio;
	size_t count = 0;
	unsigned long n = 0;
	parse_ulong(group, 10, &n);
	_cleanup_free_ char *rel = lay_group_attr(n, "devices");
	struct strv names = { 0 };
	_cleanup_close_ int gfd = rp_lookup(ka, rel, RES_PATH | RES_DIR);
	if (gfd >= 0 && ka_list_dir(ka, rel, &names) == 0) {
		for (size_t i = 0; i < names.n; i++) {
			_cleanup_close_ int fd = res_open(gfd, names.v[i], RES_PATH | RES_DIR | CHANGE, 0);
			_cleanup_free_ char *drv = NULL;
			if (fd >= 0 && ka_link_base_at(fd, "driver", &drv) == 0 &&
			    driver_role(drv, ka_exists_at(fd, "vfio-dev")) == ROLE_USER)
				count++;
		}
	}
	strv_free(&names);
	rp->groups = grow_array(rp->groups, &rp->gcap, rp->ngroups + 1, sizeof(*rp->groups));
	rp->groups[rp->ngroups] = (struct group_count){ xstrdup(group), count };
	return &rp->groups[rp->ngroups++].vfio;
}

/* ---- VFIO's files ---- */

/* What a VFIO driver's probe adds: vfio-dev/vfioX, its link in sys/class/vfio-dev, the group's file. */
/*
 * A device node VFIO makes, as devtmpfs makes it: owned by the creator (the
 * kernel's root), mode 0600 (vfio_devnode() sets none). One that is there
 * stays as it is: a group's file outlives all but its last device.
 */
static void create_node(struct ka *ka, const char *rel)
{
	int fd = rel ? res_open(ka_rootfd(ka), rel, RES_WRITE | RES_REG | RES_NOFOLLOW | RES_CREATE | CHANGE, 0600) : -1;
	if (fd >= 0)
		close(fd);
}

/* The device's cdev node, where the tree's kernel has them (dev/vfio/devices). */
static char *cdev_node_rel(struct ka *ka, const char *name)
{
	_cleanup_close_ int dfd = rp_lookup(ka, LAY_DEV_VFIO_CDEVS, RES_PATH | RES_DIR | RES_NO_SYMLINKS);
	return dfd >= 0 ? lay_vfio_cdev_node(name) : NULL;
}

static void vfio_attach(struct replay *rp, struct ka *ka, int devfd, const char *devpath, const char *group)
{
	unsigned idx = cdev_alloc(rp, ka);
	char name[32];
	snprintf(name, sizeof(name), "vfio%u", idx);
	mkdirat(devfd, "vfio-dev", 0755);
	_cleanup_close_ int vfd = rp_open_child(devfd, "vfio-dev", RES_PATH);
	if (vfd >= 0 && mkdirat(vfd, name, 0755) == 0) {
		_cleanup_free_ char *rel = xasprintf("%s/vfio-dev/%s/dev", devpath, name);
		char dev[32];
		snprintf(dev, sizeof(dev), "%u:%u\n", 511, idx);
		rp_write_file(ka, rel, dev, true);
	}
	_cleanup_close_ int cfd = rp_open_dir(ka, LAY_VFIO_DEV_CLASS);
	if (cfd >= 0) {
		_cleanup_free_ char *to = xasprintf("%s/vfio-dev/%s", devpath, name);
		_cleanup_free_ char *rel = path_relative(LAY_VFIO_DEV_CLASS, to);
		symlinkat(rel, cfd, name);
	}
	_cleanup_free_ char *cdev = cdev_node_rel(ka, name);
	create_node(ka, cdev);
	if (group) {
		_cleanup_free_ char *rel = group_node_rel(ka, group);
		create_node(ka, rel); /* nothing in a tree without dev/vfio */
		(*group_vfio(rp, ka, group))++;
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
	_cleanup_close_ int vfd = rp_open_dir(ka, own);
	if (vfd < 0 && vfd != -ENOENT)
		return vfd;
	_cleanup_close_ int cfd = rp_open_dir(ka, LAY_VFIO_DEV_CLASS);
	if (cfd < 0 && cfd != -ENOENT)
		return cfd;
	if (!group)
		return 0;
	_cleanup_free_ char *rel = group_node_rel(ka, group);
	_cleanup_close_ int fd = res_open(ka_rootfd(ka), rel, RES_PATH | RES_REG | RES_NOFOLLOW | CHANGE, 0);
	if (fd == -ENOENT || fd >= 0)
		return 0;
	return rp_refused(ka, rel, fd);
}

/* What removing a VFIO driver takes away; the group's file goes with the group's last VFIO device. */
static void vfio_detach(struct replay *rp, struct ka *ka, int devfd, const char *group)
{
	struct strv names = { 0 };
	_cleanup_close_ int vfd = rp_open_child(devfd, "vfio-dev", 0);
	if (vfd >= 0)
		ka_list_fd(vfd, &names);
	_cleanup_close_ int cfd = rp_open_dir(ka, LAY_VFIO_DEV_CLASS);
	for (size_t i = 0; i < names.n; i++) {
		unsigned idx;
		if (cfd >= 0)
			unlinkat(cfd, names.v[i], 0);
		_cleanup_free_ char *cdev = cdev_node_rel(ka, names.v[i]);
		const char *base;
		_cleanup_close_ int ddir = cdev ? res_open_parent(ka_rootfd(ka), cdev, CHANGE, &base) : -1;
		if (ddir >= 0 && ka_is_regular_at(ddir, base))
			unlinkat(ddir, base, 0);
		if (cdev_index(names.v[i], &idx) && rp->cdevs_loaded)
			cdev_mark(rp, idx, false);
	}
	strv_free(&names);
	rp_remove_tree_at(devfd, "vfio-dev");
	if (!group)
		return;
	size_t *count = group_vfio(rp, ka, group);
	if (*count > 0)
		(*count)--;
	if (*count > 0)
		return;
	_cleanup_free_ char *rel = group_node_rel(ka, group);
	_cleanup_close_ int fd = res_open(ka_rootfd(ka), rel, RES_PATH | RES_REG | RES_NOFOLLOW | CHANGE, 0);
	if (fd < 0)
		return;
	const char *node;
	_cleanup_close_ int vdir = res_open_parent(ka_rootfd(ka), rel, CHANGE, &node);
	if (vdir >= 0)
		unlinkat(vdir, node, 0);
}

/* ---- VMD: a controller whose PCI domain goes with its driver ---- */

/*
 * vmd_remove() removes the PCI domain the controller created, and every
 * device in it; a new probe of vmd enumerates it again. The engine puts the
 * domain's directories, and the links that lead to its devices (bus, driver,
 * group), aside in <sysroot>/.replay-stash/<controller>, and back when vmd
 * is bound to the controller again. Readers never look at dot names.
 */
#define STASH ".replay-stash"
#define STASH_MANIFEST "links"

/* The devices of the tree whose real path lies below devpath: the domain's. */
static void domain_devices(struct ka *ka, const char *devpath, struct strv *ret)
{
	struct strv names = { 0 };
	size_t len = strlen(devpath);
	if (ka_list_dir(ka, LAY_PCI_DEVICES, &names) == 0)
		for (size_t i = 0; i < names.n; i++) {
			_cleanup_free_ char *p = NULL;
			if (ka_device_path(ka, names.v[i], &p) == 0 && strncmp(p, devpath, len) == 0 && p[len] == '/')
				strv_push(ret, xstrdup(names.v[i]));
		}
	strv_free(&names);
}

/* Move the link at rel aside: its path and target go to the manifest. */
static void stash_link(struct ka *ka, const char *rel, struct strv *manifest)
{
	_cleanup_free_ char *target = NULL;
	const char *name;
	if (!rel || ka_readlink(ka, rel, &target) < 0)
		return;
	_cleanup_close_ int dfd = res_open_parent(ka_rootfd(ka), rel, CHANGE, &name);
	if (dfd >= 0 && unlinkat(dfd, name, 0) == 0)
		strv_push(manifest, xasprintf("%s %s", rel, target));
}

static int vmd_remove_domain(struct ka *ka, int vmdfd, const char *devpath, const char *addr)
{
	struct strv devs = { 0 }, manifest = { 0 };
	domain_devices(ka, devpath, &devs);
	_cleanup_free_ char *stash = xasprintf(STASH "/%s", addr);
	_cleanup_close_ int sfd = devs.n ? res_mkdirs(ka_rootfd(ka), stash, CHANGE, 0755) : -ENOENT;
	int r = devs.n == 0 ? 0 : sfd;
	for (size_t i = 0; r >= 0 && i < devs.n; i++) {
		_cleanup_free_ char *dir = lay_pci_device(devs.v[i]);
		_cleanup_close_ int dfd = rp_lookup(ka, dir, RES_PATH | RES_DIR);
		_cleanup_free_ char *drv = NULL, *grp = NULL;
		if (dfd >= 0) {
			ka_link_base_at(dfd, "driver", &drv);
			grp = rp_device_group(dfd);
		}
		if (drv) {
			_cleanup_free_ char *link = lay_pci_driver_attr(drv, devs.v[i]);
			stash_link(ka, link, &manifest);
		}
		if (grp) {
			unsigned long n = 0;
			parse_ulong(grp, 10, &n);
			_cleanup_free_ char *gdevs = lay_group_attr(n, "devices");
			_cleanup_free_ char *link = xasprintf("%s/%s", gdevs, devs.v[i]);
			stash_link(ka, link, &manifest);
		}
		stash_link(ka, dir, &manifest);
	}
	/* The domain's host bridges, directories of the controller named pciDDDDD:BB. */
	struct res_entry *e = NULL;
	size_t n = 0;
	_cleanup_close_ int lfd = r >= 0 && devs.n ? res_open(vmdfd, ".", RES_DIR | CHANGE, 0) : -1;
	if (lfd >= 0 && res_list_fd(lfd, &e, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (e[i].type == DT_DIR && strncmp(e[i].name, "pci", 3) == 0 && renameat(vmdfd, e[i].name, sfd, e[i].name) < 0)
				r = -errno;
	res_entries_free(e, n);
	if (devs.n && r >= 0) {
		_cleanup_free_ char *text = strv_join(&manifest, "\n");
		_cleanup_free_ char *rel = xasprintf("%s/" STASH_MANIFEST, stash);
		r = rp_write_file(ka, rel, text, true);
	}
	strv_free(&devs);
	strv_free(&manifest);
	return r;
}

static void vmd_restore_domain(struct ka *ka, int vmdfd, const char *addr)
{
	_cleanup_free_ char *stash = xasprintf(STASH "/%s", addr);
	_cleanup_close_ int sfd = rp_lookup(ka, stash, RES_DIR);
	if (sfd < 0)
		return;
	struct res_entry *e = NULL;
	size_t n = 0;
	if (res_list_fd(sfd, &e, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (e[i].type == DT_DIR && strncmp(e[i].name, "pci", 3) == 0)
				renameat(sfd, e[i].name, vmdfd, e[i].name);
	res_entries_free(e, n);
	_cleanup_free_ char *text = NULL;
	if (ka_read_at(sfd, STASH_MANIFEST, &text) == 0)
		for (char *line = text, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			char *sp = strchr(line, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			const char *name;
			_cleanup_close_ int dfd = res_open_parent(ka_rootfd(ka), line, CHANGE, &name);
			if (dfd >= 0 && path_component_ok(name))
				symlinkat(sp + 1, dfd, name);
		}
	unlinkat(sfd, STASH_MANIFEST, 0);
	const char *base;
	_cleanup_close_ int pfd = res_open_parent(ka_rootfd(ka), stash, CHANGE, &base);
	if (pfd >= 0)
		unlinkat(pfd, base, AT_REMOVEDIR);
	unlinkat(ka_rootfd(ka), STASH, AT_REMOVEDIR); /* only when no other domain is aside */
}

/* ---- the writes ---- */

static int do_override(struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *dir = lay_pci_device(w->device);
	_cleanup_close_ int devfd = rp_lookup(ka, dir, RES_PATH | RES_DIR);
	if (devfd == -EXDEV)
		return rp_refused(ka, dir, devfd);
	if (devfd < 0)
		return devfd == -ENOENT ? -ENODEV : devfd;
	const char *v = ka_write_value(w);
	/* driver_override_store(): a value of PAGE_SIZE - 1 bytes or more is refused. */
	if (strlen(v) >= 4096 - 1)
		return -EINVAL;
	_cleanup_free_ char *rel = lay_pci_device_attr(w->device, "driver_override");
	/* libsysfs skips a write whose readable value is already the same bytes (backend.h). */
	_cleanup_close_ int cfd = res_open(devfd, "driver_override", RES_REG | RES_NOFOLLOW | CHANGE, 0);
	if (cfd == -ENOENT)
		return -ENOENT;
	if (cfd < 0)
		return rp_refused(ka, rel, cfd);
	char buf[4096];
	ssize_t got = read(cfd, buf, sizeof(buf));
	if (got == (ssize_t)strlen(v) && memcmp(buf, v, (size_t)got) == 0)
		return 0;
	_cleanup_free_ char *content = lay_override_show(v);
	return rp_write_file(ka, rel, content, false);
}

int rp_unbind(struct replay *rp, struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *drvdir = lay_pci_driver(w->driver);
	if (!drvdir)
		return -ENODEV;
	_cleanup_close_ int drvfd = rp_open_dir(ka, drvdir);
	if (drvfd < 0)
		return drvfd;
	_cleanup_free_ char *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	int r = rp_open_device(ka, w->device, &devpath, &devfd);
	if (r < 0)
		return r;
	_cleanup_free_ char *cur = NULL;
	if (ka_link_base_at(devfd, "driver", &cur) < 0 || !streq(cur, w->driver))
		return -ENODEV;
	_cleanup_free_ char *group = rp_device_group(devfd);
	bool vfio = driver_role(w->driver, false) == ROLE_USER || ka_exists_at(devfd, "vfio-dev");
	/* The kernel blocks until user space lets go; a replay cannot wait forever. */
	if (vfio && group && rp_group_held(ka, group))
		return -EBUSY;
	if (vfio && (r = vfio_files_usable(ka, devpath, group)) < 0)
		return r;
	if (vfio && group)
		group_vfio(rp, ka, group); /* counted before the device leaves */
	if (unlinkat(devfd, "driver", 0) < 0)
		return -errno;
	unlinkat(drvfd, w->device, 0);
	if (vfio)
		vfio_detach(rp, ka, devfd, group);
	if (driver_name_eq(w->driver, "vmd"))
		return vmd_remove_domain(ka, devfd, devpath, w->device);
	return 0;
}

/* Whether driver matches the device: driver_override decides alone when set; VFIO drivers match no other way. */
static bool driver_matches(struct ka *ka, int devfd, int drvfd, const char *driver, const char *override)
{
	if (override)
		return streq(override, driver);
	return driver_role(driver, false) != ROLE_USER && driver_matches_alias(ka, devfd, drvfd, driver);
}

/* The device's override as the kernel shows it (lay_override_decode), NULL when unset or unreadable. */
static char *read_override(int devfd)
{
	_cleanup_free_ char *v = NULL;
	if (ka_read_at(devfd, "driver_override", &v) < 0)
		return NULL;
	return lay_override_decode(v);
}

/*
 * The kernel's bind of driver to the device (bind_store, then really_probe):
 * match, then probe. While probing every driver, one whose directory cannot
 * be used is passed over in silence; a bind that names it says why it fails.
 */
int rp_try_bind(struct replay *rp, struct ka *ka, const char *devpath, int devfd, const char *addr,
		    const char *driver, bool probing)
{
	_cleanup_free_ char *drvdir = lay_pci_driver(driver);
	if (!drvdir)
		return -ENODEV;
	_cleanup_close_ int drvfd = probing ? rp_lookup(ka, drvdir, RES_PATH | RES_DIR) : rp_open_dir(ka, drvdir);
	if (drvfd < 0)
		return drvfd;

	/* Match first: a driver that does not match fails with ENODEV, bound device or not. */
	_cleanup_free_ char *ov = read_override(devfd);
	if (!driver_matches(ka, devfd, drvfd, driver, ov))
		return -ENODEV;
	if (ka_exists_at(devfd, "driver"))
		return -EBUSY;

	/* Probe. */
	_cleanup_free_ char *group = rp_device_group(devfd);
	enum role role = driver_role(driver, false);
	if (role == ROLE_KERNEL && group && rp_group_held(ka, group))
		return -EBUSY; /* pci_dma_configure: user space owns the group */
	/* pci_device_can_probe(): by any path, a bind included */
	if (!ov && ka_vf_autoprobe_off(ka, addr))
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
		if (group)
			group_vfio(rp, ka, group); /* counted before the device joins */
	}

	_cleanup_free_ char *to_drv = path_relative(devpath, drvdir);
	if (symlinkat(to_drv, devfd, "driver") < 0)
		return -errno;
	_cleanup_free_ char *to_dev = path_relative(drvdir, devpath);
	symlinkat(to_dev, drvfd, addr);
	if (role == ROLE_USER)
		vfio_attach(rp, ka, devfd, devpath, group);
	if (driver_name_eq(driver, "vmd"))
		vmd_restore_domain(ka, devfd, addr);
	return 0;
}

static int do_bind(struct replay *rp, struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	int r = rp_open_device(ka, w->device, &devpath, &devfd);
	if (r < 0)
		return r;
	return rp_try_bind(rp, ka, devpath, devfd, w->device, w->driver, false);
}

static int do_probe(struct replay *rp, struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	int r = rp_open_device(ka, w->device, &devpath, &devfd);
	if (r < 0)
		return r;
	if (ka_exists_at(devfd, "driver"))
		return 0;
	rp_probe_all(rp, ka, devpath, devfd, w->device);
	return 0;
}

void rp_probe_all(struct replay *rp, struct ka *ka, const char *devpath, int devfd, const char *addr)
{
	_cleanup_free_ char *ov = read_override(devfd);
	if (ov) {
		rp_try_bind(rp, ka, devpath, devfd, addr, ov, false);
		return;
	}
	/* Every loaded driver, in name order, until one binds; success either way. */
	struct strv drivers = { 0 };
	if (ka_list_dir(ka, LAY_PCI_DRIVERS, &drivers) == 0) {
		sort_array(drivers.v, drivers.n, sizeof(*drivers.v), strv_cmp);
		for (size_t i = 0; i < drivers.n; i++)
			if (rp_try_bind(rp, ka, devpath, devfd, addr, drivers.v[i], true) == 0)
				break;
	}
	strv_free(&drivers);
}

/* A node of the tree stands for a character device as a plain file: its owner and mode are the node's. */
static int do_node(struct ka *ka, const struct ka_write *w)
{
	const char *rel = lay_vfio_node_rel(w->device);
	_cleanup_close_ int fd = rel ? rp_lookup(ka, rel, RES_PATH | RES_REG | RES_NOFOLLOW) : -EINVAL;
	if (fd < 0 && fd != -ENOENT && fd != -EINVAL)
		return rp_refused(ka, rel, fd);
	if (fd < 0)
		return fd;
	return node_apply(ka, w, S_IFREG);
}

static int replay_write(struct ka_backend *b, struct ka *ka, const struct ka_write *w, unsigned nth, int timeout_ms)
{
	struct replay *rp = (struct replay *)b;
	(void)nth;
	(void)timeout_ms;
	switch (w->op) {
	case KA_OVERRIDE:
		return do_override(ka, w);
	case KA_UNBIND:
		return rp_unbind(rp, ka, w);
	case KA_BIND:
		return do_bind(rp, ka, w);
	case KA_PROBE:
		return do_probe(rp, ka, w);
	case KA_NUMVFS:
		return rp_numvfs(rp, ka, w);
	case KA_AUTOPROBE:
		return rp_autoprobe(ka, w);
	case KA_OWNER:
	case KA_MODE:
		return do_node(ka, w);
	default:
		return -EINVAL;
	}
}

/* ---- module loads ---- */

/* The loaded module as sysfs shows it: sys/module/<module>/ and the links both ways. */
static int show_module(struct ka *ka, int drvfd, const char *driver, const char *module)
{
	_cleanup_close_ int mods_fd = rp_open_dir(ka, LAY_MODULES);
	if (mods_fd < 0)
		return mods_fd;
	mkdirat(mods_fd, module, 0755);
	_cleanup_close_ int mfd = rp_open_child(mods_fd, module, RES_PATH);
	if (mfd < 0)
		return mfd;
	if (!ka_exists_at(mfd, "uevent")) {
		_cleanup_free_ char *uevent = lay_module_attr(module, "uevent");
		_cleanup_free_ char *initstate = lay_module_attr(module, "initstate");
		rp_write_file(ka, uevent, "", true);
		rp_write_file(ka, initstate, "live\n", true);
	}
	mkdirat(mfd, "drivers", 0755);
	_cleanup_close_ int mdfd = rp_open_child(mfd, "drivers", RES_PATH);
	_cleanup_free_ char *drvdir = lay_pci_driver(driver);
	_cleanup_free_ char *moddir = lay_module(module);
	if (mdfd >= 0) {
		_cleanup_free_ char *link = xasprintf("pci:%s", driver);
		_cleanup_free_ char *from = xasprintf("%s/drivers", moddir);
		_cleanup_free_ char *to_drv = path_relative(from, drvdir);
		symlinkat(to_drv, mdfd, link);
	}
	_cleanup_free_ char *to_mod = path_relative(drvdir, moddir);
	return symlinkat(to_mod, drvfd, "module") < 0 ? -errno : 0;
}

/* VFIO's container device comes with it: dev/vfio/vfio. */
static void show_vfio_container(struct ka *ka)
{
	mkdirat(ka_rootfd(ka), "dev", 0755);
	_cleanup_close_ int devfd = rp_open_dir(ka, "dev");
	if (devfd < 0)
		return;
	mkdirat(devfd, "vfio", 0755);
	_cleanup_close_ int vfd = rp_open_child(devfd, "vfio", RES_PATH);
	if (vfd >= 0 && !ka_exists_at(vfd, "vfio"))
		rp_write_file(ka, LAY_DEV_VFIO_CONTAINER, "", true);
}

static int replay_load_driver(struct ka_backend *b, struct ka *ka, const char *driver, const char *module)
{
	(void)b;
	/* Without a driver name (a module found by modalias), a new driver is named after its module. */
	if (!driver) {
		if (ka_module_has_pci_driver(ka, module))
			return 0;
		driver = module;
	}
	_cleanup_free_ char *drvdir = lay_pci_driver(driver);
	if (!drvdir || !path_component_ok(module))
		return -EINVAL;
	_cleanup_close_ int fd = rp_open_dir(ka, drvdir);
	if (fd >= 0)
		return 0;
	/* The module must be in the tree's index, as modprobe would need it. */
	struct strv mods = { 0 };
	int r = ka_modalias_modules(ka, module, &mods);
	bool found = false;
	for (size_t i = 0; i < mods.n; i++)
		found |= driver_name_eq(mods.v[i], module);
	strv_free(&mods);
	if (r < 0)
		return r;
	if (!found)
		return -ENOENT;

	_cleanup_close_ int drvs = rp_open_dir(ka, LAY_PCI_DRIVERS);
	if (drvs < 0)
		return drvs;
	if (mkdirat(drvs, driver, 0755) < 0)
		return -errno;
	_cleanup_close_ int dfd = rp_open_child(drvs, driver, RES_PATH);
	if (dfd < 0)
		return dfd;
	static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *rel = lay_pci_driver_attr(driver, files[i]);
		if ((r = rp_write_file(ka, rel, "", true)) < 0)
			return r;
	}
	if ((r = show_module(ka, dfd, driver, module)) < 0)
		return r;
	if (driver_role(driver, false) == ROLE_USER)
		show_vfio_container(ka);
	return 0;
}

static void replay_free(struct ka_backend *b)
{
	struct replay *rp = (struct replay *)b;
	for (size_t i = 0; i < rp->ngroups; i++)
		free(rp->groups[i].group);
	free(rp->groups);
	free(rp->cdev_used);
	free(rp);
}

static const struct ka_backend_ops replay_ops = {
	.name = "replay",
	.write = replay_write,
	.load_driver = replay_load_driver,
	.free = replay_free,
};

struct ka_backend *backend_replay_new(void)
{
	struct replay *rp = xcalloc(1, sizeof(*rp));
	rp->b.ops = &replay_ops;
	return &rp->b;
}
