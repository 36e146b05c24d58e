/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text from the tree (driver names, overrides, process names, pci.ids names)
 * is any bytes root or a captured tree chose: it reaches a terminal and JSON
 * only through here, so an escape sequence can never drive the terminal, a
 * newline can never forge a line, and JSON is valid whatever the bytes.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "shared/macro.h"

/*
 * A copy of s safe to print: control characters (C0, DEL, C1), bytes that
 * are not part of valid UTF-8, and a backslash before an 'x' become "\xNN",
 * as util-linux prints unsafe characters; everything else is kept. The
 * caller frees it.
 */
char *esc_text(const char *s);
/* Whether s would print as itself (nothing to escape). */
bool esc_is_clean(const char *s);

/*
 * printf into f with the whole formatted text escaped, except one final
 * newline: every line of the tool's own reports goes through this (one call
 * per line). Returns a negative errno when the stream failed.
 */
int esc_fprintf(FILE *f, const char *fmt, ...) _printf_(2, 3);
int esc_vfprintf(FILE *f, const char *fmt, va_list ap);

/*
 * A JSON string (NULL for s NULL: JSON null) that is always valid: bytes that
 * are not valid UTF-8 become U+FFFD (json-c escapes control characters
 * itself). Every JSON string the tool prints is made here.
 */
struct json_object *json_str(const char *s);
