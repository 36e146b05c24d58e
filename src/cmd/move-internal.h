/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the move commands share inside cmd/: one run of claim, release,
 * recover, apply or vfs (move.c), and the SR-IOV parts of it (move-vfs.c).
 */
#pragma once

#include "cmd/move.h"
#include "cmd/report.h"
#include "core/apply.h"
#include "core/decl.h"
#include "core/plan.h"
#include "core/preflight.h"
#include "os/state.h"

/* What one run of a move command holds. */
struct run {
	struct context *ctx;
	struct move_options *o;
	struct state kernel;  /* the kernel's state directory: the lock and the journal */
	struct state records; /* where records are kept (--state-dir); may be the kernel's */
	bool own_records;     /* records is a directory of its own */
	struct txn t;
	struct json_object *journal; /* the journal of the move, as written (or read by recover) */
	struct state *journal_st;    /* where it is */
	struct preflight_inputs in;  /* what the checks read, once */
	struct report_options ro;
	char *recover_cmd;
	struct decls decls;          /* the declarations: apply, --persist, and release's note */
	bool decls_read;
	struct state conf;           /* conf.d, where --persist writes */
	struct strv persist_add, persist_text; /* drop-ins claim --persist writes (names, texts) */
	struct strv persist_remove;  /* drop-ins release --persist removes */
	struct apply_report apply;
};

/* Where records are kept: --state-dir, or the kernel's state directory. */
struct state *move_records(struct run *r);
/* Report the move ending with res; returns the exit status. */
int move_done(struct run *r, enum result res);
/* The records of the claim plans from index first on, prepared beside their place. */
int move_prepare_records(struct run *r, size_t first);
/* Write the journal again, naming every device the plans now hold (before the first write to one). */
int move_rewrite_journal(struct run *r);
/* The plans are made: refuse, report nothing to do, show the plan, or execute it. */
int move_run_plans(struct run *r);

/* move-vfs.c: vfs PF COUNT planned (a step, or claims of the VFs there are). */
int vfs_plan(struct run *r);
/*
 * A step's VFs exist now: their groups planned as claims, checked, their
 * records prepared, their writes added, the journal rewritten. -EPERM when
 * a check refuses (t->error says why), another negative errno on failure.
 */
int vfs_expand(struct run *r);
/* claim --remove-vfs and release: the steps of the PFs in plan p (g its group). */
void vfs_claim_steps(struct run *r, const struct group *g, struct plan *p);
void vfs_release_steps(struct run *r, struct plan *p);
