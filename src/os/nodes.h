/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device nodes VFIO gives a consumer, and who may open them: the
 * group's file /dev/vfio/N (noiommu-N), each device's /dev/vfio/devices/vfioX
 * (its cdev, with iommufd), and the nodes every consumer shares,
 * /dev/vfio/vfio and /dev/iommu. A hand-off changes the owner and mode of
 * a group's own nodes only. Names of users and groups resolve through the
 * root's etc/passwd and etc/group for a tree, through the system's
 * accounts (NSS) for the running system.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "os/kaccess.h"

/* A node's owner and permission bits. */
struct node_attr {
	uid_t uid;
	gid_t gid;
	mode_t mode; /* the permission bits (07777) */
};
/* The node at path ("/dev/vfio/12") under the root: -ENOENT when absent, not following a link. */
int ka_node_attr(const struct ka *ka, const char *path, struct node_attr *ret);
/* The values of KA_OWNER ("UID:GID") and KA_MODE (octal, permission bits only). */
char *node_owner_value(uid_t uid, gid_t gid);
char *node_mode_value(mode_t mode);
int node_parse_owner(const char *v, uid_t *uid, gid_t *gid);
int node_parse_mode(const char *v, mode_t *mode);
/*
 * The write w (KA_OWNER, KA_MODE) on the node w->device under the root,
 * which must be of type (S_IFCHR in a kernel's /dev, S_IFREG in a tree):
 * -EPERM for any other kind of file, -ENOENT when absent. A link is never
 * followed.
 */
int node_apply(const struct ka *ka, const struct ka_write *w, mode_t type);

/*
 * USER (or a number) to a user ID, with the user's login group; GROUP (or a
 * number) to a group ID. -ENOENT when there is no such name; -errno when
 * the accounts cannot be read.
 */
int ka_user_id(const struct ka *ka, const char *name, uid_t *uid, gid_t *login);
int ka_group_id(const struct ka *ka, const char *name, gid_t *gid);
/* The name of a user or group ID, or the number as text when it has none. */
char *ka_user_name(const struct ka *ka, uid_t uid);
char *ka_group_name(const struct ka *ka, gid_t gid);
