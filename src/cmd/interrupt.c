// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <string.h>

#include "cmd/interrupt.h"

volatile sig_atomic_t interrupt_signal;

static void note(int sig)
{
	if (!interrupt_signal)
		interrupt_signal = sig;
}

void interrupt_catch(void)
{
	/* No SA_RESTART: a wait for the lock or a sleep ends, and the caller looks at the flag. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
