/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The readiness check's reading of a binary's bytes, and of what the dynamic loader says about it. The
 * ELF under test is this test's own executable (an ELF for the host), whole and altered. */

#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "exec-format.h"
#include "macro.h"

static uint8_t *self;
static size_t self_size;

static void load_self(void) {
        FILE *f = fopen("/proc/self/exe", "re");
        cr_assert_not_null(f);
        cr_assert_eq(fseek(f, 0, SEEK_END), 0);
        self_size = ftell(f);
        rewind(f);
        self = malloc(self_size);
        cr_assert_eq(fread(self, 1, self_size, f), self_size);
        fclose(f);
}

static void unload_self(void) {
        free(self);
}

static void expect_bad(const uint8_t *d, size_t n, const char *want) {
        ExecHost h = exec_host();
        ExecFormat f = {};
        _cleanup_free_ char *why = NULL;
        cr_expect_eq(exec_format_check(d, n, &h, &f, &why), -ENOEXEC, "want '%s'", want);
        cr_expect(why && strstr(why, want), "got '%s', want '%s'", strna(why), want);
        exec_format_done(&f);
}

TestSuite(exec_format, .init = load_self, .fini = unload_self);

Test(exec_format, host_elf) {
        ExecHost h = exec_host();
        cr_assert_neq(h.machine, EM_NONE, "the build's machine is known");
        cr_expect_not_null(exec_machine_name(h.machine));
        ExecFormat f = {};
        _cleanup_free_ char *why = NULL;
        cr_assert_eq(exec_format_check(self, self_size, &h, &f, &why), 0, "%s", strna(why));
        cr_expect_eq(f.kind, EXEC_ELF_DYNAMIC);
        cr_expect(f.interpreter && f.interpreter[0] == '/', "%s", strna(f.interpreter));
        exec_format_done(&f);
}

Test(exec_format, truncated) {
        expect_bad(self, self_size - 1, "is truncated");
        expect_bad(self, self_size / 2, "is truncated");
        expect_bad(self, 40, "is truncated");
        expect_bad(self, 8, "is truncated");
        expect_bad(self, 0, "is empty");
}

Test(exec_format, other_machine_class_type) {
        uint8_t *c = malloc(self_size);
        memcpy(c, self, self_size);
        ExecHost h = exec_host();
        uint16_t other = h.machine == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
        memcpy(c + offsetof(Elf64_Ehdr, e_machine), &other, 2);
        expect_bad(c, self_size, other == EM_AARCH64 ? "is built for AArch64" : "is built for x86-64");
        uint16_t weird = 4242;
        memcpy(c + offsetof(Elf64_Ehdr, e_machine), &weird, 2);
        expect_bad(c, self_size, "machine 4242");
        memcpy(c, self, self_size);
        c[EI_CLASS] = 7;
        expect_bad(c, self_size, "damaged ELF header");
        memcpy(c, self, self_size);
        uint16_t rel = ET_REL;
        memcpy(c + offsetof(Elf64_Ehdr, e_type), &rel, 2);
        expect_bad(c, self_size, "object file");
        free(c);
}

Test(exec_format, scripts_and_others) {
        ExecHost h = exec_host();
        ExecFormat f = {};
        _cleanup_free_ char *why = NULL;
        const char *s = "#! /bin/sh -e\necho hi\n";
        cr_assert_eq(exec_format_check((const uint8_t *) s, strlen(s), &h, &f, &why), 0);
        cr_expect_eq(f.kind, EXEC_SCRIPT);
        cr_expect_str_eq(f.interpreter, "/bin/sh");
        exec_format_done(&f);

        expect_bad((const uint8_t *) "#!\n", 3, "names no interpreter");
        expect_bad((const uint8_t *) "#!sh\n", 5, "not an absolute path");
        expect_bad((const uint8_t *) "\x1f\x8b\x08\x00", 4, "gzip archive");
        expect_bad((const uint8_t *) "PK\3\4xxxx", 8, "zip archive");
        expect_bad((const uint8_t *) "<!DOCTYPE html><html>", 21, "HTML page");
        expect_bad((const uint8_t *) "MZ\x90\x00", 4, "Windows binary");
        expect_bad((const uint8_t *) "\xcf\xfa\xed\xfe", 4, "Mach-O");
        expect_bad((const uint8_t *) "hello world", 11, "neither an ELF executable nor a script");
        expect_bad((const uint8_t *) "\x7f" "ELF", 4, "is truncated");
}

static void expect_loader(const char *out, const char *err, bool ok, const char *want) {
        _cleanup_free_ char *why = NULL;
        int r = loader_list_check(out, err, ok, &why);
        if (!want) {
                cr_expect_eq(r, 0, "%s", strna(why));
                return;
        }
        cr_expect_eq(r, -ENOEXEC, "want %s", want);
        cr_expect(why && strstr(why, want), "got '%s', want '%s'", strna(why), want);
}

Test(loader_list, verdicts) {
        const char *good = "\tlinux-vdso.so.1 (0x00007f)\n\tlibfoo.so.1 => lib/libfoo.so.1 (0x7f)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n";
        expect_loader(good, "", true, NULL);
        expect_loader("\tlibwasmvm.x86_64.so => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n", "", true,
                      "needs libwasmvm.x86_64.so, found neither in the version's lib/");
        expect_loader(good, "./app: lib/libfoo.so.1: version `FOO_2.0' not found (required by ./app)\n", true,
                      "needs symbol version FOO_2.0 (libfoo.so.1)");
        expect_loader(good,
                      "./app2: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_9.99' not found (required by ./app2)\n"
                      "undefined symbol: fake_glibc_fn, version GLIBC_9.99\t(./app2)\n", true,
                      "needs symbol version GLIBC_9.99 (libc.so.6)");
        expect_loader(good, "undefined symbol: wasmvm_new\t(./oraid)\n", true, "needs symbol wasmvm_new,");
        expect_loader("", "./app: error while loading shared libraries: ./app: cannot open shared object file\n", false,
                      "the loader says \"./app: error while loading shared libraries");
        expect_loader("", "", false, "failed without a message");
        expect_loader("\ta.so => not found\n\tb.so => not found\n\tc.so => not found\n\td.so => not found\n\te.so => not found\n\tf.so => not found\n", "", true,
                      "needs a.so, b.so, c.so, d.so, e.so, …,");
}
