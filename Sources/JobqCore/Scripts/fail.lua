--[[ fail: a worker reports that running tasks did not succeed.
  ARGV[2..] sextuples (task id, fencing token, mode, delay_ms, reason, message); mode is
    'retry'     retry after delay_ms if attempts remain, else FAILED
    'final'     FAILED now (permanent error, unknown handler)
    'handback'  back to PENDING at once without charging the attempt (graceful shutdown)
    'cancelled' the handler stopped because the task was cancelled: CANCELLED
  A task whose cancellation was requested ends CANCELLED whatever the mode. FAILED and
  CANCELLED settle the dependents (cancel under `success`, release under `always`).
  The retry delay is decided in Swift (backoff with jitter); the script applies it on Redis time.
  Returns {1, then per task a code: 1 retrying | 2 FAILED | 3 CANCELLED | 4 handed back
           | -1 NOT_FOUND | -2 WRONG_STATE | -3 STALE_TOKEN | -9 INVALID_ARGUMENT} ]]

local RETRYING, FAILED, CANCELLED, HANDED_BACK = 1, 2, 3, 4
local reply = { OK }
for i = 2, #ARGV - 5, 6 do
  local id, token, mode = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local delay, reason, message = tonumber(ARGV[i + 3]) or 0, ARGV[i + 4], ARGV[i + 5]
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'token', 'attempts', 'max_attempts', 'ttl', 'queue', 'cancel_requested')
  local attempts, max_attempts = tonumber(f[3]) or 0, tonumber(f[4]) or 1
  local code
  if not f[1] then
    code = NOT_FOUND
  elseif f[1] ~= 'RUNNING' then
    code = WRONG_STATE
  elseif f[2] ~= token then
    code = STALE_TOKEN
  elseif mode ~= 'retry' and mode ~= 'final' and mode ~= 'handback' and mode ~= 'cancelled' then
    code = INVALID_ARGUMENT
  elseif f[7] or mode == 'cancelled' then
    redis.call('HSET', key, 'reason', 'cancelled', 'error', message)
    set_state(id, 'RUNNING', 'cancel', attempts, 'cancelled')
    retire(id, f[5])
    redis.call('HINCRBY', K.stats, 'cancelled', 1)
    settle_dependents(id, false)
    code = CANCELLED
  elseif mode == 'handback' then
    redis.call('HSET', key, 'attempts', math.max(attempts - 1, 0), 'run_after', 0)
    redis.call('HDEL', key, 'lease', 'worker')
    redis.call('ZREM', K.leases, id)
    set_state(id, 'RUNNING', 'hand_back', attempts - 1, 'shutdown')
    dispatch(id, f[6], 0)
    code = HANDED_BACK
  elseif mode == 'retry' and attempts < max_attempts then
    local run_after = delay > 0 and NOW + delay or 0
    redis.call('HSET', key, 'reason', reason, 'error', message, 'run_after', run_after)
    redis.call('HDEL', key, 'lease', 'worker')
    redis.call('ZREM', K.leases, id)
    set_state(id, 'RUNNING', 'retry_later', attempts, reason)
    dispatch(id, f[6], run_after)
    redis.call('HINCRBY', K.stats, 'retried', 1)
    code = RETRYING
  else
    redis.call('HSET', key, 'reason', reason, 'error', message)
    set_state(id, 'RUNNING', 'fail_final', attempts, reason)
    retire(id, f[5])
    redis.call('HINCRBY', K.stats, 'failed', 1)
    settle_dependents(id, false)
    code = FAILED
  end
  reply[#reply + 1] = code
end
flush_wakeups()
return reply
