// SPDX-License-Identifier: GPL-2.0-or-later
/* What every command does first: parse its arguments, open the sysroot, load the model. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/commands.h"

int command_parse(const struct argp *argp, int argc, char **argv, void *input)
{
	_cleanup_free_ char *name = xasprintf("%s %s", program_name, argv[0]);
	char *saved = argv[0];
	argv[0] = name;
	int r = argp_parse(argp, argc, argv, 0, NULL, input);
	argv[0] = saved;
	return r;
}

void command_one_operand(struct argp_state *state, int key, const char **slot, const char *arg, const char *what,
			 const char *purpose)
{
	if (key == ARGP_KEY_ARG) {
		if (*slot)
			argp_error(state, "one %s at a time ('%s' is one too many)", what, arg);
		*slot = arg;
	} else if (key == ARGP_KEY_END && !*slot) {
		argp_error(state, "name the %s %s", what, purpose);
	}
}

int context_open(struct context *ctx)
{
	if (ctx->ka)
		return 0;
	int r = ka_open(ctx->sysroot, &ctx->ka);
	if (r == -ENOENT && strcmp(ctx->sysroot, "/") != 0) {
		struct stat st;
		if (stat(ctx->sysroot, &st) == 0)
			log_error("--sysroot %s: no sys/ directory in it (is it a captured tree?)", ctx->sysroot);
		else
			log_error("--sysroot %s: no such directory", ctx->sysroot);
	} else if (r < 0)
		log_error("%s: %s", ctx->sysroot, ka_strerror(r));
	return r;
}

int context_load(struct context *ctx, unsigned flags, int argc, char **argv, struct system **ret)
{
	int r = context_open(ctx);
	if (r < 0)
		return r;
	_cleanup_(model_freep) struct system *sys = NULL;
	r = model_load(ctx->ka, flags, &sys);
	if (r < 0)
		return r;
	r = model_select(sys, argc, argv);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(sys);
	return 0;
}
