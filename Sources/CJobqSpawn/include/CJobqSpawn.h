#ifndef CJOBQ_SPAWN_H
#define CJOBQ_SPAWN_H
// posix_spawn helpers Swift cannot see (glibc declares these only for _GNU_SOURCE builds), and
// the fork+exec path that makes a child die with this process (Linux).
#include <spawn.h>
#include <sys/types.h>

/// Closes every descriptor >= `from` in the child (glibc 2.34+), so spawned processes inherit
/// nothing but what the file actions set up.
int jobq_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// Changes the child's working directory before exec (glibc 2.29+).
int jobq_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// Where one standard descriptor of a supervised child comes from.
enum {
    /// Left as it is in this process.
    JOBQ_FD_INHERIT = 0,
    /// `dup2(fd, target)`.
    JOBQ_FD_DUP = 1,
    /// `open(path, flags, 0600)` onto the target.
    JOBQ_FD_OPEN = 2,
};

typedef struct {
    int mode;
    int fd;
    const char *path;
    int flags;
} jobq_child_fd;

/// What the shim failed at (reported with the errno).
enum {
    JOBQ_STAGE_NONE = 0,
    JOBQ_STAGE_SETUP = 1,  // setpgid, prctl, the stdio routing or the pipe: in the shim
    JOBQ_STAGE_FORK = 2,   // the shim could not fork the command
    JOBQ_STAGE_CHDIR = 3,  // the working directory
    JOBQ_STAGE_EXEC = 4,   // execve (ENOENT, EACCES, ENOEXEC, ...)
    JOBQ_STAGE_GONE = 5,   // this process died while the child started (never seen by a live caller)
};

typedef struct {
    /// The program (a path; no PATH search) and its NULL-terminated argv and envp.
    const char *path;
    char *const *argv;
    char *const *envp;
    /// stdin, stdout, stderr, applied in this order (so stderr can `JOBQ_FD_DUP` fd 1).
    jobq_child_fd stdio[3];
    /// NULL: this process's.
    const char *working_directory;
} jobq_supervised_request;

/// Starts `request->path` under a supervisor shim that dies with this process and takes the
/// command's whole process group with it (Linux only; elsewhere returns ENOSYS).
///
/// The returned pid is the shim's: the leader of the command's process group (signal `-pid` to
/// reach everything the command started), and its exit status is the command's (exit code, or
/// death by the same signal). The shim ignores SIGTERM sent by this process (the command gets
/// it), so cancel/timeout work as with a plain child. Returns only once the command has been
/// exec'd: 0 and `*pid`, or an errno value with `*stage` saying which step failed.
int jobq_spawn_supervised(const jobq_supervised_request *request, pid_t *pid, int *stage);

/// A pidfd for `pid` (close-on-exec; Linux 5.3+), or -1 with errno set (ENOSYS elsewhere).
int jobq_pidfd_open(pid_t pid);

#endif
