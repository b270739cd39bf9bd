--[[ reap: running tasks whose lease ran out. Their worker is presumed dead (or cut off), so each
  is taken back at once (no backoff) and queued ahead of new work (requeue_recovered). A task whose
  cancellation was requested ends CANCELLED.
  Worker deaths are kept apart from handler failures (`deaths` counts them) and charged as an
  attempt only when the task ran alone (claimed in quarantine: `alone` holds that claim's token),
  because only then is the death known to be its own:
    - beside other tasks: the attempt is refunded and the task becomes a suspect one level up
      (`suspect`); level 1 runs again first, as recovered work; level 2 goes to quarantine;
    - alone: the attempt stays charged; with attempts left it goes back to quarantine, on its last
      attempt it ends FAILED with reason `poison`.
  So the innocent tasks that shared a worker with a poison task are never charged for its crashes,
  and a task is charged only for a run that started. The lease in the task hash is the truth; the
  leases index only finds candidates.
  ARGV[2] maximum number of tasks to reap in this call
  Returns {1, reaped, then per task: id, new state} ]]

local limit = tonumber(ARGV[2]) or 100
local due = redis.call('ZRANGEBYSCORE', K.leases, '-inf', NOW, 'LIMIT', 0, limit)
local reply = { OK, 0 }
for _, id in ipairs(due) do
  local f = redis.call('HMGET', K.task(id), 'state', 'lease', 'attempts', 'spec', 'cancel_requested', 'worker',
    'token', 'alone', 'suspect', 'deaths', 'started', 'cancel_reason', 'climit', 'unique', 'spawned')
  if f[1] == 'RUNNING' then limit_record(id, f[13] or '') UNIQUE.record(id, f[14] or '') end -- its key's count, read with the rest
  if f[1] ~= 'RUNNING' then
    zset_later(K.leases, id, false) -- index entry out of step with the record: drop it
  elseif (tonumber(f[2]) or 0) <= NOW then
    local spec = spec_of(f[4]) or {}
    local queue = spec.queue or 'default'
    local attempts, max_attempts = tonumber(f[3]) or 0, spec.max_attempts or 1
    local deaths = (tonumber(f[10]) or 0) + 1
    count('lease_expired')
    local alone = f[8] ~= false and f[8] == f[7]
    local to
    if f[5] then
      -- the requester's message (stored as `error` by cancel.lua) stays
      local why = f[12] or 'cancelled'
      local stopped = why == 'service_stopped' -- a service task whose run is over: DONE (prelude SERVICE)
      to = finish(id, 'RUNNING', stopped and 'service_stop' or 'cancel', attempts, why, spec.ttl, { 'reason', why, 'deaths', deaths })
      record_attempt(id, attempts, f[6], f[11], stopped and ATTEMPT.done or ATTEMPT.cancelled, stopped and why or 'cancelled',
        'cancel requested; worker ' .. tostring(f[6]) .. ' died or stopped heartbeating before it stopped the handler')
      settle_dependents(id, stopped and OUTCOME_OK or OUTCOME_CANCELLED)
    elseif alone and attempts >= max_attempts then
      local message = 'its worker (' .. tostring(f[6]) .. ') died or stopped heartbeating while running only this task, on each of its last '
        .. attempts .. ' attempt' .. (attempts == 1 and '' or 's') .. ' (' .. deaths .. ' worker deaths in all)'
      to = finish(id, 'RUNNING', 'lease_expired_final', attempts, 'poison', spec.ttl,
        { 'reason', 'poison', 'deaths', deaths, 'error', message })
      record_attempt(id, attempts, f[6], f[11], ATTEMPT.died_final, 'poison', message)
      settle_dependents(id, OUTCOME_FAILED)
      run_task_failed(id)
    elseif alone then
      local message = 'worker ' .. tostring(f[6]) .. ' died or stopped heartbeating while running only this task'
      to = set_state(id, 'RUNNING', 'lease_expired', attempts, 'died_alone',
        { 'reason', 'lease_expired', 'error', message, 'run_after', 0, 'lease', 0, 'worker', '', 'deaths', deaths })
      requeue_recovered(id, queue, 2)
      record_attempt(id, attempts, f[6], f[11], ATTEMPT.died_charged, 'died_alone', message)
      count('retried')
    else
      local suspect = (tonumber(f[9]) or 0) + 1
      local refunded = math.max(attempts - 1, 0)
      local message = 'worker ' .. tostring(f[6]) .. ' died or stopped heartbeating while running this task beside others (attempt not charged)'
      to = set_state(id, 'RUNNING', 'lease_expired', refunded, 'lease_expired',
        { 'reason', 'lease_expired', 'error', message,
          'attempts', refunded, 'run_after', 0, 'lease', 0, 'worker', '', 'deaths', deaths, 'suspect', suspect })
      requeue_recovered(id, queue, suspect)
      record_attempt(id, attempts, f[6], f[11], ATTEMPT.died_refunded, 'lease_expired', message)
      count('recovered')
    end
    if is_terminal(to) then SPAWN.ended(id, f[15]) end -- (a retried one attaches to it again)
    reply[#reply + 1] = id
    reply[#reply + 1] = to
    reply[2] = reply[2] + 1
  end
end
flush()
return reply
