#ifndef CJOBQ_SPAWN_H
#define CJOBQ_SPAWN_H
// posix_spawn helpers Swift cannot see: glibc declares these only for _GNU_SOURCE builds.
#include <spawn.h>

/// Closes every descriptor >= `from` in the child (glibc 2.34+), so spawned processes inherit
/// nothing but what the file actions set up.
int jobq_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// Changes the child's working directory before exec (glibc 2.29+).
int jobq_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
