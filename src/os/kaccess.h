/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel-access layer: the only code that touches sysfs (and the other
 * files under the sysroot). Every path is relative to the sysroot and is
 * resolved with openat2(RESOLVE_BENEATH), so a symlink in a captured tree can
 * never lead a read outside it. Functions return 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include "shared/util.h"

struct ka;

/* Open a sysroot ("/" for the running system). It must contain sys/. */
int ka_open(const char *sysroot, struct ka **ret);
void ka_free(struct ka *ka);
static inline void ka_freep(struct ka **ka)
{
	ka_free(*ka);
}

/* The sysroot as given (without trailing slashes; "/" for the root). */
const char *ka_root(const struct ka *ka);
/* True when <sysroot>/sys is a real sysfs mount (statfs says SYSFS_MAGIC). */
bool ka_is_live(const struct ka *ka);
/* "<sysroot>/<rel>" for messages; the caller frees it. */
char *ka_path(const struct ka *ka, const char *rel);
/* Human text for an errno returned by this layer (adds EXDEV, EBADMSG...). */
const char *ka_strerror(int err);

/* Open a directory (O_PATH) under the sysroot, following links inside it. */
/*
 * A value looked up once for the handle's lifetime (the name of a node's
 * owner, asked for every group of a listing): NULL when not yet put.
 */
const char *ka_memo_get(const struct ka *ka, const char *key);
void ka_memo_put(const struct ka *ka, const char *key, const char *value);

int ka_open_dir(const struct ka *ka, const char *rel, int *ret_fd);
/* The names in a directory under the sysroot (no "." or ".."); -ENOENT when absent. */
int ka_list_dir(const struct ka *ka, const char *rel, struct strv *ret);
/* Open a real subdirectory (never a link) of an open directory: O_PATH or O_RDONLY in flags. */
int ka_open_subdir(int dirfd, const char *name, int flags);
/* The names in the directory open as fd (O_RDONLY), read with getdents64. */
int ka_list_fd(int fd, struct strv *ret);
/*
 * Below an open directory, through real directories only (no symlink at all
 * in rel): read a text attribute, or list a directory. For trees of plain
 * directories such as kernel/iommu_groups, without opening each level.
 */
int ka_read_under(int dirfd, const char *rel, char **ret);
int ka_list_under(int dirfd, const char *rel, struct strv *ret);

/*
 * Read a text attribute <dirfd>/<name>: never follows a symlink, refuses
 * binary content (-EBADMSG) and files over 64 KiB (-EFBIG). The value has its
 * trailing newline and white space removed. -ENOENT when absent.
 */
int ka_read_at(int dirfd, const char *name, char **ret);
int ka_read(const struct ka *ka, const char *rel, char **ret);
/* Read up to size bytes of a binary file (config space); returns the count. */
int ka_read_binary_at(int dirfd, const char *name, void *buf, size_t size);
/* The last component of the target of symlink <dirfd>/<name>; -ENOENT when absent. */
int ka_link_base_at(int dirfd, const char *name, char **ret);
/* The status of <sysroot>/<rel>, not following a final link (its type, owner and mode). */
struct stat;
int ka_stat(const struct ka *ka, const char *rel, struct stat *ret);
/* Whether <dirfd>/<name> exists (without following a final symlink). */
bool ka_exists_at(int dirfd, const char *name);
/*
 * Whether <dirfd>/<name> is a regular file (not through a link): what a
 * library that opens files itself, blocking (libpci's config), may be given.
 */
bool ka_is_regular_at(int dirfd, const char *name);
/*
 * A PCI device's real directory, "sys/devices/.../0000:01:00.0", from its
 * link in the bus's device list, resolved lexically beneath the root:
 * -ENODEV when there is no such device, -EXDEV when the link climbs out.
 */
int ka_device_path(const struct ka *ka, const char *address, char **ret);

/*
 * Whether the PCI device at address is a VF whose PF's sriov_drivers_autoprobe
 * reads 0 (the kernel shows 0 or 1): the kernel then probes it, by any path,
 * only while its driver_override is set (pci_device_can_probe()). A device
 * without a PF, or a capture without the file, autoprobes (the default).
 */
bool ka_vf_autoprobe_off(const struct ka *ka, const char *address);

/*
 * Writes go through a backend (backend.h): the live kernel through libsysfs
 * when <sysroot>/sys is a real sysfs mount, else the replay engine, which
 * applies the kernel's semantics to the tree's files (with the faults of
 * <sysroot>/replay-faults injected around it). The choice is made by statfs
 * when the sysroot is opened and checked again before every write, so
 * neither can be aimed at the other's kind of tree. IOMMU_OWN_FORBID_LIVE=1
 * in the environment (the test suite sets it) refuses every live write.
 */
enum ka_op {
	KA_OVERRIDE, /* write value to the device's driver_override */
	KA_UNBIND,   /* write <device> to the driver's unbind */
	KA_BIND,     /* write <device> to the driver's bind */
	KA_PROBE,    /* write <device> to the bus's drivers_probe */
	KA_NUMVFS,   /* write value (a VF count) to the PF <device>'s sriov_numvfs */
	KA_AUTOPROBE, /* write value ("0" or "1") to the PF <device>'s sriov_drivers_autoprobe */
	KA_OWNER,    /* chown the VFIO node <device> ("/dev/vfio/12") to value, "UID:GID" */
	KA_MODE,     /* chmod the VFIO node <device> to value, octal ("0660") */
	_KA_OP_MAX,
};

struct ka_write {
	enum ka_op op;
	const char *device; /* "0000:01:00.0"; KA_OWNER, KA_MODE: the node, "/dev/vfio/12" */
	const char *driver; /* KA_UNBIND, KA_BIND */
	const char *value;  /* KA_OVERRIDE: the new override, NULL, "" or "\n" to clear; KA_NUMVFS, KA_AUTOPROBE: the number */
};

const char *ka_op_name(enum ka_op op);
/* The sysroot-relative attribute a write goes to (NULL when a name is no name); the caller frees it. */
char *ka_write_path(const struct ka_write *w);
/* The bytes written ("0000:01:00.0", "vfio-pci", "\n"). */
const char *ka_write_value(const struct ka_write *w);

/*
 * Make the writer ready before anything is planned: the backend for this
 * tree, the fault rules parsed. Errors are printed: -EPERM for live writes
 * forbidden by IOMMU_OWN_FORBID_LIVE, -EINVAL for a bad replay-faults rule.
 */
int ka_writer_open(struct ka *ka);
/* How long one write may block in the kernel before it is reported stuck (-ETIMEDOUT). */
void ka_set_timeout(struct ka *ka, int timeout_ms);
/* Perform a write: 0 or the negative errno the kernel (or the replay engine) gave. */
int ka_apply(struct ka *ka, const struct ka_write *w);
/* How many writes ka_apply has attempted in this process. */
unsigned ka_writes_attempted(const struct ka *ka);
/*
 * Load the module that provides a PCI driver (through libkmod on a live
 * system; on a replayed tree the driver directory appears). module NULL
 * derives it from the driver name; driver NULL: a module found by modalias.
 */
int ka_load_driver(struct ka *ka, const char *driver, const char *module);

/* The root file descriptor, for the backends and state files only. */
int ka_rootfd(const struct ka *ka);

/* Read a whole (proc) file of up to max bytes; -ENOENT when absent. */
int ka_read_big(const struct ka *ka, const char *rel, size_t max, char **ret);
/*
 * The class devices (block, net, ...) below a device directory: every
 * directory under it, not following links, whose subsystem link ends in
 * subsystem. Paths are sysroot-relative.
 */
int ka_find_class_devices(const struct ka *ka, const char *devdir, const char *subsystem, struct strv *ret);

/* Whether a module is loaded with a PCI driver (sys/module/<module>/drivers/pci:*). */
bool ka_module_has_pci_driver(const struct ka *ka, const char *module);

/* A directory entry with its type and mode, not following links. */
struct ka_entry {
	char *name;
	mode_t mode; /* from fstatat(AT_SYMLINK_NOFOLLOW): S_IFREG, S_IFDIR, S_IFLNK... */
};
/* The entries of a directory under the sysroot (no dot names), sorted by name. */
int ka_scan_dir(const struct ka *ka, const char *rel, struct ka_entry **ret, size_t *n);
/*
 * Configuration under the root's etc/ (and the like): links resolve as if
 * the root were "/" (an absolute link stays inside it), as the host itself
 * would read the file. A plain file of at most max bytes; text without NUL.
 */
int ka_read_etc(const struct ka *ka, const char *rel, size_t max, char **ret);
int ka_scan_etc(const struct ka *ka, const char *rel, struct ka_entry **ret, size_t *n);
void ka_entries_free(struct ka_entry *e, size_t n);
/* The target of the symlink <sysroot>/<rel>, as stored. */
int ka_readlink(const struct ka *ka, const char *rel, char **ret);
/* Up to max bytes of a file, binary; *len set. Non-blocking, never follows a final link. */
int ka_read_raw(const struct ka *ka, const char *rel, size_t max, char **ret, size_t *len);
