-- A page after a cursor, with the rank of its first entry, in one round trip.
-- KEYS[1] the board; ARGV[1] exclusive lexicographic bound ('(' and the cursor's sort key),
-- ARGV[2] the page size
-- Returns {how many members sort before the bound, the members after it}.
local ahead = redis.call('ZLEXCOUNT', KEYS[1], '-', ARGV[1])
return {ahead, redis.call('ZRANGE', KEYS[1], ARGV[1], '+', 'BYLEX', 'LIMIT', 0, ARGV[2])}
