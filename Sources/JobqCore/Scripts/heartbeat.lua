--[[ heartbeat: extend the leases a worker holds.
  ARGV[2] worker id   ARGV[3] lease (ms)   ARGV[4..] pairs (task id, fencing token)
  A stale token changes nothing. A worker picked to drain for a quarantined suspect (K.drainer,
  see claim.lua) keeps the pick while it heartbeats, however long its running tasks take; if it
  dies, the pick expires one lease later and another busy worker is picked.
  Returns {1, deadline, then per pair a code (HEARTBEAT_*, Swift HeartbeatItemCode): 1 extended
           | 2 extended, cancel requested
           | -1 NOT_FOUND | -2 WRONG_STATE | -3 STALE_TOKEN} ]]

local lease_ms = tonumber(ARGV[3])
if not lease_ms or lease_ms <= 0 then return { INVALID_ARGUMENT, 'lease' } end
local deadline = NOW + lease_ms
local reply = { OK, deadline }
if drainer_pick() == ARGV[2] then set_drainer_pick(ARGV[2], lease_ms) end
for i = 4, #ARGV - 1, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'token', 'cancel_requested')
  local code
  if not f[1] then
    code = NOT_FOUND
  elseif f[1] ~= 'RUNNING' then
    code = WRONG_STATE
  elseif f[2] ~= token then
    code = STALE_TOKEN
  else
    redis.call('HSET', key, 'lease', deadline)
    zset_later(K.leases, id, deadline)
    code = f[3] and HEARTBEAT_CANCEL_REQUESTED or HEARTBEAT_EXTENDED
  end
  reply[#reply + 1] = code
end
flush()
return reply
