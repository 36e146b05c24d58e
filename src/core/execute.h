/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Doing a transaction: its writes in order, the verification, and the rollback. */
#pragma once

#include "core/plan.h"

enum exec_result {
	EXEC_DONE,        /* every write made */
	EXEC_FAILED,      /* a write failed: t->failed_write */
	EXEC_BLOCKED,     /* a write is stuck in the kernel past the timeout: t->failed_write */
	EXEC_INTERRUPTED, /* *t->stop was set: stopped between two writes */
};

/* The planned writes in order, stopping at the first failure or when *t->stop is set. */
enum exec_result txn_execute(struct ka *ka, struct txn *t);
/* Re-read every device: whether each moving device reached its end state (m->after, m->ok). */
bool txn_verify(const struct ka *ka, struct txn *t);
/* Every moved device back to its state before, in reverse order, each re-read. */
bool txn_rollback(struct ka *ka, struct txn *t);
/* The failure message for the first failed write. */
void txn_set_write_error(struct txn *t);
