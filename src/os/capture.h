/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture of a system into a replayable sysroot (iommu-own snapshot). */
#pragma once

#include <stdbool.h>

#include "os/kaccess.h"

struct capture_options {
	bool no_config; /* leave config space out */
	bool no_serial; /* zero the Device Serial Number, leave MAC addresses out */
};

struct capture_stats {
	unsigned files, links, skipped;
};

/*
 * Copy what the tool reads from ka's system into the empty directory outfd.
 * Nothing is created or followed outside outfd. Returns 0 or a negative errno.
 */
int capture_run(const struct ka *ka, int outfd, const struct capture_options *o, struct capture_stats *stats);
