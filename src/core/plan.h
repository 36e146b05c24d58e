/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A move as data: for each group, what each device is before and should be
 * after (struct plan), and for the whole transaction the ordered writes
 * that take every device there (struct txn). Built from the model, read
 * back from a journal, executed and rolled back by execute.c.
 */
#pragma once

#include <json-c/json.h>
#include <signal.h>

#include "core/model.h"
#include "core/preflight.h"
#include "os/kaccess.h"

enum move_kind { MOVE_CLAIM, MOVE_RELEASE, _MOVE_KIND_MAX };
const char *move_kind_name(enum move_kind k);

/* One device of a group and what the move does with it. */
struct mdev {
	char *address;
	char *module;          /* claim: the module of its driver before, for the record */
	struct binding before; /* as read at the start */
	struct binding want;   /* the end state */
	bool kernel_choice;    /* release: whatever driver the kernel picks (not VFIO) */
	bool expect_driver;    /* kernel_choice: a module matches, so some driver must bind */
	bool no_autoprobe;     /* a VF whose PF has sriov_drivers_autoprobe 0: binds only through an override */
	bool moves;
	enum skip skip;        /* why it is left alone */
	bool gone;             /* recover: the device no longer exists (hot-removed) */
	struct binding after;  /* as re-read at the end */
	struct strv nets, blocks; /* claim: its interfaces and disks, which the record keeps (--netdev, --blockdev) */
	bool ok;               /* after matches what was wanted (the end state, or before on rollback) */
};

/* One group's move. */
struct plan {
	enum move_kind kind;
	unsigned long group;    /* as the move found it */
	unsigned long now;      /* recover: the group its devices are in now (renumbered groups) */
	char *driver;           /* claim: the target VFIO driver */
	struct mdev *devs;
	size_t n, cap;
	bool from_record;       /* release: the record of the claim was used */
	struct refusals refusals;
};

/* A write, planned or done. */
struct pwrite {
	enum ka_op op;
	char *device, *driver, *value;
	bool attempted;
	int err;
	bool rollback;
};

/* A transaction: the moves of one or more groups, all or none. */
struct txn {
	struct plan *plans;
	size_t n, cap;
	struct strv modules;   /* modules to load before writing */
	struct pwrite *w;
	size_t nw, wcap;
	size_t failed_write;   /* index + 1 of the failed write, 0 when none */
	char *error;           /* a failure message */
	/* Set asynchronously (a signal): execute stops between writes and the move rolls back. */
	const volatile sig_atomic_t *stop;
};

void txn_free(struct txn *t);
struct plan *txn_add_plan(struct txn *t, enum move_kind kind, unsigned long group, const char *driver);
/* Take the last plan added out of the transaction again (a group apply leaves alone). */
void txn_drop_last_plan(struct txn *t);
struct mdev *plan_add_device(struct plan *p, const char *address);
struct pwrite *txn_add_write(struct txn *t, enum ka_op op, const char *device, const char *driver, const char *value,
			     bool rollback);
/* Devices that move, across the transaction. */
size_t txn_moving(const struct txn *t);
/* Refusals that were not forced, across the transaction. */
size_t txn_blocking(const struct txn *t);

/* Plan the claim of g for driver (a VFIO driver's kernel name). */
void plan_claim(const struct ka *ka, const struct group *g, const char *driver, struct plan *p);
/*
 * Plan the release of g: back to what record says (NULL: no record, clear
 * the overrides and let the kernel choose, loading each device's modalias
 * module first: added to t->modules).
 */
void plan_release(struct ka *ka, const struct group *g, struct json_object *record, struct plan *p, struct txn *t);
/* The ordered writes of the whole transaction: every override first, then every unbind, then every bind. */
void txn_plan_writes(struct txn *t);
/*
 * The override to hold while a device is bound to want's driver: want's
 * override when it lets that driver bind (unset, or naming it), else none;
 * want's override is written once the bind is done.
 */
const char *staging_override(const struct mdev *m, const struct binding *want);
