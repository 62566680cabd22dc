/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Unit properties of the node's transient unit as typed values, ready to be put into a StartTransientUnit
 * message: the sandbox oraivisor gives the node, and the properties the operator adds with
 * ORAIVISOR_DAEMON_PROPERTIES="CPUWeight=200 ReadWritePaths=/srv/x". Pure: the parser reads only the text
 * it is given, and says what is wrong in one line naming the property and what is expected.
 *
 * Only the properties in the table of unit-property.c are understood (resource weights and limits, paths,
 * and the sandbox settings); the ones oraivisor manages itself (ExecStart, User, Type, Restart, KillMode,
 * Environment…) are not, so that an operator cannot break the launcher by accident. Appended after
 * oraivisor's own, an operator's property wins for single values (PrivateTmp=no) and adds to lists
 * (ReadWritePaths=, RestrictAddressFamilies=, SystemCallFilter=), as in a drop-in. */

#include "macro.h"

typedef enum UnitPropertyType {
        UNIT_PROPERTY_BOOL,      /* "b" */
        UNIT_PROPERTY_STRING,    /* "s" */
        UNIT_PROPERTY_STRV,      /* "as" */
        UNIT_PROPERTY_BOOL_STRV, /* "(bas)": allow-list (true) or deny-list (false), and the names */
        UNIT_PROPERTY_U64,       /* "t" */
        UNIT_PROPERTY_I32,       /* "i" */
        UNIT_PROPERTY_BIND,      /* "a(ssbt)": strv holds source, destination, "-" or "" (ignore missing) */
        _UNIT_PROPERTY_TYPE_MAX,
        _UNIT_PROPERTY_TYPE_INVALID = -EINVAL,
} UnitPropertyType;

typedef struct UnitProperty {
        const char *name; /* the D-Bus property name (static): CPUQuota= is sent as CPUQuotaPerSecUSec */
        UnitPropertyType type;
        bool b;
        uint64_t u64;
        int32_t i32;
        char *s;
        char **strv;
} UnitProperty;

typedef struct UnitPropertyList {
        UnitProperty *items;
        size_t n;
} UnitPropertyList;

/* MS_REC: binds are recursive, as systemd's own BindPaths= parser makes them. */
#define UNIT_PROPERTY_BIND_FLAGS UINT64_C(16384)

void unit_property_list_done(UnitPropertyList *l);
/* A deep copy of l into *ret. -ENOMEM. */
int unit_property_list_copy(const UnitPropertyList *l, UnitPropertyList *ret);

/* Parses one assignment NAME=VALUE (name and value apart) and appends it to l. Lists are separated by
 * whitespace in value. -EINVAL for an unknown name or a bad value, with *ret_error (may be NULL) set to
 * one line saying what is expected; -ENOMEM. */
int unit_property_list_append(UnitPropertyList *l, const char *name, const char *value, char **ret_error);

/* Appends a path list property (ReadWritePaths…) with the paths as given (they may contain spaces). The
 * paths must be absolute: -EINVAL otherwise. */
int unit_property_list_append_paths(UnitPropertyList *l, const char *name, char *const *paths);

/* Appends BindPaths= (or BindReadOnlyPaths=) of one path onto itself. */
int unit_property_list_append_bind(UnitPropertyList *l, const char *name, const char *path, bool ignore_missing);

/* Parses a whitespace-separated list of NAME=VALUE (the form of ORAIVISOR_DAEMON_PROPERTIES) into *ret.
 * A value is one word: a list value (several paths, several address families) is given by repeating the
 * property. -EINVAL with *ret_error (may be NULL) one line naming the bad assignment and what is expected;
 * -ENOMEM. *ret is written only on success. */
int unit_properties_parse(const char *text, UnitPropertyList *ret, char **ret_error);

/* The names unit_property_list_append() understands, NULL-terminated, in the order the docs list them. */
extern const char *const unit_property_names[];

/* The D-Bus signature of a type ("b", "(bas)"…). */
const char *unit_property_type_signature(UnitPropertyType t) _const_;
