-- A page after a cursor, or the first page, with the rank of its first entry, in one round
-- trip.
-- KEYS[1] the board; ARGV[1] exclusive lexicographic bound ('(' and the cursor's sort key),
-- or '-' for the first page; ARGV[2] the page size
-- Returns {how many members sort before the bound, the members after it}.
-- KEYS[2], when given, is the board's loaded marker: without it the board is refused, so a
-- cache that lost the board never answers for it (checked here, in the same round trip).
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.error_reply('NOTLOADED the board is not loaded')
end
if ARGV[1] == '-' then
  return {0, redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)}
end
local ahead = redis.call('ZLEXCOUNT', KEYS[1], '-', ARGV[1])
return {ahead, redis.call('ZRANGE', KEYS[1], ARGV[1], '+', 'BYLEX', 'LIMIT', 0, ARGV[2])}
