/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child-env.h"
#include "child.h"
#include "exec-format.h"
#include "fd-util.h"
#include "log.h"
#include "layout.h"
#include "readiness.h"
#include "string-util.h"
#include "strv.h"
#include "unit-run.h"
#include "unit-spec.h"

typedef enum Step {
        STEP_LOADER,
        STEP_VERSION,
} Step;

struct Readiness {
        sd_event *event;
        ReadinessDone done;
        void *userdata;

        char *binary;
        char *version_dir;
        char *daemon_name;
        char *lib_dir;            /* NULL when the version has no lib/ */
        char *interpreter;        /* the ELF's loader, NULL for static binaries and scripts */
        char **node_env;
        Credentials *credentials; /* borrowed */
        char *working_directory;
        usec_t timeout;

        /* Under the unit launcher (see readiness.h): each step in a unit derived from the node's. */
        const Config *config;     /* borrowed */
        char *node_unit;
        char *version;            /* the version's folder name, for the check unit's name */
        char *unit_name;          /* the unit of the step that ran last */
        UnitRun *unit;

        Step step;
        Child *child;
        int out_fd, err_fd;
        sd_event_source *defer;   /* reports a verdict reached before any child ran */

        char *reason;
        char *version_output;
        size_t version_output_size;
        ChildResult version_end;
        bool version_ran;
        bool ready;
};

Readiness *readiness_free(Readiness *r) {
        if (!r)
                return NULL;
        child_free(r->child);
        unit_run_free(r->unit);
        free(r->version_dir);
        free(r->daemon_name);
        free(r->node_unit);
        free(r->version);
        free(r->unit_name);
        sd_event_source_disable_unref(r->defer);
        safe_close(r->out_fd);
        safe_close(r->err_fd);
        free(r->binary);
        free(r->lib_dir);
        free(r->interpreter);
        strv_free(r->node_env);
        free(r->working_directory);
        free(r->reason);
        free(r->version_output);
        sd_event_unref(r->event);
        return mfree(r);
}

static void finish(Readiness *r) {
        ReadinessResult res = {
                .ready = r->ready,
                .reason = r->reason,
                .version_output = r->version_output,
                .version_output_size = r->version_output_size,
                .version_output_truncated = r->version_output_size >= READINESS_OUTPUT_MAX,
                .version_end = r->version_ran ? &r->version_end : NULL,
                .unit = r->unit_name,
        };
        r->child = child_free(r->child);
        r->unit = unit_run_free(r->unit);
        r->done(r, &res, r->userdata);
}

_printf_(2, 3) static int not_ready(Readiness *r, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        free(r->reason);
        int k = vasprintf(&r->reason, format, ap);
        va_end(ap);
        if (k < 0) {
                r->reason = NULL;
                return -ENOMEM;
        }
        r->ready = false;
        return 0;
}

/* An output capture: a memfd that cannot grow past max, so that a child writing without end costs at most
 * that; the shared file offset says how much was written. */
static int capture_fd(const char *name, size_t max) {
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, max) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static char *capture_read(int fd, size_t *ret_size) {
        off_t n = lseek(fd, 0, SEEK_CUR);
        if (n < 0)
                n = 0;
        char *s = malloc(n + 1);
        if (!s)
                return NULL;
        ssize_t k = pread(fd, s, n, 0);
        s[MAX(k, (ssize_t) 0)] = 0;
        /* A NUL written by the child ends the text. */
        if (ret_size)
                *ret_size = MAX(k, (ssize_t) 0);
        return s;
}

static void on_child(Child *c, const ChildResult *res, void *userdata);
static void on_unit(UnitRun *u, int error, const ChildResult *res, const char *message, void *userdata);

/* The loader in trace mode: it lists what it resolves, warns of missing symbol versions, runs nothing. */
static char *const loader_env[] = { "LD_TRACE_LOADED_OBJECTS=1", "LD_WARN=yes", "LD_BIND_NOW=yes", NULL };

static uint64_t random_u64(void) {
        uint64_t v;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t) sizeof v)
                v = now(CLOCK_MONOTONIC) ^ ((uint64_t) getpid() << 32);
        return v;
}

/* The step in a transient unit made like the node's: the node's unit as the launcher would build it for
 * this version (its binary, its lib/), then the check's unit derived from it. */
static int spawn_unit_step(Readiness *r, char *const *argv) {
        _cleanup_(daemon_unit_spec_done) DaemonUnitSpec node = {}, check = {};
        char *const node_argv[] = { r->binary, NULL };
        int k = daemon_unit_spec_from_config(r->config, r->node_unit, r->version, r->binary, node_argv, r->node_env,
                r->working_directory, &node);
        if (k < 0)
                return k;
        free(r->unit_name);
        r->unit_name = NULL;
        k = check_unit_name(r->node_unit, r->version, random_u64(), &r->unit_name);
        if (k < 0)
                return k;
        k = check_unit_spec_build(&node, r->unit_name, r->version, r->step == STEP_LOADER ? "libraries" : "version",
                argv, r->step == STEP_LOADER ? loader_env : NULL, r->timeout, &check);
        if (k < 0)
                return k;
        return unit_run_start(r->event, &check, r->out_fd, r->step == STEP_LOADER ? r->err_fd : r->out_fd, on_unit, r,
                &r->unit);
}

static int spawn_step(Readiness *r) {
        char *const loader_argv[] = { r->interpreter, r->binary, NULL };
        char *const version_argv[] = { r->binary, (char *) "version", NULL };

        r->out_fd = safe_close(r->out_fd);
        r->err_fd = safe_close(r->err_fd);
        r->out_fd = capture_fd("readiness-out", READINESS_OUTPUT_MAX);
        if (r->out_fd < 0)
                return r->out_fd;
        if (r->step == STEP_LOADER) {
                r->err_fd = capture_fd("readiness-err", READINESS_OUTPUT_MAX);
                if (r->err_fd < 0)
                        return r->err_fd;
        }
        if (r->node_unit)
                return spawn_unit_step(r, r->step == STEP_LOADER ? loader_argv : version_argv);

        _cleanup_(strv_freep) char **env = strv_copy(r->node_env);
        if (!env)
                return -ENOMEM;
        if (r->step == STEP_LOADER)
                STRV_FOREACH(e, loader_env) {
                        _cleanup_free_ char *k = strndup(*e, strcspn(*e, "="));
                        if (!k || strv_env_set(&env, k, strchr(*e, '=') + 1) < 0)
                                return -ENOMEM;
                }
        ChildSpec spec = CHILD_SPEC_INIT;
        spec.argv = r->step == STEP_LOADER ? loader_argv : version_argv;
        spec.env = env;
        spec.credentials = r->credentials;
        spec.working_directory = r->working_directory;
        spec.stdout_fd = r->out_fd;
        spec.stderr_fd = r->step == STEP_LOADER ? r->err_fd : r->out_fd;
        spec.timeout = r->timeout;
        spec.description = r->step == STEP_LOADER ? "readiness check (libraries)" : "readiness check (version)";
        return child_spawn(r->event, &spec, on_child, r, &r->child);
}

static const char *status_text(const ChildResult *res, char *buf, size_t len) {
        if (res->code == CLD_EXITED)
                (void) snprintf(buf, len, "exited with status %d", res->status);
        else
                (void) snprintf(buf, len, "was killed by signal %s", strna(sigabbrev_np(res->status)));
        return buf;
}

static int version_verdict(Readiness *r, const ChildResult *res) {
        char buf[FORMAT_TIMESPAN_MAX];
        free(r->version_output);
        r->version_output = capture_read(r->out_fd, &r->version_output_size);
        r->version_end = *res;
        r->version_ran = true;
        _cleanup_free_ char *first = NULL;
        if (r->version_output) {
                const char *s = r->version_output;
                while (*s == '\n')
                        s++;
                first = string_escape_for_log(s, strcspn(s, "\n"), 160);
        }
        if (res->timed_out)
                return not_ready(r, "does not finish `version` within %s (killed): a binary that hangs there will not start either; check it by hand",
                                 format_timespan(buf, sizeof buf, r->timeout));
        if (res->code != CLD_EXITED || res->status != 0)
                return not_ready(r, "`version` %s%s%s%s: run it by hand to see why (a missing flag or file, a crash)",
                                 status_text(res, buf, sizeof buf), !isempty(first) ? " (\"" : "", strempty(first),
                                 !isempty(first) ? "\")" : "");
        r->ready = true;
        return 0;
}

/* The end of a step, however it ran (a child of ours, or a unit): one reading of the result for both. */
static void step_done(Readiness *r, const ChildResult *res) {
        int k = 0;

        if (res->exec_failed) {
                /* Only a unit's runner says so: systemd could not set up what the node's unit asks for. */
                const char *what = unit_exec_status_to_string(res->status);
                k = not_ready(r, "cannot be started in the node's sandbox: systemd failed with status %d/%s before running it (in '%s'; 'journalctl -u %s' says why): fix what the node's unit needs (DAEMON_USER, DAEMON_HOME, ORAIVISOR_DAEMON_PROPERTIES)",
                              res->status, strna(what), strna(r->unit_name), strna(r->unit_name));
                goto done;
        }
        if (r->step == STEP_LOADER) {
                _cleanup_free_ char *out = capture_read(r->out_fd, NULL), *err = capture_read(r->err_fd, NULL), *why = NULL;
                if (!out || !err) {
                        k = not_ready(r, "cannot be checked: out of memory");
                        goto done;
                }
                if (res->timed_out) {
                        k = not_ready(r, "cannot be checked: the loader %s did not finish in time resolving its libraries; check the binary by hand (ldd)",
                                      r->interpreter);
                        goto done;
                }
                k = loader_list_check(out, err, res->code == CLD_EXITED && res->status == 0, &why);
                if (k == -ENOMEM)
                        goto done;
                if (k < 0) {
                        /* In the node's sandbox the host's paths may be hidden (ProtectHome=, InaccessiblePaths=):
                         * "not on this host" may mean "not where the node can see it". */
                        k = r->unit_name ? not_ready(r, "%s (checked in '%s', a unit made like the node's: its sandbox may hide paths the host has)",
                                                     why, r->unit_name)
                                         : not_ready(r, "%s", why);
                        goto done;
                }
                r->step = STEP_VERSION;
                k = spawn_step(r);
                if (k < 0)
                        k = not_ready(r, "cannot be checked: starting `version` failed: %s", strerror(-k));
                else
                        return;
                goto done;
        }

        k = version_verdict(r, res);
done:
        if (k == -ENOMEM) {
                free(r->reason);
                r->reason = NULL;
                r->ready = false;
        }
        finish(r);
}

static void on_child(Child *c, const ChildResult *res, void *userdata) {
        Readiness *r = userdata;
        r->child = child_free(r->child);
        step_done(r, res);
}

static void on_unit(UnitRun *u, int error, const ChildResult *res, const char *message, void *userdata) {
        Readiness *r = userdata;
        if (error < 0) {
                r->unit = unit_run_free(r->unit);
                if (not_ready(r, "cannot be checked in a unit like the node's: %s; see 'journalctl -u %s'",
                            strna(message), strna(r->unit_name)) < 0)
                        r->reason = NULL;
                return finish(r);
        }
        ChildResult copy = *res; /* res belongs to the run */
        r->unit = unit_run_free(r->unit);
        step_done(r, &copy);
}

static int on_defer(sd_event_source *s, void *userdata) {
        Readiness *r = userdata;
        r->defer = sd_event_source_disable_unref(r->defer);
        finish(r);
        return 0;
}

/* The checks that need no child: the file is installed, whole, for this machine, its loader exists. */
static int check_static(Readiness *r) {
        /* The one rule of "installed" first (layout.h): bin/<name> resolved inside the version's folder,
         * as list, status and the upgrade judge it; a symlink out of it is not this version's binary. */
        _cleanup_close_ int vfd = open(r->version_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (vfd >= 0 && version_binary_check_at(vfd, ".", r->daemon_name) == -EBADFD)
                return not_ready(r, "is not a regular file inside its version folder (%s leads outside it, or to a device): install the binary itself there",
                                 r->binary);
        _cleanup_close_ int fd = open(r->binary, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return not_ready(r, errno == ENOENT ? "is not installed (%s is missing): install it with oraivisorctl add-upgrade or prepare-upgrade"
                                                    : "cannot be opened (%s): %m; fix its permissions",
                                 r->binary);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return not_ready(r, "is not a regular file (%s): install the binary itself", r->binary);
        if ((st.st_mode & 0111) == 0)
                return not_ready(r, "is not executable (%s): chmod +x it", r->binary);

        ExecHost host = exec_host();
        ExecFormat f = {};
        _cleanup_free_ char *why = NULL;
        int k;
        if (st.st_size == 0)
                k = exec_format_check(NULL, 0, &host, &f, &why);
        else {
                void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (p == MAP_FAILED)
                        return not_ready(r, "cannot be read (%s): %m", r->binary);
                k = exec_format_check(p, st.st_size, &host, &f, &why);
                (void) munmap(p, st.st_size);
        }
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return not_ready(r, "%s", why);
        if (f.interpreter && access(f.interpreter, X_OK) < 0) {
                k = not_ready(r, f.kind == EXEC_SCRIPT
                                         ? "is a script whose interpreter %s does not exist on this host: install it or fix the #! line"
                                         : "asks for the loader %s, which this host does not have: it is built for another C library (musl?) or system; install a build for this host",
                              f.interpreter);
                exec_format_done(&f);
                return k;
        }
        if (f.kind == EXEC_ELF_DYNAMIC)
                r->interpreter = TAKE_PTR(f.interpreter);
        exec_format_done(&f);
        r->ready = true; /* so far */
        return 0;
}

int readiness_start(sd_event *e, const ReadinessSpec *spec, ReadinessDone done, void *userdata, Readiness **ret) {
        assert(e);
        assert(spec);
        assert(spec->version_dir);
        assert(spec->daemon_name);
        assert(done);
        assert(ret);

        _cleanup_(readiness_freep) Readiness *r = new0(Readiness, 1);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        r->done = done;
        r->userdata = userdata;
        r->out_fd = r->err_fd = -EBADF;
        r->credentials = (Credentials *) spec->credentials;
        r->timeout = spec->timeout > 0 ? spec->timeout : READINESS_TIMEOUT_DEFAULT;
        if (asprintf(&r->binary, "%s/bin/%s", spec->version_dir, spec->daemon_name) < 0)
                return -ENOMEM;
        r->version_dir = strdup(spec->version_dir);
        r->daemon_name = strdup(spec->daemon_name);
        if (!r->version_dir || !r->daemon_name)
                return -ENOMEM;
        if (spec->working_directory && !(r->working_directory = strdup(spec->working_directory)))
                return -ENOMEM;
        _cleanup_free_ char *lib = NULL;
        struct stat st;
        if (asprintf(&lib, "%s/lib", spec->version_dir) < 0)
                return -ENOMEM;
        if (stat(lib, &st) >= 0 && S_ISDIR(st.st_mode))
                r->lib_dir = TAKE_PTR(lib);
        if (spec->node_unit) {
                assert(spec->config);
                r->config = spec->config;
                r->node_unit = strdup(spec->node_unit);
                r->version = strdup(basename(spec->version_dir));
                if (!r->node_unit || !r->version)
                        return -ENOMEM;
        }
        int k = child_env_for_node(spec->env, r->lib_dir, &r->node_env);
        /* In a unit, User= sets HOME, USER, LOGNAME and SHELL, as for the node. */
        if (k >= 0 && r->credentials && !r->node_unit)
                k = credentials_env(r->credentials, &r->node_env);
        if (k < 0)
                return k;

        k = check_static(r);
        if (k < 0)
                return k;
        if (!r->ready || !r->interpreter) {
                /* Not ready already, or nothing to resolve: straight to `version` when ready. */
                if (r->ready) {
                        r->step = STEP_VERSION;
                        r->ready = false;
                        k = spawn_step(r);
                        if (k < 0)
                                return k;
                } else {
                        k = sd_event_add_defer(e, &r->defer, on_defer, r);
                        if (k < 0)
                                return k;
                }
        } else {
                r->ready = false;
                r->step = STEP_LOADER;
                k = spawn_step(r);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(r);
        return 0;
}
