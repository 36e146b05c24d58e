// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/handoff.h"
#include "core/record.h"
#include "os/drivers.h"
#include "shared/escape.h"

#define FORMAT_VERSION 1

const char *json_member_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool safe_name(const char *s)
{
	return !s || path_component_ok(s);
}

char *record_name(unsigned long group)
{
	return xasprintf("group-%lu.json", group);
}

struct json_object *record_read(struct state *st, unsigned long group, const char *otherwise)
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
	const char *fmt = json_member_str(r, "format");
	if (!fmt || !streq(fmt, RECORD_FORMAT)) {
		log_warning("ignoring %s/%s (not an iommu-own record): %s", st->path, name, otherwise);
		json_object_put(r);
		return NULL;
	}
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct record_entry *)a)->address, ((const struct record_entry *)b)->address);
}

void record_index_build(struct json_object *record, struct record_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	struct json_object *devs;
	if (!record || !json_object_object_get_ex(record, "devices", &devs) || !json_object_is_type(devs, json_type_array))
		return;
	size_t n = json_object_array_length(devs);
	ix->v = xcalloc(n ? n : 1, sizeof(*ix->v));
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);
		const char *a = json_member_str(d, "address");
		if (a)
			ix->v[ix->n++] = (struct record_entry){ a, d };
	}
	sort_array(ix->v, ix->n, sizeof(*ix->v), entry_cmp);
}

struct json_object *record_index_find(const struct record_index *ix, const char *address)
{
	struct record_entry key = { address, NULL };
	struct record_entry *e = ix->n ? bsearch(&key, ix->v, ix->n, sizeof(*ix->v), entry_cmp) : NULL;
	return e ? e->o : NULL;
}

void record_index_free(struct record_index *ix)
{
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}

static struct json_object *record_entry(const struct mdev *m)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "address", json_str(m->address));
	json_object_object_add(d, "driver", json_str(m->before.driver));
	json_object_object_add(d, "driver_override", json_str(m->before.override));
	json_object_object_add(d, "module", json_str(m->module));
	if (m->nets.n || m->blocks.n) {
		struct json_object *nets = json_object_new_array(), *blocks = json_object_new_array();
		for (size_t i = 0; i < m->nets.n; i++)
			json_object_array_add(nets, json_str(m->nets.v[i]));
		for (size_t i = 0; i < m->blocks.n; i++)
			json_object_array_add(blocks, json_str(m->blocks.v[i]));
		json_object_object_add(d, "netdevs", nets);
		json_object_object_add(d, "blockdevs", blocks);
	}
	/* A PF whose VFs the claim removed (--remove-vfs): release creates them again. */
	if (m->vfs_restore)
		json_object_object_add(d, "numvfs", json_object_new_uint64(m->vfs_restore));
	return d;
}

unsigned long record_numvfs(struct json_object *entry)
{
	struct json_object *v;
	if (!entry || !json_object_object_get_ex(entry, "numvfs", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0 || json_object_get_int64(v) > 0xffff)
		return 0;
	return (unsigned long)json_object_get_int64(v);
}

struct json_object *record_build(struct json_object *prev, const struct plan *p)
{
	const char *prev_driver = json_member_str(prev, "driver");
	struct record_index ix;
	record_index_build(prev, &ix);
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "format", json_str(RECORD_FORMAT));
	json_object_object_add(r, "version", json_object_new_int(FORMAT_VERSION));
	json_object_object_add(r, "group", json_object_new_uint64(p->group));
	json_object_object_add(r, "driver", json_str(p->driver));
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct mdev *m = &p->devs[i];
		struct json_object *old = record_index_find(&ix, m->address);
		const char *was = m->before.driver;
		bool was_vfio = was && (driver_role(was, false) == ROLE_USER || (prev_driver && streq(was, prev_driver)));
		if (old && (!m->moves || was_vfio))
			json_object_array_add(devs, json_object_get(old));
		else if (m->moves)
			json_object_array_add(devs, record_entry(m));
	}
	json_object_object_add(r, "devices", devs);
	/* The hand-off of the group's nodes, which release gives back; a claim without one keeps the earlier. */
	struct json_object *owner = handoff_record(p), *old_owner = NULL, *old_before = NULL;
	bool had = prev && json_object_object_get_ex(prev, "owner", &old_owner);
	if (!owner && had)
		owner = json_object_get(old_owner);
	/* A hand-off again: what the nodes were before the first is what release gives back. */
	else if (owner && had && json_object_object_get_ex(old_owner, "before", &old_before))
		json_object_object_add(owner, "before", json_object_get(old_before));
	if (owner)
		json_object_object_add(r, "owner", owner);
	record_index_free(&ix);
	return r;
}

/* Whether a record's device entry lists name under key ("netdevs", "blockdevs"). */
static bool entry_names(struct json_object *dev, const char *key, const char *name)
{
	struct json_object *arr;
	if (!json_object_object_get_ex(dev, key, &arr) || !json_object_is_type(arr, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		if (json_object_is_type(v, json_type_string) && streq(json_object_get_string(v), name))
			return true;
	}
	return false;
}

char *record_find_name(struct state *st, const char *key, const char *name)
{
	struct strv files = { 0 };
	char *found = NULL;
	if (!st || state_list(st, &files) < 0)
		return NULL;
	for (size_t i = 0; i < files.n && !found; i++) {
		unsigned long g;
		char tail[8];
		if (sscanf(files.v[i], "group-%lu.%7s", &g, tail) != 2 || !streq(tail, "json"))
			continue;
		struct json_object *r = record_read(st, g, "it is not searched"), *devs;
		if (r && json_object_object_get_ex(r, "devices", &devs) && json_object_is_type(devs, json_type_array))
			for (size_t k = 0; k < json_object_array_length(devs) && !found; k++) {
				struct json_object *d = json_object_array_get_idx(devs, k);
				const char *addr = json_member_str(d, "address");
				if (addr && entry_names(d, key, name))
					found = xstrdup(addr);
			}
		json_object_put(r);
	}
	strv_free(&files);
	return found;
}
