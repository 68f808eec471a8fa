-- A player and their neighbours, in one round trip.
-- KEYS[1] the board, KEYS[2] the player key -> member hash
-- ARGV[1] the player key, ARGV[2] how many above, ARGV[3] how many below
-- Returns {0-based rank of the first member, members}, or nil when the player is not on it.
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
local first = math.max(0, rank - tonumber(ARGV[2]))
local last = rank + tonumber(ARGV[3])
-- Integers as digits: a Lua number would be sent in float notation.
local range = redis.call('ZRANGE', KEYS[1], string.format('%d', first), string.format('%d', last))
return {first, range}
