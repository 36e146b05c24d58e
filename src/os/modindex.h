/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's module index through libkmod: the running kernel's on the
 * live system, the tree's own lib/modules/<osrelease> for a captured tree
 * (never the host's modprobe.d there).
 */
#pragma once

#include <libkmod.h>

#include "os/kaccess.h"

/*
 * The libkmod context of ka's kernel, made once. -ENOPKG: a tree without a
 * module index; -EMEDIUMTYPE: an index file that is not a regular file
 * (libkmod would block on a FIFO).
 */
int ka_kmod(struct ka *ka, struct kmod_ctx **ret);
/* The modules whose aliases match a modalias; names checked as path components. */
int ka_modalias_modules(struct ka *ka, const char *modalias, struct strv *ret);
/* Whether a module is built into the kernel (modules.builtin): its driver binds before any boot step. */
bool ka_module_builtin(struct ka *ka, const char *module);
/* The module that provides a driver named driver ('-' becomes '_', as Kbuild names modules). */
char *module_for_driver(const char *driver);
