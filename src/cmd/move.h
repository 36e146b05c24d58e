/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The move commands: claim (to a VFIO driver), release (back to the kernel
 * drivers), and recover of an interrupted move. They plan from the model
 * (core/plan.c), check (core/preflight.c), journal (core/journal.c), write
 * through the kernel-access layer, verify, and roll back on failure
 * (core/execute.c), under the kernel's one lock.
 */
#pragma once

#include "cmd/commands.h"

enum move_cmd { CMD_CLAIM, CMD_RELEASE, CMD_RECOVER };

struct move_options {
	enum move_cmd cmd;
	const char *target;    /* GROUP|DEVICE */
	const char *driver;    /* claim: the VFIO driver (default vfio-pci) */
	const char *state_dir; /* where records are kept; NULL: the kernel's state directory */
	bool dry_run;
	bool json;
	unsigned timeout_s;    /* how long one write may block in the kernel (0: the default) */
	struct strv force;     /* refusal codes overridden */
};

/* Run a move; returns the exit status (EXIT_*). Prints its own report. */
int move_run(struct context *ctx, struct move_options *o);

/* The argp child shared by claim, release and recover (--state-dir, --json). */
extern const struct argp move_common_argp;
