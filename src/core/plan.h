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
#include "os/nodes.h"

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
	bool created;          /* a VF this transaction's SR-IOV step made: gone again is no failure */
	unsigned long vfs_restore; /* a PF: the VF count a release creates again (claim --remove-vfs) */
};

/* Who may open a group's own nodes (claim --owner and --mode, a declaration's owner and mode). */
struct owner_spec {
	bool set;                 /* a hand-off: the nodes change */
	bool uid_set, gid_set, mode_set;
	uid_t uid;
	gid_t gid;
	mode_t mode;
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
	struct owner_spec owner; /* claim: the hand-off of its nodes; release: back to what the record says */
	bool nodes_planned;     /* the hand-off's node steps are planned (the nodes exist once bound) */
	bool has_node_before;   /* node_before: the group's file before the hand-off, for the record */
	struct node_attr node_before;
};

/*
 * A node of a group whose owner or mode the move changes: after the binds
 * of a claim (the kernel makes the nodes at the bind), before the unbinds
 * of a release (they go with the device). Its path is found again for a
 * rollback: a bind makes a device's cdev afresh, maybe with another number.
 */
struct node_step {
	unsigned long group;
	char *device;           /* NULL: the group's file; else the device whose cdev it is */
	char *path;             /* as planned: "/dev/vfio/12", "/dev/vfio/devices/vfio3" */
	struct node_attr before, want;
	bool release;           /* written before the release's unbinds; gone after it is fine */
	bool ok;
};

/* A write, planned or done. */
struct pwrite {
	enum ka_op op;
	char *device, *driver, *value;
	bool attempted;
	int err;
	bool rollback;
};

/*
 * A PF's VF count changed within a transaction (vfs, claim --remove-vfs,
 * the release after it). Its writes come before the devices' (after them
 * for a release, which needs the PF on its driver again: the kernel's
 * selftests restore the driver, then sriov_numvfs), and the autoprobe it
 * turned off comes back last. A step that claims its VFs' groups has them
 * planned once the VFs exist (the groups are the kernel's to choose).
 */
struct sriov_step {
	char *pf;
	unsigned long before, want; /* sriov_numvfs at the start and at the end */
	int autoprobe;              /* sriov_drivers_autoprobe at the start (0, 1), -1 when not read */
	bool autoprobe_off;         /* 0 while the VFs appear, so that no host driver binds them */
	bool after;                 /* its writes follow the devices' */
	char *claim;                /* the VFIO driver the new VFs' groups are claimed for, NULL: none */
	bool expanded;              /* claim: the VFs' groups are planned */
	bool post_planned;          /* the writes after the devices' are planned */
	bool gone;                  /* recover: the PF no longer exists */
	unsigned long now;          /* sriov_numvfs as re-read */
	bool ok;                    /* at its end state (or its start, after a rollback) */
	struct strv vfs;            /* the VFs it made (vfs), or will make (a dry run: predicted) */
	struct strv force;          /* claim: the refusal codes the VFs' claims override */
	struct owner_spec owner;    /* claim: the hand-off of the VFs' groups' nodes */
};

/* A transaction: the moves of one or more groups, all or none. */
struct txn {
	struct plan *plans;
	size_t n, cap;
	struct strv modules;   /* modules to load before writing */
	struct pwrite *w;
	size_t nw, wcap;
	size_t next;           /* the next write to execute (a transaction runs in stages) */
	struct sriov_step *steps;
	size_t nsteps, scap;
	struct refusals refusals; /* of the SR-IOV steps, which belong to no group */
	struct node_step *nodes;
	size_t nnodes, ncap;
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
/* Refusals that were not forced, across the transaction (its steps' too). */
size_t txn_blocking(const struct txn *t);

/* Plan the claim of g for driver (a VFIO driver's kernel name). */
void plan_claim(const struct ka *ka, const struct group *g, const char *driver, struct plan *p);
/*
 * Plan the release of g: back to what record says (NULL: no record, clear
 * the overrides and let the kernel choose, loading each device's modalias
 * module first: added to t->modules).
 */
void plan_release(struct ka *ka, const struct group *g, struct json_object *record, struct plan *p, struct txn *t);
/*
 * The ordered writes of the whole transaction: the SR-IOV steps' first
 * writes, every override, then every unbind, then every bind, then the
 * steps' last writes. txn_plan_writes_from() plans the plans from index
 * first on (the VFs' groups, once they exist), and the steps' last writes.
 */
void txn_plan_writes(struct txn *t);
void txn_plan_writes_from(struct txn *t, size_t first);
struct sriov_step *txn_add_step(struct txn *t, const char *pf, unsigned long before, unsigned long want);
/*
 * The override to hold while a device is bound to want's driver: want's
 * override when it lets that driver bind (unset, or naming it), else none;
 * want's override is written once the bind is done.
 */
const char *staging_override(const struct mdev *m, const struct binding *want);
