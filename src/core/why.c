// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "core/why.h"
#include "os/layout.h"

static const char *const kind_names[_WHY_MAX] = {
	[WHY_PCI_BRIDGE] = "pci-bridge",
	[WHY_VMD] = "vmd",
	[WHY_ACS_MISSING] = "acs-missing",
	[WHY_ACS_DISABLED] = "acs-disabled",
	[WHY_MULTIFUNCTION] = "multifunction",
	[WHY_NOT_VISIBLE] = "not-visible",
	[WHY_UNREADABLE] = "config-unreadable",
};

const char *why_kind_to_string(enum why_kind k)
{
	return k < _WHY_MAX ? kind_names[k] : "unknown";
}

char *why_acs_bits(uint16_t acs)
{
	static const char *const names[] = { "SV", "TB", "RR", "CR", "UF", "EC", "DT" };
	char *s = xstrdup("");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(acs & (1u << i)))
			continue;
		char *next = xasprintf("%s%s%s", s, *s ? " " : "", names[i]);
		free(s);
		s = next;
	}
	return s;
}

const char *why_port_type(const struct pci_facts *f)
{
	if (!f->readable)
		return "unknown";
	switch (f->pcie_type) {
	case -1:
		return f->header_type == 1 ? "pci-bridge" : "pci";
	case 0x0:
		return "endpoint";
	case 0x1:
		return "legacy-endpoint";
	case 0x4:
		return "root-port";
	case 0x5:
		return "upstream-port";
	case 0x6:
		return "downstream-port";
	case 0x7:
		return "pcie-to-pci-bridge";
	case 0x8:
		return "pci-to-pcie-bridge";
	case 0x9:
		return "rc-integrated-endpoint";
	case 0xa:
		return "rc-event-collector";
	default:
		return "pcie";
	}
}

/* The kernel's pci_acs_flags_enabled(): controls the device lacks are hard-wired on. */
static uint16_t acs_missing(const struct pci_facts *f)
{
	return WHY_REQ_ACS & f->acs_cap & (uint16_t)~f->acs_ctrl;
}

/* Whether ACS isolates below/among this device, as the kernel's pci_acs_enabled() judges. */
static bool acs_isolates(const struct pci_facts *f)
{
	return f->has_acs && acs_missing(f) == 0;
}

static struct why_reason *reason_get(struct why *w, enum why_kind kind, const char *device)
{
	/* newest first: the devices come in address order, so it is most often the last one made */
	for (size_t i = w->nreasons; i-- > 0;) {
		struct why_reason *r = &w->reasons[i];
		if (r->kind == kind && ((!r->device && !device) || (r->device && device && streq(r->device, device))))
			return r;
	}
	w->reasons = grow_array(w->reasons, &w->cap, w->nreasons + 1, sizeof(*w->reasons));
	struct why_reason *r = &w->reasons[w->nreasons++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->device = device ? xstrdup(device) : NULL;
	return r;
}

static void member(struct why_reason *r, const char *addr)
{
	if (!strv_contains(&r->members, addr))
		strv_push(&r->members, xstrdup(addr));
}

/*
 * Whether addr names a device of g. The model keeps a group's devices
 * sorted, PCI devices first by address: a binary search, as a group can
 * hold thousands and this is asked for each member of each reason.
 */
static bool in_group(const struct group *g, const char *addr)
{
	struct pci_addr a;
	if (pci_addr_parse(addr, &a) < 0) {
		for (size_t i = 0; i < g->ndevices; i++)
			if (streq(g->devices[i]->name, addr))
				return true;
		return false;
	}
	size_t lo = 0, hi = g->ndevices;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct device *d = g->devices[mid];
		int c = d->is_pci ? pci_addr_cmp(&d->addr, &a) : 1;
		if (c == 0)
			return streq(d->name, addr);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Two functions of one PCI slot. */
static bool same_slot(const struct device *a, const struct device *b)
{
	return a->is_pci && b->is_pci && a->addr.domain == b->addr.domain && a->addr.bus == b->addr.bus &&
	       a->addr.dev == b->addr.dev;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Facts for any device of the system (ancestors need not be in the group).
 * The config file is checked first: libpci warns about a missing one.
 */
static int facts_of(const struct why *w, struct pcidb *db, const char *addr, struct pci_facts *f)
{
	struct pci_addr a;
	memset(f, 0, sizeof(*f));
	f->pcie_type = -1;
	if (pci_addr_parse(addr, &a) < 0)
		return -EINVAL;
	_cleanup_free_ char *dir = lay_pci_device(addr);
	_cleanup_close_ int dfd = -1;
	/* libpci opens config itself, blocking: only a plain file is handed to it. */
	if (!dir || ka_open_dir(w->ka, dir, &dfd) < 0 || !ka_is_regular_at(dfd, "config"))
		return -ENOENT;
	return pcidb_facts(db, &a, f);
}

static void add_split(struct why *w, const char *text)
{
	if (!strv_contains(&w->split, text))
		strv_push(&w->split, xstrdup(text));
}

/* Walk one device's ancestors and its slot: every reason it shares its group. */
static void reasons_for(struct why *w, struct pcidb *db, const struct why_device *wd)
{
	const char *me = wd->dev->name;
	for (size_t i = 0; i + 1 < wd->path.n; i++) {
		const char *up = wd->path.v[i];
		struct pci_facts f;
		if (facts_of(w, db, up, &f) < 0 || !f.readable)
			continue;
		if (f.header_type == 0) {
			/* an endpoint with a PCI domain below it: Intel VMD */
			struct why_reason *r = reason_get(w, WHY_VMD, up);
			member(r, me);
			if (in_group(w->group, up))
				member(r, up);
			continue;
		}
		if (f.header_type != 1)
			continue;
		if (f.pcie_type == -1 || f.pcie_type == 0x7) {
			struct why_reason *r = reason_get(w, WHY_PCI_BRIDGE, up);
			member(r, me);
			if (in_group(w->group, up))
				member(r, up);
		} else if (f.pcie_type == 0x4 || f.pcie_type == 0x6) {
			if (acs_isolates(&f))
				continue;
			struct why_reason *r = reason_get(w, f.has_acs ? WHY_ACS_DISABLED : WHY_ACS_MISSING, up);
			r->missing = f.has_acs ? acs_missing(&f) : WHY_REQ_ACS;
			member(r, me);
			if (in_group(w->group, up))
				member(r, up);
		}
	}
	/* Functions of one slot in this group, neither isolated by ACS. */
	const struct device *d = wd->dev;
	if (!d->is_pci || !wd->facts.readable || acs_isolates(&wd->facts))
		return;
	/* the group's devices are in address order: a slot's functions sit next to each other */
	size_t me_at = (size_t)(wd - w->devices), from = me_at, to = me_at + 1;
	while (from > 0 && same_slot(w->devices[from - 1].dev, d))
		from--;
	while (to < w->ndevices && same_slot(w->devices[to].dev, d))
		to++;
	for (size_t i = from; i < to; i++) {
		const struct why_device *o = &w->devices[i];
		const struct device *od = o->dev;
		if (od == d || acs_isolates(&o->facts))
			continue;
		char slot[32];
		snprintf(slot, sizeof(slot), "%04x:%02x:%02x.0", d->addr.domain, d->addr.bus, d->addr.dev);
		struct why_reason *r = reason_get(w, WHY_MULTIFUNCTION, slot);
		member(r, d->name);
		member(r, od->name);
	}
}

static int addr_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	struct pci_addr pa, pb;
	if (pci_addr_parse(x, &pa) == 0 && pci_addr_parse(y, &pb) == 0)
		return pci_addr_cmp(&pa, &pb);
	return strcmp(x, y);
}

/* Facts of a group member, as already read. */
static bool facts_of_cached(const struct why *w, const char *addr, struct pci_facts *f)
{
	for (size_t i = 0; i < w->ndevices; i++)
		if (streq(w->devices[i].dev->name, addr)) {
			*f = w->devices[i].facts;
			return f->readable;
		}
	return false;
}

static void describe(struct why *w)
{
	for (size_t i = 0; i < w->nreasons; i++) {
		struct why_reason *r = &w->reasons[i];
		sort_array(r->members.v, r->members.n, sizeof(*r->members.v), addr_cmp);
		_cleanup_free_ char *who = strv_join(&r->members, ", ");
		/* the members other than the device responsible: "X and Y sit behind B" */
		struct strv rest = { 0 };
		for (size_t j = 0; j < r->members.n; j++)
			if (!r->device || !streq(r->members.v[j], r->device))
				strv_push(&rest, xstrdup(r->members.v[j]));
		_cleanup_free_ char *others = strv_join(&rest, ", ");
		bool one = rest.n == 1;
		strv_free(&rest);
		_cleanup_free_ char *bits = why_acs_bits(r->missing);
		switch (r->kind) {
		case WHY_PCI_BRIDGE:
			r->message = xasprintf("%s %s behind %s, a PCI bridge: the IOMMU sees every request from behind it "
					       "with the bridge's requester ID, so it cannot tell %s",
					       others, one ? "sits" : "sit", r->device, one ? "it from the bridge" : "them apart");
			add_split(w, "Nothing splits devices behind a PCI bridge: move the card to a slot on a PCIe root "
				     "port or switch port.");
			break;
		case WHY_VMD:
			r->message = xasprintf("%s %s behind %s, an Intel VMD controller: it does %s DMA on %s behalf, "
					       "so %s its group", others, one ? "sits" : "sit", r->device, one ? "its" : "their",
					       one ? "its" : "their", one ? "it shares" : "they share");
			add_split(w, "Turn VMD off in the firmware (the drives then appear on their own root ports).");
			break;
		case WHY_ACS_MISSING:
			r->message = xasprintf("port %s has no ACS capability, so %s below it can reach %s by peer-to-peer "
					       "DMA without the IOMMU seeing it", r->device, others,
					       one ? "the port" : "the port and each other");
			add_split(w, "Use a slot behind a root port or switch port with ACS (on many boards the CPU's root "
				     "ports have it and the chipset's do not).");
			add_split(w, "Look for a firmware option that enables ACS, or a kernel that knows this port's "
				     "ACS quirk.");
			break;
		case WHY_ACS_DISABLED:
			r->message = xasprintf("port %s has ACS but %s %s not enabled, so %s below it %s", r->device,
					       bits, strchr(bits, ' ') ? "are" : "is", others,
					       one ? "is not isolated from the port" : "are not isolated from the port or each other");
			add_split(w, "Look for a firmware option that enables ACS (the port has the capability; the "
				     "firmware left it off).");
			add_split(w, "Use a slot behind a root port or switch port whose ACS is enabled.");
			break;
		case WHY_MULTIFUNCTION: {
			struct pci_facts f;
			bool ports = facts_of_cached(w, r->device, &f) && f.header_type == 1;
			r->message = xasprintf("%s are functions of one device (%s) without ACS: functions of a device "
					       "can reach each other directly", who, r->device);
			if (ports)
				add_split(w, "These root ports are functions of one chipset device without ACS: a slot on "
					     "a CPU root port, or a kernel that knows this chipset's ACS quirk, splits them.");
			else
				add_split(w, "Functions of one card stay together: pass them through together (normal for "
					     "a GPU and its audio function).");
			break;
		}
		case WHY_UNREADABLE:
			r->message = xasprintf("%s: the reason cannot be told: config space could not be read (run as "
					       "root, or take the snapshot without --no-config)", who);
			add_split(w, "Nothing can be said without config space.");
			break;
		case WHY_NOT_VISIBLE:
		default:
			r->message = xasprintf("%s: no reason is visible in config space; the kernel aliases them for a "
					       "hardware reason (a DMA alias quirk)", who);
			add_split(w, "Nothing in software splits a DMA alias: the hardware really uses one requester ID.");
			break;
		}
	}
}

int why_explain(const struct ka *ka, struct pcidb *db, const struct system *sys, const struct group *g,
		struct why *w)
{
	memset(w, 0, sizeof(*w));
	w->group = g;
	w->ka = ka;
	w->acs_override = sys->cmdline && strstr(sys->cmdline, "pcie_acs_override");
	w->devices = xcalloc(g->ndevices, sizeof(*w->devices));
	w->ndevices = g->ndevices;
	for (size_t i = 0; i < g->ndevices; i++) {
		struct why_device *wd = &w->devices[i];
		wd->dev = g->devices[i];
		wd->facts.pcie_type = -1;
		if (!wd->dev->is_pci)
			continue;
		_cleanup_free_ char *devpath = NULL;
		if (ka_device_path(ka, wd->dev->name, &devpath) == 0) {
			char *save = NULL;
			for (char *c = devpath ? strtok_r(devpath, "/", &save) : NULL; c; c = strtok_r(NULL, "/", &save)) {
				struct pci_addr a;
				if (pci_addr_parse(c, &a) == 0)
					strv_push(&wd->path, xstrdup(c));
			}
		}
		if (wd->path.n == 0)
			strv_push(&wd->path, xstrdup(wd->dev->name));
		facts_of(w, db, wd->dev->name, &wd->facts);
	}
	if (g->ndevices < 2)
		return 0;

	for (size_t i = 0; i < w->ndevices; i++)
		reasons_for(w, db, &w->devices[i]);

	/* A reason counts when it ties at least two of the group's devices together. */
	size_t kept = 0;
	for (size_t i = 0; i < w->nreasons; i++) {
		struct why_reason *r = &w->reasons[i];
		size_t inside = 0;
		for (size_t j = 0; j < r->members.n; j++)
			inside += in_group(g, r->members.v[j]);
		if (inside >= 2) {
			w->reasons[kept++] = *r;
		} else {
			strv_free(&r->members);
			free(r->device);
		}
	}
	w->nreasons = kept;

	/* Devices no reason accounts for: every reason's members, sorted once, looked up by name. */
	size_t total = 0, k = 0;
	for (size_t i = 0; i < w->nreasons; i++)
		total += w->reasons[i].members.n;
	_cleanup_free_ const char **named = xcalloc(total ? total : 1, sizeof(*named));
	for (size_t i = 0; i < w->nreasons; i++)
		for (size_t j = 0; j < w->reasons[i].members.n; j++)
			named[k++] = w->reasons[i].members.v[j];
	sort_array(named, total, sizeof(*named), name_cmp);
	struct why_reason unexplained = { 0 };
	for (size_t i = 0; i < g->ndevices; i++) {
		const char *name = g->devices[i]->name;
		if (!bsearch(&name, named, total, sizeof(*named), name_cmp))
			strv_push(&unexplained.members, xstrdup(name));
	}
	if (unexplained.members.n) {
		/* Without config space, nothing can be concluded: say so rather than blame a quirk. */
		bool blind = false;
		for (size_t i = 0; i < w->ndevices; i++)
			blind |= w->devices[i].dev->is_pci && !w->devices[i].facts.readable;
		struct why_reason *r = reason_get(w, blind ? WHY_UNREADABLE : WHY_NOT_VISIBLE, NULL);
		r->members = unexplained.members;
	}
	describe(w);
	return 0;
}

char *why_one_line(const struct why *w)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < w->nreasons; i++) {
		const struct why_reason *r = &w->reasons[i];
		char *part;
		switch (r->kind) {
		case WHY_PCI_BRIDGE:
			part = xasprintf("behind PCI bridge %s", r->device);
			break;
		case WHY_VMD:
			part = xasprintf("behind VMD controller %s", r->device);
			break;
		case WHY_ACS_MISSING:
			part = xasprintf("port %s has no ACS", r->device);
			break;
		case WHY_ACS_DISABLED: {
			_cleanup_free_ char *bits = why_acs_bits(r->missing);
			part = xasprintf("port %s has ACS %s off", r->device, bits);
			break;
		}
		case WHY_MULTIFUNCTION:
			part = xasprintf("functions of %s without ACS", r->device);
			break;
		case WHY_UNREADABLE:
			part = xstrdup("config space unreadable");
			break;
		default:
			part = xstrdup("a DMA alias not visible in config space");
		}
		char *next = xasprintf("%s%s%s", s, *s ? "; " : "", part);
		free(part);
		free(s);
		s = next;
	}
	return s;
}

void why_free(struct why *w)
{
	for (size_t i = 0; i < w->ndevices; i++)
		strv_free(&w->devices[i].path);
	free(w->devices);
	for (size_t i = 0; i < w->nreasons; i++) {
		free(w->reasons[i].device);
		free(w->reasons[i].message);
		strv_free(&w->reasons[i].members);
	}
	free(w->reasons);
	strv_free(&w->split);
	memset(w, 0, sizeof(*w));
}
