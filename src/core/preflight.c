// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "core/preflight.h"
#include "core/uses.h"
#include "os/drivers.h"
#include "os/layout.h"

const struct refusal_code refusal_codes[] = {
	{ "boot-vga", true, "the device drives the boot console" },
	{ "mounted", true, "a block device under it is mounted, used as swap, or held" },
	{ "netdev-active", true, "a network interface under it is up with addresses or routes" },
	{ "sriov-pf", true, "a physical function with VFs enabled" },
	{ "chipset", true, "the group holds a host bridge or an ISA/LPC bridge" },
	{ "vmd", true, "the group holds a VMD controller: unbinding it removes its whole PCI domain" },
	{ "host-in-use", true,
	  "a process or the kernel uses the device through its host driver (DRM, ALSA, framebuffer or NVIDIA "
	  "nodes, the framebuffer console, a firmware framebuffer); not forceable where the kernel would block "
	  "the unbind" },
	{ "cannot-verify", true,
	  "an input a check needs cannot be read (the mount table, /proc, a class directory); not forceable "
	  "when the check it stands for is not" },
	{ "in-use", false, "a process holds the group's or the device's VFIO file open" },
	{ "direct-mapped", false, "the group has a direct-mapped reserved region: the kernel refuses it" },
	{ "kernel-bridge", false, "a bridge left alone is on a kernel DMA driver: the group cannot become viable" },
	{ "non-pci", false, "the group holds a device that is not on the PCI bus" },
	{ "no-override", false, "the kernel has no driver_override for the device (before Linux 3.16)" },
	{ "declared-elsewhere", false,
	  "release --persist: the group is declared in a file iommu-own did not write, which it never edits (now, or "
	  "once the drop-in is removed); claim --persist: a later file masks the drop-in it would write, or a "
	  "file that does not declare the group has its name" },
	{ "sriov-unsupported", false,
	  "the device cannot change its VF count: not an SR-IOV PF, sriov_totalvfs 0, sriov_numvfs not writable, "
	  "no driver, or a driver without sriov_configure" },
	{ "vfs-range", false, "more VFs than sriov_totalvfs allows (the kernel refuses with ERANGE)" },
	{ "vfs-replace", false,
	  "the PF has VFs: the kernel changes their number only through 0, destroying them (--replace)" },
	{ "vfs-in-use", false, "a VF that would go is held through VFIO by a process: the kernel would block" },
	{ "vfs-bound", true,
	  "a VF that would go is bound to a driver; one on VFIO is released first (cannot be forced)" },
	{ "vf-group-shared", false,
	  "vfs --claim: the VFs land in the PF's group (no ACS isolation): claiming them takes the PF too" },
};
const size_t n_refusal_codes = ARRAY_SIZE(refusal_codes);

const struct refusal_code *refusal_code_find(const char *code)
{
	for (size_t i = 0; i < n_refusal_codes; i++)
		if (streq(refusal_codes[i].code, code))
			return &refusal_codes[i];
	return NULL;
}

void refusals_unverified(struct refusals *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct refusal *x = &r->v[i];
		if (!x->forced && !x->unverified && streq(x->code, "cannot-verify")) {
			x->unverified = true;
			r->blocking--;
		}
	}
}

void refusals_free(struct refusals *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].device);
		free(r->v[i].message);
		free(r->v[i].why_not);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/*
 * A refusal. why_not (NULL: the code's own rule) makes one refusal of an
 * overridable code unforceable, and says why, for people.
 */
static void vrefuse(struct refusals *out, const struct strv *force, const char *code, const char *device,
		    const char *why_not, const char *fmt, va_list ap)
{
	const struct refusal_code *rc = refusal_code_find(code);
	out->v = grow_array(out->v, &out->cap, out->n + 1, sizeof(*out->v));
	struct refusal *x = &out->v[out->n++];
	memset(x, 0, sizeof(*x));
	x->code = rc->code;
	x->device = device ? xstrdup(device) : NULL;
	if (vasprintf(&x->message, fmt, ap) < 0)
		abort();
	x->forceable = rc->overridable && !why_not;
	x->why_not = why_not ? xstrdup(why_not) : NULL;
	x->forced = x->forceable && force && strv_contains(force, code);
	if (!x->forced)
		out->blocking++;
}

void refusals_add(struct refusals *r, const char *code, const char *device, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vrefuse(r, NULL, code, device, NULL, fmt, ap);
	va_end(ap);
}

#define refuse refusals_refuse
#define refuse_hard refusals_refuse_hard

void refusals_refuse(struct refusals *out, const struct strv *force, const char *code, const char *device,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vrefuse(out, force, code, device, NULL, fmt, ap);
	va_end(ap);
}

void refusals_refuse_hard(struct refusals *out, const char *code, const char *device, const char *why_not,
			  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vrefuse(out, NULL, code, device, why_not, fmt, ap);
	va_end(ap);
}

/* A check that could not read what it needs: it refuses, forceable when the check it stands for is. */
static void cannot_verify(const struct ka *ka, struct refusals *out, const struct strv *force, const char *device,
			  const char *check, bool forceable, const char *rel, int err)
{
	_cleanup_free_ char *path = rel[0] == '/' ? xstrdup(rel) : ka_path(ka, rel);
	if (forceable)
		refuse(out, force, "cannot-verify", device, "%s: cannot check %s: %s: %s", device ? device : "group",
		       check, path, ka_strerror(err));
	else
		refuse_hard(out, "cannot-verify", device, "the check it stands for cannot be forced either",
			    "%s: cannot check %s: %s: %s", device ? device : "group", check, path, ka_strerror(err));
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
	[SKIP_VMD_DOMAIN] = "in the VMD domain",
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

/* ---- the inputs, read once, when a check needs them ---- */

void preflight_inputs_free(struct preflight_inputs *in)
{
	free(in->mountinfo);
	free(in->swaps);
	free(in->route);
	free(in->inet6);
	holders_free(&in->holders);
	free(in->fbcon_error);
	free(in->firmware_fb);
	memset(in, 0, sizeof(*in));
}

void refusals_drop(struct refusals *r, const char *code, const char *device)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct refusal *x = &r->v[i];
		if (streq(x->code, code) && str_eq_null(x->device, device)) {
			if (!x->forced && !x->unverified)
				r->blocking--;
			free(x->device);
			free(x->message);
			free(x->why_not);
			continue;
		}
		r->v[k++] = *x;
	}
	r->n = k;
}

#define need_holders preflight_need_holders

void preflight_need_holders(const struct ka *ka, struct preflight_inputs *in)
{
	if (in->holders_read)
		return;
	in->holders_read = true;
	ka_holders(ka, &in->holders);
}

static void need_console(const struct ka *ka, struct preflight_inputs *in)
{
	if (in->console_read)
		return;
	in->console_read = true;
	int r = ka_fbcon_bound(ka, &in->fbcon);
	if (r < 0)
		in->fbcon_error = xasprintf("%s: %s", LAY_VTCONSOLES, ka_strerror(r));
	r = ka_firmware_framebuffer(ka, &in->firmware_fb);
	if (r < 0 && !in->fbcon_error)
		in->fbcon_error = xasprintf("%s: %s", LAY_PLATFORM_DRIVERS, ka_strerror(r));
}

/* ---- mounted ---- */

static void check_block(const struct ka *ka, const struct device *d, struct preflight_inputs *in,
			const struct strv *force, struct refusals *out)
{
	_cleanup_free_ char *dir = lay_pci_device(d->name);
	struct strv blocks = { 0 };
	int r = ka_find_class_devices(ka, dir, "block", &blocks);
	/* The device's real path, to recognise its NVMe controllers from their subsystem's links. */
	_cleanup_free_ char *devpath = NULL;
	if (r == 0 && ka_device_path(ka, d->name, &devpath) == 0)
		r = uses_nvme_subsystem_blocks(ka, devpath, &blocks);
	if (r < 0) {
		cannot_verify(ka, out, force, d->name, "its disks (mounted)", true, dir, r);
		goto out;
	}
	if (blocks.n == 0)
		goto out;
	uses_need_mounts(ka, in);
	if (in->mounts_err < 0 || in->swaps_err < 0) {
		cannot_verify(ka, out, force, d->name, "whether its disks are mounted (mounted)", true,
			      in->mounts_err < 0 ? LAY_MOUNTINFO : LAY_SWAPS, in->mounts_err < 0 ? in->mounts_err : in->swaps_err);
		goto out;
	}
	for (size_t i = 0; i < blocks.n; i++) {
		const char *name = strrchr(blocks.v[i], '/') + 1;
		int err = 0;
		const char *why = uses_block_use(ka, blocks.v[i], name, in, &err);
		if (err < 0) {
			_cleanup_free_ char *what = xasprintf("whether block device %s is in use (mounted)", name);
			cannot_verify(ka, out, force, d->name, what, true, blocks.v[i], err);
			break;
		}
		if (why) {
			refuse(out, force, "mounted", d->name, "%s: block device %s is %s", d->name, name, why);
			break;
		}
	}
out:
	strv_free(&blocks);
}

/* ---- netdev-active ---- */

static void check_net(const struct ka *ka, const struct device *d, struct preflight_inputs *in,
		      const struct strv *force, struct refusals *out)
{
	_cleanup_free_ char *dir = lay_pci_device(d->name);
	struct strv nets = { 0 };
	int r = ka_find_class_devices(ka, dir, "net", &nets);
	if (r < 0)
		cannot_verify(ka, out, force, d->name, "its network interfaces (netdev-active)", true, dir, r);
	for (size_t i = 0; r == 0 && i < nets.n; i++) {
		const char *name = strrchr(nets.v[i], '/') + 1;
		bool up = false;
		if ((r = uses_iface_up(ka, nets.v[i], &up)) < 0) {
			_cleanup_free_ char *what = xasprintf("whether interface %s is up (netdev-active)", name);
			cannot_verify(ka, out, force, d->name, what, true, nets.v[i], r);
			break;
		}
		if (!up)
			continue;
		uses_need_net(ka, in);
		if (in->route_err < 0 || in->inet6_err < 0) {
			_cleanup_free_ char *what = xasprintf("whether interface %s has routes or addresses (netdev-active)", name);
			cannot_verify(ka, out, force, d->name, what, true, in->route_err < 0 ? LAY_ROUTE : LAY_IF_INET6,
				      in->route_err < 0 ? in->route_err : in->inet6_err);
			break;
		}
		/* skip the header line of route */
		const char *routes = strchr(in->route, '\n') ? strchr(in->route, '\n') + 1 : "";
		bool has_routes = uses_iface_listed(routes, name, false);
		if (has_routes || uses_iface_listed(in->inet6, name, true)) {
			refuse(out, force, "netdev-active", d->name, "%s: network interface %s is up with %s", d->name,
			       name, has_routes ? "routes" : "addresses");
			break;
		}
	}
	strv_free(&nets);
}

/* ---- in-use: VFIO files ---- */

/*
 * Processes holding the group's VFIO file (/dev/vfio/N, or /dev/vfio/noiommu-N
 * in no-IOMMU mode) or the VFIO cdev of a device that leaves its VFIO driver:
 * that unbind would block in the kernel until they let go
 * (vfio_unregister_group_dev() waits). leaving[j] says whether device j
 * leaves; NULL: every device.
 */
static void check_vfio_holders(const struct ka *ka, const struct group *g, const bool *leaving,
			       struct preflight_inputs *in, struct refusals *out)
{
	need_holders(ka, in);
	if (in->holders.unreadable) {
		refuse_hard(out, "cannot-verify", NULL, "in-use cannot be forced: the kernel would block the unbind",
			    "group %lu: cannot check whether a process holds its VFIO files (in-use): %s cannot be read",
			    g->number, in->holders.unreadable);
		return;
	}
	_cleanup_free_ char *gpath = lay_vfio_group_path(g->number, false);
	_cleanup_free_ char *npath = lay_vfio_group_path(g->number, true);
	for (size_t i = 0; i < in->holders.n; i++) {
		const struct holder *h = &in->holders.v[i];
		const char *who = *h->comm ? h->comm : "?";
		if (streq(h->path, gpath) || streq(h->path, npath)) {
			refuse(out, NULL, "in-use", NULL, "process %ld (%s) holds %s open", h->pid, who, h->path);
			continue;
		}
		/* /dev/vfio/devices/vfioX: the device's vfio-dev/vfioX */
		const char *x = lay_vfio_cdev_name(h->path);
		for (size_t j = 0; x && j < g->ndevices; j++) {
			if (leaving && !leaving[j])
				continue;
			_cleanup_free_ char *cdev = xasprintf("vfio-dev/%s", x);
			_cleanup_free_ char *rel = lay_pci_device_attr(g->devices[j]->name, cdev);
			_cleanup_close_ int fd = -1;
			if (rel && ka_open_dir(ka, rel, &fd) == 0)
				refuse(out, NULL, "in-use", g->devices[j]->name, "process %ld (%s) holds %s (%s) open",
				       h->pid, who, h->path, g->devices[j]->name);
		}
	}
}

/* ---- host-in-use: a device leaving its host driver ---- */

static void check_host_processes(const struct ka *ka, const struct device *d, struct preflight_inputs *in,
				 const struct strv *force, struct refusals *out)
{
	struct device_nodes nodes;
	int r = ka_device_nodes(ka, d->name, d->driver, &nodes);
	if (r < 0) {
		_cleanup_free_ char *dir = lay_pci_device(d->name);
		cannot_verify(ka, out, force, d->name, "which device nodes its driver made (host-in-use)", false, dir, r);
		return;
	}
	bool blocking = false;
	for (size_t k = 0; k < nodes.n; k++)
		blocking |= nodes.v[k].blocks != NULL;
	if (nodes.n > 0) {
		need_holders(ka, in);
		if (in->holders.unreadable) {
			const char *why = blocking ? "the kernel would block the unbind" : NULL;
			if (why)
				refuse_hard(out, "cannot-verify", d->name, why,
					    "%s: cannot check which processes hold its device nodes (host-in-use): %s "
					    "cannot be read",
					    d->name, in->holders.unreadable);
			else
				refuse(out, force, "cannot-verify", d->name,
				       "%s: cannot check which processes hold its device nodes (host-in-use): %s cannot be "
				       "read",
				       d->name, in->holders.unreadable);
			device_nodes_free(&nodes);
			return;
		}
	}
	for (size_t i = 0; i < in->holders.n; i++) {
		const struct holder *h = &in->holders.v[i];
		for (size_t k = 0; k < nodes.n; k++) {
			const struct device_node *nd = &nodes.v[k];
			if (!streq(h->path, nd->path))
				continue;
			const char *who = *h->comm ? h->comm : "?";
			if (nd->blocks)
				refuse_hard(out, "host-in-use", d->name, nd->blocks, "process %ld (%s) holds %s (%s of %s) open",
					    h->pid, who, nd->path, nd->kind, d->name);
			else
				refuse(out, force, "host-in-use", d->name,
				       "process %ld (%s) holds %s (%s of %s) open: the unbind takes the device away from it",
				       h->pid, who, nd->path, nd->kind, d->name);
			break;
		}
	}
	device_nodes_free(&nodes);
}

static void check_host_console(const struct ka *ka, const struct device *d, struct preflight_inputs *in,
			       const struct strv *force, struct refusals *out)
{
	struct strv fbs = { 0 };
	int r = ka_device_framebuffers(ka, d->name, &fbs);
	if (r < 0) {
		_cleanup_free_ char *dir = lay_pci_device(d->name);
		cannot_verify(ka, out, force, d->name, "its framebuffers (host-in-use)", true, dir, r);
	}
	if ((fbs.n > 0 || d->boot_vga == 1) && r == 0) {
		need_console(ka, in);
		if (in->fbcon_error)
			refuse(out, force, "cannot-verify", d->name, "%s: cannot check the console (host-in-use): %s",
			       d->name, in->fbcon_error);
		else if (fbs.n > 0 && in->fbcon)
			refuse(out, force, "host-in-use", d->name,
			       "the framebuffer console draws the text console on %s of %s: the unbind takes it away", fbs.v[0],
			       d->name);
		if (!in->fbcon_error && d->boot_vga == 1 && in->firmware_fb)
			refuse(out, force, "host-in-use", d->name,
			       "the firmware framebuffer %s uses the memory of %s, the boot display: vfio-pci cannot reserve "
			       "its BARs while it does",
			       in->firmware_fb, d->name);
	}
	strv_free(&fbs);
}

/* ---- vmd ---- */

static void check_vmd(const struct ka *ka, const struct group *g, const struct device *d, const struct strv *force,
		      struct refusals *out)
{
	if (!d->driver || !driver_name_eq(d->driver, "vmd"))
		return;
	/* vmd_remove() removes the PCI domain it made, and every device in it. */
	_cleanup_free_ char *mine = NULL;
	size_t behind = 0;
	if (ka_device_path(ka, d->name, &mine) == 0) {
		size_t len = strlen(mine);
		for (size_t i = 0; i < g->ndevices; i++) {
			_cleanup_free_ char *p = NULL;
			if (g->devices[i] != d && ka_device_path(ka, g->devices[i]->name, &p) == 0 &&
			    strncmp(p, mine, len) == 0 && p[len] == '/')
				behind++;
		}
	}
	refuse(out, force, "vmd", d->name,
	       "%s is a VMD controller on vmd: unbinding it removes its PCI domain and the %zu device(s) of this "
	       "group in it (NVMe drives, say), which then cannot be given to a guest either",
	       d->name, behind);
}

/* ---- the moves ---- */

int preflight_claim(const struct ka *ka, const struct group *g, const char *driver, const struct strv *force,
		    struct preflight_inputs *in, struct refusals *out)
{
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
		int r = ka_read(ka, vfrel, &vfs);
		if (r < 0 && r != -ENOENT)
			cannot_verify(ka, out, force, d->name, "its VFs (sriov-pf)", true, vfrel, r);
		else if (r == 0 && parse_ulong(vfs, 10, &nvf) == 0 && nvf > 0)
			refuse(out, force, "sriov-pf", d->name,
			       "%s is an SR-IOV physical function with %lu VFs enabled (vfio-pci refuses it; --remove-vfs "
			       "removes them, and release creates them again)",
			       d->name, nvf);
		if (d->role != ROLE_USER) {
			check_block(ka, d, in, force, out);
			check_net(ka, d, in, force, out);
			check_vmd(ka, g, d, force, out);
			if (d->role == ROLE_KERNEL) {
				check_host_processes(ka, d, in, force, out);
				check_host_console(ka, d, in, force, out);
			}
		} else if (d->driver && !streq(d->driver, driver)) {
			leaving[i] = any_leaving = true;
		}
	}
	if (any_leaving)
		check_vfio_holders(ka, g, leaving, in, out);
	return 0;
}

int preflight_recover(const struct ka *ka, const struct group *g, const bool *leaving_vfio, const bool *leaving_host,
		      struct preflight_inputs *in, struct refusals *out)
{
	bool any = false;
	for (size_t j = 0; j < g->ndevices; j++) {
		any |= leaving_vfio[j];
		if (leaving_host[j])
			check_host_processes(ka, g->devices[j], in, NULL, out);
	}
	if (any)
		check_vfio_holders(ka, g, leaving_vfio, in, out);
	return 0;
}

int preflight_release(const struct ka *ka, const struct group *g, const struct strv *force,
		      struct preflight_inputs *in, struct refusals *out)
{
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (!d->is_pci)
			refuse(out, force, "non-pci", d->name, "%s is not a PCI device: iommu-own moves only PCI devices",
			       d->name);
	}
	check_vfio_holders(ka, g, NULL, in, out);
	return 0;
}
