--[[ runs: one page of runs, newest first, read-only (`jobq runs`).
  ARGV[2] definition ('' for every run)      ARGV[3] run state ('' for any)
  ARGV[4] cursor score ('+inf' for the first page)   ARGV[5] cursor run id ('' for the first page)
  ARGV[6] page size                          ARGV[7] scan budget: at most this many index entries
          looked at per call (a filter that matches little still answers in bounded time)
  ARGV[8] queue ('' for any): walk K.queue_runs(queue), the runs one of whose tasks was submitted
          to it, instead (a definition is then checked on each run's record, as a state is)
  The cursor is the last run returned (score, id); runs created in the same millisecond are
  ordered by id, so no run is skipped or repeated between pages.
  Returns {1, next score, next id ('' when the index is exhausted), n, then per run:
           id, k, then k field/value pairs of its record} ]]

local queue = ARGV[8] or ''
local index = queue ~= '' and K.queue_runs(queue) or (ARGV[2] ~= '' and K.definition_runs(ARGV[2])) or K.runs
local state = ARGV[3]
-- the definition read from each record: only when the walk is not its index already
local definition = queue ~= '' and ARGV[2] or ''
local score, after = ARGV[4], ARGV[5]
local size = tonumber(ARGV[6]) or 50
local budget = tonumber(ARGV[7]) or 2000
local CHUNK_RUNS = 200

local found, scanned = {}, 0
local last_score, last_id = score, after
local exhausted = false
while #found < size and scanned < budget do
  local entries = redis.call('ZREVRANGEBYSCORE', index, last_score, '-inf', 'WITHSCORES', 'LIMIT', 0, CHUNK_RUNS)
  local progressed = false
  for i = 1, #entries, 2 do
    local id, s = entries[i], entries[i + 1]
    -- equal scores come in reverse id order: skip up to and including the cursor
    if not (last_id ~= '' and tonumber(s) == tonumber(last_score) and id >= last_id) then
      progressed = true
      scanned = scanned + 1
      last_score, last_id = s, id
      -- a state (definition) filter reads one field per run looked at; only a match reads the
      -- whole record
      local f = (state ~= '' or definition ~= '') and redis.call('HMGET', K.workflow(id), 'state', 'def') or {}
      if (state == '' or f[1] == state) and (definition == '' or f[2] == definition) then
        local record = redis.call('HGETALL', K.workflow(id))
        if #record > 0 then found[#found + 1] = { id, record } end
      end
      if #found >= size or scanned >= budget then break end
    end
  end
  if not progressed then
    exhausted = true
    break
  end
end

local reply = { OK, last_score, exhausted and '' or last_id, #found }
for _, run in ipairs(found) do
  reply[#reply + 1] = run[1]
  reply[#reply + 1] = #run[2] / 2
  for _, v in ipairs(run[2]) do reply[#reply + 1] = v end
end
return reply
