-- Make a player's entry on a board exactly the given member, or take them off, atomically (an
-- operator's change made their best worse or took it away; readers never see them missing).
-- KEYS[1] the board, KEYS[2] the player key -> member hash
-- ARGV[1] the player key, ARGV[2] the new member or '' to take the player off, ARGV[3] expiry
--         in ms since the epoch ('0' for never)
-- Returns 1 when the board changed, 0 otherwise.
-- KEYS[3], when given: the board's loaded marker. A board without it is left alone: its rebuild
-- reads the store, which already holds the change.
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 0 then
  return 0
end
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if previous == ARGV[2] then
  return 0
end
if previous then
  redis.call('ZREM', KEYS[1], previous)
end
if ARGV[2] == '' then
  if previous then
    redis.call('HDEL', KEYS[2], ARGV[1])
    return 1
  end
  return 0
end
redis.call('ZADD', KEYS[1], 0, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '0' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
end
return 1
