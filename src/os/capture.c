// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The capture behind 'iommu-own snapshot': what the tool reads from a system
 * (or from a sysroot), copied into a directory that --sysroot replays: PCI
 * device nodes with their attributes and config space, the symlinks exactly
 * as sysfs has them, the drivers, the IOMMU groups, the VFIO module
 * parameters, the kernel release and command line, /dev/vfio, the kernel's
 * module index, and what the refusals read: block and network devices,
 * mounts, swaps, routes, and the processes holding VFIO files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/capture.h"
#include "os/holders.h"
#include "os/layout.h"
#include "os/nodes.h"
#include "os/resolve.h"

#define CONFIG_MAX 4096
#define FILE_MAX (64 * 1024)
#define INDEX_MAX (256 * 1024 * 1024)

struct snap {
	const struct ka *ka;
	const struct capture_options *a;
	int outfd;
	unsigned files, links, skipped;
	struct strv modules; /* modules of loaded PCI drivers */
};

/* ---- the output tree ---- */

/*
 * Everything is created beneath the output directory through the resolver,
 * every parent a real directory made here (never a link, even one this
 * snapshot copied), every file new: what a tree holds can name where things
 * go inside the output, never outside it.
 */
static int out_mkdirs(struct snap *s, const char *rel)
{
	int fd = res_mkdirs(s->outfd, rel, 0, 0755);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* The directory that will hold rel (made when missing), and rel's last component. */
static int out_parent(struct snap *s, const char *rel, const char **name)
{
	const char *slash = strrchr(rel, '/');
	if (!slash) {
		*name = rel;
		return res_open(s->outfd, ".", RES_PATH | RES_DIR, 0);
	}
	*name = slash + 1;
	if (!path_component_ok(*name))
		return -EINVAL;
	_cleanup_free_ char *dir = xstrndup(rel, (size_t)(slash - rel));
	return res_mkdirs(s->outfd, dir, 0, 0755);
}

static int out_file(struct snap *s, const char *rel, const char *buf, size_t len)
{
	const char *name;
	_cleanup_close_ int dfd = out_parent(s, rel, &name);
	if (dfd < 0)
		return dfd;
	_cleanup_close_ int fd = res_open(dfd, name, RES_WRITE | RES_CREATE | RES_NOFOLLOW, 0644);
	if (fd == -EEXIST)
		return 0; /* reached twice (a file seen through two links): the first copy stands */
	if (fd < 0)
		return fd;
	if (len && write(fd, buf, len) != (ssize_t)len)
		return -EIO;
	s->files++;
	return 0;
}

/*
 * A relative link as the tree has it, where it still resolves beneath the
 * output from its new place; one that would climb out is left out (named).
 * absolute: an absolute target kept as text (a process's /dev/vfio/N fd).
 */
static int out_link(struct snap *s, const char *rel, const char *target, bool absolute)
{
	const char *slash = strrchr(rel, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
	_cleanup_free_ char *resolved = absolute ? NULL : path_resolve_rel(dir, target);
	if (absolute ? target[0] != '/' : !resolved) {
		_cleanup_free_ char *p = ka_path(s->ka, rel);
		log_warning("%s: link to %s left out: it would lead outside the snapshot", p, target);
		s->skipped++;
		return 0;
	}
	const char *name;
	_cleanup_close_ int dfd = out_parent(s, rel, &name);
	if (dfd < 0)
		return dfd;
	if (symlinkat(target, dfd, name) < 0 && errno != EEXIST)
		return -errno;
	s->links++;
	return 0;
}

/* ---- copying ---- */

static int copy_link(struct snap *s, const char *rel)
{
	_cleanup_free_ char *target = NULL;
	int r = ka_readlink(s->ka, rel, &target);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return out_link(s, rel, target, false);
}

/* A regular attribute: its content, or an empty file when it cannot be read (write-only). */
static int copy_file(struct snap *s, const char *rel, mode_t mode, size_t max)
{
	if (!(mode & 0444))
		return out_file(s, rel, "", 0);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = ka_read_raw(s->ka, rel, max, &buf, &len);
	if (r < 0) {
		s->skipped++;
		return out_file(s, rel, "", 0);
	}
	return out_file(s, rel, buf, len);
}

/* Copy a small directory tree (vfio-dev/): files and links, a few levels deep. */
static int copy_tree(struct snap *s, const char *rel, unsigned depth)
{
	struct ka_entry *e = NULL;
	size_t n = 0;
	int r = ka_scan_dir(s->ka, rel, &e, &n);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = out_mkdirs(s, rel);
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", rel, e[i].name);
		if (S_ISLNK(e[i].mode))
			r = copy_link(s, sub);
		else if (S_ISREG(e[i].mode))
			r = copy_file(s, sub, e[i].mode, FILE_MAX);
		else if (S_ISDIR(e[i].mode) && depth < 3 && !streq(e[i].name, "power"))
			r = copy_tree(s, sub, depth + 1);
	}
	ka_entries_free(e, n);
	return r;
}

/* Zero the Device Serial Number extended capability (ID 3) in a config-space copy. */
static void blank_serial(unsigned char *cfg, size_t len)
{
	unsigned pos = 0x100;
	for (unsigned hops = 0; pos >= 0x100 && pos + 12 <= len && hops < 64; hops++) {
		uint32_t h = cfg[pos] | cfg[pos + 1] << 8 | (uint32_t)cfg[pos + 2] << 16 | (uint32_t)cfg[pos + 3] << 24;
		if (h == 0 || h == 0xffffffff)
			break;
		if ((h & 0xffff) == 0x0003)
			memset(cfg + pos + 4, 0, 8);
		pos = (h >> 20) & 0xffc;
	}
}

static bool skipped_attribute(const char *name)
{
	/* mapped BARs and ROM (large, or hang on some devices), VPD (can hang) */
	return fnmatch("resource*", name, 0) == 0 || streq(name, "rom") || streq(name, "vpd");
}

static bool kept_link(const char *name)
{
	return streq(name, "driver") || streq(name, "iommu_group") || streq(name, "subsystem") ||
	       streq(name, "physfn") || strncmp(name, "virtfn", 6) == 0;
}

/* A network interface under a device: what the netdev-active check reads. */
static int copy_netdev(struct snap *s, const char *rel)
{
	static const char *const files[] = { "flags", "operstate", "ifindex", "address" };
	int r = out_mkdirs(s, rel);
	for (size_t i = 0; i < ARRAY_SIZE(files) && r >= 0; i++) {
		if (s->a->no_serial && streq(files[i], "address"))
			continue;
		_cleanup_free_ char *f = xasprintf("%s/%s", rel, files[i]);
		r = copy_file(s, f, 0444, FILE_MAX);
	}
	if (r >= 0) {
		_cleanup_free_ char *l = xasprintf("%s/subsystem", rel);
		r = copy_link(s, l);
	}
	return r;
}

static int copy_device(struct snap *s, const char *devpath)
{
	struct ka_entry *e = NULL;
	size_t n = 0;
	int r = ka_scan_dir(s->ka, devpath, &e, &n);
	if (r < 0)
		return r;
	r = out_mkdirs(s, devpath);
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *name = e[i].name;
		_cleanup_free_ char *rel = xasprintf("%s/%s", devpath, name);
		if (S_ISLNK(e[i].mode)) {
			if (kept_link(name))
				r = copy_link(s, rel);
		} else if (S_ISREG(e[i].mode)) {
			if (skipped_attribute(name))
				continue;
			if (streq(name, "config")) {
				if (s->a->no_config)
					continue;
				_cleanup_free_ char *cfg = NULL;
				size_t len = 0;
				if (ka_read_raw(s->ka, rel, CONFIG_MAX, &cfg, &len) < 0) {
					s->skipped++;
					continue;
				}
				if (s->a->no_serial)
					blank_serial((unsigned char *)cfg, len);
				r = out_file(s, rel, cfg, len);
			} else {
				r = copy_file(s, rel, e[i].mode, FILE_MAX);
			}
		} else if (S_ISDIR(e[i].mode)) {
			/* VFIO's cdevs, and the class devices whose nodes host-in-use compares with holders' files. */
			if (streq(name, "vfio-dev") || streq(name, "drm") || streq(name, "sound") || streq(name, "graphics"))
				r = copy_tree(s, rel, 0);
			else if (streq(name, "net")) {
				struct ka_entry *ifs = NULL;
				size_t nifs = 0;
				if (ka_scan_dir(s->ka, rel, &ifs, &nifs) == 0)
					for (size_t j = 0; j < nifs && r >= 0; j++) {
						_cleanup_free_ char *ifrel = xasprintf("%s/%s", rel, ifs[j].name);
						r = copy_netdev(s, ifrel);
					}
				ka_entries_free(ifs, nifs);
			}
		}
	}
	ka_entries_free(e, n);
	return r;
}

static int copy_level(struct snap *s, const char *rel, bool links);

/* Block devices under a device (disks, partitions): what the mounted check reads. */
static int copy_block(struct snap *s, const char *devpath)
{
	struct strv blocks = { 0 };
	if (ka_find_class_devices(s->ka, devpath, "block", &blocks) < 0)
		return 0;
	int r = 0;
	for (size_t i = 0; i < blocks.n && r >= 0; i++) {
		_cleanup_free_ char *dev = xasprintf("%s/dev", blocks.v[i]);
		_cleanup_free_ char *sub = xasprintf("%s/subsystem", blocks.v[i]);
		_cleanup_free_ char *holders = xasprintf("%s/holders", blocks.v[i]);
		if ((r = out_mkdirs(s, holders)) >= 0 && (r = copy_file(s, dev, 0444, FILE_MAX)) >= 0 &&
		    (r = copy_link(s, sub)) >= 0)
			r = copy_level(s, holders, true);
	}
	strv_free(&blocks);
	return r;
}

/* NVMe subsystems (native multipath): their controller links and the disks they serve. */
static int copy_nvme_subsystems(struct snap *s)
{
	static const char base[] = LAY_NVME_SUBSYSTEMS;
	struct ka_entry *e = NULL;
	size_t n = 0;
	if (ka_scan_dir(s->ka, base, &e, &n) < 0)
		return 0;
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", base, e[i].name);
		if ((r = copy_level(s, sub, true)) >= 0)
			r = copy_block(s, sub);
	}
	ka_entries_free(e, n);
	return r;
}

/* What the refusals read from /proc: mounts, swaps, routes, addresses, VFIO holders. */
static int copy_runtime(struct snap *s)
{
	static const char *const files[] = { LAY_MOUNTINFO, LAY_SWAPS, LAY_ROUTE, LAY_IF_INET6 };
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(files) && r >= 0; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (ka_read_raw(s->ka, files[i], INDEX_MAX, &buf, &len) == 0)
			r = out_file(s, files[i], buf, len);
	}
	/* Every process holding a device node (VFIO, DRM, ALSA, NVIDIA...), as its fd links show it. */
	struct holders h;
	if (r >= 0 && ka_holders(s->ka, &h) == 0) {
		for (size_t i = 0; i < h.n && r >= 0; i++) {
			char pid[32], fdname[32];
			snprintf(pid, sizeof(pid), "%ld", h.v[i].pid);
			snprintf(fdname, sizeof(fdname), "fd/%zu", 100 + i);
			_cleanup_free_ char *comm = lay_proc_pid(pid, "comm");
			_cleanup_free_ char *fd = lay_proc_pid(pid, fdname);
			_cleanup_free_ char *line = xasprintf("%s\n", h.v[i].comm);
			if ((r = out_file(s, comm, line, strlen(line))) >= 0)
				r = out_link(s, fd, h.v[i].path, true);
		}
		holders_free(&h);
	}
	return r;
}

/* The kernel's own users of displays: the consoles and the firmware framebuffers. */
static int copy_consoles(struct snap *s)
{
	struct ka_entry *e = NULL;
	size_t n = 0;
	int r = ka_scan_dir(s->ka, LAY_VTCONSOLES, &e, &n);
	if (r == -ENOENT)
		r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", LAY_VTCONSOLES, e[i].name);
		if (path_component_ok(e[i].name))
			r = copy_level(s, rel, false);
	}
	ka_entries_free(e, n);
	for (size_t i = 0; r >= 0 && lay_firmware_fb_drivers[i]; i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", LAY_PLATFORM_DRIVERS, lay_firmware_fb_drivers[i]);
		r = copy_level(s, rel, true);
	}
	/* The NVIDIA driver's GPUs: their device minors, which name /dev/nvidiaN. */
	struct ka_entry *g = NULL;
	size_t ng = 0;
	if (r >= 0 && ka_scan_dir(s->ka, LAY_NVIDIA_GPUS, &g, &ng) == 0) {
		for (size_t i = 0; r >= 0 && i < ng; i++) {
			_cleanup_free_ char *rel = xasprintf("%s/%s", LAY_NVIDIA_GPUS, g[i].name);
			if (path_component_ok(g[i].name))
				r = copy_level(s, rel, false);
		}
		ka_entries_free(g, ng);
	}
	return r;
}

static int copy_devices(struct snap *s)
{
	struct ka_entry *e = NULL;
	size_t n = 0;
	int r = ka_scan_dir(s->ka, LAY_PCI_DEVICES, &e, &n);
	if (r == -ENOENT)
		return 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *rel = lay_pci_device(e[i].name);
		_cleanup_free_ char *target = NULL;
		if ((r = ka_readlink(s->ka, rel, &target)) < 0)
			break;
		_cleanup_free_ char *devpath = path_resolve_rel(LAY_PCI_DEVICES, target);
		if (!devpath || strncmp(devpath, LAY_DEVICES "/", strlen(LAY_DEVICES) + 1) != 0) {
			_cleanup_free_ char *p = ka_path(s->ka, rel);
			log_warning("%s: link to %s left out: not a device under " LAY_DEVICES, p, target);
			s->skipped++;
			continue;
		}
		if ((r = out_link(s, rel, target, false)) < 0 || (r = copy_device(s, devpath)) < 0 ||
		    (r = copy_block(s, devpath)) < 0)
			break;
	}
	ka_entries_free(e, n);
	return r;
}

/* Files and links of one directory level (drivers, groups, bus). */
static int copy_level(struct snap *s, const char *rel, bool links)
{
	struct ka_entry *e = NULL;
	size_t n = 0;
	int r = ka_scan_dir(s->ka, rel, &e, &n);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = out_mkdirs(s, rel);
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", rel, e[i].name);
		if (S_ISREG(e[i].mode))
			r = copy_file(s, sub, e[i].mode, FILE_MAX);
		else if (links && S_ISLNK(e[i].mode))
			r = copy_link(s, sub);
	}
	ka_entries_free(e, n);
	return r;
}

static int copy_drivers(struct snap *s)
{
	int r = copy_level(s, LAY_PCI_BUS, false);
	struct ka_entry *e = NULL;
	size_t n = 0;
	if (r >= 0)
		r = ka_scan_dir(s->ka, LAY_PCI_DRIVERS, &e, &n);
	if (r == -ENOENT)
		return 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (!S_ISDIR(e[i].mode))
			continue;
		_cleanup_free_ char *rel = lay_pci_driver(e[i].name);
		r = copy_level(s, rel, true);
		_cleanup_free_ char *mlink = xasprintf("%s/module", rel);
		_cleanup_free_ char *target = NULL;
		if (r >= 0 && ka_readlink(s->ka, mlink, &target) == 0) {
			const char *m = strrchr(target, '/');
			m = m ? m + 1 : target;
			if (path_component_ok(m) && !strv_contains(&s->modules, m))
				strv_push(&s->modules, xstrdup(m));
		}
	}
	ka_entries_free(e, n);
	return r;
}

static int copy_groups(struct snap *s)
{
	struct ka_entry *e = NULL;
	size_t n = 0;
	int r = ka_scan_dir(s->ka, LAY_IOMMU_GROUPS, &e, &n);
	if (r == -ENOENT)
		return 0;
	if (r >= 0)
		r = out_mkdirs(s, LAY_IOMMU_GROUPS);
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", LAY_IOMMU_GROUPS, e[i].name);
		_cleanup_free_ char *devs = xasprintf("%s/devices", rel);
		if ((r = copy_level(s, rel, false)) >= 0)
			r = copy_level(s, devs, true);
	}
	ka_entries_free(e, n);
	return r;
}

static int copy_modules(struct snap *s)
{
	static const char *const with_params[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(with_params) && r >= 0; i++) {
		_cleanup_free_ char *rel = lay_module_attr(with_params[i], "parameters");
		r = copy_level(s, rel, false);
	}
	/* Loaded modules of PCI drivers, with their drivers/pci:NAME links. */
	for (size_t i = 0; i < s->modules.n && r >= 0; i++) {
		_cleanup_free_ char *drv = lay_module_attr(s->modules.v[i], "drivers");
		_cleanup_free_ char *init = lay_module_attr(s->modules.v[i], "initstate");
		if ((r = copy_level(s, drv, true)) >= 0)
			r = copy_file(s, init, 0444, FILE_MAX);
	}
	return r;
}

/*
 * An empty file for a node, with the node's mode, and its owner where the
 * snapshot may give it (as root): who may open it is what a hand-off
 * changes, and what its replay compares.
 */
static int out_node(struct snap *s, const char *rel)
{
	_cleanup_free_ char *path = xasprintf("/%s", rel);
	struct node_attr a;
	int r = out_file(s, rel, "", 0);
	if (r < 0 || ka_node_attr(s->ka, path, &a) < 0)
		return r;
	const char *name;
	_cleanup_close_ int dfd = out_parent(s, rel, &name);
	if (dfd < 0)
		return dfd;
	if (fchmodat(dfd, name, a.mode & 0777, 0) < 0)
		return -errno;
	(void)!fchownat(dfd, name, a.uid, a.gid, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int copy_dev_vfio(struct snap *s)
{
	/* Character devices become empty files: their names, owners and modes are what matters. */
	static const char *const dirs[] = { LAY_DEV_VFIO, LAY_DEV_VFIO_CDEVS };
	for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
		struct ka_entry *e = NULL;
		size_t n = 0;
		if (ka_scan_dir(s->ka, dirs[d], &e, &n) < 0)
			continue;
		int r = out_mkdirs(s, dirs[d]);
		for (size_t i = 0; i < n && r >= 0; i++) {
			if (S_ISDIR(e[i].mode))
				continue;
			_cleanup_free_ char *rel = xasprintf("%s/%s", dirs[d], e[i].name);
			r = out_node(s, rel);
		}
		ka_entries_free(e, n);
		if (r < 0)
			return r;
	}
	struct node_attr a;
	return ka_node_attr(s->ka, "/" LAY_DEV_IOMMU, &a) == 0 ? out_node(s, LAY_DEV_IOMMU) : 0;
}

static int copy_kernel(struct snap *s)
{
	_cleanup_free_ char *release = NULL;
	int r = ka_read(s->ka, LAY_OSRELEASE, &release);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	_cleanup_free_ char *line = xasprintf("%s\n", release);
	if ((r = out_file(s, LAY_OSRELEASE, line, strlen(line))) < 0)
		return r;
	if ((r = copy_file(s, LAY_CMDLINE, 0444, FILE_MAX)) < 0)
		return r;
	/* The release names the index's directory: one that is no directory name has no index to copy. */
	_cleanup_free_ char *moddir = lay_modules_dir(release);
	if (!moddir) {
		_cleanup_free_ char *p = ka_path(s->ka, LAY_OSRELEASE);
		log_warning("%s: '%s' cannot name a directory: the module index is left out", p, release);
		s->skipped++;
		return 0;
	}
	static const char *const index[] = {
		"modules.alias", "modules.alias.bin", "modules.dep", "modules.dep.bin",
		"modules.builtin", "modules.builtin.bin", "modules.builtin.alias.bin", "modules.softdep",
		"modules.symbols", "modules.symbols.bin",
	};
	for (size_t i = 0; i < ARRAY_SIZE(index) && r >= 0; i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", moddir, index[i]);
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (ka_read_raw(s->ka, rel, INDEX_MAX, &buf, &len) == 0)
			r = out_file(s, rel, buf, len);
	}
	return r;
}

int capture_run(const struct ka *ka, int outfd, const struct capture_options *o, struct capture_stats *stats)
{
	struct snap s = { .ka = ka, .a = o, .outfd = outfd };
	int r = copy_devices(&s);
	if (r >= 0)
		r = copy_drivers(&s);
	if (r >= 0)
		r = copy_groups(&s);
	if (r >= 0)
		r = copy_modules(&s);
	if (r >= 0)
		r = copy_dev_vfio(&s);
	if (r >= 0)
		r = copy_kernel(&s);
	if (r >= 0)
		r = copy_nvme_subsystems(&s);
	if (r >= 0)
		r = copy_runtime(&s);
	if (r >= 0)
		r = copy_consoles(&s);
	strv_free(&s.modules);
	*stats = (struct capture_stats){ s.files, s.links, s.skipped };
	return r;
}
