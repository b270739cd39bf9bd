--[[ prelude: shared by every jobq script; the Swift side prepends the state table (TRANSITIONS)
  and this file to each script before loading it.
  KEYS[1]  the namespace prefix "jobq:{ns}:" (never written; it pins the cluster hash slot)
  ARGV[1]  "now" in milliseconds, or "0" to use the Redis server clock (TIME). Tests pass a fixed
           time; production passes "0" so that worker clock skew never matters.
  Key names here mirror Sources/JobqCore/Redis/Keyspace.swift; docs/keyspace.md lists them all. ]]

local P = KEYS[1]
local NOW = tonumber(ARGV[1]) or 0
if NOW <= 0 then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local EVENTS_MAXLEN = 100000
local WAKE_TOKENS_MAX = 16

local K = {
  delayed = P .. 'delayed',
  leases = P .. 'leases',
  events = P .. 'events',
  token = P .. 'token',
  paused = P .. 'paused',
  queues = P .. 'queues',
  expiring = P .. 'expiring',
  stats = P .. 'stats',
}
function K.task(id) return P .. 't:' .. id end
function K.deps(id) return P .. 't:' .. id .. ':deps' end
function K.next(id) return P .. 't:' .. id .. ':next' end
function K.log(id) return P .. 't:' .. id .. ':log' end
function K.progress(id) return P .. 't:' .. id .. ':progress' end
function K.ready(queue) return P .. 'q:' .. queue end
function K.wake(queue) return P .. 'wake:' .. queue end
function K.state(state) return P .. 's:' .. state end
function K.workflow(wf) return P .. 'wf:' .. wf end
function K.workflow_tasks(wf) return P .. 'wf:' .. wf .. ':tasks' end
function K.idempotency(key) return P .. 'idem:' .. key end

-- Return codes; Sources/JobqCore/Redis/ScriptCode.swift names them.
local OK, NOOP = 1, 0
local NOT_FOUND, WRONG_STATE, STALE_TOKEN = -1, -2, -3
local UNKNOWN_DEPENDENCY, DUPLICATE_ID, CYCLE = -4, -5, -6
local IDEMPOTENCY_CONFLICT, PREREQUISITE_FAILED, INVALID_ARGUMENT = -7, -8, -9

local function is_terminal(state)
  return state == 'DONE' or state == 'FAILED' or state == 'CANCELLED'
end

-- The state `event` leads to from `from` (nil: forbidden). `from == nil`: the task is new.
local function may(from, event)
  return TRANSITIONS[(from or '-') .. '>' .. event]
end

-- Append one audit event. Every transition calls this through set_state.
local function emit(id, from, to, attempt, reason)
  redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
    'task', id, 'from', from or '-', 'to', to, 'attempt', attempt or 0, 'reason', reason or '', 'ts', NOW)
end

-- The single writer of `state`: moves the task between state indexes and records the event.
-- Scripts check `may` before writing anything; this check is the last line of defence.
local function set_state(id, from, event, attempt, reason)
  local to = may(from, event)
  if not to then
    error('jobq: transition ' .. tostring(from) .. ' --' .. event .. '--> refused by the state table')
  end
  redis.call('HSET', K.task(id), 'state', to)
  if from then redis.call('ZREM', K.state(from), id) end
  redis.call('ZADD', K.state(to), NOW, id)
  emit(id, from, to, attempt, reason)
  return to
end

-- Queues with new work, to be woken once at the end of the script.
local woken = {}
local woken_count = {}

-- Make a PENDING task with no unresolved prerequisites dispatchable (now, or at run_after).
local function dispatch(id, queue, run_after)
  if run_after and run_after > NOW then
    redis.call('ZADD', K.delayed, run_after, id)
  else
    redis.call('LPUSH', K.ready(queue), id)
    if not woken_count[queue] then
      woken_count[queue] = 0
      woken[#woken + 1] = queue
    end
    woken_count[queue] = woken_count[queue] + 1
  end
end

-- Push wake-up tokens (capped) for every queue that got work, so blocked claimers return.
local function flush_wakeups()
  for _, queue in ipairs(woken) do
    local n = math.min(woken_count[queue], WAKE_TOKENS_MAX)
    for _ = 1, n do redis.call('LPUSH', K.wake(queue), '1') end
    redis.call('LTRIM', K.wake(queue), 0, WAKE_TOKENS_MAX - 1)
  end
end

-- Members of the expiring index carry the workflow too ("id|wf"; '|' is outside the id grammar),
-- so that trimming can clean the workflow index after the record itself is gone.
local function expiring_member(id)
  return id .. '|' .. (redis.call('HGET', K.task(id), 'wf') or '')
end

-- Terminal bookkeeping: finish time, lease gone, retention clock started.
local function retire(id, ttl)
  local key = K.task(id)
  redis.call('HSET', key, 'finished', NOW)
  redis.call('HDEL', key, 'lease', 'worker')
  redis.call('ZREM', K.leases, id)
  redis.call('ZREM', K.delayed, id)
  ttl = tonumber(ttl) or 0
  if ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
    redis.call('PEXPIRE', K.deps(id), ttl)
    redis.call('PEXPIRE', K.next(id), ttl)
    redis.call('PEXPIRE', K.log(id), ttl)
    redis.call('PEXPIRE', K.progress(id), ttl)
    redis.call('ZADD', K.expiring, NOW + ttl, expiring_member(id))
  end
end

-- One prerequisite of `id` resolved in a way its edge accepts: count it off, dispatch at zero.
local function release(id)
  local key = K.task(id)
  local left = redis.call('HINCRBY', key, 'deps_left', -1)
  if left <= 0 then
    local f = redis.call('HMGET', key, 'state', 'queue', 'run_after')
    if f[1] == 'PENDING' then dispatch(id, f[2], tonumber(f[3]) or 0) end
  end
end

-- After `root` reached a terminal state: release dependents whose edge accepts the outcome and
-- cancel, transitively, those whose `success` edge cannot be satisfied any more. Iterative: a
-- chain of any length costs no Lua stack.
local function settle_dependents(root, succeeded)
  local stack = { root }
  local good = { succeeded }
  while #stack > 0 do
    local id = table.remove(stack)
    local ok = table.remove(good)
    local edges = redis.call('HGETALL', K.next(id))
    for i = 1, #edges, 2 do
      local dependent, policy = edges[i], edges[i + 1]
      if ok or policy == 'always' then
        release(dependent)
      else
        local key = K.task(dependent)
        local f = redis.call('HMGET', key, 'state', 'attempts', 'ttl')
        if f[1] == 'PENDING' then
          redis.call('HSET', key, 'reason', 'dependency_failed', 'error', 'prerequisite ' .. id .. ' did not succeed', 'cause', id)
          set_state(dependent, 'PENDING', 'dependency_failed', f[2], 'dependency_failed')
          retire(dependent, f[3])
          redis.call('HINCRBY', K.stats, 'cancelled', 1)
          stack[#stack + 1] = dependent
          good[#good + 1] = false
        end
      end
    end
  end
end
