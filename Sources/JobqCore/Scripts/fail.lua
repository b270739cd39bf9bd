--[[ fail: a worker reports that running tasks did not succeed.
  ARGV[2..] sextuples (task id, fencing token, mode, delay_ms, reason, message); mode (FAIL_MODE,
    Swift FailMode) is
    'retry'     retry after delay_ms if attempts remain, else FAILED
    'final'     FAILED now (permanent error, unknown handler)
    'handback'  back to PENDING at once without charging the attempt (graceful shutdown), queued
                ahead of new work (requeue_recovered)
    'cancelled' the handler stopped because the task was cancelled: CANCELLED
    'snooze'    not yet: delay_ms is 'snooze_ms/retry_ms'. While `snoozes` < `max_snoozes` (record
                fields; DEFAULT_MAX_SNOOZES when absent) back to PENDING in `delayed` for snooze_ms
                (Redis time), the attempt refunded (as a hand-back), `snoozes` counted, reason
                `snoozed`. Past the limit the snooze is refused: the attempt is a failure with
                reason `snooze_limit`, retried after retry_ms if attempts remain, as 'retry'.
    'ratelimited' a handler's backpressure ("rate limited, retry after D": HandlerError.rateLimited,
                `JOBQ_RATE_LIMITED D`): a snooze (same budget, same delay_ms grammar) with reason
                `rate_limited` that, for a task with a rate key (`rlimit`), also pauses the whole
                key until now + snooze_ms (prelude rate.pause: `paused` in rate:<key>) and parks
                the task on the key instead of `delayed`. Without a rate key: a snooze.
    'wait'      the handler waits for a signal (`context.waitForSignal`, `ask`; `JOBQ_WAIT`, `JOBQ_ASK`):
                reason is the signal's name, delay_ms the timeout (0: none), message '' or the
                question (JSON {"question", "choices"}, stored as `asking`). Back to PENDING
                (`await_signal`, reason `waiting`), the attempt refunded, in NO queue, `wait` and
                `wait_until` set, in `signal_timeouts` when it has a timeout. A signal of that name
                already kept (it came while the handler ran) resumes it at once (`signal`, queued).
    'children'  the handler waits for the child run it spawned (`context.waitForChildren`,
                `JOBQ_WAIT_CHILDREN`; record field `spawned`, else INVALID_ARGUMENT): back to
                PENDING (`await_children`, reason `waiting_children`), the attempt refunded, in NO
                queue, `child` and `child_wait` set. The run's end queues it again (prelude
                SPAWN.wake, `children_done`), at once when it has ended already.
  A task that ends FAILED or CANCELLED here cancels the run it spawned (prelude SPAWN.ended).
  A task whose cancellation was requested ends CANCELLED whatever the mode. FAILED and
  CANCELLED settle the dependents (prelude.lua settle_edge: per edge policy and outcome). A requested
  cancellation keeps the message its requester gave.
  The retry delay is decided in Swift (backoff with jitter); the script applies it on Redis time.
  A final failure of a task of a fail-fast run, or of a critical task, stops the rest of its run
  (prelude stop_run); the reply's "cascades left" flag then tells the worker to continue it.
  Returns {1, cascades left (1 | 0, as complete.lua), then per task a code (FAIL_*, Swift FailItemCode): 1 retrying | 2 FAILED | 3 CANCELLED | 4 handed back | 5 snoozed | 6 waiting
           | -1 NOT_FOUND | -2 WRONG_STATE | -3 STALE_TOKEN | -9 INVALID_ARGUMENT} ]]

-- A wait's name (a signal name: the name grammar, checked by Swift; here only "one word") and its
-- question ('' or a JSON object with a string question and a list of choices).
local function wait_argument_ok(name, question)
  if not string.match(name, '^[%w_%-%.]+$') then return false end
  if question == '' then return true end
  local ok, q = pcall(cjson.decode, question)
  return ok and type(q) == 'table' and type(q.question) == 'string' and type(q.choices) == 'table' and #q.choices > 0
end

local reply = { OK, 0 }
for i = 2, #ARGV - 5, 6 do
  local id, token, mode = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local delay, reason, message = tonumber(ARGV[i + 3]) or 0, ARGV[i + 4], ARGV[i + 5]
  local snooze_ms, retry_ms = string.match(ARGV[i + 3], '^(%d+)/(%d+)$')
  snooze_ms = tonumber(snooze_ms)
  local f = redis.call('HMGET', K.task(id), 'state', 'token', 'attempts', 'spec', 'cancel_requested', 'suspect', 'worker', 'started', 'cancel_reason', 'snoozes', 'max_snoozes', 'signals', 'climit', 'unique', 'rlimit', 'spawned')
  -- a task leaving RUNNING changes its key's count: read here, with the rest, not again
  if f[1] == 'RUNNING' then limit_record(id, f[13] or '') UNIQUE.record(id, f[14] or '') end
  local spec = spec_of(f[4]) or {}
  local attempts, max_attempts = tonumber(f[3]) or 0, spec.max_attempts or 1
  local snoozes = tonumber(f[10]) or 0
  local code
  local snoozing = mode == FAIL_MODE.snooze or mode == FAIL_MODE.ratelimited
  if snoozing and snooze_ms and snooze_ms >= 1 and snoozes >= (tonumber(f[11]) or DEFAULT_MAX_SNOOZES) then
    -- the snoozes are used up: this attempt failed (checked before the branches below, which
    -- still refuse a stale token or a wrong state first)
    mode, delay, reason, snoozing = FAIL_MODE.retry, tonumber(retry_ms), 'snooze_limit', false
    message = 'snoozed ' .. snoozes .. ' times; the limit is ' .. (tonumber(f[11]) or DEFAULT_MAX_SNOOZES) .. ' (max_snoozes)'
  end
  if not f[1] then
    code = NOT_FOUND
  elseif f[1] ~= 'RUNNING' then
    code = WRONG_STATE
  elseif not spec.queue then
    code = WRONG_STATE
  elseif f[2] ~= token then
    code = STALE_TOKEN
  elseif not FAIL_MODE[mode] or (snoozing and not (snooze_ms and snooze_ms >= 1))
    or (mode == FAIL_MODE.wait and not wait_argument_ok(reason, message))
    or (mode == FAIL_MODE.children and not f[16]) then
    code = INVALID_ARGUMENT
  elseif f[5] or mode == FAIL_MODE.cancelled then
    -- A requested cancellation keeps the requester's message (cancel.lua stored it as `error`).
    -- stopped by its run's deadline or fail-fast: that reason (cancel.lua stored it)
    local why = f[9] or 'cancelled'
    local fields = { 'reason', why }
    if not f[5] then
      fields[3], fields[4] = 'error', message
    end
    -- a service task stopped because its run is over: DONE (prelude SERVICE)
    local stopped = why == 'service_stopped'
    finish(id, 'RUNNING', stopped and 'service_stop' or 'cancel', attempts, why, spec.ttl, fields)
    record_attempt(id, attempts, f[7], f[8], stopped and ATTEMPT.done or ATTEMPT.cancelled, stopped and why or 'cancelled', message)
    settle_dependents(id, stopped and OUTCOME_OK or OUTCOME_CANCELLED)
    SPAWN.ended(id, f[16])
    code = FAIL_CANCELLED
  elseif mode == FAIL_MODE.handback then
    set_state(id, 'RUNNING', 'hand_back', attempts - 1, 'shutdown',
      { 'attempts', math.max(attempts - 1, 0), 'run_after', 0, 'lease', 0, 'worker', '' })
    requeue_recovered(id, spec.queue, f[6]) -- claimed again first (a suspect stays in quarantine)
    record_attempt(id, attempts, f[7], f[8], ATTEMPT.handed_back, 'shutdown', message)
    code = FAIL_HANDED_BACK
  elseif snoozing then
    local run_after = NOW + snooze_ms
    local why = mode == FAIL_MODE.ratelimited and 'rate_limited' or 'snoozed'
    local rated = mode == FAIL_MODE.ratelimited and rate.parse(f[15])
    set_state(id, 'RUNNING', 'snooze', attempts - 1, why,
      { 'attempts', math.max(attempts - 1, 0), 'snoozes', snoozes + 1, 'reason', why,
        'run_after', rated and 0 or run_after, 'lease', 0, 'worker', '' }) -- the message is the attempt history's
    if rated then
      rate.pause(rated, id, run_after) -- the whole key waits; this task is woken with it
    else
      dispatch(id, spec.queue, run_after, spec.priority, spec.fair)
    end
    record_attempt(id, attempts, f[7], f[8], ATTEMPT.snoozed, why, message)
    count('snoozed')
    code = FAIL_SNOOZED
  elseif mode == FAIL_MODE.wait then
    local kept = string.find(' ' .. (f[12] or '') .. ' ', ' ' .. reason .. ' ', 1, true)
    local wait_until = (not kept and delay > 0) and NOW + delay or 0
    set_state(id, 'RUNNING', 'await_signal', attempts - 1, 'waiting',
      { 'attempts', math.max(attempts - 1, 0), 'reason', 'waiting', 'run_after', 0, 'lease', 0, 'worker', '',
        'wait', kept and '' or reason, 'wait_until', wait_until, 'asking', kept and '' or message })
    record_attempt(id, attempts, f[7], f[8], ATTEMPT.waiting, 'waiting', 'waits for the signal ' .. reason)
    if kept then
      -- it came while the handler ran: resumed at once
      set_state(id, 'PENDING', 'signal', attempts - 1, 'signalled', { 'reason', 'signalled' })
      dispatch(id, spec.queue, 0, spec.priority, spec.fair)
    elseif wait_until > 0 then
      zset_later(K.signal_timeouts, id, wait_until)
    end
    count('waiting')
    code = FAIL_WAITING
  elseif mode == FAIL_MODE.children then
    local child = f[16]
    set_state(id, 'RUNNING', 'await_children', attempts - 1, 'waiting_children',
      { 'attempts', math.max(attempts - 1, 0), 'reason', 'waiting_children', 'run_after', 0, 'lease', 0, 'worker', '',
        'child', child, 'child_wait', 1 })
    record_attempt(id, attempts, f[7], f[8], ATTEMPT.waiting, 'waiting_children', 'waits for its child run ' .. child)
    local run = redis.call('HMGET', K.workflow(child), 'state', 'output')
    -- (it ended while the handler ran: resolved now)
    if run[1] and is_terminal(run[1]) then resolve_parent(child, id, run[1], run[2] or '') end
    count('waiting')
    code = FAIL_WAITING
  elseif mode == FAIL_MODE.retry and attempts < max_attempts then
    local run_after = delay > 0 and NOW + delay or 0
    set_state(id, 'RUNNING', 'retry_later', attempts, reason,
      { 'reason', reason, 'error', message, 'run_after', run_after, 'lease', 0, 'worker', '' })
    dispatch(id, spec.queue, run_after, spec.priority, spec.fair)
    record_attempt(id, attempts, f[7], f[8], ATTEMPT.retried, reason, message)
    count('retried')
    code = FAIL_RETRYING
  else
    finish(id, 'RUNNING', 'fail_final', attempts, reason, spec.ttl, { 'reason', reason, 'error', message })
    record_attempt(id, attempts, f[7], f[8], ATTEMPT.failed, reason, message)
    settle_dependents(id, OUTCOME_FAILED)
    run_task_failed(id)
    SPAWN.ended(id, f[16])
    code = FAIL_FAILED
  end
  reply[#reply + 1] = code
end
flush() -- (first: the end of a run's last other task may start stopping its services, apply_runs)
if settle_work_left() then reply[2] = 1 end
return reply
