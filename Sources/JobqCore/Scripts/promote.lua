--[[ promote: delayed tasks (run-after times, retry backoff) whose time has come become
  dispatchable; and retention: ids of terminal tasks whose record has expired leave the indexes.
  ARGV[2] maximum number of tasks to move in this call
  Returns {1, promoted, trimmed, next due time in ms (0 when nothing is delayed)} ]]

local limit = tonumber(ARGV[2]) or 1000
local promoted, trimmed = 0, 0
local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', NOW, 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  redis.call('ZREM', K.delayed, id)
  local f = redis.call('HMGET', K.task(id), 'state', 'queue', 'deps_left')
  if f[1] == 'PENDING' and (tonumber(f[3]) or 0) <= 0 then
    redis.call('HSET', K.task(id), 'run_after', 0)
    dispatch(id, f[2], 0)
    promoted = promoted + 1
  end
end

local expired = redis.call('ZRANGEBYSCORE', K.expiring, '-inf', NOW, 'LIMIT', 0, limit)
for _, member in ipairs(expired) do
  redis.call('ZREM', K.expiring, member)
  local id, workflow = string.match(member, '^([^|]*)|(.*)$')
  if id and redis.call('EXISTS', K.task(id)) == 0 then
    for _, state in ipairs({ 'DONE', 'FAILED', 'CANCELLED' }) do
      redis.call('ZREM', K.state(state), id)
    end
    if workflow ~= '' then
      redis.call('ZREM', K.workflow_tasks(workflow), id)
      if redis.call('ZCARD', K.workflow_tasks(workflow)) == 0 then redis.call('DEL', K.workflow(workflow)) end
    end
    trimmed = trimmed + 1
  end
end

local next_due = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
flush_wakeups()
return { OK, promoted, trimmed, tonumber(next_due[2]) or 0 }
