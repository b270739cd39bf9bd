--[[ queue: pause or resume claims from a queue (not a task transition: running tasks finish,
  submits are still accepted). Refuses a queue no task ever used, so a typo cannot pause
  nothing and report success — unless ARGV[4] is '1': then the queue is recorded as known
  (`queues`) and paused before its first task.
  ARGV[2] QUEUE_ACTION (Swift QueueAction): 'pause' | 'resume'   ARGV[3] queue name
  ARGV[4] '1' to pause a queue no task used yet, else '0'
  Returns {1} (changed) | {0} (already so) | {-1 NOT_FOUND} | {-9 INVALID_ARGUMENT, what} ]]

local action, queue, allow_new = ARGV[2], ARGV[3], ARGV[4] == '1'
if not QUEUE_ACTION[action] then return { INVALID_ARGUMENT, 'action ' .. tostring(action) } end
if redis.call('SISMEMBER', K.queues, queue) == 0 then
  if not (allow_new and action == QUEUE_ACTION.pause) then return { NOT_FOUND } end
  redis.call('SADD', K.queues, queue)
end
if action == QUEUE_ACTION.pause then
  return { redis.call('SADD', K.paused, queue) == 1 and OK or NOOP }
end
local changed = redis.call('SREM', K.paused, queue) == 1
-- Wake idle claimers so they look at the queue again now.
local wake = K.wake(queue)
redis.call('LPUSH', wake, '1')
redis.call('LTRIM', wake, 0, WAKE_TOKENS_MAX - 1)
return { changed and OK or NOOP }
