// SPDX-License-Identifier: GPL-2.0-or-later
/* What sits behind a device (core/uses.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/uses.h"
#include "os/layout.h"

void uses_need_mounts(const struct ka *ka, struct preflight_inputs *in)
{
	if (in->mounts_read)
		return;
	in->mounts_read = true;
	in->mounts_err = ka_read_big(ka, LAY_MOUNTINFO, 64 << 20, &in->mountinfo);
	in->swaps_err = ka_read_big(ka, LAY_SWAPS, 1 << 20, &in->swaps);
}

void uses_need_net(const struct ka *ka, struct preflight_inputs *in)
{
	if (in->net_read)
		return;
	in->net_read = true;
	in->route_err = ka_read_big(ka, LAY_ROUTE, 64 << 20, &in->route);
	in->inet6_err = ka_read_big(ka, LAY_IF_INET6, 64 << 20, &in->inet6);
	/* A kernel booted with IPv6 off has no if_inet6: no address, once proc/net itself was read. */
	if (in->inet6_err == -ENOENT && in->route_err == 0) {
		in->inet6_err = 0;
		in->inet6 = xstrdup("");
	}
}

/*
 * With native NVMe multipath the disks a controller serves live under its
 * NVMe subsystem (sys/devices/virtual/nvme-subsystem/nvme-subsysN/nvmeXnY),
 * not below the PCI device, which holds only hidden per-path disks: add the
 * block devices of every subsystem one of whose controllers is below devpath.
 */
int uses_nvme_subsystem_blocks(const struct ka *ka, const char *devpath, struct strv *blocks)
{
	struct strv subsystems = { 0 };
	int r = ka_list_dir(ka, LAY_NVME_SUBSYSTEMS, &subsystems);
	if (r < 0) {
		strv_free(&subsystems);
		return r == -ENOENT ? 0 : r;
	}
	size_t plen = strlen(devpath);
	for (size_t i = 0; r == 0 && i < subsystems.n; i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", LAY_NVME_SUBSYSTEMS, subsystems.v[i]);
		struct ka_entry *e = NULL;
		size_t n = 0;
		bool ours = false;
		if ((r = ka_scan_dir(ka, sub, &e, &n)) < 0)
			break;
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
			r = ka_find_class_devices(ka, sub, "block", blocks);
	}
	strv_free(&subsystems);
	return r;
}

static bool line_has(const char *text, const char *needle)
{
	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		const char *hit = strstr(p, needle);
		if (hit && hit < eol)
			return true;
		p = *eol ? eol + 1 : NULL;
	}
	return false;
}

/* Why block device blk (a class device path) is in use, NULL when it is not; -errno in *err when unknown. */
const char *uses_block_use(const struct ka *ka, const char *blk, const char *name, struct preflight_inputs *in,
			     int *err)
{
	_cleanup_free_ char *devrel = xasprintf("%s/dev", blk);
	_cleanup_free_ char *majmin = NULL;
	*err = ka_read(ka, devrel, &majmin);
	if (*err == -ENOENT) {
		/* A hidden disk (an NVMe multipath path, GENHD_FL_HIDDEN) has no device number: nothing mounts it. */
		*err = 0;
		return NULL;
	}
	if (*err < 0)
		return NULL;
	/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
	_cleanup_free_ char *needle = xasprintf(" %s ", majmin);
	if (line_has(in->mountinfo, needle))
		return "mounted";
	_cleanup_free_ char *node = lay_dev_path(name);
	_cleanup_free_ char *swap1 = xasprintf("%s ", node), *swap2 = xasprintf("%s\t", node);
	if (strstr(in->swaps, swap1) || strstr(in->swaps, swap2))
		return "used as swap";
	_cleanup_free_ char *hrel = xasprintf("%s/holders", blk);
	struct strv holders = { 0 };
	*err = ka_list_dir(ka, hrel, &holders);
	size_t n = holders.n;
	strv_free(&holders);
	if (*err < 0 && *err != -ENOENT)
		return NULL;
	*err = 0;
	return n > 0 ? "held by another block device (RAID, LVM, dm)" : NULL;
}

bool uses_iface_listed(const char *text, const char *ifname, bool inet6)
{
	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		char line[512];
		size_t len = (size_t)(eol - p) < sizeof(line) - 1 ? (size_t)(eol - p) : sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = *eol ? eol + 1 : eol;
		char name[64];
		if (inet6) {
			/* addr idx prefixlen scope flags name: link-local (0x20) and host (0x10) scopes do not count */
			unsigned scope;
			if (sscanf(line, "%*s %*x %*x %x %*x %63s", &scope, name) == 2 && streq(name, ifname) &&
			    scope != 0x20 && scope != 0x10)
				return true;
		} else if (sscanf(line, "%63s", name) == 1 && streq(name, ifname)) {
			return true;
		}
	}
	return false;
}

/* Whether interface (a class device path) is up: its flags' IFF_UP, or operstate "up". */
int uses_iface_up(const struct ka *ka, const char *iface, bool *up)
{
	_cleanup_free_ char *frel = xasprintf("%s/flags", iface);
	_cleanup_free_ char *orel = xasprintf("%s/operstate", iface);
	_cleanup_free_ char *flags = NULL, *oper = NULL;
	unsigned long f = 0;
	int rf = ka_read(ka, frel, &flags), ro = ka_read(ka, orel, &oper);
	if (rf < 0 && ro < 0)
		return rf;
	*up = (rf == 0 && parse_ulong(flags, 16, &f) == 0 && (f & 1)) || (ro == 0 && streq(oper, "up"));
	return 0;
}


/* ---- one device ---- */

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void note_unreadable(struct uses *u, const char *what, int err)
{
	if (!u->unreadable)
		u->unreadable = xasprintf("%s: %s", what, strerror(-err));
}

static void read_nets(const struct ka *ka, const char *dir, struct preflight_inputs *in, struct uses *u)
{
	struct strv nets = { 0 };
	int r = ka_find_class_devices(ka, dir, "net", &nets);
	if (r < 0)
		note_unreadable(u, "network interfaces", r);
	if (nets.n)
		uses_need_net(ka, in);
	u->nets = xcalloc(nets.n ? nets.n : 1, sizeof(*u->nets));
	for (size_t i = 0; i < nets.n; i++) {
		struct use_net *n = &u->nets[u->nnets++];
		n->name = xstrdup(base(nets.v[i]));
		_cleanup_free_ char *orel = xasprintf("%s/operstate", nets.v[i]);
		if (ka_read(ka, orel, &n->operstate) < 0)
			n->operstate = NULL;
		uses_iface_up(ka, nets.v[i], &n->up);
		if (in->route_err == 0 && in->inet6_err == 0) {
			const char *routes = strchr(in->route, '\n') ? strchr(in->route, '\n') + 1 : "";
			n->addresses = uses_iface_listed(routes, n->name, false) || uses_iface_listed(in->inet6, n->name, true);
		}
	}
	strv_free(&nets);
}

static void read_blocks(const struct ka *ka, const struct device *d, const char *dir, struct preflight_inputs *in,
			struct uses *u)
{
	struct strv blocks = { 0 };
	int r = ka_find_class_devices(ka, dir, "block", &blocks);
	_cleanup_free_ char *devpath = NULL;
	if (r == 0 && ka_device_path(ka, d->name, &devpath) == 0)
		r = uses_nvme_subsystem_blocks(ka, devpath, &blocks);
	if (r < 0)
		note_unreadable(u, "disks", r);
	if (blocks.n)
		uses_need_mounts(ka, in);
	u->blocks = xcalloc(blocks.n ? blocks.n : 1, sizeof(*u->blocks));
	for (size_t i = 0; i < blocks.n; i++) {
		struct use_block *b = &u->blocks[u->nblocks++];
		b->name = xstrdup(base(blocks.v[i]));
		int err = 0;
		if (in->mounts_err == 0 && in->swaps_err == 0)
			b->use = uses_block_use(ka, blocks.v[i], b->name, in, &err);
	}
	strv_free(&blocks);
}

/* Class devices of one kind whose names start with a prefix: drm card0/renderD128, sound card0. */
static void read_nodes(const struct ka *ka, const char *dir, const char *subsystem, const char *const *prefixes,
		       struct strv *out, struct uses *u)
{
	struct strv devs = { 0 };
	int r = ka_find_class_devices(ka, dir, subsystem, &devs);
	if (r < 0)
		note_unreadable(u, subsystem, r);
	for (size_t i = 0; i < devs.n; i++) {
		const char *name = base(devs.v[i]);
		for (size_t k = 0; prefixes[k]; k++) {
			size_t pl = strlen(prefixes[k]);
			/* card0-HDMI-A-1 is a connector of card0, not a node */
			if (strncmp(name, prefixes[k], pl) == 0 && name[pl] && strspn(name + pl, "0123456789") == strlen(name + pl))
				strv_push(out, xstrdup(name));
		}
	}
	strv_free(&devs);
}

/* The USB devices on a USB controller: bus devices below it named "B-P[.P...]" (root hubs "usbN" and interfaces "B-P:C.I" left out). */
static void read_usb(const struct ka *ka, const char *dir, struct uses *u)
{
	struct strv devs = { 0 };
	int r = ka_find_class_devices(ka, dir, "usb", &devs);
	if (r < 0)
		note_unreadable(u, "usb devices", r);
	u->usb = xcalloc(devs.n ? devs.n : 1, sizeof(*u->usb));
	for (size_t i = 0; i < devs.n; i++) {
		const char *name = base(devs.v[i]);
		if (strchr(name, ':') || strncmp(name, "usb", 3) == 0 || !strchr(name, '-'))
			continue;
		struct use_usb *x = &u->usb[u->nusb++];
		x->name = xstrdup(name);
		_cleanup_free_ char *vrel = xasprintf("%s/idVendor", devs.v[i]), *prel = xasprintf("%s/idProduct", devs.v[i]);
		_cleanup_free_ char *nrel = xasprintf("%s/product", devs.v[i]);
		_cleanup_free_ char *v = NULL, *p = NULL;
		if (ka_read(ka, vrel, &v) == 0 && ka_read(ka, prel, &p) == 0)
			x->id = xasprintf("%s:%s", v, p);
		if (ka_read(ka, nrel, &x->product) < 0)
			x->product = NULL;
	}
	strv_free(&devs);
}

void uses_read(const struct ka *ka, const struct device *d, struct preflight_inputs *in, struct uses *u)
{
	static const char *const drm[] = { "card", "renderD", NULL }, *const sound[] = { "card", NULL };
	memset(u, 0, sizeof(*u));
	/* A bridge's class devices below it are its endpoints': they are listed there. */
	if (!d->is_pci || device_is_bridge(d))
		return;
	_cleanup_free_ char *dir = lay_pci_device(d->name);
	read_nets(ka, dir, in, u);
	read_blocks(ka, d, dir, in, u);
	read_nodes(ka, dir, "drm", drm, &u->drm, u);
	read_nodes(ka, dir, "sound", sound, &u->sound, u);
	read_usb(ka, dir, u);
}

void uses_free(struct uses *u)
{
	for (size_t i = 0; i < u->nnets; i++) {
		free(u->nets[i].name);
		free(u->nets[i].operstate);
	}
	for (size_t i = 0; i < u->nblocks; i++)
		free(u->blocks[i].name);
	for (size_t i = 0; i < u->nusb; i++) {
		free(u->usb[i].name);
		free(u->usb[i].id);
		free(u->usb[i].product);
	}
	free(u->nets);
	free(u->blocks);
	free(u->usb);
	strv_free(&u->drm);
	strv_free(&u->sound);
	free(u->unreadable);
	memset(u, 0, sizeof(*u));
}

char *uses_text(const struct uses *u)
{
	struct strv parts = { 0 };
	for (size_t i = 0; i < u->nnets; i++) {
		const struct use_net *n = &u->nets[i];
		strv_push(&parts, xasprintf("net %s (%s%s)", n->name, n->up ? "up" : "down", n->addresses ? ", addresses" : ""));
	}
	for (size_t i = 0; i < u->nblocks; i++)
		strv_push(&parts, u->blocks[i].use ? xasprintf("disk %s (%s)", u->blocks[i].name, u->blocks[i].use)
						   : xasprintf("disk %s", u->blocks[i].name));
	for (size_t i = 0; i < u->drm.n; i++)
		strv_push(&parts, xasprintf("drm %s", u->drm.v[i]));
	for (size_t i = 0; i < u->sound.n; i++)
		strv_push(&parts, xasprintf("sound %s", u->sound.v[i]));
	for (size_t i = 0; i < u->nusb; i++) {
		const struct use_usb *x = &u->usb[i];
		strv_push(&parts, x->product ? xasprintf("usb %s (%s)", x->name, x->product) : xasprintf("usb %s", x->name));
	}
	if (u->unreadable)
		strv_push(&parts, xasprintf("(unreadable: %s)", u->unreadable));
	char *s = strv_join(&parts, "; ");
	strv_free(&parts);
	return s;
}

void uses_read_names(const struct ka *ka, const struct device *d, struct strv *nets, struct strv *blocks)
{
	if (!d->is_pci || device_is_bridge(d))
		return;
	_cleanup_free_ char *dir = lay_pci_device(d->name);
	struct strv found = { 0 };
	if (ka_find_class_devices(ka, dir, "net", &found) == 0)
		for (size_t i = 0; i < found.n; i++)
			strv_push(nets, xstrdup(base(found.v[i])));
	strv_free(&found);
	_cleanup_free_ char *devpath = NULL;
	if (ka_find_class_devices(ka, dir, "block", &found) == 0 && ka_device_path(ka, d->name, &devpath) == 0)
		uses_nvme_subsystem_blocks(ka, devpath, &found);
	for (size_t i = 0; i < found.n; i++)
		strv_push(blocks, xstrdup(base(found.v[i])));
	strv_free(&found);
}
