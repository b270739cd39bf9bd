--[[ cancel: a pending task becomes CANCELLED at once (and its `success` dependents with it);
  a running task is marked and its worker is told at once (its control list, which the worker
  BLPOPs; the mark itself is the truth, confirmed by the next heartbeat reply), the worker stops
  the handler, and the task ends CANCELLED when the worker reports back or its lease runs out.
  ARGV[2] CANCEL_TARGET (Swift CancelTarget): 'task' | 'workflow'   ARGV[3] task or workflow id   ARGV[4] message
  Returns for a task: {1, 'CANCELLED'} | {1, 'REQUESTED'} | {0, 'REQUESTED'} (already requested)
                      | {-1 NOT_FOUND} | {-2 WRONG_STATE, state}
          for a workflow: {1, cancelled, requested} | {-1 NOT_FOUND} ]]

local kind, target, message = ARGV[2], ARGV[3], ARGV[4] or ''

-- Returns 'NOW' (cancelled by this call), 'REQUESTED', 'ALREADY' (cancel already requested) or
-- the state of a task that had already ended.
local function cancel_one(id)
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'attempts', 'spec', 'cancel_requested', 'worker')
  if f[1] == 'PENDING' and may('PENDING', 'cancel') then
    finish(id, 'PENDING', 'cancel', f[2], 'cancelled', (spec_of(f[3]) or {}).ttl, { 'reason', 'cancelled', 'error', message })
    settle_dependents(id, false)
    return 'NOW'
  elseif f[1] == 'RUNNING' then
    if f[4] then return 'ALREADY' end
    redis.call('HSET', key, 'cancel_requested', NOW, 'error', message)
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
  flush()
  if outcome == 'NOW' then return { OK, CANCEL_RESULT.CANCELLED } end
  if outcome == 'REQUESTED' then return { OK, CANCEL_RESULT.REQUESTED } end
  if outcome == 'ALREADY' then return { NOOP, CANCEL_RESULT.REQUESTED } end
  return { WRONG_STATE, outcome or 'UNKNOWN' }
elseif kind == CANCEL_TARGET.workflow then
  local ids = redis.call('ZRANGE', K.workflow_tasks(target), 0, -1)
  if #ids == 0 then return { NOT_FOUND } end
  local cancelled, requested = 0, 0
  local was_cancelled = {}
  for _, id in ipairs(ids) do
    was_cancelled[id] = redis.call('HGET', K.task(id), 'state') == 'CANCELLED'
  end
  for _, id in ipairs(ids) do
    if cancel_one(id) == 'REQUESTED' then requested = requested + 1 end
  end
  -- Count every task this call ended, the ones cancelled through their prerequisites included.
  for _, id in ipairs(ids) do
    if not was_cancelled[id] and redis.call('HGET', K.task(id), 'state') == 'CANCELLED' then
      cancelled = cancelled + 1
    end
  end
  flush()
  return { OK, cancelled, requested }
end
return { INVALID_ARGUMENT, 'kind' }
