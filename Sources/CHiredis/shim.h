#ifndef JOBQ_CHIREDIS_SHIM_H
#define JOBQ_CHIREDIS_SHIM_H

// What Swift cannot import from hiredis 0.14.1 directly: the `errstr` char array (imports as a
// 128-element tuple), the `sdslen` of the output buffer (a static inline over a header trick),
// `errno`, and `redisKeepAlive`, which the library exports but does not declare.
// The variadic `redisCommand` is not importable at all: Swift formats RESP itself and appends it
// with `redisAppendFormattedCommand`.

#include <errno.h>
#include <hiredis/hiredis.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/// `c->errstr` as a C string.
static inline const char *jobq_redis_errstr(const redisContext *c) {
    return c->errstr;
}

/// Bytes appended to the context but not yet written to the socket.
static inline size_t jobq_redis_obuf_len(const redisContext *c) {
    return c->obuf == NULL ? 0 : sdslen(c->obuf);
}

/// The calling thread's `errno`.
static inline int jobq_errno(void) {
    return errno;
}

/// Names the calling thread (shown by top -H, gdb, perf); at most 15 bytes are kept.
static inline void jobq_set_thread_name(const char *name) {
#ifdef __linux__
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#else
    (void)name;
#endif
}

/// Exported by libhiredis 0.14.1 (net.c) but missing from its headers: TCP keepalive with an interval.
int redisKeepAlive(redisContext *c, int interval);

#endif
