// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cmd/output.h"
#include "shared/escape.h"
#include "shared/util.h"

enum { OPT_LIST_COLUMNS = 0x100 };

static const struct argp_option output_options[] = {
	{ "json", 'J', NULL, 0, "Print JSON (a stable format, see the man page)", 0 },
	{ "raw", 'r', NULL, 0, "Raw output: one line per row, no tree, no alignment", 0 },
	{ "noheadings", 'n', NULL, 0, "Do not print a header line", 0 },
	{ "output", 'o', "COLS", 0, "Columns to print, comma-separated (+COLS adds to the defaults)", 0 },
	{ "list-columns", OPT_LIST_COLUMNS, NULL, 0, "List the available columns and exit", 0 },
	{ 0 }
};

static error_t output_parse(int key, char *arg, struct argp_state *state)
{
	struct outopts *o = state->input;
	switch (key) {
	case 'J':
		o->json = true;
		break;
	case 'r':
		o->raw = true;
		break;
	case 'n':
		o->noheadings = true;
		break;
	case 'o':
		o->columns = arg;
		break;
	case OPT_LIST_COLUMNS:
		o->list_columns = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp output_argp = { output_options, output_parse, NULL, NULL, NULL, NULL, NULL };

static int column_lookup(const struct colinfo *tab, size_t ntab, const char *name, size_t len)
{
	for (size_t i = 0; i < ntab; i++)
		if (strlen(tab[i].name) == len && strncasecmp(tab[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int output_columns(struct outopts *o, const struct colinfo *tab, size_t ntab, const int *defaults,
		   size_t ndefaults)
{
	const char *spec = o->columns;
	free(o->cols);
	o->cols = NULL;
	o->ncols = 0;
	size_t cap = 0;
	if (!spec || *spec == '+') {
		for (size_t i = 0; i < ndefaults; i++) {
			o->cols = grow_array(o->cols, &cap, o->ncols + 1, sizeof(*o->cols));
			o->cols[o->ncols++] = defaults[i];
		}
		if (spec)
			spec++;
	}
	if (!spec)
		return 0;
	if (!*spec) {
		log_error("--output: no column named");
		return -EINVAL;
	}
	for (const char *p = spec; *p;) {
		const char *end = strchrnul(p, ',');
		int c = column_lookup(tab, ntab, p, (size_t)(end - p));
		if (c < 0) {
			log_error("--output: unknown column '%.*s' (see --list-columns)", (int)(end - p), p);
			return -EINVAL;
		}
		o->cols = grow_array(o->cols, &cap, o->ncols + 1, sizeof(*o->cols));
		o->cols[o->ncols++] = c;
		p = *end ? end + 1 : end;
	}
	return 0;
}

bool output_has_column(const struct outopts *o, int col)
{
	for (size_t i = 0; i < o->ncols; i++)
		if (o->cols[i] == col)
			return true;
	return false;
}

void output_free(struct outopts *o)
{
	free(o->cols);
	o->cols = NULL;
	o->ncols = 0;
}

void output_list_columns(const struct colinfo *tab, size_t ntab)
{
	size_t w = 0;
	for (size_t i = 0; i < ntab; i++)
		if (strlen(tab[i].name) > w)
			w = strlen(tab[i].name);
	for (size_t i = 0; i < ntab; i++)
		printf("%*s  %s\n", (int)w, tab[i].name, tab[i].help);
}

struct libscols_table *output_table(const struct outopts *o, const struct colinfo *tab, bool tree)
{
	struct libscols_table *t = scols_new_table();
	if (!t) {
		log_error("out of memory");
		exit(EXIT_USAGE);
	}
	scols_table_enable_raw(t, o->raw);
	scols_table_enable_noheadings(t, o->noheadings);
	/* No padding after a line's last cell with data (a group line of list has empty device cells). */
	scols_table_enable_minout(t, 1);
	for (size_t i = 0; i < o->ncols; i++) {
		const struct colinfo *ci = &tab[o->cols[i]];
		int flags = ci->flags;
		if (o->raw || !tree)
			flags &= ~SCOLS_FL_TREE;
		if (!scols_table_new_column(t, ci->name, ci->whint, flags)) {
			log_error("out of memory");
			exit(EXIT_USAGE);
		}
	}
	return t;
}

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

int output_json(struct json_object *doc)
{
	const char *s = json_object_to_json_string_ext(doc, JSON_FLAGS);
	if (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF)
		return -EIO;
	return 0;
}

void output_error_json(const char *code, const char *message)
{
	struct json_object *doc = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(e, "code", json_str(code));
	json_object_object_add(e, "message", json_str(message));
	json_object_object_add(doc, "error", e);
	output_json(doc);
	json_object_put(doc);
}

/* json-c's pretty text of value, every line after the first indented by indent spaces: one write. */
static void put_indented(struct json_stream *js, struct json_object *value, size_t indent)
{
	size_t len;
	const char *s = json_object_to_json_string_length(value, JSON_FLAGS, &len);
	const char *end = s + len;
	size_t lines = 0;
	for (const char *p = s; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		lines++;
	size_t need = len + lines * indent;
	if (need > js->cap) {
		js->cap = need * 2;
		free(js->buf);
		js->buf = xmalloc(js->cap);
	}
	char *o = js->buf;
	for (const char *p = s; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		memcpy(o, p, n);
		o += n;
		p += n;
		if (nl) {
			memset(o, ' ', indent);
			o += indent;
		}
	}
	fwrite(js->buf, 1, (size_t)(o - js->buf), js->f);
}

void json_stream_begin(struct json_stream *js)
{
	*js = (struct json_stream){ .f = stdout, .first_member = true };
	fputs("{", js->f);
}

static void member_key(struct json_stream *js, const char *key)
{
	fprintf(js->f, "%s\n  \"%s\": ", js->first_member ? "" : ",", key);
	js->first_member = false;
}

void json_stream_member(struct json_stream *js, const char *key, struct json_object *value)
{
	member_key(js, key);
	if (value)
		put_indented(js, value, 2);
	else
		fputs("null", js->f);
	json_object_put(value);
}

void json_stream_array_begin(struct json_stream *js, const char *key)
{
	member_key(js, key);
	fputs("[", js->f);
	js->first_element = true;
}

void json_stream_element(struct json_stream *js, struct json_object *value)
{
	fputs(js->first_element ? "\n    " : ",\n    ", js->f);
	js->first_element = false;
	put_indented(js, value, 4);
	json_object_put(value);
}

void json_stream_array_end(struct json_stream *js)
{
	/* json-c prints an empty array as "[\n  ]": keep the same text */
	fputs("\n  ]", js->f);
}

int json_stream_end(struct json_stream *js)
{
	fputs("\n}\n", js->f);
	free(js->buf);
	js->buf = NULL;
	js->cap = 0;
	return ferror(js->f) ? -EIO : 0;
}
