/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seam between the tool and a kernel, as pciutils' struct pci_methods
 * is: each backend is a leaf that implements the writes, and the dispatcher
 * (write.c) never looks inside one. live.c writes the running kernel's sysfs
 * through libsysfs; replay.c applies the kernel's semantics to a captured
 * tree; faults.c wraps a backend and injects the failures of
 * <sysroot>/replay-faults around its writes.
 *
 * What every backend guarantees, as libsysfs does for the live one:
 * - a write is one write(2) of the whole value to the attribute, the value
 *   as ka_write_value() spells it; libsysfs skips a write whose readable
 *   value already matches (sysfs_write_attribute re-reads first), which only
 *   driver_override has, so the replay engine skips that case too;
 * - a path that does not fit libsysfs' 256-byte buffers (SYSFS_PATH_MAX) is
 *   refused with ENAMETOOLONG before anything is written, never truncated;
 *   the replay engine takes any length (its paths are relative to the root);
 * - a write the kernel blocks (an unbind of a device a process holds) gives
 *   -ETIMEDOUT after timeout_ms, and the write is left to finish by itself.
 */
#pragma once

#include "os/kaccess.h"

struct ka_backend;

struct ka_backend_ops {
	const char *name;
	/* Perform w, the nth write of this run: 0 or a negative errno. */
	int (*write)(struct ka_backend *b, struct ka *ka, const struct ka_write *w, unsigned nth, int timeout_ms);
	/* Load the module that provides driver (driver NULL: named after the module). */
	int (*load_driver)(struct ka_backend *b, struct ka *ka, const char *driver, const char *module);
	void (*free)(struct ka_backend *b);
};

struct ka_backend {
	const struct ka_backend_ops *ops;
	struct ka_backend *inner; /* a wrapper's backend */
};

void backend_free(struct ka_backend *b);

/* The running kernel, through libsysfs and libkmod. */
struct ka_backend *backend_live_new(void);
/* The replay engine for a captured tree. */
struct ka_backend *backend_replay_new(void);
/*
 * inner with the faults of <sysroot>/replay-faults around it (inner itself
 * when there is no such file). -EINVAL, printed, for a rule it does not
 * know: a fault that silently does not fire would pass a test it should fail.
 */
int backend_faults_wrap(struct ka *ka, struct ka_backend *inner, struct ka_backend **ret);
