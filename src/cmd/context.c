// SPDX-License-Identifier: GPL-2.0-or-later
/* What every command does first: parse its arguments, open the sysroot, load the model. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "os/pcidb.h"
#include "cmd/commands.h"
#include "cmd/globals.h"

/* The command's own argp and the global options, each given its input. */
static error_t wrapper_parse(int key, char *arg _unused_, struct argp_state *state)
{
	if (key == ARGP_KEY_INIT) {
		state->child_inputs[0] = state->input;
		state->child_inputs[1] = NULL;
	}
	return ARGP_ERR_UNKNOWN;
}

int command_parse(const struct argp *argp, int argc, char **argv, void *input)
{
	_cleanup_free_ char *name = xasprintf("%s %s", program_name, argv[0]);
	char *saved = argv[0];
	argv[0] = name;
	/* Global options are accepted after the command too: "list -s TREE", "claim 3 -J". */
	const struct argp_child children[] = { { argp, 0, NULL, 0 }, { &globals_argp, 0, "Global options:", 3 }, { 0 } };
	const struct argp top = { NULL, wrapper_parse, NULL, NULL, children, NULL, NULL };
	globals_parse_begin();
	int r = argp_parse(&top, argc, argv, 0, NULL, input);
	globals_parse_end();
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

/* A word as a shell reads it back: as it is when it holds nothing special, else in single quotes. */
static char *shell_word(const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./:,@%") == strlen(s))
		return xstrdup(s);
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *out = xmalloc(n), *o = out;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *context_command(const struct context *ctx)
{
	if (streq(ctx->sysroot, "/"))
		return xstrdup(program_name);
	_cleanup_free_ char *root = shell_word(ctx->sysroot);
	return xasprintf("%s --sysroot %s", program_name, root);
}

char *state_dir_option(const char *dir)
{
	if (!dir)
		return xstrdup("");
	_cleanup_free_ char *w = shell_word(dir);
	return xasprintf(" --state-dir %s", w);
}

int context_open_config(struct context *ctx, struct pcidb **ret)
{
	int r = pcidb_new(ctx->pci_ids, ret);
	if (r == 0)
		r = pcidb_use_sysroot(*ret, ka_root(ctx->ka));
	if (r < 0)
		log_error("cannot read config space under %s: %s", ka_root(ctx->ka), strerror(-r));
	return r;
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
	if (r < 0)
		globals_error_code("sysroot");
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
	if (r < 0) {
		globals_error_code("usage"); /* an operand that names nothing */
		return r;
	}
	*ret = TAKE_PTR(sys);
	return 0;
}
