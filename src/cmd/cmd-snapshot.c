// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iommu-own snapshot DIR: capture what iommu-own reads from the system (or
 * from --sysroot) as a sysroot that --sysroot replays: PCI device nodes with
 * their attributes and config space, the symlinks exactly as sysfs has them,
 * the drivers, the IOMMU groups, the VFIO module parameters, the kernel
 * release and command line, /dev/vfio, the kernel's module index, and what
 * the refusals read: block and network devices, mounts, swaps, routes, and the
 * processes holding VFIO files.
 * Reading goes through the kernel-access layer; DIR is an ordinary directory.
 */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cmd/commands.h"

#define CONFIG_MAX 4096
#define FILE_MAX (64 * 1024)
#define INDEX_MAX (256 * 1024 * 1024)

struct snapshot_args {
	const char *dir;
	bool no_config;
	bool no_serial;
};

struct snap {
	const struct ka *ka;
	const struct snapshot_args *a;
	int outfd;
	unsigned files, links, skipped;
	struct strv modules; /* modules of loaded PCI drivers */
};

enum { OPT_NO_CONFIG = 0x600, OPT_NO_SERIAL };

static const struct argp_option snapshot_options[] = {
	{ "no-config", OPT_NO_CONFIG, NULL, 0, "Leave out config space (then 'why' and bridge detection by header type have less to go on)", 0 },
	{ "no-serial", OPT_NO_SERIAL, NULL, 0, "Leave out serial numbers: the Device Serial Number capability is zeroed, MAC addresses are not copied", 0 },
	{ 0 }
};

static error_t snapshot_parse(int key, char *arg, struct argp_state *state)
{
	struct snapshot_args *a = state->input;
	switch (key) {
	case OPT_NO_CONFIG:
		a->no_config = true;
		break;
	case OPT_NO_SERIAL:
		a->no_serial = true;
		break;
	case ARGP_KEY_ARG:
	case ARGP_KEY_END:
		command_one_operand(state, key, &a->dir, arg, "DIR", "to write the snapshot to");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp snapshot_argp = {
	snapshot_options, snapshot_parse, "DIR",
	"Capture the PCI devices, drivers, IOMMU groups, VFIO parameters and module index of the system "
	"(or of --sysroot) into DIR, a new or empty directory, as a sysroot that --sysroot replays: "
	"'iommu-own --sysroot DIR list --json' prints what the system printed. Write-only attributes "
	"become empty files; resource files, rom and vpd are left out (they can hang or are large).\v"
	"Exit status: 0 written, 2 usage or runtime error.",
	NULL, NULL, NULL
};

/* ---- the output tree ---- */

static int out_mkdirs(struct snap *s, const char *rel)
{
	_cleanup_free_ char *p = xstrdup(rel);
	for (char *c = p;; c++) {
		if (*c == '/' || !*c) {
			char save = *c;
			*c = '\0';
			if (mkdirat(s->outfd, p, 0755) < 0 && errno != EEXIST)
				return -errno;
			*c = save;
			if (!save)
				break;
		}
	}
	return 0;
}

static int out_parent(struct snap *s, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	if (!slash)
		return 0;
	_cleanup_free_ char *dir = xstrndup(rel, (size_t)(slash - rel));
	return out_mkdirs(s, dir);
}

static int out_file(struct snap *s, const char *rel, const char *buf, size_t len)
{
	int r = out_parent(s, rel);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = openat(s->outfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (len && write(fd, buf, len) != (ssize_t)len)
		return -EIO;
	s->files++;
	return 0;
}

static int out_link(struct snap *s, const char *rel, const char *target)
{
	int r = out_parent(s, rel);
	if (r < 0)
		return r;
	if (symlinkat(target, s->outfd, rel) < 0 && errno != EEXIST)
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
	return out_link(s, rel, target);
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
			if (streq(name, "vfio-dev"))
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
	static const char base[] = "sys/devices/virtual/nvme-subsystem";
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
	static const char *const files[] = { "proc/self/mountinfo", "proc/swaps", "proc/net/route", "proc/net/if_inet6" };
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(files) && r >= 0; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (ka_read_raw(s->ka, files[i], INDEX_MAX, &buf, &len) == 0)
			r = out_file(s, files[i], buf, len);
	}
	struct vfio_holder *h = NULL;
	size_t n = 0;
	if (r >= 0 && ka_vfio_holders(s->ka, &h, &n) == 0) {
		for (size_t i = 0; i < n && r >= 0; i++) {
			_cleanup_free_ char *comm = xasprintf("proc/%ld/comm", h[i].pid);
			_cleanup_free_ char *fd = xasprintf("proc/%ld/fd/%zu", h[i].pid, 100 + i);
			_cleanup_free_ char *line = xasprintf("%s\n", h[i].comm);
			if ((r = out_file(s, comm, line, strlen(line))) >= 0)
				r = out_link(s, fd, h[i].path);
		}
		vfio_holders_free(h, n);
	}
	return r;
}

static int copy_devices(struct snap *s)
{
	struct ka_entry *e = NULL;
	size_t n = 0;
	int r = ka_scan_dir(s->ka, "sys/bus/pci/devices", &e, &n);
	if (r == -ENOENT)
		return 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *rel = xasprintf("sys/bus/pci/devices/%s", e[i].name);
		_cleanup_free_ char *target = NULL;
		if ((r = ka_readlink(s->ka, rel, &target)) < 0)
			break;
		_cleanup_free_ char *devpath = path_resolve_rel("sys/bus/pci/devices", target);
		if (!devpath || strncmp(devpath, "sys/devices/", 12) != 0) {
			_cleanup_free_ char *p = ka_path(s->ka, rel);
			log_warning("%s: link to %s left out: not a device under sys/devices", p, target);
			s->skipped++;
			continue;
		}
		if ((r = out_link(s, rel, target)) < 0 || (r = copy_device(s, devpath)) < 0 ||
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
	int r = copy_level(s, "sys/bus/pci", false);
	struct ka_entry *e = NULL;
	size_t n = 0;
	if (r >= 0)
		r = ka_scan_dir(s->ka, "sys/bus/pci/drivers", &e, &n);
	if (r == -ENOENT)
		return 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (!S_ISDIR(e[i].mode))
			continue;
		_cleanup_free_ char *rel = xasprintf("sys/bus/pci/drivers/%s", e[i].name);
		r = copy_level(s, rel, true);
		_cleanup_free_ char *mlink = xasprintf("%s/module", rel);
		_cleanup_free_ char *target = NULL;
		if (r >= 0 && ka_readlink(s->ka, mlink, &target) == 0) {
			const char *m = strrchr(target, '/');
			m = m ? m + 1 : target;
			if (!strv_contains(&s->modules, m))
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
	int r = ka_scan_dir(s->ka, "sys/kernel/iommu_groups", &e, &n);
	if (r == -ENOENT)
		return 0;
	if (r >= 0)
		r = out_mkdirs(s, "sys/kernel/iommu_groups");
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *rel = xasprintf("sys/kernel/iommu_groups/%s", e[i].name);
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
		_cleanup_free_ char *rel = xasprintf("sys/module/%s/parameters", with_params[i]);
		r = copy_level(s, rel, false);
	}
	/* Loaded modules of PCI drivers, with their drivers/pci:NAME links. */
	for (size_t i = 0; i < s->modules.n && r >= 0; i++) {
		_cleanup_free_ char *drv = xasprintf("sys/module/%s/drivers", s->modules.v[i]);
		_cleanup_free_ char *init = xasprintf("sys/module/%s/initstate", s->modules.v[i]);
		if ((r = copy_level(s, drv, true)) >= 0)
			r = copy_file(s, init, 0444, FILE_MAX);
	}
	return r;
}

static int copy_dev_vfio(struct snap *s)
{
	/* Character devices become empty files: their names are what matters. */
	static const char *const dirs[] = { "dev/vfio", "dev/vfio/devices" };
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
			r = out_file(s, rel, "", 0);
		}
		ka_entries_free(e, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int copy_kernel(struct snap *s)
{
	_cleanup_free_ char *release = NULL;
	int r = ka_read(s->ka, "proc/sys/kernel/osrelease", &release);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	_cleanup_free_ char *line = xasprintf("%s\n", release);
	if ((r = out_file(s, "proc/sys/kernel/osrelease", line, strlen(line))) < 0)
		return r;
	if ((r = copy_file(s, "proc/cmdline", 0444, FILE_MAX)) < 0)
		return r;
	static const char *const index[] = {
		"modules.alias", "modules.alias.bin", "modules.dep", "modules.dep.bin",
		"modules.builtin", "modules.builtin.bin", "modules.builtin.alias.bin", "modules.softdep",
		"modules.symbols", "modules.symbols.bin",
	};
	for (size_t i = 0; i < ARRAY_SIZE(index) && r >= 0; i++) {
		_cleanup_free_ char *rel = xasprintf("lib/modules/%s/%s", release, index[i]);
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (ka_read_raw(s->ka, rel, INDEX_MAX, &buf, &len) == 0)
			r = out_file(s, rel, buf, len);
	}
	return r;
}

static int open_output(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_error("snapshot: cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		log_error("snapshot: %s: %s", dir, strerror(errno));
		return -errno;
	}
	struct statfs sfs;
	DIR *d = fdopendir(dup(fd));
	bool empty = true;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
				empty = false;
		closedir(d);
	}
	if (!empty || (fstatfs(fd, &sfs) == 0 && (sfs.f_type == SYSFS_MAGIC || sfs.f_type == PROC_SUPER_MAGIC))) {
		log_error("snapshot: %s is not a new or empty directory", dir);
		close(fd);
		return -EEXIST;
	}
	return fd;
}

int cmd_snapshot(struct context *ctx, int argc, char **argv)
{
	struct snapshot_args a = { 0 };
	command_parse(&snapshot_argp, argc, argv, &a);
	if (context_open(ctx) < 0)
		return EXIT_USAGE;
	struct snap s = { .ka = ctx->ka, .a = &a };
	s.outfd = open_output(a.dir);
	if (s.outfd < 0)
		return EXIT_USAGE;

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
	close(s.outfd);
	strv_free(&s.modules);
	if (r < 0) {
		log_error("snapshot of %s into %s failed: %s", ka_root(ctx->ka), a.dir, ka_strerror(r));
		return EXIT_USAGE;
	}
	fprintf(stderr, "%s: snapshot of %s in %s: %u files, %u links%s\n", program_name, ka_root(ctx->ka), a.dir,
		s.files, s.links, s.skipped ? " (some unreadable attributes written empty)" : "");
	return EXIT_OK;
}
