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

#ifndef __linux__
int jobq_spawn_supervised(const jobq_supervised_request *request, pid_t *pid, int *stage) {
    (void)request;
    (void)pid;
    *stage = JOBQ_STAGE_SETUP;
    return ENOSYS;
}
#endif
