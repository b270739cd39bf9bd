--[[ doctor: checks, and with mode 'repair' fixes, one kind of inconsistency for a batch of items
  (`jobq doctor`). The Swift side finds candidates with plain reads; every item is checked again
  here, atomically, so a transition that happened since the scan is never clobbered (the item
  then answers 'ok'). Mode 'check' writes nothing and answers what 'repair' would do.
  ARGV[2] mode: 'check' | 'repair'
  ARGV[3] action, then its items:
    'corrupt' id*        a record that cannot be run (unknown or missing state; a PENDING or
                         RUNNING record whose spec, payload or attempt budget is missing or
                         garbled) -> FAILED, reason corrupt_record, dependents settled (as claim)
    'lease' id*          a RUNNING task missing from `leases`, or without a lease -> indexed at its
                         lease deadline (now when it has none), so the reaper handles it
    'ready' (queue id)*  an id in q:<queue> with no record, or whose task is not PENDING -> LREM
    'index' (name id)*   an entry of `leases` (name 'leases'), `waiting`, `delayed` or
                         s:<STATE> (name 'DONE' | 'SKIPPED' | 'FAILED' | 'CANCELLED') whose task is gone or
                         in another state -> ZREM
    'pending' id*        a PENDING task: deps_left recomputed from its prerequisites' states
                         under the edge policies, as submit does (a prerequisite whose record is
                         gone counts as resolved: jobq deletes only ended tasks, after they
                         settled their dependents). A `success` prerequisite that ended FAILED or
                         CANCELLED cancels it (dependency_failed) and its dependents; a `failure`
                         prerequisite that ended DONE, SKIPPED or CANCELLED skips it
                         (condition_unmet), and its dependents run. A
                         prerequisite still on the settle list counts as unresolved. With nothing
                         left it is dispatched unless it already is (its ready list, `delayed`);
                         with something left it is (re)indexed in `waiting`.
    'limits' cap         the concurrency-limit counts (limit_counts) recomputed from the RUNNING
                         tasks (each entry of `leases`: its record's state and climit), in this
                         one call, so the recount is a snapshot; done only while `leases`,
                         limit_counts and limit_parked_keys each hold at most `cap` entries
                         (the Swift side passes the cap, docs/operations.md). Per key: a count
                         that disagrees ('drift': set to the recount, the field dropped when
                         nothing runs or is parked, and a key whose count went down wakes its
                         parked tasks' free slots' worth, as a completion does); a field or
                         limit_parked_keys member with nothing running or parked ('leftover':
                         dropped); parked tasks whose key is missing from limit_parked_keys
                         ('unindexed': added, free slots woken)
    'legacy' batch       the pre-2026-12-07 records (K.legacy_limits, K.legacy_limit): in repair
                         mode up to `batch` old keys per call: a key with parked tasks joins
                         limit_parked_keys (its free slots, by the recounted limit_counts, woken),
                         its old hash is deleted and it leaves the old set. Run after 'limits', so
                         the counts it wakes by are exact
  Cascades are bounded like everywhere (prelude.lua): what is left goes to the settle list,
  which the caller then continues (settle.lua).
  Returns {1, then per item what was (or would be) done, or 'ok' when nothing needs doing}
        | 'limits': {1, recounted 0|1, running tasks, fields, parked keys, legacy keys,
                     then per finding: kind, key, stored, actual, limit (0: unknown), parked, fix}
        | 'legacy': {1, keys taken, keys left, keys indexed}
        | {-9 INVALID_ARGUMENT, what} ]]

local mode, action = ARGV[2], ARGV[3]
if not DOCTOR_MODE[mode] then return { INVALID_ARGUMENT, 'mode ' .. tostring(mode) } end
local apply = mode == DOCTOR_MODE.repair
local NAME = '^[%w%._%-]+$'

-- Whether `id` was dispatched earlier in this call (by settling a prerequisite): the writes
-- are deferred, so the ready lists and `delayed` do not show it yet.
local function dispatched_here(id, queue, priority, fair)
  local delayed = zsets[K.delayed]
  if delayed and delayed[id] then return true end
  for _, pushed in ipairs(pushes[PRIORITY.list(queue, priority, fair)] or {}) do
    if pushed == id then return true end
  end
  return false
end

local function corrupt(id)
  if redis.call('EXISTS', K.task(id)) == 0 then return 'ok' end
  local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'payload', 'attempts')
  local spec = spec_of(f[2])
  if is_terminal(f[1]) or not unusable(f[1], spec, f[3]) then return 'ok' end
  if apply then fail_corrupt(id, f[1], spec, tonumber(f[4]) or 0) end
  return 'fail as corrupt_record (state ' .. tostring(f[1] or 'missing') .. ')'
end

local function lease(id)
  local f = redis.call('HMGET', K.task(id), 'state', 'lease')
  if f[1] ~= 'RUNNING' then return 'ok' end
  local deadline = tonumber(f[2]) or 0
  if deadline > 0 and redis.call('ZSCORE', K.leases, id) then return 'ok' end
  local what = 'index in leases at ' .. (deadline > 0 and deadline or 'now')
  if deadline <= 0 then
    deadline = NOW
    if apply then redis.call('HSET', K.task(id), 'lease', deadline) end
  end
  if apply then zset_later(K.leases, id, deadline) end
  return what
end

local function ready(queue, id)
  if not string.find(queue, NAME) then return 'ok' end
  local state = redis.call('HGET', K.task(id), 'state')
  if state == 'PENDING' then return 'ok' end
  if apply then
    -- from every lane of the queue (new work at each priority in use, recovered, quarantine):
    -- the id may sit in any (at most 200 priority levels)
    for _, lane in ipairs({ K.ready, K.recovered, K.quarantine }) do redis.call('LREM', lane(queue), 0, id) end
    for _, p in ipairs(redis.call('ZRANGE', K.levels(queue), 0, -1)) do redis.call('LREM', K.ready_at(queue, p), 0, id) end
    -- a task with a fair key waits on its key's list: emptied, the key leaves the ring (the claim
    -- takes the ring away once only the plain list's turn is left)
    local spec = spec_of(redis.call('HGET', K.task(id), 'spec'))
    if spec and spec.fair then
      local list = PRIORITY.list(spec.queue, spec.priority, spec.fair)
      if redis.call('LREM', list, 0, id) > 0 and redis.call('LLEN', list) == 0 then
        redis.call('LREM', K.ring(spec.queue, spec.priority), 0, spec.fair)
      end
    end
  end
  return 'remove from q:' .. queue .. ' (task ' .. (state or 'gone') .. ')'
end

local INDEXES = {
  leases = { K.leases, 'RUNNING' }, waiting = { K.waiting, 'PENDING' }, delayed = { K.delayed, 'PENDING' },
  DONE = { K.ended('DONE'), 'DONE' }, SKIPPED = { K.ended('SKIPPED'), 'SKIPPED' }, FAILED = { K.ended('FAILED'), 'FAILED' }, CANCELLED = { K.ended('CANCELLED'), 'CANCELLED' },
}

local function index(name, id)
  local entry = INDEXES[name]
  if not entry then return 'ok' end
  local state = redis.call('HGET', K.task(id), 'state')
  if state == entry[2] or not redis.call('ZSCORE', entry[1], id) then return 'ok' end
  if apply then zset_later(entry[1], id, false) end
  return 'remove from ' .. (entry[1]:sub(#P + 1)) .. ' (task ' .. (state or 'gone') .. ')'
end

local function pending(id)
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'spec', 'deps_left', 'run_after', 'attempts', 'created', 'cond', 'child', 'rerunning', 'climit', 'wait', 'wait_declared', 'rlimit')
  local spec = spec_of(f[2])
  -- `rerunning`: a rerun --outdated in progress holds it back on purpose (rerun.lua counts it)
  if f[1] ~= 'PENDING' or not spec or f[9] then return 'ok' end
  -- waiting for its child run (a sub-workflow), in no queue on purpose
  if f[8] then return 'ok' end
  -- a handler waiting for a signal or an answer (signal.lua queues it), in no queue on purpose
  local declared = f[12] and f[12] ~= ''
  if f[11] and f[11] ~= '' and not declared then return 'ok' end
  -- held back by its run's window or its concurrency key's limit, queued again when a slot frees
  local run = run_of(id)
  if run and is_parked_on(K.run_parked(run), id) then return 'ok' end
  local limit = parse_climit(f[10])
  if limit and is_parked_on(K.limit_parked(limit.key), id) then return 'ok' end
  -- held back by its rate key (over its rate, or paused), woken by the maintenance pass
  local rated = rate.parse(f[13])
  if rated and is_parked_on(K.rate_parked(rated.key), id) then return 'ok' end
  local left, doomed_by, unmet_by = 0, nil, nil
  local edges = redis.call('HGETALL', K.deps(id))
  for i = 1, #edges, 2 do
    local state = redis.call('HGET', K.task(edges[i]), 'state')
    local outcome = outcome_of(state)
    -- A prerequisite whose ending has not reached `id` yet (on the settle list) still counts:
    -- settling it counts it off. An edge that can no longer hold ends `id` now (its settling
    -- later finds it ended and does nothing).
    if outcome and not edge_accepts(edges[i + 1], outcome) then
      if edges[i + 1] == POLICY.failure then unmet_by = unmet_by or edges[i] else doomed_by = doomed_by or edges[i] end
    elseif outcome and unsettled(edges[i], id) then
      left = left + 1
    elseif state and not outcome and not SERVICE.released(edges[i]) then -- (a started service released it)
      left = left + 1
    end
  end
  if doomed_by then
    if apply then
      finish(id, 'PENDING', 'dependency_failed', tonumber(f[5]) or 0, 'dependency_failed', spec.ttl,
        { 'reason', 'dependency_failed', 'error', 'prerequisite ' .. doomed_by .. ' did not succeed', 'cause', doomed_by })
      settle_dependents(id, OUTCOME_CANCELLED)
    end
    return 'cancel: prerequisite ' .. doomed_by .. ' did not succeed'
  end
  if unmet_by then
    if apply then
      finish(id, 'PENDING', 'condition_unmet', tonumber(f[5]) or 0, 'condition_unmet', spec.ttl,
        { 'reason', 'condition_unmet', 'error', 'prerequisite ' .. unmet_by .. ' did not fail', 'cause', unmet_by })
      settle_dependents(id, OUTCOME_OK)
    end
    return 'skip: prerequisite ' .. unmet_by .. ' did not fail'
  end
  -- a declared wait whose signal has not come counts as one more (signal.lua counts it off)
  if declared and f[11] ~= '' then left = left + 1 end
  local done = {}
  if (f[3] == false and 0 or tonumber(f[3])) ~= left then -- absent means 0
    if apply then redis.call('HSET', key, 'deps_left', left) end
    done[#done + 1] = 'set deps_left ' .. tostring(f[3]) .. ' -> ' .. left
  end
  local waiting = redis.call('ZSCORE', K.waiting, id)
  if left == 0 then
    if redis.call('ZSCORE', K.delayed, id) or redis.call('LPOS', PRIORITY.list(spec.queue, spec.priority, spec.fair), id) or redis.call('LPOS', K.recovered(spec.queue), id)
      or redis.call('LPOS', K.quarantine(spec.queue), id) or dispatched_here(id, spec.queue, spec.priority, spec.fair) then
      if waiting then
        if apply then zset_later(K.waiting, id, false) end
        done[#done + 1] = 'remove from waiting'
      end
    elseif f[7] and precondition_says_skip(f[7]) then
      -- ready, and its precondition says skip: decided as release would have
      if apply and skipped_by_precondition(id, f[7], tonumber(f[5]) or 0, spec.ttl) then settle_dependents(id, OUTCOME_OK) end
      done[#done + 1] = 'skip: precondition'
    else
      if apply then dispatch(id, spec.queue, tonumber(f[4]) or 0, spec.priority, spec.fair) end
      done[#done + 1] = 'dispatch to q:' .. spec.queue
    end
  elseif not waiting then
    if apply then zset_later(K.waiting, id, tonumber(f[6]) or NOW) end
    done[#done + 1] = 'index in waiting'
  end
  if #done == 0 then return 'ok' end
  return table.concat(done, '; ')
end

-- Concurrency-limit counts: one table (the recount and the migration), apart from the per-task
-- checks above. Every read comes first; the writes go through the prelude's limit_wake, so woken
-- tasks go back to the front of their lane exactly as after a completion.
local LIMITS = {}

-- The limit a key's parked tasks carry (the oldest one's climit), when nothing else says it.
function LIMITS.parked_limit(key)
  local entry = redis.call('LINDEX', K.limit_parked(key), 0)
  if not entry then return nil end
  local id = string.match(entry, '^[rq] (.+)$') or entry
  local l = parse_climit(redis.call('HGET', K.task(id), 'climit'))
  return l and l.limit or nil
end

-- The field of limit_counts, parsed: { running, limit } (nil parts when garbled).
function LIMITS.field(raw)
  if not raw then return nil end
  local running, limit = string.match(raw, '^(%-?%d+) (%d+)$')
  return { running = tonumber(running), limit = tonumber(limit) }
end

function LIMITS.recount(cap)
  local running_tasks, fields = redis.call('ZCARD', K.leases), redis.call('HLEN', K.limit_counts)
  local indexed, legacy = redis.call('SCARD', K.limit_parked_keys), redis.call('SCARD', K.legacy_limits)
  local reply = { OK, 0, running_tasks, fields, indexed, legacy }
  if running_tasks > cap or fields > cap or indexed > cap then return reply end
  reply[2] = 1
  local keys, seen, actual, running_limit, stored, member = {}, {}, {}, {}, {}, {}
  local function note(key)
    if not seen[key] then
      seen[key] = true
      keys[#keys + 1] = key
    end
  end
  for _, id in ipairs(redis.call('ZRANGE', K.leases, 0, -1)) do
    local f = redis.call('HMGET', K.task(id), 'state', 'climit')
    local l = f[1] == 'RUNNING' and parse_climit(f[2])
    if l then
      actual[l.key] = (actual[l.key] or 0) + 1
      running_limit[l.key] = running_limit[l.key] or l.limit
      note(l.key)
    end
  end
  local all = redis.call('HGETALL', K.limit_counts)
  for i = 1, #all, 2 do
    stored[all[i]] = LIMITS.field(all[i + 1])
    note(all[i])
  end
  for _, key in ipairs(redis.call('SMEMBERS', K.limit_parked_keys)) do
    member[key] = true
    note(key)
  end
  table.sort(keys)
  -- Check: every key's finding, before any write.
  local found = {}
  for _, key in ipairs(keys) do
    local s, now = stored[key], actual[key] or 0
    local was = s and s.running or 0
    local parked = redis.call('LLEN', K.limit_parked(key))
    local limit = (s and s.limit) or running_limit[key] or (parked > 0 and LIMITS.parked_limit(key)) or nil
    local kind, fix = nil, {}
    local wake = 0
    if (s and not s.running) or was ~= now then
      kind = 'drift'
      if now == 0 and parked == 0 then fix[#fix + 1] = 'drop field'
      else fix[#fix + 1] = 'set running ' .. (s and s.running and tostring(was) or tostring(s and 'garbled' or 0)) .. ' -> ' .. now end
      if parked > 0 and now < was and limit and limit > now then wake = limit - now end
    end
    if parked > 0 and not member[key] then
      kind = kind or 'unindexed'
      fix[#fix + 1] = 'add to limit_parked_keys'
      if limit and limit > now then wake = limit - now end
    end
    if not kind and now == 0 and parked == 0 then
      kind = 'leftover'
      if s then fix[#fix + 1] = 'drop field' end
    end
    if parked == 0 and member[key] then
      kind = kind or 'leftover'
      fix[#fix + 1] = 'remove from limit_parked_keys'
    end
    if wake > 0 then fix[#fix + 1] = 'wake up to ' .. wake .. ' parked' end
    if kind then
      found[#found + 1] = { kind = kind, key = key, was = was, now = now, limit = limit, parked = parked, wake = wake, s = s, member = member[key] }
      for _, v in ipairs({ kind, key, was, now, limit or 0, parked, table.concat(fix, '; ') }) do reply[#reply + 1] = v end
    end
  end
  if not apply then return reply end
  -- Repair: the writes, key by key (a key's wake-up first: it tells whether tasks stay parked).
  local sets, gone = {}, {}
  for _, f in ipairs(found) do
    local waiting = f.parked > 0
    if f.wake > 0 then waiting = limit_wake(f.key, f.wake) end
    if waiting and not f.member then redis.call('SADD', K.limit_parked_keys, f.key) end
    if not waiting and f.member and f.wake == 0 then redis.call('SREM', K.limit_parked_keys, f.key) end
    if f.now > 0 or (waiting and f.limit) then
      if f.kind == 'drift' or not f.s then
        sets[#sets + 1] = f.key
        sets[#sets + 1] = f.now .. ' ' .. (f.limit or 0)
      end
    elseif f.s then
      gone[#gone + 1] = f.key
    end
  end
  if #sets > 0 then variadic('HSET', K.limit_counts, sets) end
  if #gone > 0 then variadic('HDEL', K.limit_counts, gone) end
  return reply
end

function LIMITS.legacy(batch)
  local left = redis.call('SCARD', K.legacy_limits)
  if not apply or left == 0 then return { OK, 0, left, 0 } end
  -- SPOP takes a bounded part of the set with the commands the documented ACL grants (no
  -- SSCAN, SRANDMEMBER or TYPE); it is the call's first write, so every command after it that
  -- could fail on a key of the wrong type is tried first (SISMEMBER raises WRONGTYPE now, with
  -- nothing written) or guarded (the old hash, read with pcall).
  redis.call('SISMEMBER', K.limit_parked_keys, '')
  local keys = redis.call('SPOP', K.legacy_limits, batch)
  local counts = #keys > 0 and redis.call('HMGET', K.limit_counts, unpack(keys)) or {}
  local indexed, sets = 0, {}
  for i, key in ipairs(keys) do
    local old = K.legacy_limit(key)
    if redis.call('EXISTS', K.limit_parked(key)) == 1 then
      local current = LIMITS.field(counts[i] or nil)
      local limit = current and current.limit
      if not limit then
        local recorded = redis.pcall('HGET', old, 'limit')
        limit = type(recorded) == 'string' and tonumber(recorded) or nil
      end
      limit = limit or LIMITS.parked_limit(key)
      local running = current and current.running or 0
      redis.call('SADD', K.limit_parked_keys, key)
      indexed = indexed + 1
      local waiting = true
      if limit and limit > running then waiting = limit_wake(key, limit - running) end
      -- a key with parked tasks keeps its field (as apply_limits leaves it), so `jobq limits` lists it
      if not current and (waiting or running > 0) and limit then
        sets[#sets + 1] = key
        sets[#sets + 1] = running .. ' ' .. limit
      end
    end
    redis.call('DEL', old)
  end
  if #sets > 0 then variadic('HSET', K.limit_counts, sets) end
  return { OK, #keys, redis.call('SCARD', K.legacy_limits), indexed }
end

local reply = { OK }
if action == 'limits' or action == 'legacy' then
  local n = tonumber(ARGV[4])
  if not n or n < 1 or n ~= math.floor(n) then return { INVALID_ARGUMENT, action .. ' bound ' .. tostring(ARGV[4]) } end
  reply = action == 'limits' and LIMITS.recount(n) or LIMITS.legacy(n)
  flush()
  return reply
elseif action == 'corrupt' or action == 'lease' or action == 'pending' then
  local handler = action == 'corrupt' and corrupt or action == 'lease' and lease or pending
  for i = 4, #ARGV do reply[#reply + 1] = handler(ARGV[i]) end
elseif action == 'ready' or action == 'index' then
  local handler = action == 'ready' and ready or index
  for i = 4, #ARGV - 1, 2 do reply[#reply + 1] = handler(ARGV[i], ARGV[i + 1]) end
else
  return { INVALID_ARGUMENT, 'action ' .. tostring(action) }
end
flush()
return reply
