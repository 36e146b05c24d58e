/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal of a move in progress (journal.json in the kernel's state
 * directory): written before the first write, removed once the move is done
 * or rolled back, read by recover after a crash. Its format is versioned and
 * every earlier version is still read: a journal left by an older iommu-own
 * is recovered by a newer one.
 *   version 1: one group; "group", "operation", "driver", "devices" at the top
 *   version 2: a transaction: "groups": [{"group", "operation", "driver",
 *              "devices"}], and "blocked" for a write stuck in the kernel
 *   version 3: version 2 and "sriov": the steps that change a PF's VF
 *              count, "nodes": the owner and mode of VFIO nodes a hand-off
 *              changes; written only by moves that have such steps, so that
 *              an iommu-own that knows no steps refuses the journal instead
 *              of recovering half of it
 */
#pragma once

#include <json-c/json.h>

#include "core/plan.h"
#include "os/state.h"

#define JOURNAL_NAME "journal.json"
#define JOURNAL_FORMAT "iommu-own-journal"
#define JOURNAL_VERSION 3

/* The running kernel's boot ID (proc/sys/kernel/random/boot_id), NULL when unknown. */
char *journal_boot_id(const struct ka *ka);
/* The root a journal of ka names: "/" for any root whose sys is the live sysfs, else the canonical path. */
char *journal_root(const struct ka *ka);

/* The journal of transaction t, as the command operation ("claim", "release", "apply"). */
struct json_object *journal_build(const struct ka *ka, const struct txn *t, const char *operation);
/* Mark the write stuck in the kernel (t->failed_write) in a journal about to be rewritten. */
void journal_set_blocked(struct json_object *j, const struct ka *ka, const struct txn *t);
/*
 * The journal's "state": "moving" while the move runs (and after a crash),
 * "blocked" when a write is stuck, "rollback-incomplete" when a rollback
 * failed: what check reports it as.
 */
void journal_set_state(struct json_object *j, const char *state);

/* What a journal is, before acting on it. */
struct journal_info {
	int version;
	char *operation;
	char *root;    /* as written */
	char *boot_id; /* NULL when it names none */
	bool ours;     /* it names this kernel's root */
	bool stale;    /* from an earlier boot of this kernel */
};
void journal_info_clear(struct journal_info *ji);
/*
 * Read what a journal says about itself. -EBADMSG (message printed, naming
 * where) when it is no iommu-own journal or of a version this tool does not
 * know.
 */
int journal_identify(const struct ka *ka, struct json_object *j, const char *where, struct journal_info *ji);
/* The transaction a journal describes; -EBADMSG (printed) when it is damaged. */
int journal_parse(struct json_object *j, const char *where, struct txn *t);
/*
 * Check a journal's transaction against the tree as it is now: a device
 * that no longer exists is marked gone (hot-removed); the devices of one
 * group entry must still share one group (plan->now: renumbered by a remove
 * and rescan, say). A journal that lists a device of another group is
 * refused (-EBADMSG, printed): it is never acted on.
 */
int journal_check_tree(const struct ka *ka, struct txn *t, const char *where);

/* What the state directories say about moves, for check: a pending journal, and the records of claims. */
struct record_summary {
	unsigned long group;
	char *path;
	struct strv devices; /* the addresses it records */
};
struct move_status {
	bool journal;            /* a journal is pending, readable or not */
	bool journal_unreadable;
	char *journal_path;
	char *operation;         /* "claim", "release", "apply" */
	char *state;             /* "moving", "blocked", "rollback-incomplete" */
	struct strv groups, devices;
	struct strv pfs;         /* the PFs whose VF count the move changes */
	struct record_summary *records;
	size_t nrecords, cap;
};
/*
 * Read them: the kernel's state directory (kernel) and the records'
 * (records, NULL: the kernel's; a journal there is a version 1 one). Never
 * creates, locks or changes anything.
 */
void move_status_read(struct state *kernel, struct state *records, struct move_status *ret);
void move_status_free(struct move_status *m);
