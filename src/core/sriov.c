// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/audit.h"
#include "core/record.h"
#include "core/sriov.h"
#include "os/drivers.h"
#include "os/layout.h"
#include "shared/escape.h"

/* ---- a PF as the kernel shows it ---- */

void sriov_pf_clear(struct sriov_pf *pf)
{
	free(pf->address);
	free(pf->driver);
	strv_free(&pf->vfs);
	memset(pf, 0, sizeof(*pf));
}

/* A numeric attribute of the PF: -ENOENT when absent, -EBADMSG when it holds no number (printed). */
static int read_attr(const struct ka *ka, const char *address, const char *attr, unsigned long *ret)
{
	_cleanup_free_ char *rel = lay_pci_device_attr(address, attr);
	_cleanup_free_ char *v = NULL;
	int r = rel ? ka_read(ka, rel, &v) : -EINVAL;
	if (r == 0 && parse_ulong(v, 10, ret) < 0)
		r = -EBADMSG;
	if (r < 0 && r != -ENOENT) {
		_cleanup_free_ char *path = ka_path(ka, rel ? rel : address);
		log_error("%s: %s", path, ka_strerror(r));
	}
	return r;
}

/* The PF's VFs, through its links virtfn0, virtfn1... in that order. */
static void read_vfs(const struct ka *ka, const struct sriov_pf *pf, struct strv *ret)
{
	for (unsigned long id = 0; id < pf->numvfs; id++) {
		char link[32];
		snprintf(link, sizeof(link), LAY_VIRTFN_PREFIX "%lu", id);
		_cleanup_free_ char *rel = lay_pci_device_attr(pf->address, link);
		_cleanup_free_ char *target = NULL;
		if (rel && ka_readlink(ka, rel, &target) == 0) {
			const char *base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
			struct pci_addr a;
			if (pci_addr_parse(base, &a) == 0)
				strv_push(ret, xstrdup(base));
		}
	}
}

int sriov_pf_read(const struct ka *ka, const char *address, struct sriov_pf *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->address = xstrdup(address);
	ret->autoprobe = -1;
	_cleanup_free_ char *dir = lay_pci_device(address);
	_cleanup_close_ int dfd = -1;
	if (!dir || ka_open_dir(ka, dir, &dfd) < 0) {
		log_error("%s: no such PCI device", address);
		return -ENODEV;
	}
	int r = ka_link_base_at(dfd, "driver", &ret->driver);
	if (r < 0 && r != -ENOENT)
		return r;
	int rt = read_attr(ka, address, LAY_SRIOV_TOTALVFS, &ret->total);
	int rn = read_attr(ka, address, LAY_SRIOV_NUMVFS, &ret->numvfs);
	if ((rt < 0 && rt != -ENOENT) || (rn < 0 && rn != -ENOENT))
		return rt < 0 && rt != -ENOENT ? rt : rn;
	ret->is_pf = rt == 0 && rn == 0;
	if (!ret->is_pf)
		return 0;
	unsigned long ap;
	if (read_attr(ka, address, LAY_SRIOV_AUTOPROBE, &ap) == 0)
		ret->autoprobe = ap != 0;
	if (read_attr(ka, address, LAY_SRIOV_OFFSET, &ret->offset) < 0)
		ret->offset = 1;
	if (read_attr(ka, address, LAY_SRIOV_STRIDE, &ret->stride) < 0)
		ret->stride = 1;
	/*
	 * sysfs shows sriov_numvfs 0664 on a PF; a captured tree's modes are the
	 * capture's (or a read-only checkout's), and say nothing of the kernel.
	 */
	_cleanup_free_ char *rel = lay_pci_device_attr(address, LAY_SRIOV_NUMVFS);
	struct stat st;
	ret->numvfs_writable = !ka_is_live(ka) || (ka_stat(ka, rel, &st) == 0 && (st.st_mode & 0222));
	read_vfs(ka, ret, &ret->vfs);
	return 0;
}

void sriov_vf_addresses(const struct sriov_pf *pf, unsigned long n, struct strv *ret)
{
	struct pci_addr a;
	if (pci_addr_parse(pf->address, &a) < 0)
		return;
	for (unsigned long id = 0; id < n; id++) {
		unsigned long rid = (unsigned long)(a.bus << 8 | a.dev << 3 | a.fn) + pf->offset + pf->stride * id;
		struct pci_addr v = { a.domain, (uint8_t)(rid >> 8), (uint8_t)(rid >> 3 & 0x1f), (uint8_t)(rid & 7) };
		char buf[32];
		pci_addr_format(&v, buf, sizeof(buf));
		strv_push(ret, xstrdup(buf));
	}
}

int sriov_read_now(const struct ka *ka, const char *pf, unsigned long *numvfs, int *autoprobe)
{
	_cleanup_free_ char *rel = lay_pci_device_attr(pf, LAY_SRIOV_NUMVFS);
	_cleanup_free_ char *arel = lay_pci_device_attr(pf, LAY_SRIOV_AUTOPROBE);
	_cleanup_free_ char *v = NULL, *a = NULL;
	int r = rel ? ka_read(ka, rel, &v) : -EINVAL;
	if (r < 0)
		return r;
	if (parse_ulong(v, 10, numvfs) < 0)
		return -EBADMSG;
	*autoprobe = arel && ka_read(ka, arel, &a) == 0 ? !streq(a, "0") : -1;
	return 0;
}

/* ---- checks ---- */

void preflight_sriov_capable(const struct sriov_pf *pf, struct refusals *out)
{
	const char *a = pf->address;
	if (!pf->is_pf)
		refusals_refuse_hard(out, "sriov-unsupported", a, NULL,
				     "%s is not an SR-IOV physical function (no sriov_totalvfs and sriov_numvfs)", a);
	else if (pf->total == 0)
		refusals_refuse_hard(out, "sriov-unsupported", a, NULL,
				     "%s supports no VFs now (sriov_totalvfs 0: its driver or firmware allows none)", a);
	else if (!pf->numvfs_writable)
		refusals_refuse_hard(out, "sriov-unsupported", a, NULL, "%s: sriov_numvfs is not writable", a);
	else if (!pf->driver)
		/* sriov_numvfs_store(): "no driver bound to device; cannot configure SR-IOV" */
		refusals_refuse_hard(out, "sriov-unsupported", a, NULL,
				     "%s has no driver: the kernel changes VFs only through the PF's driver", a);
	else if (!driver_configures_sriov(pf->driver))
		refusals_refuse_hard(out, "sriov-unsupported", a, NULL,
				     "%s is on %s, which cannot change its VFs (no sriov_configure, or one user space "
				     "controls)",
				     a, pf->driver);
}

/* The processes holding VF vf through VFIO: its group's file, or its cdev (vfio-dev/vfioN). */
static void vf_holders(const struct ka *ka, const char *vf, const struct holders *h, struct refusals *out)
{
	_cleanup_free_ char *dir = lay_pci_device(vf);
	_cleanup_close_ int dfd = -1;
	if (!dir || ka_open_dir(ka, dir, &dfd) < 0)
		return;
	_cleanup_free_ char *g = NULL;
	unsigned long n = 0;
	bool grouped = ka_link_base_at(dfd, "iommu_group", &g) == 0 && parse_ulong(g, 10, &n) == 0;
	_cleanup_free_ char *gpath = grouped ? lay_vfio_group_path(n, false) : NULL;
	_cleanup_free_ char *npath = grouped ? lay_vfio_group_path(n, true) : NULL;
	_cleanup_free_ char *cdevs_rel = lay_pci_device_attr(vf, "vfio-dev");
	struct strv cdevs = { 0 };
	ka_list_dir(ka, cdevs_rel, &cdevs);
	for (size_t i = 0; i < h->n; i++) {
		const char *p = h->v[i].path, *x = lay_vfio_cdev_name(p);
		if ((gpath && (streq(p, gpath) || streq(p, npath))) || (x && strv_contains(&cdevs, x)))
			refusals_refuse_hard(out, "vfs-in-use", vf, "the kernel would block until the process lets go",
					     "process %ld (%s) holds %s open (VF %s)", h->v[i].pid,
					     *h->v[i].comm ? h->v[i].comm : "?", p, vf);
	}
	strv_free(&cdevs);
}

void preflight_vfs_removal(const struct ka *ka, const struct sriov_pf *pf, const struct strv *force,
			   struct preflight_inputs *in, struct refusals *out)
{
	if (pf->vfs.n == 0)
		return;
	preflight_need_holders(ka, in);
	if (in->holders.unreadable)
		refusals_refuse_hard(out, "cannot-verify", pf->address, "vfs-in-use cannot be forced: the kernel would block",
				     "%s: cannot check whether a process holds its VFs (vfs-in-use): %s cannot be read",
				     pf->address, in->holders.unreadable);
	for (size_t i = 0; i < pf->vfs.n; i++) {
		const char *vf = pf->vfs.v[i];
		if (!in->holders.unreadable)
			vf_holders(ka, vf, &in->holders, out);
		struct binding b;
		if (model_read_binding(ka, vf, &b) < 0)
			continue;
		if (b.driver && driver_role(b.driver, false) == ROLE_USER)
			refusals_refuse_hard(out, "vfs-bound", vf, "release its group first",
					     "VF %s is on %s: removing the VFs would take it from user space", vf, b.driver);
		else if (b.driver)
			refusals_refuse(out, force, "vfs-bound", vf, "VF %s is on %s: removing the VFs unbinds it", vf,
					b.driver);
		binding_clear(&b);
	}
}

/* The group of the device at address, from its link; false when it is in none. */
static bool group_of(const struct ka *ka, const char *address, unsigned long *ret)
{
	_cleanup_free_ char *dir = lay_pci_device(address);
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *g = NULL;
	return dir && ka_open_dir(ka, dir, &dfd) == 0 && ka_link_base_at(dfd, "iommu_group", &g) == 0 &&
	       parse_ulong(g, 10, ret) == 0;
}

/*
 * pci_device_group() gives a VF the group of the first bridge above it
 * without an ACS path: when the PF shares its group with its upstream
 * bridge, its VFs land in that group too.
 */
static void check_vf_groups(const struct ka *ka, const struct sriov_pf *pf, struct refusals *out)
{
	_cleanup_free_ char *path = NULL;
	unsigned long pg, bg;
	if (ka_device_path(ka, pf->address, &path) < 0 || !group_of(ka, pf->address, &pg))
		return;
	char *slash = strrchr(path, '/');
	*slash = '\0';
	const char *bridge = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct pci_addr a;
	if (pci_addr_parse(bridge, &a) == 0 && group_of(ka, bridge, &bg) && bg == pg)
		refusals_refuse_hard(out, "vf-group-shared", pf->address, NULL,
				     "%s shares group %lu with its upstream bridge %s (no ACS isolation): its VFs would "
				     "land there too, and claiming them would take the PF",
				     pf->address, pg, bridge);
}

void preflight_vfs(const struct ka *ka, const struct sriov_pf *pf, const struct vfs_request *req,
		   const struct strv *force, struct preflight_inputs *in, struct refusals *out)
{
	preflight_sriov_capable(pf, out);
	if (!pf->is_pf)
		return;
	if (req->count > pf->total)
		refusals_refuse_hard(out, "vfs-range", pf->address, NULL, "%s supports at most %lu VFs (sriov_totalvfs), not %lu",
				     pf->address, pf->total, req->count);
	if (pf->numvfs && req->count && req->count != pf->numvfs && !req->replace)
		refusals_refuse_hard(out, "vfs-replace", pf->address, "--replace allows it",
				     "%s has %lu VFs: the kernel goes to %lu only through 0, destroying them", pf->address,
				     pf->numvfs, req->count);
	if (pf->numvfs && req->count != pf->numvfs && (req->count == 0 || req->replace))
		preflight_vfs_removal(ka, pf, force, in, out);
	if (req->claim && req->count > 0)
		check_vf_groups(ka, pf, out);
}

/* ---- the VFs' groups ---- */

static bool planned(const struct txn *t, unsigned long group)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->plans[i].group == group)
			return true;
	return false;
}

int sriov_claim_vf_groups(const struct ka *ka, struct txn *t, const struct strv *vfs, const char *driver, bool created,
			  const struct strv *force, struct preflight_inputs *in)
{
	for (size_t k = 0; k < vfs->n; k++) {
		_cleanup_(model_freep) struct system *sys = NULL;
		if (model_load_group(ka, AUDIT_MODEL_FLAGS | MODEL_IDS, vfs->v[k], &sys) < 0) {
			free(t->error);
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
		preflight_claim(ka, g, driver, force, in, &p->refusals);
	}
	return 0;
}

bool sriov_vfs_owned(const struct ka *ka, const struct strv *vfs, const char *driver)
{
	for (size_t i = 0; i < vfs->n; i++) {
		struct binding b;
		if (model_read_binding(ka, vfs->v[i], &b) < 0)
			return false;
		bool mine = b.driver && b.override && streq(b.driver, driver) && streq(b.override, driver);
		binding_clear(&b);
		if (!mine)
			return false;
	}
	return true;
}

char *sriov_pf_of(const struct ka *ka, const char *vf)
{
	_cleanup_free_ char *rel = lay_pci_device_attr(vf, LAY_PHYSFN);
	_cleanup_free_ char *target = NULL;
	if (!rel || ka_readlink(ka, rel, &target) < 0)
		return NULL;
	const char *base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	struct pci_addr a;
	return pci_addr_parse(base, &a) == 0 ? xstrdup(base) : NULL;
}

/* ---- the steps' writes ---- */

static void add_count(struct txn *t, const char *pf, unsigned long n)
{
	char v[32];
	snprintf(v, sizeof(v), "%lu", n);
	txn_add_write(t, KA_NUMVFS, pf, NULL, v, false);
}

/* Through 0 when the count changes from some VFs to others (sriov_numvfs_store() refuses otherwise). */
static void add_counts(struct txn *t, const struct sriov_step *s)
{
	if (s->before && s->want && s->before != s->want)
		add_count(t, s->pf, 0);
	if (s->want != s->before)
		add_count(t, s->pf, s->want);
}

void sriov_plan_first(struct txn *t)
{
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct sriov_step *s = &t->steps[i];
		if (s->after)
			continue;
		if (s->autoprobe_off && s->autoprobe > 0)
			txn_add_write(t, KA_AUTOPROBE, s->pf, NULL, "0", false);
		add_counts(t, s);
	}
}

void sriov_plan_last(struct txn *t)
{
	for (size_t i = 0; i < t->nsteps; i++) {
		struct sriov_step *s = &t->steps[i];
		if (s->post_planned || (s->claim && !s->expanded && s->want > 0))
			continue;
		s->post_planned = true;
		if (s->after)
			add_counts(t, s);
		else if (s->autoprobe_off && s->autoprobe > 0)
			txn_add_write(t, KA_AUTOPROBE, s->pf, NULL, "1", false);
	}
}

bool sriov_needs_expansion(const struct txn *t)
{
	for (size_t i = 0; i < t->nsteps; i++)
		if (t->steps[i].claim && !t->steps[i].expanded && t->steps[i].want > 0)
			return true;
	return false;
}

bool sriov_verify(const struct ka *ka, struct txn *t)
{
	bool all = true;
	for (size_t i = 0; i < t->nsteps; i++) {
		struct sriov_step *s = &t->steps[i];
		int ap = -1;
		if (s->gone) {
			s->ok = true;
			continue;
		}
		s->ok = sriov_read_now(ka, s->pf, &s->now, &ap) == 0 && s->now == s->want &&
			(!s->autoprobe_off || s->autoprobe < 0 || ap == s->autoprobe);
		all &= s->ok;
		struct sriov_pf pf = { 0 };
		if (s->ok && s->want && sriov_pf_read(ka, s->pf, &pf) == 0) {
			/* The VFs as they are, for the report. */
			strv_free(&s->vfs);
			s->vfs = pf.vfs;
			memset(&pf.vfs, 0, sizeof(pf.vfs));
		}
		sriov_pf_clear(&pf);
	}
	return all;
}

/* ---- the journal ---- */

struct json_object *sriov_steps_json(const struct txn *t)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct sriov_step *s = &t->steps[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "pf", json_str(s->pf));
		json_object_object_add(o, "numvfs_before", json_object_new_uint64(s->before));
		json_object_object_add(o, "numvfs", json_object_new_uint64(s->want));
		json_object_object_add(o, "autoprobe_before", s->autoprobe < 0 ? NULL : json_object_new_int(s->autoprobe));
		json_object_object_add(o, "autoprobe_off", json_object_new_boolean(s->autoprobe_off));
		json_object_object_add(o, "after_devices", json_object_new_boolean(s->after));
		json_object_object_add(o, "claim", json_str(s->claim));
		json_object_array_add(arr, o);
	}
	return arr;
}

static bool get_count(struct json_object *o, const char *key, unsigned long *ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || json_object_get_int64(v) > 0xffff)
		return false;
	*ret = (unsigned long)json_object_get_int64(v);
	return true;
}

int sriov_steps_parse(struct json_object *arr, const char *where, struct txn *t)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		goto corrupt;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *v;
		const char *pf = json_member_str(o, "pf"), *claim = json_member_str(o, "claim");
		struct pci_addr a;
		unsigned long before, want;
		if (!pf || pci_addr_parse(pf, &a) < 0 || !get_count(o, "numvfs_before", &before) ||
		    !get_count(o, "numvfs", &want) || (claim && !driver_vfio_pci_name(claim)))
			goto corrupt;
		char canon[32];
		pci_addr_format(&a, canon, sizeof(canon));
		struct sriov_step *s = txn_add_step(t, canon, before, want);
		if (json_object_object_get_ex(o, "autoprobe_before", &v) && json_object_is_type(v, json_type_int))
			s->autoprobe = json_object_get_int(v) != 0;
		s->autoprobe_off = json_object_object_get_ex(o, "autoprobe_off", &v) && json_object_get_boolean(v);
		s->after = json_object_object_get_ex(o, "after_devices", &v) && json_object_get_boolean(v);
		s->claim = claim ? xstrdup(driver_vfio_pci_name(claim)) : NULL;
		s->expanded = s->post_planned = true; /* what it planned is in the journal */
	}
	return 0;
corrupt:
	log_error("%s: corrupt journal (its SR-IOV steps): inspect the devices, then remove it", where);
	return -EBADMSG;
}
