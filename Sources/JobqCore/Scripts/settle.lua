--[[ settle: continues bounded cascades (docs/architecture.md, "Bounded scripts"): settles the
  dependents of the tasks on the settle list, at most SETTLE_BUDGET per call (prelude.lua), in the
  order the inline cascade would have. Called at once by the client whose call left work there
  (cancel, retry, doctor) until it answers 'done', and by every maintenance pass as a backstop
  (work left by complete, fail or reap, or by a client that died).
  ARGV[2] ms: also name the operations in `continuations` idle for longer (0: none)
  Operations scored 0 (a run stopped by fail-fast or its deadline, which no client owns yet) are
  always named: whoever settles continues them at once.
  Returns {1, status, operation, ...} with status (CONTINUATION, Swift ContinuationStatus)
          'done' | 'more', then up to 10 unowned and 10 idle operations ('cancel:<wf>', 'retry:<id>') ]]

local stale_ms = tonumber(ARGV[2]) or 0
local status = settle_backlog() and CONTINUATION.done or CONTINUATION.more
flush()
local reply = { OK, status }
for _, operation in ipairs(redis.call('ZRANGEBYSCORE', K.continuations, '-inf', 0, 'LIMIT', 0, 10)) do
  reply[#reply + 1] = operation
end
if stale_ms > 0 then
  for _, operation in ipairs(redis.call('ZRANGEBYSCORE', K.continuations, '(0', NOW - stale_ms, 'LIMIT', 0, 10)) do
    reply[#reply + 1] = operation
  end
end
return reply
