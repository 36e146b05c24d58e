/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The replay engine's pieces, shared by its files: replay.c (overrides,
 * binds, unbinds, probes, VFIO's files, VMD domains) and replay-sriov.c
 * (sriov_numvfs and sriov_drivers_autoprobe). Nothing outside the replay
 * backend includes this.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "os/backend.h"
#include "os/resolve.h"

/* How many devices of a group are on VFIO: counted once, then kept as the engine moves them. */
struct group_count {
	char *group;
	size_t vfio;
};

struct replay {
	struct ka_backend b;
	/* Per run, so that a move's cost grows with its own size, never with the tree's. */
	bool *cdev_used; /* vfioN indexes taken in sys/class/vfio-dev */
	size_t cdev_cap;
	bool cdevs_loaded;
	struct group_count *groups;
	size_t ngroups, gcap;
};

/* Every path changed resolves beneath the root and on the tree's own filesystem. */
#define CHANGE (RES_NO_XDEV)

/* Name the file behind a refusal (the command layer only sees the errno); returns err. */
int rp_refused(struct ka *ka, const char *rel, int err);
/* A path of the tree, only looked at (-EXDEV is not worth a message). */
int rp_lookup(struct ka *ka, const char *rel, unsigned flags);
/* A directory of the tree, to change what is in it (O_PATH): unusable is named. */
int rp_open_dir(struct ka *ka, const char *rel);
/* A directory right inside dirfd, not a link, not a mount point. */
int rp_open_child(int dirfd, const char *name, unsigned flags);
/* Write a plain file of the tree (created when asked, only where nothing was). */
int rp_write_file(struct ka *ka, const char *rel, const char *content, bool create);
int rp_write_bytes(struct ka *ka, const char *rel, const void *content, size_t len, bool create);
/* Remove a directory tree below dirfd/name (the tree's own files only). */
int rp_remove_tree_at(int dirfd, const char *name);
/* A device's real directory and an open descriptor of it; -ENODEV when absent. */
int rp_open_device(struct ka *ka, const char *addr, char **ret_path, int *ret_fd);
/* The number of the group a device (open as devfd) is in, NULL when none. */
char *rp_device_group(int devfd);
/* Whether a process under <sysroot>/proc holds one of the group's VFIO files. */
bool rp_group_held(struct ka *ka, const char *group);
/* The kernel's unbind (w: KA_UNBIND), and its bind of driver to a device (probing: by drivers_probe). */
int rp_unbind(struct replay *rp, struct ka *ka, const struct ka_write *w);
int rp_try_bind(struct replay *rp, struct ka *ka, const char *devpath, int devfd, const char *addr,
		const char *driver, bool probing);
/* What a device's probe by every loaded driver does, in name order, until one binds. */
void rp_probe_all(struct replay *rp, struct ka *ka, const char *devpath, int devfd, const char *addr);

/* replay-sriov.c: writes of sriov_numvfs (sriov_numvfs_store) and sriov_drivers_autoprobe. */
int rp_numvfs(struct replay *rp, struct ka *ka, const struct ka_write *w);
int rp_autoprobe(struct ka *ka, const struct ka_write *w);
