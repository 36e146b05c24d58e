// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/handoff.h"
#include "core/record.h"
#include "os/layout.h"
#include "shared/escape.h"

/* ---- the nodes of a group ---- */

static bool group_is_noiommu(const struct ka *ka, unsigned long group)
{
	_cleanup_free_ char *rel = lay_group_attr(group, "name");
	_cleanup_free_ char *name = NULL;
	return rel && ka_read(ka, rel, &name) == 0 && streq(name, "vfio-noiommu");
}

/* The cdev node paths of a device on VFIO (vfio-dev/vfioX), present or not. */
static void cdev_paths(const struct ka *ka, const char *address, struct strv *ret)
{
	_cleanup_free_ char *rel = lay_pci_device_attr(address, "vfio-dev");
	struct strv names = { 0 };
	if (rel && ka_list_dir(ka, rel, &names) == 0)
		for (size_t i = 0; i < names.n; i++) {
			char *p = lay_vfio_cdev_path(names.v[i]);
			if (p)
				strv_push(ret, p);
		}
	strv_free(&names);
}

void consumer_users(struct consumer *c, const struct holders *all)
{
	c->users_known = all && !all->unreadable;
	for (size_t i = 0; all && i < all->n; i++) {
		if (!lay_vfio_node_rel(all->v[i].path) || !strv_contains(&c->nodes, all->v[i].path))
			continue;
		c->users.v = grow_array(c->users.v, &c->users.cap, c->users.n + 1, sizeof(*c->users.v));
		c->users.v[c->users.n++] = (struct holder){ all->v[i].pid, xstrdup(all->v[i].comm), xstrdup(all->v[i].path) };
	}
}

void consumer_clear(struct consumer *c)
{
	holders_free(&c->users);
	strv_free(&c->nodes);
	memset(c, 0, sizeof(*c));
}

/* The group's node and the shared ones, whichever of them are present. */
static void read_group_node(const struct ka *ka, unsigned long group, bool noiommu, struct consumer *ret)
{
	struct node_attr a;
	_cleanup_free_ char *gpath = lay_vfio_group_path(group, noiommu);
	if (ka_node_attr(ka, gpath, &a) < 0)
		return;
	ret->group_if = true;
	ret->has_attr = true;
	ret->attr = a;
	if (ka_node_attr(ka, "/" LAY_DEV_VFIO_CONTAINER, &a) == 0)
		strv_push(&ret->nodes, xstrdup("/" LAY_DEV_VFIO_CONTAINER));
	strv_push(&ret->nodes, xstrdup(gpath));
}

/* The cdev nodes (paths) present, and /dev/iommu when one is. */
static void read_cdev_nodes(const struct ka *ka, const struct strv *paths, struct consumer *ret)
{
	struct node_attr a;
	for (size_t k = 0; k < paths->n; k++) {
		if (ka_node_attr(ka, paths->v[k], &a) < 0)
			continue;
		ret->cdev_if = true;
		if (!ret->has_attr) {
			ret->has_attr = true;
			ret->attr = a;
		}
		strv_push(&ret->nodes, xstrdup(paths->v[k]));
	}
}

static void read_iommu_node(const struct ka *ka, struct consumer *ret)
{
	struct node_attr a;
	if (ret->cdev_if && ka_node_attr(ka, "/" LAY_DEV_IOMMU, &a) == 0)
		strv_push(&ret->nodes, xstrdup("/" LAY_DEV_IOMMU));
}

/*
 * The group's own node: the kernel names it "noiommu-N" for a no-IOMMU
 * group, else "N" (vfio_group_alloc()), never both. The group's name says
 * which when the model read it (no-IOMMU mode on); else a node "N" present
 * says the group is not one, and its name need not be read.
 */
static void read_own_group_node(const struct ka *ka, const struct group *g, struct consumer *ret)
{
	if (g->name) {
		read_group_node(ka, g->number, streq(g->name, "vfio-noiommu"), ret);
		return;
	}
	read_group_node(ka, g->number, false, ret);
	if (!ret->group_if && group_is_noiommu(ka, g->number))
		read_group_node(ka, g->number, true, ret);
}

void consumer_read(const struct ka *ka, const struct group *g, struct consumer *ret)
{
	/* Only a device on VFIO has nodes: the other groups cost no system call (list --json on thousands). */
	memset(ret, 0, sizeof(*ret));
	struct strv addrs = { 0 }, paths = { 0 };
	bool from_model = true;
	for (size_t i = 0; i < g->ndevices; i++) {
		const struct device *d = g->devices[i];
		if (!d->is_pci || d->role != ROLE_USER)
			continue;
		strv_push(&addrs, xstrdup(d->name));
		from_model &= d->has_cdevs;
		for (size_t k = 0; d->has_cdevs && k < d->cdevs.n; k++) {
			char *p = lay_vfio_cdev_path(d->cdevs.v[k]);
			if (p)
				strv_push(&paths, p);
		}
	}
	if (addrs.n && !from_model) {
		consumer_read_devices(ka, g->number, group_is_noiommu(ka, g->number), &addrs, ret);
	} else if (addrs.n) {
		read_own_group_node(ka, g, ret);
		read_cdev_nodes(ka, &paths, ret);
		read_iommu_node(ka, ret);
	}
	strv_free(&addrs);
	strv_free(&paths);
}

void consumer_read_devices(const struct ka *ka, unsigned long group, bool noiommu, const struct strv *addrs,
			   struct consumer *ret)
{
	memset(ret, 0, sizeof(*ret));
	read_group_node(ka, group, noiommu, ret);
	for (size_t i = 0; i < addrs->n; i++) {
		struct strv paths = { 0 };
		cdev_paths(ka, addrs->v[i], &paths);
		read_cdev_nodes(ka, &paths, ret);
		strv_free(&paths);
	}
	read_iommu_node(ka, ret);
}

const char *consumer_interface(const struct consumer *c)
{
	return c->group_if && c->cdev_if ? "both" : c->group_if ? "group" : c->cdev_if ? "cdev" : NULL;
}

void consumer_read_plan(const struct ka *ka, const struct plan *p, struct consumer *ret)
{
	struct strv addrs = { 0 };
	for (size_t i = 0; i < p->n; i++)
		strv_push(&addrs, xstrdup(p->devs[i].address));
	consumer_read_devices(ka, p->now, group_is_noiommu(ka, p->now), &addrs, ret);
	strv_free(&addrs);
}

/* ---- who ---- */

static char *accounts_where(const struct ka *ka, const char *file)
{
	return streq(ka_root(ka), "/") ? xstrdup("this system's accounts") : ka_path(ka, file);
}

int owner_spec_parse(const struct ka *ka, const char *owner, const char *mode, struct owner_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	if (owner) {
		_cleanup_free_ char *user = xstrdup(owner);
		char *group = strchr(user, ':');
		if (group)
			*group++ = '\0';
		gid_t login = (gid_t)-1;
		int r = *user ? ka_user_id(ka, user, &spec->uid, &login) : 0;
		if (r < 0) {
			_cleanup_free_ char *where = accounts_where(ka, LAY_PASSWD);
			log_error("owner %s: no user '%s' in %s%s%s", owner, user, where, r == -ENOENT ? "" : ": ",
				  r == -ENOENT ? "" : ka_strerror(r));
			return -EINVAL;
		}
		spec->uid_set = *user != '\0';
		if (group && *group) {
			if ((r = ka_group_id(ka, group, &spec->gid)) < 0) {
				_cleanup_free_ char *where = accounts_where(ka, LAY_GROUP_FILE);
				log_error("owner %s: no group '%s' in %s%s%s", owner, group, where, r == -ENOENT ? "" : ": ",
					  r == -ENOENT ? "" : ka_strerror(r));
				return -EINVAL;
			}
			spec->gid_set = true;
		} else if (group && login != (gid_t)-1) {
			/* USER: as chown(1) takes it, the user's login group */
			spec->gid = login;
			spec->gid_set = true;
		}
		if (!spec->uid_set && !spec->gid_set) {
			log_error("owner '%s': expected USER, USER:GROUP or :GROUP (names or numbers)", owner);
			return -EINVAL;
		}
	}
	if (mode) {
		if (node_parse_mode(mode, &spec->mode) < 0) {
			log_error("mode '%s': expected octal permission bits, 0600 to 0666 (0660)", mode);
			return -EINVAL;
		}
		spec->mode_set = true;
	}
	spec->set = spec->uid_set || spec->gid_set || spec->mode_set;
	return 0;
}

bool handoff_group_matches(const struct ka *ka, const struct group *g, const struct owner_spec *s)
{
	if (!s->set)
		return true;
	struct consumer c;
	consumer_read(ka, g, &c);
	bool all = true;
	for (size_t i = 0; i < c.nodes.n && all; i++) {
		struct node_attr a;
		if (!lay_vfio_node_rel(c.nodes.v[i]))
			continue; /* the shared nodes are nobody's to hand off */
		all = ka_node_attr(ka, c.nodes.v[i], &a) == 0 && (!s->uid_set || a.uid == s->uid) &&
		      (!s->gid_set || a.gid == s->gid) && (!s->mode_set || a.mode == s->mode);
	}
	consumer_clear(&c);
	return all;
}

/* ---- the node steps ---- */

static bool attr_eq(const struct node_attr *a, const struct node_attr *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->mode == b->mode;
}

static void add_writes(struct txn *t, const char *path, const struct node_attr *from, const struct node_attr *to,
		       bool rollback)
{
	if (from->uid != to->uid || from->gid != to->gid) {
		_cleanup_free_ char *v = node_owner_value(to->uid, to->gid);
		txn_add_write(t, KA_OWNER, path, NULL, v, rollback);
	}
	if (from->mode != to->mode) {
		_cleanup_free_ char *v = node_mode_value(to->mode);
		txn_add_write(t, KA_MODE, path, NULL, v, rollback);
	}
}

static struct node_step *add_step(struct txn *t, unsigned long group, const char *device, const char *path,
				  const struct node_attr *before, const struct node_attr *want, bool release)
{
	t->nodes = grow_array(t->nodes, &t->ncap, t->nnodes + 1, sizeof(*t->nodes));
	struct node_step *n = &t->nodes[t->nnodes++];
	*n = (struct node_step){ group, device ? xstrdup(device) : NULL, xstrdup(path), *before, *want, release, false };
	return n;
}

/* Each node of plan p there now, through fn(device or NULL for the group's file, path, attr). */
static void each_node(const struct ka *ka, const struct plan *p, void (*fn)(void *, const char *, const char *,
									    const struct node_attr *),
		      void *ctx)
{
	struct node_attr a;
	_cleanup_free_ char *gpath = lay_vfio_group_path(p->now, group_is_noiommu(ka, p->now));
	if (ka_node_attr(ka, gpath, &a) == 0)
		fn(ctx, NULL, gpath, &a);
	for (size_t i = 0; i < p->n; i++) {
		struct strv paths = { 0 };
		cdev_paths(ka, p->devs[i].address, &paths);
		for (size_t k = 0; k < paths.n; k++)
			if (ka_node_attr(ka, paths.v[k], &a) == 0)
				fn(ctx, p->devs[i].address, paths.v[k], &a);
		strv_free(&paths);
	}
}

struct plan_ctx {
	struct txn *t;
	struct plan *p;
	struct node_attr record; /* release: what the record says the nodes were */
};

static void claim_node(void *ctx, const char *device, const char *path, const struct node_attr *now)
{
	struct plan_ctx *c = ctx;
	const struct owner_spec *s = &c->p->owner;
	struct node_attr want = *now;
	if (s->uid_set)
		want.uid = s->uid;
	if (s->gid_set)
		want.gid = s->gid;
	if (s->mode_set)
		want.mode = s->mode;
	if (!device) {
		c->p->node_before = *now;
		c->p->has_node_before = true;
	}
	if (attr_eq(now, &want))
		return;
	add_step(c->t, c->p->group, device, path, now, &want, false);
	add_writes(c->t, path, now, &want, false);
}

void handoff_plan_claims(const struct ka *ka, struct txn *t, bool only_unmoved)
{
	for (size_t i = 0; i < t->n; i++) {
		struct plan *p = &t->plans[i];
		if (p->kind != MOVE_CLAIM || !p->owner.set || p->nodes_planned)
			continue;
		bool moves = false;
		for (size_t k = 0; k < p->n; k++)
			moves |= p->devs[k].moves;
		if (only_unmoved && moves)
			continue;
		struct plan_ctx c = { t, p, { 0 } };
		each_node(ka, p, claim_node, &c);
		p->nodes_planned = true;
	}
}

bool handoff_pending(const struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->plans[i].kind == MOVE_CLAIM && t->plans[i].owner.set && !t->plans[i].nodes_planned)
			return true;
	return false;
}

static bool attr_from_json(struct json_object *o, struct node_attr *a)
{
	struct json_object *u, *g, *m;
	if (!o || !json_object_object_get_ex(o, "uid", &u) || !json_object_object_get_ex(o, "gid", &g) ||
	    !json_object_object_get_ex(o, "mode", &m) || !json_object_is_type(u, json_type_int) ||
	    !json_object_is_type(g, json_type_int) || !json_object_is_type(m, json_type_int) || json_object_get_int64(u) < 0 ||
	    json_object_get_int64(g) < 0 || json_object_get_int64(m) < 0 || json_object_get_int64(m) > 07777 ||
	    json_object_get_int64(u) >= (uid_t)-1 || json_object_get_int64(g) >= (gid_t)-1)
		return false;
	*a = (struct node_attr){ (uid_t)json_object_get_int64(u), (gid_t)json_object_get_int64(g),
				 (mode_t)json_object_get_int64(m) };
	return true;
}

static struct json_object *attr_json(const struct node_attr *a)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "uid", json_object_new_uint64(a->uid));
	json_object_object_add(o, "gid", json_object_new_uint64(a->gid));
	json_object_object_add(o, "mode", json_object_new_int((int)a->mode));
	return o;
}

static void release_node(void *ctx, const char *device, const char *path, const struct node_attr *now)
{
	struct plan_ctx *c = ctx;
	if (!attr_eq(now, &c->record))
		add_step(c->t, c->p->group, device, path, now, &c->record, true);
}

void handoff_plan_release(const struct ka *ka, struct txn *t, struct plan *p, struct json_object *record)
{
	struct json_object *owner = NULL, *before = NULL;
	struct plan_ctx c = { t, p, { 0 } };
	if (!record || !json_object_object_get_ex(record, "owner", &owner) ||
	    !json_object_object_get_ex(owner, "before", &before) || !attr_from_json(before, &c.record))
		return;
	each_node(ka, p, release_node, &c);
}

void handoff_plan_first(struct txn *t)
{
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i].release)
			add_writes(t, t->nodes[i].path, &t->nodes[i].before, &t->nodes[i].want, false);
}

bool handoff_verify(const struct ka *ka, struct txn *t)
{
	bool all = true;
	for (size_t i = 0; i < t->nnodes; i++) {
		struct node_step *n = &t->nodes[i];
		struct node_attr a;
		int r = ka_node_attr(ka, n->path, &a);
		n->ok = r == -ENOENT ? n->release : r == 0 && attr_eq(&a, &n->want);
		all &= n->ok;
	}
	return all;
}

/* The node of step n now: the group's file, or the device's cdev (renumbered when it was bound again). */
static char *node_now(const struct ka *ka, const struct node_step *n)
{
	if (!n->device)
		return xstrdup(n->path);
	struct strv paths = { 0 };
	cdev_paths(ka, n->device, &paths);
	char *p = paths.n ? xstrdup(paths.v[0]) : NULL;
	strv_free(&paths);
	return p;
}

bool handoff_rollback(struct ka *ka, struct txn *t, int (*write)(struct ka *, struct txn *, enum ka_op, const char *,
								  const char *))
{
	bool all = true;
	for (size_t i = t->nnodes; i-- > 0;) {
		struct node_step *n = &t->nodes[i];
		_cleanup_free_ char *path = node_now(ka, n);
		struct node_attr a;
		int r = path ? ka_node_attr(ka, path, &a) : -ENOENT;
		if (r == 0 && (a.uid != n->before.uid || a.gid != n->before.gid)) {
			_cleanup_free_ char *v = node_owner_value(n->before.uid, n->before.gid);
			write(ka, t, KA_OWNER, path, v);
		}
		if (r == 0 && a.mode != n->before.mode) {
			_cleanup_free_ char *v = node_mode_value(n->before.mode);
			write(ka, t, KA_MODE, path, v);
		}
		if (r == 0)
			r = ka_node_attr(ka, path, &a);
		/* A node gone went with its device: there is nothing left to give back. */
		n->ok = r == -ENOENT || (r == 0 && attr_eq(&a, &n->before));
		all &= n->ok;
	}
	return all;
}

/* ---- journal and record ---- */

struct json_object *handoff_json(const struct txn *t)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct node_step *n = &t->nodes[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "group", json_object_new_uint64(n->group));
		json_object_object_add(o, "device", json_str(n->device));
		json_object_object_add(o, "path", json_str(n->path));
		json_object_object_add(o, "before", attr_json(&n->before));
		json_object_object_add(o, "want", attr_json(&n->want));
		json_object_object_add(o, "release", json_object_new_boolean(n->release));
		json_object_array_add(arr, o);
	}
	return arr;
}

int handoff_parse(struct json_object *arr, const char *where, struct txn *t)
{
	if (!arr)
		return 0;
	for (size_t i = 0; json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *g, *b, *w, *rel;
		const char *dev = json_member_str(o, "device"), *path = json_member_str(o, "path");
		struct node_attr before, want;
		struct pci_addr a;
		if (!path || !lay_vfio_node_rel(path) || (dev && pci_addr_parse(dev, &a) < 0) ||
		    !json_object_object_get_ex(o, "group", &g) || !json_object_is_type(g, json_type_int) ||
		    json_object_get_int64(g) < 0 || !json_object_object_get_ex(o, "before", &b) || !attr_from_json(b, &before) ||
		    !json_object_object_get_ex(o, "want", &w) || !attr_from_json(w, &want))
			goto corrupt;
		bool release = json_object_object_get_ex(o, "release", &rel) && json_object_get_boolean(rel);
		struct node_step *n = add_step(t, (unsigned long)json_object_get_int64(g), dev, path, &before, &want, release);
		/* The group's file before a claim's hand-off: what the record a finished claim leaves gives back. */
		for (size_t k = 0; !dev && !release && k < t->n; k++)
			if (t->plans[k].group == n->group && t->plans[k].kind == MOVE_CLAIM) {
				t->plans[k].node_before = before;
				t->plans[k].has_node_before = true;
			}
	}
	if (json_object_is_type(arr, json_type_array))
		return 0;
corrupt:
	log_error("%s: corrupt journal (its node hand-offs): inspect the devices, then remove it", where);
	return -EBADMSG;
}

struct json_object *handoff_record(const struct plan *p)
{
	if (!p->owner.set || !p->has_node_before)
		return NULL;
	struct node_attr want = p->node_before;
	if (p->owner.uid_set)
		want.uid = p->owner.uid;
	if (p->owner.gid_set)
		want.gid = p->owner.gid;
	if (p->owner.mode_set)
		want.mode = p->owner.mode;
	struct json_object *o = attr_json(&want);
	json_object_object_add(o, "before", attr_json(&p->node_before));
	return o;
}
