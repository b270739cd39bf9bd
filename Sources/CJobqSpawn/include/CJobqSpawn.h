#ifndef CJOBQ_SPAWN_H
#define CJOBQ_SPAWN_H
// posix_spawn helpers Swift cannot see: glibc declares posix_spawn_file_actions_addclosefrom_np
// only for _GNU_SOURCE / __USE_MISC builds.
#include <spawn.h>

/// Closes every descriptor >= `from` in the child (glibc 2.34+), so spawned processes inherit
/// nothing but stdin/stdout/stderr.
int jobq_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
