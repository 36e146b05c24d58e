/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The move commands: claim (to a VFIO driver), release (back to the kernel
 * drivers), and recover of an interrupted move. They plan from the model
 * (core/plan.c), check (core/preflight.c), journal (core/journal.c), write
 * through the kernel-access layer, verify, and roll back on failure
 * (core/execute.c), under the kernel's one lock.
 */
#pragma once

#include "core/select.h"

#include "cmd/commands.h"
#include "core/plan.h"

enum move_cmd { CMD_CLAIM, CMD_RELEASE, CMD_RECOVER, CMD_APPLY, CMD_VFS };

struct move_options {
	enum move_cmd cmd;
	struct strv targets;   /* GROUP|DEVICE..., one transaction; vfs: the PF */
	const char *conf_file; /* apply: the declarations of FILE instead of the system's */
	bool persist;          /* claim, release: add or remove the group's declaration too */
	const char *driver;    /* claim, vfs --claim: the VFIO driver (default vfio-pci) */
	bool remove_vfs;       /* claim: a PF's VFs removed first, and made again by release */
	const char *owner, *mode; /* claim: the hand-off of the groups' nodes, as given */
	struct owner_spec owner_spec; /* resolved */
	unsigned long count;   /* vfs: the VF count wanted */
	bool claim_vfs;        /* vfs: each new VF's group claimed in the same transaction */
	bool replace;          /* vfs: a PF with VFs may go through 0 to another count */
	const char *state_dir; /* where records are kept; NULL: the kernel's state directory */
	bool dry_run;
	bool json;
	unsigned timeout_s;    /* how long one write may block in the kernel (0: the default) */
	int wait_s;            /* for the lock: -1 as long as it takes, 0 not at all, else seconds */
	struct strv force;     /* refusal codes overridden */
	struct selectors sel;  /* claim, release: --slot, -d, --class, --netdev, --blockdev */
};

/* Run a move; returns the exit status (EXIT_*). Prints its own report. */
int move_run(struct context *ctx, struct move_options *o);

/* The argp child shared by claim, release, recover and apply (--state-dir, --json, --timeout). */
extern const struct argp move_common_argp;
/*
 * The keys of the options several moving commands have, each with its own
 * help text in its own table; move_option() sets what they mean.
 */
enum {
	MOVE_OPT_DRIVER = 0x400,
	MOVE_OPT_DRY_RUN,
	MOVE_OPT_FORCE,
	MOVE_OPT_PERSIST,
	MOVE_OPT_REMOVE_VFS,
	MOVE_OPT_OWNER,
	MOVE_OPT_MODE,
};
/* Set o from one of those options: 0, or ARGP_ERR_UNKNOWN for another key. */
error_t move_option(struct argp_state *state, int key, char *arg, struct move_options *o);
/* The parser of claim and release (GROUP|DEVICE operands, selectors), and their argp children. */
error_t move_groups_parse(int key, char *arg, struct argp_state *state);
extern const struct argp_child move_groups_children[];
/* What claim's and release's exit statuses mean (the end of their --help). */
#define MOVE_EXIT_STATUS                                                                                   \
	"Exit status: 0 done or nothing to do, 1 refused or failed and rolled back, 2 usage or runtime "   \
	"error, 3 failed and the rollback is incomplete (run recover), 4 an interrupted move is pending " \
	"(run recover), 5 a write is stuck in the kernel, 7 done but the report was lost, 128+N "         \
	"interrupted by signal N and rolled back."
/* For claim and release: each GROUP|DEVICE operand into o->targets; none is a usage error. */
void move_targets_parse(struct argp_state *state, int key, char *arg, struct move_options *o, const char *purpose);
void move_options_free(struct move_options *o);
