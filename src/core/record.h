/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record of a claim (group-N.json in the state directory): each
 * device's driver, override and module from before the group was first
 * claimed, which release restores.
 */
#pragma once

#include <json-c/json.h>

#include "core/plan.h"
#include "os/state.h"

#define RECORD_FORMAT "iommu-own-record"

char *record_name(unsigned long group);
/*
 * The record of group's claim, or NULL. One that cannot be read or is not
 * ours is ignored with a warning that says why and what happens instead.
 */
struct json_object *record_read(struct state *st, unsigned long group, const char *otherwise);
/*
 * The record a claim leaves: for devices that were on VFIO already (a claim
 * for another VFIO driver), what the earlier record prev says of them.
 */
struct json_object *record_build(struct json_object *prev, const struct plan *p);

/* A device's entry: the VF count its claim removed (0: none), which its release restores. */
unsigned long record_numvfs(struct json_object *entry);

/* The devices of a record by address, found in O(log n): a release of thousands stays linear. */
struct record_index {
	struct record_entry {
		const char *address;
		struct json_object *o;
	} *v;
	size_t n;
};
void record_index_build(struct json_object *record, struct record_index *ix);
struct json_object *record_index_find(const struct record_index *ix, const char *address);
void record_index_free(struct record_index *ix);

/*
 * The device whose record lists name under key ("netdevs", "blockdevs"): an
 * interface or disk gone with its host driver after a claim. NULL: none.
 */
char *record_find_name(struct state *st, const char *key, const char *name);

/* json-c helpers shared by the record and the journal: a string member, or NULL. */
const char *json_member_str(struct json_object *o, const char *key);
/*
 * Whether a driver or module name from a journal or record can be used as a
 * path component (drivers/<name>/bind). NULL (no driver) is fine.
 */
bool safe_name(const char *s);
