/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec-format.h"
#include "macro.h"
#include "string-util.h"
#include "strv.h"

void exec_format_done(ExecFormat *f) {
        f->interpreter = mfree(f->interpreter);
}

ExecHost exec_host(void) {
        ExecHost h = {
                .elf_class = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32,
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                .elf_data = ELFDATA2MSB,
#else
                .elf_data = ELFDATA2LSB,
#endif
        };
#if defined(__x86_64__)
        h.machine = EM_X86_64;
#elif defined(__aarch64__)
        h.machine = EM_AARCH64;
#elif defined(__i386__)
        h.machine = EM_386;
#elif defined(__arm__)
        h.machine = EM_ARM;
#elif defined(__riscv)
        h.machine = EM_RISCV;
#elif defined(__powerpc64__) || defined(__powerpc__)
        h.machine = sizeof(void *) == 8 ? EM_PPC64 : EM_PPC;
#elif defined(__s390x__)
        h.machine = EM_S390;
#elif defined(__loongarch__)
        h.machine = 258; /* EM_LOONGARCH */
#else
        h.machine = EM_NONE;
#endif
        return h;
}

const char *exec_machine_name(uint16_t machine) {
        switch (machine) {
        case EM_X86_64: return "x86-64";
        case EM_AARCH64: return "AArch64 (arm64)";
        case EM_386: return "i386";
        case EM_ARM: return "32-bit ARM";
        case EM_RISCV: return "RISC-V";
        case EM_PPC64: return "POWER (ppc64)";
        case EM_PPC: return "PowerPC";
        case EM_S390: return "s390x";
        case 258: return "LoongArch";
        default: return NULL;
        }
}

_printf_(2, 3) static int reason(char **ret, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = vasprintf(ret, format, ap);
        va_end(ap);
        return r < 0 ? -ENOMEM : -ENOEXEC;
}

typedef struct Reader {
        const uint8_t *p;
        bool big;
} Reader;

static uint64_t get(const Reader *r, size_t off, size_t n) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
                v |= (uint64_t) r->p[off + i] << (8 * (r->big ? n - 1 - i : i));
        return v;
}

/* a + b*c ≤ size without overflow. */
static bool fits(uint64_t a, uint64_t b, uint64_t c, uint64_t size) {
        if (c != 0 && b > UINT64_MAX / c)
                return false;
        return a <= size && b * c <= size - a;
}

static int what_else(const uint8_t *d, size_t size, char **ret_reason) {
        if (size >= 2 && d[0] == 0x1f && d[1] == 0x8b)
                return reason(ret_reason, "is a gzip archive, not an executable: unpack it and install the binary inside");
        if (size >= 4 && memcmp(d, "PK\3\4", 4) == 0)
                return reason(ret_reason, "is a zip archive, not an executable: unpack it and install the binary inside");
        if (size >= 262 && memcmp(d + 257, "ustar", 5) == 0)
                return reason(ret_reason, "is a tar archive, not an executable: unpack it and install the binary inside");
        if (size >= 4 && memcmp(d, "\x28\xb5\x2f\xfd", 4) == 0)
                return reason(ret_reason, "is a zstd archive, not an executable: unpack it and install the binary inside");
        if (size >= 4 && (memcmp(d, "\xcf\xfa\xed\xfe", 4) == 0 || memcmp(d, "\xfe\xed\xfa\xcf", 4) == 0 ||
                          memcmp(d, "\xca\xfe\xba\xbe", 4) == 0))
                return reason(ret_reason, "is a macOS (Mach-O) binary: install the Linux build");
        if (size >= 2 && d[0] == 'M' && d[1] == 'Z')
                return reason(ret_reason, "is a Windows binary: install the Linux build");
        if (size >= 15 && (memcmp(d, "<!DOCTYPE html", 14) == 0 || memcmp(d, "<html", 5) == 0))
                return reason(ret_reason, "is an HTML page (a download of an error or a login page?), not an executable: download the binary again");
        return reason(ret_reason, "is neither an ELF executable nor a script (#!): install the node's Linux binary");
}

static int check_script(const uint8_t *d, size_t size, ExecFormat *ret, char **ret_reason) {
        size_t i = 2, n = MIN(size, (size_t) 256);
        while (i < n && (d[i] == ' ' || d[i] == '\t'))
                i++;
        size_t s = i;
        while (i < n && d[i] != ' ' && d[i] != '\t' && d[i] != '\n' && d[i] != '\r' && d[i] != 0)
                i++;
        if (i == s)
                return reason(ret_reason, "is a script whose #! line names no interpreter: fix its first line");
        if (d[s] != '/')
                return reason(ret_reason, "is a script whose interpreter '%.*s' is not an absolute path: fix its #! line", (int) MIN(i - s, (size_t) 64),
                              (const char *) d + s);
        char *interp = strndup((const char *) d + s, i - s);
        if (!interp)
                return -ENOMEM;
        *ret = (ExecFormat) { .kind = EXEC_SCRIPT, .interpreter = interp };
        return 0;
}

int exec_format_check(const uint8_t *data, size_t size, const ExecHost *host, ExecFormat *ret, char **ret_reason) {
        assert(data || size == 0);
        assert(host);
        assert(ret);
        assert(ret_reason);

        *ret_reason = NULL;
        if (size == 0)
                return reason(ret_reason, "is empty (0 bytes): the copy or download was cut; install it again");
        if (size >= 2 && data[0] == '#' && data[1] == '!')
                return check_script(data, size, ret, ret_reason);
        if (size < 4 || memcmp(data, ELFMAG, SELFMAG) != 0)
                return what_else(data, size, ret_reason);
        if (size < EI_NIDENT)
                return reason(ret_reason, "is truncated (%zu bytes, not even an ELF header): the copy or download was cut; install it again", size);

        uint8_t cls = data[EI_CLASS], enc = data[EI_DATA];
        if ((cls != ELFCLASS32 && cls != ELFCLASS64) || (enc != ELFDATA2LSB && enc != ELFDATA2MSB))
                return reason(ret_reason, "has a damaged ELF header (class %u, encoding %u): install it again", cls, enc);
        bool is64 = cls == ELFCLASS64;
        size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        if (size < ehsize)
                return reason(ret_reason, "is truncated (%zu bytes, shorter than its ELF header): the copy or download was cut; install it again", size);
        Reader r = { .p = data, .big = enc == ELFDATA2MSB };

        uint16_t machine = get(&r, offsetof(Elf64_Ehdr, e_machine), 2); /* same offset in both classes */
        uint16_t type = get(&r, offsetof(Elf64_Ehdr, e_type), 2);
        if (machine != host->machine || cls != host->elf_class || enc != host->elf_data) {
                const char *want = exec_machine_name(host->machine), *got = exec_machine_name(machine);
                char gotbuf[32];
                if (!got) {
                        (void) snprintf(gotbuf, sizeof gotbuf, "machine %u", machine);
                        got = gotbuf;
                }
                if (machine == host->machine)
                        return reason(ret_reason, "is a %s-bit %s-endian build, this host runs %s-bit %s-endian: install the %s build for this host",
                                      is64 ? "64" : "32", enc == ELFDATA2MSB ? "big" : "little",
                                      host->elf_class == ELFCLASS64 ? "64" : "32",
                                      host->elf_data == ELFDATA2MSB ? "big" : "little", strna(want));
                return reason(ret_reason, "is built for %s, this host is %s: install the %s build (linux/%s in a plan's binaries)",
                              got, strna(want), strna(want),
                              host->machine == EM_X86_64 ? "amd64" : host->machine == EM_AARCH64 ? "arm64" : "<arch>");
        }
        if (type != ET_EXEC && type != ET_DYN)
                return reason(ret_reason, "is an ELF %s, not an executable: install the node's binary",
                              type == ET_REL ? "object file (.o)" : type == ET_CORE ? "core dump" : "of an unknown type");

        uint64_t phoff = is64 ? get(&r, offsetof(Elf64_Ehdr, e_phoff), 8) : get(&r, offsetof(Elf32_Ehdr, e_phoff), 4);
        uint64_t shoff = is64 ? get(&r, offsetof(Elf64_Ehdr, e_shoff), 8) : get(&r, offsetof(Elf32_Ehdr, e_shoff), 4);
        uint16_t phentsize = get(&r, is64 ? offsetof(Elf64_Ehdr, e_phentsize) : offsetof(Elf32_Ehdr, e_phentsize), 2);
        uint16_t phnum = get(&r, is64 ? offsetof(Elf64_Ehdr, e_phnum) : offsetof(Elf32_Ehdr, e_phnum), 2);
        uint16_t shentsize = get(&r, is64 ? offsetof(Elf64_Ehdr, e_shentsize) : offsetof(Elf32_Ehdr, e_shentsize), 2);
        uint16_t shnum = get(&r, is64 ? offsetof(Elf64_Ehdr, e_shnum) : offsetof(Elf32_Ehdr, e_shnum), 2);
        size_t want_phent = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

        if (phnum == 0 || phentsize != want_phent)
                return reason(ret_reason, "has no usable program headers: it is not an executable; install the node's binary");
        if (!fits(phoff, phnum, phentsize, size))
                return reason(ret_reason, "is truncated (%zu bytes; its program headers end beyond that): the copy or download was cut; install it again", size);
        if (shoff != 0 && !fits(shoff, shnum, shentsize, size))
                return reason(ret_reason, "is truncated (%zu bytes; its section headers end at byte %" PRIu64 "): the copy or download was cut; install it again",
                              size, shoff + (uint64_t) shnum * shentsize);

        _cleanup_free_ char *interp = NULL;
        for (uint16_t i = 0; i < phnum; i++) {
                size_t ph = phoff + (size_t) i * phentsize;
                uint32_t ptype = get(&r, ph, 4);
                uint64_t off = is64 ? get(&r, ph + offsetof(Elf64_Phdr, p_offset), 8) : get(&r, ph + offsetof(Elf32_Phdr, p_offset), 4);
                uint64_t filesz = is64 ? get(&r, ph + offsetof(Elf64_Phdr, p_filesz), 8) : get(&r, ph + offsetof(Elf32_Phdr, p_filesz), 4);
                if ((ptype == PT_LOAD || ptype == PT_INTERP || ptype == PT_DYNAMIC) && !fits(off, filesz, 1, size))
                        return reason(ret_reason, "is truncated (%zu bytes; it needs at least %" PRIu64 "): the copy or download was cut; install it again",
                                      size, off + filesz);
                if (ptype == PT_INTERP) {
                        if (interp || filesz < 2 || filesz > 4096 || data[off + filesz - 1] != 0 ||
                            memchr(data + off, 0, filesz - 1))
                                return reason(ret_reason, "has a damaged loader path (PT_INTERP): install it again");
                        interp = strdup((const char *) data + off);
                        if (!interp)
                                return -ENOMEM;
                        if (interp[0] != '/')
                                return reason(ret_reason, "names a loader '%s' that is not an absolute path: install a build for Linux", interp);
                }
        }
        *ret = (ExecFormat) { .kind = interp ? EXEC_ELF_DYNAMIC : EXEC_ELF_STATIC, .interpreter = TAKE_PTR(interp) };
        return 0;
}

/* Appends item to a ", "-separated list of at most max items, then "…". */
static int list_add(char **list, size_t *n, size_t max, const char *item, size_t len) {
        if (++*n > max)
                return *n == max + 1 ? strextendf(list, ", …") : 0;
        return strextendf(list, "%s%.*s", *list ? ", " : "", (int) len, item);
}

int loader_list_check(const char *out, const char *err, bool exited_zero, char **ret_reason) {
        _cleanup_free_ char *libs = NULL, *versions = NULL, *symbols = NULL;
        size_t n_libs = 0, n_versions = 0, n_symbols = 0;
        const char *first_err = NULL;
        int r;

        assert(ret_reason);
        *ret_reason = NULL;

        /* "\tlibfoo.so.1 => not found" */
        for (const char *l = strempty(out); *l;) {
                const char *eol = strchrnul(l, '\n');
                const char *nf = memmem_str(l, eol - l, " => not found");
                if (nf) {
                        const char *s = l;
                        while (s < nf && (*s == ' ' || *s == '\t'))
                                s++;
                        if ((r = list_add(&libs, &n_libs, 5, s, nf - s)) < 0)
                                return r;
                }
                l = *eol ? eol + 1 : eol;
        }
        /* "<bin>: <lib>: version `X' not found (required by <who>)", "undefined symbol: S, version V\t(<who>)",
         * "error while loading shared libraries: …" */
        for (const char *l = strempty(err); *l;) {
                const char *eol = strchrnul(l, '\n');
                const char *v = memmem_str(l, eol - l, "version `");
                const char *u = memmem_str(l, eol - l, "undefined symbol: ");
                if (v && memmem_str(v, eol - v, "' not found")) {
                        const char *s = v + strlen("version `"), *e = memmem_str(s, eol - s, "'");
                        /* The library that lacks it: the path before ": version". */
                        const char *lib_end = v >= l + 2 ? v - 2 : l, *lib = lib_end;
                        while (lib > l && lib[-1] != ' ' && lib[-1] != '/')
                                lib--;
                        _cleanup_free_ char *item = NULL;
                        if (asprintf(&item, "%.*s (%.*s)", (int) (e - s), s, (int) MAX(lib_end - lib, (ptrdiff_t) 0), lib) < 0 ||
                            list_add(&versions, &n_versions, 5, item, strlen(item)) < 0)
                                return -ENOMEM;
                } else if (u) {
                        const char *s = u + strlen("undefined symbol: "), *e = s;
                        while (e < eol && *e != ',' && *e != '\t' && *e != ' ')
                                e++;
                        if ((r = list_add(&symbols, &n_symbols, 5, s, e - s)) < 0)
                                return r;
                } else if (!first_err && eol > l)
                        first_err = l;
                l = *eol ? eol + 1 : eol;
        }

        if (libs)
                return reason(ret_reason, "needs %s, found neither in the version's lib/ folder nor on this host: put %s in its lib/ folder or install %s on the host",
                              libs, n_libs == 1 ? "it" : "them", n_libs == 1 ? "it" : "them");
        if (versions)
                return reason(ret_reason, "needs symbol version%s %s, which this host's libraries lack: the binary was built for a newer system; install a build for this host (or the matching library in lib/)",
                              n_versions == 1 ? "" : "s", versions);
        if (symbols)
                return reason(ret_reason, "needs symbol%s %s, which no library provides: a library in lib/ or on the host is of another version; install the matching one",
                              n_symbols == 1 ? "" : "s", symbols);
        if (!exited_zero || first_err) {
                _cleanup_free_ char *shown = first_err ? string_escape_for_log(first_err, strchrnul(first_err, '\n') - first_err, 200) : NULL;
                return reason(ret_reason, "cannot be loaded on this host%s%s%s", shown ? ": the loader says \"" : "", strempty(shown), shown ? "\"" : " (the loader failed without a message)");
        }
        return 0;
}
