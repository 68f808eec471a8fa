-- Take a player off a board, in one round trip (an operator hid them, or their best changed).
-- KEYS[1] the board, KEYS[2] the player key -> member hash; ARGV[1] the player key
-- Returns 1 when the player was on the board, 0 otherwise.
local member = redis.call('HGET', KEYS[2], ARGV[1])
if not member then
  return 0
end
redis.call('ZREM', KEYS[1], member)
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
