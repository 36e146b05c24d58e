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

/*
 * Directories looked up by path (dev/vfio for every group of a listing), kept
 * open until the handle writes anything: a write may add or remove them.
 */
#define KA_DIRS 8
struct ka_dirs {
	char *rel[KA_DIRS];
	int fd[KA_DIRS];
	unsigned long used[KA_DIRS], clock;
};

/* Names of IDs (a node's owner), looked up once per handle. */
struct ka_memo {
	char **key, **value;
	size_t n;
};

struct ka {
	char *root;
	int rootfd;
	int sysfd; /* <root>/sys, kept to re-check the filesystem type before writes */
	bool live;
	unsigned writes;
	int timeout_ms;
	struct kmod_ctx *kmod;
	struct ka_backend *backend; /* made by ka_writer_open() */
	/* caches, mutable through the const handles every reader is given */
	struct ka_dirs *dirs;
	struct ka_memo *memo;
};

/* Close the directories kept by path (before anything is written). */
void ka_forget_dirs(const struct ka *ka);

/* Whether <root>/sys is (still) a sysfs mount. */
bool ka_sys_is_sysfs(const struct ka *ka);
