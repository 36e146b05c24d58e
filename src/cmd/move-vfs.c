// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SR-IOV parts of a move: vfs PF COUNT (a step, and the claims of the
 * new VFs' groups once they exist), claim --remove-vfs and the release
 * after it (the VF count recorded, and made again).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cmd/move-internal.h"
#include "core/audit.h"
#include "core/journal.h"
#include "core/sriov.h"
#include "os/layout.h"
#include "os/modindex.h"

static bool planned(const struct txn *t, unsigned long group)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->plans[i].group == group)
			return true;
	return false;
}

/*
 * The groups of the VFs vfs, each a claim for driver, checked as a claim
 * is; created: the transaction made them. A group that holds anything but
 * these VFs is refused (vf-group-shared): claiming it would take that too.
 */
static int plan_vf_groups(struct run *r, const struct strv *vfs, const char *driver, bool created)
{
	struct ka *ka = r->ctx->ka;
	struct txn *t = &r->t;
	for (size_t k = 0; k < vfs->n; k++) {
		_cleanup_(model_freep) struct system *sys = NULL;
		if (model_load_group(ka, AUDIT_MODEL_FLAGS | MODEL_IDS, vfs->v[k], &sys) < 0) {
			t->error = xasprintf("VF %s cannot be given to VFIO: its IOMMU group cannot be read", vfs->v[k]);
			return -ENXIO;
		}
		const struct group *g = sys->groups[0];
		if (planned(t, g->number))
			continue;
		struct plan *p = txn_add_plan(t, MOVE_CLAIM, g->number, driver);
		plan_claim(ka, g, driver, p);
		for (size_t i = 0; i < p->n; i++) {
			if (strv_contains(vfs, p->devs[i].address))
				p->devs[i].created = created;
			else
				refusals_add(&p->refusals, "vf-group-shared", p->devs[i].address,
					     "VF %s is in group %lu with %s, which is none of the VFs: claiming the group would "
					     "take it too",
					     vfs->v[k], g->number, p->devs[i].address);
		}
		preflight_claim(ka, g, driver, &r->o->force, &r->in, &p->refusals);
		if (r->o->dry_run)
			refusals_unverified(&p->refusals);
	}
	return 0;
}

/* The PF as an operand: a PCI address (0000:01:00.0 or 01:00.0). */
static char *pf_operand(const char *arg)
{
	struct pci_addr a;
	char buf[32];
	if (pci_addr_parse(arg, &a) < 0) {
		log_error("vfs: '%s' is not a PCI address (0000:01:00.0 or 01:00.0)", arg);
		return NULL;
	}
	pci_addr_format(&a, buf, sizeof(buf));
	return xstrdup(buf);
}

int vfs_plan(struct run *r)
{
	struct move_options *o = r->o;
	struct ka *ka = r->ctx->ka;
	struct txn *t = &r->t;
	_cleanup_free_ char *addr = pf_operand(o->targets.v[0]);
	struct sriov_pf pf;
	if (!addr || sriov_pf_read(ka, addr, &pf) < 0) {
		if (addr)
			sriov_pf_clear(&pf);
		return -EINVAL;
	}
	struct vfs_request req = { o->count, o->claim_vfs, o->replace };
	preflight_vfs(ka, &pf, &req, &o->force, &r->in, &t->refusals);
	if (o->dry_run)
		refusals_unverified(&t->refusals);
	int e = 0;
	if (o->count != pf.numvfs) {
		struct sriov_step *s = txn_add_step(t, pf.address, pf.numvfs, o->count);
		s->autoprobe = pf.autoprobe;
		s->autoprobe_off = o->count > 0;
		if (o->claim_vfs && o->count > 0) {
			s->claim = xstrdup(o->driver);
			sriov_vf_addresses(&pf, o->count, &s->vfs); /* as predicted, until they exist */
		}
	} else if (o->claim_vfs && !txn_blocking(t)) {
		/* The count is there already: the VFs' groups not yet on VFIO are claimed. */
		e = plan_vf_groups(r, &pf.vfs, o->driver, false);
	}
	if (o->claim_vfs) {
		_cleanup_free_ char *rel = lay_pci_driver(o->driver);
		_cleanup_close_ int fd = -1;
		if (ka_open_dir(ka, rel, &fd) < 0)
			strv_push(&t->modules, module_for_driver(o->driver));
	}
	sriov_pf_clear(&pf);
	if (e < 0)
		log_error("%s", t->error);
	return e;
}

/* The first refusal that blocks, for the message of a move that stops after some writes. */
static char *first_refusal(const struct txn *t)
{
	for (size_t g = 0; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].refusals.n; i++) {
			const struct refusal *x = &t->plans[g].refusals.v[i];
			if (!x->forced && !x->unverified)
				return xasprintf("%s (%s)", x->message, x->code);
		}
	return xstrdup("a check refused");
}

int vfs_expand(struct run *r)
{
	struct ka *ka = r->ctx->ka;
	struct txn *t = &r->t;
	size_t first = t->n;
	for (size_t i = 0; i < t->nsteps; i++) {
		struct sriov_step *s = &t->steps[i];
		if (!s->claim || s->expanded || s->want == 0)
			continue;
		struct sriov_pf pf;
		int e = sriov_pf_read(ka, s->pf, &pf);
		if (e == 0 && pf.vfs.n != s->want)
			t->error = xasprintf("%s shows %zu VFs after sriov_numvfs was set to %lu", s->pf, pf.vfs.n, s->want);
		else if (e < 0)
			t->error = xasprintf("%s cannot be read after sriov_numvfs was set", s->pf);
		if (e == 0 && !t->error) {
			strv_free(&s->vfs);
			for (size_t k = 0; k < pf.vfs.n; k++)
				strv_push(&s->vfs, xstrdup(pf.vfs.v[k]));
			e = plan_vf_groups(r, &pf.vfs, s->claim, true);
		}
		sriov_pf_clear(&pf);
		if (t->error)
			return e < 0 ? e : -EIO;
		s->expanded = true;
	}
	if (txn_blocking(t)) {
		t->error = first_refusal(t);
		return -EPERM;
	}
	if (move_prepare_records(r, first) < 0)
		return -EIO;
	txn_plan_writes_from(t, first);
	/* The journal names every device before the first write to it. */
	struct json_object *j = journal_build(ka, t, r->ro.operation);
	int e = state_write(r->journal_st, JOURNAL_NAME, j);
	if (e < 0) {
		json_object_put(j);
		t->error = xasprintf("writing the journal in %s failed: %s", r->journal_st->path, strerror(-e));
		return e;
	}
	json_object_put(r->journal);
	r->journal = j;
	return 0;
}

void vfs_claim_steps(struct run *r, const struct group *g, struct plan *p)
{
	struct ka *ka = r->ctx->ka;
	for (size_t i = 0; i < p->n; i++) {
		struct mdev *m = &p->devs[i];
		struct sriov_pf pf;
		if (!m->moves)
			continue;
		if (sriov_pf_read(ka, m->address, &pf) == 0 && pf.is_pf && pf.numvfs > 0) {
			refusals_drop(&p->refusals, "sriov-pf", m->address);
			preflight_sriov_capable(&pf, &p->refusals);
			preflight_vfs_removal(ka, &pf, &r->o->force, &r->in, &p->refusals);
			for (size_t k = 0; k < g->ndevices; k++)
				if (strv_contains(&pf.vfs, g->devices[k]->name))
					refusals_add(&p->refusals, "vf-group-shared", g->devices[k]->name,
						     "VF %s is in group %lu with its PF: remove the VFs first (vfs %s 0)",
						     g->devices[k]->name, g->number, m->address);
			struct sriov_step *s = txn_add_step(&r->t, m->address, pf.numvfs, 0);
			s->autoprobe = pf.autoprobe;
			m->vfs_restore = pf.numvfs;
		}
		sriov_pf_clear(&pf);
	}
}

void vfs_release_steps(struct run *r, struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct mdev *m = &p->devs[i];
		unsigned long now;
		int ap;
		if (!m->moves || !m->vfs_restore || sriov_read_now(r->ctx->ka, m->address, &now, &ap) < 0)
			continue;
		/* The kernel's selftests' order: the PF's driver back first, then its VFs. */
		struct sriov_step *s = txn_add_step(&r->t, m->address, now, m->vfs_restore);
		s->after = true;
		s->autoprobe = ap;
	}
}
