--[[ queue: pause or resume claims from a queue (not a task transition: running tasks finish,
  submits are still accepted). Refuses a queue no task ever used, so a typo cannot pause
  nothing and report success — unless ARGV[4] is '1': then the queue is recorded as known
  (`queues`) and paused before its first task.
  ARGV[2] QUEUE_ACTION (Swift QueueAction): 'pause' | 'resume'   ARGV[3] queue name
  ARGV[4] '1' to pause a queue no task used yet, else '0'
  ARGV[5] actor (optional; '' or absent: none): with an actor, a change leaves the event line
  `@queue:NAME - paused|resumed 0 paused|resumed` whose entry's `by` field is the actor
  Returns {1} (changed) | {0} (already so) | {-1 NOT_FOUND} | {-9 INVALID_ARGUMENT, what} ]]

local action, queue, allow_new = ARGV[2], ARGV[3], ARGV[4] == '1'
if not QUEUE_ACTION[action] then return { INVALID_ARGUMENT, 'action ' .. tostring(action) } end
if ARGV[5] and ARGV[5] ~= '' then event_lines.by = ARGV[5] end
-- an operator's change is in the event stream, with who made it
local function acted(changed)
  if changed and event_lines.by then
    local what = action == QUEUE_ACTION.pause and 'paused' or 'resumed'
    emit('@queue:' .. queue, nil, what, 0, what)
    flush()
  end
  return { changed and OK or NOOP }
end
if redis.call('SISMEMBER', K.queues, queue) == 0 then
  if not (allow_new and action == QUEUE_ACTION.pause) then return { NOT_FOUND } end
  redis.call('SADD', K.queues, queue)
end
if action == QUEUE_ACTION.pause then
  return acted(redis.call('SADD', K.paused, queue) == 1)
end
local changed = redis.call('SREM', K.paused, queue) == 1
-- Wake idle claimers so they look at the queue again now.
local wake = K.wake(queue)
redis.call('LPUSH', wake, '1')
redis.call('LTRIM', wake, 0, WAKE_TOKENS_MAX - 1)
return acted(changed)
