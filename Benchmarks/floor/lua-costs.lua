#!lua name=jobqfloor
-- What single pieces of Lua cost inside a Redis function (docs/performance.md, "The floor of a
-- task's life"): each function but `empty` does its piece 1,000 times; life-floor.sh calls each
-- ten times and divides INFO commandstats' time per FCALL by 1,000 (after subtracting `empty`).
local SPEC_PATTERN = '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$'
local SPEC = 'default\tnoop\t3\t900000\t86400000\t\t0\t{"base_ms":1000,"cap_ms":300000,"jitter":true,"kind":"exponential"}\t'
local memo = {}
local function loop(body)
  return function(keys, args)
    local n = 0
    for k = 1, 1000 do n = n + body(k, args) end
    return n
  end
end
redis.register_function('jobqfloor_empty', function() return 0 end)
redis.register_function('jobqfloor_loop', loop(function() return 1 end))
redis.register_function('jobqfloor_exists', loop(function() return redis.call('EXISTS', 'jobqfloor:none') end))
redis.register_function('jobqfloor_hmget16', loop(function()
  redis.call('HMGET', 'jobqfloor:t', 'state', 'spec', 'payload', 'attempts', 'deps_left', 'run_after', 'deaths', 'expires_at', 'checkpoint', 'climit', 'signals', 'wait', 'unique', 'trace', 'rlimit', 'child')
  return 1
end))
redis.register_function('jobqfloor_hmget5', loop(function()
  redis.call('HMGET', 'jobqfloor:t', 'state', 'spec', 'payload', 'attempts', 'features')
  return 1
end))
redis.register_function('jobqfloor_hset6', loop(function(k)
  redis.call('HSET', 'jobqfloor:t', 'attempts', '1', 'token', k, 'lease', '1796679369055', 'worker', 'w1', 'started', '1796679369055', 'state', 'PENDING')
  return 1
end))
redis.register_function('jobqfloor_table22', loop(function(k, a)
  local t = { id = a[1], handler = a[2], queue = a[3], payload = a[4], max_attempts = a[5], timeout_ms = a[6], backoff = a[7],
    delay_ms = tonumber(a[8]) or 0, ttl = a[9], title = a[10], cond = a[11], ckey = a[12], expires = a[13], max_snoozes = a[14],
    climit = a[15], wait_for = a[16], unique = a[17], priority = a[18], trace = a[19], rlimit = a[20], ndeps = tonumber(a[21]), index = k }
  return t.ndeps
end))
redis.register_function('jobqfloor_concat8', loop(function(k, a)
  return #(a[1] .. '\t' .. a[2] .. '\t' .. a[3] .. '\t' .. a[4] .. '\t' .. a[5] .. '\t' .. k .. '\t' .. a[7] .. '\t' .. a[8])
end))
redis.register_function('jobqfloor_match_spec', loop(function()
  local queue = string.match(SPEC, SPEC_PATTERN)
  return queue and 1 or 0
end))
redis.register_function('jobqfloor_memo_spec', loop(function()
  local m = memo[SPEC]
  if not m then m = { string.match(SPEC, SPEC_PATTERN) } memo[SPEC] = m end
  return m[1] and 1 or 0
end))
