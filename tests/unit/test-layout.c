/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fs-util.h"
#include "layout.h"
#include "log.h"

static char home[] = "/tmp/test-layout-XXXXXX";
static char root[PATH_MAX];

static void put(const char *rel, const char *content, mode_t mode) {
        char p[PATH_MAX * 2], cmd[PATH_MAX * 3];
        snprintf(p, sizeof(p), "%s/%s", home, rel);
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
        cr_assert_eq(system(cmd), 0);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fputs(content, f);
        fclose(f);
        cr_assert_eq(chmod(p, mode), 0);
}

static void setup(void) {
        strcpy(home, "/tmp/test-layout-XXXXXX");
        cr_assert_not_null(mkdtemp(home));
        snprintf(root, sizeof(root), "%s/oraivisor", home);
        put("oraivisor/genesis/bin/oraid", "#!/bin/sh\n", 0755);
        put("oraivisor/upgrades/v2/bin/oraid", "#!/bin/sh\n", 0755);
        log_set_max_level(LOG_CRIT);
}

static void teardown(void) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
        (void) system(cmd);
}

static Layout *open_layout(void) {
        Layout *l = NULL;
        cr_assert_eq(layout_open(home, "oraid", &l), 0);
        return l;
}

static void link_current(const char *target) {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof(p), "%s/current", root);
        (void) unlink(p);
        cr_assert_eq(symlink(target, p), 0);
}

TestSuite(layout, .init = setup, .fini = teardown);

Test(layout, open_requires_root_folder) {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof(p), "rm -rf '%s'", root);
        cr_assert_eq(system(p), 0);
        Layout *l = NULL;
        cr_assert_eq(layout_open(home, "oraid", &l), -ENOENT);
        cr_assert_null(l);
}

Test(layout, first_start_creates_relative_current) {
        _cleanup_(layout_freep) Layout *l = open_layout();
        cr_assert_eq(layout_ensure_current(l), 1);
        cr_assert_eq(layout_ensure_current(l), 0);
        char target[64] = {};
        cr_assert_gt(readlinkat(l->root_fd, "current", target, sizeof(target) - 1), 0);
        cr_assert_str_eq(target, "genesis");

        _cleanup_(current_version_done) CurrentVersion v = {};
        cr_assert_eq(layout_read_current(l, &v), 0);
        cr_assert_str_eq(v.target, "genesis");
        cr_assert_null(v.folder);
        cr_assert_null(v.lib_dir);
        char expect[PATH_MAX + 32];
        snprintf(expect, sizeof(expect), "%s/genesis/bin/oraid", root);
        cr_assert_str_eq(v.binary, expect);
}

Test(layout, first_start_without_genesis_binary_fails) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof(p), "%s/genesis/bin/oraid", root);
        cr_assert_eq(unlink(p), 0);
        _cleanup_(layout_freep) Layout *l = open_layout();
        cr_assert_eq(layout_ensure_current(l), -ENOENT);
        struct stat st;
        cr_assert_lt(fstatat(l->root_fd, "current", &st, AT_SYMLINK_NOFOLLOW), 0, "no current may be created");
}

Test(layout, broken_current_is_refused_never_repaired) {
        _cleanup_(layout_freep) Layout *l = open_layout();
        static const char *const bad[] = { "upgrades/nope", "../oraivisor/genesis", "/etc", "upgrades", "upgrades/v2/bin",
                "upgrades/..", "." };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                link_current(bad[i]);
                CurrentVersion v = {};
                cr_assert_eq(layout_read_current(l, &v), -ENOLINK, "target '%s' must be refused", bad[i]);
                cr_assert_eq(layout_ensure_current(l), 0, "an existing current is left alone");
                char target[64] = {};
                cr_assert_gt(readlinkat(l->root_fd, "current", target, sizeof(target) - 1), 0);
                cr_assert_str_eq(target, bad[i], "current must not be repaired silently");
        }
}

Test(layout, current_not_a_symlink) {
        put("oraivisor/current", "x", 0644);
        _cleanup_(layout_freep) Layout *l = open_layout();
        CurrentVersion v = {};
        cr_assert_eq(layout_read_current(l, &v), -ENOLINK);
}

Test(layout, absolute_target_inside_tree_accepted) {
        char t[PATH_MAX + 32];
        snprintf(t, sizeof(t), "%s/upgrades/v2", root);
        link_current(t);
        _cleanup_(layout_freep) Layout *l = open_layout();
        _cleanup_(current_version_done) CurrentVersion v = {};
        cr_assert_eq(layout_read_current(l, &v), 0);
        cr_assert_str_eq(v.folder, "v2");
        cr_assert_str_eq(v.target, "upgrades/v2");
}

Test(layout, binary_not_executable_or_missing) {
        put("oraivisor/upgrades/v3/bin/oraid", "x", 0644);
        put("oraivisor/upgrades/v4/README", "x", 0644);
        _cleanup_(layout_freep) Layout *l = open_layout();
        CurrentVersion v = {};
        link_current("upgrades/v3");
        cr_assert_eq(layout_read_current(l, &v), -ENOEXEC);
        link_current("upgrades/v4");
        cr_assert_eq(layout_read_current(l, &v), -ENOEXEC);

        char *path = NULL;
        cr_assert_eq(layout_check_binary(l, "upgrades/v3", &path), -EACCES);
        free(path);
        cr_assert_eq(layout_check_binary(l, "upgrades/v4", &path), -ENOENT);
        free(path);
        put("oraivisor/upgrades/v5/bin/oraid/x", "x", 0644);
        cr_assert_eq(layout_check_binary(l, "upgrades/v5", &path), -EISDIR);
        free(path);
}

Test(layout, lib_dir_detected) {
        put("oraivisor/upgrades/v2/lib/libwasmvm.x86_64.so", "", 0644);
        link_current("upgrades/v2");
        _cleanup_(layout_freep) Layout *l = open_layout();
        _cleanup_(current_version_done) CurrentVersion v = {};
        cr_assert_eq(layout_read_current(l, &v), 0);
        char expect[PATH_MAX + 32];
        snprintf(expect, sizeof(expect), "%s/upgrades/v2/lib", root);
        cr_assert_str_eq(v.lib_dir, expect);
}

Test(layout, find_upgrade_encoded_and_lowercase) {
        _cleanup_(layout_freep) Layout *l = open_layout();
        char *folder = NULL;
        cr_assert_eq(layout_find_upgrade(l, "v2", &folder), 1);
        cr_assert_str_eq(folder, "v2");
        free(folder);

        /* Cosmovisor prepares lower-cased folders. */
        cr_assert_eq(layout_find_upgrade(l, "V2", &folder), 1);
        cr_assert_str_eq(folder, "v2");
        free(folder);

        /* ... with Go's path escaping, which keeps '+'. */
        put("oraivisor/upgrades/v1.0.0+build/bin/oraid", "#!/bin/sh\n", 0755);
        cr_assert_eq(layout_find_upgrade(l, "V1.0.0+Build", &folder), 1);
        cr_assert_str_eq(folder, "v1.0.0+build");
        free(folder);

        cr_assert_eq(layout_find_upgrade(l, "v3 final/rc", &folder), 0);
        cr_assert_str_eq(folder, "v3%20final%2Frc");
        free(folder);

        cr_assert_eq(layout_find_upgrade(l, "..", &folder), -EINVAL);
        cr_assert_eq(layout_find_upgrade(l, "", &folder), -EINVAL);
}

typedef struct Fault {
        unsigned at;
} Fault;

static int fault_at(unsigned step, void *userdata) {
        return step == ((Fault *) userdata)->at;
}

/* A crash between any two steps of a switch leaves current pointing to the old or the new version,
 * and the next switch (after the start-up cleanup) completes. */
Test(layout, switch_survives_crash_at_every_step) {
        for (unsigned at = 0; at <= 4; at++) {
                link_current("genesis");
                _cleanup_(layout_freep) Layout *l = open_layout();
                Fault f = { .at = at };
                int r = layout_switch(l, "upgrades/v2", fault_at, &f);
                cr_assert(at == 4 ? r == 0 : r == -ECANCELED);

                _cleanup_(current_version_done) CurrentVersion v = {};
                cr_assert_eq(layout_read_current(l, &v), 0, "crash at step %u left a broken current", at);
                cr_assert(streq(v.target, "genesis") || streq(v.target, "upgrades/v2"));
                if (at >= 2)
                        cr_assert_str_eq(v.target, "upgrades/v2", "the rename happened: the new version must stay");

                cr_assert_eq(layout_cleanup_stale(l), 0);
                cr_assert_eq(layout_switch(l, "upgrades/v2", NULL, NULL), 0);
                current_version_done(&v);
                cr_assert_eq(layout_read_current(l, &v), 0);
                cr_assert_str_eq(v.target, "upgrades/v2");

                /* No temporary links are left. */
                char cmd[PATH_MAX + 64];
                snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' | grep '^.current.tmp')\"", root);
                cr_assert_eq(system(cmd), 0, "temporary links left after crash at step %u", at);
        }
}

Test(layout, record_plan_and_read_back) {
        _cleanup_(layout_freep) Layout *l = open_layout();
        _cleanup_(upgrade_plan_freep) UpgradePlan *p = NULL;
        cr_assert_eq(upgrade_plan_new("v2", 100, NULL, "{\"binaries\": {}}", &p), 0);
        cr_assert_eq(layout_switch(l, "upgrades/v2", NULL, NULL), 0);
        cr_assert_eq(layout_record_plan(l, "v2", p), 0);
        _cleanup_(current_version_done) CurrentVersion v = {};
        cr_assert_eq(layout_read_current(l, &v), 0);
        cr_assert_not_null(v.plan);
        cr_assert(upgrade_plan_same(v.plan, p));
        cr_assert_str_eq(v.plan->info, p->info);
        char *label = current_version_label(&v);
        cr_assert_str_eq(label, "v2");
        free(label);
}

Test(layout, plan_file) {
        _cleanup_(layout_freep) Layout *l = open_layout();
        UpgradePlan *p = NULL;
        cr_assert_eq(layout_read_plan_file(l, &p, NULL), 0);
        put("data/upgrade-info.json", "{\"name\":\"v2\",\"time\":\"0001-01-01T00:00:00Z\",\"height\":42,\"info\":\"\"}", 0600);
        cr_assert_eq(layout_read_plan_file(l, &p, NULL), 1);
        cr_assert_str_eq(p->name, "v2");
        cr_assert_eq(p->height, 42);
        upgrade_plan_free(p);
        put("data/upgrade-info.json", "{\"name\":", 0600);
        const char *reason = NULL;
        cr_assert_eq(layout_read_plan_file(l, &p, &reason), -EBADMSG);
        cr_assert_not_null(reason);
        /* Caught between the truncate and the write of a rewrite: empty is malformed, not "none". */
        put("data/upgrade-info.json", "", 0600);
        reason = NULL;
        cr_assert_eq(layout_read_plan_file(l, &p, &reason), -EBADMSG);
        cr_assert_not_null(reason);
}

/* ---- the executable check judges the file it opened --------------------------------------------------- */

static int send_fd(int sock, int fd) {
        char c = 0;
        struct iovec iov = {.iov_base = &c, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = {};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        return sendmsg(sock, &mh, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock) {
        char c;
        struct iovec iov = {.iov_base = &c, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = {};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
                return -errno;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS)
                return -EBADMSG;
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        return fd;
}

/* Stops the calling thread's faccessat()/faccessat2() calls until the listener (the returned fd) lets
 * them go on: a deterministic window between opening the binary and checking it. */
static int trap_faccessat(void) {
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_faccessat, 2, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_faccessat2, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        };
        struct sock_fprog prog = {.len = ELEMENTSOF(f), .filter = f};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        int fd = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        return fd < 0 ? -errno : fd;
}

Test(layout, binary_check_judges_the_opened_file_not_the_path) {
        /* As the node's user (nobody): a binary that only root may run, swapped by rename for one that
         * everybody may run between the open and the executable check, must still be refused: it is the
         * opened (root-only) file whose mode was read, and the one the check is about. */
        put("oraivisor/upgrades/v6/bin/oraid", "#!/bin/sh\n", 0744);
        put("oraivisor/upgrades/v6/bin/oraid.new", "#!/bin/sh\n", 0755);
        cr_assert_eq(chmod(home, 0755), 0);
        _cleanup_(layout_freep) Layout *l = open_layout();

        int sv[2];
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(sv[0]);
                if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(90);
                int listener = trap_faccessat();
                if (listener < 0 || send_fd(sv[1], listener) < 0)
                        _exit(91);
                close(listener);
                char *path = NULL;
                int r = layout_check_binary(l, "upgrades/v6", &path);
                _exit(r == 0 ? 0 : r == -EACCES ? 13 : 92);
        }
        close(sv[1]);
        int listener = recv_fd(sv[0]);
        cr_assert_geq(listener, 0, "no listener from the child: %d", listener);
        int pidfd = pidfd_open(pid, 0);
        cr_assert_geq(pidfd, 0);

        bool swapped = false;
        for (;;) {
                struct pollfd p[2] = {{.fd = listener, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
                cr_assert_geq(poll(p, 2, 30 * 1000), 1, "neither a trapped call nor an exit in 30 s");
                if (p[0].revents & POLLIN) {
                        struct seccomp_notif req = {};
                        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                                continue; /* the caller went away meanwhile */
                        if (!swapped) {
                                char a[PATH_MAX + 64], b[PATH_MAX + 64];
                                snprintf(a, sizeof(a), "%s/upgrades/v6/bin/oraid.new", root);
                                snprintf(b, sizeof(b), "%s/upgrades/v6/bin/oraid", root);
                                cr_assert_eq(rename(a, b), 0);
                                swapped = true;
                        }
                        struct seccomp_notif_resp resp = {.id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
                        (void) ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
                        continue;
                }
                if (p[1].revents & POLLIN)
                        break;
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        close(pidfd);
        close(listener);
        close(sv[0]);
        cr_assert(swapped, "the check never called faccessat()");
        cr_assert(WIFEXITED(status), "status %d", status);
        cr_assert_eq(WEXITSTATUS(status), 13, "a binary nobody may not run was accepted (exit %d)", WEXITSTATUS(status));
}

Test(layout, current_target_without_checks) {
        _cleanup_(layout_freep) Layout *l = open_layout();
        char *t = NULL, *f = NULL;
        cr_assert_eq(layout_current_target(l, &t, &f), 0);
        cr_assert_null(t);
        cr_assert_null(f);

        link_current("genesis");
        cr_assert_eq(layout_current_target(l, &t, &f), 1);
        cr_assert_str_eq(t, "genesis");
        cr_assert_null(f);
        free(t);

        /* Named even when that version is gone: no check beyond the name. */
        link_current("./upgrades/v9/");
        cr_assert_eq(layout_current_target(l, &t, &f), 1);
        cr_assert_str_eq(t, "upgrades/v9");
        cr_assert_str_eq(f, "v9");
        free(t);
        free(f);

        char abs[PATH_MAX + 32];
        snprintf(abs, sizeof(abs), "%s/upgrades/v2", root);
        link_current(abs);
        cr_assert_eq(layout_current_target(l, &t, &f), 1);
        cr_assert_str_eq(t, "upgrades/v2");
        free(t);
        free(f);

        link_current("../elsewhere");
        cr_assert_eq(layout_current_target(l, &t, &f), -ENOLINK);
        char p[PATH_MAX + 16];
        snprintf(p, sizeof(p), "%s/current", root);
        cr_assert_eq(unlink(p), 0);
        cr_assert_eq(mkdir(p, 0755), 0);
        cr_assert_eq(layout_current_target(l, &t, &f), -ENOLINK);
}
