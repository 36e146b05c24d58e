// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Output for a person at a terminal: tables fitted to its width (long text
 * columns truncated with a mark or wrapped at word boundaries, the short
 * identifying columns kept whole), text wrapped at words, colour. Nothing
 * here changes what goes to a pipe or a file.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include "cmd/terminal.h"
#include "shared/escape.h"
#include "shared/util.h"

static enum color_mode color_mode = COLOR_AUTO;

void term_set_color_mode(enum color_mode m)
{
	color_mode = m;
}

bool term_is_tty(void)
{
	return isatty(STDOUT_FILENO) == 1;
}

bool term_colors(void)
{
	if (color_mode == COLOR_ALWAYS)
		return true;
	if (color_mode == COLOR_NEVER)
		return false;
	const char *no = getenv("NO_COLOR"); /* https://no-color.org: set and not empty */
	if (no && *no)
		return false;
	const char *term = getenv("TERM");
	return term_is_tty() && !(term && streq(term, "dumb"));
}

size_t term_width(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *cols = getenv("COLUMNS");
	unsigned long v;
	if (cols && parse_ulong(cols, 10, &v) == 0 && v > 0 && v < 10000)
		return v;
	return 80;
}

/* Display cells of the first n bytes of s (a byte that is not valid UTF-8 counts one). */
static size_t width_n(const char *s, size_t n)
{
	mbstate_t st = { 0 };
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			w++;
			i++;
			continue;
		}
		int cw = wcwidth(wc);
		w += cw > 0 ? (size_t)cw : 0;
		i += k;
	}
	return w;
}

size_t term_text_width(const char *s)
{
	return s ? width_n(s, strlen(s)) : 0;
}

/* Bytes of s that fit in w cells. */
static size_t bytes_fitting(const char *s, size_t w)
{
	mbstate_t st = { 0 };
	size_t n = strlen(s), used = 0, i = 0;
	while (i < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &st);
		size_t cw = 1;
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			k = 1;
		} else {
			int c = wcwidth(wc);
			cw = c > 0 ? (size_t)c : 0;
		}
		if (used + cw > w)
			break;
		used += cw;
		i += k;
	}
	return i;
}

/* The mark of a cut: U+2026 where the locale speaks UTF-8, else three dots. */
static const char *ellipsis(size_t *cells)
{
	bool utf8 = MB_CUR_MAX > 1;
	*cells = utf8 ? 1 : 3;
	return utf8 ? "\xe2\x80\xa6" : "...";
}

char *term_truncate(const char *s, size_t w)
{
	if (term_text_width(s) <= w)
		return xstrdup(s);
	size_t mark_w;
	const char *mark = ellipsis(&mark_w);
	if (w <= mark_w)
		return xstrndup(mark, bytes_fitting(mark, w));
	size_t keep = bytes_fitting(s, w - mark_w);
	while (keep > 0 && s[keep - 1] == ' ')
		keep--;
	return xasprintf("%.*s%s", (int)keep, s, mark);
}

char *term_wrap(const char *s, size_t w)
{
	if (w < 1)
		w = 1;
	size_t n = strlen(s);
	char *out = xmalloc(n * 2 + 2), *o = out;
	size_t col = 0;
	const char *p = s;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t wlen = strcspn(p, " ");
		size_t ww = width_n(p, wlen);
		if (col > 0 && col + 1 + ww > w) {
			*o++ = '\n';
			col = 0;
		} else if (col > 0) {
			*o++ = ' ';
			col++;
		}
		/* A word longer than the line is cut where the line ends. */
		while (ww > w - col && w > col) {
			size_t k = bytes_fitting(p, w - col);
			if (k == 0)
				k = 1;
			memcpy(o, p, k);
			o += k;
			*o++ = '\n';
			p += k;
			wlen -= k;
			ww = width_n(p, wlen);
			col = 0;
		}
		memcpy(o, p, wlen);
		o += wlen;
		col += ww;
		p += wlen;
	}
	*o = '\0';
	return out;
}

void term_print_wrapped(FILE *f, const char *first, const char *rest, const char *text, size_t width)
{
	size_t indent = term_text_width(first) > term_text_width(rest) ? term_text_width(first) : term_text_width(rest);
	size_t w = width > indent + 20 ? width - indent : 20;
	_cleanup_free_ char *safe = esc_text(text);
	_cleanup_free_ char *wrapped = term_wrap(safe, w);
	const char *lead = first;
	for (char *line = wrapped, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		fprintf(f, "%s%s\n", lead, line);
		lead = rest;
	}
}
