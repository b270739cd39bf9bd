--[[ schedule: the schedule records (sched:<name>) and their index `schedules` (not task
  transitions; docs/flow-control.md, "Schedules"). Swift computes fire times; this script only
  compares and stores them, so every step is O(1) in the number of schedules and runs.
  A tick T of a schedule is decided by `claim` (first decision wins, keyed by (name, T)) and
  ended by `advance` (compare-and-set: only while next == T), so any number of maintenance
  passes agree on one decision and one run per tick without a leader.
  ARGV[2] SCHEDULE_ACTION   ARGV[3] schedule name, then per action:
    add       replace ('1'/'0'), next (ms), n, n (field value) pairs
              -> {1} | {SCHEDULE_EXISTS, name}
    claim     tick, decision (TICK.fire | TICK.skip | TICK.missed)
              -> {1, decision in force} | {0, next} (the tick is not the next one) | {NOT_FOUND}
    advance   tick, next, run ('' for none), outcome (TICK.fired | skip | missed)
              -> {1} | {0} (someone else advanced it) | {NOT_FOUND}
    wait      tick, recheck (ms): overlap `buffer` — tick stays next, marked `buffered`, and is
              looked at again from `recheck` on (its index score) -> {1} | {0} | {NOT_FOUND}
    later     seen score, recheck (ms): a schedule that could not fire is looked at again from
              `recheck` on, if its index score is still `seen` -> {1} | {0} | {NOT_FOUND}
    pause     -> {1} | {0} already paused | {NOT_FOUND}
    resume    next -> {1} | {0} not paused | {NOT_FOUND}
    remove    -> {1} | {NOT_FOUND}
    triggered run -> {1} | {NOT_FOUND}
  Every change but claim appends a line '@sched:<name> - <what> 0 <what>:<run or tick>' to the
  event stream. Check first, write last. ]]

local action, name = ARGV[2], ARGV[3]
if not SCHEDULE_ACTION[action] then return { INVALID_ARGUMENT, 'action ' .. tostring(action) } end
local key = K.schedule(name)
local exists = redis.call('EXISTS', key) == 1

-- '@sched:<name> - <what> 0 <what>[:<run or tick>]': the word is repeated in the reason, the
-- field TaskEventRecord keeps as text (its `to` is a task state).
local function note(what, detail)
  emit('@sched:' .. name, nil, what, 0, detail ~= '' and (what .. ':' .. detail) or what)
  flush()
end

if action == SCHEDULE_ACTION.add then
  local replace, next_fire, n = ARGV[4] == '1', ARGV[5], tonumber(ARGV[6])
  if not tonumber(next_fire) or not n then return { INVALID_ARGUMENT, 'add' } end
  if exists and not replace then return { SCHEDULE_EXISTS, name } end
  local fields = { 'next', next_fire, 'created', NOW }
  for i = 0, n - 1 do
    fields[#fields + 1] = ARGV[7 + 2 * i]
    fields[#fields + 1] = ARGV[8 + 2 * i]
  end
  if exists then redis.call('DEL', key) end
  redis.call('HSET', key, unpack(fields))
  redis.call('ZADD', K.schedules, next_fire, name)
  note(exists and 'replaced' or 'added', '')
  return { OK }
end

if not exists then return { NOT_FOUND } end

if action == SCHEDULE_ACTION.claim then
  local tick, decision = ARGV[4], ARGV[5]
  if not TICK[decision] then return { INVALID_ARGUMENT, 'decision ' .. tostring(decision) } end
  local next_fire, firing, paused = unpack(redis.call('HMGET', key, 'next', 'firing', 'paused'))
  if paused or next_fire ~= tick then return { NOOP, next_fire or '' } end
  if firing then
    local claimed_tick, claimed = string.match(firing, '^(%d+) (%a+)$')
    if claimed_tick == tick then return { OK, claimed } end
  end
  redis.call('HSET', key, 'firing', tick .. ' ' .. decision)
  return { OK, decision }
end

if action == SCHEDULE_ACTION.advance then
  local tick, next_fire, run, outcome = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
  if not tonumber(next_fire) or not TICK[outcome] then return { INVALID_ARGUMENT, 'advance' } end
  local current, firing, paused = unpack(redis.call('HMGET', key, 'next', 'firing', 'paused'))
  if current ~= tick or not firing or string.match(firing, '^(%d+) ') ~= tick then return { NOOP } end
  local fields = { 'next', next_fire, 'last_tick', tick, 'last_outcome', outcome }
  if run ~= '' then
    fields[#fields + 1] = 'last_run'
    fields[#fields + 1] = run
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('HDEL', key, 'firing')
  -- a buffered schedule stays buffered across the ticks it marks missed, until one fires
  if outcome ~= TICK.missed then redis.call('HDEL', key, 'buffered') end
  redis.call('HINCRBY', key, 'n_' .. outcome, 1)
  if not paused then redis.call('ZADD', K.schedules, next_fire, name) end
  note(outcome, run ~= '' and run or tick)
  return { OK }
end

if action == SCHEDULE_ACTION.wait then
  local tick, recheck = ARGV[4], ARGV[5]
  if not tonumber(recheck) then return { INVALID_ARGUMENT, 'wait' } end
  local current, paused, buffered = unpack(redis.call('HMGET', key, 'next', 'paused', 'buffered'))
  if paused or current ~= tick then return { NOOP } end
  redis.call('ZADD', K.schedules, recheck, name)
  if buffered ~= tick then
    redis.call('HSET', key, 'buffered', tick)
    note('buffered', tick)
  end
  return { OK }
end

if action == SCHEDULE_ACTION.later then
  local seen, recheck = ARGV[4], ARGV[5]
  if not tonumber(recheck) then return { INVALID_ARGUMENT, 'later' } end
  if redis.call('ZSCORE', K.schedules, name) ~= seen then return { NOOP } end
  redis.call('ZADD', K.schedules, recheck, name)
  return { OK }
end

if action == SCHEDULE_ACTION.pause then
  if redis.call('HEXISTS', key, 'paused') == 1 then return { NOOP } end
  redis.call('HSET', key, 'paused', NOW)
  -- kept in the index (listings read it) at +inf: never due
  redis.call('ZADD', K.schedules, 'inf', name)
  note('paused', '')
  return { OK }
end

if action == SCHEDULE_ACTION.resume then
  local next_fire = ARGV[4]
  if not tonumber(next_fire) then return { INVALID_ARGUMENT, 'resume' } end
  if redis.call('HEXISTS', key, 'paused') == 0 then return { NOOP } end
  -- the ticks that passed while paused are not owed: the next one is computed from now
  redis.call('HSET', key, 'next', next_fire)
  redis.call('HDEL', key, 'paused', 'firing', 'buffered')
  redis.call('ZADD', K.schedules, next_fire, name)
  note('resumed', '')
  return { OK }
end

if action == SCHEDULE_ACTION.remove then
  redis.call('DEL', key)
  redis.call('ZREM', K.schedules, name)
  note('removed', '')
  return { OK }
end

-- triggered: a run started outside the ticks (`schedule trigger`)
local run = ARGV[4]
redis.call('HSET', key, 'last_run', run, 'last_outcome', TICK.triggered, 'last_tick', NOW)
redis.call('HINCRBY', key, 'n_' .. TICK.triggered, 1)
note(TICK.triggered, run)
return { OK }
