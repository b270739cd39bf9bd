--[[ promote: the maintenance pass's time-driven work.
  1. Delayed tasks (run-after times, retry backoff) whose time has come become dispatchable.
  2. Retention: finished tasks whose retention has passed are deleted with their auxiliary keys
     and leave the workflow index (the terminal indexes s:DONE/FAILED/CANCELLED are scored by
     expiry time); an emptied workflow (run) record goes too, out of the run indexes.
  3. Run deadlines: a run whose deadline has passed is stopped (prelude stop_run, reason
     deadline); the maintenance pass continues the cancellation at once.
  ARGV[2] maximum number of delayed tasks to make ready in this call
  ARGV[3] maximum number of finished records to delete in this call
  (Both small: the client calls again while a limit was reached, so each call stays far under
  10 ms however much falls due at once; Swift Maintenance.promoteBatch / deleteBatch.)
  Returns {1, promoted, deleted, next due time in ms (0 when nothing is delayed: the earliest
           delayed task or run deadline), runs stopped} ]]

local promote_limit = tonumber(ARGV[2]) or 200
local delete_limit = tonumber(ARGV[3]) or 25
local promoted, deleted = 0, 0
local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', NOW, 'LIMIT', 0, promote_limit)
for _, id in ipairs(due) do
  zset_later(K.delayed, id, false)
  local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'deps_left')
  local spec = spec_of(f[2])
  if f[1] == 'PENDING' and spec and (tonumber(f[3]) or 0) <= 0 then
    redis.call('HSET', K.task(id), 'run_after', 0)
    dispatch(id, spec.queue, 0)
    promoted = promoted + 1
  end
end

local workflows = {}
for _, state in ipairs({ 'DONE', 'SKIPPED', 'FAILED', 'CANCELLED' }) do
  local index = K.ended(state)
  if deleted >= delete_limit then break end
  local expired = redis.call('ZRANGEBYSCORE', index, '-inf', NOW, 'LIMIT', 0, delete_limit - deleted)
  for _, id in ipairs(expired) do
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

local stopped = 0
for _, run in ipairs(redis.call('ZRANGEBYSCORE', K.deadlines, '-inf', NOW, 'LIMIT', 0, 100)) do
  zset_later(K.deadlines, run, false)
  if stop_run(run, 'deadline', '', 'the run\'s deadline passed') then stopped = stopped + 1 end
end

flush()
local next_due = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
local next_deadline = redis.call('ZRANGE', K.deadlines, 0, 0, 'WITHSCORES')
local due_at = tonumber(next_due[2]) or 0
local deadline_at = tonumber(next_deadline[2]) or 0
if deadline_at > 0 and (due_at == 0 or deadline_at < due_at) then due_at = deadline_at end
for _, wf in ipairs(workflows) do
  if redis.call('ZCARD', K.workflow_tasks(wf)) == 0 then
    -- the run goes with its last task, out of the run indexes too
    local definition = redis.call('HGET', K.workflow(wf), 'def')
    redis.call('DEL', K.workflow(wf))
    if definition then
      redis.call('ZREM', K.runs, wf)
      redis.call('ZREM', K.definition_runs(definition), wf)
    end
  end
end
return { OK, promoted, deleted, due_at, stopped }
