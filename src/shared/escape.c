// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "shared/escape.h"
#include "shared/util.h"

/*
 * The length of the valid UTF-8 sequence at s (1 to 4), or 0 when the byte
 * there starts none: overlong forms, surrogates and code points above
 * U+10FFFF are invalid (RFC 3629). *cp is the code point.
 */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* A backslash is escaped only before an 'x', so that "\\x1b" can only mean an escaped byte. */
static bool unsafe_at(const unsigned char *p, uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || (cp == '\\' && p[1] == 'x');
}

bool esc_is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);
		if (!n || unsafe_at(p, cp))
			return false;
		p += n;
	}
	return true;
}

char *esc_text(const char *s)
{
	if (esc_is_clean(s))
		return xstrdup(s);
	size_t len = strlen(s);
	char *out = xmalloc(len * 4 + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);
		if (n && !unsafe_at(p, cp)) {
			memcpy(o, p, n);
			o += n;
			p += n;
			continue;
		}
		/* An unsafe character is escaped byte by byte: "\xc2\x9b" for CSI. */
		for (size_t i = 0; i < (n ? n : 1); i++)
			o += sprintf(o, "\\x%02x", p[i]);
		p += n ? n : 1;
	}
	*o = '\0';
	return out;
}

int esc_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	char *text;
	if (vasprintf(&text, fmt, ap) < 0)
		return -ENOMEM;
	size_t len = strlen(text);
	bool nl = len > 0 && text[len - 1] == '\n';
	if (nl)
		text[len - 1] = '\0';
	char *safe = esc_text(text);
	free(text);
	int r = fputs(safe, f) == EOF || (nl && fputc('\n', f) == EOF) ? -EIO : 0;
	free(safe);
	return r;
}

int esc_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = esc_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

struct json_object *json_str(const char *s)
{
	if (!s)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	bool valid = true;
	for (uint32_t cp; *p && valid;) {
		size_t n = utf8_seq(p, &cp);
		valid = n > 0;
		p += n;
	}
	if (valid)
		return json_object_new_string(s);
	/* U+FFFD (3 bytes) for each byte that starts no valid sequence. */
	size_t len = strlen(s);
	char *out = xmalloc(len * 3 + 1), *o = out;
	for (p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);
		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	struct json_object *j = json_object_new_string(out);
	free(out);
	return j;
}
