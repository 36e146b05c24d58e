// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "core/audit.h"
#include "core/sriov.h"
#include "core/record.h"
#include "os/layout.h"

const struct finding_code finding_codes[] = {
	{ "mixed-group", SEV_ERROR, "kernel-DMA and VFIO devices in one group" },
	{ "no-iommu", SEV_ERROR, "PCI devices exist but there are no IOMMU groups" },
	{ "noiommu-mode", SEV_ERROR, "VFIO's unsafe no-IOMMU mode is on, or a vfio-noiommu group exists" },
	{ "override-pending", SEV_WARNING, "driver_override names a driver other than the bound one" },
	{ "unsafe-interrupts", SEV_WARNING, "vfio_iommu_type1 allow_unsafe_interrupts is on" },
	{ "direct-mapped", SEV_WARNING, "a group has a direct-mapped reserved region: VFIO can never claim it" },
	{ "boot-vga-user", SEV_WARNING, "the boot display device is on VFIO" },
	{ "acs-override", SEV_ERROR, "the kernel was booted with pcie_acs_override: groups are not isolation boundaries" },
	{ "no-reset", SEV_WARNING, "a device on VFIO has no reset method: state can leak from one user to the next" },
	{ "shared-group", SEV_INFO, "a group holds devices of different slots (shown with --all)" },
	{ "pending-journal", SEV_ERROR, "a move was interrupted: its journal waits for recover, and no move runs" },
	{ "rollback-incomplete", SEV_ERROR, "a move failed and its rollback is incomplete: devices are not where they were" },
	{ "stale-record", SEV_WARNING, "a claim's record names devices that are not on VFIO any more" },
	{ "state-unreadable", SEV_WARNING, "a state directory cannot be read: an interrupted move would not be seen" },
	{ "declared-drift", SEV_ERROR, "a declared device is not what its declaration pins, or its group changed" },
	{ "declaration-conflict", SEV_ERROR, "two declarations give one group to different drivers" },
	{ "declared-mixed", SEV_ERROR, "a declared group is mixed" },
	{ "declared-not-applied", SEV_WARNING, "a declared group is not owned by its declared driver" },
	{ "boot-stale", SEV_WARNING, "the declarations differ from what this boot enforced: an initramfs to rebuild?" },
	{ "vfio-ids-conflict", SEV_WARNING, "vfio-pci ids= is set too: it binds by ID, blind to groups and addresses" },
	{ "driverctl-conflict", SEV_WARNING, "a driverctl override names another driver for a declared device" },
	{ "builtin-driver", SEV_WARNING, "a declared device matches a built-in driver, which binds before any boot step" },
};
const size_t n_finding_codes = ARRAY_SIZE(finding_codes);

static const char *const severity_names[_SEV_MAX] = {
	[SEV_INFO] = "info",
	[SEV_WARNING] = "warning",
	[SEV_ERROR] = "error",
};

const char *severity_to_string(enum severity s)
{
	return s < _SEV_MAX ? severity_names[s] : "unknown";
}

static enum severity code_severity(const char *code)
{
	for (size_t i = 0; i < n_finding_codes; i++)
		if (streq(finding_codes[i].code, code))
			return finding_codes[i].severity;
	abort(); /* every code used below is in the table */
}

static struct finding *vadd(struct findings *f, const char *code, const struct group *g, const char *hint,
			    const char *fmt, va_list ap)
{
	f->v = grow_array(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	struct finding *x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->code = code;
	x->severity = code_severity(code);
	x->group = g;
	if (vasprintf(&x->message, fmt, ap) < 0)
		abort();
	x->hint = xstrdup(hint);
	f->count[x->severity]++;
	return x;
}

static struct finding *add(struct findings *f, const char *code, const struct group *g, const char *hint,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct finding *add(struct findings *f, const char *code, const struct group *g, const char *hint,
			   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct finding *x = vadd(f, code, g, hint, fmt, ap);
	va_end(ap);
	return x;
}

/* How many devices a message names before it counts the rest: a group of thousands stays one line. */
#define MESSAGE_DEVICES 8

/*
 * "0000:01:00.0 (vfio-pci), 0000:01:00.1 (snd_hda_intel)" for the devices of
 * a role, the first MESSAGE_DEVICES of them and then "and N more"; every
 * address goes to addrs.
 */
static char *describe_role(const struct group *g, enum role role, struct strv *addrs)
{
	struct strv parts = { 0 };
	size_t count = 0;
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (d->role != role)
			continue;
		if (count++ < MESSAGE_DEVICES)
			strv_push(&parts, xasprintf("%s (%s)", d->name, d->driver ? d->driver : "no driver"));
		if (addrs)
			strv_push(addrs, xstrdup(d->name));
	}
	if (count > MESSAGE_DEVICES)
		strv_push(&parts, xasprintf("and %zu more", count - MESSAGE_DEVICES));
	char *s = strv_join(&parts, ", ");
	strv_free(&parts);
	return s;
}

static const char *prog_of(const struct audit_options *o)
{
	return o && o->prog ? o->prog : "iommu-own";
}

static const char *state_opt_of(const struct audit_options *o)
{
	return o && o->state_opt ? o->state_opt : "";
}

static void check_mixed(const struct group *g, const struct audit_options *o, struct findings *f)
{
	if (g->state != GROUP_MIXED)
		return;
	struct strv addrs = { 0 };
	_cleanup_free_ char *user = describe_role(g, ROLE_USER, &addrs);
	_cleanup_free_ char *kernel = describe_role(g, ROLE_KERNEL, &addrs);
	_cleanup_free_ char *hint = xasprintf("move the whole group to VFIO ('%s claim %lu%s') or back to "
					      "its kernel drivers ('%s release %lu%s')",
					      prog_of(o), g->number, state_opt_of(o), prog_of(o), g->number, state_opt_of(o));
	struct finding *x = add(f, "mixed-group", g, hint,
				"group %lu is mixed: %s on VFIO, %s on kernel DMA drivers; "
				"VFIO cannot use the group (\"group %lu is not viable\")",
				g->number, user, kernel, g->number);
	x->devices = addrs;
}

static void check_noiommu_group(const struct system *sys, const struct group *g, struct findings *f)
{
	if (g->state != GROUP_NOIOMMU)
		return;
	struct strv addrs = { 0 };
	for (size_t i = 0; i < g->ndevices; i++)
		strv_push(&addrs, xstrdup(g->devices[i]->name));
	_cleanup_free_ char *node = lay_vfio_group_path(g->number, true);
	struct finding *x = add(f, "noiommu-mode", g,
				"give user space devices behind a real IOMMU; turn off vfio's "
				"enable_unsafe_noiommu_mode",
				"group %lu is a vfio-noiommu group (%s): its %zu device(s) do DMA "
				"with no isolation, and user space that opens it can write anywhere in memory",
				g->number, node, g->ndevices);
	x->devices = addrs;
	(void)sys;
}

static void check_direct(const struct group *g, struct findings *f)
{
	for (size_t i = 0; i < g->nregions; i++) {
		const struct region *r = &g->regions[i];
		if (!streq(r->type, "direct"))
			continue;
		struct strv addrs = { 0 };
		for (size_t j = 0; j < g->ndevices; j++)
			strv_push(&addrs, xstrdup(g->devices[j]->name));
		struct finding *x = add(f, "direct-mapped", g,
					"this group cannot be passed through; leave it on its kernel drivers",
					"group %lu has a firmware direct-mapped region 0x%" PRIx64 "-0x%" PRIx64
					" (RMRR): the kernel refuses to give it to VFIO",
					g->number, r->start, r->end);
		x->devices = addrs;
		return; /* one finding per group */
	}
}

static bool driver_loaded(const struct system *sys, const char *name)
{
	for (size_t i = 0; i < sys->pci_drivers.n; i++)
		if (driver_name_eq(sys->pci_drivers.v[i], name))
			return true;
	return false;
}

static const struct group *decl_group(const struct system *sys, const struct decl *e);

/*
 * Whether a declaration that holds (no drift) gives d's group to the driver
 * its override names: the boot step set that override on purpose, and
 * declared-not-applied (or declared-mixed) reports the group with the right
 * hint (apply), where override-pending would say to clear it.
 */
static bool override_declared(const struct system *sys, const struct device *d, const struct audit_options *o)
{
	if (!o->decls || !d->group)
		return false;
	for (size_t i = 0; i < o->decls->n; i++) {
		const struct decl *e = &o->decls->v[i];
		if (e->masked || decl_group(sys, e) != d->group || !streq(e->driver, d->driver_override))
			continue;
		char *why = NULL;
		bool ok = decl_judge(o->ka, sys, o->db, e, &why) == DECL_OK;
		free(why);
		if (ok)
			return true;
	}
	return false;
}

/* What the next probe of d would do, given its override. */
static void check_override(const struct system *sys, const struct device *d, const struct audit_options *o,
			   struct findings *f)
{
	const char *ov = d->driver_override;
	if (!ov || (d->driver && driver_name_eq(d->driver, ov)) || override_declared(sys, d, o))
		return;
	const struct group *g = d->group;
	_cleanup_free_ char *now = d->driver ? xasprintf("is bound to %s", d->driver) : xstrdup("has no driver");
	_cleanup_free_ char *effect = NULL;
	enum role next = driver_role(ov, false);
	if (!driver_loaded(sys, ov))
		effect = xasprintf("driver %s is not loaded, so the device would be left without a driver", ov);
	else if (g && next == ROLE_USER) {
		bool kernel_sibling = false;
		for (size_t i = 0; i < g->ndevices; i++)
			kernel_sibling |= g->devices[i] != d && g->devices[i]->role == ROLE_KERNEL;
		effect = kernel_sibling
			? xasprintf("binds %s, and group %lu would be mixed (a sibling stays on a kernel driver)", ov, g->number)
			: xasprintf("binds %s", ov);
	} else if (g && next == ROLE_KERNEL && (g->state == GROUP_USER || g->state == GROUP_MIXED))
		effect = xasprintf("tries %s, which fails with EBUSY while user space owns group %lu, "
				   "or makes the group mixed", ov, g->number);
	else
		effect = xasprintf("binds %s", ov);

	_cleanup_free_ char *hint = g
		? xasprintf("finish the move ('%s claim %lu%s' or '%s release %lu%s') or clear the "
			    "override (write an empty line to %s/driver_override)", prog_of(o), g->number, state_opt_of(o),
			    prog_of(o), g->number, state_opt_of(o), d->name)
		: xasprintf("clear the override (write an empty line to %s/driver_override)", d->name);
	struct finding *x = add(f, "override-pending", g, hint,
				"%s %s but its driver_override names %s: the next reprobe %s",
				d->name, now, ov, effect);
	strv_push(&x->devices, xstrdup(d->name));
}

static void check_boot_vga(const struct device *d, struct findings *f)
{
	if (d->boot_vga != 1 || d->role != ROLE_USER)
		return;
	struct finding *x = add(f, "boot-vga-user", d->group,
				"pass through a GPU that is not the boot display, or make sure the host's firmware "
				"framebuffer (efifb, simpledrm) has let go of it first",
				"%s drives the boot console (boot_vga) but is on %s: the host loses its console, and "
				"the firmware framebuffer may still use the device's memory",
				d->name, d->driver);
	strv_push(&x->devices, xstrdup(d->name));
}

bool group_spans_slots(const struct group *g)
{
	const struct device *first = NULL;
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (!d->is_pci || device_is_bridge(d))
			continue;
		if (!first)
			first = d;
		else if (d->addr.domain != first->addr.domain || d->addr.bus != first->addr.bus ||
			 d->addr.dev != first->addr.dev)
			return true;
	}
	return false;
}

static void check_shared(const struct group *g, const struct audit_options *o, struct findings *f)
{
	if (!o->all || !group_spans_slots(g))
		return;
	struct strv addrs = { 0 };
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i]->is_pci && !device_is_bridge(g->devices[i]))
			strv_push(&addrs, xstrdup(g->devices[i]->name));
	_cleanup_free_ char *why = o->why_line ? o->why_line(o->why_ctx, g) : NULL;
	_cleanup_free_ char *list = strv_join(&addrs, ", ");
	_cleanup_free_ char *hint = xasprintf("'%s why %lu' explains it and says what would split it; "
					      "such devices can only be given away together", prog_of(o), g->number);
	struct finding *x = add(f, "shared-group", g, hint, "group %lu holds devices of different slots (%s)%s%s",
				g->number, list, why && *why ? ": " : "", why ? why : "");
	x->devices = addrs;
}

/* reset_method exists from Linux 5.15 on, and is hidden when a device has no reset. */
static void check_reset(const struct system *sys, const struct device *d, struct findings *f)
{
	bool attr_known = sys->kernel_major == 0 || sys->kernel_major > 5 ||
			  (sys->kernel_major == 5 && sys->kernel_minor >= 15);
	if (d->role != ROLE_USER || d->reset_method || !d->is_pci || !attr_known)
		return;
	struct finding *x = add(f, "no-reset", d->group,
				"give user space a device that supports FLR or a bus reset, or make sure every user "
				"of it trusts the previous one",
				"%s is on %s but has no reset method: its state can leak from one VM to the next",
				d->name, d->driver ? d->driver : "VFIO");
	strv_push(&x->devices, xstrdup(d->name));
}

/* An interrupted move, a failed rollback, records that no longer match: what recover and release are for. */
static void check_moves(const struct system *sys, const struct audit_options *o, struct findings *f)
{
	if (o->state_unreadable)
		add(f, "state-unreadable", NULL, "run check as root (the state directory is root's, mode 0700)",
		    "%s cannot be read: a move interrupted there would not be reported", o->state_unreadable);
	const struct move_status *m = o->moves;
	if (!m)
		return;
	_cleanup_free_ char *recover = xasprintf("'%s recover%s'", prog_of(o), state_opt_of(o));
	_cleanup_free_ char *groups = strv_join(&m->groups, ", "), *pfs = strv_join(&m->pfs, ", ");
	/* A vfs that never got to its VFs' groups names its PF. */
	const char *gw = m->groups.n > 1 ? "groups" : m->groups.n ? "group" : m->pfs.n > 1 ? "PFs" : "PF";
	if (!m->groups.n) {
		free(groups);
		groups = TAKE_PTR(pfs);
	}
	struct finding *x = NULL;
	if (m->journal && m->journal_unreadable) {
		_cleanup_free_ char *hint = xasprintf("inspect it, then run %s", recover);
		x = add(f, "pending-journal", NULL, hint,
			"a journal that cannot be read is pending (%s): no move runs until it is recovered", m->journal_path);
	} else if (m->journal && streq(m->state, "rollback-incomplete")) {
		_cleanup_free_ char *hint = xasprintf("fix what failed (the move's report named it), then run %s", recover);
		x = add(f, "rollback-incomplete", NULL, hint,
			"the %s of %s %s failed and its rollback is incomplete (%s): its devices are not where they were",
			m->operation, gw, groups, m->journal_path);
	} else if (m->journal) {
		bool blocked = streq(m->state, "blocked");
		_cleanup_free_ char *hint = blocked ? xasprintf("once the holder lets go of the device, run %s", recover)
						    : xasprintf("run %s: it finishes the move or rolls it back", recover);
		x = add(f, "pending-journal", NULL, hint, "the %s of %s %s was interrupted (%s)%s: no move runs until it is recovered",
			m->operation, gw, groups, m->journal_path, blocked ? ", a write stuck in the kernel" : "");
	}
	if (x)
		for (size_t i = 0; i < m->devices.n; i++)
			strv_push(&x->devices, xstrdup(m->devices.v[i]));
	for (size_t r = 0; r < m->nrecords; r++) {
		const struct record_summary *rs = &m->records[r];
		bool on_vfio = false;
		for (size_t i = 0; i < rs->devices.n && !on_vfio; i++) {
			struct pci_addr a;
			const struct device *d = pci_addr_parse(rs->devices.v[i], &a) == 0 ? model_find_device(sys, &a) : NULL;
			on_vfio = d && d->role == ROLE_USER;
		}
		if (on_vfio || rs->devices.n == 0)
			continue;
		const struct group *g = model_find_group(sys, rs->group);
		if (g && !g->selected)
			continue;
		_cleanup_free_ char *hint = xasprintf("'%s release %lu%s' removes it (nothing moves), or claim the group again",
						      prog_of(o), rs->group, state_opt_of(o));
		x = add(f, "stale-record", g, hint,
			"group %lu's claim record (%s) names devices that are not on VFIO any more: released by another "
			"tool, or probed afresh", rs->group, rs->path);
		for (size_t i = 0; i < rs->devices.n; i++)
			strv_push(&x->devices, xstrdup(rs->devices.v[i]));
	}
}

/* A declaration is an address and what it pins: the group around it is the device's group now. */
static const struct group *decl_group(const struct system *sys, const struct decl *e)
{
	struct pci_addr a;
	const struct device *d = pci_addr_parse(e->address, &a) == 0 ? model_find_device(sys, &a) : NULL;
	return d ? d->group : NULL;
}

static bool group_owned_by(const struct group *g, const char *driver)
{
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (d->is_pci && !device_is_bridge(d) && !(d->driver && (driver_name_eq(d->driver, "pcieport") ||
									driver_name_eq(d->driver, "pci-stub"))) &&
		    !(d->driver && streq(d->driver, driver)))
			return false;
	}
	return true;
}

/* Whether boot.json says the boot step enforced this entry as it reads now. */
static bool boot_enforced(struct json_object *boot, const struct decl *e)
{
	struct json_object *arr;
	if (!json_object_object_get_ex(boot, "declarations", &arr) || !json_object_is_type(arr, json_type_array))
		return false;
	char id[16];
	snprintf(id, sizeof(id), "%04x:%04x", e->vendor, e->device);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *x = json_object_array_get_idx(arr, i);
		const char *dev = json_member_str(x, "device"), *jid = json_member_str(x, "id"), *drv = json_member_str(x, "driver");
		if (dev && jid && drv && streq(dev, e->address) && streq(jid, id) && streq(drv, e->driver))
			return true;
	}
	return false;
}

static size_t boot_count(struct json_object *boot)
{
	struct json_object *arr;
	return json_object_object_get_ex(boot, "declarations", &arr) && json_object_is_type(arr, json_type_array)
		       ? json_object_array_length(arr)
		       : 0;
}

/* An entry with vfs = N: the PF has N VFs, each on the declared driver. */
static void check_vfs_declaration(const struct audit_options *o, const struct decl *e, const struct group *g,
				  const char *apply_hint, struct findings *f)
{
	struct sriov_pf pf;
	struct finding *x = NULL;
	if (sriov_pf_read(o->ka, e->address, &pf) == 0 && pf.numvfs != e->vfs)
		x = add(f, "declared-not-applied", g, apply_hint, "%s has %lu VFs, while %s:%u declares %lu on %s", e->address,
			pf.numvfs, e->file, e->line, e->vfs, e->driver);
	else if (pf.is_pf && !sriov_vfs_owned(o->ka, &pf.vfs, e->driver))
		x = add(f, "declared-not-applied", g, apply_hint, "the VFs of %s are declared for %s in %s:%u but are not all on it",
			e->address, e->driver, e->file, e->line);
	if (x)
		strv_push(&x->devices, xstrdup(e->address));
	sriov_pf_clear(&pf);
}

static void check_one_declaration(const struct system *sys, const struct audit_options *o, const struct decl *e,
				  struct findings *f)
{
	const struct group *g = decl_group(sys, e);
	if (g && !g->selected)
		return;
	char *why = NULL;
	struct finding *x;
	if (decl_judge(o->ka, sys, o->db, e, &why) != DECL_OK) {
		_cleanup_free_ char *hint = xasprintf("check the hardware at %s, then fix the declaration in %s:%u (apply "
						      "and the boot step leave the group alone until then)",
						      e->address, e->file, e->line);
		x = add(f, "declared-drift", g, hint, "%s", why);
		strv_push(&x->devices, xstrdup(e->address));
		free(why);
		return;
	}
	_cleanup_free_ char *apply_hint = xasprintf("run '%s apply%s'", o->prog ? o->prog : "iommu-own",
						    o->state_opt ? o->state_opt : "");
	if (e->vfs) {
		check_vfs_declaration(o, e, g, apply_hint, f);
		return;
	}
	if (g->state == GROUP_MIXED) {
		x = add(f, "declared-mixed", g, apply_hint,
				 "group %lu, declared for %s in %s:%u, is mixed: part of it is on host drivers", g->number,
				 e->driver, e->file, e->line);
		strv_push(&x->devices, xstrdup(e->address));
	} else if (!group_owned_by(g, e->driver)) {
		x = add(f, "declared-not-applied", g, apply_hint,
				 "group %lu is declared for %s in %s:%u but is not on it", g->number, e->driver, e->file,
				 e->line);
		strv_push(&x->devices, xstrdup(e->address));
	}
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		_cleanup_free_ char *dc = decl_driverctl_override(o->ka, d->name);
		if (dc && !streq(dc, e->driver)) {
			x = add(f, "driverctl-conflict", g,
					 "remove the driverctl override (driverctl unset-override) or the declaration",
					 "driverctl overrides %s to %s, while %s:%u declares its group for %s", d->name, dc,
					 e->file, e->line, e->driver);
			strv_push(&x->devices, xstrdup(d->name));
		}
		_cleanup_free_ char *builtin = d->is_pci && !device_is_bridge(d) ? decl_builtin_driver(o->ka, d->name) : NULL;
		if (builtin) {
			x = add(f, "builtin-driver", g,
					 "build the driver as a module, or make sure it cannot match (it binds before any "
					 "initramfs step); apply moves the group each boot meanwhile",
					 "%s matches %s, which is built into the kernel: it binds the device before the boot "
					 "step can set its driver_override",
					 d->name, builtin);
			strv_push(&x->devices, xstrdup(d->name));
		}
	}
}

/* The declarations: drift, conflicts, what is not applied, and what would fight them at boot. */
static void check_declarations(const struct system *sys, const struct audit_options *o, struct findings *f)
{
	const struct decls *ds = o->decls;
	if (!ds)
		return;
	for (size_t i = 0; i < ds->n; i++)
		for (size_t j = i + 1; j < ds->n; j++) {
			const struct decl *a = &ds->v[i], *b = &ds->v[j];
			const struct group *ga = decl_group(sys, a), *gb = decl_group(sys, b);
			if (a->masked || b->masked || !ga || ga != gb || streq(a->driver, b->driver) || a->vfs || b->vfs)
				continue;
			struct finding *x = add(f, "declaration-conflict", ga, "keep one driver for the group",
							 "group %lu is declared for %s in %s:%u and for %s in %s:%u", ga->number,
							 a->driver, a->file, a->line, b->driver, b->file, b->line);
			strv_push(&x->devices, xstrdup(a->address));
			strv_push(&x->devices, xstrdup(b->address));
		}
	size_t active = 0;
	bool stale = false;
	for (size_t i = 0; i < ds->n; i++) {
		if (ds->v[i].masked)
			continue;
		active++;
		check_one_declaration(sys, o, &ds->v[i], f);
		stale |= o->boot && !boot_enforced(o->boot, &ds->v[i]);
	}
	struct json_object *off = NULL;
	if (o->boot && active && json_object_object_get_ex(o->boot, "off", &off) && json_object_get_boolean(off))
		add(f, "boot-stale", NULL, "apply enforces them now; the next boot without iommu_own=off does from the start",
		    "the boot step was turned off at this boot (iommu_own=off on the kernel command line): host drivers "
		    "may have bound declared devices");
	else if (o->boot && (stale || boot_count(o->boot) != active))
		add(f, "boot-stale", NULL,
		    "rebuild the initramfs (update-initramfs -u, or dracut -f) so that the next boot enforces "
		    "them from the start",
		    "the declarations differ from what the boot step enforced at this boot: they changed since");
	if (active) {
		_cleanup_free_ char *src = decl_vfio_ids_source(o->ka, sys);
		if (src)
			add(f, "vfio-ids-conflict", NULL,
				     "remove vfio-pci ids= and declare the groups instead: ids binds every device of an ID, "
				     "blind to groups and addresses",
				     "vfio-pci ids= is set in %s beside the declarations", src);
	}
}

void audit_run(const struct system *sys, struct findings *f)
{
	struct audit_options o = { 0 };
	audit_run_with(sys, &o, f);
}

void audit_run_with(const struct system *sys, const struct audit_options *o, struct findings *f)
{
	size_t npci = 0;
	for (size_t i = 0; i < sys->ndevices; i++)
		npci += sys->devices[i]->is_pci;

	if (npci > 0 && sys->ngroups == 0)
		add(f, "no-iommu", NULL,
		    "turn on VT-d or AMD-Vi (IOMMU) in the firmware; on Intel boot with intel_iommu=on (AMD's is on "
		    "once the firmware has it, unless amd_iommu=off); check the kernel log for DMAR or AMD-Vi messages",
		    "%zu PCI device(s) but no IOMMU groups: the IOMMU is off or absent, so no device can be "
		    "isolated or given to VFIO safely", npci);
	if (sys->noiommu_mode == PARAM_ON)
		add(f, "noiommu-mode", NULL,
		    "set vfio enable_unsafe_noiommu_mode to N (modprobe.d or the kernel command line)",
		    "VFIO's unsafe no-IOMMU mode is on (vfio enable_unsafe_noiommu_mode=Y): devices given to "
		    "user space get no DMA isolation at all");
	_cleanup_free_ char *acs_hint = xasprintf("boot without pcie_acs_override; '%s why GROUP' shows what really "
						  "separates the devices", prog_of(o));
	if (sys->cmdline && strstr(sys->cmdline, "pcie_acs_override"))
		add(f, "acs-override", NULL, acs_hint,
		    "the kernel was booted with pcie_acs_override: it splits groups that the hardware does not "
		    "isolate, so devices in different groups can still reach each other by peer-to-peer DMA");
	if (sys->unsafe_interrupts == PARAM_ON)
		add(f, "unsafe-interrupts", NULL,
		    "use a platform with interrupt remapping and set vfio_iommu_type1 allow_unsafe_interrupts to N",
		    "vfio_iommu_type1 allow_unsafe_interrupts is on: a device given to a VM can inject "
		    "interrupts (MSI) into the host");

	for (size_t i = 0; i < sys->ngroups; i++) {
		const struct group *g = sys->groups[i];
		if (!g->selected)
			continue;
		check_mixed(g, o, f);
		check_noiommu_group(sys, g, f);
		check_direct(g, f);
		check_shared(g, o, f);
	}
	check_moves(sys, o, f);
	check_declarations(sys, o, f);
	for (size_t i = 0; i < sys->ndevices; i++) {
		const struct device *d = sys->devices[i];
		if (!d->selected)
			continue;
		check_override(sys, d, o, f);
		check_boot_vga(d, f);
		check_reset(sys, d, f);
	}
}

void findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		strv_free(&f->v[i].devices);
		free(f->v[i].message);
		free(f->v[i].hint);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}
