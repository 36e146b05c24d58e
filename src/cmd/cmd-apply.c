// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own apply: converge the system to its declarations (iommu-own.conf(5)), as one transaction. */
#include "config.h"

#include <argp.h>

#include "cmd/move.h"

enum { OPT_CONF = 0x700 };

static const struct argp_option apply_options[] = {
	{ "dry-run", MOVE_OPT_DRY_RUN, NULL, 0, "Print what each entry needs and the writes in order; change nothing", 0 },
	{ "conf", OPT_CONF, "FILE", 0, "Apply the declarations of FILE instead of the system's", 0 },
	{ 0 }
};

static error_t apply_parse(int key, char *arg, struct argp_state *state)
{
	struct move_options *o = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		break;
	case OPT_CONF:
		if (!*arg)
			argp_error(state, "--conf: empty file name");
		o->conf_file = arg;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "apply takes no arguments ('%s'): it applies every declaration", arg);
		break;
	default:
		return move_option(state, key, arg, o);
	}
	return 0;
}

static const struct argp_child apply_children[] = { { &move_common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp apply_argp = {
	apply_options, apply_parse, NULL,
	"Bring the system to its declarations (iommu-own.conf(5)): every declared group that is not yet owned "
	"by its declared VFIO driver is moved there, all groups in one transaction (one lock, one journal, all "
	"or none). An entry whose device drifted (another card at the address, a group that changed), that "
	"conflicts with another, or whose group a check refuses, is left as it is and reported with its code. "
	"A converged system changes nothing.\v"
	"Exit status: 0 converged (moved, or nothing to do), 1 failed and rolled back, 2 usage or runtime error "
	"(a declaration that does not parse), 3 the rollback is incomplete, 4 an interrupted move is pending, "
	"5 a write is stuck in the kernel, 6 an entry was refused (the others applied), 7 done but the report "
	"was lost, 128+N interrupted by signal N and rolled back.",
	apply_children, NULL, NULL
};

int cmd_apply(struct context *ctx, int argc, char **argv)
{
	struct move_options o = { .cmd = CMD_APPLY };
	command_parse(&apply_argp, argc, argv, &o);
	int status = move_run(ctx, &o);
	move_options_free(&o);
	return status;
}
