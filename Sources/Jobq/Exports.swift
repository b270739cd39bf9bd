// `import Jobq` is all a producer writes: the model types (TaskSpec, TaskInfo, TaskState,
// JobqError, …) live in JobqCore and come along; of the Redis client only its configuration is
// API. Everything else in JobqCore and JobqRedis is `package`: not reachable from outside.
@_exported import JobqCore
@_exported import struct JobqRedis.RedisConfiguration
