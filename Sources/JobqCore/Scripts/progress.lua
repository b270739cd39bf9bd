--[[ progress: a running task reports progress (kofa's percent, jobcontrol's tree of groups) and
  log lines. Fenced like every write after a claim: a stale token changes nothing.
  It also saves the handler's checkpoint (Swift `context.checkpoint`, a command handler's
  `JOBQ_CHECKPOINT` line): the record fields `checkpoint` (JSON, checked by Swift; at most
  CHECKPOINT_MAX_BYTES) and `checkpoint_at` (Redis ms). The next claim hands it to the next attempt.
  ARGV[2] task id   ARGV[3] fencing token   ARGV[4] log cap (lines kept)
  ARGV[5] the checkpoint ('' for none in this call)
  ARGV[6] number of progress entries p, then p triples (group path, "current/total", status line)
    group path: names joined by '/', '' for the task itself
  ARGV[...] after them: log lines to append
  Returns {1} | {-1 NOT_FOUND} | {-2 WRONG_STATE, state} | {-3 STALE_TOKEN}
        | {-9 INVALID_ARGUMENT, 'checkpoint'} (over CHECKPOINT_MAX_BYTES: nothing written) ]]

local id, token, cap, checkpoint = ARGV[2], ARGV[3], tonumber(ARGV[4]) or 1000, ARGV[5]
local f = redis.call('HMGET', K.task(id), 'state', 'token')
if not f[1] then return { NOT_FOUND } end
if f[1] ~= 'RUNNING' then return { WRONG_STATE, f[1] } end
if f[2] ~= token then return { STALE_TOKEN } end
if #checkpoint > CHECKPOINT_MAX_BYTES then return { INVALID_ARGUMENT, 'checkpoint' } end
if checkpoint ~= '' then redis.call('HSET', K.task(id), 'checkpoint', checkpoint, 'checkpoint_at', NOW) end
local entries = tonumber(ARGV[6]) or 0
local i = 7
for _ = 1, entries do
  redis.call('HSET', K.progress(id), ARGV[i], ARGV[i + 1] .. ' ' .. ARGV[i + 2])
  i = i + 3
end
local appended = false
while i <= #ARGV do
  redis.call('RPUSH', K.log(id), ARGV[i])
  appended = true
  i = i + 1
end
if appended then redis.call('LTRIM', K.log(id), -cap, -1) end
return { OK }
