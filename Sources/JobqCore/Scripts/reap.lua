--[[ reap: running tasks whose lease ran out go down the fail path with reason lease_expired.
  The worker is presumed dead, so a task with attempts left is queued again at once (no
  backoff); on its last attempt it ends FAILED. A task whose cancellation was requested ends
  CANCELLED. The lease in the task hash is the truth; the leases index only finds candidates.
  ARGV[2] maximum number of tasks to reap in this call
  Returns {1, reaped, then per task: id, new state} ]]

local limit = tonumber(ARGV[2]) or 100
local due = redis.call('ZRANGEBYSCORE', K.leases, '-inf', NOW, 'LIMIT', 0, limit)
local reply = { OK, 0 }
for _, id in ipairs(due) do
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'lease', 'attempts', 'max_attempts', 'ttl', 'queue', 'cancel_requested', 'worker')
  if f[1] ~= 'RUNNING' then
    redis.call('ZREM', K.leases, id) -- index entry out of step with the record: drop it
  elseif (tonumber(f[2]) or 0) <= NOW then
    local attempts, max_attempts = tonumber(f[3]) or 0, tonumber(f[4]) or 1
    local message = 'lease expired (worker ' .. tostring(f[8]) .. ' stopped heartbeating)'
    local to
    if f[7] then
      redis.call('HSET', key, 'reason', 'cancelled', 'error', message)
      to = set_state(id, 'RUNNING', 'cancel', attempts, 'cancelled')
      retire(id, f[5])
      redis.call('HINCRBY', K.stats, 'cancelled', 1)
      settle_dependents(id, false)
    elseif attempts < max_attempts then
      redis.call('HSET', key, 'reason', 'lease_expired', 'error', message, 'run_after', 0)
      redis.call('HDEL', key, 'lease', 'worker')
      redis.call('ZREM', K.leases, id)
      to = set_state(id, 'RUNNING', 'lease_expired', attempts, 'lease_expired')
      dispatch(id, f[6], 0)
      redis.call('HINCRBY', K.stats, 'retried', 1)
    else
      redis.call('HSET', key, 'reason', 'lease_expired', 'error', message)
      to = set_state(id, 'RUNNING', 'lease_expired_final', attempts, 'lease_expired')
      retire(id, f[5])
      redis.call('HINCRBY', K.stats, 'failed', 1)
      settle_dependents(id, false)
    end
    reply[#reply + 1] = id
    reply[#reply + 1] = to
    reply[2] = reply[2] + 1
  end
end
flush_wakeups()
return reply
