/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "digest.h"
#include "fd-util.h"
#include "fs-util.h"
#include "log.h"
#include "manifest.h"
#include "oraivisorctl-versions.h"
#include "plan-file.h"
#include "readiness.h"
#include "string-util.h"
#include "strv.h"
#include "upgrade-name.h"

static void version_done(CtlVersion *v) {
        free(v->name);
        free(v->folder);
        free(v->rel);
        free(v->binary);
        free(v->lib_dir);
        upgrade_plan_free(v->plan);
}

void ctl_versions_done(CtlVersions *v) {
        for (size_t i = 0; i < v->n_versions; i++)
                version_done(&v->versions[i]);
        v->versions = mfree(v->versions);
        v->n_versions = 0;
        v->current_target = mfree(v->current_target);
}

const CtlVersion *ctl_versions_current(const CtlVersions *v) {
        for (size_t i = 0; i < v->n_versions; i++)
                if (v->versions[i].current)
                        return &v->versions[i];
        return NULL;
}

static int version_fill(Layout *l, const char *folder, const char *current, CtlVersion *v) {
        struct stat st;
        int r;

        *v = (CtlVersion){};
        if (folder) {
                v->folder = strdup(folder);
                if (!v->folder || asprintf(&v->rel, "upgrades/%s", folder) < 0)
                        return -ENOMEM;
                r = upgrade_folder_to_name(folder, &v->name);
                if (r == -ENOMEM)
                        return r;
        } else if (!(v->rel = strdup("genesis")) || !(v->name = strdup("genesis")))
                return -ENOMEM;
        v->current = streq_ptr(current, v->rel);
        if (asprintf(&v->binary, "%s/%s/bin/%s", l->root, v->rel, l->daemon_name) < 0)
                return -ENOMEM;
        v->binary_error = version_binary_check_at(l->root_fd, v->rel, l->daemon_name);
        if (v->binary_error == -ENOMEM)
                return -ENOMEM;

        _cleanup_close_ int dfd = open_beneath(l->root_fd, v->rel, O_RDONLY | O_DIRECTORY, 0, true);
        if (dfd >= 0 && fstatat(dfd, "lib", &st, 0) >= 0 && S_ISDIR(st.st_mode) &&
                asprintf(&v->lib_dir, "%s/%s/lib", l->root, v->rel) < 0)
                return -ENOMEM;
        if (dfd >= 0 && folder) {
                r = plan_file_read_at(dfd, &v->plan, &v->plan_reason, NULL);
                if (r == -ENOMEM)
                        return r;
                v->plan_error = MIN(r, 0);
        }
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int ctl_versions_load(Layout *l, CtlVersions *ret) {
        _cleanup_strv_free_ char **folders = NULL;
        CtlVersions vs = {};
        struct stat st;
        int r;

        r = layout_current_target(l, &vs.current_target, NULL);
        if (r == -ENOMEM)
                return log_oom();
        vs.current_error = r == 0 ? -ENOENT : MIN(r, 0);

        _cleanup_close_ int ufd =
                openat(l->root_fd, "upgrades", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (ufd < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to open '%s/upgrades': %m", l->root);
        if (ufd >= 0) {
                int dfd = fcntl(ufd, F_DUPFD_CLOEXEC, 3);
                DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
                if (!d) {
                        safe_close(dfd);
                        return log_error_errno(errno, "Failed to read '%s/upgrades': %m", l->root);
                }
                for (;;) {
                        errno = 0;
                        struct dirent *de = readdir(d);
                        if (!de) {
                                r = -errno;
                                break;
                        }
                        /* Folders only; dot files are oraivisor's staging ("." prefix) or not versions. */
                        if (de->d_name[0] == '.' || fstatat(ufd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                                !S_ISDIR(st.st_mode))
                                continue;
                        r = strv_extend(&folders, de->d_name);
                        if (r < 0)
                                break;
                }
                closedir(d);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "Failed to read '%s/upgrades': %m", l->root);
        }
        size_t n = strv_length(folders);
        if (n > 1)
                qsort(folders, n, sizeof(char *), compare_strings);

        bool genesis = fstatat(l->root_fd, "genesis", &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode);
        vs.versions = new0(CtlVersion, n + 1);
        if (!vs.versions)
                return log_oom();
        if (genesis) {
                r = version_fill(l, NULL, vs.current_target, &vs.versions[vs.n_versions++]);
                if (r < 0)
                        goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                r = version_fill(l, folders[i], vs.current_target, &vs.versions[vs.n_versions++]);
                if (r < 0)
                        goto fail;
        }
        *ret = vs;
        return 0;
fail:
        ctl_versions_done(&vs);
        return log_oom();
}

int ctl_binary_not_ready_reason(const CtlVersion *v, char **ret) {
        assert(v->binary_error < 0);
        _cleanup_free_ char *bin = string_escape_for_log(v->binary, strlen(v->binary), 400);
        if (!bin)
                return -ENOMEM;
        const char *fix = v->binary_error == -EACCES ? "chmod +x it"
                : v->binary_error != -ENOENT         ? "install the binary itself"
                : v->folder                          ? "install it with oraivisorctl add-upgrade or prepare-upgrade"
                                                     : "install it with oraivisorctl init";
        return asprintf(ret, "%s (%s): %s", version_binary_problem(v->binary_error), bin, fix) < 0 ? -ENOMEM : 0;
}

int ctl_binary_sha256(Layout *l, const CtlVersion *v, char **ret_hex, uint64_t *ret_size) {
        _cleanup_free_ char *rel = NULL;
        if (asprintf(&rel, "%s/bin/%s", v->rel, l->daemon_name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open_beneath(l->root_fd, rel, O_RDONLY, 0, false);
        if (fd < 0)
                return fd;
        return digest_fd_hex(CHECKSUM_SHA256, fd, ret_hex, ret_size);
}

int ctl_node_credentials(Ctl *ctl, Credentials *ret, char **ret_error) {
        return credentials_resolve(ctl->config.daemon_user, ctl->config.daemon_group, ret, ret_error);
}

char *ctl_version_output_text(const CtlCheck *c) {
        size_t n = c->output ? c->output_size : 0;
        while (n > 0 && strchr(" \t\r\n", c->output[n - 1]))
                n--;
        /* One line per line of output, each escaped; at most the kept bytes. */
        _cleanup_free_ char *s = string_escape_for_log(strempty(c->output), n, READINESS_OUTPUT_MAX);
        if (!s)
                return NULL;
        if (c->output_truncated && strextendf(&s, "…") < 0)
                return NULL;
        return TAKE_PTR(s);
}

json_object *ctl_version_output_json(const CtlCheck *c) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        const char *out = strempty(c->output);
        size_t n = c->output ? c->output_size : 0;
        while (n > 0 && strchr(" \t\r\n", out[n - 1]))
                n--;
        /* JSON strings carry any bytes but NUL and invalid UTF-8 poorly: escape those the same way. */
        bool plain = memchr(out, 0, n) == NULL;
        for (size_t i = 0; plain && i < n; i++)
                if ((unsigned char) out[i] < 0x20 && !strchr("\t\n", out[i]))
                        plain = false;
        _cleanup_free_ char *text = plain ? strndup(out, n) : string_escape_for_log(out, n, READINESS_OUTPUT_MAX);
        json_object_object_add(o, "output", text ? json_object_new_string(text) : NULL);
        json_object_object_add(o, "truncated", json_object_new_boolean(c->output_truncated));
        const ChildResult *end = &c->version_end;
        bool exited = end->code == CLD_EXITED && !end->timed_out;
        json_object_object_add(o, "exit_status", exited ? json_object_new_int(end->status) : NULL);
        json_object_object_add(o, "signal", !exited && !end->timed_out ? json_object_new_int(end->status) : NULL);
        json_object_object_add(o, "timed_out", json_object_new_boolean(end->timed_out));
        return o;
}

const char *ctl_version_describe_end(const ChildResult *end, char *buf, size_t len) {
        if (end->timed_out)
                snprintf(buf, len, "timed out, stopped");
        else if (end->code == CLD_EXITED)
                snprintf(buf, len, "exit status %d", end->status);
        else
                snprintf(buf, len, "killed by signal %d (%s)", end->status, strsignal(end->status));
        return buf;
}

void ctl_json_add_string(json_object *o, const char *key, const char *value) {
        json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

json_object *ctl_plan_to_json(const UpgradePlan *p) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        ctl_json_add_string(o, "name", p->name);
        json_object_object_add(o, "height", p->height > 0 ? json_object_new_int64(p->height) : NULL);
        ctl_json_add_string(o, "time", p->time);
        ctl_json_add_string(o, "info", p->info);

        _cleanup_free_ char *url = NULL, *platform = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        const char *reason = NULL, *kind;
        int r = plan_info_parse(p->info, &url, &m, &reason);
        kind = r == PLAN_INFO_URL         ? "url"
                : r == PLAN_INFO_MANIFEST ? "manifest"
                : r == -ENODATA           ? "none"
                                          : "invalid";
        json_object_object_add(o, "info_kind", json_object_new_string(kind));
        ctl_json_add_string(o, "manifest_url", url);
        ctl_json_add_string(o, "info_error", r == -EBADMSG ? reason : NULL);

        struct utsname u;
        if (uname(&u) >= 0)
                (void) platform_from_uname(u.sysname, u.machine, &platform);
        ctl_json_add_string(o, "platform", platform);

        json_object *bins = NULL;
        const char *here = NULL;
        if (m) {
                bins = json_object_new_object();
                for (size_t i = 0; bins && i < m->n_entries; i++)
                        ctl_json_add_string(bins, m->entries[i].platform, m->entries[i].url);
                const char *key = NULL, *why = NULL;
                if (platform && manifest_find(m, platform, &here, &key, &why) < 0)
                        here = NULL;
        }
        json_object_object_add(o, "binaries", bins);
        ctl_json_add_string(o, "binary_url", here);
        return o;
}

int ctl_plan_binary_ready(Layout *l, const char *name, char **ret_folder) {
        _cleanup_free_ char *folder = NULL, *rel = NULL;
        int r = layout_find_upgrade(l, name, &folder);
        if (r < 0)
                return r;
        if (asprintf(&rel, "upgrades/%s", folder) < 0)
                return log_oom();
        bool ready = r > 0 && version_binary_check_at(l->root_fd, rel, l->daemon_name) == 0;
        if (ret_folder)
                *ret_folder = TAKE_PTR(folder);
        return ready;
}

const char *ctl_format_time(usec_t t, char *buf, size_t len) {
        if (t == 0) {
                snprintf(buf, len, "-");
                return buf;
        }
        time_t s = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        if (!gmtime_r(&s, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, len, "-");
        return buf;
}

json_object *ctl_time_json(usec_t t) {
        char buf[CTL_TIME_MAX];
        if (t == 0)
                return NULL;
        time_t s = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        if (!gmtime_r(&s, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        return json_object_new_string(buf);
}
