/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The global options, and the JSON mode every command honours (cmd/globals.c). */
#pragma once

#include <argp.h>
#include <stdbool.h>

#include "cmd/commands.h"

/* --sysroot, --pci-ids, --dma-safe-driver, --json, -h: an argp child of main and of every command. */
extern const struct argp globals_argp;

/* Before anything is parsed: the context the options fill, and whether -J is asked for. */
void globals_init(struct context *ctx, int argc, char **argv);
/* Around each argp_parse: in JSON mode a usage error becomes an error document. */
void globals_parse_begin(void);
void globals_parse_end(void);
bool globals_json(void);
void globals_set_json(void);
/* The stable code of the failure about to be reported (the first one set is kept). */
void globals_error_code(const char *code);
/* At the end: in JSON mode, a failure that printed no document prints an error document. */
int globals_finish(int status);
