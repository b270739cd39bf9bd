--[[ claim: take up to `count` dispatchable tasks from the given queues (in order), each moved
  PENDING -> RUNNING under a lease with a fresh fencing token.
  ARGV[2] worker id   ARGV[3] lease (ms)   ARGV[4] count   ARGV[5] '1' if the worker runs nothing now
  ARGV[6..] queue names
  Each queue's lanes are taken in one order, the rule every claim keeps: quarantine (crash
  suspects, one at a time, only by an idle worker, which then runs it alone: reply mode ALONE),
  recovered (taken back from dead or stopping workers), then ready (new work: by priority,
  highest first, the lanes of K.levels(queue) above 0, then the default lane K.ready, then those
  below 0; FIFO within one priority; prelude PRIORITY). A level found empty is dropped from
  K.levels (whatever pushes to it again adds it back). A busy worker
  that finds a quarantined suspect waiting may be picked (one worker at a time, K.drainer) to stop
  claiming until it is idle (mode DRAIN), so a suspect waits at most about one task's run even
  under a backlog.
  A task of a run whose window is full is parked (prelude window_allows / park), not claimed,
  and the claim goes on with what is queued behind it; so is a task whose concurrency key is at
  its limit (prelude limit_allows, parked on limit:<key>:parked, the key in limit_parked_keys).
  Either way it is woken, back to the front of the lane it came from, by the script that frees
  a slot.
  A task whose expiry (`expires_at`) has passed is not claimed: it ends CANCELLED with reason
  `expired` (prelude expire), its dependents settled as after a cancel. A claimed task loses its
  expiry (it started: a retry after a failure still runs).
  Lists may hold ids that are no longer dispatchable (cancelled while queued): they are dropped
  here instead of being searched for at cancel time (O(1) cancel). A record that cannot be run
  (unknown state, missing fields) is failed with reason corrupt_record, never run. Paused queues
  are skipped.
  A task whose rate key (`rlimit`, prelude rate) is over its rate or paused is parked on
  rate:<key>:parked and its key due in `rates`; the reply's `rate wake` is the earliest such due
  time (ms, 0 for none), so the worker's maintenance loop can wake them then (promote.lua).
  Returns {1, n, mode (CLAIM_*, Swift ClaimMode), rate wake, then per task: id, handler, queue, payload,
           attempt, max_attempts, token, timeout_ms, lease_deadline, workflow, backoff (JSON),
           title, worker deaths, checkpoint (the last one a handler saved, JSON; '' for none),
           signals (the kept signals as one JSON object name -> payload; '' for none),
           trace (the producer's trace context, submit.lua; '' for none), ndeps, then ndeps triples (id, state, result)} ]]

-- The body is a function of its own: the prelude's locals are upvalues here, so this script has
-- Lua's full budget of 200 active locals for itself (docs/scripts.md, "Locals").
local function claim()
  local worker, lease_ms, count_wanted = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
  local idle = ARGV[5] == '1'
  if not lease_ms or lease_ms <= 0 or not count_wanted or count_wanted < 1 then
    return { INVALID_ARGUMENT, 'lease/count' }
  end

  -- The kept signals (`signals`: names; `sig:<name>`: JSON payloads) as one JSON object, '' for
  -- none: one HMGET more, only for a task that keeps signals.
  local function kept_signals(id, names)
    if not names or names == '' then return '' end
    local list = {}
    for name in string.gmatch(names, '%S+') do list[#list + 1] = name end
    local fields = {}
    for i, name in ipairs(list) do fields[i] = 'sig:' .. name end
    local values = redis.call('HMGET', K.task(id), unpack(fields))
    local parts = {}
    for i, name in ipairs(list) do
      if values[i] then parts[#parts + 1] = cjson.encode(name) .. ':' .. values[i] end
    end
    return '{' .. table.concat(parts, ',') .. '}'
  end

  local budget = count_wanted * 4 + 32 -- bound the ids popped per call (stale ones included)
  -- Parking costs a write per task: at most PARKS_PER_CLAIM per call (a backlog of one key over
  -- its limit or rate is parked over several calls, each well under 10 ms); a call that stops
  -- there pushes a wake-up token for the queue, so a claim goes on at once (progress, not polling).
  -- One table, not three top-level locals (the prelude and this script share Lua's 200-local
  -- limit): `left` parks this call may still make, `out` queue -> true when this call stopped
  -- parking with the queue's lists not done, `wake` the earliest time (ms) a rate key this call
  -- parked on may start again (0 for none).
  -- `turns`: the fair turns (prelude PRIORITY.turns, each a few calls) this call may still take;
  -- a call that uses them up stops there like one that used up its parks.
  local parking = { left = PARKS_PER_CLAIM, out = {}, wake = 0, turns = PRIORITY.TURNS_PER_CLAIM }
  -- The chosen tasks, as parallel arrays (no Lua table per task beyond the HMGET reply, which also
  -- carries the spec's fields, parsed once, at f[8..16], the expiry at f[17], the checkpoint at f[18],
  -- the concurrency limit `climit` at f[19], the kept signals' names at f[20], the wait at f[21],
  -- the unique key `unique` at f[22], the trace context at f[23], the rate limit `rlimit` at f[24]).
  local chosen_id, chosen_queue, chosen_f = {}, {}, {}
  local chosen = 0
  local picked = {} -- ids chosen by this call
  local mode = CLAIM_NORMAL

  -- Pops up to `wanted` ids from `list` (a lane of `queue`: `lane` '' ready, 'r' recovered, 'q'
  -- quarantine, which a parked task goes back to) and keeps the dispatchable ones. `fair`: the
  -- priority of a fair lane, whose ring gives the ids in turns instead (prelude PRIORITY.turns).
  local function take(list, queue, wanted, lane, fair)
    local goal = chosen + wanted
    while chosen < goal and budget > 0 do
      local want = math.min(goal - chosen, budget, parking.left)
      local popped, idle
      if fair then
        want = math.min(want, parking.turns)
        popped, idle = PRIORITY.turns(queue, fair, want)
        parking.turns = parking.turns - idle - (popped and #popped or 0)
        budget = budget - idle -- (a turn that found nothing counts as a pop)
      else
        popped = redis.call('RPOP', list, want)
      end
      if not popped then return true end
      budget = budget - #popped
      -- every popped record is read first, so the concurrency counts of all their keys come
      -- from one HMGET (prelude limit_load) instead of one read per key (a record changed by
      -- another task's expiry below is one that could not be claimed either way)
      local records, keys = {}, {}
      for i, id in ipairs(popped) do
        local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'payload', 'attempts', 'deps_left', 'run_after', 'deaths', 'expires_at', 'checkpoint', 'climit', 'signals', 'wait', 'unique', 'trace', 'rlimit', 'child')
        records[i] = f
        local l = f[10] and f[1] == 'PENDING' and limit_record(id, f[10])
        if l then keys[#keys + 1] = l.key end
      end
      if #keys > 0 then limit_load(keys) end
      for i, id in ipairs(popped) do
        local f = records[i]
        -- waiting for a child run (a sub-workflow, a map, spawned children): only the run's end queues it
        local waits_for_run = f[16] and f[16] ~= ''
        local state = f[1]
        f[17], f[18], f[19], f[20], f[21], f[22], f[23], f[24], f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15] = f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15], nil, nil, nil, nil, nil, nil, nil, nil
        UNIQUE.record(id, f[22] or '') -- (read here: set_state needs no HGET for it)
        if state then
          local spec = f[2] and MEMO.spec_fields(f[2]) -- (kept across calls: most tasks share a spec)
          if spec then
            f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15], f[16] = spec[1], spec[2], spec[3], spec[4], spec[5], spec[6], spec[7], spec[8], spec[9]
          end
          if not KNOWN_STATES[state] or not f[8] or not f[3] or not tonumber(f[10]) then
            fail_corrupt(id, state, spec_of(f[2]), tonumber(f[4]) or 0) -- what unusable() says, inlined
          elseif state == 'PENDING' and (tonumber(f[5]) or 0) <= 0 and (tonumber(f[6]) or 0) <= NOW
            and may(state, 'claim') and not picked[id] and not workflow_cancelling(f[13]) and (f[21] or '') == '' and not waits_for_run then
            local run = f[13] ~= '' and run_of(id)
            local limit = limit_record(id, f[19] or '') -- (read here: set_state needs no HGET for it)
            local rated = f[24] and rate.record(id, f[24])
            local rate_ok, rate_wake = true, nil
            if rated and not expiry_due(f[17]) and not (limit and not limit_allows(limit, false)) then
              rate_ok, rate_wake = rate.allows(rated, false)
            end
            if expiry_due(f[17]) then
              expire(id, tonumber(f[4]), spec_of(f[2])) -- not started by its expiry: never runs
              limit_hand_on(limit)
            elseif limit and not limit_allows(limit, false) then
              -- its key is at its limit: woken when a slot frees (limit_parked_keys says it has parked tasks)
              park_on(K.limit_parked(limit.key), id, lane)
              redis.call('SADD', K.limit_parked_keys, limit.key)
            elseif not rate_ok then
              -- its rate key is over its rate (or paused): woken by the maintenance pass when a start frees
              rate.park(rated, id, lane, rate_wake)
              if parking.wake == 0 or rate_wake < parking.wake then parking.wake = rate_wake end
            elseif run and not window_allows(run) then
              park(run, id, lane) -- its run's window is full: out of the way, queued again when a slot frees
            else
              if limit then limit_allows(limit, true) end
              if rated then rate.allows(rated, true) end
              chosen = chosen + 1
              chosen_id[chosen], chosen_queue[chosen], chosen_f[chosen] = id, queue, f
            end
            picked[id] = true
            if chosen_id[chosen] ~= id then parking.left = parking.left - 1 end -- (parked or expired)
          end
        end
        -- a keyed task cancelled or expired while queued (or whose run is being cancelled) hands
        -- its key's free slots on
        if f[19] and (is_terminal(state) or (state == 'PENDING' and workflow_cancelling(f[13]))) then
          limit_hand_on(limit_record(id, f[19]))
        end
        -- anything else is a stale id, dropped: no record, not PENDING, a second copy of an id
        -- this call already took (cancel then retry leaves the stale id beside the new one: without
        -- `picked`, one call could claim the task twice), or a duplicate left in the list by an
        -- earlier cancel of a task now waiting for its retry or delay (promote queues it when
        -- due), a duplicate of a task whose handler now waits for a signal (`wait` set: only the
        -- signal queues it again) or for a child run (`child` set: only the run's end does), or
        -- a task of a workflow being cancelled (it ends CANCELLED)
      end
      if #popped < want then return true end
      if parking.left <= 0 or parking.turns <= 0 then
        parking.out[queue] = true
        budget = 0
        return
      end
    end
  end

  -- The ready lanes of `queue`, highest priority first: one ZREVRANGE of its levels in use (empty
  -- for a queue that never used priorities: then only the default lane, as before them). A
  -- level 'fP' is the fair ring of priority P (prelude PRIORITY.turns): it sorts before the
  -- plain 'P' of the same score and takes that lane's plain list in turns with the keys, so the
  -- plain list is reached directly only once the ring is gone. Answers whether the claim is
  -- still short.
  local function take_ready(queue)
    local levels = redis.call('ZREVRANGE', K.levels(queue), 0, -1)
    local default_done = false
    for _, level in ipairs(levels) do
      local ring = string.byte(level, 1) == 102 -- 'f'
      local p = tonumber(ring and string.sub(level, 2) or level)
      if p < 0 and not default_done then
        default_done = true
        if chosen >= count_wanted or budget <= 0 then return end
        take(K.ready(queue), queue, count_wanted - chosen, '')
      end
      if chosen >= count_wanted or budget <= 0 then return end
      if ring then
        take(nil, queue, count_wanted - chosen, '', p) -- (the ring removes itself when it empties)
      elseif take(K.ready_at(queue, level), queue, count_wanted - chosen, '') then
        redis.call('ZREM', K.levels(queue), level) -- ran dry: pushes add it back
      end
    end
    if not default_done and chosen < count_wanted and budget > 0 then
      take(K.ready(queue), queue, count_wanted - chosen, '')
    end
  end

  -- Phase 1: pop and check, lane by lane.
  local open_queues = {}
  for q = 6, #ARGV do
    local queue = ARGV[q]
    if redis.call('SISMEMBER', K.paused, queue) == 0 then open_queues[#open_queues + 1] = queue end
  end
  if idle then
    for _, queue in ipairs(open_queues) do
      take(K.quarantine(queue), queue, 1, 'q')
      if chosen > 0 then
        mode = CLAIM_ALONE
        break
      end
    end
    if drainer_pick() == worker then redis.call('DEL', K.drainer) end
  elseif #open_queues > 0 then
    local quarantines = {}
    for i, queue in ipairs(open_queues) do quarantines[i] = K.quarantine(queue) end
    if redis.call('EXISTS', unpack(quarantines)) > 0 then
      local drainer = drainer_pick()
      if not drainer or drainer == worker then
        set_drainer_pick(worker, lease_ms)
        return { OK, 0, CLAIM_DRAIN, 0 }
      end
    end
  end
  if mode == CLAIM_NORMAL then
    for _, queue in ipairs(open_queues) do
      if chosen >= count_wanted or budget <= 0 then break end
      take(K.recovered(queue), queue, count_wanted - chosen, 'r')
      if chosen < count_wanted and budget > 0 then take_ready(queue) end
    end
  end

  for queue in pairs(parking.out) do
    redis.call('LPUSH', K.wake(queue), '1')
    redis.call('LTRIM', K.wake(queue), 0, WAKE_TOKENS_MAX - 1)
  end

  -- Phase 2: one INCRBY for all tokens, then one HSET and one event per task; the reply is built
  -- in place.
  local reply = { OK, chosen, mode, parking.wake }
  if chosen > 0 then
    local last_token = redis.call('INCRBY', K.token, chosen)
    local deadline = NOW + lease_ms
    -- the call's constants as text once (a number handed to redis.call is formatted per use)
    local deadline_s = tostring(deadline)
    local r = 4
    for i = 1, chosen do
      local id, f = chosen_id[i], chosen_f[i]
      local attempt = (tonumber(f[4]) or 0) + 1
      local attempt_s = tostring(attempt) -- (once: the record and the event line)
      local token = last_token - chosen + i
      local fields = { 'attempts', attempt_s, 'token', token, 'lease', deadline_s, 'worker', worker, 'started', NOW_S }
      if mode == CLAIM_ALONE then fields[#fields + 1], fields[#fields + 2] = 'alone', token end
      set_state(id, 'PENDING', 'claim', attempt_s, '', fields)
      if f[24] then rate.start(rate.record(id), token) end
      if f[17] then
        -- it started before its expiry: it never expires now
        redis.call('HDEL', K.task(id), 'expires_at')
        zset_later(K.expiring, id, false)
      end
      zset_later(K.leases, id, deadline_s)
      -- spec fields: f[9] handler, f[10] max_attempts, f[11] timeout_ms, f[13] wf, f[14] deps_total,
      -- f[15] backoff, f[16] title; f[7] worker deaths
      reply[r + 1], reply[r + 2], reply[r + 3], reply[r + 4], reply[r + 5], reply[r + 6] =
        id, f[9], chosen_queue[i], f[3], attempt, tonumber(f[10])
      reply[r + 7], reply[r + 8], reply[r + 9], reply[r + 10], reply[r + 11], reply[r + 12] =
        token, tonumber(f[11]) or 0, deadline, f[13], f[15], f[16]
      reply[r + 13], reply[r + 14], reply[r + 15], reply[r + 16] = tonumber(f[7]) or 0, f[18] or '', kept_signals(id, f[20]), f[23] or ''
      r = r + 16
      if (tonumber(f[14]) or 0) > 0 then
        local edges = redis.call('HKEYS', K.deps(id))
        r = r + 1
        reply[r] = #edges
        for _, dep in ipairs(edges) do
          local d = redis.call('HMGET', K.task(dep), 'state', 'result')
          reply[r + 1], reply[r + 2], reply[r + 3] = dep, d[1] or '', d[2] or ''
          r = r + 3
        end
      else
        r = r + 1
        reply[r] = 0
      end
    end
    count('claimed', chosen)
  end
  flush()
  return reply
end

return claim()
