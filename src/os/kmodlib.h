/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libkmod, loaded (dlopen) when the module index is first needed, not at
 * start-up: libkmod brings libcrypto, liblzma, libzstd and libz, whose
 * loading and relocation cost more than listing a 100-device host (0.9 ms
 * of CPU a run, measured), and only moves and declarations use it.
 */
#pragma once

#include <libkmod.h>

/* The functions of libkmod the tool calls, as libkmod.h declares them. */
#define KMODLIB_FUNCTIONS(X)                                                                                        \
	X(kmod_new)                                                                                                  \
	X(kmod_unref)                                                                                                \
	X(kmod_list_next)                                                                                            \
	X(kmod_module_new_from_lookup)                                                                               \
	X(kmod_module_new_from_name)                                                                                 \
	X(kmod_module_get_module)                                                                                    \
	X(kmod_module_get_name)                                                                                      \
	X(kmod_module_probe_insert_module)                                                                           \
	X(kmod_module_unref)                                                                                         \
	X(kmod_module_unref_list)

struct kmodlib {
#define KMODLIB_POINTER(f) __typeof__(&f) f;
	KMODLIB_FUNCTIONS(KMODLIB_POINTER)
#undef KMODLIB_POINTER
};

/*
 * libkmod's functions, loaded on the first call. NULL when it cannot be
 * loaded: the reason has been printed (once), and what needed the module
 * index fails closed (-ELIBACC).
 */
const struct kmodlib *kmodlib(void);
