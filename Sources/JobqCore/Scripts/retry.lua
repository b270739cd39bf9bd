--[[ retry: re-open a FAILED or CANCELLED task, with a fresh attempt budget, and the dependents
  it took down (CANCELLED with reason dependency_failed, or SKIPPED with reason condition_unmet:
  a `failure` edge's condition may hold now), transitively, as soon as none of their edges is
  one that can no longer hold (prelude.lua edge_accepts). A SKIPPED root is refused (WRONG_STATE):
  a skip is not a failure, there is nothing to retry.
  Bounded (docs/architecture.md, "Bounded scripts"): each call touches about RETRY_BUDGET tasks;
  the rest waits in t:<root>:retry (a breadth-first frontier, top-down: a task re-opens only
  after its prerequisites did, so it is dispatched only when that is consistent), continued by
  step 'next'. A task with more than INLINE dependents re-opens in phases: 'a' counts its
  `always` dependents on again while it is still ended (they wait a little longer, never run
  early; also `success` ones of a SKIPPED task and `failure` ones of a FAILED one: every edge
  that accepted its ending), then it re-opens and 'b' visits its dependents; 'u' releases what 'a' counted on when
  the task could not re-open after all. Such a task carries `retrying` meanwhile.
  A re-opened task gets a fresh snooze budget (`snoozes` goes) but keeps its `checkpoint`: a retried
  long job resumes where its last attempt stopped. A wait it ended in (cancelled while waiting for
  a signal or an answer) goes with its timeout entry: the task is queued, and a signal of that name
  is kept for its handler, no longer a resumption; its kept signals stay.
  ARGV[2] STEP (Swift ContinuationStep): 'start' | 'next'    ARGV[3] task id (the root)
  ARGV[4] actor (optional; '' or absent: none): who asked, the `by` field of this call's event entries
  Returns {1, status, id, id, ...} (the tasks this call re-opened; over the whole retry the root
           comes first) with status (CONTINUATION, Swift ContinuationStatus) 'done', 'more' (call
           again with 'next') or 'settle' (a cascade this retry must wait for is on the settle
           list: run settle.lua, then call again)
        | {-1 NOT_FOUND} | {-2 WRONG_STATE, state} | {-8 PREREQUISITE_FAILED, prerequisite} ]]

local step, root = ARGV[2], ARGV[3]
if not STEP[step] then return { INVALID_ARGUMENT, 'step' } end
if ARGV[4] and ARGV[4] ~= '' then event_lines.by = ARGV[4] end
local RETRY_BUDGET = 120 -- tasks touched per call
local INLINE = 64        -- a task with at most this many dependents re-opens in one step
local SCAN_COUNT = 40
local budget = RETRY_BUDGET
local frontier = K.retry_frontier(root)
local reply = { OK, CONTINUATION.done }

-- Count of unresolved prerequisites, or nil plus the culprit when an edge can no longer be
-- satisfied (a `success` one FAILED or CANCELLED, a `failure` one DONE, SKIPPED or CANCELLED;
-- a prerequisite gone unless the edge is `always`). A prerequisite whose ending has not reached
-- `id` yet (its edge waits on the settle list) is unresolved: settling it counts it off.
local function unresolved(id)
  local left = 0
  local edges = redis.call('HGETALL', K.deps(id))
  budget = budget - 1 - #edges / 2
  for i = 1, #edges, 2 do
    local state = redis.call('HGET', K.task(edges[i]), 'state')
    local outcome = outcome_of(state)
    if not state then
      if edges[i + 1] ~= POLICY.always then return nil, edges[i] end
    elseif not outcome then
      left = left + 1
    elseif not edge_accepts(edges[i + 1], outcome) then
      return nil, edges[i]
    elseif unsettled(edges[i], id) then
      left = left + 1
    end
  end
  return left
end

local function reopen(id, left)
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'spec', 'cond', 'ckey')
  local spec = spec_of(f[2]) or {}
  if f[1] == 'DONE' then keep_done_attempt(id) end -- (its last attempt is in the record only)
  -- a task that ended while it waited for a signal (cancelled) waits no more: it starts afresh
  redis.call('HDEL', key, 'result', 'error', 'reason', 'cause', 'finished', 'cancel_requested', 'cancel_reason', 'child', 'child_wait', 'spawned', 'mapped', 'skipped', 'lease', 'worker', 'retrying', 'cache_digest', 'expires_at', 'snoozes',
    'wait', 'wait_until', 'asking', 'wait_declared')
  zset_later(K.signal_timeouts, id, false)
  set_state(id, f[1], 'reopen', 0, 'retry', { 'attempts', 0, 'deps_left', left, 'run_after', 0 })
  count('reopened')
  reply[#reply + 1] = id
  if left > 0 then
    zset_later(K.waiting, id, NOW)
  elseif skipped_by_precondition(id, f[3], 0, spec.ttl) or ended_from_cache(id, f[4], spec.handler or '', 0, spec.ttl) then
    settle_dependents(id, OUTCOME_OK) -- ready again, and its precondition says skip or its result is cached
  else
    dispatch(id, spec.queue or 'default', 0, spec.priority, spec.fair)
  end
end

-- Dependents still waiting whose edge accepted the task's ending were released then (`always`
-- ones, `success` ones of a SKIPPED task, `failure` ones of a FAILED task); it is unresolved
-- again, so count it back on (its next ending settles them once more).
local function count_on(dependent)
  budget = budget - 1
  local d = redis.call('HMGET', K.task(dependent), 'state', 'deps_left')
  if d[1] == 'PENDING' and (tonumber(d[2]) or 0) > 0 then
    redis.call('HINCRBY', K.task(dependent), 'deps_left', 1)
    return true
  end
  return false
end

-- Re-opens `id` at once (a small fan-out), or queues its phase 'a'.
local function schedule(id, left)
  budget = budget - 2
  if redis.call('HLEN', K.next(id)) <= INLINE then
    local edges = redis.call('HGETALL', K.next(id))
    local outcome = outcome_of(redis.call('HGET', K.task(id), 'state'))
    for i = 1, #edges, 2 do
      if outcome and edge_accepts(edges[i + 1], outcome) then count_on(edges[i]) end
    end
    reopen(id, left)
    redis.call('RPUSH', frontier, 'b 0 ' .. id)
  else
    redis.call('HSET', K.task(id), 'retrying', root)
    redis.call('RPUSH', frontier, 'a 0 ' .. id)
  end
end

-- Works the frontier with this call's budget; returns the status.
local function advance()
  while budget > 0 do
    local entry = redis.call('LINDEX', frontier, 0)
    if not entry then return CONTINUATION.done end
    local phase, cursor, id = string.match(entry, '^(%a) (%d+) (.+)$')
    budget = budget - 1
    if phase == 'b' then
      -- A cascade of `id` still in flight would be missed by the scan: wait for it.
      if redis.call('EXISTS', K.settle_edges(id)) == 1 then return CONTINUATION.settle end
      local scan = redis.call('HSCAN', K.next(id), cursor, 'COUNT', SCAN_COUNT)
      local edges = scan[2]
      for i = 1, #edges, 2 do
        local dependent = edges[i]
        budget = budget - 1
        local f = redis.call('HMGET', K.task(dependent), 'state', 'reason', 'retrying', 'spec')
        if ((f[1] == 'CANCELLED' and f[2] == 'dependency_failed') or (f[1] == 'SKIPPED' and f[2] == 'condition_unmet'))
          and not f[3]
          and not workflow_cancelling((spec_of(f[4]) or {}).wf) then
          -- its own cascade still in flight: wait (the chunk is scanned again; re-opened ones skip)
          if redis.call('EXISTS', K.settle_edges(dependent)) == 1 then return CONTINUATION.settle end
          local n = unresolved(dependent)
          if n then schedule(dependent, n) end
        end
      end
      if scan[1] == '0' then
        redis.call('LPOP', frontier)
      else
        redis.call('LSET', frontier, 0, 'b ' .. scan[1] .. ' ' .. id)
      end
    elseif phase == 'a' then
      local scan = redis.call('HSCAN', K.next(id), cursor, 'COUNT', SCAN_COUNT)
      local edges = scan[2]
      budget = budget - #edges / 4 - 1
      local outcome = outcome_of(redis.call('HGET', K.task(id), 'state'))
      for i = 1, #edges, 2 do
        if outcome and edge_accepts(edges[i + 1], outcome) and count_on(edges[i]) then
          redis.call('SADD', K.retry_held(id), edges[i])
        end
      end
      if scan[1] ~= '0' then
        redis.call('LSET', frontier, 0, 'a ' .. scan[1] .. ' ' .. id)
      else
        local state = redis.call('HGET', K.task(id), 'state')
        local n = state and may(state, 'reopen') and unresolved(id)
        if n then
          reopen(id, n)
          redis.call('UNLINK', K.retry_held(id))
          redis.call('LSET', frontier, 0, 'b 0 ' .. id)
        else
          redis.call('HDEL', K.task(id), 'retrying')
          redis.call('LSET', frontier, 0, 'u 0 ' .. id)
        end
      end
    elseif phase == 'u' then
      local held = redis.call('SPOP', K.retry_held(id), SCAN_COUNT)
      for _, dependent in ipairs(held) do
        budget = budget - 1
        if release(dependent) then settle_dependents(dependent, OUTCOME_OK) end
      end
      if #held < SCAN_COUNT then redis.call('LPOP', frontier) end
    else
      redis.call('LPOP', frontier) -- not ours: cannot happen
    end
  end
  if redis.call('EXISTS', frontier) == 0 then return CONTINUATION.done end
  return CONTINUATION.more
end

if step == STEP.start and redis.call('EXISTS', frontier) == 0 then
  local f = redis.call('HMGET', K.task(root), 'state', 'retrying', 'spec')
  local state = f[1]
  if not state then return { NOT_FOUND } end
  if f[2] then return { WRONG_STATE, 'RETRYING' } end
  -- SKIPPED re-opens only as a dependent taken down by an unmet `failure` edge (phase 'b').
  if state == 'SKIPPED' or not may(state, 'reopen') then return { WRONG_STATE, state } end
  if workflow_cancelling((spec_of(f[3]) or {}).wf) then return { WRONG_STATE, 'CANCELLING' } end
  -- Its own cascade must have settled first (nothing written: the caller settles, then retries).
  if redis.call('EXISTS', K.settle_edges(root)) == 1 then return { OK, CONTINUATION.settle } end
  local left, culprit = unresolved(root)
  if not left then return { PREREQUISITE_FAILED, culprit } end
  schedule(root, left)
end
local status = advance()
if status == CONTINUATION.done then
  redis.call('ZREM', K.continuations, 'retry:' .. root)
else
  redis.call('ZADD', K.continuations, NOW, 'retry:' .. root)
end
reply[2] = status
flush()
return reply
