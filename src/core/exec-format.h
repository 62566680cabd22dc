/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a version's binary is, read from its bytes before anything runs it (the readiness check, issue
 * 17): an ELF for this machine, whole (not truncated), and which loader it asks for; or a script and its
 * interpreter. And what the dynamic loader said when asked to resolve it (`ld.so --list`): the libraries
 * not found and the symbol versions missing. Pure: bytes and text in, verdicts and one-line reasons out. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ExecKind {
        EXEC_ELF_DYNAMIC,  /* has a PT_INTERP: the loader resolves its libraries */
        EXEC_ELF_STATIC,
        EXEC_SCRIPT,       /* #! */
} ExecKind;

typedef struct ExecFormat {
        ExecKind kind;
        char *interpreter; /* the ELF's PT_INTERP, or the script's interpreter path; NULL for static */
} ExecFormat;

void exec_format_done(ExecFormat *f);

/* The host, as the check compares to it: ELF class (1 = 32-bit, 2 = 64-bit), data encoding (1 = little
 * endian, 2 = big) and e_machine; exec_host() gives the build's own. */
typedef struct ExecHost {
        uint8_t elf_class;
        uint8_t elf_data;
        uint16_t machine;
} ExecHost;

ExecHost exec_host(void);
/* "x86-64", "AArch64", … or NULL for a machine we have no name for. */
const char *exec_machine_name(uint16_t machine);

/* Checks the whole file (data, size bytes). Returns 0 and *ret, or -ENOEXEC with *ret_reason, one line
 * naming what is wrong and the fix (not an ELF nor a script; another architecture; truncated; …). */
int exec_format_check(const uint8_t *data, size_t size, const ExecHost *host, ExecFormat *ret, char **ret_reason);

/* Reads the output of `<loader> --list <binary>` (stdout, stderr, and whether it exited 0) and returns 0 when
 * every library resolved and every symbol version is there, else -ENOENT with a reason naming the missing
 * libraries and versions (up to a few of each) and the fix. */
int loader_list_check(const char *out, const char *err, bool exited_zero, char **ret_reason);
