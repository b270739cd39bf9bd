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
-- The chosen tasks, as parallel arrays (no Lua table per task beyond the HMGET reply, which also
-- carries the spec's fields, parsed once, at f[7..15]).
local chosen_id, chosen_queue, chosen_f = {}, {}, {}
local chosen = 0

-- Phase 1: pop and check.
for q = 5, #ARGV do
  local queue = ARGV[q]
  if chosen >= count_wanted or budget <= 0 then break end
  if redis.call('SISMEMBER', K.paused, queue) == 0 then
    while chosen < count_wanted and budget > 0 do
      local want = math.min(count_wanted - chosen, budget)
      local popped = redis.call('RPOP', K.ready(queue), want)
      if not popped then break end
      budget = budget - #popped
      for _, id in ipairs(popped) do
        local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'payload', 'attempts', 'deps_left', 'run_after')
        local state = f[1]
        if state then
          if f[2] then
            f[7], f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15] = string.match(f[2], SPEC_PATTERN)
          end
          if not KNOWN_STATES[state] or not f[7] or not f[3] or not tonumber(f[9]) then
            fail_corrupt(id, state, spec_of(f[2]), tonumber(f[4]) or 0) -- what unusable() says, inlined
          elseif state == 'PENDING' and (tonumber(f[5]) or 0) <= 0 and (tonumber(f[6]) or 0) <= NOW
            and may(state, 'claim') and not workflow_cancelling(f[12]) then
            chosen = chosen + 1
            chosen_id[chosen], chosen_queue[chosen], chosen_f[chosen] = id, queue, f
          end
        end
        -- anything else is a stale id, dropped: no record, not PENDING, or a duplicate left in the
        -- list by an earlier cancel of a task now waiting for its retry or delay (promote
        -- queues it when due), or a task of a workflow being cancelled (it ends CANCELLED)
      end
      if #popped < want then break end
    end
  end
end

-- Phase 2: one INCRBY for all tokens, then one HSET and one event per task; the reply is built
-- in place.
local reply = { OK, chosen }
if chosen > 0 then
  local last_token = redis.call('INCRBY', K.token, chosen)
  local deadline = NOW + lease_ms
  local r = 2
  for i = 1, chosen do
    local id, f = chosen_id[i], chosen_f[i]
    local attempt = (tonumber(f[4]) or 0) + 1
    local token = last_token - chosen + i
    set_state(id, 'PENDING', 'claim', attempt, '',
      { 'attempts', attempt, 'token', token, 'lease', deadline, 'worker', worker, 'started', NOW })
    zset_later(K.leases, id, deadline)
    -- spec fields: f[8] handler, f[9] max_attempts, f[10] timeout_ms, f[12] wf, f[13] deps_total,
    -- f[14] backoff, f[15] title
    reply[r + 1], reply[r + 2], reply[r + 3], reply[r + 4], reply[r + 5], reply[r + 6] =
      id, f[8], chosen_queue[i], f[3], attempt, tonumber(f[9])
    reply[r + 7], reply[r + 8], reply[r + 9], reply[r + 10], reply[r + 11], reply[r + 12] =
      token, tonumber(f[10]) or 0, deadline, f[12], f[14], f[15]
    r = r + 12
    if (tonumber(f[13]) or 0) > 0 then
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
