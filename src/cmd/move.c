// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/audit.h"
#include "os/layout.h"
#include "os/modindex.h"
#include "cmd/move.h"
#include "cmd/output.h"
#include "os/pcidb.h"
#include "core/preflight.h"
#include "os/state.h"

#define JOURNAL "journal.json"
#define JOURNAL_FORMAT "iommu-own-journal"
#define RECORD_FORMAT "iommu-own-record"
#define FORMAT_VERSION 1

enum result {
	RESULT_DONE,
	RESULT_NOTHING,
	RESULT_DRY_RUN,
	RESULT_REFUSED,
	RESULT_FAILED,      /* failed before any write */
	RESULT_ROLLED_BACK, /* failed and fully rolled back */
	RESULT_INCOMPLETE,  /* failed and the rollback is incomplete */
	RESULT_RECOVERED,   /* recover: rolled back an interrupted move */
	RESULT_FINISHED,    /* recover: the interrupted move had reached its end */
	_RESULT_MAX,
};

static const char *const result_names[_RESULT_MAX] = {
	[RESULT_DONE] = "done",
	[RESULT_NOTHING] = "nothing-to-do",
	[RESULT_DRY_RUN] = "dry-run",
	[RESULT_REFUSED] = "refused",
	[RESULT_FAILED] = "failed",
	[RESULT_ROLLED_BACK] = "rolled-back",
	[RESULT_INCOMPLETE] = "incomplete",
	[RESULT_RECOVERED] = "rolled-back",
	[RESULT_FINISHED] = "finished",
};

static const char *const kind_names[] = {
	[MOVE_CLAIM] = "claim",
	[MOVE_RELEASE] = "release",
	[MOVE_RECOVER] = "recover",
};

/* One device of the group and what the move does with it. */
struct mdev {
	char *address;
	char *module;          /* claim: the module of its driver before, for the record */
	struct binding before; /* as read at the start */
	struct binding want;   /* the end state */
	bool kernel_choice;    /* release: whatever driver the kernel picks (not VFIO) */
	bool expect_driver;    /* kernel_choice: a module matches, so some driver must bind */
	bool no_autoprobe;     /* a VF whose PF has sriov_drivers_autoprobe 0: binds only through an override */
	bool moves;
	const char *skip;      /* why it is left alone */
	struct binding after;  /* as re-read at the end */
	bool ok;               /* after matches what was wanted (the end state, or before on rollback) */
};

/* A write, planned or done. */
struct pwrite {
	enum ka_op op;
	char *device, *driver, *value;
	bool attempted;
	int err;
	bool rollback;
};

struct plan {
	enum move_kind kind;  /* MOVE_CLAIM or MOVE_RELEASE */
	unsigned long group;
	char *driver;         /* claim: target VFIO driver */
	struct mdev *devs;
	size_t n;
	bool from_record;     /* release: the record of the claim was used */
	struct strv modules;  /* modules to load before writing */
	struct pwrite *w;
	size_t nw, wcap;
	size_t failed_write;  /* index + 1 of the failed write, 0 when none */
	struct refusals refusals;
	char *error;          /* a failure message */
};

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->devs[i].address);
		free(p->devs[i].module);
		binding_clear(&p->devs[i].before);
		binding_clear(&p->devs[i].want);
		binding_clear(&p->devs[i].after);
	}
	free(p->devs);
	for (size_t i = 0; i < p->nw; i++) {
		free(p->w[i].device);
		free(p->w[i].driver);
		free(p->w[i].value);
	}
	free(p->w);
	free(p->driver);
	free(p->error);
	strv_free(&p->modules);
	refusals_free(&p->refusals);
	memset(p, 0, sizeof(*p));
}

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static bool str_eq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

static struct pwrite *add_write(struct plan *p, enum ka_op op, const char *device, const char *driver,
				const char *value, bool rollback)
{
	p->w = grow_array(p->w, &p->wcap, p->nw + 1, sizeof(*p->w));
	struct pwrite *w = &p->w[p->nw++];
	*w = (struct pwrite){ op, xstrdup(device), xstrdup_or_null(driver), xstrdup_or_null(value), false, 0, rollback };
	return w;
}

/* ---- planning ---- */

static struct mdev *add_mdev(struct plan *p, size_t *cap, const struct device *d)
{
	p->devs = grow_array(p->devs, cap, p->n + 1, sizeof(*p->devs));
	struct mdev *m = &p->devs[p->n++];
	memset(m, 0, sizeof(*m));
	m->address = xstrdup(d->name);
	m->before.driver = xstrdup_or_null(d->driver);
	m->before.override = xstrdup_or_null(d->driver_override);
	return m;
}

static void plan_claim(const struct ka *ka, const struct group *g, const char *driver, struct plan *p)
{
	size_t cap = 0;
	p->kind = MOVE_CLAIM;
	p->group = g->number;
	p->driver = xstrdup(driver);
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		struct mdev *m = add_mdev(p, &cap, d);
		m->no_autoprobe = ka_vf_autoprobe_off(ka, m->address);
		m->skip = d->is_pci ? move_skip_reason(d) : "not a PCI device";
		if (m->skip) {
			m->want.driver = xstrdup_or_null(d->driver);
			m->want.override = xstrdup_or_null(d->driver_override);
			continue;
		}
		m->want.driver = xstrdup(driver);
		m->want.override = xstrdup(driver);
		m->moves = !binding_eq(&m->before, &m->want);
		if (!m->moves)
			m->skip = "already there";
		if (d->driver) {
			_cleanup_free_ char *rel = lay_pci_driver(d->driver);
			_cleanup_close_ int fd = -1;
			if (rel && ka_open_dir(ka, rel, &fd) == 0)
				ka_link_base_at(fd, "module", &m->module);
		}
	}
}

/* The record of a claim, for one device: its driver, override and module before. */
static struct json_object *record_device(struct json_object *record, const char *address)
{
	struct json_object *devs;
	if (!record || !json_object_object_get_ex(record, "devices", &devs) || !json_object_is_type(devs, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i), *a;
		if (json_object_object_get_ex(d, "address", &a) && json_object_is_type(a, json_type_string) &&
		    streq(json_object_get_string(a), address))
			return d;
	}
	return NULL;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Whether a driver or module name from a journal or record can be used as a
 * path component (drivers/<name>/bind): not empty, ".", "..", nor with a
 * slash, and shorter than NAME_MAX. NULL (no driver) is fine.
 */
static bool safe_name(const char *s)
{
	return !s || (*s && !streq(s, ".") && !streq(s, "..") && !strchr(s, '/') && strlen(s) < NAME_MAX);
}

static void plan_release(struct ka *ka, const struct group *g, struct json_object *record, struct plan *p)
{
	size_t cap = 0;
	p->kind = MOVE_RELEASE;
	p->group = g->number;
	p->from_record = record != NULL;
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		struct mdev *m = add_mdev(p, &cap, d);
		m->no_autoprobe = ka_vf_autoprobe_off(ka, m->address);
		if (!d->is_pci || d->role != ROLE_USER) {
			m->skip = !d->is_pci ? "not a PCI device" : "not on VFIO";
			m->want.driver = xstrdup_or_null(d->driver);
			m->want.override = xstrdup_or_null(d->driver_override);
			continue;
		}
		m->moves = true;
		struct json_object *rec = record_device(record, d->name);
		const char *rdrv = json_str(rec, "driver");
		if (rec && (!safe_name(rdrv) || !safe_name(json_str(rec, "module")))) {
			log_warning("ignoring the record of %s: it names a driver or module that is no name", d->name);
			rec = NULL;
			rdrv = NULL;
		}
		/* Back to the recorded driver, unless it was VFIO already (back to VFIO is no release). */
		if (rec && !(rdrv && driver_role(rdrv, false) == ROLE_USER)) {
			m->want.driver = xstrdup_or_null(rdrv);
			m->want.override = xstrdup_or_null(json_str(rec, "driver_override"));
			const char *mod = json_str(rec, "module");
			if (rdrv) {
				_cleanup_free_ char *rel = lay_pci_driver(rdrv);
				_cleanup_close_ int fd = -1;
				if (ka_open_dir(ka, rel, &fd) < 0 && mod && !strv_contains(&p->modules, mod))
					strv_push(&p->modules, xstrdup(mod));
			}
			continue;
		}
		/* No record: clear the override and let the kernel choose, its module loaded first. */
		m->kernel_choice = true;
		if (m->no_autoprobe)
			continue; /* the kernel leaves such a VF unbound: nothing to load or expect */
		_cleanup_free_ char *rel = lay_pci_device_attr(d->name, "modalias");
		_cleanup_free_ char *alias = NULL;
		struct strv mods = { 0 };
		if (ka_read(ka, rel, &alias) == 0 && ka_modalias_modules(ka, alias, &mods) == 0) {
			for (size_t j = 0; j < mods.n; j++) {
				if (driver_role(mods.v[j], false) == ROLE_USER)
					continue; /* vfio_pci's catch-all alias */
				m->expect_driver = true;
				if (!strv_contains(&p->modules, mods.v[j]) && !ka_module_has_pci_driver(ka, mods.v[j]))
					strv_push(&p->modules, xstrdup(mods.v[j]));
			}
		}
		strv_free(&mods);
	}
}

/*
 * The override to hold while a device is bound to driver: the wanted one when
 * it lets that driver bind (unset, or naming it), else none; the wanted one is
 * written once the bind is done (a device on nvme whose override already
 * names vfio-pci can only be rebuilt that way, as the kernel would refuse the
 * bind).
 */
static const char *staging_override(const struct mdev *m, const struct binding *want)
{
	/* A VF that cannot autoprobe binds only with an override: name the driver. */
	if (m->no_autoprobe && want->driver)
		return want->driver;
	if (!want->override || !want->driver || streq(want->override, want->driver))
		return want->override;
	return NULL;
}

/* The ordered writes: every override first, then every unbind, then every bind. */
static void plan_writes(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct mdev *m = &p->devs[i];
		const char *stage = staging_override(m, &m->want);
		if (m->moves && !str_eq_null(m->before.override, stage))
			add_write(p, KA_OVERRIDE, m->address, NULL, stage ? stage : "\n", false);
	}
	for (size_t i = 0; i < p->n; i++) {
		struct mdev *m = &p->devs[i];
		if (m->moves && m->before.driver && (m->kernel_choice || !str_eq_null(m->before.driver, m->want.driver)))
			add_write(p, KA_UNBIND, m->address, m->before.driver, NULL, false);
	}
	for (size_t i = 0; i < p->n; i++) {
		struct mdev *m = &p->devs[i];
		if (!m->moves)
			continue;
		if (m->kernel_choice)
			add_write(p, KA_PROBE, m->address, NULL, NULL, false);
		else if (m->want.driver && !str_eq_null(m->before.driver, m->want.driver))
			add_write(p, KA_BIND, m->address, m->want.driver, NULL, false);
	}
	for (size_t i = 0; i < p->n; i++) {
		struct mdev *m = &p->devs[i];
		if (m->moves && !str_eq_null(staging_override(m, &m->want), m->want.override))
			add_write(p, KA_OVERRIDE, m->address, NULL, m->want.override ? m->want.override : "\n", false);
	}
}

/* ---- doing ---- */

static int do_write(struct ka *ka, struct pwrite *w)
{
	struct ka_write kw = { w->op, w->device, w->driver, w->value };
	w->attempted = true;
	w->err = ka_apply(ka, &kw);
	return w->err;
}

/* Whether a device's binding now is the end state the plan wants. */
static bool reached(const struct mdev *m, const struct binding *now)
{
	if (m->kernel_choice)
		return !now->override && (!now->driver || driver_role(now->driver, false) != ROLE_USER) &&
		       (!m->expect_driver || now->driver);
	return binding_eq(now, &m->want);
}

static bool verify(const struct ka *ka, struct plan *p)
{
	bool all = true;
	for (size_t i = 0; i < p->n; i++) {
		struct mdev *m = &p->devs[i];
		binding_clear(&m->after);
		if (model_read_binding(ka, m->address, &m->after) < 0) {
			m->ok = false;
			all = false;
			continue;
		}
		m->ok = m->moves ? reached(m, &m->after) : true;
		all &= m->ok;
	}
	return all;
}

/* Execute the planned writes in order; stop at the first failure. */
static bool execute(struct ka *ka, struct plan *p)
{
	size_t planned = p->nw;
	for (size_t i = 0; i < planned; i++) {
		struct pwrite *w = &p->w[i];
		int r = do_write(ka, w);
		if (r == -EBUSY && w->op == KA_BIND) {
			/* EBUSY is ambiguous: it may already be bound as wanted. */
			struct binding now;
			if (model_read_binding(ka, w->device, &now) == 0) {
				bool there = now.driver && streq(now.driver, w->driver);
				binding_clear(&now);
				if (there) {
					w->err = 0;
					continue;
				}
			}
		}
		if (r < 0) {
			p->failed_write = i + 1;
			return false;
		}
	}
	return true;
}

/* Bring one device back to its binding before the move, in the kernel's order. */
static bool converge(struct ka *ka, struct plan *p, struct mdev *m)
{
	const struct binding *want = &m->before;
	const char *stage = staging_override(m, want);
	struct binding cur;
	if (model_read_binding(ka, m->address, &cur) < 0)
		return false;
	if (cur.driver && !str_eq_null(cur.driver, want->driver))
		do_write(ka, add_write(p, KA_UNBIND, m->address, cur.driver, NULL, true));
	if (!str_eq_null(cur.override, stage))
		do_write(ka, add_write(p, KA_OVERRIDE, m->address, NULL, stage ? stage : "\n", true));
	binding_clear(&cur);
	if (model_read_binding(ka, m->address, &cur) < 0)
		return false;
	if (want->driver && !cur.driver) {
		if (do_write(ka, add_write(p, KA_BIND, m->address, want->driver, NULL, true)) < 0)
			do_write(ka, add_write(p, KA_PROBE, m->address, NULL, NULL, true));
	}
	if (!str_eq_null(stage, want->override))
		do_write(ka, add_write(p, KA_OVERRIDE, m->address, NULL, want->override ? want->override : "\n", true));
	binding_clear(&cur);
	binding_clear(&m->after);
	if (model_read_binding(ka, m->address, &m->after) < 0)
		return false;
	return binding_eq(&m->after, want);
}

/* Roll every moved device back, in reverse order; verify each. */
static bool rollback(struct ka *ka, struct plan *p)
{
	bool all = true;
	for (size_t i = p->n; i-- > 0;) {
		struct mdev *m = &p->devs[i];
		if (!m->moves) {
			m->ok = true;
			continue;
		}
		m->ok = converge(ka, p, m);
		all &= m->ok;
	}
	return all;
}

/* ---- the journal and the record ---- */

static struct json_object *binding_json(const struct binding *b)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "driver", json_string_or_null(b->driver));
	json_object_object_add(o, "driver_override", json_string_or_null(b->override));
	return o;
}

static void binding_from_json(struct json_object *o, struct binding *b)
{
	b->driver = xstrdup_or_null(json_str(o, "driver"));
	b->override = xstrdup_or_null(json_str(o, "driver_override"));
}

static char *boot_id(const struct ka *ka)
{
	char *id = NULL;
	if (ka_read(ka, LAY_BOOT_ID, &id) < 0)
		return NULL;
	return id;
}

/* The sysroot as an absolute path without links, so a journal names it one way only. */
static char *canonical_root(const char *root)
{
	char *c = realpath(root, NULL);
	return c ? c : xstrdup(root);
}

/*
 * The root a journal belongs to: "/" for any root whose sys is the live
 * sysfs (one kernel, whichever root named it: it shares /run/iommu-own and
 * is recovered from any of them), else the captured tree's canonical path.
 */
static char *journal_root(const struct ka *ka)
{
	return ka_is_live(ka) ? xstrdup("/") : canonical_root(ka_root(ka));
}

/*
 * Whether a journal that names theirs as its root belongs to this system:
 * the same root, or, on the live system, any root whose sys is the live
 * sysfs (earlier versions wrote such a root's own path).
 */
static bool journal_is_ours(const struct ka *ka, const char *mine, const char *theirs)
{
	if (streq(theirs, mine))
		return true;
	_cleanup_(ka_freep) struct ka *other = NULL;
	return ka_is_live(ka) && ka_open(theirs, &other) == 0 && ka_is_live(other);
}

static struct json_object *journal_json(const struct ka *ka, const struct plan *p)
{
	_cleanup_free_ char *root = journal_root(ka);
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "format", json_object_new_string(JOURNAL_FORMAT));
	json_object_object_add(j, "version", json_object_new_int(FORMAT_VERSION));
	json_object_object_add(j, "operation", json_object_new_string(kind_names[p->kind]));
	json_object_object_add(j, "group", json_object_new_uint64(p->group));
	json_object_object_add(j, "driver", json_string_or_null(p->driver));
	json_object_object_add(j, "sysroot", json_object_new_string(root));
	_cleanup_free_ char *bid = boot_id(ka);
	json_object_object_add(j, "boot_id", json_string_or_null(bid));
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct mdev *m = &p->devs[i];
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "address", json_object_new_string(m->address));
		json_object_object_add(d, "moves", json_object_new_boolean(m->moves));
		json_object_object_add(d, "module", json_string_or_null(m->module));
		json_object_object_add(d, "before", binding_json(&m->before));
		json_object_object_add(d, "want", binding_json(&m->want));
		json_object_object_add(d, "kernel_choice", json_object_new_boolean(m->kernel_choice));
		json_object_object_add(d, "expect_driver", json_object_new_boolean(m->expect_driver));
		json_object_object_add(d, "no_autoprobe", json_object_new_boolean(m->no_autoprobe));
		json_object_array_add(devs, d);
	}
	json_object_object_add(j, "devices", devs);
	return j;
}

static bool jbool(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/*
 * A plan back from a journal; -EBADMSG (message printed) when it is not ours
 * or is damaged. check_root false: the journal's root is not compared (a
 * journal from an earlier boot is discarded whichever root wrote it).
 */
static int plan_from_journal(const struct ka *ka, struct state *st, struct json_object *j, struct plan *p,
			     bool check_root)
{
	const char *fmt = json_str(j, "format");
	const char *op = json_str(j, "operation");
	const char *root = json_str(j, "sysroot");
	struct json_object *v, *devs;
	if (!fmt || !streq(fmt, JOURNAL_FORMAT) || !json_object_object_get_ex(j, "version", &v) ||
	    json_object_get_int(v) != FORMAT_VERSION) {
		log_error("%s/%s: not an iommu-own journal of format version %d: refusing to act on it",
			  st->path, JOURNAL, FORMAT_VERSION);
		return -EBADMSG;
	}
	_cleanup_free_ char *mine = journal_root(ka), *theirs = root ? canonical_root(root) : NULL;
	if (check_root && (!theirs || !journal_is_ours(ka, mine, theirs))) {
		log_error("%s/%s: the journal belongs to sysroot %s, not %s: run 'iommu-own --sysroot %s recover "
			  "--state-dir %s', or inspect the devices and remove it",
			  st->path, JOURNAL, root ? root : "(none)", mine, root ? root : "DIR", st->path);
		return -EBADMSG;
	}
	if (!op || (!streq(op, "claim") && !streq(op, "release")) || !json_object_object_get_ex(j, "group", &v) ||
	    !json_object_is_type(v, json_type_int) || !json_object_object_get_ex(j, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array)) {
		log_error("%s/%s: corrupt journal (missing operation, group or devices): inspect the devices, "
			  "then remove it", st->path, JOURNAL);
		return -EBADMSG;
	}
	p->kind = streq(op, "claim") ? MOVE_CLAIM : MOVE_RELEASE;
	p->group = (unsigned long)json_object_get_uint64(v);
	p->driver = xstrdup_or_null(json_str(j, "driver"));
	size_t n = json_object_array_length(devs), cap = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devs, i), *b, *w;
		const char *addr = json_str(d, "address");
		struct pci_addr pa;
		if (!addr || pci_addr_parse(addr, &pa) < 0 || !json_object_object_get_ex(d, "before", &b) ||
		    !json_object_object_get_ex(d, "want", &w)) {
			log_error("%s/%s: corrupt journal (device %zu): inspect the devices, then remove it", st->path,
				  JOURNAL, i);
			return -EBADMSG;
		}
		p->devs = grow_array(p->devs, &cap, p->n + 1, sizeof(*p->devs));
		struct mdev *m = &p->devs[p->n++];
		memset(m, 0, sizeof(*m));
		m->address = xstrdup(addr);
		m->module = xstrdup_or_null(json_str(d, "module"));
		m->moves = jbool(d, "moves");
		m->kernel_choice = jbool(d, "kernel_choice");
		m->expect_driver = jbool(d, "expect_driver");
		m->no_autoprobe = jbool(d, "no_autoprobe");
		binding_from_json(b, &m->before);
		binding_from_json(w, &m->want);
		if (!safe_name(m->module) || !safe_name(m->before.driver) || !safe_name(m->want.driver)) {
			log_error("%s/%s: corrupt journal (device %s names a driver or module that is no name): "
				  "inspect the devices, then remove it", st->path, JOURNAL, addr);
			return -EBADMSG;
		}
	}
	if (!safe_name(p->driver)) {
		log_error("%s/%s: corrupt journal (driver): inspect the devices, then remove it", st->path, JOURNAL);
		return -EBADMSG;
	}
	return 0;
}

static char *record_name(unsigned long group)
{
	return xasprintf("group-%lu.json", group);
}

static struct json_object *read_record(struct state *st, unsigned long group, const char *otherwise);

static struct json_object *record_entry(const struct mdev *m)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "address", json_object_new_string(m->address));
	json_object_object_add(d, "driver", json_string_or_null(m->before.driver));
	json_object_object_add(d, "driver_override", json_string_or_null(m->before.override));
	json_object_object_add(d, "module", json_string_or_null(m->module));
	return d;
}

/*
 * The record of a claim: each device's driver, override and module from
 * before the group was first claimed. A claim of a group already claimed
 * (another VFIO driver, or devices added) keeps what the earlier record says
 * of devices that were on VFIO already: their drivers before are the host's.
 */
static int write_record(struct state *st, const struct plan *p)
{
	_cleanup_(json_object_putp) struct json_object *prev = read_record(st, p->group, "this claim's record replaces it");
	const char *prev_driver = json_str(prev, "driver");
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "format", json_object_new_string(RECORD_FORMAT));
	json_object_object_add(r, "version", json_object_new_int(FORMAT_VERSION));
	json_object_object_add(r, "group", json_object_new_uint64(p->group));
	json_object_object_add(r, "driver", json_string_or_null(p->driver));
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct mdev *m = &p->devs[i];
		struct json_object *old = record_device(prev, m->address);
		const char *was = m->before.driver;
		bool was_vfio = was && (driver_role(was, false) == ROLE_USER || (prev_driver && streq(was, prev_driver)));
		if (old && (!m->moves || was_vfio))
			json_object_array_add(devs, json_object_get(old));
		else if (m->moves)
			json_object_array_add(devs, record_entry(m));
	}
	json_object_object_add(r, "devices", devs);
	_cleanup_free_ char *name = record_name(p->group);
	int ret = state_write(st, name, r);
	json_object_put(r);
	return ret;
}

/*
 * The record of group's claim, or NULL. One that cannot be read or is not
 * ours is ignored with a warning that says why and what happens otherwise.
 */
static struct json_object *read_record(struct state *st, unsigned long group, const char *otherwise)
{
	if (st->dirfd < 0)
		return NULL;
	_cleanup_free_ char *name = record_name(group);
	struct json_object *r = NULL;
	int ret = state_read(st, name, &r);
	if (ret < 0) {
		if (ret != -ENOENT)
			log_warning("ignoring %s/%s (%s): %s", st->path, name, strerror(-ret), otherwise);
		return NULL;
	}
	const char *fmt = json_str(r, "format");
	if (!fmt || !streq(fmt, RECORD_FORMAT)) {
		log_warning("ignoring %s/%s (not an iommu-own record): %s", st->path, name, otherwise);
		json_object_put(r);
		return NULL;
	}
	return r;
}

/* ---- reporting ---- */

static const char *binding_text(const struct binding *b)
{
	return b->driver ? b->driver : "(no driver)";
}

static char *write_text(const struct ka *ka, const struct pwrite *w)
{
	struct ka_write kw = { w->op, w->device, w->driver, w->value };
	_cleanup_free_ char *rel = ka_write_path(&kw);
	_cleanup_free_ char *path = ka_path(ka, rel);
	const char *v = ka_write_value(&kw);
	return streq(v, "\n") ? xasprintf("%s \"\\n\"", path) : xasprintf("%s \"%s\"", path, v);
}

static struct json_object *report_json(const struct ka *ka, const struct plan *p, enum result res, bool dry_run)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "operation", json_object_new_string(kind_names[p->kind]));
	json_object_object_add(o, "group", json_object_new_uint64(p->group));
	json_object_object_add(o, "driver", json_string_or_null(p->driver));
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "result", json_object_new_string(result_names[res]));
	json_object_object_add(o, "message", json_string_or_null(p->error));
	struct json_object *refs = json_object_new_array();
	for (size_t i = 0; i < p->refusals.n; i++) {
		const struct refusal *r = &p->refusals.v[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "code", json_object_new_string(r->code));
		json_object_object_add(x, "device", json_string_or_null(r->device));
		json_object_object_add(x, "message", json_object_new_string(r->message));
		json_object_object_add(x, "forced", json_object_new_boolean(r->forced));
		json_object_array_add(refs, x);
	}
	json_object_object_add(o, "refusals", refs);
	struct json_object *mods = json_object_new_array();
	for (size_t i = 0; i < p->modules.n; i++)
		json_object_array_add(mods, json_object_new_string(p->modules.v[i]));
	json_object_object_add(o, "modules", mods);
	struct json_object *writes = json_object_new_array();
	for (size_t i = 0; i < p->nw; i++) {
		const struct pwrite *w = &p->w[i];
		if (!dry_run && !w->attempted)
			continue;
		struct ka_write kw = { w->op, w->device, w->driver, w->value };
		_cleanup_free_ char *rel = ka_write_path(&kw);
		_cleanup_free_ char *path = ka_path(ka, rel);
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "path", json_object_new_string(path));
		json_object_object_add(x, "value", json_object_new_string(ka_write_value(&kw)));
		json_object_object_add(x, "rollback", json_object_new_boolean(w->rollback));
		json_object_object_add(x, "error", w->err ? json_object_new_string(errno_name(w->err) ? errno_name(w->err) : strerror(-w->err)) : NULL);
		json_object_array_add(writes, x);
	}
	json_object_object_add(o, "writes", writes);
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct mdev *m = &p->devs[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "address", json_object_new_string(m->address));
		json_object_object_add(x, "moves", json_object_new_boolean(m->moves));
		json_object_object_add(x, "skip", json_string_or_null(m->skip));
		json_object_object_add(x, "before", binding_json(&m->before));
		if (m->kernel_choice)
			json_object_object_add(x, "want", NULL);
		else
			json_object_object_add(x, "want", binding_json(&m->want));
		bool have_after = !dry_run && res != RESULT_REFUSED && res != RESULT_NOTHING && res != RESULT_FAILED;
		json_object_object_add(x, "after", have_after ? binding_json(&m->after) : NULL);
		json_object_object_add(x, "ok", have_after ? json_object_new_boolean(m->ok) : NULL);
		json_object_array_add(devs, x);
	}
	json_object_object_add(o, "devices", devs);
	return o;
}

static void report_text(const struct ka *ka, const struct plan *p, enum result res, const struct move_options *o)
{
	const char *what = kind_names[p->kind];
	FILE *out = (res == RESULT_DONE || res == RESULT_NOTHING || res == RESULT_DRY_RUN || res == RESULT_FINISHED ||
		     res == RESULT_RECOVERED)
			    ? stdout
			    : stderr;
	for (size_t i = 0; i < p->refusals.n; i++) {
		const struct refusal *r = &p->refusals.v[i];
		const struct refusal_code *rc = refusal_code_find(r->code);
		if (r->forced)
			fprintf(stderr, "%s: warning: %s (%s, overridden by --force)\n", program_name, r->message, r->code);
		else if (rc->overridable)
			fprintf(stderr, "%s: refused: %s (%s; --force=%s overrides)\n", program_name, r->message,
				r->code, r->code);
		else
			fprintf(stderr, "%s: refused: %s (%s; cannot be forced)\n", program_name, r->message, r->code);
	}
	switch (res) {
	case RESULT_REFUSED:
		if (o->kind == MOVE_RECOVER)
			fprintf(stderr, "%s: rollback of the interrupted %s of group %lu refused: nothing was changed, "
				"the journal is kept\n", program_name, what, p->group);
		else
			fprintf(stderr, "%s: %s of group %lu refused: nothing was changed\n", program_name, what, p->group);
		return;
	case RESULT_FAILED:
		fprintf(stderr, "%s: %s of group %lu failed: %s; nothing was changed\n", program_name, what, p->group,
			p->error);
		return;
	case RESULT_NOTHING:
		fprintf(out, "group %lu: nothing to do (%s)\n", p->group, p->error ? p->error : "already in place");
		return;
	case RESULT_DRY_RUN:
		fprintf(out, "# %s of group %lu: the writes it would make, in order\n", what, p->group);
		for (size_t i = 0; i < p->modules.n; i++)
			fprintf(out, "# load module %s\n", p->modules.v[i]);
		for (size_t i = 0; i < p->nw; i++) {
			_cleanup_free_ char *t = write_text(ka, &p->w[i]);
			fprintf(out, "%s\n", t);
		}
		return;
	default:
		break;
	}
	if (res == RESULT_DONE)
		fprintf(out, "%s group %lu%s%s:\n", p->kind == MOVE_CLAIM ? "claimed" : "released", p->group,
			p->driver ? " for " : "", p->driver ? p->driver : "");
	else if (res == RESULT_FINISHED)
		fprintf(out, "finished the interrupted %s of group %lu:\n", what, p->group);
	else if (res == RESULT_RECOVERED)
		fprintf(out, "rolled back the interrupted %s of group %lu:\n", what, p->group);
	else if (res == RESULT_ROLLED_BACK)
		fprintf(out, "%s: %s of group %lu failed: %s; rolled back:\n", program_name, what, p->group, p->error);
	else if (res == RESULT_INCOMPLETE)
		fprintf(out, "%s: %s of group %lu failed: %s; the ROLLBACK IS INCOMPLETE:\n", program_name, what,
			p->group, p->error ? p->error : "the devices did not reach a consistent state");
	for (size_t i = 0; i < p->n; i++) {
		const struct mdev *m = &p->devs[i];
		if (!m->moves) {
			fprintf(out, "  %s  left alone (%s)\n", m->address, m->skip ? m->skip : "unchanged");
			continue;
		}
		const char *ov = m->after.override ? m->after.override : "unset";
		if (res == RESULT_DONE || res == RESULT_FINISHED)
			fprintf(out, "  %s  %s -> %s (override %s)%s\n", m->address, binding_text(&m->before),
				binding_text(&m->after), ov,
				!m->kernel_choice || m->after.driver ? ""
				: m->no_autoprobe ? ": a VF whose PF has sriov_drivers_autoprobe 0 is not probed"
						  : ": no kernel driver matches it");
		else if (m->ok)
			fprintf(out, "  %s  back on %s (override %s)\n", m->address, binding_text(&m->after), ov);
		else
			fprintf(out, "  %s  NOW ON %s (override %s), was on %s (override %s)\n", m->address,
				binding_text(&m->after), ov, binding_text(&m->before),
				m->before.override ? m->before.override : "unset");
	}
	if (res != RESULT_INCOMPLETE)
		return;
	for (size_t i = 0; i < p->nw; i++) {
		const struct pwrite *w = &p->w[i];
		if (!w->rollback || !w->err)
			continue;
		_cleanup_free_ char *t = write_text(ka, w);
		const char *name = errno_name(w->err);
		fprintf(out, "%s: the rollback's write %s failed: %s (%s)\n", program_name, t, strerror(-w->err),
			name ? name : "?");
	}
	fprintf(out, "%s: run 'iommu-own recover' to finish the rollback (the journal is kept in %s)\n",
		program_name, o->state_dir ? o->state_dir : "the state directory");
}

static int report(const struct ka *ka, struct plan *p, enum result res, const struct move_options *o)
{
	if (o->json) {
		_cleanup_(json_object_putp) struct json_object *doc = report_json(ka, p, res, o->dry_run);
		output_json(doc);
	} else {
		report_text(ka, p, res, o);
	}
	switch (res) {
	case RESULT_DONE:
	case RESULT_NOTHING:
	case RESULT_DRY_RUN:
	case RESULT_FINISHED:
	case RESULT_RECOVERED:
		return EXIT_OK;
	case RESULT_INCOMPLETE:
		return EXIT_INCOMPLETE;
	default:
		return EXIT_FINDINGS;
	}
}

/* The failure message for the first failed write. */
static void set_write_error(struct plan *p)
{
	if (!p->failed_write)
		return;
	const struct pwrite *w = &p->w[p->failed_write - 1];
	const char *name = errno_name(w->err);
	free(p->error);
	if (w->op == KA_OVERRIDE)
		p->error = xasprintf("setting driver_override of %s failed: %s (%s)", w->device, strerror(-w->err), name ? name : "?");
	else if (w->op == KA_PROBE)
		p->error = xasprintf("drivers_probe of %s failed: %s (%s)", w->device, strerror(-w->err), name ? name : "?");
	else
		p->error = xasprintf("%s of %s %s %s failed: %s (%s)", ka_op_name(w->op), w->device,
				     w->op == KA_BIND ? "to" : "from", w->driver, strerror(-w->err), name ? name : "?");
}

/* ---- the commands ---- */

static int check_journal(struct state *st)
{
	if (st->dirfd < 0)
		return 0;
	struct json_object *j = NULL;
	int r = state_read(st, JOURNAL, &j);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	const char *op = json_str(j, "operation");
	struct json_object *g;
	if (op && json_object_object_get_ex(j, "group", &g))
		log_error("an interrupted %s of group %s was found (%s/%s): run 'iommu-own recover' first", op,
			  json_object_get_string(g), st->path, JOURNAL);
	else
		log_error("an interrupted operation was found (%s/%s): run 'iommu-own recover' first", st->path, JOURNAL);
	json_object_put(j);
	return -EALREADY;
}

static int open_state(struct context *ctx, const struct move_options *o, bool create, struct state *st)
{
	/* One kernel, one lock: a root whose sys is the live sysfs shares /run/iommu-own. */
	_cleanup_free_ char *def = state_default_path(ka_is_live(ctx->ka) ? "/" : ka_root(ctx->ka));
	const char *path = o->state_dir ? o->state_dir : def;
	bool in_tree = !o->state_dir && !streq(def, LAY_STATE_DIR_LIVE);
	int r = in_tree ? state_open_beneath(st, ka_rootfd(ctx->ka), LAY_STATE_DIR, path, create)
			: state_open(st, path, create);
	if (r == -ENOENT && !create) {
		st->dirfd = st->lockfd = -1;
		return 0;
	}
	if (r == -ENOENT)
		log_error("state directory %s: %s", path, strerror(-r));
	return r;
}

static int load_modules(struct ka *ka, struct plan *p)
{
	for (size_t i = 0; i < p->modules.n; i++) {
		int r = ka_load_driver(ka, p->kind == MOVE_CLAIM ? p->driver : NULL, p->modules.v[i]);
		if (r == -ENOPKG)
			p->error = xasprintf("loading module %s failed: the tree has no module index "
					     "(the module directory named by " LAY_OSRELEASE ")", p->modules.v[i]);
		else if (r < 0)
			p->error = xasprintf("loading module %s failed: %s", p->modules.v[i], strerror(-r));
		if (r < 0)
			return r;
	}
	return 0;
}

static int run_move(struct context *ctx, struct move_options *o, struct state *st, struct plan *p)
{
	/* Only the group that moves is read: a move's cost does not grow with the machine. */
	_cleanup_(model_freep) struct system *sys = NULL;
	if (model_load_group(ctx->ka, AUDIT_MODEL_FLAGS, o->target, &sys) < 0)
		return EXIT_USAGE;
	struct group *g = sys->groups[0];

	_cleanup_(pcidb_freep) struct pcidb *db = NULL;
	int r = pcidb_new(ctx->pci_ids, &db);
	if (r == 0)
		r = pcidb_use_sysroot(db, ka_root(ctx->ka));
	if (r < 0) {
		log_error("cannot read config space under %s: %s", ka_root(ctx->ka), strerror(-r));
		return EXIT_USAGE;
	}
	if (model_read_config(sys, ctx->ka, db) < 0)
		return EXIT_USAGE;

	if (o->kind == MOVE_CLAIM) {
		plan_claim(ctx->ka, g, o->driver, p);
		r = preflight_claim(ctx->ka, g, o->driver, &o->force, &p->refusals);
	} else {
		struct json_object *record = read_record(st, g->number, "the kernel will choose the drivers");
		plan_release(ctx->ka, g, record, p);
		json_object_put(record);
		r = preflight_release(ctx->ka, g, &o->force, &p->refusals);
	}
	if (r < 0) {
		log_error("checking group %lu failed: %s", g->number, strerror(-r));
		return EXIT_USAGE;
	}
	if (p->refusals.blocking)
		return report(ctx->ka, p, RESULT_REFUSED, o);

	size_t moving = 0;
	for (size_t i = 0; i < p->n; i++)
		moving += p->devs[i].moves;
	if (moving == 0) {
		bool all_skipped = true;
		for (size_t i = 0; i < p->n; i++)
			all_skipped &= p->devs[i].skip && !streq(p->devs[i].skip, "already there");
		if (o->kind == MOVE_CLAIM && all_skipped) {
			p->error = xasprintf("group %lu holds only bridges and devices on pcieport or pci-stub, which moves leave "
					     "alone: nothing to claim", g->number);
			return report(ctx->ka, p, RESULT_FAILED, o);
		}
		p->error = xstrdup(o->kind == MOVE_CLAIM ? "every device is already on the driver"
							 : "no device of the group is on VFIO");
		return report(ctx->ka, p, RESULT_NOTHING, o);
	}

	if (o->kind == MOVE_CLAIM) {
		_cleanup_free_ char *rel = lay_pci_driver(o->driver);
		_cleanup_close_ int fd = -1;
		if (ka_open_dir(ctx->ka, rel, &fd) < 0) {
			char *mod = xstrdup(o->driver);
			for (char *c = mod; *c; c++)
				if (*c == '-')
					*c = '_';
			strv_push(&p->modules, mod);
		}
	}
	plan_writes(p);
	if (o->dry_run)
		return report(ctx->ka, p, RESULT_DRY_RUN, o);

	if (load_modules(ctx->ka, p) < 0)
		return report(ctx->ka, p, RESULT_FAILED, o);

	_cleanup_(json_object_putp) struct json_object *j = journal_json(ctx->ka, p);
	if ((r = state_write(st, JOURNAL, j)) < 0) {
		p->error = xasprintf("writing the journal in %s failed: %s", st->path, strerror(-r));
		return report(ctx->ka, p, RESULT_FAILED, o);
	}

	bool ok = execute(ctx->ka, p) && verify(ctx->ka, p);
	if (ok) {
		r = o->kind == MOVE_CLAIM ? write_record(st, p) : 0;
		if (o->kind == MOVE_RELEASE) {
			_cleanup_free_ char *name = record_name(p->group);
			r = state_remove(st, name);
		}
		if (r < 0)
			log_warning("updating the record in %s failed: %s", st->path, strerror(-r));
		state_remove(st, JOURNAL);
		return report(ctx->ka, p, RESULT_DONE, o);
	}

	if (p->failed_write)
		set_write_error(p);
	else {
		for (size_t i = 0; i < p->n && !p->error; i++)
			if (!p->devs[i].ok)
				p->error = xasprintf("%s is on %s after the writes, not where it should be",
						     p->devs[i].address, binding_text(&p->devs[i].after));
	}
	if (rollback(ctx->ka, p)) {
		state_remove(st, JOURNAL);
		return report(ctx->ka, p, RESULT_ROLLED_BACK, o);
	}
	return report(ctx->ka, p, RESULT_INCOMPLETE, o);
}

/* Whether every device the journal moves is gone (hot-removed): nothing is left to finish or undo. */
static bool all_gone(const struct ka *ka, const struct plan *p)
{
	size_t moving = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (!p->devs[i].moves)
			continue;
		moving++;
		struct binding b;
		int r = model_read_binding(ka, p->devs[i].address, &b);
		binding_clear(&b);
		if (r != -ENOENT)
			return false;
	}
	return moving > 0;
}

/*
 * Before a rollback by recover: the devices it takes off VFIO (on a VFIO
 * driver now, not before the move) must not be held by a process, as the
 * kernel would block in their unbind. Refusals go to p->refusals.
 */
static int recover_preflight(struct context *ctx, struct plan *p)
{
	char target[32];
	snprintf(target, sizeof(target), "%lu", p->group);
	_cleanup_(model_freep) struct system *sys = NULL;
	if (model_load_group(ctx->ka, AUDIT_MODEL_FLAGS, target, &sys) < 0)
		return -EIO;
	const struct group *g = sys->groups[0];
	_cleanup_free_ bool *leaving = xcalloc(g->ndevices ? g->ndevices : 1, sizeof(*leaving));
	bool any = false;
	for (size_t j = 0; j < g->ndevices; j++) {
		const struct device *d = g->devices[j];
		for (size_t i = 0; i < p->n && d->role == ROLE_USER; i++) {
			const struct mdev *m = &p->devs[i];
			if (m->moves && streq(m->address, d->name) &&
			    !(m->before.driver && driver_role(m->before.driver, false) == ROLE_USER))
				leaving[j] = any = true;
		}
	}
	return any ? preflight_recover(ctx->ka, g, leaving, &p->refusals) : 0;
}

static int run_recover(struct context *ctx, struct move_options *o, struct state *st, struct plan *p)
{
	struct json_object *j = NULL;
	int r = st->dirfd < 0 ? -ENOENT : state_read(st, JOURNAL, &j);
	if (r == -ENOENT) {
		if (o->json) {
			_cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
			json_object_object_add(doc, "operation", json_object_new_string("recover"));
			json_object_object_add(doc, "result", json_object_new_string(result_names[RESULT_NOTHING]));
			output_json(doc);
		} else {
			printf("nothing to recover: no interrupted operation\n");
		}
		return EXIT_OK;
	}
	if (r < 0)
		return EXIT_USAGE;
	/*
	 * After a reboot the kernel probed every device afresh: the journal
	 * describes nothing real, whichever root wrote it (that root may be gone).
	 */
	const char *jbid = json_str(j, "boot_id");
	_cleanup_free_ char *bid = boot_id(ctx->ka);
	bool stale = jbid && bid && !streq(jbid, bid);
	r = plan_from_journal(ctx->ka, st, j, p, !stale);
	json_object_put(j);
	if (r < 0)
		return EXIT_USAGE;
	if (stale) {
		state_remove(st, JOURNAL);
		p->error = xstrdup("the journal is from an earlier boot; the devices were probed afresh at boot");
		return report(ctx->ka, p, RESULT_NOTHING, o);
	}
	if (all_gone(ctx->ka, p)) {
		state_remove(st, JOURNAL);
		p->error = xstrdup("none of the journal's devices exists any more (removed); the journal is discarded");
		return report(ctx->ka, p, RESULT_NOTHING, o);
	}

	if (verify(ctx->ka, p)) {
		int w = p->kind == MOVE_CLAIM ? write_record(st, p) : 0;
		if (p->kind == MOVE_RELEASE) {
			_cleanup_free_ char *name = record_name(p->group);
			w = state_remove(st, name);
		}
		if (w < 0)
			log_warning("updating the record in %s failed: %s", st->path, strerror(-w));
		state_remove(st, JOURNAL);
		return report(ctx->ka, p, RESULT_FINISHED, o);
	}
	p->error = xstrdup("interrupted");
	if (recover_preflight(ctx, p) < 0)
		return EXIT_USAGE;
	if (p->refusals.blocking)
		return report(ctx->ka, p, RESULT_REFUSED, o);
	if (rollback(ctx->ka, p)) {
		state_remove(st, JOURNAL);
		return report(ctx->ka, p, RESULT_RECOVERED, o);
	}
	return report(ctx->ka, p, RESULT_INCOMPLETE, o);
}

int move_run(struct context *ctx, struct move_options *o)
{
	if (context_open(ctx) < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < o->force.n; i++) {
		const struct refusal_code *rc = refusal_code_find(o->force.v[i]);
		if (!rc) {
			log_error("--force: unknown check '%s' (boot-vga, mounted, netdev-active, sriov-pf, chipset)",
				  o->force.v[i]);
			return EXIT_USAGE;
		}
		if (!rc->overridable) {
			log_error("--force: '%s' cannot be overridden", o->force.v[i]);
			return EXIT_USAGE;
		}
	}
	if (o->kind == MOVE_CLAIM) {
		/* The name the kernel knows: driver_override must match it exactly. */
		const char *name = driver_vfio_pci_name(o->driver);
		if (!name) {
			log_error("--driver: '%s' is not a VFIO PCI driver (vfio-pci or a variant such as mlx5_vfio_pci)",
				  o->driver);
			return EXIT_USAGE;
		}
		o->driver = name;
	}

	/* A dry run creates nothing; nor does recover, as no state directory means no journal. */
	struct state st;
	int r = open_state(ctx, o, !o->dry_run && o->kind != MOVE_RECOVER, &st);
	if (r < 0)
		return EXIT_USAGE;
	if (!o->dry_run && st.dirfd >= 0 && (r = state_lock(&st)) < 0) {
		log_error("locking %s: %s", st.path, strerror(-r));
		state_close(&st);
		return EXIT_USAGE;
	}

	struct plan p = { 0 };
	int status;
	if (o->kind == MOVE_RECOVER) {
		status = run_recover(ctx, o, &st, &p);
	} else {
		r = check_journal(&st);
		if (r == -EALREADY)
			status = EXIT_FINDINGS;
		else if (r < 0)
			status = EXIT_USAGE;
		else
			status = run_move(ctx, o, &st, &p);
	}
	plan_free(&p);
	state_close(&st);
	return status;
}

/* ---- options shared by claim, release and recover ---- */

enum { OPT_STATE_DIR = 0x300 };

static const struct argp_option move_common_options[] = {
	{ "json", 'J', NULL, 0, "Report in JSON (see the man page)", 0 },
	{ "state-dir", OPT_STATE_DIR, "DIR", 0, "Keep the lock, journal and records in DIR (default " LAY_STATE_DIR_LIVE
						 ", or <sysroot>/" LAY_STATE_DIR ")", 0 },
	{ 0 }
};

static error_t move_common_parse(int key, char *arg, struct argp_state *state)
{
	struct move_options *o = state->input;
	switch (key) {
	case 'J':
		o->json = true;
		break;
	case OPT_STATE_DIR:
		if (!*arg)
			argp_error(state, "--state-dir: empty directory name");
		o->state_dir = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp move_common_argp = { move_common_options, move_common_parse, NULL, NULL, NULL, NULL, NULL };
