--[[ submit: create one task, a whole run, or tasks labelled with a workflow, atomically (all or nothing).
  ARGV[2] idempotency key ('' for none)      ARGV[3] fingerprint of the whole submission
  ARGV[4] run or workflow id ('' for none)   ARGV[5] how long the idempotency key is kept (ms)
  ARGV[6] the run's definition name: not '' makes ARGV[4] a new run (it must not exist, and every
          task id is 'run/key'); '' with a workflow id only labels the tasks (standalone tasks).
  ARGV[7] m, the number of run option pairs; then m pairs (field, value) stored in the run record
          (RUN_OPTIONS lists the fields a run may carry). `spawned_by` ('PARENT TOKEN POLICY WIDTH', a
          spawn: HandlerContext.spawn) is not stored: it fences the submission by the parent's
          lease, checked before anything else ({-3 STALE_TOKEN, parent} | {-2 WRONG_STATE,
          parent, state} | {-1 NOT_FOUND, parent}; WRONG_STATE with 'SPAWNED' when another
          spawned run of the parent is open), links the run and its parent (prelude SPAWN), and
          turns RUN_EXISTS for this parent's run into an attach ({1, 0, run}, no tasks; a run of
          another width, WIDTH being the whole spawn's task count: IDEMPOTENCY_CONFLICT). The pair (`building`, SUBMIT_CHUNK) makes
          this call one of several that submit one run (Swift TaskStore.submitInChunks, Limits.tasksPerSubmitCall):
          `first` creates the run (ARGV[6] its definition) with the open mark `building` (the
          run cannot end: prelude finish_run) and lists it in K.building; `more` (the only pair)
          appends its tasks, ids 'run/key', to the open run (else {-2 WRONG_STATE, 'closed'}),
          their prerequisites in earlier chunks or this one, and refreshes its K.building time;
          `last` appends (n may be 0) and seals it: the mark goes and the run may end now. A run
          cancelled or stopped while open gets its later tasks CANCELLED at once (its reason).
          Idempotency is recorded by the last, without ids.
  then n, the number of tasks; then per task 21 fields (the last, ndeps, counts its edges) and its edges:
    id, handler, queue, payload, max_attempts, timeout_ms, backoff (JSON), delay_ms, ttl_ms,
    title, cond (the compiled precondition, JSON, '' for none: checked here, prelude.lua
    check_precondition), cache key template ('' for none: prelude.lua check_cache_key),
    expires ('' for none; '+ms' after now, on Redis time; or an absolute time in ms: it must be in
    the future, else the whole submission is refused with DEADLINE_PASSED), max_snoozes ('' for
    DEFAULT_MAX_SNOOZES: the record field is stored only when it differs), climit ('' for none, or
    'N KEY': the concurrency limit and the key, expanded by Swift ConcurrencyLimit; record field
    `climit`, prelude.lua count_limit), wait_for ('' or 'name/timeout_ms/action', action
    WAIT_ON_TIMEOUT: the signal counts as one more unresolved prerequisite in deps_left; fields
    `wait`, `wait_until`, `wait_declared` (the action); an entry in K.signal_timeouts when it has a
    timeout), unique ('' for none, or 'MODE MS KEY', the key expanded by Swift Uniqueness; MODE
    UNIQUE_MODE: `started` / `finished` (MS 0, or the `for D` bound) hold unique:<KEY>, `debounce`
    (MS the quiet time, equal to delay_ms; one standalone task without prerequisites or wait)
    debounce:<KEY>, `throttle` (MS the interval) throttle:<KEY>; record field `unique`, prelude.lua
    UNIQUE),
    priority ('' for the default 0; else an integer from PRIORITY_MIN to PRIORITY_MAX,
    higher first: kept in the spec's first field as 'queue P', prelude PRIORITY; or 'P KEY' with
    the task's fair key, a name expanded by Swift FairKey: kept as 'queue P KEY', the task then
    waits on its key's list and claims take keys in turns, prelude PRIORITY.turns), trace ('' for none, or the producer's trace context: a JSON object of at most
    TRACE_MAX_BYTES, Swift TraceCarrier; record field `trace`, stored only when not '', handed to
    the worker by claim.lua),
    rlimit ('' for none, or 'N INTERVAL_MS KEY': the rate limit and the key, expanded by
    Swift RateLimit; record field `rlimit`, prelude.lua rate), ndeps,
    then ndeps pairs (prerequisite id, policy 'success' | 'always' | 'failure')
  A task with an expiry gets `expires_at` and, while it is PENDING, an entry in K.expiring.
  Checks everything before writing: duplicate ids, unknown prerequisites, cycles in the batch.
  A task whose existing prerequisite already FAILED/CANCELLED under `success` is created CANCELLED
  (reason dependency_failed), and so are its dependents in the batch: never left PENDING. One whose
  `failure` edge can no longer hold (the prerequisite ended DONE, SKIPPED or CANCELLED) is created
  SKIPPED (reason condition_unmet; a dependency_failed edge wins over it); its dependents in the
  batch see a SKIPPED prerequisite, as after success.
  A unique key that is held (prelude.lua UNIQUE.holder): a one-task submission gets the holder
  back (outcome deduplicated or throttled; nothing written but an event line), a debounce whose
  holder still waits out its delay replaces the holder's payload and pushes its start back to
  now + MS (outcome debounced); a submission of several tasks, or a run, is refused whole with
  UNIQUE_HELD. A debounce whose holder is past its delay (queued, started) creates a new task and
  takes the lock over.
  Returns {1, outcome (SUBMITTED: 1 created, 0 an idempotent replay, 2 deduplicated, 3 debounced,
          4 throttled), run ('' for none), id, state, id, state, ...}
        | {-5 DUPLICATE_ID, id} | {-4 UNKNOWN_DEPENDENCY, task, prerequisite} | {-6 CYCLE, id...}
        | {-7 IDEMPOTENCY_CONFLICT, key} | {-10 RUN_EXISTS, run} | {-9 INVALID_ARGUMENT, what}
        | {-11 DEADLINE_PASSED, value, 'expires', id} (a task's expiry not after now)
        | {-9 INVALID_ARGUMENT, 'service edge', id, prerequisite} (an edge other than `always` to a
          service task: prelude SERVICE)
        | {-13 UNIQUE_HELD, key, holder, state} ]]

-- The body is a function of its own: the prelude's locals are upvalues here, so this script has
-- Lua's full budget of 200 active locals for itself (docs/scripts.md, "Locals").
local function submit()
  local idem_key, fingerprint, workflow = ARGV[2], ARGV[3], ARGV[4]
  local idem_ttl = tonumber(ARGV[5]) or 0
  local definition = ARGV[6]
  local new_run = definition ~= ''
  local m = tonumber(ARGV[7])
  if not m or m < 0 then return { INVALID_ARGUMENT, 'run option count' } end
  local run_options = {}
  local spawn -- a spawn's fence and link (prelude SPAWN), from the run option `spawned_by`
  local chunk -- SUBMIT_CHUNK: this call is one of several that submit one run
  for o = 8, 7 + 2 * m, 2 do
    local field, value = ARGV[o], ARGV[o + 1]
    if field == RUN_OPTIONS.building then
      chunk, value = SUBMIT_CHUNK[value] or '?', NOW -- (stored by the first: the open mark)
    end
    if not RUN_OPTIONS[field] or not value then return { INVALID_ARGUMENT, 'run option ' .. tostring(field) } end
    if field == RUN_OPTIONS.spawned_by then
      -- checked first, before anything is written; never stored as given
      local refused
      refused, spawn = SPAWN.check(value, workflow)
      if refused then return refused end
      field = nil
    end
    if field == RUN_OPTIONS.window and not ((tonumber(value) or 0) >= 1) then return { INVALID_ARGUMENT, 'window' } end
    if field == RUN_OPTIONS.deadline_in then
      -- relative deadlines are fixed on Redis time, as every other deadline
      field, value = RUN_OPTIONS.deadline, NOW + (tonumber(value) or -NOW)
    end
    if field == RUN_OPTIONS.deadline and not ((tonumber(value) or 0) > NOW) then return { DEADLINE_PASSED, tostring(value) } end
    if field then
      run_options[#run_options + 1] = field
      run_options[#run_options + 1] = value
    end
    if field == RUN_OPTIONS.deadline then run_options.deadline = tonumber(value) end
    if field == RUN_OPTIONS.services then run_options.services = value end
  end
  -- A later chunk appends to the run the first created (only the chunk pair, no other option).
  local appending = chunk == SUBMIT_CHUNK.more or chunk == SUBMIT_CHUNK.last
  if chunk == '?' or (chunk and definition == '') or (appending and m > 1) then return { INVALID_ARGUMENT, 'chunk' } end
  if appending then new_run = false end
  local in_run = new_run or appending
  local n = tonumber(ARGV[8 + 2 * m])
  if not n or n < (chunk == SUBMIT_CHUNK.last and 0 or 1) then return { INVALID_ARGUMENT, 'task count' } end
  if in_run and workflow == '' then return { INVALID_ARGUMENT, 'run id' } end
  if not in_run and m > 0 then return { INVALID_ARGUMENT, 'run options without a run' } end

  -- Idempotent replay: the same key and the same submission return what was created before.
  if idem_key ~= '' then
    local seen = redis.call('HMGET', K.idempotency(idem_key), 'fingerprint', 'ids', 'run')
    if seen[1] then
      if seen[1] ~= fingerprint then return { IDEMPOTENCY_CONFLICT, idem_key } end
      local reply = { OK, SUBMITTED.replayed, seen[3] or '' }
      for id in string.gmatch(seen[2], '%S+') do
        reply[#reply + 1] = id
        reply[#reply + 1] = redis.call('HGET', K.task(id), 'state') or 'EXPIRED'
      end
      return reply
    end
  end
  -- A new run's id must be free (a run shares nothing with another; its tasks' ids carry it).
  if new_run and redis.call('EXISTS', K.workflow(workflow)) == 1 then
    if spawn then return SPAWN.attach(spawn, workflow) end
    return { RUN_EXISTS, workflow }
  end
  -- A later chunk: the run must still be open (not sealed, not given up by the maintenance
  -- pass); one cancelled or stopped meanwhile gets its new tasks CANCELLED at once.
  local stopped_as
  if appending then
    local f = redis.call('HMGET', K.workflow(workflow), 'building', 'cancelled', 'reason')
    if not f[1] then return { WRONG_STATE, 'closed' } end
    stopped_as = f[3] or (f[2] and 'cancelled') or nil
  end

  -- The run's service tasks (RUN_OPTIONS.services, ' k1 k2 '; prelude SERVICE): ids -> true.
  local services
  do
    local listed = new_run and run_options.services or (appending and redis.call('HGET', K.workflow(workflow), 'services'))
    if listed then
      services = {}
      for key in string.gmatch(listed, '%S+') do services[workflow .. '/' .. key] = true end
    end
  end

  -- Parse and check; nothing is written until every task passed. Per task this makes no Lua
  -- tables beyond the task itself (names already checked in this call are not checked again),
  -- and whether an id is taken is asked once for the whole batch (one variadic EXISTS).
  local tasks, by_id = {}, {}
  -- A name: handlers and queues repeat across calls, so the good ones are kept (MEMO.name); ids
  -- and keys are checked each time (a key per tenant or per task would only grow the memo).
  local function bad_text(name)
    return not string.find(name, '^[%w%._%-]+$') or #name > 128
  end
  local function bad_name(name)
    if MEMO.name[name] then return false end
    if bad_text(name) then return true end
    MEMO.put('name', name, true)
    return false
  end
  -- A task id: a name, or 'run/key' (a task of a run). A new run's tasks all carry its id.
  local run_prefix = in_run and workflow .. '/' or nil
  local function bad_id(id)
    if run_prefix then
      return string.sub(id, 1, #run_prefix) ~= run_prefix or bad_text(string.sub(id, #run_prefix + 1))
    end
    return bad_text(id)
  end
  -- A prerequisite named outside the batch: a standalone task or a task of another run.
  local function bad_reference(id)
    local run, key = string.match(id, '^([^/]*)/(.*)$')
    if run then return bad_text(run) or bad_text(key) end
    return bad_text(id)
  end
  -- The first task up to `last` whose id is repeated in the batch or already taken: the error
  -- path only, so that the reply names the same task as a check in batch order would.
  local function first_duplicate(last)
    local seen = {}
    for t = 1, last do
      local id = tasks[t].id
      if seen[id] or redis.call('EXISTS', K.task(id)) == 1 then return id end
      seen[id] = true
    end
  end
  -- A bad task: but a duplicate id earlier in the batch is reported first, as before.
  local function invalid(t, what)
    local dup = first_duplicate(t - 1)
    if dup then return { DUPLICATE_ID, dup } end
    return { INVALID_ARGUMENT, what }
  end
  local has_edges = false
  local uniques, unique_locks = {}, {} -- tasks with a unique key; the locks they take
  local i = 9 + 2 * m
  for t = 1, n do
    local task = {
      id = ARGV[i], handler = ARGV[i + 1], queue = ARGV[i + 2], payload = ARGV[i + 3],
      max_attempts = ARGV[i + 4], timeout_ms = ARGV[i + 5], backoff = ARGV[i + 6],
      delay_ms = tonumber(ARGV[i + 7]) or 0, ttl = ARGV[i + 8], title = ARGV[i + 9],
      cond = ARGV[i + 10], ckey = ARGV[i + 11], expires = ARGV[i + 12], max_snoozes = ARGV[i + 13],
      climit = ARGV[i + 14], wait_for = ARGV[i + 15], unique = ARGV[i + 16], priority = ARGV[i + 17], trace = ARGV[i + 18], rlimit = ARGV[i + 19], ndeps = tonumber(ARGV[i + 20]), index = t,
    }
    local ndeps = task.ndeps
    if not task.id or not ndeps then return invalid(t, 'task ' .. t) end
    i = i + 21
    if task.priority ~= '' then
      -- 'P' or 'P KEY': the priority, and the fair key (a name, expanded by Swift FairKey)
      local digits, fair = string.match(task.priority, '^(%-?%d+) ([%w%._%-]+)$')
      local p = tonumber(digits or string.match(task.priority, '^%-?%d+$'))
      if not p or p < PRIORITY_MIN or p > PRIORITY_MAX or (fair and #fair > 128) then return invalid(t, 'priority of ' .. task.id) end
      task.priority, task.fair = p, fair
    else
      task.priority = 0
    end
    if task.wait_for ~= '' then
      local name, ms, action = string.match(task.wait_for, '^([%w_%.%-]+)/(%d+)/(%a+)$')
      if not name or not WAIT_ON_TIMEOUT[action] then return invalid(t, 'wait_for of ' .. task.id) end
      task.wait_name, task.wait_ms, task.wait_action = name, tonumber(ms), action
    end
    if ndeps > 0 then
      has_edges = true
      task.deps, task.policies = {}, {}
      for d = 1, ndeps do
        local policy = ARGV[i + 1]
        if not POLICY[policy] then return invalid(t, 'policy ' .. tostring(policy)) end
        -- a service task is never waited for to end: an edge to it is released when it starts
        -- (another run's: asked of its record; this run's record may not be written yet)
        local dep = ARGV[i]
        local other_run = not run_prefix or string.sub(dep, 1, #run_prefix) ~= run_prefix
        if policy ~= POLICY.always and ((services and services[dep]) or (other_run and SERVICE.is(dep))) then
          return { INVALID_ARGUMENT, 'service edge', task.id, dep } -- (Swift SubmitCall: invalid_option)
        end
        task.deps[d], task.policies[d] = ARGV[i], policy
        i = i + 2
      end
    end
    if bad_id(task.id) then return invalid(t, 'name ' .. task.id) end
    if bad_name(task.handler) then return invalid(t, 'name ' .. task.handler) end
    if bad_name(task.queue) then return invalid(t, 'name ' .. task.queue) end
    if not tonumber(task.max_attempts) or not tonumber(task.timeout_ms) or not tonumber(task.ttl)
      or (task.max_snoozes ~= '' and not tonumber(task.max_snoozes))
      or string.find(task.backoff, '\t') then
      return invalid(t, 'options of ' .. task.id)
    end
    if task.trace ~= '' and (#task.trace > TRACE_MAX_BYTES or string.sub(task.trace, 1, 1) ~= '{') then
      return invalid(t, 'trace context of ' .. task.id)
    end
    if task.climit ~= '' then
      -- 'N KEY': the key already expanded (Swift ConcurrencyKey), a name; N from 1 to 10,000
      local n, key = string.match(task.climit, '^(%d+) (.+)$')
      if not n or tonumber(n) < 1 or tonumber(n) > 10000 or bad_text(key) then
        return invalid(t, 'concurrency limit of ' .. task.id)
      end
    end
    if task.rlimit ~= '' then
      -- 'N INTERVAL_MS KEY': the key already expanded (Swift RateLimit), a name; N from 1 to 10,000
      local n, ms, key = string.match(task.rlimit, '^(%d+) (%d+) (.+)$')
      if not n or tonumber(n) < 1 or tonumber(n) > 10000 or tonumber(ms) < 1 or bad_text(key) then
        return invalid(t, 'rate limit of ' .. task.id)
      end
    end
    if task.unique ~= '' then
      local u = UNIQUE.parse(task.unique)
      local timed = u and u.mode ~= UNIQUE_MODE.started and u.mode ~= UNIQUE_MODE.finished
      if not u or bad_text(u.key) or (timed and u.ms < 1) or (u.mode == UNIQUE_MODE.started and u.ms ~= 0)
        or (u.mode == UNIQUE_MODE.debounce and (n > 1 or in_run or ndeps > 0 or task.wait_for ~= '' or task.delay_ms ~= u.ms)) then
        return invalid(t, 'unique of ' .. task.id)
      end
      local lock = UNIQUE.lock(u)
      if unique_locks[lock] then return invalid(t, 'unique key twice: ' .. u.key) end
      unique_locks[lock] = true
      task.u = u
      uniques[#uniques + 1] = task
    end
    if task.cond ~= '' then
      local bad = check_precondition(task.cond, task.deps or {})
      if bad then return invalid(t, 'precondition of ' .. task.id .. ': ' .. bad) end
    end
    if task.ckey ~= '' then
      local bad = check_cache_key(task.id, task.ckey, task.deps or {})
      if bad then return invalid(t, 'cache key of ' .. task.id .. ': ' .. bad) end
    end
    if task.expires ~= '' then
      -- relative expiries are fixed on Redis time, as run deadlines
      local relative = string.match(task.expires, '^%+(%d+)$')
      local at = relative and NOW + tonumber(relative) or tonumber(task.expires)
      if not at or at ~= math.floor(at) then return invalid(t, 'expiry of ' .. task.id) end
      if at <= NOW then return { DEADLINE_PASSED, task.expires, 'expires', task.id } end
      task.expires_at = at
    end
    if by_id[task.id] then return { DUPLICATE_ID, first_duplicate(t) } end
    tasks[t], by_id[task.id] = task, task
  end
  -- A held unique key answers before ids are checked: repeating a submit with its own --id
  -- returns the task, not duplicate_id.
  for _, task in ipairs(uniques) do
    local u = task.u
    local holder, state = UNIQUE.holder(UNIQUE.lock(u), u.mode)
    if holder then
      if n > 1 or in_run then return { UNIQUE_HELD, u.key, holder, state } end
      if u.mode ~= UNIQUE_MODE.debounce then
        local outcome = u.mode == UNIQUE_MODE.throttle and SUBMITTED.throttled or SUBMITTED.deduplicated
        if state ~= 'EXPIRED' then emit(holder, state, state, 0, u.mode == UNIQUE_MODE.throttle and 'throttled' or 'deduplicated') end
        flush()
        return { OK, outcome, '', holder, state }
      end
      if state == 'PENDING' and redis.call('ZSCORE', K.delayed, holder) then
        -- still waiting out its quiet time: keep the newest payload, start later
        local at = NOW + u.ms
        redis.call('HSET', K.task(holder), 'payload', task.payload, 'run_after', at)
        zset_later(K.delayed, holder, at)
        emit(holder, state, state, 0, 'debounced')
        count('debounced')
        flush()
        return { OK, SUBMITTED.debounced, '', holder, state }
      end
      -- (its quiet time is over: queued or started; this one starts anew and takes the lock over)
    end
  end
  do
    local keys = {}
    for t = 1, n do keys[t] = K.task(tasks[t].id) end
    local taken = 0
    for c = 1, n, CHUNK do taken = taken + redis.call('EXISTS', unpack(keys, c, math.min(c + CHUNK - 1, n))) end
    if taken > 0 then return { DUPLICATE_ID, first_duplicate(n) } end
  end

  -- Prerequisites outside the batch must exist; remember their state for the write phase.
  -- `has_dependents[id]`: a task of this batch that another task of the batch depends on.
  local outside = {}
  local order = tasks
  local has_dependents = {}
  if has_edges then
    local indegree, dependents = {}, {}
    for _, task in ipairs(tasks) do
      indegree[task.id] = 0
      dependents[task.id] = {}
    end
    for _, task in ipairs(tasks) do
      for _, dep in ipairs(task.deps or {}) do
        if by_id[dep] then
          indegree[task.id] = indegree[task.id] + 1
          table.insert(dependents[dep], task.id)
          has_dependents[dep] = true
        elseif not outside[dep] then
          if bad_reference(dep) then return { INVALID_ARGUMENT, 'name ' .. dep } end
          local state = redis.call('HGET', K.task(dep), 'state')
          if not state then return { UNKNOWN_DEPENDENCY, task.id, dep } end
          outside[dep] = state
        end
      end
    end

    -- Kahn's algorithm: the write order, and a cycle check that needs no recursion.
    local head = 1
    order = {}
    for _, task in ipairs(tasks) do
      if indegree[task.id] == 0 then order[#order + 1] = task end
    end
    while head <= #order do
      local task = order[head]
      head = head + 1
      for _, child in ipairs(dependents[task.id]) do
        indegree[child] = indegree[child] - 1
        if indegree[child] == 0 then order[#order + 1] = by_id[child] end
      end
    end
    if #order < n then
      local cycle = { CYCLE }
      for _, task in ipairs(tasks) do
        if indegree[task.id] > 0 then cycle[#cycle + 1] = task.id end
      end
      return cycle
    end
  end

  -- Write, prerequisites before dependents.
  local state_of = {}
  local ids = {}
  local queues_seen = {}
  -- a run's queues: K.queue_runs(queue) lists the run (scored by its creation, as K.runs) and the
  -- run record's `queues` names the queues it is listed in, for promote to take it out again
  local run_queues = { created = in_run and not new_run and redis.call('HGET', K.workflow(workflow), 'created') or NOW }
  if new_run then
    -- The run record: its counters start at zero and are kept by set_state (prelude), per task
    -- transition, so the run's state follows its tasks' in the same script calls.
    local record = { 'created', NOW, 'def', definition, 'state', 'PENDING', 'open', 0 }
    for _, v in ipairs(run_options) do record[#record + 1] = v end
    redis.call('HSET', K.workflow(workflow), unpack(record))
    zset_later(K.runs, workflow, NOW)
    zset_later(K.definition_runs(definition), workflow, NOW)
    if run_options.deadline then zset_later(K.deadlines, workflow, run_options.deadline) end
    if chunk then redis.call('ZADD', K.building, NOW, workflow) end
    emit_run(workflow, nil, 'PENDING', 'submitted')
    if spawn then SPAWN.record(spawn, workflow) end
  elseif chunk == SUBMIT_CHUNK.more then
    redis.call('ZADD', K.building, NOW, workflow)
  elseif chunk == SUBMIT_CHUNK.last then
    -- sealed: from now on the run may end (prelude finish_run), with this chunk's tasks or now
    redis.call('HDEL', K.workflow(workflow), 'building')
    redis.call('ZREM', K.building, workflow)
    if n == 0 then finish_run(workflow) end
  elseif workflow ~= '' then
    redis.call('HSETNX', K.workflow(workflow), 'created', NOW)
  end
  local wf_base = workflow ~= '' and redis.call('HINCRBY', K.workflow(workflow), 'total', n) - n or 0
  for _, task in ipairs(order) do
    local left, doomed_by, unmet_by = 0, nil, nil
    local deps = task.deps
    if deps then
      local edges = {}
      for d, dep in ipairs(deps) do
        local policy = task.policies[d]
        local outcome = outcome_of(state_of[dep] or outside[dep])
        if not outcome then
          left = left + 1
        elseif not edge_accepts(policy, outcome) then
          if policy == POLICY.failure then unmet_by = unmet_by or dep else doomed_by = doomed_by or dep end
        end
        redis.call('HSET', K.next(dep), task.id, policy)
        edges[#edges + 1] = dep
        edges[#edges + 1] = policy
      end
      variadic('HSET', K.deps(task.id), edges)
    end
    local run_after = task.delay_ms > 0 and NOW + task.delay_ms or 0
    local spec = (task.fair and task.queue .. ' ' .. task.priority .. ' ' .. task.fair or task.priority ~= 0 and task.queue .. ' ' .. task.priority or task.queue) .. '\t' .. task.handler .. '\t' .. task.max_attempts .. '\t' .. task.timeout_ms .. '\t'
      .. task.ttl .. '\t' .. workflow .. '\t' .. (deps and #deps or '0') .. '\t' .. task.backoff .. '\t' .. task.title
    -- deps_left is written only when there is something to wait for (absent means 0).
    local fields = { 'spec', spec, 'payload', task.payload, 'created', NOW_S }
    if left > 0 then
      fields[#fields + 1] = 'deps_left'
      fields[#fields + 1] = left
    end
    if run_after > 0 then
      fields[#fields + 1] = 'run_after'
      fields[#fields + 1] = run_after
    end
    if task.cond ~= '' then
      fields[#fields + 1] = 'cond'
      fields[#fields + 1] = task.cond
    end
    if task.ckey ~= '' then
      fields[#fields + 1] = 'ckey'
      fields[#fields + 1] = task.ckey
    end
    if task.climit ~= '' then
      fields[#fields + 1] = 'climit'
      fields[#fields + 1] = task.climit
    end
    if task.rlimit ~= '' then
      fields[#fields + 1] = 'rlimit'
      fields[#fields + 1] = task.rlimit
    end
    if task.u then
      fields[#fields + 1] = 'unique'
      fields[#fields + 1] = task.unique
    end
    if task.trace ~= '' then
      fields[#fields + 1] = 'trace'
      fields[#fields + 1] = task.trace
    end
    if task.max_snoozes ~= '' then
      fields[#fields + 1] = 'max_snoozes'
      fields[#fields + 1] = task.max_snoozes
    end
    if task.expires_at then
      fields[#fields + 1] = 'expires_at'
      fields[#fields + 1] = task.expires_at
    end
    if services and services[task.id] then
      fields[#fields + 1] = 'service'
      fields[#fields + 1] = '1'
    end
    local wait_until = 0
    if task.wait_name then
      -- the signal is one more condition to meet (signal.lua counts it off, as release does)
      left = left + 1
      wait_until = task.wait_ms > 0 and NOW + task.wait_ms or 0
      for _, v in ipairs({ 'deps_left', left, 'wait', task.wait_name, 'wait_until', wait_until, 'wait_declared', task.wait_action }) do
        fields[#fields + 1] = v
      end
    end
    -- Nothing to wait for: the precondition is decided now, on the prerequisites' stored results.
    local skip_why = not doomed_by and not unmet_by and left == 0 and task.cond ~= '' and precondition_says_skip(task.cond)
    if not queues_seen[task.queue] then
      queues_seen[task.queue] = true
      redis.call('SADD', K.queues, task.queue)
      if in_run and redis.call('ZADD', K.queue_runs(task.queue), 'NX', run_queues.created, workflow) == 1 then
        run_queues[#run_queues + 1] = task.queue
      end
    end
    if workflow ~= '' then zset_later(K.workflow_tasks(workflow), task.id, wf_base + task.index) end
    if stopped_as then
      for _, v in ipairs({ 'reason', stopped_as, 'error', 'its run was stopped while it was being submitted' }) do fields[#fields + 1] = v end
      state_of[task.id] = finish(task.id, nil, 'submit_doomed', 0, stopped_as, task.ttl, fields)
    elseif doomed_by then
      for _, v in ipairs({ 'reason', 'dependency_failed', 'error', 'prerequisite ' .. doomed_by .. ' did not succeed', 'cause', doomed_by }) do
        fields[#fields + 1] = v
      end
      state_of[task.id] = finish(task.id, nil, 'submit_doomed', 0, 'dependency_failed', task.ttl, fields)
    elseif unmet_by then
      for _, v in ipairs({ 'reason', 'condition_unmet', 'error', 'prerequisite ' .. unmet_by .. ' did not fail', 'cause', unmet_by }) do
        fields[#fields + 1] = v
      end
      state_of[task.id] = finish(task.id, nil, 'submit_skipped', 0, 'condition_unmet', task.ttl, fields)
    elseif skip_why then
      for _, v in ipairs({ 'reason', 'precondition', 'error', skip_why }) do fields[#fields + 1] = v end
      state_of[task.id] = finish(task.id, nil, 'submit_skipped', 0, 'precondition', task.ttl, fields)
    else
      state_of[task.id] = set_state(task.id, nil, 'submit', '0', '', fields)
      -- (an ending below — from the cache — takes it out again, in set_state)
      if task.expires_at then zset_later(K.expiring, task.id, task.expires_at) end
      if wait_until > 0 then zset_later(K.signal_timeouts, task.id, wait_until) end
      if left == 0 and ended_from_cache(task.id, task.ckey, task.handler, 0, task.ttl) then
        -- ready at once and cached: DONE now, so its dependents in the batch see it ended
        state_of[task.id] = 'DONE'
      elseif left > 0 then
        zset_later(K.waiting, task.id, NOW)
      elseif run_after > NOW then
        zset_later(K.delayed, task.id, run_after) -- new: in no index yet, so nothing to remove
      else
        push_later(task.id, task.queue, nil, task.priority, task.fair)
      end
    end
    -- The lock: a unique or debounce key only for a task that waits to start (one that ended at
    -- submit has nothing to hold it for); a throttle's interval starts with any task it created.
    if task.u and (state_of[task.id] == 'PENDING' or task.u.mode == UNIQUE_MODE.throttle) then UNIQUE.take(task.u, task.id) end
  end
  if #run_queues > 0 then
    redis.call('HSET', K.workflow(workflow), 'queues',
      (not new_run and redis.call('HGET', K.workflow(workflow), 'queues') or ' ') .. table.concat(run_queues, ' ') .. ' ')
  end
  count('submitted', n)

  local reply = { OK, SUBMITTED.created, in_run and workflow or '' }
  for _, task in ipairs(tasks) do
    ids[#ids + 1] = task.id
    reply[#reply + 1] = task.id
    reply[#reply + 1] = state_of[task.id]
  end
  -- (a run in several calls: recorded by its last, without ids — a replay answers the run)
  if idem_key ~= '' and chunk ~= SUBMIT_CHUNK.first and chunk ~= SUBMIT_CHUNK.more then
    local key = K.idempotency(idem_key)
    redis.call('HSET', key, 'fingerprint', fingerprint, 'ids', chunk and '' or table.concat(ids, ' '), 'run', in_run and workflow or '')
    if idem_ttl > 0 then redis.call('PEXPIRE', key, idem_ttl) end
  end
  flush()
  return reply
end

return submit()
