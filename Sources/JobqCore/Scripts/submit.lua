--[[ submit: create one task or a whole workflow, atomically (all or nothing).
  ARGV[2] idempotency key ('' for none)      ARGV[3] fingerprint of the whole submission
  ARGV[4] workflow id ('' for none)          ARGV[5] how long the idempotency key is kept (ms)
  ARGV[6] n, the number of tasks; then per task 12 fields and its edges:
    id, handler, queue, payload, max_attempts, timeout_ms, backoff (JSON), delay_ms, ttl_ms,
    title, cond (the compiled precondition, JSON, '' for none: checked here, prelude.lua
    check_precondition), ndeps, then ndeps pairs (prerequisite id, policy 'success' | 'always' | 'failure')
  Checks everything before writing: duplicate ids, unknown prerequisites, cycles in the batch.
  A task whose existing prerequisite already FAILED/CANCELLED under `success` is created CANCELLED
  (reason dependency_failed), and so are its dependents in the batch: never left PENDING. One whose
  `failure` edge can no longer hold (the prerequisite ended DONE, SKIPPED or CANCELLED) is created
  SKIPPED (reason condition_unmet; a dependency_failed edge wins over it); its dependents in the
  batch see a SKIPPED prerequisite, as after success.
  Returns {1, created (1|0), id, state, id, state, ...}
        | {-5 DUPLICATE_ID, id} | {-4 UNKNOWN_DEPENDENCY, task, prerequisite} | {-6 CYCLE, id...}
        | {-7 IDEMPOTENCY_CONFLICT, key} | {-9 INVALID_ARGUMENT, what} ]]

local idem_key, fingerprint, workflow = ARGV[2], ARGV[3], ARGV[4]
local idem_ttl = tonumber(ARGV[5]) or 0
local n = tonumber(ARGV[6])
if not n or n < 1 then return { INVALID_ARGUMENT, 'task count' } end

-- Idempotent replay: the same key and the same submission return what was created before.
if idem_key ~= '' then
  local seen = redis.call('HMGET', K.idempotency(idem_key), 'fingerprint', 'ids')
  if seen[1] then
    if seen[1] ~= fingerprint then return { IDEMPOTENCY_CONFLICT, idem_key } end
    local reply = { OK, 0 }
    for id in string.gmatch(seen[2], '%S+') do
      reply[#reply + 1] = id
      reply[#reply + 1] = redis.call('HGET', K.task(id), 'state') or 'EXPIRED'
    end
    return reply
  end
end

-- Parse and check; nothing is written until every task passed. Per task this makes no Lua
-- tables beyond the task itself (names already checked in this call are not checked again),
-- and whether an id is taken is asked once for the whole batch (one variadic EXISTS).
local tasks, by_id = {}, {}
local good_name = {}
local function bad_name(name)
  if good_name[name] then return false end
  if not string.find(name, '^[%w%._%-]+$') or #name > 128 then return true end
  good_name[name] = true
  return false
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
local i = 7
for t = 1, n do
  local task = {
    id = ARGV[i], handler = ARGV[i + 1], queue = ARGV[i + 2], payload = ARGV[i + 3],
    max_attempts = ARGV[i + 4], timeout_ms = ARGV[i + 5], backoff = ARGV[i + 6],
    delay_ms = tonumber(ARGV[i + 7]) or 0, ttl = ARGV[i + 8], title = ARGV[i + 9],
    cond = ARGV[i + 10], ndeps = tonumber(ARGV[i + 11]), index = t,
  }
  local ndeps = task.ndeps
  if not task.id or not ndeps then return invalid(t, 'task ' .. t) end
  i = i + 12
  if ndeps > 0 then
    has_edges = true
    task.deps, task.policies = {}, {}
    for d = 1, ndeps do
      local policy = ARGV[i + 1]
      if not POLICY[policy] then return invalid(t, 'policy ' .. tostring(policy)) end
      task.deps[d], task.policies[d] = ARGV[i], policy
      i = i + 2
    end
  end
  if bad_name(task.id) then return invalid(t, 'name ' .. task.id) end
  if bad_name(task.handler) then return invalid(t, 'name ' .. task.handler) end
  if bad_name(task.queue) then return invalid(t, 'name ' .. task.queue) end
  if not tonumber(task.max_attempts) or not tonumber(task.timeout_ms) or not tonumber(task.ttl)
    or string.find(task.backoff, '\t') then
    return invalid(t, 'options of ' .. task.id)
  end
  if task.cond ~= '' then
    local bad = check_precondition(task.cond, task.deps or {})
    if bad then return invalid(t, 'precondition of ' .. task.id .. ': ' .. bad) end
  end
  if by_id[task.id] then return { DUPLICATE_ID, first_duplicate(t) } end
  tasks[t], by_id[task.id] = task, task
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
if workflow ~= '' then
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
  local spec = task.queue .. '\t' .. task.handler .. '\t' .. task.max_attempts .. '\t' .. task.timeout_ms .. '\t'
    .. task.ttl .. '\t' .. workflow .. '\t' .. (deps and #deps or 0) .. '\t' .. task.backoff .. '\t' .. task.title
  -- deps_left is written only when there is something to wait for (absent means 0).
  local fields = { 'spec', spec, 'payload', task.payload, 'created', NOW }
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
  -- Nothing to wait for: the precondition is decided now, on the prerequisites' stored results.
  local skip_why = not doomed_by and not unmet_by and left == 0 and task.cond ~= '' and precondition_says_skip(task.cond)
  if not queues_seen[task.queue] then
    queues_seen[task.queue] = true
    redis.call('SADD', K.queues, task.queue)
  end
  if workflow ~= '' then zset_later(K.workflow_tasks(workflow), task.id, wf_base + task.index) end
  if doomed_by then
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
    state_of[task.id] = set_state(task.id, nil, 'submit', 0, '', fields)
    if left > 0 then
      zset_later(K.waiting, task.id, NOW)
    elseif run_after > NOW then
      zset_later(K.delayed, task.id, run_after) -- new: in no index yet, so nothing to remove
    else
      push_later(task.id, task.queue)
    end
  end
end
count('submitted', n)

local reply = { OK, 1 }
for _, task in ipairs(tasks) do
  ids[#ids + 1] = task.id
  reply[#reply + 1] = task.id
  reply[#reply + 1] = state_of[task.id]
end
if idem_key ~= '' then
  local key = K.idempotency(idem_key)
  redis.call('HSET', key, 'fingerprint', fingerprint, 'ids', table.concat(ids, ' '))
  if idem_ttl > 0 then redis.call('PEXPIRE', key, idem_ttl) end
end
flush()
return reply
