/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "worker-sandbox.h"

/* Runs check() in a forked child inside the sandbox; its exit status is the number of the first failed
 * expectation (0: all held), reported back as a string through a pipe for a useful message. */
static void run_sandboxed(uid_t uid, gid_t gid, int (*check)(int dir_fd, char *why, size_t n)) {
        char tmpl[] = "/tmp/test-worker-sandbox-XXXXXX";
        cr_assert_not_null(mkdtemp(tmpl));
        int dir_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dir_fd, 0);
        if (uid != geteuid())
                cr_assert_eq(fchown(dir_fd, uid, gid), 0);
        int p[2];
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);

        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char why[256] = "";
                const char *step = NULL;
                int r = worker_sandbox_enter(uid, gid, getppid(), &step);
                if (r < 0) {
                        snprintf(why, sizeof(why), "entering the sandbox: %s: %s", step, strerror(-r));
                        (void) !write(p[1], why, strlen(why));
                        _exit(100);
                }
                r = check(dir_fd, why, sizeof(why));
                (void) !write(p[1], why, strlen(why));
                _exit(r);
        }
        close(p[1]);
        char why[256] = "";
        ssize_t k = read(p[0], why, sizeof(why) - 1);
        why[k > 0 ? k : 0] = 0;
        close(p[0]);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status), "the sandboxed child was killed by signal %d", WTERMSIG(status));
        cr_assert_eq(WEXITSTATUS(status), 0, "check %d failed: %s", WEXITSTATUS(status), why);

        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        cr_assert_eq(system(cmd), 0);
        close(dir_fd);
}

#define EXPECT(n, cond, ...)                                                                                \
        do {                                                                                                \
                if (!(cond)) {                                                                              \
                        snprintf(why, size, __VA_ARGS__);                                                   \
                        return (n);                                                                         \
                }                                                                                           \
        } while (0)

static unsigned long long status_field(const char *name) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        unsigned long long v = ~0ULL;
        size_t n = strlen(name);
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, name, n) == 0 && line[n] == ':')
                        v = strtoull(line + n + 1, NULL, strstr(name, "Cap") ? 16 : 10);
        if (f)
                fclose(f);
        return v;
}

/* What the unpack worker does must work; what it never does must not. */
static int check_worker(int dir_fd, char *why, size_t size) {
        /* Allowed: files and folders below the staging folder. */
        EXPECT(1, mkdirat(dir_fd, "lib", 0755) == 0, "mkdirat: %m");
        int fd = openat(dir_fd, "lib/x", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        EXPECT(2, fd >= 0, "openat: %m");
        EXPECT(3, pwrite(fd, "abc", 3, 0) == 3, "pwrite: %m");
        EXPECT(4, fchmod(fd, 0644) == 0 && fsync(fd) == 0, "fchmod/fsync: %m");
        close(fd);
        EXPECT(5, symlinkat("x", dir_fd, "lib/y") == 0 && linkat(dir_fd, "lib/x", dir_fd, "lib/z", 0) == 0,
                "symlinkat/linkat: %m");
        void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        EXPECT(6, m != MAP_FAILED, "mmap: %m");
        char *big = malloc(64 << 20); /* glibc maps it */
        EXPECT(7, big, "malloc");
        free(big);

        /* Refused: executable memory, sockets, programs, processes, signals to others, owners, ioctl. */
        errno = 0;
        EXPECT(20,
                mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
                        errno == EPERM,
                "mmap(PROT_EXEC) was allowed");
        EXPECT(21, mprotect(m, 4096, PROT_READ | PROT_EXEC) < 0 && errno == EPERM,
                "mprotect(PROT_EXEC) was allowed");
        EXPECT(22, socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM, "socket() was allowed");
        EXPECT(23, socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EPERM, "socket(AF_UNIX) was allowed");
        char *argv[] = {(char *) "/bin/true", NULL};
        EXPECT(24, execve("/bin/true", argv, argv + 1) < 0 && errno == EPERM, "execve() was allowed");
        EXPECT(25, syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) < 0 && errno == EPERM, "clone() was allowed");
        EXPECT(26, kill(getppid(), 0) < 0 && errno == EPERM, "kill() was allowed");
        EXPECT(27, syscall(SYS_tgkill, getppid(), getppid(), 0) < 0 && errno == EPERM,
                "tgkill() of another process was allowed");
        EXPECT(28, fchownat(dir_fd, "lib/x", 0, 0, AT_SYMLINK_NOFOLLOW) < 0 && errno == EPERM,
                "fchownat() was allowed");
        EXPECT(29, setresuid(0, 0, 0) < 0 && errno == EPERM, "setresuid() was allowed");
        EXPECT(30, ioctl(dir_fd, FIONREAD, &(int){0}) < 0 && errno == EPERM, "ioctl() was allowed");
        EXPECT(31, mknodat(dir_fd, "fifo", S_IFIFO | 0600, 0) < 0 && errno == EPERM,
                "mknodat() was allowed");
        EXPECT(32, prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) < 0, "no_new_privs could be cleared");

        EXPECT(40, status_field("NoNewPrivs") == 1, "NoNewPrivs is not 1");
        EXPECT(41, status_field("Seccomp") == 2, "Seccomp is not 2 (filter)");
        EXPECT(42,
                status_field("CapEff") == 0 && status_field("CapPrm") == 0 && status_field("CapInh") == 0 &&
                        status_field("CapAmb") == 0,
                "capabilities left");
        return 0;
}

Test(worker_sandbox, uid_range) {
        cr_assert_eq(worker_sandbox_uid(1), 2130706433U);
        /* The largest pid (PID_MAX_LIMIT) stays below systemd's "foreign" range. */
        cr_assert_lt(worker_sandbox_uid(1 << 22), 2147352576U);
        cr_assert_gt(worker_sandbox_uid(1), 1879048191U);
}

Test(worker_sandbox, same_user) {
        run_sandboxed(geteuid(), getegid(), check_worker);
}

static int check_own_user(int dir_fd, char *why, size_t size) {
        uid_t r, e, s;
        gid_t rg, eg, sg;
        EXPECT(50, getresuid(&r, &e, &s) == 0 && r == e && e == s && r == worker_sandbox_uid(1000),
                "uids %u %u %u", r, e, s);
        EXPECT(51, getresgid(&rg, &eg, &sg) == 0 && rg == eg && eg == sg && rg == worker_sandbox_uid(1000),
                "gids %u %u %u", rg, eg, sg);
        EXPECT(52, getgroups(0, NULL) == 0, "supplementary groups left");
        /* Root's files are out of reach without capabilities. */
        EXPECT(53, open("/etc/shadow", O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES,
                "/etc/shadow is readable");
        return check_worker(dir_fd, why, size);
}

Test(worker_sandbox, own_user) {
        cr_assert_eq(geteuid(), 0, "this test needs root (make check runs as root)");
        run_sandboxed(worker_sandbox_uid(1000), worker_sandbox_uid(1000), check_own_user);
}
