--[[ claim: take up to `count` dispatchable tasks from the given queues (in order), each moved
  PENDING -> RUNNING under a lease with a fresh fencing token.
  ARGV[2] worker id   ARGV[3] lease (ms)   ARGV[4] count   ARGV[5..] queue names
  Ready lists may hold ids that are no longer dispatchable (cancelled while queued): they are
  dropped here instead of being searched for at cancel time (O(1) cancel). A record that cannot
  be run (unknown state, missing fields) is failed with reason corrupt_record, never run.
  Paused queues are skipped.
  Returns {1, n, then per task: id, handler, queue, payload, attempt, max_attempts, token,
           timeout_ms, lease_deadline, workflow, backoff (JSON), title, ndeps,
           then ndeps triples (id, state, result)} ]]

local worker, lease_ms, count_wanted = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if not lease_ms or lease_ms <= 0 or not count_wanted or count_wanted < 1 then
  return { INVALID_ARGUMENT, 'lease/count' }
end

local budget = count_wanted * 4 + 32 -- bound the ids popped per call (stale ones included)
local chosen = {}                     -- { id, queue, fields }

-- Phase 1: pop and check.
for q = 5, #ARGV do
  local queue = ARGV[q]
  if #chosen >= count_wanted or budget <= 0 then break end
  if redis.call('SISMEMBER', K.paused, queue) == 0 then
    while #chosen < count_wanted and budget > 0 do
      local want = math.min(count_wanted - #chosen, budget)
      local popped = redis.call('RPOP', K.ready(queue), want)
      if not popped then break end
      budget = budget - #popped
      for _, id in ipairs(popped) do
        local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'payload', 'attempts', 'deps_left', 'run_after')
        local state = f[1]
        local spec = spec_of(f[2])
        if state and unusable(state, spec, f[3]) then
          fail_corrupt(id, state, spec, tonumber(f[4]) or 0)
        elseif state == 'PENDING' and (tonumber(f[5]) or 0) <= 0 and (tonumber(f[6]) or 0) <= NOW
          and may(state, 'claim') then
          chosen[#chosen + 1] = { id, queue, f, spec }
        end
        -- anything else is a stale id, dropped: no record, not PENDING, or a duplicate left in the
        -- list by an earlier cancel of a task now waiting for its retry or delay (promote
        -- queues it when due)
      end
      if #popped < want then break end
    end
  end
end

-- Phase 2: one INCRBY for all tokens, then one HSET and one event per task.
local reply = { OK, #chosen }
if #chosen > 0 then
  local last_token = redis.call('INCRBY', K.token, #chosen)
  local deadline = NOW + lease_ms
  for i, item in ipairs(chosen) do
    local id, queue, f, spec = item[1], item[2], item[3], item[4]
    local attempt = (tonumber(f[4]) or 0) + 1
    local token = last_token - #chosen + i
    set_state(id, 'PENDING', 'claim', attempt, '',
      { 'attempts', attempt, 'token', token, 'lease', deadline, 'worker', worker, 'started', NOW })
    zset_later(K.leases, id, deadline)
    local deps = spec.deps_total or 0
    local row = { id, spec.handler, queue, f[3], attempt, spec.max_attempts, token, spec.timeout_ms or 0,
      deadline, spec.wf, spec.backoff, spec.title }
    if deps > 0 then
      local edges = redis.call('HKEYS', K.deps(id))
      row[#row + 1] = #edges
      for _, dep in ipairs(edges) do
        local d = redis.call('HMGET', K.task(dep), 'state', 'result')
        row[#row + 1] = dep
        row[#row + 1] = d[1] or ''
        row[#row + 1] = d[2] or ''
      end
    else
      row[#row + 1] = 0
    end
    for _, v in ipairs(row) do reply[#reply + 1] = v end
  end
  count('claimed', #chosen)
end
flush()
return reply
