/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clang-format off */
/*
 * fakechaind: a stand-in for a Cosmos-SDK chain node (Oraichain's `oraid`) in oraivisor's tests, benchmarks
 * and demo. One source, built as fakechaind-v1, -v2, -v3 (tests/fakechaind/meson.build) that differ only in
 * FAKECHAIND_VERSION. Tests copy them to genesis/bin/<name> and upgrades/<name>/bin/<name>, so nothing here
 * depends on argv[0]. Everything is configured by the environment (oraivisor passes its own environment
 * through); the flags an SDK node takes are accepted too.
 *
 * Commands
 *   start [--home DIR] [--log_format plain|json] [--unsafe-skip-upgrades H[,H…] [H…]] [--halt-height H]
 *                 (other flags ignored)
 *   version       prints the build version (exit FAKECHAIN_VERSION_EXIT, default 0)
 *   status        prints {"sync_info":{"latest_block_height":"N"}} from the persisted height
 *   pre-upgrade   the SDK's pre-upgrade hook (see below)
 *   anything else: an error and exit 2. Bad flags or environment values: one line naming them, exit 2.
 *
 * Home: --home, else FAKECHAIN_HOME, else DAEMON_HOME; `data/` is created under it. The last committed
 * height lives in data/height ("N\n", replaced atomically after every block), so v2 goes on where v1 halted.
 *
 * start
 *   Prints "fakechaind vN starting (version=… pid=… uid=… user=… height=… home=… ld_library_path=…)", a line
 *   with its arguments, its upgrade plans, and `env NAME=value` for every name in FAKECHAIN_ECHO_ENV (comma
 *   list). Then a block every FAKECHAIN_BLOCK_INTERVAL ms (default 100; 0 = as fast as possible):
 *     plain: `3:04PM INF committed state height=N module=state`            (zerolog console writer style)
 *     json:  {"level":"info","module":"state","height":N,"time":"…","message":"committed state"}
 *   FAKECHAIN_LOG_STREAM=stdout|stderr (default stderr, as SDK >= 0.42), FAKECHAIN_COLOR=1 adds zerolog's
 *   ANSI colours. Every line goes out in one write(2), unbuffered.
 *
 * Upgrade plans
 *   FAKECHAIN_PLANS="v2@20 v3@40" (name@height, heights increasing). FAKECHAIN_PLAN_INFO is the info of
 *   every plan, FAKECHAIN_PLAN_INFO_<name> (non-alphanumerics of the name as '_') overrides it for one plan.
 *   Version vN knows plan P iff vN is itself a plan name and P comes at or before it in the list. Reaching
 *   a plan it does not know, it acts like x/upgrade's BeginBlocker: writes data/upgrade-info.json (0600,
 *   temp + rename) as {"name":…,"time":"0001-01-01T00:00:00Z","height":…,"info":…}, logs
 *   `ERR UPGRADE "v2" NEEDED at height: 20: <info> module=x/upgrade` and CometBFT's
 *   `ERR CONSENSUS FAILURE!!! err="UPGRADE \"v2\" NEEDED at height: 20: <info>" module=consensus …`, then
 *   halts. The last committed height stays plan height - 1.
 *     FAKECHAIN_ANNOUNCE=file|log|both (default both): which of the file and the two log lines appear.
 *     FAKECHAIN_ANNOUNCE_ORDER=file-first|log-first (default file-first, as SDK >= v0.44). log-first is SDK
 *     v0.40-v0.43: the x/upgrade line, then the file (name and height only, no info), then the CONSENSUS
 *     FAILURE line. FAKECHAIN_ANNOUNCE_FILE_DELAY=<ms> (log-first only, default 0) pauses between the line
 *     and the file, handling signals meanwhile: a SIGTERM then stops it before the file is written, as it
 *     would a real node killed in that instant.
 *     FAKECHAIN_HALT=hang|exit (default hang: alive and silent, like a node whose consensus halted);
 *     FAKECHAIN_HALT_EXIT: the status for exit (default 1).
 *     FAKECHAIN_NO_FINAL_NEWLINE=1: the halting line is the last output and has no final newline (the
 *     CONSENSUS FAILURE line is left out so that the announcement itself is that line).
 *   A known plan logs `applying upgrade "v2" at height: 20` and the chain goes on. --unsafe-skip-upgrades H
 *   logs `UPGRADE "v2" SKIPPED at height: 20` instead and goes on. FAKECHAIN_STRICT=1 adds the SDK's panic
 *   when a binary that knows the next scheduled plan runs below its height ("BINARY UPDATED BEFORE
 *   TRIGGER!", exit 2).
 *
 * Exits and signals
 *   FAKECHAIN_STOP_AT=H: after committing block H (or at start when already there) exit FAKECHAIN_STOP_EXIT
 *   (default 0), or with FAKECHAIN_CRASH_SIGNAL=SEGV (any fatal signal, name or number) die by that signal.
 *   SIGTERM/SIGINT: logs "received signal, shutting down gracefully", waits FAKECHAIN_TERM_DELAY ms (default
 *   0), persists the height, exits FAKECHAIN_TERM_EXIT (default 0). FAKECHAIN_IGNORE_TERM=1 ignores SIGTERM.
 *   --halt-height H, as the SDK's BaseApp of FAKECHAIN_SDK=v0.45|v0.47|v0.50|v0.50.10 (default v0.47) does
 *   it (docs/chain-watch.md, "What the SDK does at --halt-height", from its source):
 *     v0.45, v0.47, v0.50 (to v0.50.9): in the Commit of the first block h >= H, `INF halting node per
 *     configuration height=H module=baseapp time=0`, then (CometBFT, once Commit returned) `committed state
 *     height=h`, then a SIGINT to itself and the graceful shutdown: exit 0, or 130 for v0.45 (its
 *     WaitForQuitSignals returns 128 + the signal). Started at or above H, it commits one more block first.
 *     v0.50 (to v0.50.9) also refuses in FinalizeBlock a block above H; v0.50.10 refuses every block >= H
 *     there (H itself is never committed): `ERR error in proxyAppConn.FinalizeBlock err="halt per
 *     configuration height H time 0" module=state`, CometBFT's `ERR CONSENSUS FAILURE!!! err="failed to apply
 *     block; error halt per configuration height H time 0" module=consensus`, and the process stays alive,
 *     silent (its consensus halted) until a signal. The refusal comes first in FinalizeBlock, before
 *     x/upgrade's PreBlocker: a plan at H is neither announced nor applied by a node started with
 *     --halt-height H on v0.50.10 (on the others the plan comes first).
 *   Every block: `finalizing commit of block height=N module=consensus` (CometBFT's consensus, before the
 *   block is executed), then `committed state height=N module=state` (after the app's Commit).
 *   SIGQUIT: a Go-style "SIGQUIT: quit" dump on stderr, exit FAKECHAIN_QUIT_EXIT (default 0).
 *
 * Output stress
 *   FAKECHAIN_LONG_LINE=<bytes> (K/M suffixes allowed): one line of that many 'x' right after starting.
 *   FAKECHAIN_LONG_ANNOUNCE=<bytes> (K/M suffixes allowed): the announcement comes at the end of one line
 *   of that many bytes (newline not counted), its message led by a long contract error as a JSON logger
 *   dumping one prints it: plain `ERR wasm contract error: … UPGRADE "v2" NEEDED at height: 20: <info>
 *   module=x/upgrade`, json `{"level":"error","module":"x/upgrade",…,"message":"wasm contract error: …
 *   UPGRADE \"v2\" NEEDED at height: 20: <info>"}`. The CONSENSUS FAILURE line is left out, so that this
 *   long line is the only announcement in the output.
 *   FAKECHAIN_BURST=<n>: n log lines as fast as possible at start.
 *
 * What a node does on its host (to test the sandbox of its unit), right after the start banner
 *   FAKECHAIN_LISTEN=127.0.0.1:PORT: listens on that loopback TCP address (as the RPC, P2P and gRPC servers
 *   do) for as long as it runs; logs "listening on 127.0.0.1:PORT", or "listen on …: <ERRNO> (<text>)".
 *   FAKECHAIN_WX=1: maps anonymous memory writable and executable at once (as CosmWasm's compiler does for
 *   a contract's native code), and on x86-64 writes a `ret` into it and calls it; logs "mapped W+X memory:
 *   ok", or "mapped W+X memory: <ERRNO> (<text>)".
 *   FAKECHAIN_PROBE="write:PATH read:PATH …": tries each (write: create PATH, write a line, remove it;
 *   read: open PATH and read it) and logs "probe write PATH: ok" or "probe write PATH: <ERRNO> (<text>)"
 *   (ERRNO as EACCES, EROFS, ENOENT). A node carries on either way.
 *
 * pre-upgrade [args…]
 *   Appends "<version> pre-upgrade <args>" to data/pre-upgrade.log, counts the call in
 *   data/pre-upgrade.count, sleeps FAKECHAIN_PREUPGRADE_SLEEP ms and exits with the call's entry of
 *   FAKECHAIN_PREUPGRADE_EXITS (comma list, e.g. "31,31,0"; the last entry once exhausted; default 0).
 *   SIGTERM during the sleep (a migration asked to stop): appends "<version> pre-upgrade got SIGTERM" to
 *   the log, spends FAKECHAIN_PREUPGRADE_TERM_DELAY ms (default 0) cleaning up, appends "<version>
 *   pre-upgrade cleaned up" and exits 143. A SIGKILL in the cleanup leaves the first line alone.
 *
 * Booleans are 1/0/true/false/yes/no/on/off; an empty variable means its default.
 */
/* clang-format on */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "fs-util.h"
#include "macro.h"
#include "parse-util.h"
#include "string-util.h"
#include "time-util.h"

#ifndef FAKECHAIND_VERSION
#error "build with -DFAKECHAIND_VERSION=\"vN\""
#endif

#define VERSION FAKECHAIND_VERSION
#define EXIT_USAGE 2
#define LONG_LINE_MAX ((uint64_t) 256 << 20)

typedef enum Level {
        LEVEL_INFO,
        LEVEL_ERROR,
} Level;

typedef struct Field {
        const char *key;
        const char *value;
        bool number; /* JSON: unquoted */
} Field;

typedef struct Plan {
        char *name;
        uint64_t height;
        char *info;
} Plan;

typedef enum Announce {
        ANNOUNCE_FILE = 1 << 0,
        ANNOUNCE_LOG = 1 << 1,
        ANNOUNCE_BOTH = ANNOUNCE_FILE | ANNOUNCE_LOG,
} Announce;

typedef struct Fake {
        /* From the arguments. */
        const char *command;
        char **args; /* everything after the command */
        size_t n_args;
        const char *home_arg;
        const char *log_format_arg;
        uint64_t *skip;
        size_t n_skip;

        /* From the environment. */
        const char *home;
        bool json;
        bool color;
        int log_fd;
        uint64_t block_interval_ms;
        Plan *plans;
        size_t n_plans;
        size_t n_known; /* this version knows plans[0 .. n_known-1] */
        Announce announce;
        bool log_first;
        uint64_t announce_file_delay_ms;
        bool halt_exit;
        uint64_t halt_exit_status;
        bool strict;
        bool no_final_newline;
        bool ignore_term;
        uint64_t stop_at; /* 0: never */
        uint64_t stop_exit;
        int crash_signal; /* 0: exit with stop_exit instead */
        uint64_t term_delay_ms;
        uint64_t term_exit;
        uint64_t quit_exit;
        uint64_t long_line;
        uint64_t long_announce;
        uint64_t burst;

        /* State. */
        int data_fd;
        int signal_fd;
        uint64_t height; /* last committed block */
        uint64_t halt_height; /* --halt-height: 0 none */
        int sdk; /* FAKECHAIN_SDK: 0 v0.45, 1 v0.47, 2 v0.50 (to v0.50.9), 3 v0.50.10 and later */
} Fake;

/* ---- small helpers ------------------------------------------------------------------------------- */

/* One line on stderr ("fakechaind: …"), in one write. Returns r so that callers can `return errorf(…)`. */
_printf_(2, 3) static int errorf(int r, const char *format, ...) {
        _cleanup_free_ char *msg = NULL, *line = NULL;
        va_list ap;

        va_start(ap, format);
        int k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0)
                return r;
        k = asprintf(&line, "fakechaind: %s\n", msg);
        if (k >= 0)
                (void) loop_write(STDERR_FILENO, line, (size_t) k);
        return r;
}

/* One write(2) for the whole line, so a reader (pipe, journal) sees it at once; finishes short writes. */
static void write_all(int fd, const char *p, size_t n) {
        ssize_t k;

        do
                k = write(fd, p, n);
        while (k < 0 && errno == EINTR);
        if (k < 0 || (size_t) k >= n)
                return;
        (void) loop_write(fd, p + k, n - (size_t) k);
}

static void sleep_msec(uint64_t ms) {
        struct timespec ts = {
                .tv_sec = (time_t) (ms / 1000),
                .tv_nsec = (long) (ms % 1000) * 1000000L,
        };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static const char *env_get(const char *name) {
        const char *v = getenv(name);
        return isempty(v) ? NULL : v;
}

static int env_uint(const char *name, uint64_t def, uint64_t max, const char *expected, uint64_t *ret) {
        const char *v = env_get(name);
        uint64_t u;

        if (!v) {
                *ret = def;
                return 0;
        }
        if (parse_uint64(v, &u) < 0 || u > max)
                return errorf(-EINVAL, "%s='%s' is not valid: expected %s.", name, v, expected);
        *ret = u;
        return 0;
}

static int env_bool(const char *name, bool *ret) {
        const char *v = env_get(name);

        if (!v) {
                *ret = false;
                return 0;
        }
        int b = parse_boolean(v);
        if (b < 0)
                return errorf(
                        -EINVAL, "%s='%s' is not a boolean: use 1 or 0 (true/false, yes/no).", name, v);
        *ret = b;
        return 0;
}

/* Returns the index of the variable's value in choices (the first one when unset). */
static int env_choice(const char *name, const char *const *choices, size_t n, const char *hint) {
        const char *v = env_get(name);

        if (!v)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (streq(v, choices[i]))
                        return (int) i;
        return errorf(-EINVAL, "%s='%s' is not valid: expected %s.", name, v, hint);
}

/* "SEGV", "SIGSEGV", "segv" or "11". Only signals whose default action kills the process. */
static int signal_from_string(const char *s) {
        unsigned u;
        int sig = 0;

        if (parse_unsigned(s, &u) >= 0)
                sig = u > 0 && u < (unsigned) NSIG ? (int) u : 0;
        else {
                const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
                for (int i = 1; i < NSIG && sig == 0; i++) {
                        const char *abbrev = sigabbrev_np(i);
                        if (abbrev && strcasecmp(abbrev, n) == 0)
                                sig = i;
                }
        }
        switch (sig) {
        case 0:
        case SIGCHLD:
        case SIGCONT:
        case SIGURG:
        case SIGWINCH:
        case SIGSTOP:
        case SIGTSTP:
        case SIGTTIN:
        case SIGTTOU: return -EINVAL;
        default: return sig;
        }
}

/* ---- log lines ----------------------------------------------------------------------------------- */

#define ANSI_RESET "\x1b[0m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_RED "\x1b[31m"
#define ANSI_GREEN "\x1b[32m"
#define ANSI_CYAN "\x1b[36m"
#define ANSI_DARK_GRAY "\x1b[90m"

static void json_escape(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                switch (*p) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
}

/* zerolog's console writer quotes a field value (Go's strconv.Quote) when it holds a space, a quote, a
 * backslash or a control character. */
static void console_value(FILE *f, const char *s) {
        bool quote = isempty(s);

        for (const unsigned char *p = (const unsigned char *) strempty(s); *p && !quote; p++)
                quote = *p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f;
        if (!quote) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) strempty(s); *p; p++)
                switch (*p) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\x%02x", *p);
                        else
                                fputc(*p, f);
                }
        fputc('"', f);
}

static int field_compare(const void *a, const void *b) {
        return strcmp(((const Field *) a)->key, ((const Field *) b)->key);
}

/* Formats one log line in the configured format, with the time t. The console format sorts the fields by
 * key, as zerolog's console writer does; JSON puts level and module first and time and message last. */
static int format_line(Fake *f, time_t t, Level level, const char *module, const Field *fields,
        size_t n_fields, bool newline, const char *msg, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        if (!m)
                return -ENOMEM;

        struct tm tm;
        if (f->json) {
                char ts[32];
                strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
                fprintf(m, "{\"level\":\"%s\",\"module\":\"", level == LEVEL_ERROR ? "error" : "info");
                json_escape(m, module);
                fputc('"', m);
                for (size_t i = 0; i < n_fields; i++) {
                        fprintf(m, ",\"%s\":", fields[i].key);
                        if (fields[i].number)
                                fputs(fields[i].value, m);
                        else {
                                fputc('"', m);
                                json_escape(m, fields[i].value);
                                fputc('"', m);
                        }
                }
                fprintf(m, ",\"time\":\"%s\",\"message\":\"", ts);
                json_escape(m, msg);
                fputs("\"}", m);
        } else {
                Field sorted[8];
                assert(n_fields < ELEMENTSOF(sorted));
                for (size_t i = 0; i < n_fields; i++)
                        sorted[i] = fields[i];
                sorted[n_fields] = (Field){"module", module, false};
                qsort(sorted, n_fields + 1, sizeof(Field), field_compare);

                localtime_r(&t, &tm);
                char ts[16];
                snprintf(ts, sizeof ts, "%d:%02d%s", tm.tm_hour % 12 ?: 12, tm.tm_min,
                        tm.tm_hour < 12 ? "AM" : "PM");
                if (f->color) {
                        fprintf(m, ANSI_DARK_GRAY "%s" ANSI_RESET " ", ts);
                        if (level == LEVEL_ERROR)
                                fputs(ANSI_BOLD ANSI_RED "ERR" ANSI_RESET ANSI_RESET " " ANSI_BOLD, m);
                        else
                                fputs(ANSI_GREEN "INF" ANSI_RESET " ", m);
                        fputs(msg, m);
                        if (level == LEVEL_ERROR)
                                fputs(ANSI_RESET, m);
                } else
                        fprintf(m, "%s %s %s", ts, level == LEVEL_ERROR ? "ERR" : "INF", msg);
                for (size_t i = 0; i < n_fields + 1; i++) {
                        bool err = streq(sorted[i].key, "err");
                        fputc(' ', m);
                        if (f->color)
                                fprintf(m, ANSI_CYAN "%s=" ANSI_RESET "%s", sorted[i].key,
                                        err ? ANSI_BOLD ANSI_RED : "");
                        else
                                fprintf(m, "%s=", sorted[i].key);
                        console_value(m, sorted[i].value);
                        if (f->color && err)
                                fputs(ANSI_RESET ANSI_RESET, m);
                }
        }
        if (newline)
                fputc('\n', m);
        if (fclose(m) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* Writes one log line in the configured format, in one write(2). */
_printf_(7, 8) static void emit(Fake *f, Level level, const char *module, const Field *fields,
        size_t n_fields, bool newline, const char *format, ...) {
        _cleanup_free_ char *msg = NULL, *buf = NULL;
        size_t size = 0;
        va_list ap;

        va_start(ap, format);
        int k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0)
                return;
        if (format_line(f, time(NULL), level, module, fields, n_fields, newline, msg, &buf, &size) < 0)
                return;
        write_all(f->log_fd, buf, size);
}

/* x/upgrade's announcement at the end of one line of f->long_announce bytes (its newline not counted):
 * the message starts with a long contract error, as a JSON logger dumping one writes it. The text needs
 * no escaping in either format, so the line has exactly the size asked for (or the announcement alone, if
 * that is longer). */
static void emit_long_announce(Fake *f, const char *msg, bool newline) {
        static const char unit[] = "wasm contract error: out of gas in location: ReadFlat; gasWanted: 20000, "
                                   "gasUsed: 20417: panic; ";
        _cleanup_free_ char *line = NULL, *longmsg = NULL;
        size_t size = 0;
        time_t t = time(NULL);

        if (format_line(f, t, LEVEL_ERROR, "x/upgrade", NULL, 0, false, msg, &line, &size) < 0)
                exit(EXIT_FAILURE);
        size_t fill = f->long_announce > size ? f->long_announce - size : 0, n = strlen(msg);
        longmsg = malloc(fill + n + 1);
        if (!longmsg) {
                errorf(0, "Failed to allocate FAKECHAIN_LONG_ANNOUNCE=%" PRIu64 " bytes.", f->long_announce);
                exit(EXIT_FAILURE);
        }
        for (size_t i = 0; i < fill; i++)
                longmsg[i] = unit[i % (sizeof(unit) - 1)];
        memcpy(longmsg + fill, msg, n + 1);
        line = mfree(line);
        if (format_line(f, t, LEVEL_ERROR, "x/upgrade", NULL, 0, newline, longmsg, &line, &size) < 0)
                exit(EXIT_FAILURE);
        write_all(f->log_fd, line, size);
}

#define EMIT(f, level, module, fields, format, ...)                                                         \
        emit(f, level, module, fields, ELEMENTSOF(fields), true, format, ##__VA_ARGS__)
#define EMIT0(f, level, module, format, ...) emit(f, level, module, NULL, 0, true, format, ##__VA_ARGS__)

/* ---- configuration ------------------------------------------------------------------------------- */

static bool flag_is(const char *arg, const char *name, const char **ret_value) {
        const char *p = startswith(arg, "--") ?: startswith(arg, "-");
        if (!p)
                return false;
        const char *rest = startswith(p, name);
        if (!rest)
                return false;
        if (*rest == '=') {
                *ret_value = rest + 1;
                return true;
        }
        if (*rest == 0) {
                *ret_value = NULL;
                return true;
        }
        return false;
}

static int skip_add(Fake *f, const char *list) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                uint64_t h;
                if (parse_uint64(t, &h) < 0 || h == 0)
                        return errorf(-EINVAL,
                                "--unsafe-skip-upgrades '%s' is not a block height: pass heights "
                                "such as --unsafe-skip-upgrades 20,40.",
                                t);
                uint64_t *n = realloc(f->skip, sizeof(uint64_t) * (f->n_skip + 1));
                if (!n)
                        return -ENOMEM;
                f->skip = n;
                f->skip[f->n_skip++] = h;
        }
        return 0;
}

static bool is_height_list(const char *s) {
        if (!isdigit((unsigned char) s[0]))
                return false;
        return s[strspn(s, "0123456789,")] == 0;
}

/* The command is the first argument that is neither a flag nor a flag's value; flags may come anywhere, as
 * cobra allows. Unknown flags are ignored (and take no value unless written --flag=value). */
static int parse_argv(Fake *f, int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v;
                bool is_flag = true;

                if (streq(a, "--")) {
                        if (!f->command && i + 1 < argc) {
                                f->command = argv[i + 1];
                                f->args = argv + i + 2;
                                f->n_args = (size_t) (argc - i - 2);
                        }
                        break;
                }
                int which = flag_is(a, "home", &v)               ? 1
                        : flag_is(a, "log_format", &v)           ? 2
                        : flag_is(a, "unsafe-skip-upgrades", &v) ? 3
                        : flag_is(a, "halt-height", &v)          ? 4
                                                                 : 0;
                if (which > 0) {
                        if (!v) {
                                if (i + 1 >= argc)
                                        return errorf(-EINVAL,
                                                "flag '%s' needs a value: pass e.g. '%s VALUE'.", a, a);
                                v = argv[++i];
                        }
                        if (which == 1)
                                f->home_arg = v;
                        else if (which == 4) {
                                if (parse_uint64(v, &f->halt_height) < 0)
                                        return errorf(-EINVAL,
                                                "--halt-height '%s' is not a block height: pass e.g. --halt-height 20.", v);
                        }
                        else if (which == 3) {
                                int r = skip_add(f, v);
                                if (r < 0)
                                        return r;
                                /* "--unsafe-skip-upgrades 20 40": heights after the flag belong to it. */
                                while (i + 1 < argc && is_height_list(argv[i + 1])) {
                                        r = skip_add(f, argv[++i]);
                                        if (r < 0)
                                                return r;
                                }
                        } else
                                f->log_format_arg = v;
                } else if (a[0] != '-' || a[1] == 0)
                        is_flag = false;

                if (!is_flag && !f->command) {
                        f->command = a;
                        f->args = argv + i + 1;
                        f->n_args = (size_t) (argc - i - 1);
                }
        }
        return 0;
}

static void plans_free(Fake *f) {
        for (size_t i = 0; i < f->n_plans; i++) {
                free(f->plans[i].name);
                free(f->plans[i].info);
        }
        f->plans = mfree(f->plans);
        f->n_plans = 0;
}

static int plan_info(const char *name, char **ret) {
        _cleanup_free_ char *var = NULL;

        if (asprintf(&var, "FAKECHAIN_PLAN_INFO_%s", name) < 0)
                return -ENOMEM;
        for (char *p = var + STRLEN("FAKECHAIN_PLAN_INFO_"); *p; p++)
                if (!isalnum((unsigned char) *p))
                        *p = '_';
        const char *v = getenv(var) ?: getenv("FAKECHAIN_PLAN_INFO");
        *ret = strdup(strempty(v));
        return *ret ? 0 : -ENOMEM;
}

static int plans_parse(Fake *f) {
        const char *s = env_get("FAKECHAIN_PLANS");
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        if (!s)
                return 0;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
                char *at = strrchr(t, '@');
                uint64_t h;

                if (!at || at == t || parse_uint64(at + 1, &h) < 0 || h == 0)
                        return errorf(-EINVAL,
                                "FAKECHAIN_PLANS: '%s' is not <name>@<height>: write plans as "
                                "e.g. FAKECHAIN_PLANS=\"v2@20 v3@40\".",
                                t);
                *at = 0;
                if (f->n_plans > 0 && h <= f->plans[f->n_plans - 1].height)
                        return errorf(-EINVAL,
                                "FAKECHAIN_PLANS: plan '%s@%" PRIu64 "' is not above the previous "
                                "plan's height %" PRIu64 ": list plans in increasing height order.",
                                t, h, f->plans[f->n_plans - 1].height);
                for (size_t i = 0; i < f->n_plans; i++)
                        if (streq(f->plans[i].name, t))
                                return errorf(-EINVAL,
                                        "FAKECHAIN_PLANS: plan '%s' is listed twice: give each "
                                        "plan once.",
                                        t);

                Plan *n = realloc(f->plans, sizeof(Plan) * (f->n_plans + 1));
                if (!n)
                        return -ENOMEM;
                f->plans = n;
                Plan *p = &f->plans[f->n_plans];
                *p = (Plan){.name = strdup(t), .height = h};
                if (!p->name)
                        return -ENOMEM;
                f->n_plans++;
                int r = plan_info(t, &p->info);
                if (r < 0)
                        return r;
                if (streq(t, VERSION))
                        f->n_known = f->n_plans;
        }
        return 0;
}

static int parse_env(Fake *f) {
        static const char *const streams[] = {"stderr", "stdout"};
        static const char *const halts[] = {"hang", "exit"};
        static const char *const announces[] = {"both", "file", "log"};
        static const char *const orders[] = {"file-first", "log-first"};
        static const char *const sdks[] = {"v0.47", "v0.45", "v0.50", "v0.50.10"};
        int r, k;

        if (f->log_format_arg && !streq(f->log_format_arg, "plain") && !streq(f->log_format_arg, "json"))
                return errorf(-EINVAL, "--log_format '%s' is not valid: use 'plain' or 'json'.",
                        f->log_format_arg);
        f->json = streq_ptr(f->log_format_arg, "json");

        if ((r = env_bool("FAKECHAIN_COLOR", &f->color)) < 0 ||
                (r = env_bool("FAKECHAIN_STRICT", &f->strict)) < 0 ||
                (r = env_bool("FAKECHAIN_NO_FINAL_NEWLINE", &f->no_final_newline)) < 0 ||
                (r = env_bool("FAKECHAIN_IGNORE_TERM", &f->ignore_term)) < 0)
                return r;

        k = env_choice("FAKECHAIN_LOG_STREAM", streams, ELEMENTSOF(streams), "'stdout' or 'stderr'");
        if (k < 0)
                return k;
        f->log_fd = k == 1 ? STDOUT_FILENO : STDERR_FILENO;

        k = env_choice("FAKECHAIN_HALT", halts, ELEMENTSOF(halts), "'hang' or 'exit'");
        if (k < 0)
                return k;
        f->halt_exit = k == 1;

        k = env_choice("FAKECHAIN_SDK", sdks, ELEMENTSOF(sdks), "'v0.45', 'v0.47', 'v0.50' or 'v0.50.10'");
        if (k < 0)
                return k;
        f->sdk = (int[]){1, 0, 2, 3}[k];

        k = env_choice("FAKECHAIN_ANNOUNCE", announces, ELEMENTSOF(announces), "'file', 'log' or 'both'");
        if (k < 0)
                return k;
        f->announce = (Announce[]){ANNOUNCE_BOTH, ANNOUNCE_FILE, ANNOUNCE_LOG}[k];

        k = env_choice("FAKECHAIN_ANNOUNCE_ORDER", orders, ELEMENTSOF(orders), "'file-first' or 'log-first'");
        if (k < 0)
                return k;
        f->log_first = k == 1;

        if ((r = env_uint("FAKECHAIN_BLOCK_INTERVAL", 100, 24 * 3600 * 1000,
                     "milliseconds between blocks, e.g. 100", &f->block_interval_ms)) < 0 ||
                (r = env_uint("FAKECHAIN_ANNOUNCE_FILE_DELAY", 0, 3600 * 1000, "milliseconds, e.g. 50",
                         &f->announce_file_delay_ms)) < 0 ||
                (r = env_uint("FAKECHAIN_HALT_EXIT", 1, 255, "an exit status 0..255",
                         &f->halt_exit_status)) < 0 ||
                (r = env_uint("FAKECHAIN_STOP_AT", 0, UINT64_MAX, "a block height, e.g. 5", &f->stop_at)) <
                        0 ||
                (r = env_uint("FAKECHAIN_STOP_EXIT", 0, 255, "an exit status 0..255", &f->stop_exit)) < 0 ||
                (r = env_uint("FAKECHAIN_TERM_DELAY", 0, 3600 * 1000, "milliseconds, e.g. 1000",
                         &f->term_delay_ms)) < 0 ||
                (r = env_uint("FAKECHAIN_TERM_EXIT", 0, 255, "an exit status 0..255", &f->term_exit)) < 0 ||
                (r = env_uint("FAKECHAIN_QUIT_EXIT", 0, 255, "an exit status 0..255", &f->quit_exit)) < 0 ||
                (r = env_uint("FAKECHAIN_BURST", 0, 100000000, "a number of lines, e.g. 10000", &f->burst)) <
                        0)
                return r;

        const char *v = env_get("FAKECHAIN_CRASH_SIGNAL");
        if (v) {
                f->crash_signal = signal_from_string(v);
                if (f->crash_signal < 0)
                        return errorf(-EINVAL,
                                "FAKECHAIN_CRASH_SIGNAL='%s' is not a signal that kills a process: "
                                "use e.g. SEGV, ABRT or KILL.",
                                v);
                if (f->stop_at == 0)
                        return errorf(-EINVAL,
                                "FAKECHAIN_CRASH_SIGNAL='%s' needs FAKECHAIN_STOP_AT: set the "
                                "height to crash at, e.g. FAKECHAIN_STOP_AT=5.",
                                v);
        }

        v = env_get("FAKECHAIN_LONG_LINE");
        if (v && (parse_size(v, &f->long_line) < 0 || f->long_line > LONG_LINE_MAX))
                return errorf(-EINVAL,
                        "FAKECHAIN_LONG_LINE='%s' is not valid: expected a size in bytes up to "
                        "256M, e.g. 1048576 or 1M.",
                        v);
        v = env_get("FAKECHAIN_LONG_ANNOUNCE");
        if (v && (parse_size(v, &f->long_announce) < 0 || f->long_announce > LONG_LINE_MAX))
                return errorf(-EINVAL,
                        "FAKECHAIN_LONG_ANNOUNCE='%s' is not valid: expected a size in bytes up to "
                        "256M, e.g. 4194723 or 16M.",
                        v);

        return plans_parse(f);
}

/* ---- home and persisted state -------------------------------------------------------------------- */

static int home_open(Fake *f, bool create) {
        _cleanup_close_ int home_fd = -EBADF;

        f->home = f->home_arg ?: env_get("FAKECHAIN_HOME") ?: env_get("DAEMON_HOME");
        if (!f->home)
                return errorf(
                        -EINVAL, "no home folder: pass --home DIR, or set FAKECHAIN_HOME or DAEMON_HOME.");
        if (create && mkdir(f->home, 0755) < 0 && errno != EEXIST)
                return errorf(-errno,
                        "Failed to create home folder '%s': %m; create it or pass another --home.", f->home);
        home_fd = open(f->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (home_fd < 0)
                return errorf(-errno,
                        "Failed to open home folder '%s': %m; pass an existing folder as --home.", f->home);
        if (create && mkdirat(home_fd, "data", 0755) < 0 && errno != EEXIST)
                return errorf(
                        -errno, "Failed to create '%s/data': %m; make the home folder writable.", f->home);
        f->data_fd = openat(home_fd, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->data_fd < 0 && (create || errno != ENOENT))
                return errorf(-errno, "Failed to open '%s/data': %m; it must be a folder.", f->home);
        return 0;
}

/* Reads a small counter file of data/ (a missing file is 0). */
static int counter_read(Fake *f, const char *name, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;

        if (f->data_fd < 0) {
                *ret = 0;
                return 0;
        }
        int r = read_file_at(f->data_fd, name, 64, &s, NULL);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return errorf(r, "Failed to read '%s/data/%s': %s; fix or remove the file.", f->home, name,
                        strerror(-r));
        strip_trailing_whitespace(s);
        if (parse_uint64(s, ret) < 0)
                return errorf(-EINVAL, "'%s/data/%s' holds '%s', not a number: fix or remove the file.",
                        f->home, name, s);
        return 0;
}

/* Replaces a counter file by rename (no fsync: a block every few ms, and the tests only kill processes,
 * which keeps the page cache). */
static int counter_write(Fake *f, const char *name, uint64_t value) {
        char tmp[64], text[32];
        _cleanup_close_ int fd = -EBADF;

        snprintf(tmp, sizeof tmp, ".%s.tmp", name);
        int n = snprintf(text, sizeof text, "%" PRIu64 "\n", value);
        fd = openat(f->data_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || loop_write(fd, text, (size_t) n) < 0 ||
                renameat(f->data_fd, tmp, f->data_fd, name) < 0)
                return errorf(-errno, "Failed to write '%s/data/%s': %m; make the folder writable.", f->home,
                        name);
        return 0;
}

static int height_persist(Fake *f) {
        return counter_write(f, "height", f->height);
}

static int upgrade_info_write(Fake *f, const Plan *p, bool with_info) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);

        if (!m)
                return -ENOMEM;
        fputs("{\"name\":\"", m);
        json_escape(m, p->name);
        fprintf(m, "\",\"time\":\"0001-01-01T00:00:00Z\",\"height\":%" PRIu64, p->height);
        if (with_info) {
                fputs(",\"info\":\"", m);
                json_escape(m, p->info);
                fputc('"', m);
        }
        fputc('}', m);
        if (fclose(m) != 0)
                return -ENOMEM;
        int r = write_file_atomic_at(f->data_fd, "upgrade-info.json", buf, size, 0600);
        if (r < 0)
                return errorf(r,
                        "Failed to write '%s/data/upgrade-info.json': %s; make the folder writable.",
                        f->home, strerror(-r));
        return 0;
}

/* ---- signals and exits --------------------------------------------------------------------------- */

static int signals_setup(Fake *f) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGQUIT);
        if (f->ignore_term)
                (void) signal(SIGTERM, SIG_IGN);
        else
                sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return errorf(-errno, "Failed to block signals: %m");
        f->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (f->signal_fd < 0)
                return errorf(-errno, "Failed to create signalfd: %m");
        return 0;
}

_noreturn_ static void crash(Fake *f, int sig) {
        struct rlimit no_core = {};
        sigset_t mask;

        errorf(0,
                "simulated crash at height %" PRIu64 ": killing myself with SIG%s (FAKECHAIN_CRASH_SIGNAL).",
                f->height, sigabbrev_np(sig));
        (void) setrlimit(RLIMIT_CORE, &no_core); /* no core files in the tests' folders */
        (void) signal(sig, SIG_DFL);
        sigemptyset(&mask);
        sigaddset(&mask, sig);
        (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
        (void) raise(sig);
        errorf(0, "SIG%s did not kill the process: use a fatal signal such as SEGV.", sigabbrev_np(sig));
        _exit(EXIT_USAGE);
}

_noreturn_ static void stop(Fake *f) {
        if (f->crash_signal > 0)
                crash(f, f->crash_signal);
        EMIT0(f, LEVEL_INFO, "fakechaind",
                "stopping at height %" PRIu64 " (FAKECHAIN_STOP_AT), exit status %" PRIu64, f->height,
                f->stop_exit);
        exit((int) f->stop_exit);
}

_noreturn_ static void on_signal(Fake *f, int sig) {
        if (sig == SIGQUIT) {
                /* What a Go program prints on SIGQUIT, shortened; always on stderr. */
                static const char dump[] =
                        "SIGQUIT: quit\nPC=0x4732e1 m=0 sigcode=0\n\n"
                        "goroutine 1 [running]:\nmain.main()\n\t/fakechaind/main.go:1 +0x1d\n";
                write_all(STDERR_FILENO, dump, sizeof(dump) - 1);
                exit((int) f->quit_exit);
        }

        Field fields[] = {{"signal", sig == SIGINT ? "interrupt" : "terminated", false}};
        EMIT(f, LEVEL_INFO, "server", fields, "received signal, shutting down gracefully");
        sleep_msec(f->term_delay_ms);
        if (f->data_fd >= 0)
                (void) height_persist(f);
        EMIT0(f, LEVEL_INFO, "server", "exiting at height %" PRIu64 ", status %" PRIu64, f->height,
                f->term_exit);
        exit((int) f->term_exit);
}

/* Sleeps until the monotonic deadline (USEC_INFINITY: forever), handling signals as they come. */
static void wait_until(Fake *f, usec_t deadline) {
        for (;;) {
                struct pollfd p = {.fd = f->signal_fd, .events = POLLIN};
                struct timespec ts, *tsp = NULL;
                usec_t n = now(CLOCK_MONOTONIC);

                if (deadline != USEC_INFINITY) {
                        if (n >= deadline)
                                return;
                        ts.tv_sec = (time_t) ((deadline - n) / USEC_PER_SEC);
                        ts.tv_nsec = (long) ((deadline - n) % USEC_PER_SEC * NSEC_PER_USEC);
                        tsp = &ts;
                }
                int k = ppoll(&p, 1, tsp, NULL);
                if (k < 0 && errno != EINTR) {
                        errorf(0, "ppoll() failed: %m");
                        exit(EXIT_FAILURE);
                }
                if (k > 0) {
                        struct signalfd_siginfo si;
                        if (read(f->signal_fd, &si, sizeof si) == (ssize_t) sizeof si)
                                on_signal(f, (int) si.ssi_signo);
                }
        }
}

/* ---- the chain ----------------------------------------------------------------------------------- */

/* The graceful shutdown after BaseApp.halt()'s SIGINT to itself (server/start.go): v0.47 and later return
 * from the start command (exit 0); v0.45 returns ErrorCode{128 + SIGINT}, which the app's main exits with. */
_noreturn_ static void halt_per_configuration(Fake *f) {
        int status = f->sdk == 0 ? 128 + SIGINT : 0;
        Field sig[] = {{"signal", "interrupt", false}};
        EMIT(f, LEVEL_INFO, "server", sig, "received signal, shutting down gracefully");
        EMIT0(f, LEVEL_INFO, "server", "exiting at height %" PRIu64 ", status %d", f->height, status);
        exit(status);
}

/* checkHalt() refused the block in FinalizeBlock (SDK v0.50+): CometBFT logs the error, its consensus
 * panics ("failed to apply block") and halts, and the process lives on until a signal. */
_noreturn_ static void halt_in_finalize(Fake *f) {
        _cleanup_free_ char *err = NULL, *cons = NULL;
        if (asprintf(&err, "halt per configuration height %" PRIu64 " time 0", f->halt_height) < 0 ||
                asprintf(&cons, "failed to apply block; error %s", err) < 0)
                exit(EXIT_FAILURE);
        Field e1[] = {{"err", err, false}};
        EMIT(f, LEVEL_ERROR, "state", e1, "error in proxyAppConn.FinalizeBlock");
        Field e2[] = {{"err", cons, false}};
        EMIT(f, LEVEL_ERROR, "consensus", e2, "CONSENSUS FAILURE!!!");
        wait_until(f, USEC_INFINITY);
        abort(); /* not reached: wait_until(∞) only returns through exit() */
}

static bool plan_known(const Fake *f, const Plan *p) {
        return (size_t) (p - f->plans) < f->n_known;
}

static bool height_skipped(const Fake *f, uint64_t h) {
        for (size_t i = 0; i < f->n_skip; i++)
                if (f->skip[i] == h)
                        return true;
        return false;
}

/* The plan x/upgrade has scheduled when block h begins: the first one not below h. */
static const Plan *plan_scheduled(const Fake *f, uint64_t h) {
        for (size_t i = 0; i < f->n_plans; i++)
                if (f->plans[i].height >= h)
                        return &f->plans[i];
        return NULL;
}

_noreturn_ static void halt(Fake *f) {
        if (f->halt_exit)
                exit((int) f->halt_exit_status);
        wait_until(f, USEC_INFINITY);
        abort(); /* not reached: wait_until(∞) only returns through exit() */
}

_noreturn_ static void announce(Fake *f, const Plan *p) {
        _cleanup_free_ char *msg = NULL;
        bool nl = !f->no_final_newline;

        if (asprintf(&msg, "UPGRADE \"%s\" NEEDED at height: %" PRIu64 ": %s", p->name, p->height, p->info) <
                0)
                exit(EXIT_FAILURE);

        /* SDK >= v0.44 writes the file first, then logs, then panics; CometBFT catches the panic (the
         * CONSENSUS FAILURE line) and halts. v0.40-v0.43 log first, then write the file without the info. */
        if (f->announce & ANNOUNCE_FILE && !f->log_first && upgrade_info_write(f, p, true) < 0)
                exit(EXIT_FAILURE);
        if (f->announce & ANNOUNCE_LOG && f->long_announce > 0)
                /* The only announcement in the output: no CONSENSUS FAILURE line with the short one. */
                emit_long_announce(f, msg, nl);
        else if (f->announce & ANNOUNCE_LOG)
                emit(f, LEVEL_ERROR, "x/upgrade", NULL, 0, nl, "%s", msg);
        if (f->announce & ANNOUNCE_FILE && f->log_first) {
                wait_until(f, now(CLOCK_MONOTONIC) + f->announce_file_delay_ms * USEC_PER_MSEC);
                if (upgrade_info_write(f, p, false) < 0)
                        exit(EXIT_FAILURE);
        }
        if (f->announce & ANNOUNCE_LOG) {
                if (nl && f->long_announce == 0) {
                        Field fields[] = {
                                {"err", msg, false},
                                {"stack", "goroutine 86 [running]:\nruntime/debug.Stack()\n", false},
                        };
                        EMIT(f, LEVEL_ERROR, "consensus", fields, "CONSENSUS FAILURE!!!");
                }
        } else
                emit(f, LEVEL_ERROR, "fakechaind", NULL, 0, nl,
                        "halting before height %" PRIu64
                        ": upgrade plan '%s' written to data/upgrade-info.json only "
                        "(FAKECHAIN_ANNOUNCE=file)",
                        p->height, p->name);
        halt(f);
}

_noreturn_ static void binary_updated_before_trigger(Fake *f, const Plan *p) {
        _cleanup_free_ char *msg = NULL, *panic = NULL;

        if (asprintf(&msg,
                    "BINARY UPDATED BEFORE TRIGGER! UPGRADE \"%s\" - in binary but not executed on chain. "
                    "Downgrade your binary",
                    p->name) < 0 ||
                asprintf(&panic, "panic: %s\n\ngoroutine 1 [running]:\n", msg) < 0)
                exit(EXIT_FAILURE);
        emit(f, LEVEL_ERROR, "x/upgrade", NULL, 0, true, "%s", msg);
        write_all(STDERR_FILENO, panic, strlen(panic));
        exit(2);
}

/* FinalizeBlock's checkHalt (v0.50: above H; v0.50.10: at or above H), its first step: before PreBlock,
 * where x/upgrade meets its plan, so that a plan at the halt height is never seen by v0.50.10
 * (baseapp/abci.go internalFinalizeBlock, x/upgrade/abci.go PreBlocker). */
static void finalize_check_halt(Fake *f, uint64_t h) {
        bool refused = (f->sdk == 2 && h > f->halt_height) || (f->sdk == 3 && h >= f->halt_height);
        if (f->halt_height == 0 || !refused)
                return;
        char height[32];
        snprintf(height, sizeof height, "%" PRIu64, h);
        Field fields[] = {{"height", height, true}};
        EMIT(f, LEVEL_INFO, "consensus", fields, "finalizing commit of block");
        halt_in_finalize(f);
}

static void commit(Fake *f, uint64_t h) {
        char height[32];

        snprintf(height, sizeof height, "%" PRIu64, h);
        Field fields[] = {{"height", height, true}};
        EMIT(f, LEVEL_INFO, "consensus", fields, "finalizing commit of block");
        bool halt = f->halt_height > 0 && f->sdk <= 2 && h >= f->halt_height;
        f->height = h;
        if (height_persist(f) < 0)
                exit(EXIT_FAILURE);
        if (halt) {
                /* In the app's Commit, before CometBFT logs the commit. */
                char hh[32];
                snprintf(hh, sizeof hh, "%" PRIu64, f->halt_height);
                Field hf[] = {{"height", hh, true}, {"time", "0", true}};
                EMIT(f, LEVEL_INFO, "baseapp", hf, "halting node per configuration");
        }
        EMIT(f, LEVEL_INFO, "state", fields, "committed state");
        if (halt)
                halt_per_configuration(f);
}

static void start_banner(Fake *f) {
        _cleanup_free_ char *args = NULL, *plans = NULL;
        const struct passwd *pw = getpwuid(getuid());

        EMIT0(f, LEVEL_INFO, "fakechaind",
                "fakechaind %s starting (version=%s pid=%d uid=%u user=%s gid=%u height=%" PRIu64
                " home=%s log_format=%s ld_library_path=%s)",
                VERSION, VERSION, (int) getpid(), (unsigned) getuid(), pw ? pw->pw_name : "?",
                (unsigned) getgid(), f->height, f->home, f->json ? "json" : "plain",
                getenv("LD_LIBRARY_PATH") ?: "(unset)");

        (void) strextendf(&args, "%s", f->command);
        for (size_t i = 0; i < f->n_args; i++)
                (void) strextendf(&args, " %s", f->args[i]);
        EMIT0(f, LEVEL_INFO, "fakechaind", "fakechaind %s args: %s", VERSION, strempty(args));

        for (size_t i = 0; i < f->n_plans; i++)
                (void) strextendf(&plans, "%s%s@%" PRIu64 " (%s)", i > 0 ? ", " : "", f->plans[i].name,
                        f->plans[i].height, plan_known(f, &f->plans[i]) ? "handler" : "no handler");
        EMIT0(f, LEVEL_INFO, "fakechaind", "fakechaind %s upgrade plans: %s", VERSION, plans ?: "none");

        const char *echo = env_get("FAKECHAIN_ECHO_ENV");
        if (echo) {
                _cleanup_free_ char *copy = strdup(echo);
                char *save = NULL;
                for (char *n = copy ? strtok_r(copy, ", ", &save) : NULL; n;
                        n = strtok_r(NULL, ", ", &save)) {
                        const char *v = getenv(n);
                        if (v)
                                EMIT0(f, LEVEL_INFO, "fakechaind", "env %s=%s", n, v);
                        else
                                EMIT0(f, LEVEL_INFO, "fakechaind", "env %s is not set", n);
                }
        }
}

static void stress_output(Fake *f) {
        if (f->long_line > 0) {
                _cleanup_free_ char *line = malloc(f->long_line + 1);
                if (!line) {
                        errorf(0, "Failed to allocate FAKECHAIN_LONG_LINE=%" PRIu64 " bytes.", f->long_line);
                        exit(EXIT_FAILURE);
                }
                memset(line, 'x', f->long_line);
                line[f->long_line] = '\n';
                write_all(f->log_fd, line, f->long_line + 1);
        }
        for (uint64_t i = 1; i <= f->burst; i++)
                EMIT0(f, LEVEL_INFO, "fakechaind", "burst %" PRIu64 "/%" PRIu64, i, f->burst);
}

/* "EROFS (Read-only file system)" for a log line. */
static const char *errno_text(int e, char *buf, size_t n) {
        snprintf(buf, n, "%s (%s)", strerrorname_np(e) ?: "E?", strerror(e));
        return buf;
}

static void host_listen(Fake *f) {
        const char *v = env_get("FAKECHAIN_LISTEN");
        if (!v)
                return;
        char buf[128];
        const char *colon = strrchr(v, ':');
        uint64_t port = 0;
        struct sockaddr_in sa = { .sin_family = AF_INET };
        _cleanup_free_ char *host = colon ? strndup(v, (size_t) (colon - v)) : NULL;
        if (!host || inet_pton(AF_INET, host, &sa.sin_addr) != 1 || parse_uint64(colon + 1, &port) < 0 || port == 0 ||
                port > 65535) {
                errorf(0, "FAKECHAIN_LISTEN='%s' is not valid: expected an IPv4 address and a port, such as 127.0.0.1:26657.", v);
                exit(EXIT_USAGE);
        }
        sa.sin_port = htons((uint16_t) port);
        /* Left open until the node exits. */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
                EMIT0(f, LEVEL_ERROR, "server", "listen on %s: %s", v, errno_text(errno, buf, sizeof(buf)));
                if (fd >= 0)
                        close(fd);
                return;
        }
        EMIT0(f, LEVEL_INFO, "server", "listening on %s", v);
}

static void host_wx(Fake *f) {
        bool wx = false;
        if (env_bool("FAKECHAIN_WX", &wx) < 0)
                exit(EXIT_USAGE);
        if (!wx)
                return;
        char buf[128];
        size_t n = (size_t) sysconf(_SC_PAGESIZE);
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                EMIT0(f, LEVEL_ERROR, "wasm", "mapped W+X memory: %s", errno_text(errno, buf, sizeof(buf)));
                return;
        }
#if defined(__x86_64__)
        *(volatile uint8_t *) p = 0xc3; /* ret */
        ((void (*)(void)) p)();
#endif
        (void) munmap(p, n);
        EMIT0(f, LEVEL_INFO, "wasm", "mapped W+X memory: ok");
}

static int probe_one(const char *what, const char *path) {
        char line[] = "fakechaind was here\n", b[64];
        if (streq(what, "write")) {
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return -errno;
                int r = write(fd, line, strlen(line)) < 0 ? -errno : 0;
                (void) unlink(path);
                return r;
        }
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, b, sizeof(b)) < 0)
                return -errno;
        return 0;
}

static void host_probe(Fake *f) {
        const char *v = env_get("FAKECHAIN_PROBE");
        if (!v)
                return;
        _cleanup_free_ char *copy = strdup(v);
        char *save = NULL, buf[128];
        for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save)) {
                char *colon = strchr(w, ':');
                if (!colon || (!startswith(w, "write:") && !startswith(w, "read:")) || colon[1] != '/') {
                        errorf(0, "FAKECHAIN_PROBE: '%s' is not valid: expected write:PATH or read:PATH, PATH absolute.", w);
                        exit(EXIT_USAGE);
                }
                *colon = 0;
                int r = probe_one(w, colon + 1);
                EMIT0(f, LEVEL_INFO, "probe", "probe %s %s: %s", w, colon + 1,
                        r < 0 ? errno_text(-r, buf, sizeof(buf)) : "ok");
        }
}

static int run_start(Fake *f) {
        int r = home_open(f, true);
        if (r < 0)
                return r;
        r = counter_read(f, "height", &f->height);
        if (r < 0)
                return r;
        r = signals_setup(f);
        if (r < 0)
                return r;

        start_banner(f);
        host_listen(f);
        host_wx(f);
        host_probe(f);
        stress_output(f);
        if (f->stop_at > 0 && f->height >= f->stop_at)
                stop(f);

        usec_t interval = f->block_interval_ms * USEC_PER_MSEC, next = now(CLOCK_MONOTONIC);
        for (;;) {
                /* A steady rate, but no catch-up storm after a stall (e.g. a full pipe). */
                usec_t n = now(CLOCK_MONOTONIC);
                next = next + interval < n ? n : next + interval;
                wait_until(f, next);

                uint64_t h = f->height + 1;
                finalize_check_halt(f, h);
                const Plan *p = plan_scheduled(f, h);
                if (p && p->height > h && f->strict && plan_known(f, p))
                        binary_updated_before_trigger(f, p);
                if (p && p->height == h) {
                        if (height_skipped(f, h))
                                EMIT0(f, LEVEL_INFO, "x/upgrade",
                                        "UPGRADE \"%s\" SKIPPED at height: %" PRIu64, p->name, h);
                        else if (plan_known(f, p))
                                EMIT0(f, LEVEL_INFO, "x/upgrade",
                                        "applying upgrade \"%s\" at height: %" PRIu64, p->name, h);
                        else
                                announce(f, p);
                }
                commit(f, h);
                if (f->stop_at > 0 && h >= f->stop_at)
                        stop(f);
        }
}

/* ---- the other commands -------------------------------------------------------------------------- */

static int run_version(Fake *f) {
        uint64_t status;
        int r = env_uint("FAKECHAIN_VERSION_EXIT", 0, 255, "an exit status 0..255", &status);
        if (r < 0)
                return r;
        write_all(STDOUT_FILENO, VERSION "\n", STRLEN(VERSION "\n"));
        return (int) status;
}

static int run_status(Fake *f) {
        char line[96];

        int r = home_open(f, false);
        if (r < 0)
                return r;
        r = counter_read(f, "height", &f->height);
        if (r < 0)
                return r;
        int n = snprintf(
                line, sizeof line, "{\"sync_info\":{\"latest_block_height\":\"%" PRIu64 "\"}}\n", f->height);
        write_all(STDOUT_FILENO, line, (size_t) n);
        return 0;
}

static int run_pre_upgrade(Fake *f) {
        _cleanup_free_ char *line = NULL, *copy = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t count, sleep_ms, status = 0;
        const char *list = env_get("FAKECHAIN_PREUPGRADE_EXITS") ?: "0";
        char *save = NULL;
        int r;

        r = env_uint("FAKECHAIN_PREUPGRADE_SLEEP", 0, 3600 * 1000, "milliseconds, e.g. 500", &sleep_ms);
        if (r < 0)
                return r;
        r = home_open(f, true);
        if (r < 0)
                return r;
        r = counter_read(f, "pre-upgrade.count", &count);
        if (r < 0)
                return r;

        /* The entry for this call, or the last one once the list is used up. */
        copy = strdup(list);
        if (!copy)
                return -ENOMEM;
        uint64_t i = 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), i++) {
                uint64_t u;
                if (parse_uint64(t, &u) < 0 || u > 255)
                        return errorf(-EINVAL,
                                "FAKECHAIN_PREUPGRADE_EXITS='%s': '%s' is not an exit status 0..255; "
                                "write e.g. FAKECHAIN_PREUPGRADE_EXITS=31,31,0.",
                                list, t);
                if (i <= count)
                        status = u;
        }

        (void) strextendf(&line, "%s pre-upgrade", VERSION);
        for (size_t j = 0; j < f->n_args; j++)
                (void) strextendf(&line, " %s", f->args[j]);
        (void) strextendf(&line, "\n");
        if (!line)
                return -ENOMEM;
        fd = openat(
                f->data_fd, "pre-upgrade.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || loop_write(fd, line, strlen(line)) < 0)
                return errorf(-errno,
                        "Failed to append to '%s/data/pre-upgrade.log': %m; make the folder writable.",
                        f->home);
        r = counter_write(f, "pre-upgrade.count", count + 1);
        if (r < 0)
                return r;

        uint64_t term_delay_ms;
        r = env_uint("FAKECHAIN_PREUPGRADE_TERM_DELAY", 0, 3600 * 1000, "milliseconds, e.g. 500", &term_delay_ms);
        if (r < 0)
                return r;
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        _cleanup_close_ int sfd = -EBADF;
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
                return errorf(-errno, "Failed to watch SIGTERM: %m");

        printf("fakechaind %s pre-upgrade call %" PRIu64 ": exit status %" PRIu64 "\n", VERSION, count + 1,
                status);
        fflush(stdout);
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        int n;
        while ((n = poll(&p, 1, (int) sleep_ms) /* at most an hour */) < 0 && errno == EINTR)
                ;
        if (n > 0) {
                static const char got[] = VERSION " pre-upgrade got SIGTERM\n", done[] = VERSION " pre-upgrade cleaned up\n";
                (void) loop_write(fd, got, strlen(got));
                printf("fakechaind %s pre-upgrade got SIGTERM, cleaning up for %" PRIu64 " ms\n", VERSION, term_delay_ms);
                fflush(stdout);
                sleep_msec(term_delay_ms);
                (void) loop_write(fd, done, strlen(done));
                return 143;
        }
        return (int) status;
}

static void fake_done(Fake *f) {
        plans_free(f);
        free(f->skip);
        safe_close(f->data_fd);
        safe_close(f->signal_fd);
}

int main(int argc, char **argv) {
        _cleanup_(fake_done) Fake f = {
                .data_fd = -EBADF,
                .signal_fd = -EBADF,
                .log_fd = STDERR_FILENO,
        };
        int r;

        r = parse_argv(&f, argc, argv);
        if (r >= 0 && !f.command)
                r = errorf(-EINVAL, "missing command: use one of start, version, status, pre-upgrade.");
        if (r >= 0)
                r = parse_env(&f);
        if (r >= 0) {
                if (streq(f.command, "start"))
                        r = run_start(&f);
                else if (streq(f.command, "version"))
                        r = run_version(&f);
                else if (streq(f.command, "status"))
                        r = run_status(&f);
                else if (streq(f.command, "pre-upgrade"))
                        r = run_pre_upgrade(&f);
                else
                        r = errorf(-EINVAL,
                                "unknown command '%s': use one of start, version, status, pre-upgrade.",
                                f.command);
        }
        if (r == -ENOMEM)
                errorf(0, "out of memory");
        if (r < 0)
                return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
        return r;
}
