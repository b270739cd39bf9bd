--[[ signal: `jobq signal TASK NAME` / `jobq answer TASK CHOICE` — a signal (or an answer) for a
  task. Not fenced by a token (the sender holds no lease): fenced by state instead.
  ARGV[2] task id   ARGV[3] kind: 'signal' | 'answer'
  ARGV[4] 'signal': the name (checked by Swift) | 'answer': the choice (a plain string)
  ARGV[5] 'signal': the payload (JSON, checked by Swift; at most SIGNAL_MAX_BYTES) | 'answer': ''
  ARGV[6] actor (optional; '' or absent: none): who sent it, the `by` field of the event entry; with
  an actor, a signal kept (no transition) still leaves a line: `id STATE STATE attempt signal_kept`
  A signal is KEPT in the record (`sig:<name>`, its name in `signals`) whatever the task does now,
  as long as it has not ended: a task that runs (it may wait from its handler later), or that is
  PENDING and not waiting for this name, consumes it when it waits. A task PENDING and waiting
  for this very name (`wait`) is resumed: PENDING -> PENDING (`signal`, reason `signalled`),
  queued again; its handler is invoked again and finds the signal kept. The same name sent again
  replaces the payload (the latest wins).
  An answer goes to the question the task waits on (`asking`, stored by fail.lua mode 'wait'): the
  choice must be one of its choices; it is kept as the signal the wait names (the question's
  `ask-<hash>`, the choice as a JSON string) and resumes the task (reason `answered`).
  A declared wait (`wait_declared`, submit's wait_for) counts the signal off like a prerequisite
  (prelude release: queued when it was the last condition; 'resumed' either way).
  Returns {1, 'resumed' | 'kept'} | {-1 NOT_FOUND} | {-2 WRONG_STATE, state} (ended)
        | {-9 INVALID_ARGUMENT, 'payload' | 'signals' | 'asks_nothing' | 'answer'}: too big, too
          many names kept, no question waiting, not one of the choices (nothing written) ]]

local id, kind, name, payload = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if ARGV[6] and ARGV[6] ~= '' then event_lines.by = ARGV[6] end
local f = redis.call('HMGET', K.task(id), 'state', 'spec', 'attempts', 'wait', 'asking', 'signals', 'deps_left', 'wait_declared')
if not f[1] then return { NOT_FOUND } end
if f[1] ~= 'PENDING' and f[1] ~= 'RUNNING' then return { WRONG_STATE, f[1] } end
local waiting = f[1] == 'PENDING' and f[4] and f[4] ~= ''
local reason = 'signalled'
if kind == 'answer' then
  if not waiting or not f[5] or f[5] == '' then return { INVALID_ARGUMENT, 'asks_nothing' } end
  local ok, asking = pcall(cjson.decode, f[5])
  local found = false
  if ok and type(asking) == 'table' and type(asking.choices) == 'table' then
    for _, choice in ipairs(asking.choices) do
      if choice == name then found = true end
    end
  end
  if not found then return { INVALID_ARGUMENT, 'answer' } end
  name, payload, reason = f[4], cjson.encode(name), 'answered'
elseif kind ~= 'signal' or name == '' or payload == '' then
  return { INVALID_ARGUMENT, 'kind' }
end
if #payload > SIGNAL_MAX_BYTES then return { INVALID_ARGUMENT, 'payload' } end
local names = f[6] or ''
local known = string.find(' ' .. names .. ' ', ' ' .. name .. ' ', 1, true)
if not known then
  local n = 0
  for _ in string.gmatch(names, '%S+') do n = n + 1 end
  if n >= SIGNALS_KEPT_MAX then return { INVALID_ARGUMENT, 'signals' } end
  names = names == '' and name or names .. ' ' .. name
end
-- checked; now write
redis.call('HSET', K.task(id), 'sig:' .. name, payload, 'signals', names)
if not (waiting and f[4] == name) then
  if event_lines.by then emit(id, f[1], f[1], tonumber(f[3]) or 0, 'signal_kept') end
  flush()
  return { OK, 'kept' }
end
local spec = spec_of(f[2]) or {}
set_state(id, 'PENDING', 'signal', tonumber(f[3]) or 0, reason,
  { 'wait', '', 'wait_until', 0, 'asking', '', 'wait_declared', '', 'reason', reason })
zset_later(K.signal_timeouts, id, false)
if f[8] and f[8] ~= '' then
  -- a declared wait: the signal was one more unresolved condition
  if release(id) == OUTCOME_OK then settle_dependents(id, OUTCOME_OK) end
  if (tonumber(f[7]) or 0) > 1 then zset_later(K.waiting, id, NOW) end -- prerequisites still open
elseif (tonumber(f[7]) or 0) <= 0 and spec.queue then
  dispatch(id, spec.queue, 0, spec.priority, spec.fair)
end
count(reason)
flush()
return { OK, 'resumed' }
