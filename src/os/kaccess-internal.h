/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the kernel-access layer's files only (kaccess.c, kwrite.c, replay.c). */
#pragma once

#include <libkmod.h>
#include <stdint.h>
#include <sys/types.h>

#include "os/kaccess.h"

struct replay;

struct ka {
	char *root;
	int rootfd;
	int sysfd; /* <root>/sys, kept to re-check the filesystem type before writes */
	bool live;
	unsigned writes;
	struct kmod_ctx *kmod;
	struct replay *replay;
};

int ka_openat2_beneath(int dirfd, const char *rel, int flags);
/* openat2(2) with the caller's RESOLVE_* flags (and mode, for O_CREAT); retries EAGAIN. */
int ka_openat2_how(int dirfd, const char *rel, int flags, mode_t mode, uint64_t resolve);
/* Whether <root>/sys is (still) a sysfs mount. */
bool ka_sys_is_sysfs(const struct ka *ka);

/* replay.c: the kernel's semantics applied to a captured tree. */
int replay_apply(struct ka *ka, const struct ka_write *w);
int replay_load_driver(struct ka *ka, const char *driver, const char *module);
void replay_free(struct replay *r);
/* Faults injected through <sysroot>/replay-faults: <0 to fail, 0 to go on. */
int replay_fault(struct ka *ka, const char *op, const char *device, unsigned nth);
void replay_after_write(struct ka *ka, unsigned nth);
