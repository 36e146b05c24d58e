/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Selectors: devices picked by what people know of them, shaped like
 * lspci's options: a slot prefix (--slot 01:00), vendor and device IDs
 * (-d 10de:), a class (--class gpu), a network interface (--netdev eth1) or
 * a disk (--blockdev nvme0n1). Every kind given must match (AND); the
 * values of one kind are alternatives (OR). Each picks devices, and with
 * them their groups.
 */
#pragma once

#include "core/model.h"
#include "os/state.h"

struct selectors {
	struct strv slots, ids, classes, netdevs, blockdevs;
};

bool selectors_any(const struct selectors *s);
/* Whether matching needs the devices' IDs and classes (MODEL_IDS). */
bool selectors_need_ids(const struct selectors *s);
void selectors_free(struct selectors *s);
/* Check the syntax of one value of a kind ("slot", "id", "class"); a message names what is wrong. */
int selector_check(const char *kind, const char *value, char **why);

/*
 * The devices of sys the selectors pick, as addresses in out (no
 * duplicates). records (may be NULL): claim records, where an interface or
 * disk gone with its host driver is found. A value that matches no device
 * is an error naming it (-ENOENT); so is a combination that matches none.
 */
int selectors_pick(const struct selectors *s, const struct system *sys, const struct ka *ka, struct state *records,
		   struct strv *out);
