// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The replay engine's SR-IOV: what sriov_numvfs_store() and
 * sriov_drivers_autoprobe_store() (drivers/pci/iov.c) do, applied to a
 * captured tree.
 *
 * A new VF appears as pci_iov_add_virtfn() adds it: a device directory
 * beside its PF (the PF's parent is the VF's) with the attributes readers
 * use, the links physfn, virtfnN, subsystem and the bus's, and an IOMMU
 * group. pci_device_group() walks up from the VF to the first bridge whose
 * path has ACS: when the PF shares its group with its upstream bridge (no
 * ACS there), the VF joins that group; otherwise it gets a new one,
 * numbered as the kernel's IDA numbers them (the lowest free). With the
 * PF's sriov_drivers_autoprobe 1 the new VF is probed as any device that
 * appears; with 0 it stays unbound (pci_device_can_probe()). sriov_disable()
 * removes the VFs from the last to the first, each unbound first: a VF a
 * process holds through VFIO would block it, which a replay reports as
 * EBUSY before removing any.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/drivers.h"
#include "os/layout.h"
#include "os/replay-internal.h"

#define CONFIG_MAX 4096

struct pf {
	const char *addr;
	struct pci_addr a;
	char *path; /* its real directory, sys/devices/... */
	int fd;     /* O_PATH */
	unsigned long total, num, offset, stride;
};

static void pf_close(struct pf *pf)
{
	free(pf->path);
	if (pf->fd >= 0)
		close(pf->fd);
}

static int read_num(int dirfd, const char *name, int base, unsigned long *ret)
{
	_cleanup_free_ char *v = NULL;
	int r = ka_read_at(dirfd, name, &v);
	if (r < 0)
		return r;
	return parse_ulong(v, base, ret) < 0 ? -EBADMSG : 0;
}

/* The PF and its SR-IOV attributes: -ENODEV without the device, -ENOENT when it is no PF (no such attribute). */
static int pf_open(struct ka *ka, const char *addr, struct pf *pf)
{
	*pf = (struct pf){ .addr = addr, .fd = -1 };
	if (pci_addr_parse(addr, &pf->a) < 0)
		return -ENODEV;
	int r = rp_open_device(ka, addr, &pf->path, &pf->fd);
	if (r < 0)
		return r;
	if ((r = read_num(pf->fd, LAY_SRIOV_TOTALVFS, 10, &pf->total)) < 0 ||
	    (r = read_num(pf->fd, LAY_SRIOV_NUMVFS, 10, &pf->num)) < 0)
		return r;
	/* Captures without the routing attributes (older kernels): the spec's usual first offset. */
	if (read_num(pf->fd, LAY_SRIOV_OFFSET, 10, &pf->offset) < 0)
		pf->offset = 1;
	if (read_num(pf->fd, LAY_SRIOV_STRIDE, 10, &pf->stride) < 0)
		pf->stride = 1;
	return 0;
}

/* kstrtou16(buf, 0, ...): decimal, 0x hexadecimal or 0 octal, one trailing newline allowed. */
static int parse_count(const char *value, unsigned long *ret)
{
	_cleanup_free_ char *v = xstrdup(value ? value : "");
	size_t len = strlen(v);
	if (len && v[len - 1] == '\n')
		v[len - 1] = '\0';
	return parse_ulong(v, 0, ret) == 0 && *ret <= 0xffff ? 0 : -EINVAL;
}

/* kstrtobool(): y, t, 1, on are true; n, f, 0, off false; anything else EINVAL. */
static int parse_bool(const char *v, bool *ret)
{
	if (!v || !*v)
		return -EINVAL;
	if (strchr("yYtT1", v[0]))
		*ret = true;
	else if (strchr("nNfF0", v[0]))
		*ret = false;
	else if ((v[0] == 'o' || v[0] == 'O') && v[1] && strchr("nN", v[1]))
		*ret = true;
	else if ((v[0] == 'o' || v[0] == 'O') && v[1] && strchr("fF", v[1]))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* The routing ID of VF id (pci_iov_virtfn_bus() and _devfn()): the PF's plus offset and id strides. */
static void vf_address(const struct pf *pf, unsigned long id, char *buf, size_t size)
{
	unsigned long rid = (unsigned long)(pf->a.bus << 8 | pf->a.dev << 3 | pf->a.fn) + pf->offset + pf->stride * id;
	struct pci_addr a = { pf->a.domain, (uint8_t)(rid >> 8), (uint8_t)(rid >> 3 & 0x1f), (uint8_t)(rid & 7) };
	pci_addr_format(&a, buf, size);
}

static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
}

/* ---- a new VF ---- */

static unsigned long pf_hex(int pffd, const char *name, unsigned long fallback)
{
	unsigned long v;
	return read_num(pffd, name, 16, &v) == 0 ? v : fallback;
}

static int write_attr(struct ka *ka, const char *vfpath, const char *name, const char *content)
{
	_cleanup_free_ char *rel = xasprintf("%s/%s", vfpath, name);
	return rp_write_file(ka, rel, content, true);
}

/* The PF's config space with the VF's identity: no command bits, no interrupt pin, no extended capabilities. */
static int vf_config(struct ka *ka, const struct pf *pf, const char *vfpath, unsigned long vf_device)
{
	unsigned char cfg[CONFIG_MAX] = { 0 };
	int n = ka_read_binary_at(pf->fd, "config", cfg, sizeof(cfg));
	if (n < 64)
		return 0; /* a capture without config space: the VF has none either */
	cfg[0x02] = (unsigned char)(vf_device & 0xff);
	cfg[0x03] = (unsigned char)(vf_device >> 8);
	cfg[0x04] = cfg[0x05] = 0;
	cfg[0x0e] = 0;
	cfg[0x3c] = cfg[0x3d] = 0;
	if (n > 0x100)
		memset(cfg + 0x100, 0, (size_t)n - 0x100);
	_cleanup_free_ char *rel = xasprintf("%s/config", vfpath);
	return rp_write_bytes(ka, rel, cfg, (size_t)n, true);
}

static int vf_attributes(struct ka *ka, const struct pf *pf, const char *vfpath, const char *addr)
{
	unsigned long ven = pf_hex(pf->fd, "vendor", 0xffff), dev = pf_hex(pf->fd, LAY_SRIOV_VF_DEVICE, 0xffff);
	unsigned long sv = pf_hex(pf->fd, "subsystem_vendor", ven), sd = pf_hex(pf->fd, "subsystem_device", dev);
	unsigned long cls = pf_hex(pf->fd, "class", 0), rev = pf_hex(pf->fd, "revision", 0);
	_cleanup_free_ char *numa = NULL, *res = NULL;
	if (ka_read_at(pf->fd, "numa_node", &numa) < 0)
		numa = xstrdup("-1");
	_cleanup_free_ char *alias = xasprintf("pci:v%08lXd%08lXsv%08lXsd%08lXbc%02lXsc%02lXi%02lX", ven, dev, sv, sd,
					       cls >> 16 & 0xff, cls >> 8 & 0xff, cls & 0xff);
	struct {
		const char *name;
		char *content;
	} attrs[] = {
		{ "vendor", xasprintf("0x%04lx\n", ven) },
		{ "device", xasprintf("0x%04lx\n", dev) },
		{ "subsystem_vendor", xasprintf("0x%04lx\n", sv) },
		{ "subsystem_device", xasprintf("0x%04lx\n", sd) },
		{ "class", xasprintf("0x%06lx\n", cls) },
		{ "revision", xasprintf("0x%02lx\n", rev) },
		{ "modalias", xasprintf("%s\n", alias) },
		{ "uevent", xasprintf("PCI_CLASS=%lX\nPCI_ID=%04lX:%04lX\nPCI_SUBSYS_ID=%04lX:%04lX\nPCI_SLOT_NAME=%s\n"
				      "MODALIAS=%s\n", cls, ven, dev, sv, sd, addr, alias) },
		{ "driver_override", xstrdup("(null)\n") },
		{ "reset_method", xstrdup("flr\n") }, /* every VF has FLR (the SR-IOV specification) */
		{ "enable", xstrdup("0\n") },
		{ "irq", xstrdup("0\n") },
		{ "numa_node", xasprintf("%s\n", numa) },
	};
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		if (r == 0)
			r = write_attr(ka, vfpath, attrs[i].name, attrs[i].content);
		free(attrs[i].content);
	}
	if (r == 0 && ka_read_at(pf->fd, "resource", &res) == 0) {
		_cleanup_free_ char *content = xasprintf("%s\n", res);
		r = write_attr(ka, vfpath, "resource", content);
	}
	return r < 0 ? r : vf_config(ka, pf, vfpath, dev);
}

static int link_at(int dirfd, const char *name, const char *from_dir, const char *to)
{
	_cleanup_free_ char *target = path_relative(from_dir, to);
	return symlinkat(target, dirfd, name) < 0 ? -errno : 0;
}

/* physfn and virtfnN between the two, the subsystem link, and the device in the bus's list. */
static int vf_links(struct ka *ka, const struct pf *pf, const char *vfpath, int vfd, const char *addr, unsigned long id)
{
	char virtfn[32];
	snprintf(virtfn, sizeof(virtfn), LAY_VIRTFN_PREFIX "%lu", id);
	int r = link_at(vfd, "subsystem", vfpath, LAY_PCI_BUS);
	if (r == 0)
		r = link_at(vfd, LAY_PHYSFN, vfpath, pf->path);
	if (r == 0)
		r = link_at(pf->fd, virtfn, pf->path, vfpath);
	_cleanup_close_ int bus = r == 0 ? rp_open_dir(ka, LAY_PCI_DEVICES) : -1;
	if (r == 0)
		r = bus < 0 ? bus : link_at(bus, addr, LAY_PCI_DEVICES, vfpath);
	return r;
}

/* The group of the device whose real directory is path; NULL when it is no device or in no group. */
static char *group_of_path(struct ka *ka, const char *path)
{
	_cleanup_close_ int fd = rp_lookup(ka, path, RES_PATH | RES_DIR);
	return fd < 0 ? NULL : rp_device_group(fd);
}

/* A new group with the PF group's type and reserved regions, numbered lowest free; its number. */
static char *new_group(struct ka *ka, const char *pf_group)
{
	struct strv names = { 0 };
	ka_list_dir(ka, LAY_IOMMU_GROUPS, &names);
	unsigned long n = 0;
	for (bool taken = true; taken; n += taken) {
		taken = false;
		for (size_t i = 0; i < names.n && !taken; i++) {
			unsigned long v;
			taken = parse_ulong(names.v[i], 10, &v) == 0 && v == n;
		}
	}
	strv_free(&names);
	_cleanup_close_ int gsfd = rp_open_dir(ka, LAY_IOMMU_GROUPS);
	char num[32];
	snprintf(num, sizeof(num), "%lu", n);
	if (gsfd < 0 || mkdirat(gsfd, num, 0755) < 0)
		return NULL;
	_cleanup_close_ int gfd = rp_open_child(gsfd, num, RES_PATH);
	if (gfd < 0 || mkdirat(gfd, "devices", 0755) < 0)
		return NULL;
	unsigned long pfn = 0;
	parse_ulong(pf_group, 10, &pfn);
	static const char *const copied[] = { "type", "reserved_regions" };
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
		_cleanup_free_ char *from = lay_group_attr(pfn, copied[i]), *to = lay_group_attr(n, copied[i]);
		_cleanup_free_ char *v = NULL;
		if (ka_read(ka, from, &v) == 0) {
			_cleanup_free_ char *content = *v ? xasprintf("%s\n", v) : xstrdup("");
			rp_write_file(ka, to, content, true);
		}
	}
	return xstrdup(num);
}

static int vf_group(struct ka *ka, const struct pf *pf, const char *vfpath, int vfd, const char *addr)
{
	_cleanup_free_ char *pf_group = rp_device_group(pf->fd);
	if (!pf_group)
		return 0; /* no IOMMU: the VF is in no group either */
	_cleanup_free_ char *parent = parent_of(pf->path);
	_cleanup_free_ char *bridge_group = group_of_path(ka, parent);
	char *g = bridge_group && streq(bridge_group, pf_group) ? xstrdup(pf_group) : new_group(ka, pf_group);
	if (!g)
		return -EIO;
	unsigned long n = 0;
	parse_ulong(g, 10, &n);
	free(g);
	_cleanup_free_ char *gdir = lay_group(n), *gdevs = lay_group_attr(n, "devices");
	_cleanup_close_ int dfd = rp_open_dir(ka, gdevs);
	int r = dfd < 0 ? dfd : link_at(dfd, addr, gdevs, vfpath);
	return r < 0 ? r : link_at(vfd, "iommu_group", vfpath, gdir);
}

static bool autoprobe_on(const struct pf *pf)
{
	_cleanup_free_ char *v = NULL;
	return ka_read_at(pf->fd, LAY_SRIOV_AUTOPROBE, &v) < 0 || !streq(v, "0");
}

static int remove_vf(struct replay *rp, struct ka *ka, const struct pf *pf, unsigned long id);

static int add_vf(struct replay *rp, struct ka *ka, const struct pf *pf, unsigned long id)
{
	char addr[32];
	vf_address(pf, id, addr, sizeof(addr));
	_cleanup_free_ char *parent = parent_of(pf->path);
	_cleanup_free_ char *vfpath = xasprintf("%s/%s", parent, addr);
	_cleanup_close_ int pfd = rp_open_dir(ka, parent);
	if (pfd < 0)
		return pfd;
	if (mkdirat(pfd, addr, 0755) < 0)
		return errno == EEXIST ? rp_refused(ka, vfpath, -EEXIST) : -errno;
	_cleanup_close_ int vfd = rp_open_child(pfd, addr, RES_PATH);
	int r = vfd < 0 ? vfd : vf_attributes(ka, pf, vfpath, addr);
	if (r == 0)
		r = vf_links(ka, pf, vfpath, vfd, addr, id);
	if (r == 0)
		r = vf_group(ka, pf, vfpath, vfd, addr);
	if (r < 0) {
		/* What was made of it goes, as pci_iov_add_virtfn() undoes a failed add. */
		char virtfn[32];
		snprintf(virtfn, sizeof(virtfn), LAY_VIRTFN_PREFIX "%lu", id);
		if (ka_exists_at(pf->fd, virtfn))
			remove_vf(rp, ka, pf, id);
		else
			rp_remove_tree_at(pfd, addr);
		return r;
	}
	if (autoprobe_on(pf))
		rp_probe_all(rp, ka, vfpath, vfd, addr);
	return 0;
}

/* ---- a VF going away ---- */

/* The VF behind the PF's link virtfn<id>: its real path (NULL when there is none). */
static char *vf_path(const struct pf *pf, unsigned long id)
{
	char virtfn[32];
	snprintf(virtfn, sizeof(virtfn), LAY_VIRTFN_PREFIX "%lu", id);
	_cleanup_free_ char *target = NULL;
	if (res_readlink(pf->fd, virtfn, &target) < 0)
		return NULL;
	return path_resolve_rel(pf->path, target);
}

static void unlink_rel(struct ka *ka, const char *rel)
{
	const char *name;
	_cleanup_close_ int dfd = rel ? res_open_parent(ka_rootfd(ka), rel, CHANGE, &name) : -1;
	if (dfd >= 0)
		unlinkat(dfd, name, 0);
}

/* The VF leaves its group; a group left empty goes (iommu_group_release()). */
static void leave_group(struct ka *ka, const char *group, const char *addr)
{
	unsigned long n = 0;
	parse_ulong(group, 10, &n);
	_cleanup_free_ char *gdevs = lay_group_attr(n, "devices");
	_cleanup_free_ char *link = xasprintf("%s/%s", gdevs, addr);
	unlink_rel(ka, link);
	struct strv left = { 0 };
	if (ka_list_dir(ka, gdevs, &left) == 0 && left.n == 0) {
		_cleanup_close_ int gsfd = rp_open_dir(ka, LAY_IOMMU_GROUPS);
		if (gsfd >= 0)
			rp_remove_tree_at(gsfd, group);
	}
	strv_free(&left);
}

static int remove_vf(struct replay *rp, struct ka *ka, const struct pf *pf, unsigned long id)
{
	_cleanup_free_ char *path = vf_path(pf, id);
	if (!path)
		return 0;
	const char *addr = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	_cleanup_close_ int vfd = rp_lookup(ka, path, RES_PATH | RES_DIR);
	if (vfd >= 0) {
		_cleanup_free_ char *drv = NULL;
		if (ka_link_base_at(vfd, "driver", &drv) == 0) {
			struct ka_write w = { KA_UNBIND, addr, drv, NULL };
			int r = rp_unbind(rp, ka, &w);
			if (r < 0)
				return r;
		}
		_cleanup_free_ char *group = rp_device_group(vfd);
		if (group)
			leave_group(ka, group, addr);
	}
	_cleanup_free_ char *buslink = lay_pci_device(addr);
	unlink_rel(ka, buslink);
	_cleanup_free_ char *parent = parent_of(path);
	_cleanup_close_ int pfd = rp_open_dir(ka, parent);
	if (pfd >= 0)
		rp_remove_tree_at(pfd, addr);
	char virtfn[32];
	snprintf(virtfn, sizeof(virtfn), LAY_VIRTFN_PREFIX "%lu", id);
	unlinkat(pf->fd, virtfn, 0);
	return 0;
}

/* Whether a process holds a VF of the PF through VFIO: the kernel's removal would wait for it. */
static bool vf_held(struct ka *ka, const struct pf *pf)
{
	for (unsigned long id = 0; id < pf->num; id++) {
		_cleanup_free_ char *path = vf_path(pf, id);
		_cleanup_free_ char *group = path ? group_of_path(ka, path) : NULL;
		if (group && rp_group_held(ka, group))
			return true;
	}
	return false;
}

static int disable(struct replay *rp, struct ka *ka, const struct pf *pf)
{
	if (vf_held(ka, pf))
		return -EBUSY;
	for (unsigned long id = pf->num; id-- > 0;) {
		int r = remove_vf(rp, ka, pf, id);
		if (r < 0)
			return r;
	}
	return 0;
}

static int enable(struct replay *rp, struct ka *ka, const struct pf *pf, unsigned long n)
{
	for (unsigned long id = 0; id < n; id++) {
		int r = add_vf(rp, ka, pf, id);
		if (r < 0) {
			/* sriov_enable() fails whole: the VFs made so far go again. */
			while (id-- > 0)
				remove_vf(rp, ka, pf, id);
			return r;
		}
	}
	return 0;
}

static int store_count(struct ka *ka, const struct pf *pf, unsigned long n)
{
	_cleanup_free_ char *rel = xasprintf("%s/" LAY_SRIOV_NUMVFS, pf->path);
	_cleanup_free_ char *content = xasprintf("%lu\n", n);
	return rp_write_file(ka, rel, content, false);
}

int rp_numvfs(struct replay *rp, struct ka *ka, const struct ka_write *w)
{
	struct pf pf;
	int r = pf_open(ka, w->device, &pf);
	unsigned long n = 0;
	if (r == 0 && parse_count(w->value, &n) < 0)
		r = -EINVAL;
	/* sriov_numvfs_store(), in its order: the range, no change, the driver, through zero. */
	else if (r == 0 && n > pf.total)
		r = -ERANGE;
	if (r < 0 || n == pf.num) {
		pf_close(&pf);
		return r;
	}
	_cleanup_free_ char *drv = NULL;
	if (ka_link_base_at(pf.fd, "driver", &drv) < 0 || !driver_configures_sriov(drv))
		r = -ENOENT;
	else if (n == 0)
		r = disable(rp, ka, &pf);
	else if (pf.num)
		r = -EBUSY;
	else
		r = enable(rp, ka, &pf, n);
	if (r == 0)
		r = store_count(ka, &pf, n);
	pf_close(&pf);
	return r;
}

int rp_autoprobe(struct ka *ka, const struct ka_write *w)
{
	_cleanup_free_ char *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	int r = rp_open_device(ka, w->device, &devpath, &devfd);
	if (r < 0)
		return r;
	if (!ka_exists_at(devfd, LAY_SRIOV_AUTOPROBE))
		return -ENOENT;
	bool on;
	if (parse_bool(w->value, &on) < 0)
		return -EINVAL;
	_cleanup_free_ char *rel = xasprintf("%s/" LAY_SRIOV_AUTOPROBE, devpath);
	return rp_write_file(ka, rel, on ? "1\n" : "0\n", false);
}
