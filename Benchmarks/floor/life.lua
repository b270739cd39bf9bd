-- The floor of a no-op task's batched life (docs/performance.md, "The floor of a task's life"):
-- the Redis commands jobq's scripts make for 100 tasks (submit, claim, complete), with the same
-- argument shapes, and no logic at all: no state table, no fencing check, no parsing, no tables
-- per task beyond the replies. Benchmarks/life-floor.sh runs it. ARGV[1]: an id prefix; ARGV[2]
-- '1' to store an attempt entry per completion too.
local base, n, now = ARGV[1], 100, '1796679369055'
local spec = 'default\tnoop\t3\t900000\t86400000\t\t0\t{"base_ms":1000,"cap_ms":300000,"jitter":true,"kind":"exponential"}\t'
local ids = {}
for i = 1, n do
  ids[i] = base .. i
  redis.call('HSET', 'floor:t:' .. ids[i], 'state', 'PENDING', 'created', now, 'payload', '{"k":1}', 'spec', spec)
end
redis.call('LPUSH', 'floor:q', unpack(ids))
redis.call('LPUSH', 'floor:wake', '1')
redis.call('XADD', 'floor:events', 'MAXLEN', '~', 20000, '*', 'ts', now, 'e', table.concat(ids, '\n'))
redis.call('HINCRBY', 'floor:stats', 'submitted', n)
-- claim: pop, read each record (the 16 fields claim.lua reads), write the lease, index it
local popped = redis.call('RPOP', 'floor:q', n)
local token = redis.call('INCRBY', 'floor:token', n)
local scores = {}
for i, id in ipairs(popped) do
  redis.call('HMGET', 'floor:t:' .. id, 'state', 'spec', 'payload', 'attempts', 'deps_left', 'run_after', 'deaths', 'expires_at', 'checkpoint', 'climit', 'signals', 'wait', 'unique', 'trace', 'rlimit', 'child')
  redis.call('HSET', 'floor:t:' .. id, 'attempts', '1', 'token', token - n + i, 'lease', now, 'worker', 'w1', 'started', now, 'state', 'RUNNING')
  scores[#scores + 1] = now
  scores[#scores + 1] = id
end
redis.call('ZADD', 'floor:leases', unpack(scores))
redis.call('XADD', 'floor:events', 'MAXLEN', '~', 20000, '*', 'ts', now, 'e', table.concat(popped, '\n'))
-- complete: read (the 13 fields complete.lua reads), write the end, the dependents' count; the
-- indexes once per call (no attempt entry: the attempt that makes a task DONE is read from its
-- record; FLOOR_ATTEMPT=1 in life-floor.sh adds the RPUSH jobq made before 2026-12-07)
for _, id in ipairs(popped) do
  redis.call('HMGET', 'floor:t:' .. id, 'state', 'token', 'attempts', 'spec', 'error', 'worker', 'started', 'cancel_requested', 'cache_digest', 'checkpoint_at', 'climit', 'unique', 'spawned')
  redis.call('HSET', 'floor:t:' .. id, 'result', '1', 'reason', '', 'finished', now, 'state', 'DONE')
  if ARGV[2] == '1' then redis.call('RPUSH', 'floor:t:' .. id .. ':attempts', '1\tw1\t' .. now .. '\t' .. now .. '\tdone\t\t') end
  redis.call('HLEN', 'floor:t:' .. id .. ':next')
end
redis.call('ZREM', 'floor:leases', unpack(popped))
redis.call('ZADD', 'floor:ended', unpack(scores))
redis.call('XADD', 'floor:events', 'MAXLEN', '~', 20000, '*', 'ts', now, 'e', table.concat(popped, '\n'))
redis.call('HINCRBY', 'floor:stats', 'done', n)
return n
