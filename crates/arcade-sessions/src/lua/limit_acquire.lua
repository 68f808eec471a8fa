-- GCRA: one client's allowance, kept as its theoretical arrival time (TAT) in microseconds
-- of the Redis server's clock, so that every replica counts against the same time.
-- KEYS[1]: the client's key. ARGV[1]: emission interval (us). ARGV[2]: burst tolerance (us).
-- Returns 0 when the client may go ahead (and takes one), else the microseconds to wait.
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local allowed_at = tat - tolerance
if now < allowed_at then
  return allowed_at - now
end
local next_tat = tat + interval
-- The key lives as long as it holds anything: once `next_tat` has passed, a fresh client.
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return 0
