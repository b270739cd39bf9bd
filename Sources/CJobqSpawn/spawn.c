#define _GNU_SOURCE
#include <spawn.h>
#include <errno.h>
#include "CJobqSpawn.h"

int jobq_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int jobq_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>

int jobq_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}
#else
int jobq_pidfd_open(pid_t pid) {
    (void)pid;
    errno = ENOSYS;
    return -1;
}

int jobq_spawn_supervised(const jobq_supervised_request *request, pid_t *pid, int *stage) {
    (void)request;
    (void)pid;
    *stage = JOBQ_STAGE_SETUP;
    return ENOSYS;
}
#endif
