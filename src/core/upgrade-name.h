/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Upgrade plan names and the folder names they map to under upgrades/. A name is percent-encoded byte
 * by byte (everything outside [A-Za-z0-9._~-] becomes %XX, upper-case hex), so any name maps to exactly
 * one safe folder name and back. Pure. */

#include "macro.h"

#define UPGRADE_FOLDER_NAME_MAX 255

/* Encodes name into a folder name. -EINVAL for an empty name, "." or ".."; -ENAMETOOLONG when the
 * encoded form is longer than 255 bytes. */
int upgrade_name_to_folder(const char *name, char **ret);

/* The lower-cased folder name, as cosmovisor creates folders; NULL-safe. Returns 0 and sets *ret to NULL
 * when it equals the folder name itself. */
int upgrade_folder_lowercase(const char *folder, char **ret);

/* The folder cosmovisor uses for the same plan: url.PathEscape(strings.ToLower(name)), so it keeps
 * '$', '&', '+', ':', '=' and '@' as they are ("v1.0.0+build"). Lower-cases ASCII only (XXX: Go lower-cases
 * all of Unicode; a name with upper-case non-ASCII letters maps to another folder there). Same errors as
 * upgrade_name_to_folder(). Returns 0 and sets *ret to NULL when it equals upgrade_name_to_folder()'s. */
int upgrade_name_to_cosmovisor_folder(const char *name, char **ret);

/* Decodes a folder name back to the plan name; -EINVAL for malformed escapes (a '%' without two hex
 * digits, "%00") and for folders that decode to "", "." or "..". */
int upgrade_folder_to_name(const char *folder, char **ret);

/* A name the operator typed (oraivisorctl add-upgrade NAME PATH): upgrade_name_to_folder()'s rules, and
 * also no '/' and no control character, which a plan from the chain may hold (its folder escapes them)
 * but a typed name only does by mistake: a path given as NAME, NAME and PATH swapped, "../evil". 0, or
 * -EINVAL/-ENAMETOOLONG with *ret_reason, a static phrase. XXX: such a plan's folder must be made by
 * hand; accept them here once a plan name with '/' is seen on a real chain. */
int upgrade_name_check_typed(const char *name, const char **ret_reason);

/* A short reason for the -EINVAL/-ENAMETOOLONG of upgrade_name_to_folder(). */
const char *upgrade_name_error(int r);
