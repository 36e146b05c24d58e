/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hand-off to a consumer: the nodes of a group that a process needs to
 * use it (what the kernel has of VFIO's group and cdev interfaces), and the
 * node steps of a transaction (struct node_step in plan.h) that give a
 * group's own nodes to a user: their planning, verification, journal and
 * record entries. The nodes every consumer shares (/dev/vfio/vfio,
 * /dev/iommu) are reported, never changed.
 */
#pragma once

#include <json-c/json.h>

#include "core/model.h"
#include "core/plan.h"
#include "os/holders.h"

/* What a consumer of a group passes to its process, as the tree shows it. */
struct consumer {
	bool group_if, cdev_if; /* the group's file, its devices' cdevs: which interfaces the kernel has for it */
	struct strv nodes;      /* the nodes to pass, the shared ones included, those present only */
	bool has_attr;          /* attr is the group's own node's (its file, else its first cdev) */
	struct node_attr attr;
	/*
	 * The processes holding the group's file or a device's cdev (with an
	 * iommufd, a cdev owns the group's DMA as an open group does): the
	 * group is in use. users_known: the processes could all be looked at.
	 */
	struct holders users;
	bool users_known;
};
/* Fill c's users from every process's open nodes (read once by the caller; NULL: not looked at). */
void consumer_users(struct consumer *c, const struct holders *all);
void consumer_read(const struct ka *ka, const struct group *g, struct consumer *ret);
void consumer_read_plan(const struct ka *ka, const struct plan *p, struct consumer *ret);
void consumer_read_devices(const struct ka *ka, unsigned long group, bool noiommu, const struct strv *addrs,
			   struct consumer *ret);
void consumer_clear(struct consumer *c);
/* "group", "cdev", "both", or NULL (no VFIO node). */
const char *consumer_interface(const struct consumer *c);

/*
 * "USER[:GROUP]" (names or numbers, USER alone keeping the group) and an
 * octal MODE into spec, names through ka's accounts. -EINVAL (printed,
 * naming what) for a bad value or an unknown name.
 */
int owner_spec_parse(const struct ka *ka, const char *owner, const char *mode, struct owner_spec *spec);

/* Whether the group's own nodes there are as spec says (true without a hand-off). */
bool handoff_group_matches(const struct ka *ka, const struct group *g, const struct owner_spec *s);

/*
 * The node steps of the claim plans with a hand-off that are not planned
 * yet, for the nodes there now, with their writes; only_unmoved: just the
 * plans none of whose devices moves (their nodes exist before any write).
 */
void handoff_plan_claims(const struct ka *ka, struct txn *t, bool only_unmoved);
/* Whether a claim's hand-off waits for its nodes (they appear at the binds). */
bool handoff_pending(const struct txn *t);
/* A release's node steps, back to what its record says, before its unbinds. */
void handoff_plan_release(const struct ka *ka, struct txn *t, struct plan *p, struct json_object *record);
/* The writes of the release's node steps, first of all. */
void handoff_plan_first(struct txn *t);
/* Re-read every node step: at its end state (a release's may be gone). */
bool handoff_verify(const struct ka *ka, struct txn *t);
/* Every node step's node, found again, back to its owner and mode before; writes through add. */
bool handoff_rollback(struct ka *ka, struct txn *t, int (*write)(struct ka *, struct txn *, enum ka_op, const char *,
								  const char *));

/* The journal's "nodes" array and back; -EBADMSG (printed) for a damaged one. */
struct json_object *handoff_json(const struct txn *t);
int handoff_parse(struct json_object *arr, const char *where, struct txn *t);
/* The record's "owner" of a plan with a hand-off (NULL: none), and its node owner before it. */
struct json_object *handoff_record(const struct plan *p);
