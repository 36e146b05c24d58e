// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own recover: finish or roll back a move that was interrupted. */
#include "config.h"

#include <argp.h>

#include "cmd/move.h"

static const struct argp_option recover_options[] = {
	{ "dry-run", MOVE_OPT_DRY_RUN, NULL, 0,
	  "Say whether it would finish or roll back, and each device's driver now and after; change nothing", 0 },
	{ 0 }
};

static error_t recover_parse(int key, char *arg, struct argp_state *state)
{
	struct move_options *o = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "recover takes no arguments ('%s')", arg);
		break;
	default:
		return move_option(state, key, arg, o);
	}
	return 0;
}

static const struct argp_child recover_children[] = { { &move_common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp recover_argp = {
	recover_options, recover_parse, NULL,
	"Finish or roll back a claim or release that was interrupted (killed, power loss before reboot): "
	"when every device already reached its end state the move is finished, otherwise every device "
	"is rolled back to its state before the move, as the journal recorded it.\v"
	"Exit status: 0 recovered or nothing to recover, 1 rollback refused while a process holds the "
	"devices (nothing written), 2 usage error or unusable journal, 3 the rollback is incomplete, "
	"5 a write is stuck in the kernel, 7 done but the report was lost.",
	recover_children, NULL, NULL
};

int cmd_recover(struct context *ctx, int argc, char **argv)
{
	struct move_options o = { .cmd = CMD_RECOVER };
	command_parse(&recover_argp, argc, argv, &o);
	return move_run(ctx, &o);
}
