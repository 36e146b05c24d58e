// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <string.h>

#include "core/plan.h"
#include "core/record.h"
#include "core/uses.h"
#include "core/handoff.h"
#include "core/sriov.h"
#include "os/drivers.h"
#include "os/layout.h"
#include "os/modindex.h"

static const char *const kind_names[_MOVE_KIND_MAX] = {
	[MOVE_CLAIM] = "claim",
	[MOVE_RELEASE] = "release",
};

const char *move_kind_name(enum move_kind k)
{
	return k < _MOVE_KIND_MAX ? kind_names[k] : "unknown";
}

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct mdev *m = &p->devs[i];
		free(m->address);
		free(m->module);
		strv_free(&m->nets);
		strv_free(&m->blocks);
		binding_clear(&m->before);
		binding_clear(&m->want);
		binding_clear(&m->after);
	}
	free(p->devs);
	free(p->driver);
	refusals_free(&p->refusals);
}

void txn_free(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		plan_clear(&t->plans[i]);
	free(t->plans);
	for (size_t i = 0; i < t->nw; i++) {
		free(t->w[i].device);
		free(t->w[i].driver);
		free(t->w[i].value);
	}
	free(t->w);
	for (size_t i = 0; i < t->nsteps; i++) {
		free(t->steps[i].pf);
		free(t->steps[i].claim);
		strv_free(&t->steps[i].vfs);
		strv_free(&t->steps[i].force);
	}
	free(t->steps);
	refusals_free(&t->refusals);
	for (size_t i = 0; i < t->nnodes; i++) {
		free(t->nodes[i].device);
		free(t->nodes[i].path);
	}
	free(t->nodes);
	free(t->error);
	strv_free(&t->modules);
	memset(t, 0, sizeof(*t));
}

struct plan *txn_add_plan(struct txn *t, enum move_kind kind, unsigned long group, const char *driver)
{
	t->plans = grow_array(t->plans, &t->cap, t->n + 1, sizeof(*t->plans));
	struct plan *p = &t->plans[t->n++];
	*p = (struct plan){ .kind = kind, .group = group, .now = group, .driver = xstrdup_or_null(driver) };
	return p;
}

void txn_drop_last_plan(struct txn *t)
{
	if (t->n)
		plan_clear(&t->plans[--t->n]);
}

struct sriov_step *txn_add_step(struct txn *t, const char *pf, unsigned long before, unsigned long want)
{
	t->steps = grow_array(t->steps, &t->scap, t->nsteps + 1, sizeof(*t->steps));
	struct sriov_step *s = &t->steps[t->nsteps++];
	*s = (struct sriov_step){ .pf = xstrdup(pf), .before = before, .want = want, .autoprobe = -1 };
	return s;
}

struct mdev *plan_add_device(struct plan *p, const char *address)
{
	p->devs = grow_array(p->devs, &p->cap, p->n + 1, sizeof(*p->devs));
	struct mdev *m = &p->devs[p->n++];
	memset(m, 0, sizeof(*m));
	m->address = xstrdup(address);
	return m;
}

struct pwrite *txn_add_write(struct txn *t, enum ka_op op, const char *device, const char *driver, const char *value,
			     bool rollback)
{
	t->w = grow_array(t->w, &t->wcap, t->nw + 1, sizeof(*t->w));
	struct pwrite *w = &t->w[t->nw++];
	*w = (struct pwrite){ op, xstrdup(device), xstrdup_or_null(driver), xstrdup_or_null(value), false, 0, rollback };
	return w;
}

size_t txn_moving(const struct txn *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = 0; j < t->plans[i].n; j++)
			n += t->plans[i].devs[j].moves;
	return n;
}

size_t txn_blocking(const struct txn *t)
{
	size_t n = t->refusals.blocking;
	for (size_t i = 0; i < t->n; i++)
		n += t->plans[i].refusals.blocking;
	return n;
}

/* ---- claim ---- */

static struct mdev *add_from_model(struct plan *p, const struct device *d)
{
	struct mdev *m = plan_add_device(p, d->name);
	m->before.driver = xstrdup_or_null(d->driver);
	m->before.override = xstrdup_or_null(d->driver_override);
	return m;
}

/* The module of a loaded driver (its module link), for the record: NULL when it has none. */
static char *driver_module_of(const struct ka *ka, const char *driver)
{
	_cleanup_free_ char *rel = lay_pci_driver(driver);
	_cleanup_close_ int fd = -1;
	char *module = NULL;
	if (rel && ka_open_dir(ka, rel, &fd) == 0)
		ka_link_base_at(fd, "module", &module);
	return module;
}

/* Whether d lies in the PCI domain of a VMD controller of the group that a claim takes off vmd. */
static bool in_moving_vmd_domain(const struct ka *ka, const struct group *g, const struct device *d)
{
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *v = g->devices[i];
		if (v == d || !v->driver || !driver_name_eq(v->driver, "vmd"))
			continue;
		_cleanup_free_ char *vp = NULL, *dp = NULL;
		if (ka_device_path(ka, v->name, &vp) == 0 && ka_device_path(ka, d->name, &dp) == 0 &&
		    strncmp(dp, vp, strlen(vp)) == 0 && dp[strlen(vp)] == '/')
			return true;
	}
	return false;
}

void plan_claim(const struct ka *ka, const struct group *g, const char *driver, struct plan *p)
{
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		struct mdev *m = add_from_model(p, d);
		m->no_autoprobe = ka_vf_autoprobe_off(ka, m->address);
		m->skip = d->is_pci ? move_skip_reason(d) : SKIP_NOT_PCI;
		/* vmd_remove() takes these away when the controller leaves vmd: nothing is left to move. */
		if (m->skip == SKIP_NONE && in_moving_vmd_domain(ka, g, d))
			m->skip = SKIP_VMD_DOMAIN;
		if (m->skip != SKIP_NONE) {
			m->want.driver = xstrdup_or_null(d->driver);
			m->want.override = xstrdup_or_null(d->driver_override);
			continue;
		}
		m->want.driver = xstrdup(driver);
		m->want.override = xstrdup(driver);
		m->moves = !binding_eq(&m->before, &m->want);
		if (!m->moves)
			m->skip = SKIP_ALREADY;
		if (d->driver)
			m->module = driver_module_of(ka, d->driver);
		/* Its interface and disks vanish with the host driver: the record keeps their names. */
		uses_read_names(ka, d, &m->nets, &m->blocks);
	}
}

/* ---- release ---- */

/* No record: the modules matching the device's modalias are loaded first, so that one of them can bind. */
static void plan_kernel_choice(struct ka *ka, struct mdev *m, struct txn *t)
{
	m->kernel_choice = true;
	if (m->no_autoprobe)
		return; /* the kernel leaves such a VF unbound: nothing to load or expect */
	_cleanup_free_ char *rel = lay_pci_device_attr(m->address, "modalias");
	_cleanup_free_ char *alias = NULL;
	struct strv mods = { 0 };
	if (rel && ka_read(ka, rel, &alias) == 0 && ka_modalias_modules(ka, alias, &mods) == 0) {
		for (size_t j = 0; j < mods.n; j++) {
			if (driver_role(mods.v[j], false) == ROLE_USER)
				continue; /* vfio_pci's catch-all alias */
			m->expect_driver = true;
			if (!strv_contains(&t->modules, mods.v[j]) && !ka_module_has_pci_driver(ka, mods.v[j]))
				strv_push(&t->modules, xstrdup(mods.v[j]));
		}
	}
	strv_free(&mods);
}

void plan_release(struct ka *ka, const struct group *g, struct json_object *record, struct plan *p, struct txn *t)
{
	struct record_index ix;
	record_index_build(record, &ix);
	p->from_record = record != NULL;
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		struct mdev *m = add_from_model(p, d);
		m->no_autoprobe = ka_vf_autoprobe_off(ka, m->address);
		if (!d->is_pci || d->role != ROLE_USER) {
			m->skip = !d->is_pci ? SKIP_NOT_PCI : SKIP_NOT_VFIO;
			m->want.driver = xstrdup_or_null(d->driver);
			m->want.override = xstrdup_or_null(d->driver_override);
			continue;
		}
		m->moves = true;
		struct json_object *rec = record_index_find(&ix, d->name);
		const char *rdrv = json_member_str(rec, "driver");
		if (rec && (!safe_name(rdrv) || !safe_name(json_member_str(rec, "module")))) {
			log_warning("ignoring the record of %s: it names a driver or module that is no name", d->name);
			rec = NULL;
			rdrv = NULL;
		}
		/* Back to the recorded driver, unless it was VFIO already (back to VFIO is no release). */
		if (rec && !(rdrv && driver_role(rdrv, false) == ROLE_USER)) {
			m->vfs_restore = record_numvfs(rec);
			m->want.driver = xstrdup_or_null(rdrv);
			m->want.override = xstrdup_or_null(json_member_str(rec, "driver_override"));
			const char *mod = json_member_str(rec, "module");
			if (rdrv) {
				_cleanup_free_ char *rel = lay_pci_driver(rdrv);
				_cleanup_close_ int fd = -1;
				if (ka_open_dir(ka, rel, &fd) < 0 && mod && !strv_contains(&t->modules, mod))
					strv_push(&t->modules, xstrdup(mod));
			}
			continue;
		}
		plan_kernel_choice(ka, m, t);
	}
	record_index_free(&ix);
}

/* ---- the writes ---- */

const char *staging_override(const struct mdev *m, const struct binding *want)
{
	/* A VF that cannot autoprobe binds only with an override: name the driver. */
	if (m->no_autoprobe && want->driver)
		return want->driver;
	if (!want->override || !want->driver || streq(want->override, want->driver))
		return want->override;
	return NULL;
}

/* Each phase across every group of the transaction, so no driver can grab a device between them. */
void txn_plan_writes(struct txn *t)
{
	handoff_plan_first(t);
	sriov_plan_first(t);
	txn_plan_writes_from(t, 0);
}

void txn_plan_writes_from(struct txn *t, size_t first)
{
	for (size_t g = first; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			struct mdev *m = &t->plans[g].devs[i];
			const char *stage = staging_override(m, &m->want);
			if (m->moves && !str_eq_null(m->before.override, stage))
				txn_add_write(t, KA_OVERRIDE, m->address, NULL, stage ? stage : "\n", false);
		}
	for (size_t g = first; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			struct mdev *m = &t->plans[g].devs[i];
			if (m->moves && m->before.driver &&
			    (m->kernel_choice || !str_eq_null(m->before.driver, m->want.driver)))
				txn_add_write(t, KA_UNBIND, m->address, m->before.driver, NULL, false);
		}
	for (size_t g = first; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			struct mdev *m = &t->plans[g].devs[i];
			if (!m->moves)
				continue;
			if (m->kernel_choice)
				txn_add_write(t, KA_PROBE, m->address, NULL, NULL, false);
			else if (m->want.driver && !str_eq_null(m->before.driver, m->want.driver))
				txn_add_write(t, KA_BIND, m->address, m->want.driver, NULL, false);
		}
	for (size_t g = first; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			struct mdev *m = &t->plans[g].devs[i];
			if (m->moves && !str_eq_null(staging_override(m, &m->want), m->want.override))
				txn_add_write(t, KA_OVERRIDE, m->address, NULL, m->want.override ? m->want.override : "\n",
					      false);
		}
	sriov_plan_last(t);
}
