// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/apply.h"
#include "core/handoff.h"
#include "core/sriov.h"
#include "os/drivers.h"

void apply_report_free(struct apply_report *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].message);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

size_t apply_refused(const struct apply_report *a)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += a->v[i].result == ENTRY_REFUSED;
	return n;
}

static struct entry_report *add_entry(struct apply_report *a, const struct decl *e)
{
	a->v = grow_array(a->v, &a->cap, a->n + 1, sizeof(*a->v));
	struct entry_report *x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->decl = e;
	return x;
}

static void refuse_entry(struct entry_report *x, const char *code, char *message)
{
	x->result = ENTRY_REFUSED;
	x->code = code;
	free(x->message);
	x->message = message;
}

/* Whether every device of g that a claim would move is on driver with driver_override naming it. */
static bool owned_as_declared(const struct group *g, const char *driver)
{
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (!d->is_pci || move_skip_reason(d) != SKIP_NONE)
			continue;
		if (!d->driver || !streq(d->driver, driver) || !d->driver_override || !streq(d->driver_override, driver))
			return false;
	}
	return true;
}

/* Two entries of one group that name different drivers: neither can be honoured. */
static void find_conflicts(struct apply_report *a)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = i + 1; j < a->n; j++) {
			struct entry_report *x = &a->v[i], *y = &a->v[j];
			if (!x->has_group || !y->has_group || x->group != y->group || x->result == ENTRY_REFUSED ||
			    y->result == ENTRY_REFUSED || streq(x->decl->driver, y->decl->driver) || x->decl->vfs ||
			    y->decl->vfs)
				continue;
			char *m = xasprintf("group %lu is declared for %s in %s:%u and for %s in %s:%u", x->group,
					    x->decl->driver, x->decl->file, x->decl->line, y->decl->driver, y->decl->file,
					    y->decl->line);
			refuse_entry(x, "declaration-conflict", xstrdup(m));
			refuse_entry(y, "declaration-conflict", m);
		}
}

/* The refusals of the group's claim that the entry's "force" overrides (any entry of the group). */
static void entry_force(const struct apply_report *a, unsigned long group, struct strv *force)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct entry_report *x = &a->v[i];
		if (!x->has_group || x->group != group)
			continue;
		for (size_t k = 0; k < x->decl->force.n; k++)
			if (!strv_contains(force, x->decl->force.v[k]))
				strv_push(force, xstrdup(x->decl->force.v[k]));
	}
}

static void set_group_result(struct apply_report *a, unsigned long group, enum entry_result res, const char *code,
			     const char *message, size_t plan)
{
	for (size_t i = 0; i < a->n; i++) {
		struct entry_report *x = &a->v[i];
		if (!x->has_group || x->group != group || x->result == ENTRY_REFUSED || x->decl->vfs)
			continue;
		if (res == ENTRY_REFUSED)
			refuse_entry(x, code, xstrdup(message));
		else
			x->result = res;
		x->plan = plan;
	}
}

/* The first refusal that blocks, among r. */
static const struct refusal *first_blocking(const struct refusals *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (!r->v[i].forced)
			return &r->v[i];
	return NULL;
}

/* The group's claim as a plan, checked; refused entries when a check fails. */
static void plan_group(const struct ka *ka, const struct group *g, const struct entry_report *first,
		       struct preflight_inputs *in, struct txn *t, struct apply_report *a)
{
	const char *driver = first->decl->driver;
	struct strv force = { 0 };
	entry_force(a, g->number, &force);
	struct plan *p = txn_add_plan(t, MOVE_CLAIM, g->number, driver);
	p->owner = first->owner;
	plan_claim(ka, g, driver, p);
	preflight_claim(ka, g, driver, &force, in, &p->refusals);
	strv_free(&force);
	if (p->refusals.blocking) {
		const struct refusal *no = first_blocking(&p->refusals);
		set_group_result(a, g->number, ENTRY_REFUSED, no->code, no->message, 0);
		/* Not part of the transaction: its plan stays out of it (its refusals are reported per entry). */
		refusals_free(&p->refusals);
		txn_drop_last_plan(t);
		return;
	}
	set_group_result(a, g->number, ENTRY_MOVES, NULL, NULL, t->n - 1);
}

/* The claims of the groups of VFs vfs that are not on the entry's driver; refused as a whole. */
static void plan_vf_claims(const struct ka *ka, struct entry_report *x, const struct strv *vfs,
			   struct preflight_inputs *in, struct txn *t)
{
	size_t first = t->n;
	const struct refusal *no = NULL;
	int r = sriov_claim_vf_groups(ka, t, vfs, x->decl->driver, false, &x->decl->force, in);
	for (size_t i = first; r == 0 && i < t->n && !no; i++) {
		no = first_blocking(&t->plans[i].refusals);
		t->plans[i].owner = x->owner;
	}
	if (r < 0)
		refuse_entry(x, "declared-drift", xstrdup(t->error));
	else if (no)
		refuse_entry(x, no->code, xstrdup(no->message));
	else {
		x->result = ENTRY_MOVES;
		x->plan = first;
		return;
	}
	while (t->n > first)
		txn_drop_last_plan(t);
}

/* Whether the nodes of the VFs' groups are as the entry hands them off. */
static bool vf_nodes_match(const struct ka *ka, const struct strv *vfs, const struct owner_spec *s)
{
	bool all = true;
	for (size_t i = 0; i < vfs->n && all && s->set; i++) {
		_cleanup_(model_freep) struct system *sys = NULL;
		all = model_load_group(ka, 0, vfs->v[i], &sys) == 0 && handoff_group_matches(ka, sys->groups[0], s);
	}
	return all;
}

/*
 * An entry with vfs = N: the PF gets its N VFs (autoprobe off while they
 * appear) and their groups are claimed, in the transaction; VFs that are
 * there have their groups claimed. A PF with another count is refused:
 * apply never destroys VFs.
 */
static void plan_vfs_entry(const struct ka *ka, struct entry_report *x, struct preflight_inputs *in, struct txn *t)
{
	const struct decl *e = x->decl;
	struct sriov_pf pf;
	if (sriov_pf_read(ka, e->address, &pf) < 0) {
		refuse_entry(x, "declared-drift", xasprintf("%s cannot be read (declared in %s:%u)", e->address, e->file, e->line));
	} else if (pf.numvfs == e->vfs) {
		if (sriov_vfs_owned(ka, &pf.vfs, e->driver) && vf_nodes_match(ka, &pf.vfs, &x->owner))
			x->result = ENTRY_CONVERGED;
		else
			plan_vf_claims(ka, x, &pf.vfs, in, t);
	} else if (pf.numvfs) {
		refuse_entry(x, "vfs-replace",
			     xasprintf("%s has %lu VFs, not %lu as declared in %s:%u: apply never destroys VFs (vfs %s %lu "
				       "--replace does)",
				       e->address, pf.numvfs, e->vfs, e->file, e->line, e->address, e->vfs));
	} else {
		struct refusals ref = { 0 };
		struct vfs_request req = { e->vfs, true, false };
		preflight_vfs(ka, &pf, &req, &e->force, in, &ref);
		const struct refusal *no = first_blocking(&ref);
		if (no) {
			refuse_entry(x, no->code, xstrdup(no->message));
		} else {
			struct sriov_step *s = txn_add_step(t, pf.address, 0, e->vfs);
			s->autoprobe = pf.autoprobe;
			s->autoprobe_off = true;
			s->claim = xstrdup(e->driver);
			for (size_t i = 0; i < e->force.n; i++)
				strv_push(&s->force, xstrdup(e->force.v[i]));
			sriov_vf_addresses(&pf, e->vfs, &s->vfs);
			s->owner = x->owner;
			x->result = ENTRY_MOVES;
		}
		refusals_free(&ref);
	}
	sriov_pf_clear(&pf);
}

int apply_plan(const struct ka *ka, const struct system *sys, struct pcidb *db, const struct decls *ds,
	       struct preflight_inputs *in, struct txn *t, struct apply_report *out)
{
	for (size_t i = 0; i < ds->n; i++) {
		const struct decl *e = &ds->v[i];
		if (e->masked)
			continue;
		struct entry_report *x = add_entry(out, e);
		/* Names resolve through the root's accounts: one that is not there is an error, as a bad value is. */
		if ((e->owner || e->mode) && owner_spec_parse(ka, e->owner, e->mode, &x->owner) < 0) {
			log_error("%s:%u: [device %s]: the owner or mode above cannot be used", e->file, e->line, e->address);
			return -EINVAL;
		}
		char *why = NULL;
		enum decl_state st = decl_judge(ka, sys, db, e, &why);
		struct pci_addr addr;
		const struct device *d = pci_addr_parse(e->address, &addr) == 0 ? model_find_device(sys, &addr) : NULL;
		if (d && d->group) {
			x->group = d->group->number;
			x->has_group = true;
		}
		if (st != DECL_OK)
			refuse_entry(x, "declared-drift", why);
		else
			free(why);
	}
	find_conflicts(out);
	/* One plan per group, in group order, whatever the order of the entries. */
	for (size_t gi = 0; gi < sys->ngroups; gi++) {
		const struct group *g = sys->groups[gi];
		const struct entry_report *first = NULL;
		for (size_t i = 0; i < out->n && !first; i++)
			if (out->v[i].has_group && out->v[i].group == g->number && out->v[i].result != ENTRY_REFUSED &&
			    !out->v[i].decl->vfs)
				first = &out->v[i];
		if (!first)
			continue;
		if (owned_as_declared(g, first->decl->driver) && handoff_group_matches(ka, g, &first->owner))
			set_group_result(out, g->number, ENTRY_CONVERGED, NULL, NULL, 0);
		else
			plan_group(ka, g, first, in, t, out);
	}
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].decl->vfs && out->v[i].result != ENTRY_REFUSED)
			plan_vfs_entry(ka, &out->v[i], in, t);
	return 0;
}
