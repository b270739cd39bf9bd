--[[ complete: RUNNING -> DONE (or SKIPPED when the handler skipped) for a batch of tasks; store each result; release dependents whose
  last prerequisite this was. A DONE task with a cache key's digest is indexed (cache:<digest>). Exactly once per task: only the current fencing token may do it.
  ARGV[2..] quintuples (task id, fencing token, result bytes, skipped '1' | '0', child run id or '')
  A child run id (a sub-workflow task whose handler started its child run) does not end the task:
  it goes back to PENDING, in no queue, marked `child`, until the run ends (prelude
  resolve_parent; at once if the run has ended already). A cancellation requested meanwhile ends
  it CANCELLED and cancels the child run.
  For a child run the result bytes are `null`, or for a mapped task (`jobq.map`) the marker
  {"$mapped": RUN, "count": N} that becomes its result when the run ends DONE.
  A task that spawned a child run (field `spawned`, prelude SPAWN) and returns waits for it the
  same way: it ends with the run (chord style; its result bytes are not a map's marker) —
  unless the child run id argument is '-': the handler read the results of that run, which had
  ended (a retried parent that attached and waited), and its own result stands.
  Returns {1, cascades left (1: this call left dependents on the settle list: continue with
           settle.lua | 0), then per task a code: 1 DONE or SKIPPED | -1 NOT_FOUND | -2 WRONG_STATE
           | -3 STALE_TOKEN} ]]

local reply = { OK, 0 }
for i = 2, #ARGV - 4, 5 do
  local id, token, result, skipped, child = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local read = child == '-' -- the handler read its spawned run's results: it does not end with it
  if read then child = '' end
  local f = redis.call('HMGET', K.task(id), 'state', 'token', 'attempts', 'spec', 'error', 'worker', 'started', 'cancel_requested', 'cache_digest', 'checkpoint_at', 'climit', 'unique', 'spawned')
  local code
  if not f[1] then
    code = NOT_FOUND
  elseif f[1] ~= 'RUNNING' or not may(f[1], 'complete') then
    code = WRONG_STATE
  elseif f[2] ~= token then
    code = STALE_TOKEN
  elseif child ~= '' or (f[13] and not read) then
    limit_record(id, f[11] or '') -- leaving RUNNING: its key's count (read here, not again)
    UNIQUE.record(id, f[12] or '') -- and its unique key's
    -- (a parent that spawned children and returned: it ends with its spawned run, chord style;
    -- only a child run named by the worker, jobq.run / jobq.map, may carry a map's marker)
    await_child(id, f, child ~= '' and child or f[13], child ~= '' and result or nil)
    code = OK
  else
    limit_record(id, f[11] or '') -- leaving RUNNING: its key's count (read here, not again)
    UNIQUE.record(id, f[12] or '') -- and its unique key's
    -- a finished task needs no resume point (a rerun starts afresh): the checkpoint goes
    if f[5] or f[10] then redis.call('HDEL', K.task(id), 'error', 'checkpoint', 'checkpoint_at') end
    if f[13] then redis.call('HDEL', K.task(id), 'spawned') end
    -- A skip (HandlerError.skip) ends SKIPPED, with its result when given; dependents run.
    local skip = skipped == '1'
    local reason = skip and 'skipped' or ''
    local ttl = spec_ttl(f[4])
    finish(id, 'RUNNING', skip and 'skip' or 'complete', f[3], reason, ttl,
      { 'result', result, 'reason', reason })
    -- A cache key's result is indexed for as long as the task is kept (prelude.lua, cached results).
    if f[9] and not skip and (ttl or 0) > 0 then redis.call('SET', K.cache(f[9]), id, 'PX', ttl) end
    -- The attempt that makes a task DONE is not stored: the record holds all its entry would
    -- (attempts, worker, started, finished), and Swift adds it when it reads the history
    -- (AttemptHistory.completed). So a task that succeeds at once has no history key at all,
    -- one RPUSH and ~230 bytes less per task kept (docs/performance.md). A skip is stored.
    if skip then record_attempt(id, f[3], f[6], f[7], ATTEMPT.done, reason, '') end
    settle_dependents(id, OUTCOME_OK)
    code = OK
  end
  reply[#reply + 1] = code
end
flush() -- (first: the end of a run's last other task may start stopping its services, apply_runs)
if settle_work_left() then reply[2] = 1 end
return reply
