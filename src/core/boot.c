// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/boot.h"
#include "core/preflight.h"
#include "core/sriov.h"
#include "shared/escape.h"

void boot_result_free(struct boot_result *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].why);
		strv_free(&b->v[i].devices);
	}
	free(b->v);
	memset(b, 0, sizeof(*b));
}

static bool forces(const struct decl *e, const char *code)
{
	return strv_contains(&e->force, code);
}

/* Set d's override to driver unless it names it already (1: nothing written). */
static int override(struct ka *ka, const struct device *d, const char *driver, struct boot_result *out)
{
	if (d->driver_override && streq(d->driver_override, driver))
		return 1;
	struct ka_write w = { KA_OVERRIDE, d->name, NULL, driver };
	out->writes++;
	int r = ka_apply(ka, &w);
	if (r < 0) {
		out->failed++;
		log_error("setting driver_override of %s to %s failed: %s", d->name, driver, strerror(-r));
	}
	return r;
}

/* The override of a device read now (a VF the model of the run may not hold). */
static int override_at(struct ka *ka, const char *address, const char *driver, struct boot_result *out)
{
	struct binding b;
	int r = model_read_binding(ka, address, &b);
	if (r < 0)
		return r;
	bool set = b.override && streq(b.override, driver);
	binding_clear(&b);
	if (set)
		return 0;
	struct ka_write w = { KA_OVERRIDE, address, NULL, driver };
	out->writes++;
	r = ka_apply(ka, &w);
	if (r < 0) {
		out->failed++;
		log_error("setting driver_override of %s to %s failed: %s", address, driver, strerror(-r));
	}
	return r;
}

/*
 * An entry with vfs = N declares its PF's VFs: each VF there gets the
 * override (a VF appears when its PF's count is set: the udev rule's call
 * for it is the one that matters). The PF and its group are the host's;
 * apply makes the VFs.
 */
static void enforce_vfs(struct ka *ka, struct pcidb *db, const struct decl *e, const char *only, struct boot_entry *x,
			struct boot_result *out)
{
	_cleanup_(model_freep) struct system *pfsys = NULL;
	if (model_load_group(ka, MODEL_IDS | MODEL_OVERRIDE, e->address, &pfsys) < 0) {
		x->skipped = "drift";
		x->why = xasprintf("the PF %s declared in %s:%u cannot be read", e->address, e->file, e->line);
		return;
	}
	if (decl_judge(ka, pfsys, db, e, &x->why) != DECL_OK) {
		x->skipped = "drift";
		return;
	}
	struct sriov_pf pf;
	if (sriov_pf_read(ka, e->address, &pf) == 0)
		for (size_t i = 0; i < pf.vfs.n; i++)
			if ((!only || streq(only, pf.vfs.v[i])) && override_at(ka, pf.vfs.v[i], e->driver, out) == 0)
				strv_push(&x->devices, xstrdup(pf.vfs.v[i]));
	sriov_pf_clear(&pf);
}

static void enforce_entry(struct ka *ka, const struct system *sys, struct pcidb *db, const struct decl *e,
			  const char *only, struct boot_result *out)
{
	out->v = grow_array(out->v, &out->cap, out->n + 1, sizeof(*out->v));
	struct boot_entry *x = &out->v[out->n++];
	memset(x, 0, sizeof(*x));
	x->decl = e;
	if (e->vfs) {
		enforce_vfs(ka, db, e, only, x, out);
		return;
	}
	/* The serial too: another card of the same model in the slot must stay the host's. */
	if (decl_judge(ka, sys, db, e, &x->why) != DECL_OK) {
		x->skipped = "drift";
		return;
	}
	struct pci_addr a;
	pci_addr_parse(e->address, &a);
	const struct group *g = model_find_device(sys, &a)->group;
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i]->boot_vga == 1 && !forces(e, "boot-vga")) {
			x->skipped = "boot-vga";
			x->why = xasprintf("%s drives the boot console: an entry claims it at boot only with force = boot-vga",
					   g->devices[i]->name);
			return;
		}
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (!d->is_pci || move_skip_reason(d) != SKIP_NONE || (only && !streq(only, d->name)))
			continue;
		if (override(ka, d, e->driver, out) == 0)
			strv_push(&x->devices, xstrdup(d->name));
	}
}

static const struct group *entry_group(const struct system *sys, const struct decl *e)
{
	struct pci_addr a;
	const struct device *d = pci_addr_parse(e->address, &a) == 0 ? model_find_device(sys, &a) : NULL;
	return d ? d->group : NULL;
}

/* Another entry declares e's group for another driver: neither is enforced, as apply refuses both. */
static const struct decl *conflicting(const struct system *sys, const struct decls *ds, const struct decl *e)
{
	const struct group *g = e->vfs ? NULL : entry_group(sys, e);
	for (size_t i = 0; g && i < ds->n; i++) {
		const struct decl *o = &ds->v[i];
		if (o != e && !o->masked && !o->vfs && entry_group(sys, o) == g && !streq(o->driver, e->driver))
			return o;
	}
	return NULL;
}

int boot_enforce(struct ka *ka, const struct system *sys, struct pcidb *db, const struct decls *ds, const char *only,
		 struct boot_result *out)
{
	for (size_t i = 0; i < ds->n; i++) {
		const struct decl *e = &ds->v[i];
		if (e->masked)
			continue;
		if (only && e->vfs) {
			/* A VF that appears: its PF's entry. */
			_cleanup_free_ char *pf = sriov_pf_of(ka, only);
			if (!pf || !streq(pf, e->address))
				continue;
		} else if (only) {
			/* A hotplug event: only the entry whose group holds this device. */
			struct pci_addr a, b;
			const struct device *d = pci_addr_parse(only, &a) == 0 ? model_find_device(sys, &a) : NULL;
			const struct device *de = pci_addr_parse(e->address, &b) == 0 ? model_find_device(sys, &b) : NULL;
			if (!d || !de || (d != de && (!d->group || d->group != de->group)))
				continue;
		}
		const struct decl *other = conflicting(sys, ds, e);
		if (other) {
			out->v = grow_array(out->v, &out->cap, out->n + 1, sizeof(*out->v));
			struct boot_entry *x = &out->v[out->n++];
			memset(x, 0, sizeof(*x));
			x->decl = e;
			x->skipped = "declaration-conflict";
			x->why = xasprintf("%s:%u declares the same group for %s", other->file, other->line, other->driver);
			continue;
		}
		enforce_entry(ka, sys, db, e, only, out);
	}
	return out->failed ? -EIO : 0;
}

struct json_object *boot_record(const struct boot_result *b, bool off)
{
	struct json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(doc, "format", json_str("iommu-own-boot"));
	json_object_object_add(doc, "version", json_object_new_int(1));
	json_object_object_add(doc, "off", json_object_new_boolean(off));
	for (size_t i = 0; i < b->n; i++) {
		const struct boot_entry *x = &b->v[i];
		struct json_object *o = json_object_new_object(), *devs = json_object_new_array();
		char id[16];
		snprintf(id, sizeof(id), "%04x:%04x", x->decl->vendor, x->decl->device);
		json_object_object_add(o, "device", json_str(x->decl->address));
		json_object_object_add(o, "id", json_str(id));
		json_object_object_add(o, "driver", json_str(x->decl->driver));
		json_object_object_add(o, "skipped", json_str(x->skipped));
		for (size_t k = 0; k < x->devices.n; k++)
			json_object_array_add(devs, json_str(x->devices.v[k]));
		json_object_object_add(o, "overridden", devs);
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "declarations", arr);
	return doc;
}
