--[[ prelude: shared by every jobq script; the Swift side prepends a generated block (the state
  table TRANSITIONS, the key table K, return codes, per-item codes and argument words) and this
  file to each script before loading it (Sources/JobqCore/Engine/Scripts.swift).
  KEYS[1]  the namespace prefix "jobq:{ns}:" (never written; it pins the cluster hash slot)
  ARGV[1]  "now" in milliseconds, or "0" to use the Redis server clock (TIME). Tests pass a fixed
           time; production passes "0" so that worker clock skew never matters.
  docs/keyspace.md lists every key.

  Cost matters (every redis.call is ~1 µs of Redis CPU): writes to shared indexes (ready lists,
  sorted sets, counters) are collected while a script runs and applied once at the end by
  flush(), so a batch of n tasks pays one call per index, not n. ]]

local NOW = tonumber(ARGV[1]) or 0
if NOW <= 0 then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The audit stream keeps about EVENTS_MAXLEN entries of at most EVENT_LINES_PER_ENTRY
-- transitions each: bounded memory (a few tens of MB at most) whatever the batch sizes.
local EVENTS_MAXLEN = 20000
local EVENT_LINES_PER_ENTRY = 50
local WAKE_TOKENS_MAX = 16
local CHUNK = 1000 -- arguments per variadic call, well under Lua's unpack limit

-- K (every key name), the return codes and the argument words are generated from Swift
-- (Keyspace.layout, ScriptCode, ScriptConstants) and precede this file.


local function is_terminal(state)
  return state == 'DONE' or state == 'FAILED' or state == 'CANCELLED'
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
local function spec_of(raw)
  if not raw then return nil end
  local queue, handler, max_attempts, timeout_ms, ttl, wf, deps_total, backoff, title = string.match(raw, SPEC_PATTERN)
  if not queue then return nil end
  return { queue = queue, handler = handler, max_attempts = tonumber(max_attempts), timeout_ms = tonumber(timeout_ms),
    ttl = tonumber(ttl), wf = wf, deps_total = tonumber(deps_total), backoff = backoff, title = title }
end

-- The state `event` leads to from `from` (nil: forbidden). `from == nil`: the task is new.
local function may(from, event)
  return TRANSITIONS[(from or '-') .. '>' .. event]
end

-- Transitions ------------------------------------------------------------------------------

-- The audit log: one line per transition ("id from to attempt reason"; ids, states and
-- reasons never contain spaces), written by flush() as stream entries of up to
-- EVENT_LINES_PER_ENTRY lines, so a batch of n transitions costs n/50 XADDs, not n.
local event_lines = {}
local function emit(id, from, to, attempt, reason)
  if reason and reason ~= '' then reason = (string.gsub(reason, '%s', '_')) else reason = '' end
  event_lines[#event_lines + 1] = id .. ' ' .. (from or '-') .. ' ' .. to .. ' ' .. (attempt or 0) .. ' ' .. reason
end

-- Deferred index writes --------------------------------------------------------------------
local zsets, zset_keys = {}, {}      -- key -> { member -> score | false (remove) }
local pushes, push_lists = {}, {}    -- list key -> ids to LPUSH, in order (push_lists[i] = {key, queue})
local counters = {}                  -- stats field -> increment

local function zset_later(key, member, score)
  local members = zsets[key]
  if not members then
    members = {}
    zsets[key] = members
    zset_keys[#zset_keys + 1] = key
  end
  members[member] = score
end

local function count(field, n)
  counters[field] = (counters[field] or 0) + (n or 1)
end

local function variadic(command, key, items)
  for i = 1, #items, CHUNK do
    redis.call(command, key, unpack(items, i, math.min(i + CHUNK - 1, #items)))
  end
end

-- Applies every deferred write: sorted sets (last write per member wins), ready lists,
-- wake-up tokens for queues that got work, counters. Every script calls it before returning.
local function flush()
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
    variadic('LPUSH', list[1], ids)
    local wake = K.wake(list[2])
    local tokens = {}
    for i = 1, math.min(#ids, WAKE_TOKENS_MAX) do tokens[i] = '1' end
    redis.call('LPUSH', wake, unpack(tokens))
    redis.call('LTRIM', wake, 0, WAKE_TOKENS_MAX - 1)
  end
  for field, n in pairs(counters) do redis.call('HINCRBY', K.stats, field, n) end
  for i = 1, #event_lines, EVENT_LINES_PER_ENTRY do
    local last = math.min(i + EVENT_LINES_PER_ENTRY - 1, #event_lines)
    redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'ts', NOW, 'e', table.concat(event_lines, '\n', i, last))
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
  end
  if is_terminal(from) then zset_later(K.ended(from), id, false) end
  emit(id, from, to, attempt, reason)
  return to
end

-- Ends a task (DONE, FAILED, CANCELLED): the terminal index is scored by the time the record
-- expires, so the maintenance pass (promote.lua) can delete it then (retention).
local function finish(id, from, event, attempt, reason, ttl, fields)
  fields = fields or {}
  fields[#fields + 1] = 'finished'
  fields[#fields + 1] = NOW
  local to = set_state(id, from, event, attempt, reason, fields)
  zset_later(K.ended(to), id, NOW + (tonumber(ttl) or 0))
  count(string.lower(to))
  return to
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
local function record_attempt(id, attempt, worker, started, outcome, reason, message)
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
  local n = redis.call('RPUSH', key, (tonumber(attempt) or 0) .. '\t' .. (worker or '') .. '\t' .. (tonumber(started) or 0)
    .. '\t' .. NOW .. '\t' .. outcome .. '\t' .. string.gsub(reason or '', '%s', '_') .. '\t' .. err)
  if n > ATTEMPTS_KEPT_AFTER_FIRST + 1 then
    redis.call('LSET', key, 1, '')
    redis.call('LREM', key, 1, '')
  end
end

-- Queue `id` on one of its queue's lanes (deferred: one LPUSH per list per script call).
-- `lane` is K.ready (new work, FIFO), K.recovered (taken back from a worker that died or
-- stopped: claimed first) or K.quarantine (a crash suspect: run alone by an idle worker).
local function push_later(id, queue, lane)
  local key = (lane or K.ready)(queue)
  local list = pushes[key]
  if not list then
    list = {}
    pushes[key] = list
    push_lists[#push_lists + 1] = { key, queue }
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

-- Make a PENDING task with no unresolved prerequisites dispatchable (now, or at run_after).
local function dispatch(id, queue, run_after)
  zset_later(K.waiting, id, false)
  if run_after and run_after > NOW then
    zset_later(K.delayed, id, run_after)
  else
    push_later(id, queue)
  end
end

-- One prerequisite of `id` resolved in a way its edge accepts: count it off, dispatch at zero.
local function release(id)
  local key = K.task(id)
  local left = redis.call('HINCRBY', key, 'deps_left', -1)
  if left <= 0 then
    local f = redis.call('HMGET', key, 'state', 'spec', 'run_after')
    local spec = spec_of(f[2])
    if f[1] == 'PENDING' and spec then dispatch(id, spec.queue, tonumber(f[3]) or 0) end
  end
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

-- Bounded cascades -------------------------------------------------------------------------
--[[ Settling the dependents of an ended task is the one piece of work whose size no caller
  chooses (a chain of 20,000, a fan-out of 30,000), so every script call settles at most
  SETTLE_BUDGET dependents; what is left waits on the `settle` list, continued by the next
  calls (settle.lua: the client that caused it, at once, and the maintenance pass as a backstop).
  Entries are '+id' (it ended DONE) or '-id' (FAILED/CANCELLED); LPUSH/LPOP, so the cascade stays
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

-- One edge `id` -> `dependent`: release, or cancel the dependent. True when it was cancelled
-- (its own dependents need settling then).
local function settle_edge(id, ok, dependent, policy)
  settle_left = settle_left - 1
  if ok or policy == POLICY.always then
    release(dependent)
    return false
  end
  local f = redis.call('HMGET', K.task(dependent), 'state', 'attempts', 'spec')
  if f[1] ~= 'PENDING' then return false end
  local spec = spec_of(f[3]) or {}
  finish(dependent, 'PENDING', 'dependency_failed', f[2], 'dependency_failed', spec.ttl,
    { 'reason', 'dependency_failed', 'error', 'prerequisite ' .. id .. ' did not succeed', 'cause', id })
  if workflow_cancelling(spec.wf) then redis.call('HINCRBY', K.workflow_cancel(spec.wf), 'cancelled', 1) end
  return true
end

-- Settles the dependents of `id` while the budget lasts, pushing the ones it cancels on the
-- stack. `deferred`: its unsettled dependents are in t:<id>:settle already. True when done.
local function settle_node(id, ok, deferred, stack_id, stack_ok, stack_deferred)
  local function push(dependent)
    local n = #stack_id + 1
    stack_id[n], stack_ok[n], stack_deferred[n] = dependent, false, false
  end
  if not deferred then
    local n = redis.call('HLEN', K.next(id))
    if n == 0 then return true end
    if n <= settle_left then
      local edges = redis.call('HGETALL', K.next(id))
      for i = 1, #edges, 2 do
        if settle_edge(id, ok, edges[i], edges[i + 1]) then push(edges[i]) end
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
      if settle_edge(id, ok, edges[i], edges[i + 1]) then push(edges[i]) end
    end
    redis.call('HDEL', aside, unpack(names))
    if record then redis.call('HSET', K.next(id), unpack(edges)) end
  end
  return redis.call('EXISTS', aside) == 0
end

-- Queues `id` on the settle list, its unsettled dependents moved aside first.
local function defer_settle(id, ok, deferred)
  if not deferred then
    if redis.call('EXISTS', K.next(id)) == 0 then return end
    redis.call('RENAME', K.next(id), K.settle_edges(id))
  end
  redis.call('LPUSH', K.settle, (ok and '+' or '-') .. id)
  settle_spilled = true
  backlog_empty = false
end

-- Depth-first from one task, within the budget; the rest goes to the settle list.
local function settle_from(root, ok, deferred)
  local stack_id, stack_ok, stack_deferred = { root }, { ok }, { deferred }
  while #stack_id > 0 do
    local n = #stack_id
    local id, good, aside = stack_id[n], stack_ok[n], stack_deferred[n]
    stack_id[n], stack_ok[n], stack_deferred[n] = nil, nil, nil
    if settle_left <= 0 then
      defer_settle(id, good, aside)
    elseif not settle_node(id, good, aside, stack_id, stack_ok, stack_deferred) then
      -- the budget ran out inside it: it goes first, so its cancelled dependents stay on top
      local m = #stack_id
      redis.call('LPUSH', K.settle, (good and '+' or '-') .. id)
      settle_spilled = true
      backlog_empty = false
      for i = 1, m do defer_settle(stack_id[i], stack_ok[i], stack_deferred[i]) end
      return
    end
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
    settle_from(string.sub(entry, 2), string.sub(entry, 1, 1) == '+', true)
  end
  backlog_empty = redis.call('EXISTS', K.settle) == 0
  return backlog_empty
end

-- Whether this call leaves cascade work on the settle list that it made or saw: complete.lua and
-- fail.lua tell their worker, which continues it at once (settle.lua) instead of leaving it to
-- the next script or maintenance pass.
local function settle_work_left()
  return settle_spilled or (backlog_seen and not backlog_empty)
end

-- After `root` reached a terminal state: release dependents whose edge accepts the outcome and
-- cancel, transitively, those whose `success` edge cannot be satisfied any more. At most
-- SETTLE_BUDGET dependents per script call (plus SETTLE_PER_ROOT per task it ended); the rest
-- is continued from the settle list, first by whatever budget this call has left (so that
-- workers completing and failing tasks carry cascades forward too: one LPOP per call when there
-- is nothing to do).
local function settle_dependents(root, succeeded)
  settle_left = settle_left + SETTLE_PER_ROOT
  settle_from(root, succeeded, false)
  if settle_left > 0 and not backlog_empty then settle_backlog() end
end

-- Corrupt records -------------------------------------------------------------------------

local KNOWN_STATES = { PENDING = true, RUNNING = true, DONE = true, FAILED = true, CANCELLED = true }

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
  settle_dependents(id, false)
end
