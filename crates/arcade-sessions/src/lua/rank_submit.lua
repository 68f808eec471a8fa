-- Keep a player's best on a board, atomically, and return the rank afterwards.
--
-- KEYS[1] the board: a sorted set with every score 0, ordered by its members, which are sort
--         keys (position, then player key, NUL, player name; see redis_ranks.rs)
-- KEYS[2] hash player key -> the player's member on the board
-- ARGV[1] player key, ARGV[2] the new member, ARGV[3] expiry in ms since the epoch ('0' for
--         never), ARGV[4] how many leading bytes of a member encode the position
-- Returns {outcome, 0-based rank of the kept member, the player's previous member or ''}
-- with outcome 0 (new), 1 (improved: the previous member was replaced) or 2 (not improved:
-- the previous member is still the best).
-- KEYS[3], when given: the board's loaded marker, required as in rank_page.lua.
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 0 then
  return redis.error_reply('NOTLOADED the board is not loaded')
end

-- Byte order, whatever the server's locale (Lua's '<' on strings uses strcoll).
local function ahead(a, b, n)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return false
end

local previous = redis.call('HGET', KEYS[2], ARGV[1])
local outcome, kept = 0, ARGV[2]
if previous then
  -- Same player, so the positions decide: only a strictly better result replaces the best.
  if ahead(ARGV[2], previous, tonumber(ARGV[4])) then
    redis.call('ZREM', KEYS[1], previous)
    outcome = 1
  else
    outcome, kept = 2, previous
  end
end
if outcome ~= 2 then
  redis.call('ZADD', KEYS[1], 0, ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
if ARGV[3] ~= '0' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
end
return {outcome, redis.call('ZRANK', KEYS[1], kept), previous or ''}
