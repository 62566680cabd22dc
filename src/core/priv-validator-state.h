/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* $DAEMON_HOME/data/priv_validator_state.json, CometBFT's FilePVLastSignState (privval/file.go): the last
 * height, round and step this validator signed, written by the node before each signature. Only the
 * height is read: {"height":"N","round":R,"step":S,…}, N a decimal string (amino JSON of an int64). A full
 * node keeps the file at "0". The file belongs to the node and is hostile input here: strict parse, size
 * cap, no trust in anything but a well-formed height. Pure. */

#include <stddef.h>
#include <errno.h>
#include <stdint.h>

#define PRIV_VALIDATOR_STATE_FILE "data/priv_validator_state.json"
#define PRIV_VALIDATOR_STATE_MAX_SIZE (64U * 1024U) /* a real one is ~200 bytes; a signature is added */

/* 0 and *ret_height (>= 0; 0: never signed) on success; -EBADMSG with *ret_reason when the text is not
 * such a file; -ENOMEM. */
int priv_validator_state_parse(const char *data, size_t len, int64_t *ret_height, const char **ret_reason);
