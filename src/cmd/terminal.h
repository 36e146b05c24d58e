/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output for a person at a terminal: width, wrapping, truncation, colour (cmd/terminal.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };
void term_set_color_mode(enum color_mode m);
/* --color: auto (a terminal, and NO_COLOR unset or empty), always, never. */
bool term_colors(void);
bool term_is_tty(void);
/* The terminal's columns (stdout's, else $COLUMNS, else 80). */
size_t term_width(void);
/* Display cells of a string (UTF-8 aware; a byte that is not UTF-8 counts one). */
size_t term_text_width(const char *s);
/* s cut to w cells with a visible mark (U+2026, or "..." outside UTF-8 locales). */
char *term_truncate(const char *s, size_t w);
/* s wrapped at spaces into lines of at most w cells ('\n' between them); a longer word is cut. */
char *term_wrap(const char *s, size_t w);
/* text (escaped) wrapped at words to width, its first line after first, the others after rest. */
void term_print_wrapped(FILE *f, const char *first, const char *rest, const char *text, size_t width);
