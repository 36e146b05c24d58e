// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/layout.h"
#include "os/nodes.h"
#include "os/resolve.h"

#define ACCOUNTS_MAX (16 << 20)

int ka_node_attr(const struct ka *ka, const char *path, struct node_attr *ret)
{
	const char *rel = lay_vfio_node_rel(path);
	if (!rel && !streq(path, "/" LAY_DEV_VFIO_CONTAINER) && !streq(path, "/" LAY_DEV_IOMMU))
		return -EINVAL;
	struct stat st;
	int r = ka_stat(ka, rel ? rel : path + 1, &st);
	if (r < 0)
		return r;
	*ret = (struct node_attr){ st.st_uid, st.st_gid, st.st_mode & 07777 };
	return 0;
}

char *node_owner_value(uid_t uid, gid_t gid)
{
	return xasprintf("%u:%u", (unsigned)uid, (unsigned)gid);
}

char *node_mode_value(mode_t mode)
{
	return xasprintf("%04o", (unsigned)mode & 07777);
}

int node_parse_owner(const char *v, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	const char *colon = v ? strchr(v, ':') : NULL;
	if (!colon)
		return -EINVAL;
	_cleanup_free_ char *us = xstrndup(v, (size_t)(colon - v));
	if (parse_ulong(us, 10, &u) < 0 || parse_ulong(colon + 1, 10, &g) < 0 || u >= (uid_t)-1 || g >= (gid_t)-1)
		return -EINVAL;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

int node_parse_mode(const char *v, mode_t *mode)
{
	unsigned long m;
	/* Permission bits only: set-ID and sticky bits mean nothing on a device node. */
	if (parse_ulong(v, 8, &m) < 0 || m > 0777)
		return -EINVAL;
	*mode = (mode_t)m;
	return 0;
}

int node_apply(const struct ka *ka, const struct ka_write *w, mode_t type)
{
	const char *rel = lay_vfio_node_rel(w->device), *name;
	if (!rel)
		return -EINVAL;
	uid_t uid = 0;
	gid_t gid = 0;
	mode_t mode = 0;
	if ((w->op == KA_OWNER && node_parse_owner(w->value, &uid, &gid) < 0) ||
	    (w->op == KA_MODE && node_parse_mode(w->value, &mode) < 0))
		return -EINVAL;
	_cleanup_close_ int dfd = res_open_parent(ka_rootfd(ka), rel, 0, &name);
	if (dfd < 0)
		return dfd;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((st.st_mode & S_IFMT) != type)
		return -EPERM;
	/* Checked above not to be a link: neither call can be led anywhere else. */
	int r = w->op == KA_OWNER ? fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) : fchmodat(dfd, name, mode, 0);
	return r < 0 ? -errno : 0;
}

/* ---- accounts ---- */

/* Whether the accounts are the running system's own (NSS), not a tree's files. */
static bool host_accounts(const struct ka *ka)
{
	return streq(ka_root(ka), "/");
}

/* The line of an etc/passwd or etc/group whose field `field` (0: the name, 2: the ID) is key. */
static int find_entry(const struct ka *ka, const char *file, unsigned field, const char *key, char **fields, size_t n)
{
	_cleanup_free_ char *text = NULL;
	int r = ka_read_etc(ka, file, ACCOUNTS_MAX, &text);
	if (r < 0)
		return r;
	for (char *next = text, *line; (line = strsep(&next, "\n"));) {
		size_t k = 0;
		for (char *f, *rest = line; k < n && (f = strsep(&rest, ":")); k++)
			fields[k] = f;
		if (k == n && streq(fields[field], key)) {
			for (size_t i = 0; i < n; i++)
				fields[i] = xstrdup(fields[i]);
			return 0;
		}
	}
	return -ENOENT;
}

static void free_fields(char **fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(fields[i]);
}

static bool numeric(const char *s, unsigned long *v)
{
	return parse_ulong(s, 10, v) == 0 && *v < (uid_t)-1;
}

int ka_user_id(const struct ka *ka, const char *name, uid_t *uid, gid_t *login)
{
	unsigned long v, g;
	if (host_accounts(ka)) {
		struct passwd pw, *res = NULL;
		char buf[16384];
		int e = numeric(name, &v) ? getpwuid_r((uid_t)v, &pw, buf, sizeof(buf), &res)
					  : getpwnam_r(name, &pw, buf, sizeof(buf), &res);
		if (e)
			return -e;
		if (!res && numeric(name, &v)) {
			*uid = (uid_t)v; /* a number without an account: taken as it is */
			*login = (gid_t)-1;
			return 0;
		}
		if (!res)
			return -ENOENT;
		*uid = pw.pw_uid;
		*login = pw.pw_gid;
		return 0;
	}
	char *f[7] = { 0 };
	bool num = numeric(name, &v);
	int r = find_entry(ka, LAY_PASSWD, num ? 2 : 0, name, f, 7);
	if (r == -ENOENT && num) {
		*uid = (uid_t)v;
		*login = (gid_t)-1;
		return 0;
	}
	if (r == 0 && (!numeric(f[2], &v) || !numeric(f[3], &g)))
		r = -EBADMSG;
	if (r == 0) {
		*uid = (uid_t)v;
		*login = (gid_t)g;
	}
	free_fields(f, r == 0 ? 7 : 0);
	return r;
}

int ka_group_id(const struct ka *ka, const char *name, gid_t *gid)
{
	unsigned long v;
	if (numeric(name, &v)) {
		*gid = (gid_t)v;
		return 0;
	}
	if (host_accounts(ka)) {
		struct group gr, *res = NULL;
		char buf[16384];
		int e = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
		if (e)
			return -e;
		if (!res)
			return -ENOENT;
		*gid = gr.gr_gid;
		return 0;
	}
	char *f[4] = { 0 };
	int r = find_entry(ka, LAY_GROUP_FILE, 0, name, f, 4);
	if (r == 0 && !numeric(f[2], &v))
		r = -EBADMSG;
	if (r == 0)
		*gid = (gid_t)v;
	free_fields(f, r == 0 ? 4 : 0);
	return r;
}

static char *lookup_name(const struct ka *ka, const char *file, unsigned long id, size_t nfields)
{
	char key[32];
	snprintf(key, sizeof(key), "%lu", id);
	if (host_accounts(ka)) {
		char buf[16384];
		if (nfields == 7) {
			struct passwd pw, *res = NULL;
			if (getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &res) == 0 && res)
				return xstrdup(pw.pw_name);
		} else {
			struct group gr, *res = NULL;
			if (getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &res) == 0 && res)
				return xstrdup(gr.gr_name);
		}
		return xstrdup(key);
	}
	char *f[7] = { 0 };
	if (find_entry(ka, file, 2, key, f, nfields) < 0)
		return xstrdup(key);
	char *name = TAKE_PTR(f[0]);
	free_fields(f, nfields);
	return name;
}

/* Memoized: a listing asks for the same few owners once a group (NSS, or the tree's files, read whole). */
static char *name_of(const struct ka *ka, const char *file, unsigned long id, size_t nfields)
{
	char key[64];
	snprintf(key, sizeof(key), "%s:%lu", file, id);
	const char *known = ka_memo_get(ka, key);
	if (known)
		return xstrdup(known);
	char *name = lookup_name(ka, file, id, nfields);
	ka_memo_put(ka, key, name);
	return name;
}

char *ka_user_name(const struct ka *ka, uid_t uid)
{
	return name_of(ka, LAY_PASSWD, uid, 7);
}

char *ka_group_name(const struct ka *ka, gid_t gid)
{
	return name_of(ka, LAY_GROUP_FILE, gid, 4);
}
