// SPDX-License-Identifier: GPL-2.0-or-later
/* jsoncheck: exit 0 when standard input is one well-formed JSON object (json-c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int main(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	if (!buf)
		return 2;
	buf[len] = '\0';
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	int ok = o && json_object_is_type(o, json_type_object) && json_tokener_get_error(tok) == json_tokener_success;
	/* nothing but white space may follow the object */
	for (size_t i = (size_t)json_tokener_get_parse_end(tok); ok && i < len; i++)
		ok = strchr(" \t\r\n", buf[i]) != NULL;
	if (!ok)
		fprintf(stderr, "jsoncheck: not one JSON object (%zu bytes read): %s\n", len,
			json_tokener_error_desc(json_tokener_get_error(tok)));
	json_object_put(o);
	json_tokener_free(tok);
	free(buf);
	return ok ? 0 : 1;
}
