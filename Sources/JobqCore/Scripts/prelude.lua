--[[ prelude: shared by every jobq script; the Swift side puts a generated block (the state
  table TRANSITIONS, the key table K, return codes, per-item codes and argument words) and this
  file before the scripts, which are the bodies of the functions of one Redis Functions library
  (Sources/JobqCore/Engine/Scripts.swift): this runs once per library load, and every call starts
  with BEGIN (at the end of this file), which sets KEYS, ARGV, NOW and resets the per-call state.
  KEYS[1]  the namespace prefix "jobq:{ns}:" (never written; it pins the cluster hash slot)
  ARGV[1]  "now" in milliseconds, or "0" to use the Redis server clock (TIME). Tests pass a fixed
           time; production passes "0" so that worker clock skew never matters.
  docs/keyspace.md lists every key.

  Cost matters (every redis.call is ~1 µs of Redis CPU): writes to shared indexes (ready lists,
  sorted sets, counters) are collected while a script runs and applied once at the end by
  flush(), so a batch of n tasks pays one call per index, not n. ]]

local NOW = 0 -- set at the start of every call (BEGIN, at the end of this file)
-- NOW as a string, made once per call: a Lua number passed to redis.call or concatenated is
-- formatted with sprintf each time (docs/performance.md, "Lua work per task").
local NOW_S = '0'

-- The audit stream keeps about EVENTS_MAXLEN entries of at most EVENT_LINES_PER_ENTRY
-- transitions each: bounded memory (a few tens of MB at most) whatever the batch sizes.
local EVENTS_MAXLEN = 20000
local EVENT_LINES_PER_ENTRY = 50
local WAKE_TOKENS_MAX = 16
local CHUNK = 1000 -- arguments per variadic call, well under Lua's unpack limit

-- K (every key name), the return codes and the argument words are generated from Swift
-- (Keyspace.layout, ScriptCode, ScriptConstants) and precede this file.


local function is_terminal(state)
  return state == 'DONE' or state == 'SKIPPED' or state == 'FAILED' or state == 'CANCELLED'
end

-- How a task ended, as its dependents see it (the settle list's entry prefix): '+' DONE or
-- SKIPPED, '-' FAILED, 'x' CANCELLED. A settle list written before the `failure` policy holds
-- '-' for CANCELLED too; no edge of that time tells the two apart, so it reads the same.
local OUTCOME_OK, OUTCOME_FAILED, OUTCOME_CANCELLED = '+', '-', 'x'
local function outcome_of(state)
  if state == 'DONE' or state == 'SKIPPED' then return OUTCOME_OK end
  if state == 'FAILED' then return OUTCOME_FAILED end
  if state == 'CANCELLED' then return OUTCOME_CANCELLED end
  return nil
end

-- Whether an edge of `policy` lets its dependent run after an ending of `outcome` (Swift
-- DependencyPolicy.accepts): success on DONE/SKIPPED, always on anything, failure on FAILED.
local function edge_accepts(policy, outcome)
  if policy == POLICY.always then return true end
  if policy == POLICY.failure then return outcome == OUTCOME_FAILED end
  return outcome == OUTCOME_OK
end

-- The immutable part of a task record (queue, handler, max_attempts, timeout_ms, ttl, wf,
-- deps_total, backoff, title) is packed into one hash field, `spec`, tab-separated (no name
-- contains a tab; the title comes last and may be empty): fewer fields make every HSET and
-- HMGET on the record cheaper.
local SPEC_PATTERN = '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$'
-- Only the ttl (the fifth field), for scripts that need nothing else: no table, one capture.
local SPEC_TTL_PATTERN = '^[^\t]*\t[^\t]*\t[^\t]*\t[^\t]*\t([^\t]*)\t'
local function spec_ttl(raw)
  return raw and tonumber(string.match(raw, SPEC_TTL_PATTERN))
end

--[[ Parses kept across calls. The scripts are one Functions library, loaded once, so a table
  here outlives the call that filled it. Most tasks share their spec text with many others (one
  per handler and options), and a claim would otherwise parse each task's anew: a 9-capture
  match costs ~0.6 µs, a lookup well under 0.1 µs (docs/performance.md, "Parses kept across
  calls"). Only pure functions of the text are kept (the text is the key; nothing read from
  Redis), and the parsed tables are read-only for their users. Kept: specs and the names submit checks for
  handlers and queues, texts of which a workload has a few. Not kept: ids, limit, rate and unique
  keys (often one per tenant or per task: a memo of thousands of live entries made every later
  call dearer, the garbage collector walking it). Bounded: a kind's table is emptied once
  MEMO.MAX entries were added to it (fair keys give a spec per key: those churn, at one insert
  per parse). ]]
local MEMO = { MAX = 1024, added = {}, spec = {}, fields = {}, name = {} }
-- Keeps `value` (false for a text that does not parse) for `raw` in MEMO[kind]; answers it.
-- Each kind is emptied on its own, so ever-new texts of one kind never evict another's.
function MEMO.put(kind, raw, value)
  local added = (MEMO.added[kind] or 0) + 1
  if added > MEMO.MAX then
    MEMO[kind], added = {}, 1
  end
  MEMO.added[kind] = added
  MEMO[kind][raw] = value
  return value
end
-- The spec's nine fields as an array (queue with its priority, handler, max_attempts,
-- timeout_ms, ttl, wf, deps_total, backoff, title), false when it does not parse; read-only.
function MEMO.spec_fields(raw)
  local v = MEMO.fields[raw]
  if v == nil then
    local parts = { string.match(raw, SPEC_PATTERN) }
    v = MEMO.put('fields', raw, parts[1] ~= nil and parts)
  end
  return v
end
-- Priorities (docs/flow-control.md#priorities): the spec's first field is the queue, followed by
-- ' P' for a priority P other than 0 (a record without it has priority 0, as every record written
-- before priorities). A ready task of priority P waits on K.ready_at(queue, P), or K.ready(queue)
-- for 0; the priorities other than 0 in use are the members of K.levels(queue) (score = P),
-- which claim.lua takes highest first around the default lane and drops when it empties one.
-- One table, not top-level locals (the prelude's local budget).
local PRIORITY = {}
-- The queue, the priority and the fair key (nil for none) of a spec's first field ('queue',
-- 'queue P' or 'queue P KEY'): one plain find for the default.
function PRIORITY.split(field)
  if not string.find(field, ' ', 1, true) then return field, 0 end
  local queue, p, fair = string.match(field, '^(%S*) (%-?%d+) (%S+)$')
  if not queue then queue, p = string.match(field, '^(%S*) (%-?%d+)$') end
  return queue or field, tonumber(p) or 0, fair
end
-- The ready lane of `queue` at priority `p`.
function PRIORITY.lane(queue, p)
  if not p or p == 0 then return K.ready(queue) end
  return K.ready_at(queue, p)
end
--[[ Fair claiming (docs/flow-control.md#fairness-across-keys): a ready task with a fair key waits
  on its key's own list K.fair_lane(queue, 'P:KEY') instead of the lane's list; the keys with
  work are a ring, K.ring(queue, P) (a list: a key is on it exactly while its list holds ids),
  plus the member '' standing for the lane's plain list (unkeyed tasks take turns like a key).
  The ring is registered in K.levels(queue) as the member 'fP' (score P), so a claim learns of it
  from the read it makes anyway: a lane without fair keys costs nothing more. A claim takes a
  fair lane one task per key per turn (PRIORITY.turns). ]]
-- A fair turn costs a few calls (LMOVE, RPOP, LLEN; a key leaving the ring two more): a claim
-- call takes at most this many (counting turns that found nothing), so it stays well under 10 ms
-- (FairClaimBoundedTests); one that stops there pushes a wake-up token, so the claims go on.
PRIORITY.TURNS_PER_CLAIM = 128
-- The list a ready task waits on at priority `p`: its fair key's own list, or the lane's.
function PRIORITY.list(queue, p, fair)
  if fair then return K.fair_lane(queue, (p or 0) .. ':' .. fair) end
  return PRIORITY.lane(queue, p)
end
-- A fair key's list went from empty to `n` ids: the key joins the ring (a new ring also gets the
-- plain list's turn '' and its member in the levels).
function PRIORITY.join(queue, p, fair)
  local ring = K.ring(queue, p)
  if redis.call('RPUSH', ring, fair) == 1 then
    redis.call('LPUSH', ring, '')
    redis.call('ZADD', K.levels(queue), p, 'f' .. p)
  end
end
-- Up to `want` ids of the fair lane (queue, p), one per turn: the ring's head member goes to the
-- tail (LMOVE) and gives one id; a key whose list that emptied leaves the ring (it is at the
-- tail), and a ring left with only the plain list's turn is deleted with its level. O(1) calls
-- per turn; each turn that found nothing (the plain list empty) is counted in `idle`. Answers
-- the ids (nil: none, the ring is gone) and `idle`.
function PRIORITY.turns(queue, p, want)
  local ring, ids, idle = K.ring(queue, p), {}, 0
  while #ids < want and idle <= want do
    local member = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
    if not member then break end
    local list = member == '' and PRIORITY.lane(queue, p) or K.fair_lane(queue, p .. ':' .. member)
    local id = redis.call('RPOP', list)
    if id then ids[#ids + 1] = id else idle = idle + 1 end
    local gone = false
    if member ~= '' and (not id or redis.call('LLEN', list) == 0) then
      redis.call('RPOP', ring)
      local left = redis.call('LRANGE', ring, 0, 1)
      gone = #left == 0 or (#left == 1 and left[1] == '')
    elseif member == '' and not id then
      local size = redis.call('LLEN', ring)
      gone = size <= 1
      if size == 2 then
        -- one key left and no unkeyed task: no one to take turns with, so the rest of this call
        -- comes from that key in one pop (it is at the head: '' just moved to the tail)
        local key = redis.call('LINDEX', ring, 0)
        local from = K.fair_lane(queue, p .. ':' .. key)
        local more = redis.call('RPOP', from, want - #ids)
        if more then for _, more_id in ipairs(more) do ids[#ids + 1] = more_id end end
        if redis.call('LLEN', from) == 0 then gone = true end
      end
    end
    if gone then
      redis.call('DEL', ring)
      redis.call('ZREM', K.levels(queue), 'f' .. p)
      break
    end
  end
  if #ids == 0 then return nil, idle end
  return ids, idle
end

-- The parsed spec (kept across calls, MEMO: read-only), nil when absent or unparsable.
local function spec_of(raw)
  if not raw then return nil end
  local spec = MEMO.spec[raw]
  if spec == nil then
    local queue, handler, max_attempts, timeout_ms, ttl, wf, deps_total, backoff, title = string.match(raw, SPEC_PATTERN)
    if queue then
      local priority, fair
      queue, priority, fair = PRIORITY.split(queue)
      spec = { queue = queue, priority = priority, fair = fair, handler = handler, max_attempts = tonumber(max_attempts), timeout_ms = tonumber(timeout_ms),
        ttl = tonumber(ttl), wf = wf, deps_total = tonumber(deps_total), backoff = backoff, title = title }
    end
    spec = MEMO.put('spec', raw, spec or false)
  end
  return spec or nil
end

-- The state `event` leads to from `from` (nil: forbidden). `from == nil`: the task is new.
-- Answers come from a table per `from` filled on first use (TRANSITIONS never changes), so a
-- transition builds no 'FROM>event' string.
local may
do
  local rows = {}
  function may(from, event)
    from = from or '-'
    local row = rows[from]
    if not row then
      row = {}
      rows[from] = row
    end
    local to = row[event]
    if to == nil then
      to = TRANSITIONS[from .. '>' .. event] or false
      row[event] = to
    end
    return to or nil
  end
end

-- Transitions ------------------------------------------------------------------------------

-- The audit log: one line per transition ("id from to attempt reason"; ids, states and
-- reasons never contain spaces), written by flush() as stream entries of up to
-- EVENT_LINES_PER_ENTRY lines, so a batch of n transitions costs n/50 XADDs, not n.
-- `event_lines.by`: who asked for this call's changes (an operator action's trailing actor
-- ARGV, set by the script); every entry the call writes carries it as its `by` field.
local event_lines = {}
local function emit(id, from, to, attempt, reason)
  if reason and reason ~= '' then reason = (string.gsub(reason, '%s', '_')) else reason = '' end
  event_lines[#event_lines + 1] = id .. ' ' .. (from or '-') .. ' ' .. to .. ' ' .. (attempt or 0) .. ' ' .. reason
end

-- Runs ------------------------------------------------------------------------------------
--[[ A task of a run has the id 'run/key'. Its transitions keep the run record (wf:<run>) current:
  per-state counters `n_<STATE>`, `open` (tasks not ended), and the run's own state: PENDING until
  its first task is claimed, RUNNING, then, when `open` reaches 0: FAILED when a run-level rule
  stopped it (`reason`: deadline, fail_fast), else DONE (no task FAILED or CANCELLED), CANCELLED
  (the run was cancelled: `cancelled` set) or FAILED. A re-opened task (retry) makes an
  ended run RUNNING again. Collected per call and applied once per run by flush(). Run-level
  events go to the same stream as '@run from to 0 reason' lines. ]]
local run_deltas, run_list = {}, {}

local function run_of(id)
  if not string.find(id, '/', 1, true) then return nil end -- (a standalone task: no pattern)
  return string.match(id, '^([^/]+)/')
end

-- Service tasks (`service: true`) --------------------------------------------------------
--[[ A run's service tasks (its record's field `services`: their keys, ' k1 k2 ', written by
  submit.lua; each task record also carries `service`) start with the run and are not waited
  for. Beside `open` the run keeps `svc_open` (its service tasks not ended) and `svc_bad` (those
  FAILED or CANCELLED). Once every other task has ended (open == svc_open > 0, the run sealed)
  SERVICE.stop_when_due starts the run's bounded cancellation with reason service_stopped: a
  PENDING service ends CANCELLED without running, a RUNNING one's handler is told (the cancel
  path, its grace period) and it ends DONE, reason service_stopped (fail.lua, reap.lua), unless
  it failed on its own. The run's state is decided by its other tasks (finish_run subtracts
  svc_bad; a service's failure stops no run under fail-fast). An edge to a service task (only
  `always`, submit.lua) is released when the service starts (SERVICE.started, from set_state),
  not when it ends. One table: the prelude is near Lua's 200-local limit. ]]
local SERVICE = { of = {} } -- of: run -> its `services` field | false, per call

function SERVICE.is(id)
  local run = run_of(id)
  if not run then return false end
  local s = SERVICE.of[run]
  if s == nil then
    s = redis.call('HGET', K.workflow(run), 'services') or false
    SERVICE.of[run] = s
  end
  return s ~= false and string.find(s, ' ' .. string.sub(id, #run + 2) .. ' ', 1, true) ~= nil
end

-- Whether `id` is a service task whose dependents were released when it started.
function SERVICE.released(id)
  return SERVICE.is(id) and redis.call('HEXISTS', K.task(id), 'released') == 1
end

local counters = {} -- stats field -> increment, applied by flush
local function count(field, n)
  counters[field] = (counters[field] or 0) + (n or 1)
end

-- Every run state change passes here, so it also keeps the run counters of `stats` (metrics
-- read them at scrape time instead of walking the runs): `run_<state>` counts entries into a
-- state, `run_left_<state>` exits, so runs in a state now = entries - exits.
local function emit_run(run, from, to, reason)
  emit('@' .. run, from, to, 0, reason)
  if from == to then return end
  count('run_' .. string.lower(to))
  if from then count('run_left_' .. string.lower(from)) end
end

local function count_run(id, from, to)
  local run = run_of(id)
  if not run then return end
  local d = run_deltas[run]
  if not d then
    d = { states = {}, open = 0 }
    run_deltas[run] = d
    run_list[#run_list + 1] = run
  end
  if from then d.states[from] = (d.states[from] or 0) - 1 else d.created = true end
  d.states[to] = (d.states[to] or 0) + 1
  if from and not is_terminal(from) then d.open = d.open - 1 end
  if not is_terminal(to) then d.open = d.open + 1 end
  if to == 'RUNNING' then d.claimed = true end
  if is_terminal(from) and not is_terminal(to) then d.reopened = true end
  if SERVICE.is(id) then
    if from and not is_terminal(from) then d.svc = (d.svc or 0) - 1 end
    if not is_terminal(to) then d.svc = (d.svc or 0) + 1 end
    if from == 'FAILED' or from == 'CANCELLED' then d.svc_bad = (d.svc_bad or 0) - 1 end
    if to == 'FAILED' or to == 'CANCELLED' then d.svc_bad = (d.svc_bad or 0) + 1 end
  end
end

-- Sub-workflows: a child run's end resolves the task that waits for it (defined further down).
local resolve_parent

-- A run whose tasks have all ended takes its final state (see above).
local function finish_run(run)
  local key = K.workflow(run)
  local f = redis.call('HMGET', key, 'state', 'n_FAILED', 'n_CANCELLED', 'cancelled', 'reason', 'deadline', 'parent', 'output', 'building', 'open', 'svc_bad')
  if not f[1] or is_terminal(f[1]) then return end
  -- still being submitted (submit.lua SUBMIT_CHUNK), or tasks still open: not over yet
  if f[9] or (tonumber(f[10]) or 0) > 0 then return end
  -- stopped by a run-level rule (deadline, fail-fast): FAILED, even if what still ran succeeded
  local to = 'DONE'
  if f[5] then
    to = 'FAILED'
  elseif (tonumber(f[2]) or 0) + (tonumber(f[3]) or 0) - (tonumber(f[11]) or 0) > 0 then -- (not its services)
    to = f[4] and 'CANCELLED' or 'FAILED'
  end
  redis.call('HSET', key, 'state', to, 'finished', NOW)
  redis.call('DEL', K.run_parked(run))
  if f[6] then redis.call('ZREM', K.deadlines, run) end
  emit_run(run, f[1], to, f[5] or '')
  if f[7] then resolve_parent(run, f[7], to, f[8] or '') end
end

-- The window (`window: N`): at most N of a run's tasks RUNNING at once, fleet-wide. claim.lua
-- asks window_allows for each task of a run it would claim; a task over the window is parked on
-- wf:<run>:parked (out of the ready list, so the claims behind it go on and nothing polls), and
-- each task of the run that leaves RUNNING queues one parked task again at the front of its
-- queue (unpark, from apply_runs). One HMGET per run per call, for runs only.
local windows = {} -- run -> { limit = n | false, running = n }
local function window_allows(run)
  local w = windows[run]
  if not w then
    local f = redis.call('HMGET', K.workflow(run), 'window', 'n_RUNNING')
    w = { limit = tonumber(f[1]) or false, running = tonumber(f[2]) or 0 }
    windows[run] = w
  end
  if not w.limit then return true end
  local d = run_deltas[run]
  local running = w.running + (d and d.states.RUNNING or 0) + (w.taken or 0)
  if running >= w.limit then return false end
  w.taken = (w.taken or 0) + 1
  return true
end

-- A parked entry is the id, or 'r id' / 'q id' for a task popped from the recovered or the
-- quarantine lane: woken, it goes back to the front of that lane, so the lanes keep their order
-- rule (recovered first, a suspect still runs alone). `lane` is '', 'r' or 'q'.
local function park_on(list, id, lane)
  redis.call('RPUSH', list, lane == '' and id or lane .. ' ' .. id)
end

-- Whether `id` is on the parked list, in any of its entry forms (doctor.lua; up to three LPOS).
local function is_parked_on(list, id)
  return redis.call('LPOS', list, id) or redis.call('LPOS', list, 'r ' .. id) or redis.call('LPOS', list, 'q ' .. id)
end

local function park(run, id, lane)
  park_on(K.run_parked(run), id, lane)
end

-- Slots freed: queue up to `free` tasks of the parked list again, at the front of the lane they
-- were popped from (they were ready first). Stale ids (cancelled or expired meanwhile) are
-- dropped; bounded (64 looked at per call). Used by the run window and by concurrency limits.
local function wake_parked(list, free)
  local looked = 0
  local woken, lanes = {}, {} -- lane key -> ids, oldest first; lanes in first-seen order
  while free > 0 and looked < 64 do
    local entry = redis.call('LPOP', list)
    if not entry then break end
    looked = looked + 1
    local lane, id = string.match(entry, '^([rq]) (.+)$')
    id = id or entry
    local t = redis.call('HMGET', K.task(id), 'state', 'spec')
    local queue = t[1] == 'PENDING' and string.match(t[2] or '', '^([^\t]*)\t')
    if queue then
      local priority, fair
      queue, priority, fair = PRIORITY.split(queue)
      if lane == 'q' or lane == 'r' then fair = nil end
      local to = lane == 'q' and K.quarantine(queue) or lane == 'r' and K.recovered(queue) or PRIORITY.list(queue, priority, fair)
      if lane ~= 'q' and lane ~= 'r' and priority ~= 0 and not fair then
        redis.call('ZADD', K.levels(queue), priority, priority) -- (now: a claim may drop the level later in this call)
      end
      if not woken[to] then
        woken[to] = {}
        lanes[#lanes + 1] = { to, queue, fair and priority, fair }
      end
      woken[to][#woken[to] + 1] = id
      free = free - 1
    end
  end
  -- RPUSH newest first, so the oldest ends up at the very front (RPOP takes it first)
  for _, lane in ipairs(lanes) do
    local ids, reversed = woken[lane[1]], {}
    for i = #ids, 1, -1 do reversed[#reversed + 1] = ids[i] end
    -- a fair key's list that was empty: the key joins its ring again
    if redis.call('RPUSH', lane[1], unpack(reversed)) == #reversed and lane[4] then PRIORITY.join(lane[2], lane[3], lane[4]) end
    redis.call('LPUSH', K.wake(lane[2]), '1')
    redis.call('LTRIM', K.wake(lane[2]), 0, WAKE_TOKENS_MAX - 1)
  end
end

-- Slots freed in a windowed run: queue up to that many parked tasks again.
local function unpark(run, key)
  local f = redis.call('HMGET', key, 'window', 'n_RUNNING')
  local limit = tonumber(f[1])
  if not limit then return end
  wake_parked(K.run_parked(run), limit - (tonumber(f[2]) or 0))
end

-- Answers the first call's reply (LPUSH: the list's length after the first chunk).
local function variadic(command, key, items)
  local first
  for i = 1, #items, CHUNK do
    local reply = redis.call(command, key, unpack(items, i, math.min(i + CHUNK - 1, #items)))
    first = first or reply
  end
  return first
end

-- Concurrency limits ------------------------------------------------------------------------
--[[ A task submitted with a concurrency key and limit (record field `climit`, 'N KEY') runs only
  while fewer than N tasks of KEY are RUNNING, fleet-wide. Exactly like the run window: the
  count lives in one hash for all keys, limit_counts (field KEY, value 'RUNNING LIMIT': its tasks
  RUNNING and the limit the last claimed task carried), kept by set_state (count_limit: one place
  for every script that moves a task in or out of RUNNING); claim.lua asks limit_allows for a
  popped keyed task and parks it on limit:<key>:parked when the key is full (the key joins
  limit_parked_keys); each task of the key that leaves RUNNING wakes up to the free slots' worth
  (apply_limits, in flush). Each task is held to its own limit against the key's shared count;
  the wake-ups use the limit of the task that left. A key's field goes when nothing of it runs or
  is parked. Cost (docs/performance.md, "Concurrency limits in one hash"): a claim reads each
  key's field once (HGET) and writes all its keys' new counts with one HSET; a call that ends
  tasks reads all its keys' counts with one HMGET, asks which have parked tasks with one
  SMISMEMBER, and writes with one HSET and one HDEL: per call, not per key. ]]
local limit_of = {}                 -- id -> { key, limit } | false (no limit)
local limit_deltas, limit_list = {}, {} -- key -> { running = delta, limit = n }
local limit_seen = {}               -- key -> { running = n, taken = n } (claim.lua, per call)

-- (parsed once per id per call, limit_record; not kept across calls as specs are: a key per
-- tenant gives thousands of texts, and a memo that large cost more than it saved, performance.md)
local function parse_climit(raw)
  local n, key = string.match(raw or '', '^(%d+) (.+)$')
  return n and { key = key, limit = tonumber(n) } or false
end

-- `raw` when the caller read the field already (claim, complete, fail and reap read it with the
-- fields they need anyway), else one HGET, once per id per call.
local function limit_record(id, raw)
  local l = limit_of[id]
  if l == nil then
    l = parse_climit(raw or redis.call('HGET', K.task(id), 'climit'))
    limit_of[id] = l
  end
  return l
end

local function count_limit(id, from, to)
  if (from == 'RUNNING') == (to == 'RUNNING') then return end
  local l = limit_record(id)
  if not l then return end
  local d = limit_deltas[l.key]
  if not d then
    d = { running = 0 }
    limit_deltas[l.key] = d
    limit_list[#limit_list + 1] = l.key
  end
  d.running = d.running + (to == 'RUNNING' and 1 or -1)
  d.limit = l.limit
end

-- The counts of `keys` not read in this call yet, into limit_seen: one HMGET for all of them
-- (claim.lua for the keys of the tasks one pop brought, apply_limits for the keys that moved).
local function limit_load(keys)
  local unread, wanted = {}, {}
  for _, key in ipairs(keys) do
    if not limit_seen[key] and not wanted[key] then
      wanted[key] = true
      unread[#unread + 1] = key
    end
  end
  for i = 1, #unread, CHUNK do
    local last = math.min(i + CHUNK - 1, #unread)
    local values = redis.call('HMGET', K.limit_counts, unpack(unread, i, last))
    for j = i, last do
      limit_seen[unread[j]] = { running = tonumber(string.match(values[j - i + 1] or '', '^%-?%d+')) or 0, taken = 0 }
    end
  end
end

-- Whether the keyed task (`l` from limit_record) may start now; a yes takes the slot for this call.
local function limit_allows(l, take)
  local s = limit_seen[l.key]
  if not s then
    limit_load({ l.key })
    s = limit_seen[l.key]
  end
  if s.running + s.taken >= l.limit then return false end
  if take then s.taken = s.taken + 1 end
  return true
end

-- Up to `free` parked tasks of the key queued again; a list left empty leaves limit_parked_keys.
-- Answers whether tasks are still parked.
local function limit_wake(key, free)
  local parked = K.limit_parked(key)
  if free > 0 then wake_parked(parked, free) end
  if redis.call('EXISTS', parked) == 1 then return true end
  redis.call('SREM', K.limit_parked_keys, key)
  return false
end

-- claim.lua: a queued task of a key (perhaps one just woken) popped, but it will never run: it
-- was cancelled or expired meanwhile. Its key's free slots wake parked tasks now, so they never
-- wait for a completion that is not coming (a woken task cancelled before its claim).
local function limit_hand_on(l)
  if not l then return end
  limit_allows(l, false) -- (loads the key's count for this call)
  local s = limit_seen[l.key]
  local free = l.limit - s.running - s.taken
  if free > 0 then limit_wake(l.key, free) end
end

-- Once per call, for all the keys whose count moved (docs/performance.md): the counts not read
-- in this call already (a claim read its keys in limit_allows; nothing else writes them
-- meanwhile) come from one HMGET; the keys that lost running tasks are asked for parked tasks
-- with one SMISMEMBER, and those that have some wake the free slots' worth; then one HSET
-- writes the new counts and one HDEL drops the keys with nothing running or parked.
local function apply_limits()
  if #limit_list == 0 then return end
  limit_load(limit_list)
  local ending = {}
  for _, key in ipairs(limit_list) do
    if limit_deltas[key].running < 0 then ending[#ending + 1] = key end
  end
  local parked = {}
  for i = 1, #ending, CHUNK do
    local last = math.min(i + CHUNK - 1, #ending)
    local member = redis.call('SMISMEMBER', K.limit_parked_keys, unpack(ending, i, last))
    for j = i, last do parked[ending[j]] = member[j - i + 1] == 1 end
  end
  local sets, gone = {}, {}
  for _, key in ipairs(limit_list) do
    local d, seen = limit_deltas[key], limit_seen[key]
    local running = seen.running + d.running
    seen.running, seen.taken = running, 0
    local waiting = parked[key] and limit_wake(key, d.limit - running)
    if running > 0 or waiting then
      sets[#sets + 1] = key
      sets[#sets + 1] = running .. ' ' .. d.limit
    else
      gone[#gone + 1] = key
    end
  end
  if #sets > 0 then variadic('HSET', K.limit_counts, sets) end
  if #gone > 0 then variadic('HDEL', K.limit_counts, gone) end
  limit_deltas, limit_list = {}, {}
end

local function apply_runs()
  -- A run's end may end the task of another run that waited for it (a sub-workflow), which adds
  -- that run to the list: it is applied in this loop too, from a fresh entry.
  local i = 1
  while i <= #run_list do
    local run = run_list[i]
    i = i + 1
    local d, key = run_deltas[run] or { states = {}, open = 0 }, K.workflow(run)
    run_deltas[run] = nil
    for state, delta in pairs(d.states) do
      if delta ~= 0 then redis.call('HINCRBY', key, 'n_' .. state, delta) end
    end
    local open = d.open ~= 0 and redis.call('HINCRBY', key, 'open', d.open) or nil
    if (d.svc or 0) ~= 0 then redis.call('HINCRBY', key, 'svc_open', d.svc) end
    if (d.svc_bad or 0) ~= 0 then redis.call('HINCRBY', key, 'svc_bad', d.svc_bad) end
    if (d.states.RUNNING or 0) < 0 then unpark(run, key) end
    -- (a run re-opened by a retry before any of its tasks ever ran is RUNNING already: its
    -- first claim records the start but is no PENDING -> RUNNING change)
    if d.claimed and redis.call('HSETNX', key, 'started', NOW) == 1 and redis.call('HGET', key, 'state') == 'PENDING' then
      redis.call('HSET', key, 'state', 'RUNNING')
      emit_run(run, 'PENDING', 'RUNNING', 'started')
    end
    if d.reopened and open and open > 0 then
      local state = redis.call('HGET', key, 'state')
      if is_terminal(state) then
        redis.call('HSET', key, 'state', 'RUNNING')
        redis.call('HDEL', key, 'finished', 'reason', 'cause', 'cancelled')
        emit_run(run, state, 'RUNNING', 'reopened')
      end
    end
    -- (a new run whose tasks were all created ended — doomed or skipped at submit — has open 0)
    if open == 0 or (open == nil and d.created) then
      finish_run(run)
    end
    if SERVICE.of[run] and (open or d.created) then SERVICE.stop_when_due(run) end
  end
  run_deltas, run_list = {}, {}
end

-- Uniqueness, debounce and throttle by key ---------------------------------------------------
--[[ A task submitted with `unique` ('MODE MS KEY'; record field `unique`; Swift Uniqueness) holds
  a lock, a string 'ID UNTIL' naming it (UNTIL: when a bounded lock runs out, ms on the scripts'
  clock, 0 for none; the key's PX only cleans up, as for the drainer pick): unique:<KEY> (modes
  `started`, `finished`), debounce:<KEY>, throttle:<KEY>. submit.lua takes it and answers a
  second submit of the key with its holder.
  set_state, which every transition passes through, releases it when the holder's scope ends:
  `started` and `debounce` when the task leaves PENDING (claimed, or ended without starting),
  `finished` when it ends (DONE, SKIPPED, FAILED for good, CANCELLED, expired). Compare-and-delete:
  a lock taken over meanwhile names another task. `finished` with MS > 0 (`for D`) also expires
  after MS (PX); `throttle` is held exactly MS, whatever its task does. All of it is one table:
  the prelude is near Lua's 200-local limit. ]]
local UNIQUE = { of = {} } -- of: id -> parsed `unique` field | false, per call

-- (not kept across calls as the limits' are: a unique key is often a task's own)
function UNIQUE.parse(raw)
  if not raw or raw == '' then return false end -- (most tasks: no pattern)
  local mode, ms, key = string.match(raw, '^(%a+) (%d+) (.+)$')
  if not mode or not UNIQUE_MODE[mode] then return false end
  return { mode = mode, ms = tonumber(ms), key = key }
end

-- The lock's key name.
function UNIQUE.lock(u)
  if u.mode == UNIQUE_MODE.debounce then return K.debounce(u.key) end
  if u.mode == UNIQUE_MODE.throttle then return K.throttle(u.key) end
  return K.unique(u.key)
end

-- `raw` when the caller read the field already (claim, complete, fail and reap read it with the
-- fields they need anyway), else one HGET, once per id per call.
function UNIQUE.record(id, raw)
  local u = UNIQUE.of[id]
  if u == nil then
    u = UNIQUE.parse(raw or redis.call('HGET', K.task(id), 'unique'))
    UNIQUE.of[id] = u
  end
  return u
end

-- Whether `from` -> `to` ends the scope of a lock of `mode`.
function UNIQUE.ends(mode, from, to)
  if mode == UNIQUE_MODE.started or mode == UNIQUE_MODE.debounce then return from == 'PENDING' and to ~= 'PENDING' end
  if mode == UNIQUE_MODE.finished then return is_terminal(to) and not is_terminal(from) end
  return false -- throttle: the interval only
end

-- set_state: release the lock of `id` when this transition ends its scope.
function UNIQUE.transition(id, from, to)
  if not from or from == to or UNIQUE.of[id] == false then return end -- (known: no key)
  if not ((from == 'PENDING' and to ~= 'PENDING') or (is_terminal(to) and not is_terminal(from))) then return end
  local u = UNIQUE.record(id)
  if not u or not UNIQUE.ends(u.mode, from, to) then return end
  local lock = UNIQUE.lock(u)
  if string.match(redis.call('GET', lock) or '', '^(%S+)') == id then redis.call('DEL', lock) end
end

-- submit.lua: `id` takes the lock of `u` (for MS, on the scripts' clock, when the mode is bounded).
function UNIQUE.take(u, id)
  local ms = u.mode ~= UNIQUE_MODE.debounce and u.ms or 0
  if ms > 0 then
    redis.call('SET', UNIQUE.lock(u), id .. ' ' .. (NOW + ms), 'PX', ms)
  else
    redis.call('SET', UNIQUE.lock(u), id .. ' 0')
  end
end

-- submit.lua: the task holding `lock` and its state, or nil when the lock is free. A throttle
-- lock holds for its interval whatever its task does (state EXPIRED when the record is gone); a
-- unique or debounce lock whose holder's scope has ended (a record deleted by hand, a release
-- that never ran) counts as free, so a key is never held by a task that ended.
function UNIQUE.holder(lock, mode)
  local id, until_ms = string.match(redis.call('GET', lock) or '', '^(%S+) (%d+)$')
  if not id then return nil end
  if tonumber(until_ms) > 0 and tonumber(until_ms) <= NOW then return nil end -- its bound passed
  local f = redis.call('HMGET', K.task(id), 'state', 'unique')
  if mode == UNIQUE_MODE.throttle then return id, f[1] or 'EXPIRED' end
  local u = UNIQUE.parse(f[2])
  if not f[1] or not u or is_terminal(f[1]) then return nil end
  if (u.mode == UNIQUE_MODE.started or u.mode == UNIQUE_MODE.debounce) and f[1] ~= 'PENDING' then return nil end
  return id, f[1]
end

-- Deferred index writes --------------------------------------------------------------------
local zsets, zset_keys = {}, {}      -- key -> { member -> score | false (remove) }
local pushes, push_lists = {}, {}    -- list key -> ids to LPUSH, in order (push_lists[i] = {key, queue})

local function zset_later(key, member, score)
  local members = zsets[key]
  if not members then
    members = {}
    zsets[key] = members
    zset_keys[#zset_keys + 1] = key
  end
  members[member] = score
end


-- Rate limits --------------------------------------------------------------------------------
--[[ A task submitted with a rate key and rate (record field `rlimit`, 'N INTERVAL_MS KEY') starts
  only while fewer than N tasks of KEY started in the last INTERVAL_MS, fleet-wide: a sliding
  log, exact over every window (docs/flow-control.md says why not a token bucket). The starts
  live in rate:<key>:starts (a sorted set: member the claim's token, score its time; deleted by
  the maintenance pass a minute after the interval after the last start, rate.sweep_logs). claim.lua asks rate.allows for a popped keyed
  task and parks it on rate:<key>:parked when the key is over its rate or paused; the key then
  gets an entry in `rates` scored by when a start frees (or the pause ends), which the
  maintenance pass (promote.lua, rate.wake_due) honours: no worker polls. A handler's
  backpressure (fail.lua 'ratelimited') pauses the key: `paused` in rate:<key>, and the key in
  `rate_pauses` by the pause's end.
  Cost per key per claim call (docs/performance.md#rate-limits): one ZCARD of the log, which
  answers "under the rate" while the log holds fewer entries than the rate allows, counted or not
  (entries out of the window only make it stricter); only a log that could be full is counted
  exactly (ZCOUNT of the window), and its entries out of the window are then trimmed when the key
  starts something. Every start is admitted with (log or window) + starts < N, so the log never
  holds more than N entries and needs no trim by rank. Whether any pause is in force is one read
  of `rate_pauses` per call; a key's own pause is read only while some pause is. A start then
  costs one ZADD per key: no PEXPIRE; a log the claim creates (ZCARD 0) gets an entry in
  `rate_logs` instead (one ZADD per call for all such keys), which the maintenance pass sweeps.
  One table, so the prelude keeps its budget of top-level locals. ]]
local rate = {
  of = {},      -- id -> { key, limit, interval } | false (none)
  seen = {},    -- key -> { used = starts counted (the log's size until `exact`), taken = this call's, paused, wake }
  started = {}, -- key -> { limit, interval, tokens = {...} } (claim phase 2), applied by flush
  keys = {},    -- keys in `started`, in order
  parked = {},  -- key -> { limit, interval } parked on by this call
  pausing = nil, -- whether any key's pause is in force (read once per call)
}

-- (once per id per call, rate.record; not kept across calls: see parse_climit)
function rate.parse(raw)
  local n, ms, key = string.match(raw or '', '^(%d+) (%d+) (.+)$')
  return n and { key = key, limit = tonumber(n), interval = tonumber(ms) } or false
end

-- `raw` when the caller read the field already (claim reads it with the rest).
function rate.record(id, raw)
  local r = rate.of[id]
  if r == nil then
    r = rate.parse(raw or redis.call('HGET', K.task(id), 'rlimit'))
    rate.of[id] = r
  end
  return r
end

-- The key's state for this call, read once: the log's size (an upper bound of the starts in
-- the window) and the pause, when any key has one.
function rate.state(r)
  local s = rate.seen[r.key]
  if not s then
    if rate.pausing == nil then
      rate.pausing = redis.call('ZCOUNT', K.rate_pauses, '(' .. NOW, '+inf') > 0
    end
    s = { used = redis.call('ZCARD', K.rate_starts(r.key)), exact = false, taken = 0,
          paused = rate.pausing and tonumber(redis.call('ZSCORE', K.rate_pauses, r.key)) or 0 }
    s.fresh = s.used == 0 -- no log yet: a start creates it, and indexes it in `rate_logs`
    rate.seen[r.key] = s
  end
  return s
end

-- When the key may start one more task, given `extra` starts at NOW not yet in its log: the
-- time the oldest start that must age out does (its score + interval), or NOW if none must.
-- `used`: the starts in the window (exact).
function rate.next_start(key, limit, interval, used, extra)
  local over = used + extra - limit + 1 -- starts that must leave the window first
  if over <= 0 then return NOW end
  if over > used then return NOW + interval end -- only this call's own starts would leave
  local oldest = redis.call('ZRANGEBYSCORE', K.rate_starts(key), '(' .. (NOW - interval), '+inf', 'WITHSCORES', 'LIMIT', over - 1, 1)
  return (tonumber(oldest[2]) or NOW) + interval
end

-- Whether the keyed task may start now (a yes takes a start for this call); a no also gives
-- when to look again.
function rate.allows(r, take)
  local s = rate.state(r)
  if s.paused > NOW then return false, s.paused end
  if s.used + s.taken >= r.limit and not s.exact then
    -- the log could be full: count the window exactly (once per key per call)
    local size = s.used
    s.used, s.exact = redis.call('ZCOUNT', K.rate_starts(r.key), '(' .. (NOW - r.interval), '+inf'), true
    s.stale = s.used < size and NOW - r.interval -- entries out of the window: trimmed with the starts
  end
  if s.used + s.taken >= r.limit then
    s.wake = s.wake or rate.next_start(r.key, r.limit, r.interval, s.used, s.taken)
    return false, s.wake
  end
  if take then s.taken = s.taken + 1 end
  return true
end

-- claim.lua: the task was held back (over the rate or paused): parked, its key due at `wake`.
function rate.park(r, id, lane, wake)
  park_on(K.rate_parked(r.key), id, lane)
  if not rate.parked[r.key] then
    rate.parked[r.key] = r
    redis.call('HSET', K.rate(r.key), 'limit', r.limit, 'interval', r.interval)
  end
  zset_later(K.rates, r.key, wake)
end

-- claim.lua phase 2: a keyed task started under fencing token `token`.
function rate.start(r, token)
  local st = rate.started[r.key]
  if not st then
    st = { limit = r.limit, interval = r.interval, tokens = {} }
    rate.started[r.key] = st
    rate.keys[#rate.keys + 1] = r.key
  end
  local tokens = st.tokens
  tokens[#tokens + 1] = NOW
  tokens[#tokens + 1] = token
end

-- A handler's backpressure: nothing of the key starts before `until_ms`; the task (already
-- back to PENDING) waits parked on the key, woken with it.
function rate.pause(r, id, until_ms)
  local key = K.rate(r.key)
  local paused = math.max(tonumber(redis.call('HGET', key, 'paused')) or 0, until_ms)
  redis.call('HSET', key, 'paused', paused, 'limit', r.limit, 'interval', r.interval)
  redis.call('ZADD', K.rate_pauses, paused, r.key)
  park_on(K.rate_parked(r.key), id, '')
  zset_later(K.rates, r.key, paused)
  rate.parked[r.key] = r
end

-- flush: the starts of this call, one ZADD per key (a log found holding entries out of the
-- window drops them first). A log created by this call is indexed in `rate_logs`, due a minute
-- after the interval after this start (member 'INTERVAL_MS KEY'; the margin keeps a log whose
-- window a test clock or a slow caller stretches); rate.sweep_logs deletes or re-scores it.
function rate.apply()
  for _, key in ipairs(rate.keys) do
    local st, starts, seen = rate.started[key], K.rate_starts(key), rate.seen[key]
    if seen and seen.stale then redis.call('ZREMRANGEBYSCORE', starts, '-inf', seen.stale) end
    redis.call('ZADD', starts, unpack(st.tokens))
    if not seen or seen.fresh then zset_later(K.rate_logs, st.interval .. ' ' .. key, NOW + st.interval + 60000) end
  end
  rate.started, rate.keys = {}, {}
end

-- promote.lua: the starts logs due in `rate_logs`, at most `max_logs`: a log whose newest start
-- is out of its window by the margin is deleted (its entries can no longer hold anything back),
-- one still in use is due again from its newest start, a log already gone leaves the index.
-- Returns the number of entries taken.
function rate.sweep_logs(max_logs)
  local due = redis.call('ZRANGEBYSCORE', K.rate_logs, '-inf', NOW, 'LIMIT', 0, max_logs)
  for _, member in ipairs(due) do
    local ms, key = string.match(member, '^(%d+) (.+)$')
    local starts = K.rate_starts(key or member)
    local newest = key and redis.call('ZRANGE', starts, -1, -1, 'WITHSCORES') or {}
    local at = newest[2] and tonumber(newest[2]) + tonumber(ms) + 60000
    if at and at > NOW then
      zset_later(K.rate_logs, member, at)
    else
      if at then redis.call('DEL', starts) end
      zset_later(K.rate_logs, member, false)
    end
  end
  return #due
end

-- promote.lua: wake the keys due in `rates`, at most `max_keys` of them and 64 parked tasks
-- each (wake_parked), as many as the key has starts free. A key still holding parked tasks is
-- due again when its next start frees (counting the woken as started: a woken task that does
-- not start in time is woken again then, and one that finds the key over its rate is parked
-- again); an empty key leaves `rates` and its record goes once no pause is in force.
-- Returns the number of keys taken.
function rate.wake_due(max_keys)
  local due = redis.call('ZRANGEBYSCORE', K.rates, '-inf', NOW, 'LIMIT', 0, max_keys)
  -- a pause's end makes its key due: the ended pauses leave their index then
  if #due > 0 then redis.call('ZREMRANGEBYSCORE', K.rate_pauses, '-inf', NOW) end
  for _, key in ipairs(due) do
    local h = redis.call('HMGET', K.rate(key), 'limit', 'interval', 'paused')
    local limit, interval, paused = tonumber(h[1]) or 1, tonumber(h[2]) or 1000, tonumber(h[3]) or 0
    local parked = K.rate_parked(key)
    if paused > NOW then
      zset_later(K.rates, key, paused)
    else
      local used = redis.call('ZCOUNT', K.rate_starts(key), '(' .. (NOW - interval), '+inf')
      local free = math.min(limit - used, 64)
      if free > 0 then wake_parked(parked, free) end
      if redis.call('EXISTS', parked) == 1 then
        zset_later(K.rates, key, math.max(rate.next_start(key, limit, interval, used, math.max(free, 0)), NOW + 1))
      else
        zset_later(K.rates, key, false)
        redis.call('DEL', K.rate(key))
      end
    end
  end
  return #due
end

-- Applies every deferred write: sorted sets (last write per member wins), ready lists,
-- wake-up tokens for queues that got work, counters. Every script calls it before returning.
local function flush()
  apply_runs()
  apply_limits()
  rate.apply()
  for _, key in ipairs(zset_keys) do
    local adds, removes = {}, {}
    for member, score in pairs(zsets[key]) do
      if score then
        adds[#adds + 1] = score
        adds[#adds + 1] = member
      else
        removes[#removes + 1] = member
      end
    end
    if #removes > 0 then variadic('ZREM', key, removes) end
    if #adds > 0 then variadic('ZADD', key, adds) end
  end
  for _, list in ipairs(push_lists) do
    local ids = pushes[list[1]]
    -- a fair key's list that was empty (its first chunk's length is the chunk's): the key joins its ring
    if variadic('LPUSH', list[1], ids) == math.min(#ids, CHUNK) and list[4] then PRIORITY.join(list[2], list[3], list[4]) end
    local wake = K.wake(list[2])
    local tokens = {}
    for i = 1, math.min(#ids, WAKE_TOKENS_MAX) do tokens[i] = '1' end
    -- (trimmed only past the cap: LPUSH answers the length, and an awake fleet keeps it short)
    if redis.call('LPUSH', wake, unpack(tokens)) > WAKE_TOKENS_MAX then redis.call('LTRIM', wake, 0, WAKE_TOKENS_MAX - 1) end
  end
  for field, n in pairs(counters) do redis.call('HINCRBY', K.stats, field, n) end
  -- per-minute DONE/FAILED counts for the dashboard's 72 h charts (Keyspace.rate): one hash
  -- per hour, so a chart reads 73 keys; only scripts that ended tasks pay for it
  if counters.done or counters.failed then
    local minute = math.floor(NOW / 60000)
    local key = K.throughput(math.floor(minute / 60))
    if counters.done then redis.call('HINCRBY', key, minute .. ':done', counters.done) end
    if counters.failed then redis.call('HINCRBY', key, minute .. ':failed', counters.failed) end
    redis.call('PEXPIRE', key, 266400000) -- 74 h after the last write: the hour stays readable for 72 h
  end
  for i = 1, #event_lines, EVENT_LINES_PER_ENTRY do
    local last = math.min(i + EVENT_LINES_PER_ENTRY - 1, #event_lines)
    local lines = table.concat(event_lines, '\n', i, last)
    if event_lines.by then
      redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'ts', NOW, 'e', lines, 'by', event_lines.by)
    else
      redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'ts', NOW, 'e', lines)
    end
  end
end

-- The single writer of `state`: one HSET with the new state and `fields` (a flat list of
-- more field/value pairs), the indexes the old state leaves, and the event. Scripts check
-- `may` before writing anything; the check here is the last line of defence.
local function set_state(id, from, event, attempt, reason, fields)
  local to = may(from, event)
  if not to then
    error('jobq: transition ' .. tostring(from) .. ' --' .. event .. '--> refused by the state table')
  end
  local args = fields or {}
  args[#args + 1] = 'state'
  args[#args + 1] = to
  redis.call('HSET', K.task(id), unpack(args))
  if from == 'RUNNING' then zset_later(K.leases, id, false) end
  if from == 'PENDING' and to ~= 'RUNNING' then
    zset_later(K.delayed, id, false)
    zset_later(K.waiting, id, false)
    zset_later(K.expiring, id, false) -- (a claim takes it out itself, only when it has an expiry)
  end
  if is_terminal(from) then zset_later(K.ended(from), id, false) end
  emit(id, from, to, attempt, reason)
  count_run(id, from, to)
  if from == 'PENDING' and to == 'RUNNING' and SERVICE.is(id) then SERVICE.started(id) end
  count_limit(id, from, to)
  UNIQUE.transition(id, from, to)
  return to
end

-- Ends a task (DONE, SKIPPED, FAILED, CANCELLED): the terminal index is scored by the time the record
-- expires, so the maintenance pass (promote.lua) can delete it then (retention).
local finish
do
  local counted = { DONE = 'done', SKIPPED = 'skipped', FAILED = 'failed', CANCELLED = 'cancelled' } -- (no string.lower per task)
  function finish(id, from, event, attempt, reason, ttl, fields)
    fields = fields or {}
    fields[#fields + 1] = 'finished'
    fields[#fields + 1] = NOW_S
    local to = set_state(id, from, event, attempt, reason, fields)
    zset_later(K.ended(to), id, NOW + (tonumber(ttl) or 0))
    count(counted[to] or string.lower(to))
    return to
  end
end

-- Attempt history --------------------------------------------------------------------------
--[[ One entry per ended attempt in t:<id>:attempts, appended by the script that ends it (complete,
  fail, reap): "attempt worker started ended outcome reason error", tab-separated (Swift
  TaskAttempt decodes it; the error comes last and is cut to ATTEMPT_ERROR_BYTES). Bounded: the
  first entry and the last ATTEMPTS_KEPT_AFTER_FIRST stay. RPUSH answers the new length, so an
  attempt costs that one call; only a list over the cap pays two more, which drop the second entry
  (LSET to '' then LREM of the '', found at once near the head): the first stays because the
  first error is often the real one. The attempt count cannot decide this (a refunded attempt
  repeats its number, `jobq retry` starts again from 1). ]]
local record_attempt, keep_done_attempt
do
  -- a count or time read from the record is its own text already (no strtod and sprintf)
  local function digits(v)
    if type(v) == 'string' and string.find(v, '^%d+$') then return v end
    return tonumber(v) or 0
  end
  -- `ended`: the end's time as text (nil: now)
  function record_attempt(id, attempt, worker, started, outcome, reason, message, ended)
    local err = message or ''
    if #err > ATTEMPT_ERROR_BYTES then
      local cut = ATTEMPT_ERROR_BYTES
      -- back off to a UTF-8 character boundary (a continuation byte is 0x80-0xBF)
      while cut > 0 do
        local b = string.byte(err, cut + 1)
        if b < 0x80 or b >= 0xC0 then break end
        cut = cut - 1
      end
      err = string.sub(err, 1, cut)
    end
    local key = K.attempts(id)
    if reason and reason ~= '' then reason = string.gsub(reason, '%s', '_') else reason = '' end
    local n = redis.call('RPUSH', key, digits(attempt) .. '\t' .. (worker or '') .. '\t' .. digits(started)
      .. '\t' .. (ended or NOW_S) .. '\t' .. outcome .. '\t' .. reason .. '\t' .. err)
    if n > ATTEMPTS_KEPT_AFTER_FIRST + 1 then
      redis.call('LSET', key, 1, '')
      redis.call('LREM', key, 1, '')
    end
  end
  -- rerun.lua and retry.lua, before a DONE task's record is reset: the attempt that made it
  -- DONE lives only in the record (complete.lua stores no entry for it; Swift's history read
  -- adds it from the record), so it is stored now, as the reader showed it, unless the history
  -- ends with it already (written by an earlier version).
  function keep_done_attempt(id)
    local f = redis.call('HMGET', K.task(id), 'state', 'attempts', 'worker', 'started', 'finished')
    if f[1] ~= 'DONE' or not f[3] or not f[4] or not f[5] or (tonumber(f[2]) or 0) < 1 then return end
    -- (the same attempt: its number and its start; a rerun's attempt 1 is not its first life's)
    local n, started = string.match(redis.call('LINDEX', K.attempts(id), -1) or '', '^(%d+)\t[^\t]*\t(%d+)\t[^\t]*\tdone\t')
    if n == f[2] and started == f[4] then return end
    record_attempt(id, f[2], f[3], f[4], ATTEMPT.done, '', '', f[5])
  end
end

-- Queue `id` on one of its queue's lanes (deferred: one LPUSH per list per script call).
-- `lane` is K.ready (new work, FIFO; nil means it too), K.recovered (taken back from a worker
-- that died or stopped: claimed first, whatever its priority) or K.quarantine (a crash suspect:
-- run alone by an idle worker). `priority` (nil: 0) picks the ready lane's priority level, and
-- `fair` (nil: none) the fair key's own list on it (PRIORITY.list; it joins the ring in flush).
local function push_later(id, queue, lane, priority, fair)
  local key
  local ready = lane == nil or lane == K.ready
  if ready and fair then
    key = PRIORITY.list(queue, priority, fair)
  elseif ready and priority and priority ~= 0 then
    key = K.ready_at(queue, priority)
    zset_later(K.levels(queue), priority, priority)
  else
    key = (lane or K.ready)(queue)
  end
  local list = pushes[key]
  if not list then
    list = {}
    pushes[key] = list
    push_lists[#push_lists + 1] = { key, queue, ready and fair and (priority or 0), ready and fair or nil }
  end
  list[#list + 1] = id
end

-- A running task taken back from its worker (the worker died or stopped heartbeating, or it
-- handed the task back): queued ahead of new work on its queue ("recovered first", a rule the
-- claim path keeps: claim.lua takes these lanes before `ready`). A crash suspect of level 2 or
-- more (its workers died under it twice, or it already died running alone) goes to quarantine,
-- where only an idle worker claims it, alone.
local function requeue_recovered(id, queue, suspect)
  push_later(id, queue, (tonumber(suspect) or 0) >= 2 and K.quarantine or K.recovered)
end

-- The busy worker picked to drain so that a quarantined suspect can run alone on it (claim.lua),
-- kept while it heartbeats (heartbeat.lua). Stored as "worker deadline" so that the pick runs
-- out on the scripts' clock, as leases do; the key's own expiry only cleans up.
local function drainer_pick()
  local pick = redis.call('GET', K.drainer)
  if not pick then return nil end
  local holder, until_ms = string.match(pick, '^(.*) (%d+)$')
  if not holder or (tonumber(until_ms) or 0) <= NOW then return nil end
  return holder
end

local function set_drainer_pick(worker, lease_ms)
  redis.call('SET', K.drainer, worker .. ' ' .. (NOW + lease_ms), 'PX', lease_ms)
end

-- Make a PENDING task with no unresolved prerequisites dispatchable (now, or at run_after), on
-- the ready lane of its `priority` (the spec's, spec_of; nil: 0), on its fair key's list when it
-- has one (`fair`, the spec's; nil: none).
local function dispatch(id, queue, run_after, priority, fair)
  zset_later(K.waiting, id, false)
  if run_after and run_after > NOW then
    zset_later(K.delayed, id, run_after)
  else
    push_later(id, queue, nil, priority, fair)
  end
end

-- Preconditions ----------------------------------------------------------------------------
--[[ A task's `skip_if` / `run_if` (Swift Precondition), compiled to JSON and kept in its record
  as `cond`: {"mode": "skip_if"|"run_if", "tests": [{"task", "path": [..], "op", "value", "text"}]}.
  Decided when the task becomes ready (release, submit, retry, doctor), on its prerequisites'
  stored results. Bounded: at most PRECONDITION_TESTS tests of PRECONDITION_DEPTH path parts,
  one HGET per distinct prerequisite. A prerequisite without a result (none, or JSON null)
  never matches. ]]
local PRECONDITION_TESTS, PRECONDITION_DEPTH, PRECONDITION_CHOICES = 16, 16, 64
local PRECONDITION_OPS = { eq = true, ne = true, ['in'] = true, exists = true }

-- Why `raw` is not a precondition this task may have (`deps`: its prerequisite ids), or nil.
-- Submit never trusts its caller: a bad one refuses the whole submission (INVALID_ARGUMENT).
local function check_precondition(raw, deps)
  local ok, cond = pcall(cjson.decode, raw)
  if not ok or type(cond) ~= 'table' then return 'not JSON' end
  if cond.mode ~= 'skip_if' and cond.mode ~= 'run_if' then return 'mode' end
  local tests = cond.tests
  if type(tests) ~= 'table' or #tests < 1 or #tests > PRECONDITION_TESTS then return 'test count' end
  local known = {}
  for _, dep in ipairs(deps) do known[dep] = true end
  for _, test in ipairs(tests) do
    if type(test) ~= 'table' or type(test.task) ~= 'string' or not known[test.task] then return 'test of a task that is not a prerequisite' end
    if type(test.path) ~= 'table' or #test.path > PRECONDITION_DEPTH then return 'path' end
    for _, part in ipairs(test.path) do
      if type(part) ~= 'string' or part == '' then return 'path' end
    end
    if not PRECONDITION_OPS[test.op] or test.value == nil then return 'operator' end
    if test.op == 'in' and (type(test.value) ~= 'table' or #test.value < 1 or #test.value > PRECONDITION_CHOICES) then return 'in' end
    if test.op == 'exists' and type(test.value) ~= 'boolean' then return 'exists' end
    if test.text ~= nil and type(test.text) ~= 'string' then return 'text' end
  end
  return nil
end

-- JSON equality on cjson values (numbers by value, objects whatever their key order).
local function json_same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= 'table' then return a == b end
  for k, v in pairs(a) do
    if not json_same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- The value at `path` in `value` (array indexes are 0-based, as written), or nil.
local function json_at(value, path)
  for _, part in ipairs(path) do
    if type(value) ~= 'table' then return nil end
    local n = string.match(part, '^%d+$') and tonumber(part)
    local found = n and value[n + 1]
    if found == nil then found = value[part] end
    value = found
  end
  return value
end

local function precondition_test_holds(test, result)
  if result == nil or result == cjson.null then return false end
  local found = json_at(result, test.path)
  if test.op == 'exists' then return (found ~= nil and found ~= cjson.null) == test.value end
  if found == nil then return false end
  if test.op == 'eq' then return json_same(found, test.value) end
  if test.op == 'ne' then return not json_same(found, test.value) end
  for _, choice in ipairs(test.value) do
    if json_same(found, choice) then return true end
  end
  return false
end

-- Why the task whose precondition is `raw` is skipped (the text says which test held, or which
-- did not), or nil when it runs. A record whose `cond` is unreadable runs (it was checked at
-- submit; nothing is skipped on a guess).
local function precondition_says_skip(raw)
  local ok, cond = pcall(cjson.decode, raw)
  if not ok or type(cond) ~= 'table' or type(cond.tests) ~= 'table' then return nil end
  local results = {}
  local held = {}
  for t, test in ipairs(cond.tests) do
    if t > PRECONDITION_TESTS then break end
    local result = results[test.task]
    if result == nil then
      local stored = redis.call('HGET', K.task(test.task), 'result')
      local decoded_ok, decoded = false, nil
      if stored and stored ~= '' then decoded_ok, decoded = pcall(cjson.decode, stored) end
      result = decoded_ok and decoded or cjson.null
      results[test.task] = result
    end
    local text = test.text or (test.task .. '.' .. table.concat(test.path, '.'))
    local holds = precondition_test_holds(test, result)
    if cond.mode == 'run_if' and not holds then return 'run_if did not hold: ' .. text end
    if cond.mode == 'skip_if' then
      if not holds then return nil end
      held[#held + 1] = text
    end
  end
  if cond.mode == 'skip_if' then return 'skip_if held: ' .. table.concat(held, ' and ') end
  return nil
end

-- A PENDING task with nothing left to wait for and a precondition: decided now. True when it
-- ended SKIPPED (reason `precondition`): the caller settles its dependents (as after success).
local function skipped_by_precondition(id, cond, attempts, ttl)
  if not cond or cond == '' then return false end
  local why = precondition_says_skip(cond)
  if not why then return false end
  finish(id, 'PENDING', 'precondition', attempts or 0, 'precondition', ttl, { 'reason', 'precondition', 'error', why })
  return true
end

-- Cached results (incremental runs) --------------------------------------------------------
--[[ A task's `cache_key` (Swift CacheKey) is a template kept in its record as `ckey`: literal
  text, {handler}, {payload} (the payload bytes, hashed) and {result:KEY} (a prerequisite's stored
  result, hashed; a bare KEY names a task of the same run). When the task becomes ready (release,
  submit, retry: where preconditions are decided) it is expanded to a digest, kept as
  `cache_digest`; the index cache:<digest> names the DONE task that produced that digest's result
  (written by complete.lua, PX the producer's retention). A ready task whose digest the index
  names, with that record still DONE, ends DONE at once with its result (event and reason
  `cached`, field `cached` = the producer's id) and never runs. Bounded: at most CACHE_RESULTS
  HGETs per expansion. ]]
local CACHE_TEMPLATE_BYTES, CACHE_RESULTS = 1024, 16

-- The parts of a template ({ text = s } or { ph = 'handler' | 'payload' | 'result', ref = KEY }),
-- or nil and why it does not parse.
local function cache_parts(template)
  if template == '' or #template > CACHE_TEMPLATE_BYTES then return nil, 'length' end
  local parts, pos, results = {}, 1, 0
  while pos <= #template do
    local s = string.find(template, '[{}]', pos)
    if not s then
      parts[#parts + 1] = { text = string.sub(template, pos) }
      break
    end
    if string.sub(template, s, s) == '}' then return nil, '} without {' end
    if s > pos then parts[#parts + 1] = { text = string.sub(template, pos, s - 1) } end
    local e = string.find(template, '}', s + 1, true)
    if not e then return nil, '{ not closed' end
    local name = string.sub(template, s + 1, e - 1)
    if name == 'handler' or name == 'payload' then
      parts[#parts + 1] = { ph = name }
    else
      local ref = string.match(name, '^result:([^{]+)$')
      if not ref then return nil, 'placeholder {' .. name .. '}' end
      results = results + 1
      parts[#parts + 1] = { ph = 'result', ref = ref }
    end
    pos = e + 1
  end
  if results > CACHE_RESULTS then return nil, 'too many results' end
  return parts
end

-- A {result:KEY} of task `id`: a bare key names a task of the same run.
local function cache_reference(id, ref)
  local run = run_of(id)
  if run and not string.find(ref, '/', 1, true) then return run .. '/' .. ref end
  return ref
end

-- Why `template` is not a cache key task `id` (prerequisites `deps`) may have, or nil.
local function check_cache_key(id, template, deps)
  local parts, why = cache_parts(template)
  if not parts then return why end
  local known = {}
  for _, dep in ipairs(deps) do known[dep] = true end
  for _, part in ipairs(parts) do
    if part.ph == 'result' and not known[cache_reference(id, part.ref)] then
      return '{result:' .. part.ref .. '} is not a prerequisite'
    end
  end
  return nil
end

-- The digest of task `id`'s template, or nil when it cannot be expanded (unreadable, or a
-- prerequisite's record is gone). Each part is length-prefixed: no two expansions collide.
local function cache_digest(id, template, handler)
  local parts = cache_parts(template)
  if not parts then return nil end
  local out = {}
  for _, part in ipairs(parts) do
    local value
    if part.text then
      value = 't' .. #part.text .. ':' .. part.text
    elseif part.ph == 'handler' then
      value = 'h' .. #handler .. ':' .. handler
    elseif part.ph == 'payload' then
      value = 'p:' .. redis.sha1hex(redis.call('HGET', K.task(id), 'payload') or '')
    else
      local ref = cache_reference(id, part.ref)
      local r = redis.call('HMGET', K.task(ref), 'state', 'result')
      if not r[1] then return nil end
      value = 'r:' .. redis.sha1hex(r[2] or '') -- the result, not the id: runs share it
    end
    out[#out + 1] = value
  end
  return redis.sha1hex(table.concat(out, '|'))
end

-- A PENDING task with nothing left to wait for and a cache key: expanded now. True when it ended
-- DONE from the cache (the caller settles its dependents, as after success); else its digest is
-- kept for complete.lua to index.
local function ended_from_cache(id, template, handler, attempts, ttl)
  if not template or template == '' then return false end
  local digest = cache_digest(id, template, handler)
  if not digest then return false end
  local source = redis.call('GET', K.cache(digest))
  if source and source ~= id then
    local s = redis.call('HMGET', K.task(source), 'state', 'result')
    if s[1] == 'DONE' then
      finish(id, 'PENDING', 'cached', attempts or 0, 'cached', ttl,
        { 'result', s[2] or '', 'cached', source, 'reason', 'cached', 'cache_digest', digest })
      count('cached')
      return true
    end
  end
  redis.call('HSET', K.task(id), 'cache_digest', digest)
  return false
end

-- The index entry of a task leaving DONE (rerun --outdated): dropped when it names that task.
local function cache_forget(id, digest)
  if digest and redis.call('GET', K.cache(digest)) == id then redis.call('DEL', K.cache(digest)) end
end

-- One prerequisite of `id` resolved in a way its edge accepts: count it off, dispatch at zero
-- (or skip, when its precondition says so). Returns OUTCOME_OK when it ended the task SKIPPED
-- (its dependents need settling then), else nil.
local function release(id)
  local key = K.task(id)
  local left = redis.call('HINCRBY', key, 'deps_left', -1)
  if left <= 0 then
    local f = redis.call('HMGET', key, 'state', 'spec', 'run_after', 'cond', 'attempts', 'ckey', 'rerunning')
    local spec = spec_of(f[2])
    if f[1] == 'PENDING' and spec and not f[7] then
      if skipped_by_precondition(id, f[4], f[5], spec.ttl) then return OUTCOME_OK end
      if ended_from_cache(id, f[6], spec.handler, f[5], spec.ttl) then return OUTCOME_OK end
      dispatch(id, spec.queue, tonumber(f[3]) or 0, spec.priority, spec.fair)
    elseif f[1] == 'DONE' then
      -- A prerequisite ended (again) after this task did: its result may be stale (OUTDATED).
      redis.call('HSET', key, 'outdated', '1')
    end
  end
  return nil
end

-- Workflows being cancelled ----------------------------------------------------------------

-- Whether workflow `wf` is being cancelled (cancel.lua keeps the marker wf:<wf>:cancel while
-- its calls walk the workflow): claim.lua drops such a workflow's ids instead of running them,
-- and a cascade that cancels one of its tasks counts it in the marker. One EXISTS per distinct
-- workflow per script call.
local cancelling_seen = {}
local function workflow_cancelling(wf)
  if not wf or wf == '' then return false end
  local known = cancelling_seen[wf]
  if known == nil then
    known = redis.call('EXISTS', K.workflow_cancel(wf)) == 1
    cancelling_seen[wf] = known
  end
  return known
end

-- Stopping a run (fail-fast, critical tasks, deadlines) ------------------------------------
--[[ A run-level rule stops a run by starting the same bounded cancellation `jobq cancel RUN`
  starts (the marker wf:<run>:cancel, which makes claims drop the run's tasks at once, and an
  entry on `continuations`), with a reason: the pending tasks end CANCELLED with that reason,
  running ones are told to stop, and the run ends FAILED with `reason` and `cause`. The caller
  (the worker whose failure triggered it, or the maintenance pass for a deadline) continues it
  at once; the maintenance pass is the backstop. ]]
local run_stopped = false -- this call started a run stop: its caller should continue it

-- The one place a workflow (run) cancellation starts: its marker wf:<run>:cancel (claims drop
-- the run's tasks from now on), with `fields` (a run-level `reason`, `cause`) set even when one
-- is in progress already. `unowned`: listed on `continuations` at score 0, so the next settle
-- call names it to be continued at once (cancel.lua owns the ones it starts itself).
local function open_run_cancel(run, message, fields, unowned)
  local marker = K.workflow_cancel(run)
  if redis.call('EXISTS', marker) == 0 then
    redis.call('HSET', marker, 'started', NOW, 'cursor', '-inf', 'cancelled', 0, 'requested', 0, 'message', message)
  end
  if fields and #fields > 0 then redis.call('HSET', marker, unpack(fields)) end
  cancelling_seen[run] = true
  if unowned then
    redis.call('ZADD', K.continuations, 0, 'cancel:' .. run)
    run_stopped = true
  end
end

local function stop_run(run, reason, cause, message)
  local key = K.workflow(run)
  local f = redis.call('HMGET', key, 'state', 'reason')
  if not f[1] or is_terminal(f[1]) or f[2] then return false end
  redis.call('HSET', key, 'reason', reason, 'cause', cause or '')
  open_run_cancel(run, message, { 'reason', reason, 'cause', cause or '' }, true)
  emit_run(run, f[1], f[1], reason)
  return true
end

-- A task of a run failed for good: with `fail_fast`, or when the task is critical, the rest of
-- its run is stopped (reason fail_fast, cause the task). One HMGET per run per call.
local fail_fast_seen = {}
local function run_task_failed(id)
  local run = run_of(id)
  if not run or SERVICE.is(id) then return end
  local rule = fail_fast_seen[run]
  if rule == nil then
    local f = redis.call('HMGET', K.workflow(run), 'fail_fast', 'critical')
    rule = { all = f[1] == '1', critical = f[2] or '' }
    fail_fast_seen[run] = rule
  end
  local key = string.sub(id, #run + 2)
  if rule.all or string.find(rule.critical, ' ' .. key .. ' ', 1, true) then
    stop_run(run, 'fail_fast', id, 'fail-fast: ' .. key .. ' failed' .. (rule.all and '' or ' (a critical task)'))
  end
end

-- Bounded cascades -------------------------------------------------------------------------
--[[ Settling the dependents of an ended task is the one piece of work whose size no caller
  chooses (a chain of 20,000, a fan-out of 30,000), so every script call settles at most
  SETTLE_BUDGET dependents; what is left waits on the `settle` list, continued by the next
  calls (settle.lua: the client that caused it, at once, and the maintenance pass as a backstop).
  Entries are the outcome then the id: '+id' (it ended DONE or SKIPPED), '-id' (FAILED), 'xid'
  (CANCELLED; older lists wrote '-' for it, see OUTCOME_OK); LPUSH/LPOP, so the cascade stays
  depth-first. The dependents of a queued task not settled yet are moved from t:<id>:next to
  t:<id>:settle (a dependent submitted meanwhile, which sees the task ended and does not count
  it, goes to a fresh t:<id>:next and is never settled twice); each settled chunk moves back.
  Nothing half-applied is ever claimable: a dependent whose edge is not settled yet still counts
  that prerequisite in deps_left (whatever the edge policy), so it is not dispatched. ]]
local SETTLE_BUDGET = 64
-- Each task a call ends itself adds this much: a batch of completions (whose size the caller
-- chose) settles its own first edges (a fan-in of 2,000 completed 300 at a time releases the
-- last dependent in the call that completes its last prerequisite). SETTLE_BUDGET is measured:
-- about 1-2 ms per call on a loaded 2-core machine (BoundedScriptTests prints it).
local SETTLE_PER_ROOT = 2
local settle_left = SETTLE_BUDGET
local settle_spilled = false -- whether this call left work on the settle list
local backlog_empty = false  -- the settle list was found empty in this call
local backlog_seen = false   -- this call looked at the settle list

-- Whether the ending of `prerequisite` has not reached `dependent` yet: then the dependent still
-- counts it as unresolved (retry.lua, doctor.lua).
local function unsettled(prerequisite, dependent)
  return redis.call('HEXISTS', K.settle_edges(prerequisite), dependent) == 1
end

-- One edge `id` -> `dependent`, `id` having ended with `outcome` (OUTCOME_*): release it when
-- the edge accepts the outcome; else a `failure` edge makes it SKIPPED (condition_unmet) and any
-- other CANCELLED (dependency_failed). Returns the outcome the dependent itself ended with when
-- this ended it (its own dependents need settling then), else nil.
local function settle_edge(id, outcome, dependent, policy)
  settle_left = settle_left - 1
  if edge_accepts(policy, outcome) then
    return release(dependent)
  end
  local f = redis.call('HMGET', K.task(dependent), 'state', 'attempts', 'spec')
  if f[1] ~= 'PENDING' then return nil end
  local spec = spec_of(f[3]) or {}
  if policy == POLICY.failure then
    finish(dependent, 'PENDING', 'condition_unmet', f[2], 'condition_unmet', spec.ttl,
      { 'reason', 'condition_unmet', 'error', 'prerequisite ' .. id .. ' did not fail', 'cause', id })
    return OUTCOME_OK
  end
  finish(dependent, 'PENDING', 'dependency_failed', f[2], 'dependency_failed', spec.ttl,
    { 'reason', 'dependency_failed', 'error', 'prerequisite ' .. id .. ' did not succeed', 'cause', id })
  if workflow_cancelling(spec.wf) then redis.call('HINCRBY', K.workflow_cancel(spec.wf), 'cancelled', 1) end
  return OUTCOME_CANCELLED
end

-- Settles the dependents of `id` while the budget lasts, pushing the ones it ends on the
-- stack. `deferred`: its unsettled dependents are in t:<id>:settle already. True when done.
-- `known`: the number of its dependents when the caller read it already (settle_dependents).
local function settle_node(id, outcome, deferred, stack_id, stack_outcome, stack_deferred, known)
  local function push(dependent, ended)
    local n = #stack_id + 1
    stack_id[n], stack_outcome[n], stack_deferred[n] = dependent, ended, false
  end
  if not deferred then
    local n = known or redis.call('HLEN', K.next(id))
    if n == 0 then return true end
    if n <= settle_left then
      local edges = redis.call('HGETALL', K.next(id))
      for i = 1, #edges, 2 do
        local ended = settle_edge(id, outcome, edges[i], edges[i + 1])
        if ended then push(edges[i], ended) end
      end
      return true
    end
    redis.call('RENAME', K.next(id), K.settle_edges(id))
  end
  local aside = K.settle_edges(id)
  local record = redis.call('EXISTS', K.task(id)) == 1 -- purged meanwhile: its next key stays gone
  while settle_left > 0 do
    local edges = redis.call('HRANDFIELD', aside, math.min(settle_left, CHUNK / 2), 'WITHVALUES')
    if #edges == 0 then return true end
    local names = {}
    for i = 1, #edges, 2 do
      names[#names + 1] = edges[i]
      local ended = settle_edge(id, outcome, edges[i], edges[i + 1])
      if ended then push(edges[i], ended) end
    end
    redis.call('HDEL', aside, unpack(names))
    if record then redis.call('HSET', K.next(id), unpack(edges)) end
  end
  return redis.call('EXISTS', aside) == 0
end

-- Queues `id` on the settle list, its unsettled dependents moved aside first.
local function defer_settle(id, outcome, deferred)
  if not deferred then
    if redis.call('EXISTS', K.next(id)) == 0 then return end
    redis.call('RENAME', K.next(id), K.settle_edges(id))
  end
  redis.call('LPUSH', K.settle, outcome .. id)
  settle_spilled = true
  backlog_empty = false
end

-- Depth-first from one task, within the budget; the rest goes to the settle list. `known`: the
-- root's number of dependents, when the caller read it.
local function settle_from(root, outcome, deferred, known)
  local stack_id, stack_outcome, stack_deferred = { root }, { outcome }, { deferred }
  while #stack_id > 0 do
    local n = #stack_id
    local id, ended, aside = stack_id[n], stack_outcome[n], stack_deferred[n]
    stack_id[n], stack_outcome[n], stack_deferred[n] = nil, nil, nil
    if settle_left <= 0 then
      defer_settle(id, ended, aside)
    elseif not settle_node(id, ended, aside, stack_id, stack_outcome, stack_deferred, known) then
      -- the budget ran out inside it: it goes first, so its ended dependents stay on top
      local m = #stack_id
      redis.call('LPUSH', K.settle, ended .. id)
      settle_spilled = true
      backlog_empty = false
      for i = 1, m do defer_settle(stack_id[i], stack_outcome[i], stack_deferred[i]) end
      return
    end
    known = nil -- (the root's only)
  end
end

-- Continues the settle list with what is left of this call's budget. True when it is empty.
local function settle_backlog()
  backlog_seen = true
  while settle_left > 0 do
    local entry = not backlog_empty and redis.call('LPOP', K.settle)
    if not entry then
      backlog_empty = true
      return true
    end
    settle_from(string.sub(entry, 2), string.sub(entry, 1, 1), true)
  end
  backlog_empty = redis.call('EXISTS', K.settle) == 0
  return backlog_empty
end

-- Whether this call leaves cascade work on the settle list that it made or saw: complete.lua and
-- fail.lua tell their worker, which continues it at once (settle.lua) instead of leaving it to
-- the next script or maintenance pass.
local function settle_work_left()
  return settle_spilled or (backlog_seen and not backlog_empty) or run_stopped
end

-- After `root` ended with `outcome` (OUTCOME_*: '+' DONE or SKIPPED, '-' FAILED, 'x' CANCELLED):
-- release dependents whose edge accepts the outcome and end, transitively, those whose edge
-- cannot be satisfied any more (CANCELLED under `success`, SKIPPED under `failure`). At most
-- SETTLE_BUDGET dependents per script call (plus SETTLE_PER_ROOT per task it ended); the rest
-- is continued from the settle list, first by whatever budget this call has left (so that
-- workers completing and failing tasks carry cascades forward too: one LPOP per call when there
-- is nothing to do).
local function settle_dependents(root, outcome)
  if SERVICE.released(root) then return end -- (released when it started)
  settle_left = settle_left + SETTLE_PER_ROOT
  if settle_left > 0 then
    -- most tasks have no dependents: the one HLEN settle_node would make, without its stack
    local n = redis.call('HLEN', K.next(root))
    if n > 0 then settle_from(root, outcome, false, n) end
  else
    settle_from(root, outcome, false)
  end
  if settle_left > 0 and not backlog_empty then settle_backlog() end
end

-- A service task started: its dependents are released now (once: a retry's start does not).
function SERVICE.started(id)
  if redis.call('HSETNX', K.task(id), 'released', NOW) == 0 then return end
  settle_left = settle_left + SETTLE_PER_ROOT
  settle_from(id, OUTCOME_OK, false)
end

-- Stops `run`'s services once every other task has ended (see SERVICE above); once per run.
function SERVICE.stop_when_due(run)
  local key = K.workflow(run)
  local f = redis.call('HMGET', key, 'open', 'svc_open', 'building', 'svc_stop', 'state')
  local svc = tonumber(f[2]) or 0
  if f[3] or f[4] or svc == 0 or (tonumber(f[1]) or 0) ~= svc or not f[5] or is_terminal(f[5]) then return end
  redis.call('HSET', key, 'svc_stop', NOW)
  open_run_cancel(run, 'its run is over: every other task has ended', { 'reason', 'service_stopped' }, true)
  emit_run(run, f[5], f[5], 'service_stopped')
end

-- Expiry ----------------------------------------------------------------------------------
--[[ A task with `expires_at` (Swift TaskSpec.expires) that has not started by then ends CANCELLED
  with reason `expired` and never runs: claim.lua expires a due task it pops instead of claiming
  it, and the maintenance pass (promote.lua) every due entry of K.expiring — tasks waiting for
  prerequisites, for a delay, in a queue, parked by their run's window. Its dependents settle
  exactly as after a cancel. The first claim drops `expires_at` and the K.expiring entry: a task
  that started never expires (its retries after a failure run), and `jobq retry` of an expired
  task re-opens it without expiry. ]]
local function expiry_due(expires_at)
  local at = tonumber(expires_at)
  return at ~= nil and at <= NOW
end

-- Ends the PENDING task `id` (`spec` as spec_of gives it) CANCELLED, reason `expired`.
local function expire(id, attempts, spec)
  finish(id, 'PENDING', 'expire', attempts or 0, 'expired', spec and spec.ttl,
    { 'reason', 'expired', 'error', 'not started before it expired' })
  count('expired')
  -- a run being cancelled counts it with its cancellation, as a cascade's cancel does
  if spec and workflow_cancelling(spec.wf) then redis.call('HINCRBY', K.workflow_cancel(spec.wf), 'cancelled', 1) end
  settle_dependents(id, OUTCOME_CANCELLED)
end

-- Corrupt records -------------------------------------------------------------------------

local KNOWN_STATES = { PENDING = true, RUNNING = true, DONE = true, SKIPPED = true, FAILED = true, CANCELLED = true }

-- Whether a record cannot be run: an unknown (or missing) state, or a spec, payload or attempt
-- budget that is missing or garbled. `spec` is what spec_of returned.
local function unusable(state, spec, payload)
  return not KNOWN_STATES[state] or not spec or not payload or not spec.max_attempts
end

-- Fails an unusable record with reason corrupt_record and settles its dependents, so that
-- nothing waits on it forever; it is never run (claim.lua, doctor.lua).
local function fail_corrupt(id, state, spec, attempts)
  local fields = { 'reason', 'corrupt_record', 'error', 'unusable task record (state ' .. tostring(state) .. ')' }
  if KNOWN_STATES[state] and may(state, 'corrupt') then
    finish(id, state, 'corrupt', attempts or 0, 'corrupt_record', spec and spec.ttl, fields)
  else
    -- The state itself is garbage, so the table cannot apply: overwrite it.
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = 'FAILED'
    fields[#fields + 1] = 'finished'
    fields[#fields + 1] = NOW
    redis.call('HSET', K.task(id), unpack(fields))
    zset_later(K.ended('FAILED'), id, NOW + (spec and spec.ttl or 0))
    emit(id, state, 'FAILED', 0, 'corrupt_record')
  end
  settle_dependents(id, OUTCOME_FAILED)
end

-- Sub-workflows -----------------------------------------------------------------------------
--[[ A task whose handler is the built-in `jobq.run` starts a child run (the worker submits it,
  idempotently) and completes with that run's id: complete.lua's await_child puts it back to
  PENDING in no queue, field `child`, and writes `parent` into the child's record. It holds no
  worker slot while the child runs. When the child run takes its final state (finish_run), the
  parent task ends with it: DONE with the result of the child's `output` task (null without
  one), or FAILED (reason child_failed). Cancelling the waiting task cancels the child run (and
  so on down: a run three levels deep is cancelled from the top), through the same bounded
  cancellation, continued at once by whoever continues unowned work. ]]

-- Starts the cancellation of `run` as `jobq cancel RUN` would (it ends CANCELLED); unowned until
-- a client or the maintenance pass continues it (scored 0 on `continuations`).
local function cancel_child_run(run, message)
  local key = K.workflow(run)
  local state = redis.call('HGET', key, 'state')
  if not state or is_terminal(state) then return end
  redis.call('HSET', key, 'cancelled', NOW)
  open_run_cancel(run, message, nil, true)
end

-- Spawned children (HandlerContext.spawn, docs/worker.md "Spawning children"): a running task
-- submits a child run fenced by its lease (submit.lua's run option `spawned_by`, 'PARENT TOKEN
-- POLICY', checked before anything is written). The parent's record gets `spawned` (the run), the
-- run's `parent` and `on_child_failure` (CHILD_FAILURE). A normal completion with `spawned` set
-- waits for the run as a sub-workflow task does (complete.lua: the parent ends with the run, its
-- result the run's output); a wait (fail.lua 'children') sets `child` and `child_wait`: the run's
-- end queues the parent again (`children_done`) to be re-invoked, unless the run did not end DONE
-- and the policy fails the parent. A parent that ends for good otherwise cancels its spawned run.
-- One table: the prelude's budget of top-level locals.
local SPAWN = {}

-- submit.lua: the fence `value` of a spawn of run `run`. Returns the refusal (nothing written),
-- or nil and { parent, policy }. Another spawned run of the parent still open refuses it too (WRONG_STATE,
-- 'SPAWNED'): a parent waits for one spawned run at a time.
function SPAWN.check(value, run)
  local parent, token, policy, width = string.match(value, '^(%S+) (%S+) (%S+) (%d+)$')
  if not parent or not CHILD_FAILURE[policy] then return { INVALID_ARGUMENT, 'spawned_by' } end
  local f = redis.call('HMGET', K.task(parent), 'state', 'token', 'spawned')
  if not f[1] then return { NOT_FOUND, parent } end
  if f[1] ~= 'RUNNING' then return { WRONG_STATE, parent, f[1] } end
  if f[2] ~= token then return { STALE_TOKEN, parent } end
  if f[3] and f[3] ~= run and not is_terminal(redis.call('HGET', K.workflow(f[3]), 'state') or 'DONE') then
    return { WRONG_STATE, parent, 'SPAWNED' }
  end
  return nil, { parent = parent, policy = policy, width = tonumber(width) }
end

-- submit.lua: a new spawned run `run` is written: link it and its parent.
function SPAWN.record(s, run)
  redis.call('HSET', K.workflow(run), 'parent', s.parent, 'on_child_failure', s.policy)
  redis.call('HSET', K.task(s.parent), 'spawned', run)
  emit(s.parent, 'RUNNING', 'RUNNING', 0, 'spawned_' .. run)
end

-- submit.lua: the spawned run `run` exists already (a retried or re-invoked parent spawns again):
-- attach to it when it is this parent's and of the same width (the whole spawn's task count,
-- given with the fence: a big spawn is submitted in chunks), else refuse. A run that ended is
-- not waited for again (`spawned` stays unset): its results are there to read.
function SPAWN.attach(s, run)
  local f = redis.call('HMGET', K.workflow(run), 'parent', 'total', 'state')
  if f[1] ~= s.parent then return { RUN_EXISTS, run } end
  if (tonumber(f[2]) or 0) ~= s.width then return { IDEMPOTENCY_CONFLICT, run } end
  if not is_terminal(f[3]) then redis.call('HSET', K.task(s.parent), 'spawned', run) end
  emit(s.parent, 'RUNNING', 'RUNNING', 0, 'attached_' .. run)
  flush()
  return { OK, SUBMITTED.replayed, run }
end

-- A parent that ends for good (FAILED, CANCELLED) while its spawned run is open: the run is
-- cancelled, and its running children's handlers told. `spawned`: the field, read by the caller.
function SPAWN.ended(id, spawned)
  if spawned and spawned ~= '' then cancel_child_run(spawned, 'its parent task ' .. id .. ' ended') end
end

-- resolve_parent: the parent waits for its children (`child_wait`): queue it again to be
-- re-invoked (true), or leave it to end with the run (false: the run did not end DONE and the
-- policy fails the parent).
function SPAWN.wake(run, parent, run_state, f)
  if run_state ~= 'DONE' and redis.call('HGET', K.workflow(run), 'on_child_failure') ~= CHILD_FAILURE.wake_parent then return false end
  redis.call('HDEL', K.task(parent), 'child', 'child_wait', 'spawned')
  set_state(parent, 'PENDING', 'children_done', f[3], 'resumed', { 'reason', 'resumed' })
  local spec = spec_of(f[4]) or {}
  dispatch(parent, spec.queue or 'default', 0, spec.priority, spec.fair)
  count('resumed')
  return true
end

resolve_parent = function(run, parent, run_state, output)
  local f = redis.call('HMGET', K.task(parent), 'state', 'child', 'attempts', 'spec', 'mapped', 'child_wait')
  if f[1] ~= 'PENDING' or f[2] ~= run then return end
  if f[6] and SPAWN.wake(run, parent, run_state, f) then return end
  local ttl = spec_ttl(f[4])
  if run_state == 'DONE' then
    -- a map's result is its marker (readers expand it into the children's results, paged)
    local result = f[5] or (output ~= '' and redis.call('HGET', K.task(run .. '/' .. output), 'result')) or nil
    finish(parent, 'PENDING', 'child_done', f[3], '', ttl, { 'result', result or 'null' })
    settle_dependents(parent, OUTCOME_OK)
  else
    finish(parent, 'PENDING', 'child_failed', f[3], 'child_failed', ttl,
      { 'reason', 'child_failed', 'error', 'its child run ' .. run .. ' ended ' .. run_state, 'cause', run })
    settle_dependents(parent, OUTCOME_FAILED)
    run_task_failed(parent)
  end
end

-- complete.lua: the RUNNING task `id` (its record's fields `f`: state, token, attempts, spec,
-- error, worker, started, cancel_requested) started child run `child`. `result`: 'null', or a
-- map's marker {"$mapped": child, "count": N} (kept as field `mapped`; the wait's event has
-- reason `mapped:N` instead of `child_run`).
local function await_child(id, f, child, result)
  if f[8] then
    -- cancelled while its handler started the child: it ends CANCELLED, and so does the child
    finish(id, 'RUNNING', 'cancel', f[3], 'cancelled', spec_ttl(f[4]), { 'reason', 'cancelled' })
    record_attempt(id, f[3], f[6], f[7], ATTEMPT.cancelled, 'cancelled', 'cancelled while it started its child run')
    settle_dependents(id, OUTCOME_CANCELLED)
    cancel_child_run(child, 'its parent task ' .. id .. ' was cancelled')
    return
  end
  local mapped = result and string.match(result, '^{"%$mapped":".-","count":(%d+)}$')
  local fields = { 'child', child, 'lease', 0, 'worker', '' }
  if mapped then
    fields[#fields + 1] = 'mapped'
    fields[#fields + 1] = result
  end
  set_state(id, 'RUNNING', 'await_run', f[3], mapped and ('mapped:' .. mapped) or 'child_run', fields)
  record_attempt(id, f[3], f[6], f[7], ATTEMPT.done, mapped and 'mapped' or 'child_run', (mapped and ('mapped ' .. mapped .. ' children in run ') or 'started child run ') .. child)
  local key = K.workflow(child)
  redis.call('HSET', key, 'parent', id)
  local state = redis.call('HGET', key, 'state')
  if state and is_terminal(state) then
    resolve_parent(child, id, state, redis.call('HGET', key, 'output') or '')
  end
end

-- Per-call state ---------------------------------------------------------------------------
--[[ The scripts are one Redis Functions library (Scripts.swift): this file and the generated
  block run once, when the library is loaded, and every FCALL starts with BEGIN. Everything a call
  collects or caches lives in the locals above and is reset here, so nothing of one call (or one
  namespace: P, K's fixed keys) is seen by the next. A new piece of per-call state is added here
  too; ScriptBoundaryTests runs calls of two namespaces back to back. ]]
local function BEGIN(keys, args)
  KEYS, ARGV = keys, args
  if keys[1] ~= P then -- (another namespace than the last call's: its fixed key names)
    P = keys[1]
    K.bind()
  end
  NOW = tonumber(args[1]) or 0
  if NOW <= 0 then
    local t = redis.call('TIME')
    NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  NOW_S = tostring(NOW) -- (whole milliseconds: %.14g writes every digit)
  event_lines, counters = {}, {}
  run_deltas, run_list = {}, {}
  SERVICE.of, UNIQUE.of = {}, {}
  windows, cancelling_seen, fail_fast_seen = {}, {}, {}
  limit_of, limit_deltas, limit_list, limit_seen = {}, {}, {}, {}
  zsets, zset_keys, pushes, push_lists = {}, {}, {}, {}
  rate.of, rate.seen, rate.started, rate.keys, rate.parked, rate.pausing = {}, {}, {}, {}, {}, nil
  run_stopped = false
  settle_left, settle_spilled, backlog_empty, backlog_seen = SETTLE_BUDGET, false, false, false
end
