// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/journal.h"
#include "core/record.h"
#include "core/handoff.h"
#include "core/sriov.h"
#include "os/drivers.h"
#include "os/layout.h"
#include "shared/escape.h"

char *journal_boot_id(const struct ka *ka)
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

char *journal_root(const struct ka *ka)
{
	return ka_is_live(ka) ? xstrdup("/") : canonical_root(ka_root(ka));
}

/*
 * Whether a journal that names theirs as its root belongs to this system:
 * the same root, or, on the live system, any root whose sys is the live
 * sysfs (version 1 wrote such a root's own path).
 */
static bool root_is_ours(const struct ka *ka, const char *theirs)
{
	_cleanup_free_ char *mine = journal_root(ka), *canon = canonical_root(theirs);
	if (streq(canon, mine))
		return true;
	_cleanup_(ka_freep) struct ka *other = NULL;
	return ka_is_live(ka) && ka_open(canon, &other) == 0 && ka_is_live(other);
}

static struct json_object *binding_json(const struct binding *b)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "driver", json_str(b->driver));
	json_object_object_add(o, "driver_override", json_str(b->override));
	return o;
}

static struct json_object *plan_json(const struct plan *p)
{
	struct json_object *g = json_object_new_object();
	json_object_object_add(g, "group", json_object_new_uint64(p->group));
	json_object_object_add(g, "operation", json_str(move_kind_name(p->kind)));
	json_object_object_add(g, "driver", json_str(p->driver));
	/* A hand-off not planned yet is not done: recover rolls such a claim back. */
	if (p->owner.set) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "uid", p->owner.uid_set ? json_object_new_uint64(p->owner.uid) : NULL);
		json_object_object_add(o, "gid", p->owner.gid_set ? json_object_new_uint64(p->owner.gid) : NULL);
		json_object_object_add(o, "mode", p->owner.mode_set ? json_object_new_int((int)p->owner.mode) : NULL);
		json_object_object_add(g, "owner", o);
		json_object_object_add(g, "nodes_planned", json_object_new_boolean(p->nodes_planned));
	}
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct mdev *m = &p->devs[i];
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "address", json_str(m->address));
		json_object_object_add(d, "moves", json_object_new_boolean(m->moves));
		json_object_object_add(d, "module", json_str(m->module));
		json_object_object_add(d, "before", binding_json(&m->before));
		json_object_object_add(d, "want", binding_json(&m->want));
		json_object_object_add(d, "kernel_choice", json_object_new_boolean(m->kernel_choice));
		json_object_object_add(d, "expect_driver", json_object_new_boolean(m->expect_driver));
		json_object_object_add(d, "no_autoprobe", json_object_new_boolean(m->no_autoprobe));
		if (m->created)
			json_object_object_add(d, "created", json_object_new_boolean(true));
		if (m->vfs_restore)
			json_object_object_add(d, "vfs_restore", json_object_new_uint64(m->vfs_restore));
		json_object_array_add(devs, d);
	}
	json_object_object_add(g, "devices", devs);
	return g;
}

struct json_object *journal_build(const struct ka *ka, const struct txn *t, const char *operation)
{
	_cleanup_free_ char *root = journal_root(ka);
	_cleanup_free_ char *bid = journal_boot_id(ka);
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "format", json_str(JOURNAL_FORMAT));
	/* Version 2 where it says all: an older iommu-own can still recover it. */
	json_object_object_add(j, "version", json_object_new_int(t->nsteps || t->nnodes ? JOURNAL_VERSION : 2));
	json_object_object_add(j, "operation", json_str(operation));
	json_object_object_add(j, "sysroot", json_str(root));
	json_object_object_add(j, "boot_id", json_str(bid));
	struct json_object *groups = json_object_new_array();
	for (size_t i = 0; i < t->n; i++)
		json_object_array_add(groups, plan_json(&t->plans[i]));
	json_object_object_add(j, "groups", groups);
	if (t->nsteps)
		json_object_object_add(j, "sriov", sriov_steps_json(t));
	if (t->nnodes)
		json_object_object_add(j, "nodes", handoff_json(t));
	json_object_object_add(j, "state", json_str("moving"));
	json_object_object_add(j, "blocked", NULL);
	return j;
}

void journal_set_state(struct json_object *j, const char *state)
{
	json_object_object_add(j, "state", json_str(state));
}

void journal_set_blocked(struct json_object *j, const struct ka *ka, const struct txn *t)
{
	if (!t->failed_write)
		return;
	const struct pwrite *w = &t->w[t->failed_write - 1];
	struct ka_write kw = { w->op, w->device, w->driver, w->value };
	_cleanup_free_ char *rel = ka_write_path(&kw);
	_cleanup_free_ char *path = rel ? ka_path(ka, rel) : NULL;
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "device", json_str(w->device));
	json_object_object_add(b, "path", json_str(path));
	json_object_object_add(b, "value", json_str(ka_write_value(&kw)));
	json_object_object_add(j, "blocked", b);
	journal_set_state(j, "blocked");
}

void journal_info_clear(struct journal_info *ji)
{
	free(ji->operation);
	free(ji->root);
	free(ji->boot_id);
	memset(ji, 0, sizeof(*ji));
}

int journal_identify(const struct ka *ka, struct json_object *j, const char *where, struct journal_info *ji)
{
	memset(ji, 0, sizeof(*ji));
	const char *fmt = json_member_str(j, "format");
	struct json_object *v;
	int version = json_object_object_get_ex(j, "version", &v) && json_object_is_type(v, json_type_int)
			      ? json_object_get_int(v)
			      : 0;
	if (!fmt || !streq(fmt, JOURNAL_FORMAT) || version < 1 || version > JOURNAL_VERSION) {
		log_error("%s: not an iommu-own journal of a format version this iommu-own reads (1 to %d): "
			  "refusing to act on it",
			  where, JOURNAL_VERSION);
		return -EBADMSG;
	}
	ji->version = version;
	const char *op = json_member_str(j, "operation");
	const char *root = json_member_str(j, "sysroot");
	const char *bid = json_member_str(j, "boot_id");
	ji->operation = xstrdup(op ? op : "move");
	ji->root = root ? xstrdup(root) : NULL;
	ji->boot_id = bid ? xstrdup(bid) : NULL;
	ji->ours = root && root_is_ours(ka, root);
	_cleanup_free_ char *mine = journal_boot_id(ka);
	/* Only a journal of this kernel can be from its earlier boot: another root's is never judged so. */
	ji->stale = ji->ours && bid && mine && !streq(bid, mine);
	return 0;
}

static bool jbool(struct json_object *o, const char *key);

static void binding_from_json(struct json_object *o, struct binding *b)
{
	const char *d = json_member_str(o, "driver"), *ov = json_member_str(o, "driver_override");
	b->driver = d ? xstrdup(d) : NULL;
	b->override = ov ? xstrdup(ov) : NULL;
}

static bool jbool(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static int corrupt(const char *where, const char *what)
{
	log_error("%s: corrupt journal (%s): inspect the devices, then remove it", where, what);
	return -EBADMSG;
}

/* One group entry (a version 2 "groups" element, or a version 1 journal's top level). */
static int parse_group(struct json_object *g, const char *where, struct txn *t)
{
	const char *op = json_member_str(g, "operation");
	const char *driver = json_member_str(g, "driver");
	struct json_object *num, *devs;
	if (!op || (!streq(op, "claim") && !streq(op, "release")) || !json_object_object_get_ex(g, "group", &num) ||
	    !json_object_is_type(num, json_type_int) || json_object_get_int64(num) < 0 ||
	    !json_object_object_get_ex(g, "devices", &devs) || !json_object_is_type(devs, json_type_array))
		return corrupt(where, "missing operation, group or devices");
	if (!safe_name(driver))
		return corrupt(where, "driver");
	struct plan *p = txn_add_plan(t, streq(op, "claim") ? MOVE_CLAIM : MOVE_RELEASE,
				      (unsigned long)json_object_get_uint64(num), driver);
	struct json_object *owner, *v;
	if (json_object_object_get_ex(g, "owner", &owner) && owner) {
		p->owner.set = true;
		p->nodes_planned = jbool(g, "nodes_planned");
		/* What the hand-off was, for the record a finished claim leaves. */
		if ((p->owner.uid_set = json_object_object_get_ex(owner, "uid", &v) && json_object_is_type(v, json_type_int)))
			p->owner.uid = (uid_t)json_object_get_int64(v);
		if ((p->owner.gid_set = json_object_object_get_ex(owner, "gid", &v) && json_object_is_type(v, json_type_int)))
			p->owner.gid = (gid_t)json_object_get_int64(v);
		if ((p->owner.mode_set = json_object_object_get_ex(owner, "mode", &v) && json_object_is_type(v, json_type_int)))
			p->owner.mode = (mode_t)json_object_get_int64(v) & 0777;
	}
	size_t n = json_object_array_length(devs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devs, i), *b, *w;
		const char *addr = json_member_str(d, "address");
		struct pci_addr pa;
		char canon[32];
		if (!addr || pci_addr_parse(addr, &pa) < 0 || !json_object_object_get_ex(d, "before", &b) ||
		    !json_object_object_get_ex(d, "want", &w)) {
			_cleanup_free_ char *what = xasprintf("device %zu", i);
			return corrupt(where, what);
		}
		pci_addr_format(&pa, canon, sizeof(canon));
		struct mdev *m = plan_add_device(p, canon);
		const char *mod = json_member_str(d, "module");
		m->module = mod ? xstrdup(mod) : NULL;
		m->moves = jbool(d, "moves");
		m->kernel_choice = jbool(d, "kernel_choice");
		m->expect_driver = jbool(d, "expect_driver");
		m->no_autoprobe = jbool(d, "no_autoprobe");
		m->created = jbool(d, "created");
		struct json_object *vr;
		if (json_object_object_get_ex(d, "vfs_restore", &vr) && json_object_is_type(vr, json_type_int) &&
		    json_object_get_int64(vr) > 0 && json_object_get_int64(vr) <= 0xffff)
			m->vfs_restore = (unsigned long)json_object_get_int64(vr);
		binding_from_json(b, &m->before);
		binding_from_json(w, &m->want);
		if (!safe_name(m->module) || !safe_name(m->before.driver) || !safe_name(m->want.driver)) {
			_cleanup_free_ char *what = xasprintf("device %s names a driver or module that is no name", canon);
			return corrupt(where, what);
		}
	}
	return 0;
}

int journal_parse(struct json_object *j, const char *where, struct txn *t)
{
	struct json_object *v;
	int version = json_object_object_get_ex(j, "version", &v) ? json_object_get_int(v) : 0;
	if (version == 1)
		return parse_group(j, where, t);
	struct json_object *groups, *steps = NULL, *nodes = NULL;
	if (version >= 3) {
		json_object_object_get_ex(j, "sriov", &steps);
		json_object_object_get_ex(j, "nodes", &nodes);
	}
	if (!json_object_object_get_ex(j, "groups", &groups) || !json_object_is_type(groups, json_type_array) ||
	    (json_object_array_length(groups) == 0 && !steps && !nodes))
		return corrupt(where, "no groups");
	for (size_t i = 0; i < json_object_array_length(groups); i++) {
		int r = parse_group(json_object_array_get_idx(groups, i), where, t);
		if (r < 0)
			return r;
	}
	int r = sriov_steps_parse(steps, where, t);
	return r < 0 ? r : handoff_parse(nodes, where, t);
}

/* The group a device is in now: 0 with *n, -ENOENT when the device is gone, -ENXIO when in none. */
static int device_group_now(const struct ka *ka, const char *address, unsigned long *n)
{
	_cleanup_free_ char *dir = lay_pci_device(address);
	_cleanup_close_ int dfd = -1;
	int r = dir ? ka_open_dir(ka, dir, &dfd) : -EINVAL;
	if (r < 0)
		return r;
	_cleanup_free_ char *g = NULL;
	r = ka_link_base_at(dfd, "iommu_group", &g);
	if (r < 0)
		return r == -ENOENT ? -ENXIO : r;
	return parse_ulong(g, 10, n) < 0 ? -ENXIO : 0;
}

/*
 * A group renumbered since the journal was written (a remove and rescan)
 * must be the journal's group still: every device in it now is one the
 * journal lists, so the journal never moves part of another group.
 */
static bool lists_whole_group(const struct ka *ka, const struct plan *p, const char *where)
{
	_cleanup_free_ char *rel = lay_group_attr(p->now, "devices");
	struct strv names = { 0 };
	bool whole = rel && ka_list_dir(ka, rel, &names) == 0;
	for (size_t i = 0; whole && i < names.n; i++) {
		bool listed = false;
		for (size_t j = 0; j < p->n && !listed; j++)
			listed = streq(p->devs[j].address, names.v[i]);
		if (!listed) {
			log_error("%s: the journal's group %lu is group %lu now, which also holds %s, a device the "
				  "journal does not list: refusing to act on it; inspect the devices, then remove it",
				  where, p->group, p->now, names.v[i]);
			whole = false;
		}
	}
	strv_free(&names);
	return whole;
}

/*
 * Whether the driver a device is on now is one the move could have left it
 * on: its driver before, the one wanted, or none (between an unbind and a
 * bind); for a release that let the kernel choose, any driver but VFIO. A
 * device on another driver was never part of this move.
 */
static bool driver_possible(const struct mdev *m, const char *now)
{
	if (!now || str_eq_null(now, m->before.driver) || str_eq_null(now, m->want.driver))
		return true;
	return m->kernel_choice && driver_role(now, false) != ROLE_USER;
}

static int check_device(const struct ka *ka, struct mdev *m, const struct plan *p, const char *where)
{
	if (!m->moves || m->gone)
		return 0;
	struct binding now;
	int r = model_read_binding(ka, m->address, &now);
	if (r == -ENOENT) {
		m->gone = true;
		return 0;
	}
	bool ok = r == 0 && driver_possible(m, now.driver);
	if (r == 0 && !ok)
		log_error("%s: %s is on %s, a driver the journal's %s of group %lu could not have left it on: the "
			  "journal does not describe it, and is never acted on; inspect the devices, then remove it",
			  where, m->address, now.driver, move_kind_name(p->kind), p->group);
	binding_clear(&now);
	return ok ? 0 : -EBADMSG;
}

int journal_check_tree(const struct ka *ka, struct txn *t, const char *where)
{
	for (size_t g = 0; g < t->n; g++) {
		struct plan *p = &t->plans[g];
		const char *first = NULL;
		unsigned long group = 0;
		for (size_t i = 0; i < p->n; i++) {
			struct mdev *m = &p->devs[i];
			unsigned long now;
			int r = device_group_now(ka, m->address, &now);
			if (r == -ENOENT) {
				m->gone = true;
				continue;
			}
			if (r < 0) {
				log_error("%s: %s, which the journal moves in group %lu, is in no IOMMU group now: "
					  "refusing to act on it",
					  where, m->address, p->group);
				return -EBADMSG;
			}
			if (!first) {
				first = m->address;
				group = now;
			} else if (now != group) {
				log_error("%s: the journal moves %s and %s together as group %lu, but they are in groups "
					  "%lu and %lu: it does not describe one group, and is never acted on; inspect the "
					  "devices, then remove it",
					  where, first, m->address, p->group, group, now);
				return -EBADMSG;
			}
		}
		p->now = first ? group : p->group;
		if (first && p->now != p->group && !lists_whole_group(ka, p, where))
			return -EBADMSG;
		for (size_t i = 0; i < p->n; i++)
			if (check_device(ka, &p->devs[i], p, where) < 0)
				return -EBADMSG;
	}
	/* A step's PF that is gone took its VFs with it: nothing is left to finish or undo. */
	for (size_t i = 0; i < t->nsteps; i++) {
		_cleanup_free_ char *dir = lay_pci_device(t->steps[i].pf);
		_cleanup_close_ int dfd = -1;
		t->steps[i].gone = !dir || ka_open_dir(ka, dir, &dfd) == -ENOENT;
	}
	/* Two entries that land in one group now would move one group twice. */
	for (size_t a = 0; a < t->n; a++)
		for (size_t b = a + 1; b < t->n; b++)
			if (t->plans[a].now == t->plans[b].now) {
				log_error("%s: the journal's groups %lu and %lu are one group (%lu) now: refusing to act on it",
					  where, t->plans[a].group, t->plans[b].group, t->plans[a].now);
				return -EBADMSG;
			}
	return 0;
}

/* ---- what check reports ---- */

static void status_of_journal(struct state *st, struct move_status *m)
{
	m->journal = true;
	m->journal_path = xasprintf("%s/%s", st->path, JOURNAL_NAME);
	struct json_object *j = NULL;
	if (state_read(st, JOURNAL_NAME, &j) < 0) {
		m->journal_unreadable = true;
		return;
	}
	struct txn t = { 0 };
	if (journal_parse(j, m->journal_path, &t) < 0) {
		m->journal_unreadable = true;
		json_object_put(j);
		return;
	}
	const char *op = json_member_str(j, "operation"), *state = json_member_str(j, "state");
	m->operation = xstrdup(op ? op : "move");
	m->state = xstrdup(state ? state : "moving");
	for (size_t k = 0; k < t.nsteps; k++)
		strv_push(&m->pfs, xstrdup(t.steps[k].pf));
	for (size_t g = 0; g < t.n; g++) {
		strv_push(&m->groups, xasprintf("%lu", t.plans[g].group));
		for (size_t i = 0; i < t.plans[g].n; i++)
			if (t.plans[g].devs[i].moves)
				strv_push(&m->devices, xstrdup(t.plans[g].devs[i].address));
	}
	txn_free(&t);
	json_object_put(j);
}

static void status_of_records(struct state *st, struct move_status *m)
{
	struct strv names = { 0 };
	_cleanup_close_ int fd = st->dirfd >= 0 ? fcntl(st->dirfd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd < 0 || ka_list_fd(fd, &names) < 0) {
		strv_free(&names);
		return;
	}
	sort_array(names.v, names.n, sizeof(*names.v), strv_cmp);
	for (size_t i = 0; i < names.n; i++) {
		unsigned long g;
		char tail[16];
		if (sscanf(names.v[i], "group-%lu%15s", &g, tail) != 2 || !streq(tail, ".json"))
			continue;
		struct json_object *r = record_read(st, g, "check does not use it");
		if (!r)
			continue;
		struct record_index ix;
		record_index_build(r, &ix);
		m->records = grow_array(m->records, &m->cap, m->nrecords + 1, sizeof(*m->records));
		struct record_summary *x = &m->records[m->nrecords++];
		memset(x, 0, sizeof(*x));
		x->group = g;
		x->path = xasprintf("%s/%s", st->path, names.v[i]);
		for (size_t k = 0; k < ix.n; k++)
			strv_push(&x->devices, xstrdup(ix.v[k].address));
		record_index_free(&ix);
		json_object_put(r);
	}
	strv_free(&names);
}

void move_status_read(struct state *kernel, struct state *records, struct move_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (state_exists(kernel, JOURNAL_NAME))
		status_of_journal(kernel, ret);
	else if (records && state_exists(records, JOURNAL_NAME))
		status_of_journal(records, ret);
	status_of_records(records ? records : kernel, ret);
}

void move_status_free(struct move_status *m)
{
	free(m->journal_path);
	free(m->operation);
	free(m->state);
	strv_free(&m->groups);
	strv_free(&m->pfs);
	strv_free(&m->devices);
	for (size_t i = 0; i < m->nrecords; i++) {
		free(m->records[i].path);
		strv_free(&m->records[i].devices);
	}
	free(m->records);
	memset(m, 0, sizeof(*m));
}
