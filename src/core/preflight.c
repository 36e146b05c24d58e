// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "core/preflight.h"
#include "os/holders.h"
#include "os/layout.h"

const struct refusal_code refusal_codes[] = {
	{ "boot-vga", true, "the device drives the boot console" },
	{ "mounted", true, "a block device under it is mounted, used as swap, or held" },
	{ "netdev-active", true, "a network interface under it is up with addresses or routes" },
	{ "sriov-pf", true, "a physical function with VFs enabled" },
	{ "chipset", true, "the group holds a host bridge or an ISA/LPC bridge" },
	{ "in-use", false, "a process holds the group's or the device's VFIO file open" },
	{ "direct-mapped", false, "the group has a direct-mapped reserved region: the kernel refuses it" },
	{ "kernel-bridge", false, "a bridge left alone is on a kernel DMA driver: the group cannot become viable" },
	{ "non-pci", false, "the group holds a device that is not on the PCI bus" },
	{ "no-override", false, "the kernel has no driver_override for the device (before Linux 3.16)" },
};
const size_t n_refusal_codes = ARRAY_SIZE(refusal_codes);

const struct refusal_code *refusal_code_find(const char *code)
{
	for (size_t i = 0; i < n_refusal_codes; i++)
		if (streq(refusal_codes[i].code, code))
			return &refusal_codes[i];
	return NULL;
}

void refusals_free(struct refusals *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].device);
		free(r->v[i].message);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void refuse(struct refusals *out, const struct strv *force, const char *code, const char *device,
		   const char *fmt, ...) _printf_(5, 6);
static void refuse(struct refusals *out, const struct strv *force, const char *code, const char *device,
		   const char *fmt, ...)
{
	const struct refusal_code *rc = refusal_code_find(code);
	out->v = grow_array(out->v, &out->cap, out->n + 1, sizeof(*out->v));
	struct refusal *x = &out->v[out->n++];
	x->code = rc->code;
	x->device = device ? xstrdup(device) : NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&x->message, fmt, ap) < 0)
		abort();
	va_end(ap);
	x->forced = rc->overridable && force && strv_contains(force, code);
	if (!x->forced)
		out->blocking++;
}

static const char *const skip_names[_SKIP_MAX] = {
	[SKIP_NONE] = NULL,
	[SKIP_BRIDGE] = "bridge",
	[SKIP_PCIEPORT] = "on pcieport",
	[SKIP_PCI_STUB] = "on pci-stub",
	[SKIP_NOT_PCI] = "not a PCI device",
	[SKIP_ALREADY] = "already there",
	[SKIP_NOT_VFIO] = "not on VFIO",
	[SKIP_REMOVED] = "removed",
};

const char *skip_name(enum skip s)
{
	return s < _SKIP_MAX ? skip_names[s] : NULL;
}

enum skip move_skip_reason(const struct device *d)
{
	if (device_is_bridge(d))
		return SKIP_BRIDGE;
	if (d->driver && driver_name_eq(d->driver, "pcieport"))
		return SKIP_PCIEPORT;
	if (d->driver && driver_name_eq(d->driver, "pci-stub"))
		return SKIP_PCI_STUB;
	return SKIP_NONE;
}

static const char *class_kind(uint32_t class)
{
	switch (class >> 8) {
	case 0x0600:
		return "a host bridge";
	case 0x0601:
		return "an ISA/LPC bridge";
	default:
		return NULL;
	}
}


/*
 * With native NVMe multipath the disks a controller serves live under its
 * NVMe subsystem (sys/devices/virtual/nvme-subsystem/nvme-subsysN/nvmeXnY),
 * not below the PCI device, which holds only hidden per-path disks: add the
 * block devices of every subsystem one of whose controllers is below devpath.
 */
static void nvme_subsystem_blocks(const struct ka *ka, const char *devpath, struct strv *blocks)
{
	struct strv subsystems = { 0 };
	if (ka_list_dir(ka, LAY_NVME_SUBSYSTEMS, &subsystems) < 0)
		return;
	size_t plen = strlen(devpath);
	for (size_t i = 0; i < subsystems.n; i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", LAY_NVME_SUBSYSTEMS, subsystems.v[i]);
		struct ka_entry *e = NULL;
		size_t n = 0;
		bool ours = false;
		if (ka_scan_dir(ka, sub, &e, &n) < 0)
			continue;
		for (size_t j = 0; j < n && !ours; j++) {
			if (!S_ISLNK(e[j].mode) || strncmp(e[j].name, "nvme", 4) != 0)
				continue;
			_cleanup_free_ char *rel = xasprintf("%s/%s", sub, e[j].name);
			_cleanup_free_ char *target = NULL;
			if (ka_readlink(ka, rel, &target) < 0)
				continue;
			_cleanup_free_ char *ctrl = path_resolve_rel(sub, target);
			ours = ctrl && strncmp(ctrl, devpath, plen) == 0 && ctrl[plen] == '/';
		}
		ka_entries_free(e, n);
		if (ours)
			ka_find_class_devices(ka, sub, "block", blocks);
	}
	strv_free(&subsystems);
}

static void check_block(const struct ka *ka, const struct device *d, const char *mountinfo, const char *swaps,
			const struct strv *force, struct refusals *out)
{
	_cleanup_free_ char *dir = lay_pci_device(d->name);
	struct strv blocks = { 0 };
	if (ka_find_class_devices(ka, dir, "block", &blocks) < 0)
		return;
	/* The device's real path, to recognise its NVMe controllers from their subsystem's links. */
	_cleanup_free_ char *devpath = NULL;
	if (ka_device_path(ka, d->name, &devpath) == 0)
		nvme_subsystem_blocks(ka, devpath, &blocks);
	for (size_t i = 0; i < blocks.n; i++) {
		const char *name = strrchr(blocks.v[i], '/') + 1;
		_cleanup_free_ char *devrel = xasprintf("%s/dev", blocks.v[i]);
		_cleanup_free_ char *majmin = NULL;
		const char *why = NULL;
		if (ka_read(ka, devrel, &majmin) == 0 && mountinfo) {
			/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
			_cleanup_free_ char *needle = xasprintf(" %s ", majmin);
			for (const char *p = mountinfo; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
				const char *eol = strchrnul(p, '\n');
				const char *hit = strstr(p, needle);
				if (hit && hit < eol) {
					why = "mounted";
					break;
				}
			}
		}
		if (!why && swaps) {
			_cleanup_free_ char *node = lay_dev_path(name);
			_cleanup_free_ char *needle = xasprintf("%s ", node);
			_cleanup_free_ char *needle2 = xasprintf("%s\t", node);
			if (strstr(swaps, needle) || strstr(swaps, needle2))
				why = "used as swap";
		}
		if (!why) {
			_cleanup_free_ char *hrel = xasprintf("%s/holders", blocks.v[i]);
			struct strv holders = { 0 };
			if (ka_list_dir(ka, hrel, &holders) == 0 && holders.n > 0)
				why = "held by another block device (RAID, LVM, dm)";
			strv_free(&holders);
		}
		if (why) {
			refuse(out, force, "mounted", d->name, "%s: block device %s is %s", d->name, name, why);
			break;
		}
	}
	strv_free(&blocks);
}

static bool iface_listed(const char *text, const char *ifname, bool inet6)
{
	if (!text)
		return false;
	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		char line[512];
		size_t len = (size_t)(eol - p) < sizeof(line) - 1 ? (size_t)(eol - p) : sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = *eol ? eol + 1 : eol;
		if (inet6) {
			/* addr idx prefixlen scope flags name: link-local (0x20) and host (0x10) scopes do not count */
			char name[64];
			unsigned scope;
			if (sscanf(line, "%*s %*x %*x %x %*x %63s", &scope, name) == 2 && streq(name, ifname) &&
			    scope != 0x20 && scope != 0x10)
				return true;
		} else {
			char name[64];
			if (sscanf(line, "%63s", name) == 1 && streq(name, ifname))
				return true;
		}
	}
	return false;
}

static void check_net(const struct ka *ka, const struct device *d, const char *route, const char *inet6,
		      const struct strv *force, struct refusals *out)
{
	_cleanup_free_ char *dir = lay_pci_device(d->name);
	struct strv nets = { 0 };
	if (ka_find_class_devices(ka, dir, "net", &nets) < 0)
		return;
	for (size_t i = 0; i < nets.n; i++) {
		const char *name = strrchr(nets.v[i], '/') + 1;
		_cleanup_free_ char *frel = xasprintf("%s/flags", nets.v[i]);
		_cleanup_free_ char *orel = xasprintf("%s/operstate", nets.v[i]);
		_cleanup_free_ char *flags = NULL, *oper = NULL;
		unsigned long f = 0;
		bool up = (ka_read(ka, frel, &flags) == 0 && parse_ulong(flags, 16, &f) == 0 && (f & 1)) ||
			  (ka_read(ka, orel, &oper) == 0 && streq(oper, "up"));
		if (!up)
			continue;
		bool routes = iface_listed(route, name, false);
		bool addrs = iface_listed(inet6, name, true);
		if (routes || addrs) {
			refuse(out, force, "netdev-active", d->name, "%s: network interface %s is up with %s", d->name,
			       name, routes ? "routes" : "addresses");
			break;
		}
	}
	strv_free(&nets);
}

/*
 * Processes holding the group's VFIO file (/dev/vfio/N, or /dev/vfio/noiommu-N
 * in no-IOMMU mode) or the VFIO cdev of a device that leaves its VFIO driver:
 * that unbind would block in the kernel until they let go. leaving[j] says
 * whether device j leaves; NULL: every device.
 */
static int check_holders(const struct ka *ka, const struct group *g, const bool *leaving, const struct strv *force,
			 struct refusals *out)
{
	struct vfio_holder *h = NULL;
	size_t n = 0;
	int r = ka_vfio_holders(ka, &h, &n);
	if (r < 0)
		return r;
	_cleanup_free_ char *gpath = lay_vfio_group_path(g->number, false);
	_cleanup_free_ char *npath = lay_vfio_group_path(g->number, true);
	for (size_t i = 0; i < n; i++) {
		const char *who = h[i].comm && *h[i].comm ? h[i].comm : "?";
		if (streq(h[i].path, gpath) || streq(h[i].path, npath)) {
			refuse(out, force, "in-use", NULL, "process %ld (%s) holds %s open", h[i].pid, who, h[i].path);
			continue;
		}
		/* /dev/vfio/devices/vfioX: the device's vfio-dev/vfioX */
		const char *x = lay_vfio_cdev_name(h[i].path);
		for (size_t j = 0; x && j < g->ndevices; j++) {
			if (leaving && !leaving[j])
				continue;
			_cleanup_free_ char *cdev = xasprintf("vfio-dev/%s", x);
			_cleanup_free_ char *rel = lay_pci_device_attr(g->devices[j]->name, cdev);
			_cleanup_close_ int fd = -1;
			if (ka_open_dir(ka, rel, &fd) == 0)
				refuse(out, force, "in-use", g->devices[j]->name, "process %ld (%s) holds %s (%s) open",
				       h[i].pid, who, h[i].path, g->devices[j]->name);
		}
	}
	vfio_holders_free(h, n);
	return 0;
}

int preflight_claim(const struct ka *ka, const struct group *g, const char *driver, const struct strv *force,
		    struct refusals *out)
{
	_cleanup_free_ char *mountinfo = NULL, *swaps = NULL, *route = NULL, *inet6 = NULL;
	ka_read_big(ka, LAY_MOUNTINFO, 64 << 20, &mountinfo);
	ka_read_big(ka, LAY_SWAPS, 1 << 20, &swaps);
	ka_read_big(ka, LAY_ROUTE, 64 << 20, &route);
	ka_read_big(ka, LAY_IF_INET6, 64 << 20, &inet6);
	/* skip the header line of route */
	const char *route_body = route && strchr(route, '\n') ? strchr(route, '\n') + 1 : NULL;

	/* A device moving from one VFIO driver to another (--driver) is unbound from the first. */
	_cleanup_free_ bool *leaving = xcalloc(g->ndevices ? g->ndevices : 1, sizeof(*leaving));
	bool any_leaving = false;

	if (group_direct_mapped(g))
		refuse(out, force, "direct-mapped", NULL,
		       "group %lu has a direct-mapped reserved region (RMRR): the kernel refuses to give it to VFIO",
		       g->number);

	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (!d->is_pci) {
			refuse(out, force, "non-pci", d->name, "%s is not a PCI device: iommu-own moves only PCI devices",
			       d->name);
			continue;
		}
		const char *kind = d->has_class ? class_kind(d->class) : NULL;
		if (kind)
			refuse(out, force, "chipset", d->name,
			       "group %lu holds %s, %s: handing the chipset to a guest can hang the host", g->number,
			       d->name, kind);
		if (move_skip_reason(d) != SKIP_NONE) {
			if (d->role == ROLE_KERNEL)
				refuse(out, force, "kernel-bridge", d->name,
				       "%s is a bridge on %s, a kernel DMA driver: the group cannot become viable",
				       d->name, d->driver);
			continue;
		}
		if (d->driver && d->driver_override && streq(d->driver, driver) && streq(d->driver_override, driver))
			continue; /* already claimed: it does not move */
		if (!d->has_override_attr)
			refuse(out, force, "no-override", d->name,
			       "%s has no driver_override attribute (a kernel before 3.16): it cannot be moved "
			       "without new_id, which iommu-own never uses", d->name);
		if (d->boot_vga == 1)
			refuse(out, force, "boot-vga", d->name, "%s drives the boot console (boot_vga)", d->name);

		_cleanup_free_ char *vfrel = lay_pci_device_attr(d->name, "sriov_numvfs");
		_cleanup_free_ char *vfs = NULL;
		unsigned long nvf;
		if (ka_read(ka, vfrel, &vfs) == 0 && parse_ulong(vfs, 10, &nvf) == 0 && nvf > 0)
			refuse(out, force, "sriov-pf", d->name,
			       "%s is an SR-IOV physical function with %lu VFs enabled (vfio-pci refuses it)", d->name,
			       nvf);
		if (d->role != ROLE_USER) {
			check_block(ka, d, mountinfo, swaps, force, out);
			check_net(ka, d, route_body, inet6, force, out);
		} else if (d->driver && !streq(d->driver, driver)) {
			leaving[i] = any_leaving = true;
		}
	}
	return any_leaving ? check_holders(ka, g, leaving, force, out) : 0;
}

int preflight_recover(const struct ka *ka, const struct group *g, const bool *leaving, struct refusals *out)
{
	return check_holders(ka, g, leaving, NULL, out);
}

int preflight_release(const struct ka *ka, const struct group *g, const struct strv *force, struct refusals *out)
{
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (!d->is_pci)
			refuse(out, force, "non-pci", d->name, "%s is not a PCI device: iommu-own moves only PCI devices",
			       d->name);
	}
	return check_holders(ka, g, NULL, force, out);
}
