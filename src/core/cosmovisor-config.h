/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cosmovisor's configuration, read for `oraivisorctl import-cosmovisor`: its `config.toml` (v1.6+: the
 * variables' names in lower case, as go-toml writes them) and its environment variables, translated into
 * the lines of an /etc/oraivisor/<instance>.conf. Pure: strings in, strings out. */

#include <stddef.h>

/* Parses config.toml: flat `key = value` lines (strings in double or single quotes, true/false, integers),
 * comments, blank lines. Returns the entries as "UPPER_KEY=value" in file order (booleans as true/false,
 * integers in decimal), or -EINVAL with *ret_error naming the line for what cosmovisor never writes
 * (tables, arrays, floats, multi-line strings, a bad escape, a duplicate key). */
int cosmovisor_toml_parse(const char *text, size_t len, char ***ret_env, char **ret_error);

/* Translates cosmovisor's variables (an environment block: config.toml's entries overridden by the
 * environment, as cosmovisor reads them) into oraivisor's: *ret_conf gets "KEY=VALUE" entries for the conf
 * file, *ret_notes one line for each variable renamed, dropped or whose default differs. Integer durations
 * (go-toml writes time.Duration as nanoseconds) become "<n>ms" or "<n>us". Returns 0 or -ENOMEM. */
int cosmovisor_config_translate(char *const *cosmo_env, char ***ret_conf, char ***ret_notes);

/* One conf-file line for KEY=VALUE, quoted for systemd's EnvironmentFile= when the value needs it (what
 * env_file_parse() reads back is exactly VALUE). Caller frees. */
char *env_file_line(const char *key, const char *value);
