-- A player's member and 0-based rank, in one round trip.
-- KEYS[1] the board, KEYS[2] the player key -> member hash; ARGV[1] the player key
-- Returns {rank, member}, or nil when the player is not on the board.
-- KEYS[3], when given: the board's loaded marker, required as in rank_page.lua.
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 0 then
  return redis.error_reply('NOTLOADED the board is not loaded')
end
local member = redis.call('HGET', KEYS[2], ARGV[1])
if not member then
  return false
end
local rank = redis.call('ZRANK', KEYS[1], member)
if not rank then
  return false
end
return {rank, member}
