/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "fs-util.h"
#include "uid-map.h"
#include "worker-sandbox.h"

/* A hand-written filter rather than libseccomp: some forty system calls on two architectures, three of
 * them with an argument check, is a short table; libseccomp would be one more library (and its RSS) in
 * every oraivisor, and it installs filters with seccomp(2), which oraivisor@.service's own
 * SystemCallFilter=@system-service refuses, where prctl(PR_SET_SECCOMP) is allowed. */
#if defined(__x86_64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define SANDBOX_FILTER_MAX 160

uid_t worker_sandbox_uid(pid_t pid) {
        assert(pid > 0 && pid <= (1 << 22)); /* PID_MAX_LIMIT */
        return (uid_t) (WORKER_SANDBOX_UID_BASE + (uint32_t) pid);
}

#ifdef SANDBOX_AUDIT_ARCH
/* What the unpack worker does once its fds are open (read the stream, create and write files and folders
 * below the staging folder, fsync), what glibc's malloc and a sanitizer's runtime need, and exiting. */
/* clang-format off */
static const int allowed_syscalls[] = {
        SYS_read, SYS_readv, SYS_write, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_lseek, SYS_close,
        SYS_fcntl, SYS_openat,
#ifdef SYS_openat2
        SYS_openat2,
#endif
        SYS_mkdirat, SYS_unlinkat, SYS_symlinkat, SYS_linkat,
#ifdef SYS_renameat
        SYS_renameat,
#endif
        SYS_renameat2, SYS_readlinkat,
#ifdef SYS_newfstatat
        SYS_newfstatat,
#endif
        SYS_fstat, SYS_statx, SYS_getdents64, SYS_fchmod, SYS_fchmodat, SYS_fsync, SYS_fdatasync,
        SYS_sync_file_range, SYS_ftruncate,
        /* Memory (mmap and mprotect below: never executable). */
        SYS_brk, SYS_munmap, SYS_mremap, SYS_madvise,
        /* The rest of a process's life, and sanitizer runtimes (abort goes through tgkill, below). */
        SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_getpid, SYS_gettid,
        SYS_clock_gettime, SYS_futex, SYS_sched_yield, SYS_getrandom, SYS_prlimit64, SYS_sigaltstack,
        SYS_restart_syscall, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid, SYS_getresuid, SYS_getresgid,
        SYS_getgroups,
#ifdef SYS_getrlimit
        SYS_getrlimit,
#endif
};
/* clang-format on */

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* The low 32 bits of an argument (little-endian: both architectures above). */
#define LOAD_ARG_LOW(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define DENY RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define ALLOW RET(SECCOMP_RET_ALLOW)

static int sandbox_seccomp(void) {
        struct sock_filter f[SANDBOX_FILTER_MAX];
        size_t n = 0;
#define EMIT(insn)                                                                                          \
        do {                                                                                                \
                assert(n < ELEMENTSOF(f));                                                                  \
                f[n++] = (struct sock_filter) insn;                                                         \
        } while (0)

        /* Another architecture's system call numbers mean other calls: the process dies. */
        EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
        EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_AUDIT_ARCH, 1, 0));
        EMIT(RET(SECCOMP_RET_KILL_PROCESS));
        EMIT(LOAD_NR);
#ifdef __x86_64__
        /* x32 calls share the architecture, with this bit set. */
        EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, 0, 1));
        EMIT(RET(SECCOMP_RET_KILL_PROCESS));
#endif
        for (size_t i = 0; i < ELEMENTSOF(allowed_syscalls); i++) {
                EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) allowed_syscalls[i], 0, 1));
                EMIT(ALLOW);
        }

        /* mmap() and mprotect(): not executable. Each block: not this call → skip it, with nr still
         * loaded. */
        static const int no_exec[] = {SYS_mmap, SYS_mprotect};
        for (size_t i = 0; i < ELEMENTSOF(no_exec); i++) {
                EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) no_exec[i], 0, 4));
                EMIT(LOAD_ARG_LOW(2));
                EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1));
                EMIT(DENY);
                EMIT(ALLOW);
        }
        /* tgkill(): only to ourselves (abort(), raise()). */
        EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, 0, 4));
        EMIT(LOAD_ARG_LOW(0));
        EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) getpid(), 1, 0));
        EMIT(DENY);
        EMIT(ALLOW);

        EMIT(DENY);
#undef EMIT

        struct sock_fprog prog = {
                .len = (unsigned short) n,
                .filter = f,
        };
        /* prctl(), not seccomp(2): the latter is outside oraivisor@.service's @system-service. */
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}
#else
/* XXX: no filter on other architectures (their system call tables differ); the worker still runs as a
 * user of its own, without capabilities and without new privileges. A table per architecture lifts it. */
static int sandbox_seccomp(void) {
        return 0;
}
#endif

/* 4194304: the largest pid_max (PID_MAX_LIMIT on 64-bit). */
#define WORKER_PID_RANGE UINT64_C(4194304)

static int map_covers(const char *path, uint64_t first, uint64_t count) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(AT_FDCWD, path, 64 * 1024, &text, NULL);
        if (r == -ENOENT)
                return 1; /* no user namespaces in this kernel: everything is mapped */
        if (r < 0)
                return r;
        return uid_map_covers(text, first, count);
}

WorkerUserMode worker_sandbox_user_mode(void) {
        if (map_covers("/proc/self/uid_map", WORKER_SANDBOX_UID_BASE, WORKER_PID_RANGE) > 0 &&
            map_covers("/proc/self/gid_map", WORKER_SANDBOX_UID_BASE, WORKER_PID_RANGE) > 0)
                return WORKER_USER_OWN;
        if (map_covers("/proc/self/uid_map", WORKER_SANDBOX_NOBODY, 1) > 0 &&
            map_covers("/proc/self/gid_map", WORKER_SANDBOX_NOBODY, 1) > 0)
                return WORKER_USER_NOBODY;
        return WORKER_USER_KEEP;
}

uid_t worker_sandbox_user(WorkerUserMode mode, pid_t pid) {
        switch (mode) {
        case WORKER_USER_OWN:
                return worker_sandbox_uid(pid);
        case WORKER_USER_NOBODY:
                return WORKER_SANDBOX_NOBODY;
        default:
                return geteuid();
        }
}

int worker_sandbox_enter(uid_t uid, gid_t gid, pid_t die_with, const char **ret_step) {
        const char *step;

        /* First, so that nothing below can be undone through a setuid program. */
        step = "setting no_new_privs";
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                goto fail;

        if (gid != getegid() || uid != geteuid()) {
                step = "dropping the supplementary groups";
                if (setgroups(0, NULL) < 0)
                        goto fail;
                step = "switching to the worker's group";
                if (setresgid(gid, gid, gid) < 0)
                        goto fail;
                /* From uid 0 to another, all three: the kernel clears every capability. */
                step = "switching to the worker's user";
                if (setresuid(uid, uid, uid) < 0)
                        goto fail;
        }

        if (die_with > 0) {
                step = "tying the worker to its parent";
                if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                        goto fail;
                if (getppid() != die_with) {
                        errno = ECHILD;
                        goto fail;
                }
        }

        /* Whatever is left (a non-root oraivisor given capabilities, say): none. The bounding set is left
         * alone: it only matters at execve(), which the filter refuses, and no_new_privs holds anyway. */
        struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
        step = "dropping the capabilities";
        if (syscall(SYS_capset, &header, data) < 0)
                goto fail;
        step = "dropping the ambient capabilities";
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                goto fail;

        step = "installing the system call filter";
        int r = sandbox_seccomp();
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        return 0;

fail:
        if (ret_step)
                *ret_step = step;
        return -errno;
}
