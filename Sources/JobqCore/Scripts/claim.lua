--[[ claim: take up to `count` dispatchable tasks from the given queues (in order), each moved
  PENDING -> RUNNING under a lease with a fresh fencing token.
  ARGV[2] worker id   ARGV[3] lease (ms)   ARGV[4] count   ARGV[5..] queue names
  Ready lists may hold ids that are no longer dispatchable (cancelled while queued, expired):
  they are dropped here instead of being searched for at cancel time (O(1) cancel).
  A record that cannot be run (unknown state, missing fields) is failed with reason
  corrupt_record, never run. Paused queues are skipped.
  Returns {1, n, then per task: id, handler, queue, payload, attempt, max_attempts, token,
           timeout_ms, lease_deadline, workflow, backoff (JSON), ndeps,
           then ndeps triples (id, state, result)} ]]

local worker, lease_ms, count = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if not lease_ms or lease_ms <= 0 or not count or count < 1 then return { INVALID_ARGUMENT, 'lease/count' } end

local reply = { OK, 0 }
local claimed = 0
local budget = count * 4 + 32 -- bound the work spent skipping stale ids in one call
local known = { PENDING = true, RUNNING = true, DONE = true, FAILED = true, CANCELLED = true }

for q = 5, #ARGV do
  local queue = ARGV[q]
  if redis.call('SISMEMBER', K.paused, queue) == 0 then
    while claimed < count and budget > 0 do
      local id = redis.call('RPOP', K.ready(queue))
      if not id then break end
      budget = budget - 1
      local key = K.task(id)
      local f = redis.call('HMGET', key, 'state', 'handler', 'payload', 'attempts', 'max_attempts',
        'timeout_ms', 'deps_left', 'wf', 'deps_total', 'ttl', 'backoff')
      local state = f[1]
      if state and (not known[state] or not f[2] or not f[3] or not tonumber(f[5])) then
        -- Corrupt record: fail it so that nothing waits on it forever; never run it.
        redis.call('HSET', key, 'reason', 'corrupt_record', 'error', 'unusable task record (state ' .. tostring(state) .. ')')
        if known[state] and may(state, 'corrupt') then
          set_state(id, state, 'corrupt', tonumber(f[4]) or 0, 'corrupt_record')
        else
          redis.call('HSET', key, 'state', 'FAILED')
          redis.call('ZADD', K.state('FAILED'), NOW, id)
          emit(id, state, 'FAILED', 0, 'corrupt_record')
        end
        retire(id, f[10])
        redis.call('HINCRBY', K.stats, 'failed', 1)
        settle_dependents(id, false)
      elseif state == 'PENDING' and (tonumber(f[7]) or 0) <= 0 and may(state, 'claim') then
        local attempt = (tonumber(f[4]) or 0) + 1
        local token = redis.call('INCR', K.token)
        local deadline = NOW + lease_ms
        redis.call('HSET', key, 'attempts', attempt, 'token', token, 'lease', deadline,
          'worker', worker, 'started', NOW)
        redis.call('HDEL', key, 'cancel_requested')
        redis.call('ZADD', K.leases, deadline, id)
        set_state(id, 'PENDING', 'claim', attempt, '')
        claimed = claimed + 1
        local item = { id, f[2], queue, f[3], attempt, tonumber(f[5]), token, tonumber(f[6]) or 0,
          deadline, f[8] or '', f[11] or '' }
        local ndeps = 0
        if (tonumber(f[9]) or 0) > 0 then
          local edges = redis.call('HKEYS', K.deps(id))
          ndeps = #edges
          item[#item + 1] = ndeps
          for _, dep in ipairs(edges) do
            local d = redis.call('HMGET', K.task(dep), 'state', 'result')
            item[#item + 1] = dep
            item[#item + 1] = d[1] or ''
            item[#item + 1] = d[2] or ''
          end
        else
          item[#item + 1] = 0
        end
        for _, v in ipairs(item) do reply[#reply + 1] = v end
      end
      -- any other id (no record, not PENDING, still waiting) is stale: dropped
    end
  end
end
if claimed > 0 then redis.call('HINCRBY', K.stats, 'claimed', claimed) end
reply[2] = claimed
flush_wakeups()
return reply
