/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply: converge the system to its declarations. Each entry is judged
 * (drift), its group checked as a claim would be; entries that pass and are
 * not yet owned as declared become the plans of one transaction.
 */
#pragma once

#include "core/decl.h"
#include "core/plan.h"
#include "core/preflight.h"

enum entry_result {
	ENTRY_CONVERGED, /* the group is owned as declared: nothing to do */
	ENTRY_MOVES,     /* its group is in the transaction */
	ENTRY_REFUSED,   /* drift, a conflict or a refusal: left as it is */
	_ENTRY_RESULT_MAX,
};

struct entry_report {
	const struct decl *decl;
	unsigned long group;     /* its group now; 0 with no device */
	bool has_group;
	enum entry_result result;
	const char *code;        /* ENTRY_REFUSED: declared-drift, declaration-conflict or a refusal code */
	char *message;
	size_t plan;             /* ENTRY_MOVES: index of its plan in the transaction */
	struct owner_spec owner; /* its owner and mode, resolved */
};

struct apply_report {
	struct entry_report *v;
	size_t n, cap;
};
void apply_report_free(struct apply_report *a);
/* How many entries were refused. */
size_t apply_refused(const struct apply_report *a);

/*
 * Plan the transaction that brings sys to ds: one claim plan per declared
 * group not yet owned as declared, for the entries that pass. db reads
 * serials (NULL: not compared). Refusals with codes of an entry's "force"
 * are overridden, the boot display's (boot-vga) only so: the boot GPU is
 * never claimed unless its entry says so.
 */
int apply_plan(const struct ka *ka, const struct system *sys, struct pcidb *db, const struct decls *ds,
	       struct preflight_inputs *in, struct txn *t, struct apply_report *out);
