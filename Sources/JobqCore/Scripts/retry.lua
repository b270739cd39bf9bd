--[[ retry: re-open a FAILED or CANCELLED task, with a fresh attempt budget, and the dependents
  it took down (CANCELLED with reason dependency_failed), transitively, as soon as none of their
  `success` prerequisites is still FAILED or CANCELLED.
  ARGV[2] task id
  Returns {1, id, id, ...} (the re-opened tasks, the given one first)
        | {-1 NOT_FOUND} | {-2 WRONG_STATE, state} | {-8 PREREQUISITE_FAILED, prerequisite} ]]

local root = ARGV[2]

-- Count of unresolved prerequisites, or nil plus the culprit when a `success` edge can no
-- longer be satisfied.
local function unresolved(id)
  local left = 0
  local edges = redis.call('HGETALL', K.deps(id))
  for i = 1, #edges, 2 do
    local state = redis.call('HGET', K.task(edges[i]), 'state')
    if state == 'FAILED' or state == 'CANCELLED' or not state then
      if edges[i + 1] == POLICY.success then return nil, edges[i] end
    elseif state ~= 'DONE' then
      left = left + 1
    end
  end
  return left
end

local function reopen(id, left)
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'spec')
  local spec = spec_of(f[2]) or {}
  redis.call('HDEL', key, 'result', 'error', 'reason', 'cause', 'finished', 'cancel_requested', 'skipped', 'lease', 'worker')
  -- `always` dependents still waiting were released when this task ended; it is unresolved
  -- again, so count it back on (its next ending releases them once more).
  local edges = redis.call('HGETALL', K.next(id))
  for i = 1, #edges, 2 do
    if edges[i + 1] == POLICY.always then
      local d = redis.call('HMGET', K.task(edges[i]), 'state', 'deps_left')
      if d[1] == 'PENDING' and (tonumber(d[2]) or 0) > 0 then
        redis.call('HINCRBY', K.task(edges[i]), 'deps_left', 1)
      end
    end
  end
  set_state(id, f[1], 'reopen', 0, 'retry', { 'attempts', 0, 'deps_left', left, 'run_after', 0 })
  count('reopened')
  if left == 0 then dispatch(id, spec.queue or 'default', 0) else zset_later(K.waiting, id, NOW) end
end

local state = redis.call('HGET', K.task(root), 'state')
if not state then return { NOT_FOUND } end
if not may(state, 'reopen') then return { WRONG_STATE, state } end
local left, culprit = unresolved(root)
if not left then return { PREREQUISITE_FAILED, culprit } end
reopen(root, left)

local reply = { OK, root }
local queue, head = { root }, 1
while head <= #queue do
  local id = queue[head]
  head = head + 1
  local edges = redis.call('HGETALL', K.next(id))
  for i = 1, #edges, 2 do
    local dependent = edges[i]
    local f = redis.call('HMGET', K.task(dependent), 'state', 'reason')
    if f[1] == 'CANCELLED' and f[2] == 'dependency_failed' then
      local n = unresolved(dependent)
      if n then
        reopen(dependent, n)
        reply[#reply + 1] = dependent
        queue[#queue + 1] = dependent
      end
    end
  end
end
flush()
return reply
