--[[ rerun: `jobq rerun RUN --outdated`: re-open, in place, the run's OUTDATED tasks (DONE, with a
  prerequisite that ended again after they did: field `outdated`, set by prelude.lua release) and
  every task of the run that depends on them, transitively; nothing else. The run must have ended
  (its tasks are then all ended, so nothing of the set is running); it becomes RUNNING again.
  Bounded: each call touches about RERUN_BUDGET tasks; the progress is wf:<run>:rerun (`phase`,
  `cursor`), the set wf:<run>:rerun_tasks, the closure's work list wf:<run>:rerun_todo. Phases:
    scan   the run's tasks (wf:<run>:tasks, by rank) for outdated DONE ones: the roots;
    close  their dependents within the run, breadth-first (HSCAN of t:<id>:next per entry);
    open   every task of the set that has ended: PENDING again (DONE by event `rerun`, the others
           by `reopen`), marked `rerunning` so that nothing dispatches it yet (prelude release);
    count  every task of the set marked `rerunning`: its unresolved prerequisites counted now that
           the whole set is PENDING (so no task of the set can run on a stale result), then it
           waits, or is ready (precondition, cache key, dispatch), or ends CANCELLED / SKIPPED
           when an edge from outside the set can no longer hold (its dependents settled).
  ARGV[2] STEP 'start' | 'next'    ARGV[3] run id
  Returns {1, status 'done' | 'more', id, id, ...} (the tasks this call re-opened)
        | {-1 NOT_FOUND} | {-2 WRONG_STATE, state} ]]

local step, run = ARGV[2], ARGV[3]
if not STEP[step] then return { INVALID_ARGUMENT, 'step' } end
local RERUN_BUDGET = 120
local SCAN_COUNT = 40
local budget = RERUN_BUDGET
local progress, members, todo = K.rerun(run), K.rerun_tasks(run), K.rerun_todo(run)
local prefix = run .. '/'
local reply = { OK, CONTINUATION.done }

if step == STEP.start and redis.call('EXISTS', progress) == 0 then
  local state = redis.call('HGET', K.workflow(run), 'state')
  if not state then return { NOT_FOUND } end
  if not is_terminal(state) then return { WRONG_STATE, state } end
  if workflow_cancelling(run) then return { WRONG_STATE, 'CANCELLING' } end
  redis.call('HSET', progress, 'phase', 'scan', 'cursor', 0)
elseif redis.call('EXISTS', progress) == 0 then
  return reply -- finished by another caller
end

-- Unresolved prerequisites of `id`, or nil, the culprit and its policy when an edge can no
-- longer hold (retry.lua's rule; the set's tasks are all PENDING by now, so they count).
local function unresolved(id)
  local left = 0
  local edges = redis.call('HGETALL', K.deps(id))
  budget = budget - #edges / 2
  for i = 1, #edges, 2 do
    local state = redis.call('HGET', K.task(edges[i]), 'state')
    local outcome = outcome_of(state)
    if not state then
      if edges[i + 1] ~= POLICY.always then return nil, edges[i], edges[i + 1] end
    elseif not outcome then
      left = left + 1
    elseif not edge_accepts(edges[i + 1], outcome) then
      return nil, edges[i], edges[i + 1]
    elseif unsettled(edges[i], id) then
      left = left + 1
    end
  end
  return left
end

local function open(id)
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'cache_digest')
  if not is_terminal(f[1]) then return end
  local event = f[1] == 'DONE' and 'rerun' or 'reopen'
  if not may(f[1], event) then return end
  cache_forget(id, f[2])
  if f[1] == 'DONE' then keep_done_attempt(id) end -- (its last attempt is in the record only)
  redis.call('HDEL', key, 'result', 'error', 'reason', 'cause', 'finished', 'cancel_requested', 'skipped', 'lease',
    'worker', 'retrying', 'cached', 'cache_digest', 'outdated', 'expires_at', 'snoozes', 'checkpoint', 'checkpoint_at',
    'wait', 'wait_until', 'asking', 'wait_declared', -- (a wait it was cancelled in goes too)
    'child', 'child_wait', 'spawned', 'mapped') -- (and a child run it waited for: it runs afresh)
  zset_later(K.signal_timeouts, id, false)
  set_state(id, f[1], event, 0, 'rerun', { 'attempts', 0, 'deps_left', 0, 'run_after', 0, 'rerunning', run })
  count('reopened')
  reply[#reply + 1] = id
end

local function decide(id)
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'rerunning', 'spec', 'cond', 'ckey')
  if f[1] ~= 'PENDING' or f[2] ~= run then return end
  local spec = spec_of(f[3]) or {}
  local left, culprit, policy = unresolved(id)
  redis.call('HDEL', key, 'rerunning')
  if not left then
    if policy == POLICY.failure then
      finish(id, 'PENDING', 'condition_unmet', 0, 'condition_unmet', spec.ttl,
        { 'reason', 'condition_unmet', 'error', 'prerequisite ' .. culprit .. ' did not fail', 'cause', culprit })
      settle_dependents(id, OUTCOME_OK)
    else
      finish(id, 'PENDING', 'dependency_failed', 0, 'dependency_failed', spec.ttl,
        { 'reason', 'dependency_failed', 'error', 'prerequisite ' .. culprit .. ' did not succeed', 'cause', culprit })
      settle_dependents(id, OUTCOME_CANCELLED)
    end
    return
  end
  redis.call('HSET', key, 'deps_left', left)
  if left > 0 then
    zset_later(K.waiting, id, NOW)
  elseif skipped_by_precondition(id, f[4], 0, spec.ttl) or ended_from_cache(id, f[5], spec.handler or '', 0, spec.ttl) then
    settle_dependents(id, OUTCOME_OK)
  else
    dispatch(id, spec.queue or 'default', 0, spec.priority, spec.fair)
  end
end

local function set_phase(phase)
  redis.call('HSET', progress, 'phase', phase, 'cursor', 0)
end

local done = false
while budget > 0 do
  local p = redis.call('HMGET', progress, 'phase', 'cursor')
  local phase, cursor = p[1], tonumber(p[2]) or 0
  budget = budget - 1
  if phase == 'scan' then
    local ids = redis.call('ZRANGE', K.workflow_tasks(run), cursor, cursor + SCAN_COUNT - 1)
    for _, id in ipairs(ids) do
      budget = budget - 1
      local f = redis.call('HMGET', K.task(id), 'state', 'outdated')
      if f[1] == 'DONE' and f[2] == '1' and redis.call('SADD', members, id) == 1 then
        redis.call('RPUSH', todo, '0 ' .. id)
      end
    end
    if #ids < SCAN_COUNT then set_phase('close') else redis.call('HSET', progress, 'cursor', cursor + SCAN_COUNT) end
  elseif phase == 'close' then
    local entry = redis.call('LINDEX', todo, 0)
    if not entry then
      if redis.call('EXISTS', members) == 0 then done = true break end -- nothing outdated
      set_phase('open')
    else
      local at, id = string.match(entry, '^(%d+) (.+)$')
      local scan = redis.call('HSCAN', K.next(id), at, 'COUNT', SCAN_COUNT)
      local edges = scan[2]
      for i = 1, #edges, 2 do
        budget = budget - 1
        local dependent = edges[i]
        if string.sub(dependent, 1, #prefix) == prefix and redis.call('SADD', members, dependent) == 1 then
          redis.call('RPUSH', todo, '0 ' .. dependent)
        end
      end
      if scan[1] == '0' then redis.call('LPOP', todo) else redis.call('LSET', todo, 0, scan[1] .. ' ' .. id) end
    end
  elseif phase == 'open' or phase == 'count' then
    local scan = redis.call('SSCAN', members, cursor, 'COUNT', SCAN_COUNT)
    for _, id in ipairs(scan[2]) do
      budget = budget - 2
      if phase == 'open' then open(id) else decide(id) end
    end
    if scan[1] ~= '0' then
      redis.call('HSET', progress, 'cursor', scan[1])
    elseif phase == 'open' then
      set_phase('count')
    else
      done = true
      break
    end
  else
    done = true
    break -- unknown phase: cannot happen; end the operation
  end
end

if done then
  redis.call('DEL', progress, members, todo)
  redis.call('ZREM', K.continuations, 'rerun:' .. run)
else
  reply[2] = CONTINUATION.more
  redis.call('ZADD', K.continuations, NOW, 'rerun:' .. run)
end
flush()
return reply
