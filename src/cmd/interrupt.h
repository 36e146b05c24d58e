/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signals during a move: SIGINT, SIGTERM and SIGHUP (Ctrl-C, systemd's stop,
 * timeout(1), a CI cancel, a closed terminal) no longer kill the process
 * mid-move: they are noted, the move stops between two writes and rolls
 * back (or finishes when only the verification was left), and the process
 * exits with 128 + the signal's number. SIGPIPE is ignored, so that a
 * report written to a closed pipe fails as a write, after the move.
 */
#pragma once

#include <signal.h>

/* 0, or the number of the signal received since interrupt_catch(). */
extern volatile sig_atomic_t interrupt_signal;

void interrupt_catch(void);
