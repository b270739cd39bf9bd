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
  local f = redis.call('HMGET', K.task(id), 'state', 'lease', 'attempts', 'spec', 'cancel_requested', 'worker')
  if f[1] ~= 'RUNNING' then
    zset_later(K.leases, id, false) -- index entry out of step with the record: drop it
  elseif (tonumber(f[2]) or 0) <= NOW then
    local spec = spec_of(f[4]) or {}
    local attempts, max_attempts = tonumber(f[3]) or 0, spec.max_attempts or 1
    local message = 'lease expired (worker ' .. tostring(f[6]) .. ' stopped heartbeating)'
    local to
    if f[5] then
      -- the requester's message (stored as `error` by cancel.lua) stays
      to = finish(id, 'RUNNING', 'cancel', attempts, 'cancelled', spec.ttl, { 'reason', 'cancelled' })
      settle_dependents(id, false)
    elseif attempts < max_attempts then
      to = set_state(id, 'RUNNING', 'lease_expired', attempts, 'lease_expired',
        { 'reason', 'lease_expired', 'error', message, 'run_after', 0, 'lease', 0, 'worker', '' })
      dispatch(id, spec.queue or 'default', 0)
      count('retried')
    else
      to = finish(id, 'RUNNING', 'lease_expired_final', attempts, 'lease_expired', spec.ttl,
        { 'reason', 'lease_expired', 'error', message })
      settle_dependents(id, false)
    end
    reply[#reply + 1] = id
    reply[#reply + 1] = to
    reply[2] = reply[2] + 1
  end
end
flush()
return reply
