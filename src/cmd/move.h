/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Atomic group moves: claim (to a VFIO driver), release (back to the kernel
 * drivers), and recovery of an interrupted move. A move is planned from the
 * model, checked (preflight.c), journaled (state.c), written through the
 * kernel-access layer, verified by re-reading, and rolled back on failure.
 */
#pragma once

#include "cmd/commands.h"

enum move_kind { MOVE_CLAIM, MOVE_RELEASE, MOVE_RECOVER };

struct move_options {
	enum move_kind kind;
	const char *target;   /* GROUP|DEVICE */
	const char *driver;   /* claim: the VFIO driver (default vfio-pci) */
	const char *state_dir; /* NULL: <sysroot>/run/iommu-own */
	bool dry_run;
	bool json;
	struct strv force;    /* refusal codes overridden */
};

/* Run a move; returns the exit status (EXIT_*). Prints its own report. */
int move_run(struct context *ctx, struct move_options *o);

/* The argp child shared by claim, release and recover (--state-dir, --json, --dry-run). */
extern const struct argp move_common_argp;
