-- Compare-and-set of a session, appending inputs: write the new session (without its inputs)
-- and push the new inputs only if the session's revision is still the one the change was
-- computed from. WATCH cannot do this on a multiplexed connection (another task's EXEC or
-- UNWATCH on the same connection would drop our watch), a script can. It costs the batch:
-- neither the stored inputs nor the old session travel.
--
-- KEYS[1] the session (hash: rev, head), KEYS[2] its inputs (list), KEYS[3] the game's set of
-- active sessions
-- ARGV[1] the revision the change was computed from, ARGV[2] the new head (JSON), ARGV[3] the
-- session id, ARGV[4] "finish" (no longer active), "expires" (active until ARGV[5] ms) or ""
-- (no change), ARGV[6..] the inputs to append (8 bytes each)
-- Returns {1, new revision, nil} when written, {0, revision, head} when the session changed
-- meanwhile, {-1, nil, nil} when it is gone.
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then
  return {-1, false, false}
end
if rev ~= ARGV[1] then
  return {0, rev, redis.call('HGET', KEYS[1], 'head')}
end
local next = tonumber(rev) + 1
redis.call('HSET', KEYS[1], 'rev', next, 'head', ARGV[2])
if #ARGV > 5 then
  -- In slices: unpack has a limit on how many values it returns.
  for i = 6, #ARGV, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  -- A list created by this push expires with its session.
  -- (Its time to live, not the moment: a small number survives Lua's doubles exactly.)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
if ARGV[4] == 'finish' then
  redis.call('ZREM', KEYS[3], ARGV[3])
elseif ARGV[4] == 'expires' then
  redis.call('ZADD', KEYS[3], 'XX', ARGV[5], ARGV[3])
end
return {1, tostring(next), false}
