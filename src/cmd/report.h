/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a move says when it ends: text for people, JSON for scripts, and the exit status. */
#pragma once

#include <stdbool.h>

#include "core/apply.h"
#include "core/plan.h"

enum result {
	RESULT_DONE,
	RESULT_NOTHING,
	RESULT_DRY_RUN,
	RESULT_REFUSED,
	RESULT_FAILED,      /* failed before any write */
	RESULT_ROLLED_BACK, /* failed and fully rolled back */
	RESULT_INCOMPLETE,  /* failed and the rollback is incomplete */
	RESULT_RECOVERED,   /* recover: rolled back an interrupted move */
	RESULT_FINISHED,    /* recover: the interrupted move had reached its end */
	RESULT_INTERRUPTED, /* a signal: stopped and rolled back */
	RESULT_BLOCKED,     /* a write stuck in the kernel: the journal kept */
	_RESULT_MAX,
};

struct report_options {
	const char *operation;   /* "claim", "release", "recover" */
	bool recovering;         /* recover: a rollback refused keeps the journal */
	bool json;
	bool dry_run;
	const char *recover_cmd; /* the exact recover command to paste */
	int signal;              /* RESULT_INTERRUPTED: the signal's number */
	struct strv notes;       /* extra lines said to stderr (holders of a stuck device...) */
	const struct apply_report *apply; /* apply: what became of each declaration */
	bool files_changed;      /* --persist wrote or removed a declaration, though no device moved */
};

/*
 * Print the report of t ending with res and return the exit status. A move
 * that changed the system whose report cannot be written (stdout closed or
 * full) gives EXIT_REPORT_LOST, never a status that says nothing changed.
 */
int report(const struct ka *ka, const struct txn *t, enum result res, const struct report_options *o);
