// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cmd/output.h"
#include "cmd/globals.h"
#include "cmd/terminal.h"
#include "shared/escape.h"
#include "shared/util.h"

enum { OPT_LIST_COLUMNS = 0x100 };

static const struct argp_option output_options[] = {
	{ "raw", 'r', NULL, 0, "Raw output: one line per row, no tree, no alignment; an empty cell is \"-\"", 0 },
	{ "pairs", 'P', NULL, 0, "KEY=\"value\" pairs, one line per row (values escaped as lsblk -P does)", 0 },
	{ "noheadings", 'n', NULL, 0, "Do not print a header line", 0 },
	{ "output", 'o', "COLS", 0, "Columns to print, comma-separated (+COLS adds to the defaults)", 0 },
	{ "list-columns", OPT_LIST_COLUMNS, NULL, 0, "List the available columns and exit", 0 },
	{ 0 }
};

static error_t output_parse(int key, char *arg, struct argp_state *state)
{
	struct outopts *o = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		o->json = globals_json(); /* -J before the command */
		break;
	case ARGP_KEY_END: /* -J is a global option: before or after the command */
		o->json = globals_json();
		return ARGP_ERR_UNKNOWN;
	case 'r':
		o->raw = true;
		break;
	case 'P':
		o->pairs = true;
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
		globals_error_code("usage");
		log_error("--output: no column named");
		return -EINVAL;
	}
	for (const char *p = spec; *p;) {
		const char *end = strchrnul(p, ',');
		int c = column_lookup(tab, ntab, p, (size_t)(end - p));
		if (c < 0) {
			globals_error_code("usage");
			log_error("--output: unknown column '%.*s' (see --list-columns)", (int)(end - p), p);
			return -EINVAL;
		}
		o->cols = grow_array(o->cols, &cap, o->ncols + 1, sizeof(*o->cols));
		o->cols[o->ncols++] = c;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int output_cell(struct libscols_line *ln, size_t i, const char *s, const struct outopts *o)
{
	if ((!s || !*s) && o->raw && !o->pairs)
		s = "-";
	if (!s)
		return 0;
	return scols_line_set_data(ln, i, s) < 0 ? -ENOMEM : 0;
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
	if (globals_json()) {
		_cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < ntab; i++) {
			struct json_object *c = json_object_new_object();
			json_object_object_add(c, "name", json_str(tab[i].name));
			json_object_object_add(c, "description", json_str(tab[i].help));
			json_object_array_add(arr, c);
		}
		json_object_object_add(doc, "columns", arr);
		output_json(doc);
		return;
	}
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
	scols_table_enable_export(t, o->pairs);
	scols_table_enable_noheadings(t, o->noheadings);
	/* No padding after a line's last cell with data (a group line of list has empty device cells). */
	scols_table_enable_minout(t, 1);
	for (size_t i = 0; i < o->ncols; i++) {
		const struct colinfo *ci = &tab[o->cols[i]];
		int flags = ci->flags;
		if (output_flat(o) || !tree)
			flags &= ~SCOLS_FL_TREE;
		if (!scols_table_new_column(t, ci->name, ci->whint, flags)) {
			log_error("out of memory");
			exit(EXIT_USAGE);
		}
	}
	return t;
}

/* ---- fitting a table to the terminal ---- */

/* What a cell takes on screen: libsmartcols shows a control byte as \xNN. */
static size_t shown_width(const char *data)
{
	if (!data)
		return 0;
	for (const unsigned char *p = (const unsigned char *)data; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			_cleanup_free_ char *e = esc_text(data);
			return term_text_width(e);
		}
	return term_text_width(data);
}

struct colfit {
	size_t want;  /* the widest cell or header */
	size_t width; /* what it gets */
	size_t min;
	bool empty;   /* no cell has data */
	bool hidden;
	const struct colinfo *ci;
};

/* The widest cell of each chosen column (tree art included), and the header. */
static void measure(struct libscols_table *t, const struct outopts *o, const struct colinfo *tab, struct colfit *f)
{
	for (size_t i = 0; i < o->ncols; i++) {
		f[i].ci = &tab[o->cols[i]];
		f[i].want = o->noheadings ? 0 : strlen(f[i].ci->name);
		f[i].min = f[i].ci->fit == FIT_KEEP ? 0 : (strlen(f[i].ci->name) > 8 ? strlen(f[i].ci->name) : 8);
		f[i].empty = true;
	}
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;
	while (it && scols_table_next_line(t, it, &ln) == 0)
		for (size_t i = 0; i < o->ncols; i++) {
			const char *d = scols_cell_get_data(scols_line_get_cell(ln, i));
			size_t w = shown_width(d);
			f[i].empty &= w == 0;
			if ((f[i].ci->flags & SCOLS_FL_TREE) && scols_line_get_parent(ln))
				w += 2; /* "├─" */
			if (w > f[i].want)
				f[i].want = w;
		}
	scols_free_iter(it);
}

static bool gives_way(const struct colfit *c)
{
	return !c->hidden && c->ci->fit != FIT_KEEP;
}

/* Share avail cells among the columns that give way, in proportion to their shares, none above its want. */
static bool share_out(struct colfit *f, size_t n, size_t avail)
{
	size_t used = 0;
	for (size_t i = 0; i < n; i++)
		if (gives_way(&f[i])) {
			f[i].width = f[i].want < f[i].min ? f[i].want : f[i].min;
			used += f[i].width;
		}
	if (used > avail)
		return false;
	for (size_t left = avail - used; left > 0;) {
		double total = 0;
		for (size_t i = 0; i < n; i++)
			if (gives_way(&f[i]) && f[i].width < f[i].want)
				total += f[i].ci->share > 0 ? f[i].ci->share : 1;
		if (total == 0)
			break;
		size_t given = 0;
		for (size_t i = 0; i < n && given < left; i++) {
			if (!gives_way(&f[i]) || f[i].width >= f[i].want)
				continue;
			double sh = f[i].ci->share > 0 ? f[i].ci->share : 1;
			size_t add = (size_t)((double)left * sh / total);
			add = add ? add : 1;
			add = add < f[i].want - f[i].width ? add : f[i].want - f[i].width;
			add = add < left - given ? add : left - given;
			f[i].width += add;
			given += add;
		}
		left -= given;
	}
	return true;
}

static void apply_fit(struct libscols_table *t, const struct outopts *o, const struct colfit *f)
{
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;
	while (it && scols_table_next_line(t, it, &ln) == 0)
		for (size_t i = 0; i < o->ncols; i++) {
			if (!gives_way(&f[i]))
				continue;
			struct libscols_cell *ce = scols_line_get_cell(ln, i);
			const char *d = scols_cell_get_data(ce);
			if (!d || shown_width(d) <= f[i].width)
				continue;
			_cleanup_free_ char *e = esc_text(d);
			_cleanup_free_ char *v = f[i].ci->fit == FIT_WRAP ? term_wrap(e, f[i].width) : term_truncate(e, f[i].width);
			scols_cell_set_data(ce, v);
		}
	scols_free_iter(it);
	for (size_t i = 0; i < o->ncols; i++) {
		struct libscols_column *cl = scols_table_get_column(t, i);
		int flags = scols_column_get_flags(cl) & ~SCOLS_FL_TRUNC;
		if (f[i].hidden)
			flags |= SCOLS_FL_HIDDEN;
		/* Exact widths: libsmartcols would widen a column to its relative hint otherwise. */
		scols_column_set_whint(cl, (double)(gives_way(&f[i]) ? f[i].width : f[i].want));
		if (gives_way(&f[i]) && f[i].ci->fit == FIT_WRAP) {
			flags |= SCOLS_FL_WRAP;
			scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize, scols_wrapnl_nextchunk, NULL);
			scols_column_set_safechars(cl, "\n"); /* the line breaks are ours; other controls stay escaped */
		}
		scols_column_set_flags(cl, flags);
	}
}

/* Cells the shown columns take, separators included; fixed: only those that never give way. */
static size_t taken(const struct colfit *f, size_t n, bool fixed)
{
	size_t w = 0, shown = 0;
	for (size_t i = 0; i < n; i++) {
		if (f[i].hidden)
			continue;
		shown++;
		if (!fixed || f[i].ci->fit == FIT_KEEP)
			w += f[i].want;
	}
	return w + (shown ? shown - 1 : 0);
}

/*
 * The truncated column with the smallest share: left out first when the
 * others would be too narrow (list's CLASS before its NAME). Wrapped text
 * (check's MESSAGE and HINT) is never left out.
 */
static struct colfit *least_share(struct colfit *f, size_t n)
{
	struct colfit *best = NULL;
	size_t left = 0;
	for (size_t i = 0; i < n; i++)
		if (gives_way(&f[i])) {
			left++;
			if (f[i].ci->fit == FIT_TRUNCATE && (!best || f[i].ci->share < best->ci->share))
				best = &f[i];
		}
	return left > 1 ? best : NULL;
}

/* Below this, the column with the largest share is cut too short to read: another gives way whole. */
#define READABLE 24

static bool main_column_readable(const struct colfit *f, size_t n)
{
	const struct colfit *main = NULL;
	for (size_t i = 0; i < n; i++)
		if (gives_way(&f[i]) && (!main || f[i].ci->share > main->ci->share))
			main = &f[i];
	return !main || main->width >= (main->want < READABLE ? main->want : READABLE);
}

bool output_fit(struct libscols_table *t, const struct outopts *o, const struct colinfo *tab)
{
	if (!term_is_tty() || output_flat(o) || o->json || o->ncols == 0)
		return true;
	size_t termw = term_width(), n = o->ncols;
	_cleanup_free_ struct colfit *f = xcalloc(n, sizeof(*f));
	measure(t, o, tab, f);
	if (taken(f, n, false) <= termw)
		return true;
	/* The default columns only: one with nothing in it says nothing (an OVERRIDE no device has). */
	for (size_t i = 0; i < n && !o->columns; i++)
		f[i].hidden = f[i].empty && f[i].ci->fit == FIT_KEEP;
	for (;;) {
		size_t fixed = taken(f, n, true);
		if (fixed < termw && share_out(f, n, termw - fixed) && main_column_readable(f, n))
			break;
		struct colfit *drop = o->columns ? NULL : least_share(f, n);
		if (!drop) {
			if (taken(f, n, true) < termw && share_out(f, n, termw - taken(f, n, true)))
				break; /* as readable as it gets */
			return false;
		}
		drop->hidden = true;
	}
	apply_fit(t, o, f);
	return true;
}

void output_color(struct libscols_line *ln, size_t i, const char *color)
{
	if (color && term_colors())
		scols_cell_set_color(scols_line_get_cell(ln, i), color);
}

int output_print(struct libscols_table *t)
{
	scols_table_enable_colors(t, term_colors());
	return scols_print_table(t) < 0 ? -EIO : 0;
}

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

static bool json_written;

bool output_json_written(void)
{
	return json_written;
}

int output_json(struct json_object *doc)
{
	json_written = true;
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
	json_written = true;
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
