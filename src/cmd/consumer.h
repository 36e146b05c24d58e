/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a consumer of a group is given, for list (columns, JSON) and claim -J. */
#pragma once

#include <json-c/json.h>

#include "core/handoff.h"

/*
 * {"interface", "nodes", "owner", "owner_group", "mode", "users"}, and "group" first
 * when group is not negative (claim -J's "consumers").
 */
struct json_object *consumer_json(const struct ka *ka, long group, const struct consumer *c);
/* The group's own node's owner "user:group" and mode "0600" (NULL: it has no VFIO node). */
char *consumer_owner_text(const struct ka *ka, const struct consumer *c);
char *consumer_mode_text(const struct consumer *c);
