--[[ promote: the maintenance pass's time-driven work.
  0. Expiry: tasks in K.expiring whose expiry has passed and that are still PENDING (waiting for
     prerequisites, delayed, queued, parked by a run window) end CANCELLED with reason `expired`
     (prelude expire: dependents settled as after a cancel); entries of tasks that started or
     ended are dropped. First, so that a task due for both is not queued only to expire at claim.
  0b. Signal timeouts: tasks in K.signal_timeouts whose wait timed out and that still wait
     (PENDING, `wait` set, `wait_until` passed) end FAILED with reason `signal_timeout`
     (dependents settled as after a failure); a declared wait (`wait_declared`) does what its
     action says instead: `skip` (SKIPPED, `wait_skipped`, dependents as after a skip) or `run`
     (counted off as if the signal had come); entries of tasks no longer waiting are dropped.
     At most the expire limit of entries per call.
  1. Delayed tasks (run-after times, retry backoff) whose time has come become dispatchable.
  2. Retention: finished tasks whose retention has passed are deleted with their auxiliary keys
     and leave the workflow index (the terminal indexes s:DONE/FAILED/CANCELLED are scored by
     expiry time); an emptied workflow (run) record goes too, out of the run indexes.
  2b. Rate keys (`rates`) whose wake time has come: up to RATE_WAKE_KEYS keys, each queueing
     up to 64 parked tasks (as many as it has starts free) at the front of their lane, and due
     again when its next start frees while tasks stay parked (prelude rate.wake_due); then up
     to RATE_LOG_SWEEP starts logs due in `rate_logs` are deleted once out of their window, or
     re-scored (prelude rate.sweep_logs).
  3. Run deadlines: a run whose deadline has passed is stopped (prelude stop_run, reason
     deadline); the maintenance pass continues the cancellation at once.
  3b. Abandoned submissions: a run still `building` (submitted in several calls, not sealed)
     SUBMIT_ABANDONED_MS after its latest chunk is sealed as it is and stopped (reason
     submit_abandoned): it ends FAILED once what was submitted has ended. Up to 100 per call.
  ARGV[2] maximum number of delayed tasks to make ready in this call
  ARGV[3] maximum number of finished records to delete in this call
  ARGV[4] maximum number of expiry entries to handle in this call
  (All small: the client calls again while a limit was reached, so each call stays far under
  10 ms however much falls due at once; Swift Maintenance.promoteBatch / deleteBatch / expireBatch.)
  Returns {1, promoted, deleted, next due time in ms (0 when nothing is due later: the earliest
           delayed task, expiry, run deadline, signal timeout, rate key wake or abandoned submission), runs stopped,
           tasks expired, expiry entries taken (those expired and those of tasks that had started
           or ended, dropped), tasks timed out waiting for a signal, signal timeout entries
           taken, rate keys taken, rate logs taken (deleted or re-scored)} ]]

local promote_limit = tonumber(ARGV[2]) or 200
local delete_limit = tonumber(ARGV[3]) or 25
local expire_limit = tonumber(ARGV[4]) or 100
local promoted, deleted, expired = 0, 0, 0

-- Expiry first.
local expiring = redis.call('ZRANGEBYSCORE', K.expiring, '-inf', NOW, 'LIMIT', 0, expire_limit)
for _, id in ipairs(expiring) do
  zset_later(K.expiring, id, false)
  local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'attempts', 'expires_at')
  if f[1] == 'PENDING' and expiry_due(f[4]) then
    expire(id, tonumber(f[3]), spec_of(f[2]))
    expired = expired + 1
  end
end
local timeouts = redis.call('ZRANGEBYSCORE', K.signal_timeouts, '-inf', NOW, 'LIMIT', 0, expire_limit)
local timed_out = 0
for _, id in ipairs(timeouts) do
  zset_later(K.signal_timeouts, id, false)
  local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'attempts', 'wait', 'wait_until', 'wait_declared', 'deps_left')
  local until_ms = tonumber(f[5]) or 0
  if f[1] == 'PENDING' and f[4] and f[4] ~= '' and until_ms > 0 and until_ms <= NOW then
    local spec = spec_of(f[2]) or {}
    local attempts, action = tonumber(f[3]) or 0, f[6] or ''
    local fields = { 'reason', 'signal_timeout', 'error', 'no signal ' .. f[4] .. ' came before its timeout',
      'wait', '', 'wait_until', 0, 'asking', '', 'wait_declared', '' }
    if action == WAIT_ON_TIMEOUT.run then
      -- run without the signal: counted off as if it had come
      set_state(id, 'PENDING', 'signal', attempts, 'signal_timeout', { 'wait', '', 'wait_until', 0, 'wait_declared', '', 'reason', 'signal_timeout' })
      if release(id) == OUTCOME_OK then settle_dependents(id, OUTCOME_OK) end
      if (tonumber(f[7]) or 0) > 1 then zset_later(K.waiting, id, NOW) end
    elseif action == WAIT_ON_TIMEOUT.skip then
      finish(id, 'PENDING', 'wait_skipped', attempts, 'signal_timeout', spec.ttl, fields)
      settle_dependents(id, OUTCOME_OK)
    else
      finish(id, 'PENDING', 'signal_timeout', attempts, 'signal_timeout', spec.ttl, fields)
      settle_dependents(id, OUTCOME_FAILED)
      run_task_failed(id)
    end
    timed_out = timed_out + 1
  end
end
local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', NOW, 'LIMIT', 0, promote_limit)
for _, id in ipairs(due) do
  zset_later(K.delayed, id, false)
  local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'deps_left')
  local spec = spec_of(f[2])
  if f[1] == 'PENDING' and spec and (tonumber(f[3]) or 0) <= 0 then
    redis.call('HSET', K.task(id), 'run_after', 0)
    dispatch(id, spec.queue, 0, spec.priority, spec.fair)
    promoted = promoted + 1
  end
end

local workflows = {}
for _, state in ipairs({ 'DONE', 'SKIPPED', 'FAILED', 'CANCELLED' }) do
  local index = K.ended(state)
  if deleted >= delete_limit then break end
  local past = redis.call('ZRANGEBYSCORE', index, '-inf', NOW, 'LIMIT', 0, delete_limit - deleted)
  for _, id in ipairs(past) do
    zset_later(index, id, false)
    local wf = (spec_of(redis.call('HGET', K.task(id), 'spec')) or {}).wf
    -- UNLINK: a big next hash (a fan-out of thousands) is freed off the main thread
    redis.call('UNLINK', K.task(id), K.deps(id), K.next(id), K.log(id), K.progress(id), K.attempts(id))
    if wf and wf ~= '' then
      zset_later(K.workflow_tasks(wf), id, false)
      if not workflows[wf] then
        workflows[wf] = true
        workflows[#workflows + 1] = wf
      end
    end
    deleted = deleted + 1
  end
end

-- Rate keys due: their parked tasks queued again as starts free (prelude rate.wake_due).
local rate_keys = rate.wake_due(RATE_WAKE_KEYS)
-- Idle rate logs (`rate_logs`): deleted in bounded sweeps (prelude rate.sweep_logs).
local rate_logs = rate.sweep_logs(RATE_LOG_SWEEP)

local stopped = 0
for _, run in ipairs(redis.call('ZRANGEBYSCORE', K.deadlines, '-inf', NOW, 'LIMIT', 0, 100)) do
  zset_later(K.deadlines, run, false)
  if stop_run(run, 'deadline', '', 'the run\'s deadline passed') then stopped = stopped + 1 end
end

-- Runs whose submitter stopped between two chunks (submit.lua SUBMIT_CHUNK): sealed as they
-- are and stopped (reason submit_abandoned): they end FAILED once what was submitted has ended.
for _, run in ipairs(redis.call('ZRANGEBYSCORE', K.building, '-inf', NOW - SUBMIT_ABANDONED_MS, 'LIMIT', 0, 100)) do
  redis.call('ZREM', K.building, run)
  redis.call('HDEL', K.workflow(run), 'building')
  if stop_run(run, 'submit_abandoned', '', 'its submitter stopped before the whole run was submitted') then stopped = stopped + 1 end
  finish_run(run) -- (nothing open: it ends now; else with its last open task)
end

flush()
local next_due = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
local next_deadline = redis.call('ZRANGE', K.deadlines, 0, 0, 'WITHSCORES')
local next_expiry = redis.call('ZRANGE', K.expiring, 0, 0, 'WITHSCORES')
local next_timeout = redis.call('ZRANGE', K.signal_timeouts, 0, 0, 'WITHSCORES')
local next_rate = redis.call('ZRANGE', K.rates, 0, 0, 'WITHSCORES')
local next_building = redis.call('ZRANGE', K.building, 0, 0, 'WITHSCORES')
local due_at = 0
for _, at in ipairs({ next_building[2] and tonumber(next_building[2]) + SUBMIT_ABANDONED_MS or 0, tonumber(next_due[2]) or 0, tonumber(next_deadline[2]) or 0, tonumber(next_expiry[2]) or 0, tonumber(next_timeout[2]) or 0, tonumber(next_rate[2]) or 0 }) do
  if at > 0 and (due_at == 0 or at < due_at) then due_at = at end
end
for _, wf in ipairs(workflows) do
  if redis.call('ZCARD', K.workflow_tasks(wf)) == 0 then
    -- the run goes with its last task, out of the run indexes too
    -- (its queues' indexes: the record's `queues`; gsub walks them without a loop's locals,
    -- this chunk being near Lua's 200 locals)
    local f = redis.call('HMGET', K.workflow(wf), 'def', 'queues')
    redis.call('DEL', K.workflow(wf))
    if f[1] then
      redis.call('ZREM', K.runs, wf)
      redis.call('ZREM', K.definition_runs(f[1]), wf)
      string.gsub(f[2] or '', '%S+', function(queue) redis.call('ZREM', K.queue_runs(queue), wf) end)
    end
  end
end
return { OK, promoted, deleted, due_at, stopped, expired, #expiring, timed_out, #timeouts, rate_keys, rate_logs }
