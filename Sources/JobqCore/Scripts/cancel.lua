--[[ cancel: a pending task becomes CANCELLED at once (and its `success` dependents with it);
  a running task is marked and its worker is told at once (its control list, which the worker
  BLPOPs; the mark itself is the truth, confirmed by the next heartbeat reply), the worker stops
  the handler, and the task ends CANCELLED when the worker reports back or its lease runs out.
  Bounded (docs/architecture.md, "Bounded scripts"): a cascade larger than the per-call budget
  is left on the settle list, and a workflow is walked a budget of tasks per call under the
  marker wf:<wf>:cancel (claims drop its tasks meanwhile); the reply says 'more' until done, and
  the caller continues with settle.lua (task) or step 'next' (workflow).
  ARGV[2] CANCEL_TARGET (Swift CancelTarget): 'task' | 'workflow'   ARGV[3] task or workflow id   ARGV[4] message
  ARGV[5] STEP (Swift ContinuationStep): 'start' | 'next' (a workflow cancellation in progress)
  ARGV[6] actor (optional; '' or absent: none): who asked, the `by` field of this call's event entries
  Returns for a task: {1, 'CANCELLED', status} | {1, 'REQUESTED', status} | {0, 'REQUESTED'} (already requested)
                      | {-1 NOT_FOUND} | {-2 WRONG_STATE, state}
          for a workflow: {1, cancelled, requested, status} (totals so far) | {-1 NOT_FOUND}
          status (CONTINUATION, Swift ContinuationStatus): 'done' | 'more' ]]

local kind, target, message, step = ARGV[2], ARGV[3], ARGV[4] or '', ARGV[5] or STEP.start
if not STEP[step] then return { INVALID_ARGUMENT, 'step' } end
if ARGV[6] and ARGV[6] ~= '' then event_lines.by = ARGV[6] end

-- Returns 'NOW' (cancelled by this call), 'REQUESTED', 'ALREADY' (cancel already requested) or
-- the state of a task that had already ended.
-- `reason`: 'cancelled', or the run-level rule that stopped its run ('deadline', 'fail_fast'),
-- with `cause` the task that caused it (fail-fast).
local function cancel_one(id, reason, cause)
  reason = reason or 'cancelled'
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'attempts', 'spec', 'cancel_requested', 'worker', 'child', 'spawned')
  if f[1] == 'PENDING' and may('PENDING', 'cancel') then
    local fields = { 'reason', reason, 'error', message }
    if cause and cause ~= '' then fields[#fields + 1], fields[#fields + 2] = 'cause', cause end
    finish(id, 'PENDING', 'cancel', f[2], reason, (spec_of(f[3]) or {}).ttl, fields)
    settle_dependents(id, OUTCOME_CANCELLED)
    -- a sub-workflow task waiting for its child run (or a task queued again with a run it
    -- spawned): the cancel flows down
    if f[6] then cancel_child_run(f[6], message) else SPAWN.ended(id, f[7]) end
    return 'NOW'
  elseif f[1] == 'RUNNING' then
    if f[4] then return 'ALREADY' end
    redis.call('HSET', key, 'cancel_requested', NOW, 'error', message)
    -- the reason it will end with when its worker reports back (fail.lua, reap.lua)
    if reason ~= 'cancelled' then redis.call('HSET', key, 'cancel_reason', reason, 'cause', cause or '') end
    emit(id, 'RUNNING', 'RUNNING', f[2], 'cancel_requested')
    if f[5] and f[5] ~= '' then
      -- Wake the worker now instead of at its next heartbeat; capped, and gone with a dead worker.
      local control = K.control(f[5])
      redis.call('LPUSH', control, id)
      redis.call('LTRIM', control, 0, 99)
      redis.call('PEXPIRE', control, 60000)
    end
    return 'REQUESTED'
  end
  return f[1]
end

if kind == CANCEL_TARGET.task then
  if redis.call('EXISTS', K.task(target)) == 0 then return { NOT_FOUND } end
  local outcome = cancel_one(target)
  local status = settle_backlog() and CONTINUATION.done or CONTINUATION.more
  flush()
  if outcome == 'NOW' then return { OK, CANCEL_RESULT.CANCELLED, status } end
  if outcome == 'REQUESTED' then return { OK, CANCEL_RESULT.REQUESTED, status } end
  if outcome == 'ALREADY' then return { NOOP, CANCEL_RESULT.REQUESTED } end
  return { WRONG_STATE, outcome or 'UNKNOWN' }
elseif kind == CANCEL_TARGET.workflow then
  local marker = K.workflow_cancel(target)
  if step == STEP.start and redis.call('EXISTS', marker) == 0 then
    -- One already in progress is joined instead (its totals are this call's too).
    if redis.call('ZCARD', K.workflow_tasks(target)) == 0 then return { NOT_FOUND } end
    open_run_cancel(target, message)
    -- a run that ends because of this ends CANCELLED (prelude: finish_run)
    redis.call('HSET', K.workflow(target), 'cancelled', NOW)
  end
  local f = redis.call('HMGET', marker, 'cursor', 'requested', 'message', 'reason', 'cause')
  if not f[1] then
    -- finished by another caller (or the maintenance pass) since our last call
    return { OK, 0, 0, CONTINUATION.done }
  end
  local cursor, requested = f[1], tonumber(f[2]) or 0
  message = f[3] or message
  local finished = false
  -- Today's order exactly: each task's whole cascade (the settle list) before the next task.
  while settle_backlog() and settle_left > 0 do
    local batch = redis.call('ZRANGEBYSCORE', K.workflow_tasks(target), cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, math.max(1, math.floor(settle_left / (1 + SETTLE_PER_ROOT))))
    if #batch == 0 then
      finished = true
      break
    end
    for i = 1, #batch, 2 do
      cursor = '(' .. batch[i + 1]
      settle_left = settle_left - 1 - SETTLE_PER_ROOT -- (settling it gives SETTLE_PER_ROOT back)
      settle_spilled = false
      local outcome = cancel_one(batch[i], f[4], f[5])
      if outcome == 'NOW' then
        redis.call('HINCRBY', marker, 'cancelled', 1)
      elseif outcome == 'REQUESTED' then
        requested = requested + 1
      end
      if settle_spilled or settle_left <= 0 then break end
    end
  end
  local cancelled = tonumber(redis.call('HGET', marker, 'cancelled')) or 0
  local status = CONTINUATION.more
  if finished then
    redis.call('DEL', marker)
    redis.call('ZREM', K.continuations, 'cancel:' .. target)
    status = CONTINUATION.done
  else
    redis.call('HSET', marker, 'cursor', cursor, 'requested', requested)
    redis.call('ZADD', K.continuations, NOW, 'cancel:' .. target)
  end
  flush()
  return { OK, cancelled, requested, status }
end
return { INVALID_ARGUMENT, 'kind' }
