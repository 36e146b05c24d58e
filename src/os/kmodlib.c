// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <dlfcn.h>
#include <stdbool.h>

#include "os/kmodlib.h"
#include "shared/util.h"

const struct kmodlib *kmodlib(void)
{
	static struct kmodlib lib;
	static bool tried, loaded;
	if (tried)
		return loaded ? &lib : NULL;
	tried = true;
	/* RTLD_NOW: a missing symbol is found here, not in the middle of a move */
	void *h = dlopen(LIBKMOD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_error("cannot load %s (libkmod, for the module index): %s", LIBKMOD_SONAME, dlerror());
		return NULL;
	}
#define KMODLIB_LOAD(f)                                                                                             \
	if (!(lib.f = (__typeof__(&f))dlsym(h, #f))) {                                                             \
		log_error("%s has no %s: not the libkmod the tool was built with", LIBKMOD_SONAME, #f);            \
		return NULL;                                                                                         \
	}
	KMODLIB_FUNCTIONS(KMODLIB_LOAD)
#undef KMODLIB_LOAD
	/* kept loaded: the handle is never closed, as a linked library never is */
	loaded = true;
	return &lib;
}
