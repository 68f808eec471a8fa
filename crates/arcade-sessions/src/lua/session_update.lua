-- Compare-and-set of a session: write the new JSON only if the stored JSON is still the one
-- the change was computed from. WATCH cannot do this on a multiplexed connection (another
-- task's EXEC or UNWATCH on the same connection would drop our watch), a script can.
--
-- KEYS[1] the session, KEYS[2] the game's set of active sessions
-- ARGV[1] the JSON the change was computed from, ARGV[2] the new JSON, ARGV[3] the session id,
-- ARGV[4] "finish" (no longer active), "expires" (active until ARGV[5] ms) or "" (no change)
-- Returns {1, nil} when written, {0, current} when the session changed meanwhile, {-1, nil}
-- when it is gone.
local current = redis.call('GET', KEYS[1])
if not current then
  return {-1, false}
end
if current ~= ARGV[1] then
  return {0, current}
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
if ARGV[4] == 'finish' then
  redis.call('ZREM', KEYS[2], ARGV[3])
elseif ARGV[4] == 'expires' then
  redis.call('ZADD', KEYS[2], 'XX', ARGV[5], ARGV[3])
end
return {1, false}
