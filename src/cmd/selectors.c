// SPDX-License-Identifier: GPL-2.0-or-later
/* The selector options (core/select.h), an argp child of the commands that take GROUP|DEVICE. */
#include "config.h"

#include <argp.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/globals.h"
#include "os/layout.h"
#include "os/state.h"

enum { OPT_SLOT = 0x1100, OPT_CLASS, OPT_NETDEV, OPT_BLOCKDEV };

static const struct argp_option selector_options[] = {
	{ "slot", OPT_SLOT, "[[DOMAIN:]BUS:][SLOT][.FUNC]", 0, "Devices in these slots, as lspci -s (01:00, 00:1f.3)", 0 },
	{ "id", 'd', "[VENDOR]:[DEVICE][:CLASS]", 0, "Devices with these IDs, as lspci -d (10de:, 8086:1533)", 0 },
	{ "class", OPT_CLASS, "CLASS", 0,
	  "Devices of a class: gpu, nic, nvme, sata, storage, usb, audio, multimedia, bridge, or a code (0300)", 0 },
	{ "netdev", OPT_NETDEV, "NAME", 0, "The device of a network interface (found in claim records once it is gone)",
	  0 },
	{ "blockdev", OPT_BLOCKDEV, "NAME", 0, "The device of a disk or partition (nvme0n1, sda2; with or without its directory)", 0 },
	{ 0 }
};

static void add(struct argp_state *state, const char *kind, struct strv *to, const char *value)
{
	_cleanup_free_ char *why = NULL;
	if (selector_check(kind, value, &why) < 0) {
		globals_error_code("usage");
		argp_error(state, "%s", why);
	}
	strv_push(to, xstrdup(value));
}

static error_t selector_parse(int key, char *arg, struct argp_state *state)
{
	struct selectors *s = state->input;
	switch (key) {
	case OPT_SLOT:
		add(state, "slot", &s->slots, arg);
		break;
	case 'd':
		add(state, "id", &s->ids, arg);
		break;
	case OPT_CLASS:
		add(state, "class", &s->classes, arg);
		break;
	case OPT_NETDEV:
		add(state, "netdev", &s->netdevs, arg);
		break;
	case OPT_BLOCKDEV:
		add(state, "blockdev", &s->blockdevs, lay_dev_name(arg));
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp selectors_argp = { selector_options, selector_parse, NULL, NULL, NULL, NULL, NULL };

int context_pick(struct context *ctx, const struct selectors *sel, const struct system *sys, const char *state_dir,
		 struct strv *targets)
{
	struct state records;
	int r = state_dir ? state_open(&records, state_dir, false) : state_open_kernel(&records, ctx->ka, false);
	r = selectors_pick(sel, sys, ctx->ka, r == 0 ? &records : NULL, targets);
	if (records.dirfd >= 0)
		state_close(&records);
	if (r < 0)
		globals_error_code("no-match");
	return r;
}

int context_load_selected(struct context *ctx, unsigned flags, int argc, char **argv, const struct selectors *sel,
			  const char *state_dir, struct system **ret)
{
	if (!selectors_any(sel))
		return context_load(ctx, flags, argc, argv, ret);
	int r = context_open(ctx);
	if (r < 0)
		return r;
	_cleanup_(model_freep) struct system *sys = NULL;
	r = model_load(ctx->ka, flags | (selectors_need_ids(sel) ? MODEL_IDS : 0), &sys);
	if (r < 0)
		return r;
	struct strv targets = { 0 };
	for (int i = 0; i < argc; i++)
		strv_push(&targets, xstrdup(argv[i]));
	r = context_pick(ctx, sel, sys, state_dir, &targets);
	if (r == 0)
		r = model_select(sys, (int)targets.n, targets.v);
	strv_free(&targets);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(sys);
	return 0;
}
