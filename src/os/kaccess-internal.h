/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * struct ka, for the files that make up the kernel-access handle only:
 * kaccess.c (reads), write.c (the dispatcher to the backends) and
 * modindex.c. Backends (live.c, replay.c, faults.c) never see it: they use
 * the public kaccess.h, resolve.h and layout.h.
 */
#pragma once

#include <libkmod.h>
#include <stdbool.h>

#include "os/backend.h"
#include "os/kaccess.h"

struct ka {
	char *root;
	int rootfd;
	int sysfd; /* <root>/sys, kept to re-check the filesystem type before writes */
	bool live;
	unsigned writes;
	int timeout_ms;
	struct kmod_ctx *kmod;
	struct ka_backend *backend; /* made by ka_writer_open() */
};

/* Whether <root>/sys is (still) a sysfs mount. */
bool ka_sys_is_sysfs(const struct ka *ka);
