// A child that dies with this process: fork + a supervisor shim + exec (Linux).
//
// posix_spawn cannot set a parent-death signal, and a parent-death signal on the command itself
// would not reach what the command starts. So the forked child is a tiny shim:
//
//   worker ── shim (process group leader, PR_SET_PDEATHSIG=SIGTERM) ── command ── grandchildren…
//
// The shim forks the command into its own process group and waits for it. When the worker dies
// (SIGKILL, OOM kill, crash), the kernel sends the shim SIGTERM; its handler sees that its parent
// is no longer the worker and SIGKILLs the whole group. A SIGTERM from the worker itself (cancel,
// timeout: sent to the group) finds the parent unchanged and is ignored by the shim, while the
// command, which has default dispositions, gets it. When the command ends, the shim steps out of
// the group and SIGKILLs what the command left in it, then exits with the command's status (or
// dies of the same signal), so the caller's status handling sees the command's own ending.
//
// Everything between fork and _exit runs in a child of a multi-threaded process: only
// async-signal-safe calls (raw system calls, no malloc, no stdio, no locks).
#define _GNU_SOURCE
#include "CJobqSpawn.h"

#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// The worker's pid and the command's group, for the signal handler (set once in the shim).
static volatile pid_t shim_worker = 0;
static volatile pid_t shim_group = 0;

static void shim_on_term(int sig) {
    (void)sig;
    // The worker's own SIGTERM (cancel, timeout): the command gets it; the shim stays.
    // A SIGTERM after a spawning *thread* exited finds the parent unchanged too (the kernel
    // reparents to another thread of the worker and keeps the death signal armed).
    if (getppid() == shim_worker) return;
    kill(-shim_group, SIGKILL);  // the group, the shim included
    _exit(128 + SIGKILL);
}

static void report(int fd, int stage, int error) {
    int message[2] = {stage, error};
    ssize_t ignored = write(fd, message, sizeof message);
    (void)ignored;
}

/// Closes every descriptor >= 3 except `keep`.
static void close_others(int keep) {
    if (keep > 3 && syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U) != 0) goto slow;
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) != 0) goto slow;
    return;
slow:;
    struct rlimit limit;
    long top = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (long)limit.rlim_cur : 65536;
    for (long fd = 3; fd < top; fd++) {
        if (fd != keep) close((int)fd);
    }
}

static int route(const jobq_child_fd *io, int target) {
    switch (io->mode) {
    case JOBQ_FD_DUP:
        if (io->fd == target) {
            // dup2 onto itself keeps close-on-exec; clear it as posix_spawn's adddup2 does.
            return fcntl(target, F_SETFD, 0) == 0 ? 0 : -1;
        }
        return dup2(io->fd, target) < 0 ? -1 : 0;
    case JOBQ_FD_OPEN: {
        int fd = open(io->path, io->flags, 0600);
        if (fd < 0) return -1;
        if (fd != target) {
            if (dup2(fd, target) < 0) return -1;
            close(fd);
        }
        return 0;
    }
    default:
        return 0;
    }
}

static void reset_dispositions(void) {
    struct sigaction standard = {0};
    standard.sa_handler = SIG_DFL;
    sigemptyset(&standard.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        sigaction(sig, &standard, NULL);  // EINVAL for the C library's internal signals: fine
    }
}

/// The command: default SIGTERM, no blocked signals, the working directory, exec.
static void command(const jobq_supervised_request *request, int errors) {
    struct sigaction standard = {0};
    standard.sa_handler = SIG_DFL;
    sigemptyset(&standard.sa_mask);
    sigaction(SIGTERM, &standard, NULL);
    prctl(PR_SET_PDEATHSIG, 0);  // not inherited by fork anyway; the shim is its guard
    if (request->working_directory && chdir(request->working_directory) != 0) {
        report(errors, JOBQ_STAGE_CHDIR, errno);
        _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(request->path, request->argv, request->envp);
    report(errors, JOBQ_STAGE_EXEC, errno);
    _exit(127);
}

static void shim(const jobq_supervised_request *request, pid_t worker, pid_t worker_group, int errors) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    pid_t self = (pid_t)syscall(SYS_getpid);
    shim_worker = worker;
    shim_group = self;
    if (setpgid(0, 0) != 0) goto fail;
    reset_dispositions();
    if (errors < 3) {
        int moved = fcntl(errors, F_DUPFD_CLOEXEC, 3);
        if (moved < 0) goto fail;
        errors = moved;
    }
    for (int target = 0; target < 3; target++) {
        if (route(&request->stdio[target], target) != 0) goto fail;
    }
    close_others(errors);  // the worker's sockets and other commands' pipes

    struct sigaction term = {0};
    term.sa_handler = shim_on_term;
    sigfillset(&term.sa_mask);
    term.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &term, NULL) != 0) goto fail;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) goto fail;
    // The worker may have died before the death signal was armed: nobody would tell us.
    if (getppid() != worker) {
        report(errors, JOBQ_STAGE_GONE, ESRCH);
        _exit(127);
    }

    pid_t child = _Fork();
    if (child == 0) command(request, errors);
    if (child < 0) {
        report(errors, JOBQ_STAGE_FORK, errno);
        _exit(127);
    }
    close(errors);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);  // a death signal that came meanwhile lands now

    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) _exit(127);
    }
    sigprocmask(SIG_SETMASK, &all, NULL);
    // What the command left in the group dies now, not when the worker gets round to it: step
    // into the worker's group first so the kill spares the shim (and its exit status). If that
    // fails and the worker is gone (its death signal is blocked from here on), kill the group
    // with the shim in it: nobody is left to read the status. If the worker is alive, it kills
    // the group itself once it has seen the shim exit.
    if (setpgid(0, worker_group) == 0 || getppid() != worker) kill(-self, SIGKILL);

    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit nocore = {0, 0};
        setrlimit(RLIMIT_CORE, &nocore);  // the command dumped (or not); the shim never does
        struct sigaction standard = {0};
        standard.sa_handler = SIG_DFL;
        sigemptyset(&standard.sa_mask);
        sigaction(sig, &standard, NULL);
        kill(self, sig);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, sig);
        sigprocmask(SIG_UNBLOCK, &only, NULL);
        _exit(128 + sig);  // a signal whose default is not to terminate (cannot end a process)
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);

fail:
    report(errors, JOBQ_STAGE_SETUP, errno);
    _exit(127);
}

int jobq_spawn_supervised(const jobq_supervised_request *request, pid_t *pid, int *stage) {
    *stage = JOBQ_STAGE_NONE;
    int errors[2];
    if (pipe2(errors, O_CLOEXEC) != 0) {
        *stage = JOBQ_STAGE_SETUP;
        return errno;
    }
    pid_t worker = getpid();
    pid_t worker_group = getpgrp();
    // _Fork: no atfork handlers (the child only makes system calls), async-signal-safe.
    pid_t child = _Fork();
    if (child == 0) shim(request, worker, worker_group, errors[1]);
    int failure = errno;
    close(errors[1]);
    if (child < 0) {
        close(errors[0]);
        *stage = JOBQ_STAGE_SETUP;
        return failure;
    }
    // Closed (end of file) once the command has exec'd; else the stage and errno.
    int message[2];
    size_t got = 0;
    while (got < sizeof message) {
        ssize_t count = read(errors[0], (char *)message + got, sizeof message - got);
        if (count > 0) {
            got += (size_t)count;
        } else if (count == 0 || errno != EINTR) {
            break;
        }
    }
    close(errors[0]);
    if (got == sizeof message) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        *stage = message[0];
        return message[1] != 0 ? message[1] : EIO;
    }
    *pid = child;
    return 0;
}
#endif
