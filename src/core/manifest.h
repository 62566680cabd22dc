/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a plan's info says about downloads: inline JSON `{"binaries": {"linux/amd64": URL, "any": URL}}`
 * or the URL of such a manifest; other keys are ignored. Only the entry for this machine (or "any") is
 * ever looked at, so a broken entry for another platform changes nothing. Also maps uname() to the Go
 * platform names manifests use (Linux/x86_64 → linux/amd64). Pure. */

#include "macro.h"

#define MANIFEST_SIZE_MAX (1024U * 1024U)

typedef struct ManifestEntry {
        char *platform; /* the key as written */
        char *url; /* NULL when the value is not a string */
} ManifestEntry;

typedef struct Manifest {
        ManifestEntry *entries;
        size_t n_entries;
} Manifest;

Manifest *manifest_free(Manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manifest *, manifest_free);

/* Parses manifest JSON (at most MANIFEST_SIZE_MAX bytes): an object with a "binaries" object. Values that
 * are not strings are kept as entries without URL (an error only if that entry is the one we need).
 * Returns 0, -EBADMSG with *ret_reason, -EFBIG, -ENOMEM. */
int manifest_parse(const char *data, size_t len, Manifest **ret, const char **ret_reason);

/* The URL for platform ("linux/amd64"), else for "any" (keys compared case-insensitively). Returns 0
 * with the URL and the key that matched (both owned by m), -ENOENT when neither is there, -EBADMSG when
 * the matching entry is not a non-empty string. */
int manifest_find(const Manifest *m, const char *platform, const char **ret_url, const char **ret_key,
        const char **ret_reason);

/* Go's GOOS/GOARCH for uname()'s sysname and machine: "Linux", "x86_64" → "linux/amd64"; aarch64 →
 * arm64, armv7l/armv6l → arm, i686 → 386, ppc64le, s390x, riscv64, mips64... unchanged. -EINVAL for an
 * empty or non-printable input. */
int platform_from_uname(const char *sysname, const char *machine, char **ret);

typedef enum PlanInfoKind {
        PLAN_INFO_URL, /* *ret_url: a manifest to fetch */
        PLAN_INFO_MANIFEST, /* *ret_manifest: inline JSON */
        _PLAN_INFO_KIND_MAX,
        _PLAN_INFO_KIND_INVALID = -EINVAL,
} PlanInfoKind;

/* Classifies a plan's info (surrounding whitespace ignored): JSON object → manifest, "<scheme>://…" →
 * URL (not checked further here: see url_check()). Returns the kind, -ENODATA for an empty info, -EBADMSG
 * with *ret_reason for anything else (or a malformed manifest), -ENOMEM. */
int plan_info_parse(const char *info, char **ret_url, Manifest **ret_manifest, const char **ret_reason);
