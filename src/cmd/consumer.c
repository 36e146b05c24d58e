// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "cmd/consumer.h"
#include "shared/escape.h"

struct json_object *consumer_json(const struct ka *ka, long group, const struct consumer *c)
{
	struct json_object *o = json_object_new_object(), *nodes = json_object_new_array();
	if (group >= 0)
		json_object_object_add(o, "group", json_object_new_uint64((unsigned long)group));
	json_object_object_add(o, "interface", json_str(consumer_interface(c)));
	for (size_t i = 0; i < c->nodes.n; i++)
		json_object_array_add(nodes, json_str(c->nodes.v[i]));
	json_object_object_add(o, "nodes", nodes);
	_cleanup_free_ char *u = c->has_attr ? ka_user_name(ka, c->attr.uid) : NULL;
	_cleanup_free_ char *g = c->has_attr ? ka_group_name(ka, c->attr.gid) : NULL;
	_cleanup_free_ char *m = consumer_mode_text(c);
	json_object_object_add(o, "owner", json_str(u));
	json_object_object_add(o, "owner_group", json_str(g));
	json_object_object_add(o, "mode", json_str(m));
	struct json_object *users = c->users_known ? json_object_new_array() : NULL;
	for (size_t i = 0; users && i < c->users.n; i++) {
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "pid", json_object_new_int64(c->users.v[i].pid));
		json_object_object_add(x, "command", json_str(c->users.v[i].comm));
		json_object_object_add(x, "node", json_str(c->users.v[i].path));
		json_object_array_add(users, x);
	}
	json_object_object_add(o, "users", users);
	return o;
}

char *consumer_owner_text(const struct ka *ka, const struct consumer *c)
{
	if (!c->has_attr)
		return NULL;
	_cleanup_free_ char *u = ka_user_name(ka, c->attr.uid), *g = ka_group_name(ka, c->attr.gid);
	return xasprintf("%s:%s", u, g);
}

char *consumer_mode_text(const struct consumer *c)
{
	return c->has_attr ? node_mode_value(c->attr.mode) : NULL;
}
