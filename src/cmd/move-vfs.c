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
#include "core/journal.h"
#include "core/sriov.h"

/* The VFs' groups as claims, checked; a dry run says what it could not verify. */
static int plan_vf_groups(struct run *r, const struct strv *vfs, const char *driver, bool created,
			  const struct strv *force)
{
	size_t first = r->t.n;
	int e = sriov_claim_vf_groups(r->ctx->ka, &r->t, vfs, driver, created, force, &r->in);
	for (size_t i = first; r->o->dry_run && i < r->t.n; i++)
		refusals_unverified(&r->t.plans[i].refusals);
	return e;
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
			for (size_t i = 0; i < o->force.n; i++)
				strv_push(&s->force, xstrdup(o->force.v[i]));
			s->owner = o->owner_spec;
			sriov_vf_addresses(&pf, o->count, &s->vfs); /* as predicted, until they exist */
		}
	} else if (o->claim_vfs && !txn_blocking(t)) {
		/* The count is there already: the VFs' groups not yet on VFIO are claimed. */
		size_t first = t->n;
		e = plan_vf_groups(r, &pf.vfs, o->driver, false, &o->force);
		for (size_t k = first; k < t->n; k++)
			t->plans[k].owner = o->owner_spec;
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
			size_t mine = t->n;
			e = plan_vf_groups(r, &pf.vfs, s->claim, true, &s->force);
			for (size_t k = mine; k < t->n; k++)
				t->plans[k].owner = s->owner;
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
	return move_rewrite_journal(r);
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
