/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit: findings judged from the model. Codes are a stable contract. */
#pragma once

#include "core/decl.h"
#include "core/journal.h"
#include "core/model.h"

enum severity { SEV_INFO, SEV_WARNING, SEV_ERROR, _SEV_MAX };
const char *severity_to_string(enum severity s);

struct finding {
	const char *code;
	enum severity severity;
	const struct group *group; /* NULL: about the whole system */
	struct strv devices;       /* addresses */
	char *message;
	char *hint;
};

struct findings {
	struct finding *v;
	size_t n, cap;
	size_t count[_SEV_MAX];
};

/*
 * What the audit needs read (MODEL_* flags), and nothing more: the class (VGA
 * and bridge checks), not vendor and device; not the domain type.
 */
#define AUDIT_MODEL_FLAGS \
	(MODEL_CLASS | MODEL_OVERRIDE | MODEL_BOOT_VGA | MODEL_RESET_USER | MODEL_REGIONS | MODEL_PARAMS)

struct audit_options {
	bool all; /* include findings of severity info */
	/* The reason a group is shared, in one line (from config space); the caller frees it. */
	char *(*why_line)(void *ctx, const struct group *g);
	void *why_ctx;
	/*
	 * How the commands in hints start, to be pasted as they are: "iommu-own"
	 * or "iommu-own --sysroot DIR" (NULL: "iommu-own"), and the options
	 * that follow a move command (" --state-dir DIR", or NULL).
	 */
	const char *prog, *state_opt;
	/* What the state directories say about moves (NULL: not looked at). */
	const struct move_status *moves;
	/* A state directory that could not be read (NULL: none): an interrupted move there is not seen. */
	const char *state_unreadable;
	/* The declarations (NULL: not looked at), judged through ka (db reads serials; NULL: not compared). */
	const struct decls *decls;
	struct ka *ka;
	struct pcidb *db;
	/* What the boot step enforced (its boot.json; NULL: it did not run this boot). */
	struct json_object *boot;
};

/* Judge the selected part of the system; global findings are always included. */
void audit_run(const struct system *sys, struct findings *out);
void audit_run_with(const struct system *sys, const struct audit_options *o, struct findings *out);
/* Whether a group's endpoints come from more than one slot (domain:bus:device). */
bool group_spans_slots(const struct group *g);
void findings_free(struct findings *f);

/* Every finding code with its severity and a one-line description (for docs and tests). */
struct finding_code {
	const char *code;
	enum severity severity;
	const char *description;
};
extern const struct finding_code finding_codes[];
extern const size_t n_finding_codes;
